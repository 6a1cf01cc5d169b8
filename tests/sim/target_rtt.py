# target.rtt_read / target.rtt_write on the host probe with the test firmware running in the
# simulated blue pill (BMP_SIM_FIRMWARE): up-channel text read while the target runs, a line
# written to the down channel and echoed back, and the errors. Each check prints
# "<check> ok".
import target
import time


def check(name, condition, detail=""):
    print(name, "ok" if condition else "FAILED " + str(detail))


def raised(kind, call, words=""):
    try:
        call()
    except kind as error:
        return words in str(error)
    return False


# Before a scan or an attach: the session's own errors.
check("not attached refused", raised(RuntimeError, lambda: target.rtt_read(bytearray(8)),
                                     "attach"))

target.swdp_scan(False)
target.attach(1)
target.halt_resume(False)


def read_until(needle, seconds=20):
    """Read up channel 0 in small pieces until `needle` arrives."""
    text = bytearray()
    piece = bytearray(16)
    deadline = time.ticks_add(time.ticks_ms(), seconds * 1000)
    while needle not in text and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        count = target.rtt_read(piece)
        text.extend(piece[:count])
        if count == 0:
            time.sleep(0.01)
    return bytes(text)


text = read_until(b"\n", 20)
text += read_until(b"\n", 20)
lines = text.split(b"\n")
check("up text while running", b"rtt: counter " in lines[1] and lines[1][13:].isdigit(), text)
halt = target.halt_poll()
check("the target kept running", halt[0] == target.HALT_RUNNING, halt)

check("write down channel", target.rtt_write(b"hello target\n") == 13)
check("echo comes back", b"echo: hello target\n" in read_until(b"echo: hello target\n"))
check("explicit channel 0", target.rtt_write(b"x\n", 0) == 2)

# The firmware's down buffer holds 63 bytes: a longer write is cut to what fits.
target.halt_request()
while target.halt_poll()[0] == target.HALT_RUNNING:
    pass
written = target.rtt_write(b"y" * 100)
check("a full down buffer takes what fits", 0 < written < 64, written)
check("then nothing", target.rtt_write(b"z") == 0)
target.halt_resume(False)

check("an empty buffer reads 0", target.rtt_read(bytearray(0)) == 0)
check("up channel 1 exists", target.rtt_read(bytearray(8), 1) >= 0)
check("no up channel 5", raised(RuntimeError, lambda: target.rtt_read(bytearray(8), 5),
                                "no up channel 5"))
check("no down channel 1", raised(RuntimeError, lambda: target.rtt_write(b"x", 1),
                                  "no down channel 1"))
check("channel past 15 refused", raised(ValueError, lambda: target.rtt_read(bytearray(8), 16)))
check("negative channel refused", raised(ValueError, lambda: target.rtt_read(bytearray(8), -1)))
check("dst not a buffer refused", raised(TypeError, lambda: target.rtt_read(b"immutable")))
check("src not bytes refused", raised(TypeError, lambda: target.rtt_write(12)))
