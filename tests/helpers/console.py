"""Drive a MicroPython console: the unix host probe in a pty, or the qemu firmware's UART
on qemu-system-arm's stdio. Every wait is bounded; a timeout raises with what was seen."""

import os
import pty
import select
import subprocess
import time

QEMU_COMMAND = [
    "qemu-system-arm", "-machine", "mps2-an385", "-display", "none", "-monitor", "none",
    "-semihosting", "-serial", "stdio", "-kernel",
]


class ConsoleTimeout(AssertionError):
    pass


class Console:
    """A MicroPython console on a pair of file descriptors of a child process."""

    def __init__(self, process, read_fd, write_fd):
        self.process = process
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.seen = b""

    @classmethod
    def unix(cls, micropython):
        controller, device = pty.openpty()
        process = subprocess.Popen([micropython], stdin=device, stdout=device, stderr=device,
                                   close_fds=True)
        os.close(device)
        return cls(process, controller, controller)

    @classmethod
    def qemu(cls, firmware, serials=()):
        """`serials`: qemu -serial backends for UART1, UART2, ... (UART0 is the console)."""
        extra = [argument for backend in serials for argument in ("-serial", backend)]
        command = QEMU_COMMAND[:-1] + extra + QEMU_COMMAND[-1:] + [firmware]
        process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return cls(process, process.stdout.fileno(), process.stdin.fileno())

    def write(self, data):
        os.write(self.write_fd, data)

    def read_until(self, marker, timeout=10.0):
        """Read until `marker` appears; return everything before it (and drop it)."""
        deadline = time.monotonic() + timeout
        while marker not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConsoleTimeout(f"no {marker!r} within {timeout} s; seen: {self.seen[-600:]!r}")
            ready, _, _ = select.select([self.read_fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.read_fd, 4096)
                except OSError:  # pty closed
                    chunk = b""
                if not chunk:
                    raise ConsoleTimeout(f"console closed before {marker!r}; seen: {self.seen[-600:]!r}")
                self.seen += chunk
        before, _, self.seen = self.seen.partition(marker)
        return before

    def prompt(self, timeout=10.0):
        """Wait for the friendly REPL's prompt."""
        return self.read_until(b">>> ", timeout)

    def line(self, text, timeout=10.0):
        """Type one line at the friendly REPL; return its output (without the echo)."""
        self.write(text.encode() + b"\r")
        output = self.prompt(timeout).replace(b"\r\n", b"\n")
        echo, _, result = output.partition(b"\n")
        return result.decode(errors="replace")

    def run(self, script, timeout=30.0):
        """Run a script through the raw REPL; return (stdout, stderr) as text."""
        self.write(b"\r\x01")
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>", timeout)
        self.write(script.encode() + b"\x04")
        self.read_until(b"OK", timeout)
        stdout = self.read_until(b"\x04", timeout)
        stderr = self.read_until(b"\x04", timeout)
        self.read_until(b">", timeout)
        self.write(b"\x02")  # back to the friendly REPL
        self.prompt(timeout)
        return (stdout.replace(b"\r\n", b"\n").decode(errors="replace"),
                stderr.replace(b"\r\n", b"\n").decode(errors="replace"))

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        if self.read_fd == self.write_fd:
            os.close(self.read_fd)
