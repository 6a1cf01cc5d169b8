#!/usr/bin/env python3
"""Write the small seed corpora of the fuzz targets (fuzz/seeds/<target>/): typical traffic
of each parser, in the input format its fuzz target reads. Run again after changing it."""

import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
RAM = 0x20000000


def frame(body):
    """$body#cc, as gdb frames a packet."""
    return b"$" + body + b"#%02x" % (sum(body) & 0xFF)


def rsp_seeds():
    session = [b"qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;vContSupported+",
               b"vMustReplyEmpty", b"QStartNoAckMode", b"!", b"Hg0", b"qXfer:features:read:target.xml:0,ffb",
               b"qXfer:memory-map:read::0,ffb", b"qTStatus", b"?", b"qfThreadInfo", b"qsThreadInfo",
               b"qAttached", b"Hc-1", b"qC", b"g", b"p0f", b"m20000000,40", b"M20000000,4:01020304",
               b"X20000010,4:\x7d\x03abc", b"P0=01000000", b"Z0,8000100,2", b"z0,8000100,2",
               b"Z2,20000000,4", b"vCont?", b"vCont;c", b"\x03", b"vCont;s:1", b"c", b"s",
               b"qRcmd,68656c70", b"qRcmd,7377647020736361", b"qCRC:20000000,100",
               b"vFlashErase:08000000,400", b"vFlashWrite:08000000:\x00\x50\x00\x20",
               b"vFlashDone", b"D", b"k", b"R00", b"vRun;", b"qOffsets", b"T1"]
    seeds = {"session": b"".join(b"+" + frame(body) for body in session),
             "noack": b"".join(frame(body) for body in session[2:]),
             "damaged": b"$m20000000,4#00-+$g#67" + frame(b"m20000000,4") + b"$M2000",
             "semihosting": b"".join(frame(body) for body in [
                 b"M20000100,8:68656c6c6f0a0000", b"P0=04000000", b"P1=00010020",
                 b"vCont;c", b"c", b"c"])}
    # The first byte seeds the fuzz target's choices (chunking, polls, halts).
    return {name: bytes([index * 37 + 1]) + data for index, (name, data) in enumerate(seeds.items())}


def semihosting_seeds():
    ram = bytearray(256)
    ram[0x00:0x08] = b"hello\n\0\0"
    ram[0x10:0x20] = b":tt\0" + bytes(12)
    ram[0x20:0x2C] = struct.pack("<III", RAM + 0x10, 4, 3)            # SYS_OPEN ":tt" w
    ram[0x30:0x3C] = struct.pack("<III", 1, RAM + 0x00, 6)            # SYS_WRITE stdout
    ram[0x40:0x4C] = struct.pack("<III", RAM + 0x50, 21, 0)           # SYS_OPEN features
    ram[0x50:0x66] = b":semihosting-features\0"
    ram[0x70:0x7C] = struct.pack("<III", 0x7FFF0000, RAM + 0x80, 5)   # SYS_READ features
    ram[0x90:0x9C] = struct.pack("<III", RAM + 0xA0, 64, 0)           # GET_CMDLINE
    ram[0xC0:0xC8] = struct.pack("<II", 0x20026, 3)                   # EXIT_EXTENDED

    def calls(*pairs):
        return b"".join(struct.pack("<II", operation, parameter & 0x7FFFFFFF ^ RAM)
                        for operation, parameter in pairs)
    # A parameter below 2**31 is taken modulo the RAM size: offsets into RAM.
    return {"console": bytes(ram) + calls((0x04, 0x00), (0x01, 0x20), (0x05, 0x30), (0x03, 0x00),
                                          (0x09, 0x30)),
            "features": bytes(ram) + calls((0x01, 0x40), (0x0C, 0x70), (0x06, 0x70), (0x0A, 0x70),
                                           (0x02, 0x70)),
            "misc": bytes(ram) + calls((0x15, 0x90), (0x16, 0xA0), (0x11, 0), (0x10, 0),
                                       (0x20, 0xC0))}


def dap_seeds():
    def requests(*items):
        return b"".join(bytes([len(item)]) + item for item in items)
    connect = [b"\x00\x01", b"\x00\xfe", b"\x00\xff", b"\x02\x01", b"\x11\x80\x96\x98\x00",
               b"\x04\x00\x64\x00\x00\x00", b"\x13\x00",
               b"\x12\x38\xff\xff\xff\xff\xff\xff\xff", b"\x12\x10\x9e\xe7"]
    transfer = [b"\x05\x00\x01\x02",                                   # DPIDR
                b"\x05\x00\x02\x04\x00\x00\x00\x50\x06",              # CTRL/STAT
                b"\x05\x00\x03\x01\x12\x00\x00\x23\x05\x00\x00\x00\x20\x0f",
                b"\x06\x00\x04\x00\x0f",                              # block read 4
                b"\x06\x00\x02\x00\x0d\x01\x00\x00\x00\x02\x00\x00\x00",
                b"\x08\x00\x1e\x00\x00\x00", b"\x07", b"\x09\x10\x00",
                b"\x7e\x02\x00\x01\x00\x02", b"\x7f\x02\x00\x01\x02\x01",
                b"\x10\x01\x01\x00\x00\x00\x00", b"\x1d\x01\x08\xff",
                b"\x14\x02\x48\xff\x01\x00", b"\x15\x01\x04", b"\x16\x00", b"\x0a", b"\x03"]
    jtag = [b"\x02\x02", b"\x14\x02\x06\xff\x01\x00", b"\x15\x02\x04\x05", b"\x16\x00",
            b"\x16\x01", b"\x05\x00\x01\x02", b"\x03"]
    return {"swd": b"\x01" + requests(*connect, *transfer),
            "jtag": b"\x02" + requests(*connect[:2], *jtag),
            "short": b"\x00" + requests(b"\x05\x00\x02", b"\x06", b"\x00", b"\x7e", b"\x12\x40")}


def itm_seeds():
    return {"software": b"\x01h\x0aij\xfbklmn",
            "mixed": bytes([0, 0, 0, 0, 0, 0x80, 0x70, 0xC0, 0x81, 0x02, 0x10, 0x05, 0x20, 0x01]) + b"x",
            "writes": bytes([0x00, 0x41, 0x3F, 0x42, 0x43, 0xC5, 0x44, 0x45, 0x46, 0x47])}


def main():
    for target, seeds in [("rsp", rsp_seeds()), ("semihosting", semihosting_seeds()),
                          ("dap", dap_seeds()), ("itm", itm_seeds())]:
        directory = HERE / target
        directory.mkdir(exist_ok=True)
        for name, data in seeds.items():
            (directory / name).write_bytes(data)


if __name__ == "__main__":
    main()
