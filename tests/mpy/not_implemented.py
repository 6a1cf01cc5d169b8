# Functions whose issue has not landed raise NotImplementedError naming the function.
import bmp
import dap


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

# Wrong argument counts are TypeErrors, checked before any Rust code runs.
for call in (__import__('target').attach, lambda: __import__('target').mem_read(bytearray(4)),
             lambda: bmp.poll(1), lambda: dap.process(b"")):
    try:
        call()
    except TypeError:
        print("TypeError")
