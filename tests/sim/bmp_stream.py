# bmp.init(stream=) on the host probe: the GDB server on a Python stream (io.IOBase with
# readinto, write and ioctl), driven by bmp.poll(). Prints "<check> ok" or "<check> FAILED".
import bmp
import io

MP_STREAM_POLL = 3
MP_STREAM_POLL_RD = 0x0001
MP_STREAM_POLL_WR = 0x0004


def check(name, condition, details=""):
    print(name, "ok" if condition else "FAILED " + repr(details))


class Pipe(io.IOBase):
    """What the client sent waits in `incoming`; what bmp answers lands in `out`."""

    def __init__(self):
        self.incoming = bytearray()
        self.out = bytearray()

    def readinto(self, buffer):
        count = min(len(buffer), len(self.incoming))
        if count == 0:
            return None  # no data yet (EAGAIN)
        buffer[:count] = self.incoming[:count]
        self.incoming = self.incoming[count:]
        return count

    def write(self, data):
        self.out += data
        return len(data)

    def ioctl(self, request, argument):
        if request == MP_STREAM_POLL:
            return argument & ((MP_STREAM_POLL_RD if self.incoming else 0) | MP_STREAM_POLL_WR)
        return 0

    def take(self):
        data = bytes(self.out)
        self.out = bytearray()
        return data


def packet(body):
    return b"$%s#%02x" % (body, sum(body) & 0xFF)


def monitor(command):
    return packet(b"qRcmd," + "".join("%02x" % byte for byte in command.encode()).encode())


def serve(pipe, data, steps=3):
    pipe.incoming += data
    for _ in range(steps):
        bmp.poll()
    return pipe.take()


pipe = Pipe()
check("init(stream=) returns None", bmp.init(stream=pipe) is None)
answer = serve(pipe, packet(b"qSupported"))
check("qSupported is answered", answer.startswith(b"+$PacketSize=1000;") and answer[-3:-2] == b"#", answer)
body = answer[2:-3]
check("the answer's checksum", answer[-2:] == b"%02x" % (sum(body) & 0xFF), answer)
answer = serve(pipe, b"+$qSupported#00")
check("a bad checksum gets '-'", answer == b"-", answer)

bmp.repl_fun(lambda expression: str(eval(expression)))
answer = serve(pipe, b"+" + monitor("python 6*7"))
check("monitor python calls repl_fun", answer == b"+" + packet(b"O" + b"42\n".hex().encode()) + packet(b"OK"), answer)
bmp.repl_fun(None)
answer = serve(pipe, b"+" + monitor("python 6*7"))
check("monitor python without repl_fun is an error", b"$E" in answer and b"repl_fun".hex().encode() in answer, answer)

check("deinit", bmp.deinit() is None)
answer = serve(pipe, b"+" + packet(b"qSupported"))
check("after deinit nothing is read or answered", answer == b"" and len(pipe.incoming) > 0, (answer, pipe.incoming))
