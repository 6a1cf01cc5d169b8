# The frozen semihosting.py (what bmp's GDB server calls for a target's file requests) on
# the unix filesystem. Usage: micropython semihosting_files.py DIRECTORY HOST_TIME
# A line typed on stdin is read by console_read. Prints "<check> ok" or "<check> FAILED".
import os
import semihosting
import sys

directory, host_time = sys.argv[1], int(sys.argv[2])
semihosting.init(directory)
ENOENT = 2
EISDIR = 21
# SYS_OPEN mode numbers (ARM semihosting, SYS_OPEN).
R, RB, R_PLUS_B, W, WB, W_PLUS_B, A, AB = 0, 1, 3, 4, 5, 7, 8, 9


def check(name, condition, details=""):
    print(name, "ok" if condition else "FAILED " + repr(details))


def file_bytes(name):
    with open(directory + "/" + name, "rb") as file:
        return file.read()


# SYS_OPEN modes 0..11 ("r" .. "a+b"), each opened in binary (the target counts bytes).
check("mode table", semihosting.MODES == ("rb", "rb", "r+b", "r+b", "wb", "wb", "w+b", "w+b", "ab", "ab", "a+b", "a+b"))

handle = semihosting.open("data.bin", WB)
check("open for writing gives a handle of 3 or more", handle >= 3, handle)
result = semihosting.write(handle, b"hello, semihosting")
check("write returns the bytes not written: 0", result == 0, result)
check("flen after writing", semihosting.flen(handle) == 18, semihosting.flen(handle))
check("close", semihosting.close(handle) == 0)
check("close again fails", semihosting.close(handle) == -1)
check("the file holds the data", file_bytes("data.bin") == b"hello, semihosting", file_bytes("data.bin"))

handle = semihosting.open("data.bin", RB)
second = semihosting.open("data.bin", RB)
check("handles differ", handle >= 3 and second >= 3 and handle != second, (handle, second))
semihosting.close(second)
check("flen", semihosting.flen(handle) == 18, semihosting.flen(handle))
data = semihosting.read(handle, 5)
check("read from the start", data == b"hello", data)
check("seek returns 0", semihosting.seek(handle, 7) == 0)
data = semihosting.read(handle, 100)
check("read after seek, at most what is there", data == b"semihosting", data)
data = semihosting.read(handle, 4)
check("read at the end gives b''", data == b"", data)
check("flen keeps the position", semihosting.flen(handle) == 18 and semihosting.read(handle, 1) == b"")
semihosting.seek(handle, 0)
check("read after seek(0)", semihosting.read(handle, 5) == b"hello")
semihosting.close(handle)

handle = semihosting.open("data.bin", AB)
check("append write", semihosting.write(handle, b"!\x00\xff") == 0)
check("append flen", semihosting.flen(handle) == 21, semihosting.flen(handle))
semihosting.close(handle)
check("appended bytes", file_bytes("data.bin") == b"hello, semihosting!\x00\xff", file_bytes("data.bin"))

handle = semihosting.open("update.bin", W_PLUS_B)
semihosting.write(handle, b"0123456789")
semihosting.seek(handle, 2)
semihosting.write(handle, b"ab")
semihosting.seek(handle, 0)
data = semihosting.read(handle, 10)
check("w+b: write, seek, overwrite, read back", data == b"01ab456789", data)
semihosting.close(handle)

handle = semihosting.open("text.txt", W)
check("text mode write", semihosting.write(handle, b"line one\nline two\n") == 0)
semihosting.close(handle)
handle = semihosting.open("text.txt", R)
data = semihosting.read(handle, 9)
check("text mode read gives bytes", data == b"line one\n", data)
semihosting.close(handle)

check("open a missing file fails", semihosting.open("missing.txt", R) == -1)
check("errno after the failed open is ENOENT", semihosting.errno() == ENOENT, semihosting.errno())
check("open in a missing directory fails", semihosting.open("no/such/dir.txt", W) == -1)
check("errno is ENOENT again", semihosting.errno() == ENOENT, semihosting.errno())
check("write to an unknown handle writes nothing", semihosting.write(99, b"abc") == 3)
check("close an unknown handle", semihosting.close(99) == -1)

check("rename", semihosting.rename("data.bin", "renamed.bin") == 0)
check("renamed file is there", "renamed.bin" in os.listdir(directory) and "data.bin" not in os.listdir(directory), os.listdir(directory))
check("rename a missing file fails (-1), errno ENOENT", semihosting.rename("data.bin", "x.bin") == -1 and semihosting.errno() == ENOENT)
check("remove", semihosting.remove("renamed.bin") == 0)
check("removed file is gone", "renamed.bin" not in os.listdir(directory), os.listdir(directory))
check("open a directory for writing fails", semihosting.open(".", W) == -1)
check("errno is EISDIR", semihosting.errno() == EISDIR, semihosting.errno())
check("remove a missing file fails (-1)", semihosting.remove("renamed.bin") == -1)
check("errno after the failed remove", semihosting.errno() == ENOENT, semihosting.errno())

check("system is refused", semihosting.system("ls") == -1)
now = semihosting.time()
check("time is seconds since 1970", isinstance(now, int) and abs(now - host_time) < 60, (now, host_time))
data = semihosting.console_read(5)
check("console_read takes a line from stdin, cut to the count", data == b"typed", data)
