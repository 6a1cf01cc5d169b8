# bmp.traceswo() on the host probe: ITM packets (ARMv7-M D4.2) from a stream; the data of
# the chosen stimulus ports is shown. Each section prints "== <name>", then what the probe
# shows. tests/test_bmp_module.py compares the whole output with what it expects.
import bmp
import io
import time

SYNCHRONIZATION = b"\x00\x00\x00\x00\x00\x80"  # 47+ zero bits, then a 1 (D4.2.1)
OVERFLOW = b"\x70"  # D4.2.3
LOCAL_TIMESTAMP_1 = b"\xc0\x81\x82\x03"  # C=1, continuation bytes (D4.2.4)
LOCAL_TIMESTAMP_2 = b"\x30"  # one byte, TS=3
GLOBAL_TIMESTAMP_1 = b"\x94\x81\x82\x83\x04"  # D4.2.5
GLOBAL_TIMESTAMP_2 = b"\xb4\x81\x82\x83\x04"
EXTENSION = b"\x08"  # C=0: one byte (D4.2.6)
EXTENSION_LONG = b"\x88\x81\x02"
EVENT_COUNTER = b"\x05\x01"  # hardware source, 1 byte (D4.3.1); the payload looks like a header
PC_SAMPLE = b"\x17\x01\x09\x70\x08"  # hardware source, 4 bytes (D4.3.2)
SIZE_CODE = {1: 1, 2: 2, 4: 3}


def software(port, data):
    """Instrumentation packets of port `port` carrying `data`: 4, 2 or 1 bytes each."""
    packets = bytearray()
    at = 0
    while at < len(data):
        left = len(data) - at
        size = 4 if left >= 4 else 2 if left >= 2 else 1
        packets.append(port << 3 | SIZE_CODE[size])
        packets += data[at:at + size]
        at += size
    return bytes(packets)


def let_it_poll(times=3):
    for _ in range(times):
        time.sleep(0.01)
        bmp.poll()


def section(name):
    print("\n== " + name)


mixed = (SYNCHRONIZATION + software(0, b"port 0 says hi\n") + OVERFLOW + EVENT_COUNTER
         + software(1, b"port one\n") + LOCAL_TIMESTAMP_1 + software(31, b"port 31\n")
         + LOCAL_TIMESTAMP_2 + GLOBAL_TIMESTAMP_1 + GLOBAL_TIMESTAMP_2 + EXTENSION
         + EXTENSION_LONG + PC_SAMPLE + software(5, b"port 5\n") + SYNCHRONIZATION
         + software(0, b"bye from 0\n"))

section("all ports")
print("on", bmp.traceswo(uart=io.BytesIO(mixed)))
let_it_poll()

section("ports 1 and 31")
print("on", bmp.traceswo(uart=io.BytesIO(mixed), chan=[1, 31]))
let_it_poll()

section("port 5")
print("on", bmp.traceswo(uart=io.BytesIO(mixed), chan=[5]))
let_it_poll()

section("packet sizes mixed by hand")
print("on", bmp.traceswo(uart=io.BytesIO(b"\x01a\x02bc\x03defg\x01\n\x0axy\x01z"), chan=[0]))
let_it_poll()
print()

section("payload bytes that look like headers, to disp_fun")
received = bytearray()
bmp.disp_fun(received.extend)
print("on", bmp.traceswo(uart=io.BytesIO(software(2, b"\x00\x70\x80\x05\x00\x00") + software(3, b"no")), chan=[2]))
let_it_poll()
bmp.disp_fun(None)
print(bytes(received))

section("more than one read: packets across read boundaries")
lines = b"".join(b"swo line %02d\n" % n for n in range(60))
stream = b"".join(software(7, lines[at:at + 3]) + LOCAL_TIMESTAMP_2 for at in range(0, len(lines), 3))
print(len(stream) > 1024)
print("on", bmp.traceswo(uart=io.BytesIO(stream), chan=[7]))
let_it_poll(10)

section("traceswo() turns it off")
print("on", bmp.traceswo(uart=io.BytesIO(software(0, b"never shown\n"))))
print("on", bmp.traceswo())
let_it_poll()

section("a new stream starts a new decoder")
print("on", bmp.traceswo(uart=io.BytesIO(b"\x03ab")))  # a 4-byte packet cut short
let_it_poll()
print()
print("on", bmp.traceswo(uart=io.BytesIO(software(0, b"whole\n"))))
let_it_poll()
print("on", bmp.traceswo())
