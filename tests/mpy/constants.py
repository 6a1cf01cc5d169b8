# target's constants have the original probe's values (GDB's Z0..Z4 for break/watch types).
import target

for name in ("HALT_RUNNING", "HALT_ERROR", "HALT_REQUEST", "HALT_STEPPING",
             "HALT_BREAKPOINT", "HALT_WATCHPOINT", "HALT_FAULT",
             "BREAK_SOFT", "BREAK_HARD", "WATCH_WRITE", "WATCH_READ", "WATCH_ACCESS"):
    print(name, getattr(target, name))

# dap.hid_info: (subclass, protocol, max packet, interval, report descriptor) for pyb.usb_mode
import dap

subclass, protocol, packet, interval, descriptor = dap.hid_info
print(subclass, protocol, packet, interval, len(descriptor))
print(descriptor[:3] == b"\x06\x00\xff", descriptor[-1] == 0xC0)
