# The semihosting sandbox (semihosting.init()): a target's file names stay inside one
# directory. Usage: micropython semihosting_sandbox.py DIRECTORY
# DIRECTORY holds: secret.txt (outside the sandbox), box/ (the sandbox) with
# box/inside.txt, box/sub/, box/link_out -> .. (made by the test), box/file_link ->
# ../secret.txt. Prints "<check> ok" or "<check> FAILED <details>".
import os
import semihosting
import sys

directory = sys.argv[1]
box = directory + "/box"
EACCES = 13
R, W, A = 0, 4, 8


def check(name, condition, details=""):
    print(name, "ok" if condition else "FAILED " + repr(details))


def refused(result):
    return result == -1 and semihosting.errno() == EACCES


check("init returns the sandbox", semihosting.init(box) == box, semihosting.ROOT)
check("init of a relative directory is under the working directory",
      semihosting.init("rel/box") == os.getcwd() + "/rel/box" and "box" in os.listdir("rel"))
os.rmdir("rel/box")
os.rmdir("rel")
semihosting.init(box)

# Normal use: relative names, "." and subdirectories.
handle = semihosting.open("inside.txt", R)
check("open a file in the sandbox", handle >= 3 and semihosting.read(handle, 20) == b"inside", handle)
semihosting.close(handle)
handle = semihosting.open("./sub/new.txt", W)
check("create a file in a subdirectory", handle >= 3 and semihosting.write(handle, b"new") == 0)
semihosting.close(handle)
check("it landed in the sandbox", open(box + "/sub/new.txt").read() == "new")
check("rename inside the sandbox", semihosting.rename("sub/new.txt", "moved.txt") == 0
      and "moved.txt" in os.listdir(box))
check("remove inside the sandbox", semihosting.remove("moved.txt") == 0 and "moved.txt" not in os.listdir(box))

# Refusals: -1 and errno EACCES, and nothing outside was touched.
for name in ["../secret.txt", "sub/../../secret.txt", "..", directory + "/secret.txt", "/etc/passwd",
             "\\..\\secret.txt", "sub\\..\\..\\secret.txt", "C:secret.txt", "link_out/secret.txt",
             "file_link", "inside.txt\0"]:
    for mode in (R, W, A):
        check("open %r mode %d refused" % (name, mode), refused(semihosting.open(name, mode)),
              semihosting.errno())
check("remove outside refused", refused(semihosting.remove("../secret.txt")))
check("remove through a link refused", refused(semihosting.remove("link_out/secret.txt")))
check("remove the sandbox itself refused", refused(semihosting.remove(".")))
check("rename out of the sandbox refused", refused(semihosting.rename("inside.txt", "../stolen.txt")))
check("rename into the sandbox refused", refused(semihosting.rename("../secret.txt", "mine.txt")))
check("rename the sandbox refused", refused(semihosting.rename("", "x")))
check("secret.txt untouched", open(directory + "/secret.txt").read() == "secret")
check("nothing new outside", sorted(os.listdir(directory)) == ["box", "secret.txt"], os.listdir(directory))
check("inside.txt untouched", open(box + "/inside.txt").read() == "inside")

# A failure after a refusal reports its own errno again.
check("a missing file is ENOENT, not EACCES", semihosting.open("missing.txt", R) == -1
      and semihosting.errno() == 2, semihosting.errno())

# init() closes what an earlier program left open.
handle = semihosting.open("inside.txt", R)
semihosting.init(box)
check("init closes open files", semihosting.files == {} and semihosting.close(handle) == -1)
