# dap.calibrate() sets the delay between SWCLK edges of bit-banged pins (host probe,
# BMP_WIRE=gpio-model: a probe board's GPIO pin code against the simulated blue pill).
# The frequency the wire takes (monitor frequency, through the GDB server on a Python
# stream) follows the calibration. Prints "<check> ok" or "<check> FAILED <details>".
import bmp
import dap
import io
import target

MP_STREAM_POLL = 3


def check(name, condition, details=""):
    print(name, "ok" if condition else "FAILED " + repr(details))


class Pipe(io.IOBase):
    def __init__(self):
        self.incoming = bytearray()
        self.out = bytearray()

    def readinto(self, buffer):
        count = min(len(buffer), len(self.incoming))
        if count == 0:
            return None
        buffer[:count] = self.incoming[:count]
        self.incoming = self.incoming[count:]
        return count

    def write(self, data):
        self.out += data
        return len(data)

    def ioctl(self, request, argument):
        if request == MP_STREAM_POLL:
            return argument & ((1 if self.incoming else 0) | 4)
        return 0


def packet(body):
    return b"$%s#%02x" % (body, sum(body) & 0xFF)


def monitor(pipe, command):
    pipe.incoming += b"+" + packet(b"qRcmd," + command.encode().hex().encode())
    for _ in range(3):
        bmp.poll()
    text = b""
    for chunk in bytes(pipe.out).split(b"$")[1:]:
        body = chunk.split(b"#")[0]
        if body.startswith(b"O") and body != b"OK":
            text += bytes.fromhex(body[1:].decode())
    pipe.out = bytearray()
    return text.decode()


def frequency(text):
    return int(text.split("frequency: ")[1].split(" Hz")[0])


found = target.swdp_scan()
check("scan through the board's pin code", found == ["STM32F1 medium density M3"], found)

# The original's figures for its board: the no-delay clock is 9 MHz.
dap.calibrate(cal=(35985, 8999685))
pipe = Pipe()
bmp.init(stream=pipe)
fast = frequency(monitor(pipe, "frequency 20M"))
check("no faster than the calibrated top speed", 8_900_000 < fast <= 8_999_685, fast)
four = frequency(monitor(pipe, "frequency 4M"))
check("4 MHz asked, at most 4 MHz taken", 3_800_000 < four <= 4_000_000, four)
bmp.deinit()

# A slower board: its top speed caps the clock, and 4 MHz now needs fewer loops.
dap.calibrate(cal=(20000, 2_000_000))
bmp.init(stream=pipe)
capped = frequency(monitor(pipe, "frequency 4M"))
check("a new calibration applies at once", 1_900_000 < capped <= 2_000_000, capped)
one = frequency(monitor(pipe, "frequency 1M"))
check("1 MHz under the new calibration", 950_000 < one <= 1_000_000, one)
found = target.swdp_scan()
check("the wire works at the calibrated clock", found == ["STM32F1 medium density M3"], found)
bmp.deinit()

# Measured: the pins' own toggling speed and the loop, on this host.
loops, top = dap.calibrate()
check("calibrate() measures", loops > 0 and top > 0, (loops, top))
bmp.init(stream=pipe)
measured = frequency(monitor(pipe, "frequency 1000000000"))
check("the measured top speed caps the clock", measured <= top, (measured, top))
bmp.deinit()
