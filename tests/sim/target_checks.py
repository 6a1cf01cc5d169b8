# What the target_*.py scripts share (imported from the script's own directory, which the
# unix port puts first on sys.path): the firmware's symbols, one printed line per check,
# a core register, and waiting for the core to halt.
import target
import time


def symbols(path):
    """{name: address} from the firmware's `nm -n` listing."""
    found = {}
    for line in open(path):
        fields = line.split()
        if len(fields) == 3:
            found[fields[2]] = int(fields[0], 16)
    return found


def check(what, condition, details=""):
    print(what, "ok" if condition else "FAILED " + str(details))


def register(number):
    data = bytearray(4)
    target.reg_read(number, data)
    return int.from_bytes(data, "little")


def wait_halt(seconds=2.0):
    end = time.ticks_add(time.ticks_ms(), int(seconds * 1000))
    while time.ticks_diff(end, time.ticks_ms()) > 0:
        status = target.halt_poll()
        if status[0] != target.HALT_RUNNING:
            return status
    return target.halt_poll()
