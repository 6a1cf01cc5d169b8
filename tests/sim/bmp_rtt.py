# bmp.rtt() on the host probe with the test firmware running in the simulated blue pill
# (BMP_SIM_FIRMWARE): RTT text to a callback, on and off, and argument errors (streams
# and TCP: tests/test_rtt.py). Each check prints "<check> ok".
import bmp
import target
import time


def poll_until(condition, seconds=20):
    deadline = time.ticks_add(time.ticks_ms(), seconds * 1000)
    while not condition():
        if time.ticks_diff(deadline, time.ticks_ms()) < 0:
            return False
        time.sleep(0.01)
    return True


def check(name, condition, detail=""):
    print(name, "ok" if condition else "FAILED " + str(detail))


def refused(kind, call):
    try:
        call()
    except kind:
        return True
    return False


target.swdp_scan(False)
target.attach(1)
target.halt_resume(False)

# A callback gets the up channel's bytes, as disp_fun does.
received = bytearray()
check("enable with callback", bmp.rtt(fun=received.extend) is True)
check("counter text", poll_until(lambda: b"rtt: counter " in received), bytes(received[-80:]))

check("disable", bmp.rtt(False) is False)
received[:] = b""
time.sleep(0.3)
check("nothing while off", len(received) == 0, bytes(received))

# Argument errors leave RTT as it was.
check("two outputs refused", refused(ValueError, lambda: bmp.rtt(fun=print, tcp=4442)))
check("bad port refused", refused(ValueError, lambda: bmp.rtt(tcp=70000)))
check("host without tcp refused", refused(ValueError, lambda: bmp.rtt(host="127.0.0.1")))
check("fun not callable refused", refused(TypeError, lambda: bmp.rtt(fun=3)))
check("stream not a stream refused", refused(OSError, lambda: bmp.rtt(stream=3)))
check("unaligned cblock refused", refused(ValueError, lambda: bmp.rtt(cblock=0x20000001)))
check("cblock not a number refused", refused(TypeError, lambda: bmp.rtt(cblock="x")))
check("off with arguments refused", refused(ValueError, lambda: bmp.rtt(False, fun=print)))
time.sleep(0.3)
check("still off", len(received) == 0, bytes(received))

# A wrong cblock address: nothing is found, nothing is shown.
check("wrong cblock", bmp.rtt(fun=received.extend, cblock=0x20004000) is True)
time.sleep(0.5)
check("nothing at a wrong cblock", len(received) == 0, bytes(received))
bmp.rtt(False)
