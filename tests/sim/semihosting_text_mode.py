# semihosting.py: a file the target opens in a text mode ("r", SYS_OPEN mode 0: what
# fopen(name, "r") sends) must still read as bytes: at most the count asked for, and any
# content, not only UTF-8. Usage: micropython semihosting_text_mode.py DIRECTORY
# Prints "<check> ok" or "<check> FAILED <details>".
import semihosting
import sys

directory = sys.argv[1]
semihosting.init(directory)
R = 0


def check(name, condition, details=""):
    print(name, "ok" if condition else "FAILED " + repr(details))


def read_all(name, count):
    handle = semihosting.open(name, R)
    pieces = []
    try:
        while True:
            piece = semihosting.read(handle, count)
            if not piece:
                break
            pieces.append(piece)
    except Exception as error:
        pieces.append(("raised", type(error).__name__))
    semihosting.close(handle)
    return pieces


with open(directory + "/utf8.txt", "wb") as file:
    file.write("café au lait\n".encode())
with open(directory + "/binary.dat", "wb") as file:
    file.write(b"\xff\xfe\x00\x01abc")

pieces = read_all("utf8.txt", 4)
check("mode r, UTF-8 text: no read gives more than 4 bytes", all(len(piece) <= 4 for piece in pieces), pieces)
check("mode r, UTF-8 text: the pieces make the file", b"".join(pieces) == "café au lait\n".encode(), pieces)
pieces = read_all("binary.dat", 16)
check("mode r, not UTF-8: read gives the bytes", pieces == [b"\xff\xfe\x00\x01abc"], pieces)
