# Misuse of the target module raises a clear exception, and the next correct call works.
import target


def attempt(label, function, *args):
    try:
        result = function(*args)
    except Exception as error:
        print(label, type(error).__name__, error)
    else:
        print(label, "returned", result)


attempt("attach before scan", target.attach, 1)
attempt("attach(0)", target.attach, 0)
attempt("attach('x')", target.attach, "x")
attempt("detach when not attached", target.detach)
attempt("mem_read into bytes", target.mem_read, bytes(4), 0x20000000)
attempt("mem_read into str", target.mem_read, "abcd", 0x20000000)
attempt("mem_read negative address", target.mem_read, bytearray(4), -1)
attempt("mem_read huge address", target.mem_read, bytearray(4), 1 << 40)
attempt("mem_read no target", target.mem_read, bytearray(4), 0x20000000)
attempt("mem_write from str", target.mem_write, 0x20000000, "text")
attempt("mem_write from int", target.mem_write, 0x20000000, 5)
attempt("flash_erase negative", target.flash_erase, 0x08000000, -1)
attempt("regs_read wrong size", target.regs_read, bytearray(8))
attempt("reg_read bad register", target.reg_read, 99, bytearray(4))
attempt("reg_read short buffer", target.reg_read, 0, bytearray(2))
attempt("reg_write 3 bytes", target.reg_write, 0, b"abc")
attempt("breakwatch bad type", target.breakwatch_set, 9, 0x08000000, 2)
attempt("heapsize wrong length", target.heapsize, [1, 2, 3])
attempt("heapsize not a list", target.heapsize, 5)
attempt("cmdline not a str", target.cmdline, b"x")
attempt("halt_poll no target", target.halt_poll)
attempt("jtag_scan bad ir_len", target.jtag_scan, False, [1])
attempt("mem_map no target", target.mem_map)
# Correct calls still work after all that.
attempt("cmdline", target.cmdline, "prog arg1")
attempt("heapsize", target.heapsize, [0x20000000, 0x20001000, 0x20005000, 0x20004000])
attempt("regs_size", target.regs_size)
print("check_error", target.check_error(), target.check_error())
print("attached", target.attached(), target.driver_name(), target.core_name())
