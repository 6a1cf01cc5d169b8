# Functions whose issue has not landed raise NotImplementedError naming the function.
import bmp
import dap
import target


def check(module_name, function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except NotImplementedError as error:
        print(module_name, error)
    else:
        print(module_name, "returned without raising")


check("bmp", bmp.init, tcp=3333)
check("bmp", bmp.deinit)
check("bmp", bmp.traceswo)
check("bmp", bmp.tracebuf)
check("bmp", bmp.disp_fun, print)
check("bmp", bmp.repl_fun, print)
check("bmp", bmp.debug)
for name, args in (
    ("jtag_scan", ()), ("swdp_scan", ()), ("attach", (1,)), ("detach", ()),
    ("reattach", ()), ("attached", ()), ("driver_name", ()), ("core_name", ()),
    ("check_error", ()), ("mem_map", ()), ("mem_map_xml", ()),
    ("mem_read", (bytearray(4), 0x20000000)), ("mem_write", (0x20000000, b"1234")),
    ("flash_erase", (0x08000000, 1024)), ("flash_write", (0x08000000, b"12")),
    ("flash_done", ()), ("tdesc_xml", ()), ("regs_size", ()),
    ("regs_read", (bytearray(4),)), ("regs_write", (bytearray(4),)),
    ("reg_read", (0, bytearray(4))), ("reg_write", (0, bytearray(4))), ("reset", ()),
    ("halt_request", ()), ("halt_poll", ()), ("halt_resume", (False,)),
    ("cmdline", ("x",)), ("heapsize", ([0, 0, 0, 0],)),
    ("breakwatch_set", (1, 0x08000000, 2)), ("breakwatch_clear", (1, 0x08000000, 2)),
):
    check("target", getattr(target, name), *args)
check("dap", dap.init)
check("dap", dap.deinit)
check("dap", dap.process, bytearray(64), bytearray(64))
check("dap", dap.calibrate)

# Wrong argument counts are TypeErrors, checked before any Rust code runs.
for call in (lambda: target.attach(), lambda: target.mem_read(bytearray(4)),
             lambda: bmp.poll(1), lambda: dap.process(b"")):
    try:
        call()
    except TypeError:
        print("TypeError")
