# Misuse of the bmp module raises a clear exception; callbacks take a callable or None.
# Runs on the host probe and on the qemu firmware: only what behaves the same on both
# (no bmp.init(tcp=): the qemu firmware has no socket module).
import bmp
import io
import target


def attempt(label, function, *args, **kwargs):
    try:
        result = function(*args, **kwargs)
    except Exception as error:
        print(label, type(error).__name__, error)
    else:
        print(label, "returned", result)


class NotAStream:
    pass


# init: exactly one of stream= and tcp=, tcp a port number, stream a stream.
attempt("init()", bmp.init)
attempt("init(tcp=0)", bmp.init, tcp=0)
attempt("init(stream=, tcp=)", bmp.init, stream=io.BytesIO(), tcp=3333)
attempt("init(stream=, tcp=-1)", bmp.init, stream=io.BytesIO(), tcp=-1)
attempt("init(tcp=65536)", bmp.init, tcp=65536)
attempt("init(tcp=-1)", bmp.init, tcp=-1)
attempt("init(tcp=, host=5)", bmp.init, tcp=3333, host=5)
attempt("init(tcp=, host=b'')", bmp.init, tcp=3333, host=b"127.0.0.1")
attempt("init(tcp=, host=long)", bmp.init, tcp=3333, host="x" * 64)
attempt("init(stream=5)", bmp.init, stream=5)
attempt("init(stream='text')", bmp.init, stream="text")
attempt("init(stream=object)", bmp.init, stream=NotAStream())

# deinit without init does nothing.
attempt("deinit without init", bmp.deinit)
attempt("deinit twice", bmp.deinit)

# debug() toggles and returns the new state.
attempt("debug on", bmp.debug)
attempt("debug off", bmp.debug)

# repl_fun / disp_fun: a callable or None.
for name, function in (("repl_fun", bmp.repl_fun), ("disp_fun", bmp.disp_fun)):
    attempt(name + "(print)", function, print)
    attempt(name + "(lambda)", function, lambda text: text)
    attempt(name + "(bound method)", function, [].append)
    attempt(name + "(class)", function, NotAStream)
    attempt(name + "(None)", function, None)
    attempt(name + "(1)", function, 1)
    attempt(name + "('print')", function, "print")
    attempt(name + "(b'')", function, b"")

# tracebuf: four addresses, a size that is not 0.
attempt("tracebuf() with none set", bmp.tracebuf)
attempt("tracebuf(ena=True) with none set", bmp.tracebuf, ena=True)
attempt("tracebuf 3 items", bmp.tracebuf, cb=[0x20000000, 64, 0x20000004])
attempt("tracebuf 5 items", bmp.tracebuf, cb=[0x20000000, 64, 0x20000004, 0x20000008, 0])
attempt("tracebuf empty", bmp.tracebuf, cb=[])
attempt("tracebuf size 0", bmp.tracebuf, cb=[0x20000000, 0, 0x20000004, 0x20000008])
attempt("tracebuf not a list", bmp.tracebuf, cb=5)
attempt("tracebuf negative address", bmp.tracebuf, cb=[-1, 64, 0x20000004, 0x20000008])
attempt("tracebuf str address", bmp.tracebuf, cb=["x", 64, 0x20000004, 0x20000008])
attempt("tracebuf still off", bmp.tracebuf)
attempt("tracebuf tuple", bmp.tracebuf, cb=(0x20000000, 64, 0x20000004, 0x20000008))
attempt("tracebuf set", bmp.tracebuf, cb=[0x20000000, 64, 0x20000004, 0x20000008])
attempt("tracebuf ena=False", bmp.tracebuf, ena=False)
attempt("tracebuf ena=True", bmp.tracebuf, ena=True)
attempt("tracebuf set disabled", bmp.tracebuf, cb=[0x20000000, 64, 0x20000004, 0x20000008], ena=False)
attempt("tracebuf query", bmp.tracebuf)

# traceswo: a stream and stimulus ports 0..31; no uart turns it off.
attempt("traceswo off", bmp.traceswo)
attempt("traceswo port 32", bmp.traceswo, uart=io.BytesIO(), chan=[0, 32])
attempt("traceswo port -1", bmp.traceswo, uart=io.BytesIO(), chan=[-1])
attempt("traceswo chan not a list", bmp.traceswo, uart=io.BytesIO(), chan=5)
attempt("traceswo uart not a stream", bmp.traceswo, uart=5)
attempt("traceswo uart object", bmp.traceswo, uart=NotAStream())
attempt("traceswo all ports", bmp.traceswo, uart=io.BytesIO())
attempt("traceswo ports 0 and 31", bmp.traceswo, uart=io.BytesIO(), chan=[0, 31])
attempt("traceswo turned off", bmp.traceswo)

# poll() counts steps.
steps = bmp.poll()
print("poll returns an int", type(steps) is int, bmp.poll() > steps)

# Wrong argument counts are TypeErrors, checked before any Rust code runs.
for call in (target.attach, lambda: target.mem_read(bytearray(4)), lambda: bmp.poll(1),
             lambda: __import__("dap").process(b""), lambda: bmp.deinit(1),
             lambda: bmp.debug(True), lambda: bmp.repl_fun(), lambda: bmp.disp_fun(print, 1),
             lambda: bmp.help(1), lambda: bmp.init(3333), lambda: bmp.tracebuf([1, 2, 3, 4]),
             lambda: bmp.traceswo(io.BytesIO()), lambda: bmp.init(tcp="3333")):
    try:
        call()
    except TypeError:
        print("TypeError")
    else:
        print("no TypeError")
