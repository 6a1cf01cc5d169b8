# bmp.tracebuf() on the host probe with the simulated blue pill (20 KB RAM at 0x2000_0000).
# Each section prints "== <name>", then what the probe shows, then the indexes.
# tests/test_bmp_module.py compares the whole output with what it expects.
import bmp
import target
import time

VARIABLE = 0x20000100  # holds the buffer's address
HEAD = 0x20000104
TAIL = 0x20000108
BUFFER = 0x20001000
SIZE = 64


def write_word(address, value):
    target.mem_write(address, value.to_bytes(4, "little"))


def read_word(address):
    data = bytearray(4)
    target.mem_read(data, address)
    return int.from_bytes(data, "little")


def section(name):
    print("\n== " + name)


def let_it_poll(times=4):
    # tracebuf reads the target at most every 20 ms; time.sleep runs the poll hook.
    for _ in range(times):
        time.sleep(0.03)
    bmp.poll()


def indexes():
    print("\nhead", read_word(HEAD), "tail", read_word(TAIL))


print(target.swdp_scan(False))
target.attach(1)
write_word(VARIABLE, BUFFER)

section("plain")
target.mem_write(BUFFER, b"hello from the target\n")
write_word(HEAD, 22)
write_word(TAIL, 0)
print("enabled", bmp.tracebuf(cb=[VARIABLE, SIZE, HEAD, TAIL]))
let_it_poll()
indexes()

section("more text, then nothing new")
target.mem_write(BUFFER + 22, b"second line\n")
write_word(HEAD, 34)
let_it_poll()
let_it_poll()
indexes()

section("wrapped")
target.mem_write(BUFFER + 56, b"wrapped-")
target.mem_write(BUFFER, b"around!\n")
write_word(TAIL, 56)
write_word(HEAD, 8)
let_it_poll()
indexes()

section("wrapped, head at 0")
target.mem_write(BUFFER + 60, b"end\n")
write_word(TAIL, 60)
write_word(HEAD, 0)
let_it_poll()
indexes()

section("disp_fun")
received = []


def receive(data):
    received.append((type(data).__name__, bytes(data)))


bmp.disp_fun(receive)
target.mem_write(BUFFER, b"to the callback")
write_word(TAIL, 0)
write_word(HEAD, 15)
let_it_poll()
bmp.disp_fun(None)
print(sorted(set(kind for kind, _ in received)), b"".join(data for _, data in received))
indexes()

section("ena=False")
target.mem_write(BUFFER + 15, b"held back\n")
write_word(HEAD, 25)
print("enabled", bmp.tracebuf(ena=False))
let_it_poll()
indexes()
print("enabled", bmp.tracebuf(ena=True))
let_it_poll()
indexes()

section("bad indexes")
write_word(TAIL, 25)
write_word(HEAD, SIZE)
let_it_poll()
indexes()
write_word(TAIL, 1000)
write_word(HEAD, 3)
let_it_poll()
indexes()
print("enabled", bmp.tracebuf())

section("a long buffer read in pieces")
text = b"".join(b"line %03d of a long trace buffer\n" % n for n in range(40))
write_word(VARIABLE, BUFFER)
target.mem_write(BUFFER, text)
write_word(TAIL, 0)
write_word(HEAD, len(text))
print("enabled", bmp.tracebuf(cb=[VARIABLE, 2048, HEAD, TAIL]))
let_it_poll()
indexes()

section("not attached")
target.mem_write(BUFFER, b"not shown\n")
write_word(TAIL, 0)
write_word(HEAD, 10)
target.detach()
let_it_poll()
target.attach(1)
indexes()
print("enabled", bmp.tracebuf(ena=False))

section("a disp_fun that raises")


def broken(data):
    raise ValueError("disp_fun failed")


bmp.disp_fun(broken)
target.mem_write(BUFFER, b"lost")
write_word(TAIL, 0)
write_word(HEAD, 4)
print("enabled", bmp.tracebuf(ena=True))
let_it_poll()
bmp.disp_fun(None)
indexes()
target.mem_write(BUFFER + 4, b"still going\n")
write_word(HEAD, 16)
let_it_poll()
indexes()

section("reading fails")
write_word(VARIABLE, 0x30000000)  # reserved: nothing answers (RM0008 3.3, memory map)
write_word(TAIL, 0)
write_word(HEAD, 8)
print("enabled", bmp.tracebuf(cb=[VARIABLE, 64, HEAD, TAIL]))
let_it_poll()
print("enabled", bmp.tracebuf())
indexes()
