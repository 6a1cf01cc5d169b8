"""Drive real gdb-multiarch (batch mode) against bmp's GDB server on the host probe with the
simulated blue pill, or against qemu-system-arm's own gdbstub (to check the scripts
themselves: BMP_GDB_SERVER=qemu).

Every command of a gdb run is preceded by a marker line, so its output can be picked out
(`GdbTranscript.output`); every wait is bounded and every process is killed on the way out.
A failure message carries the gdb transcript and the tail of the server's output."""

import os
import pathlib
import re
import shutil
import socket
import select
import subprocess
import threading
import time

from helpers.openocd import OutputCollector, free_port, read_symbols, stop_process, tail

TOP = pathlib.Path(__file__).resolve().parent.parent.parent
FIRMWARE_BUILD = TOP / "build" / "firmware"

# Settings run before the first command: no pager or questions, answers from the server in
# 10 s (a silent server fails the command instead of hanging it).
GDB_SETTINGS = [
    "set pagination off",
    "set confirm off",
    "set width 0",
    "set height 0",
    "set remotetimeout 10",
    "set tcp connect-timeout 10",
]

MARKER = "@@bmp-gdb-command"
MARKER_LINE = re.compile(rf"^{MARKER} (\d+)@@\r?$", re.MULTILINE)


def find_gdb():
    gdb = shutil.which("gdb-multiarch")
    if gdb is None:
        raise AssertionError("gdb-multiarch is missing: run tools/prereqs (Debian package "
                             "gdb-multiarch)")
    return gdb


def build_firmware(build=FIRMWARE_BUILD):
    """make -s -C tests/firmware BUILD=...; returns the build directory."""
    if shutil.which("arm-none-eabi-gcc") is None:
        raise AssertionError("arm-none-eabi-gcc is missing: run tools/prereqs "
                             "(Debian packages gcc-arm-none-eabi, libnewlib-arm-none-eabi)")
    result = subprocess.run(["make", "-s", "-C", str(TOP / "tests" / "firmware"), f"BUILD={build}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    if result.returncode != 0:
        raise AssertionError(f"firmware build failed:\n{tail(result.stdout)}")
    return pathlib.Path(build)


def firmware_symbols(build=FIRMWARE_BUILD):
    return read_symbols(pathlib.Path(build) / "firmware.nm")


def interrupt_after(seconds):
    """A gdb command that arranges for `interrupt` to run `seconds` from now, from gdb's own
    event loop: put it just before a `continue` (batch mode has no `continue &` + wait)."""
    return ("python import threading, gdb; threading.Timer(%s, lambda: gdb.post_event("
            "lambda: gdb.execute('interrupt'))).start()" % float(seconds))


class GdbTranscript:
    """What one gdb run printed, split per command."""

    def __init__(self, commands, text, returncode, timed_out, server_log):
        self.commands = list(commands)
        self.text = text
        self.returncode = returncode
        self.timed_out = timed_out
        self.server_log = server_log
        self.preamble = text
        self.sections = []  # (command, output) in order; commands never reached are absent
        marks = list(MARKER_LINE.finditer(text))
        if marks:
            self.preamble = text[:marks[0].start()]
        for position, mark in enumerate(marks):
            end = marks[position + 1].start() if position + 1 < len(marks) else len(text)
            index = int(mark.group(1))
            self.sections.append((self.commands[index], text[mark.end():end].strip("\r\n")))

    def output(self, command, occurrence=0):
        """The output of the `occurrence`-th (0 = first) run of `command` (exact text); a
        command gdb never reached fails the test with the transcript."""
        seen = 0
        for text, output in self.sections:
            if text == command:
                if seen == occurrence:
                    return output
                seen += 1
        raise AssertionError(f"gdb never ran {command!r} (occurrence {occurrence}):\n{self}")

    def outputs(self, command):
        return [output for text, output in self.sections if text == command]

    def readable(self):
        lines = []
        if self.preamble.strip():
            lines.append(self.preamble.rstrip())
        for command, output in self.sections:
            lines.append(f"(gdb) {command}")
            if output:
                lines.append(output)
        if self.timed_out:
            lines.append("(gdb killed: no exit within the time limit)")
        return "\n".join(lines)

    def __str__(self):
        return (f"--- gdb transcript ---\n{self.readable()}\n"
                f"--- server output (tail) ---\n{tail(self.server_log, 60)}")


def run_gdb(commands, elf, cwd, timeout=90, server=None):
    """gdb-multiarch -nx -batch with `elf` and one -ex per command (each after a marker echo:
    gdb runs every -ex even when one before failed). Returns a GdbTranscript; raises with the
    transcript when gdb does not exit within `timeout` seconds."""
    arguments = [find_gdb(), "-nx", "-batch"]
    for setting in GDB_SETTINGS:
        arguments += ["-ex", setting]
    for index, command in enumerate(commands):
        arguments += ["-ex", f"echo {MARKER} {index}@@\\n", "-ex", command]
    arguments.append(str(elf))
    environment = dict(os.environ, DEBUGINFOD_URLS="", TERM="dumb")
    process = subprocess.Popen(arguments, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1, env=environment)
    output = OutputCollector(process.stdout)
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        stop_process(process)
        output.thread.join(timeout=5)
    if server is not None:
        server.settle()
    transcript = GdbTranscript(commands, output.snapshot(), process.returncode, timed_out,
                               server.log() if server is not None else "")
    if timed_out:
        raise AssertionError(f"gdb did not finish within {timeout} s\n{transcript}")
    return transcript


class GdbServer:
    """A process serving the GDB remote protocol on 127.0.0.1:port."""

    kind = None

    def __init__(self, command, cwd, environment, ready_pattern, startup_timeout, stdin=None):
        """`stdin`: text the server reads on its standard input (then end of file)."""
        self.cwd = pathlib.Path(cwd)
        self.command = command
        self.process = subprocess.Popen(command, cwd=self.cwd,
                                        stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        bufsize=1, env=environment)
        if stdin is not None:
            self.process.stdin.write(stdin)
            self.process.stdin.close()
        self.output = OutputCollector(self.process.stdout)
        if ready_pattern is not None:
            match = self.output.wait_for(ready_pattern, startup_timeout,
                                         lambda: self.process.poll() is None)
            if match is None:
                self._fail_start(startup_timeout)

    def _fail_start(self, startup_timeout):
        status = self.process.poll()
        self.close()
        state = (f"exited with status {status}" if status is not None
                 else f"was not ready within {startup_timeout} s")
        raise AssertionError(f"{self.kind} server {state} ({' '.join(map(str, self.command))}):\n"
                             f"{tail(self.log())}")

    def log(self):
        return self.output.snapshot()

    def settle(self, quiet=0.3, limit=3.0):
        """Wait until the server's output has been still for `quiet` seconds (at most
        `limit`), so what it printed for the last gdb command is in log()."""
        deadline = time.monotonic() + limit
        last = self.log()
        still_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.log()
            if now != last:
                last, still_since = now, time.monotonic()
            elif time.monotonic() - still_since >= quiet:
                break

    def wait_for_output(self, pattern, timeout):
        return self.output.wait_for(pattern, timeout, lambda: self.process.poll() is None)

    def alive(self):
        return self.process.poll() is None

    def gdb(self, commands, elf=None, timeout=90):
        elf = elf if elf is not None else FIRMWARE_BUILD / "firmware.elf"
        return run_gdb(commands, elf, self.cwd, timeout=timeout, server=self)

    def connect(self, scan="swdp_scan"):
        """The commands that connect gdb and attach to the target."""
        raise NotImplementedError

    def close(self):
        stop_process(self.process)
        self.output.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


class BmpProbe(GdbServer):
    """The unix host probe (build/unix/micropython) running bmp.init(tcp=port) with the
    simulated target; its stdout (the MicroPython console) is collected."""

    kind = "bmp"

    def __init__(self, micropython, cwd, chip="stm32f103c8", repl_fun=False, startup_timeout=30,
                 stdin=None, wire=None, debug=False, computing=False, environment=None,
                 setup=()):
        """`wire`: BMP_WIRE (default the in-process sim of `chip`); `debug`: bmp.debug() on,
        so the probe's output shows the packets; `computing`: after bmp.init() the script
        counts in a busy loop (no sleep, no input) instead of sleeping, printing the count
        every 2**20 turns; `environment`: more variables (e.g. BMP_SIM_FAULTS); `setup`:
        script lines run before bmp.init() (e.g. target.flash_algorithm(...))."""
        self.port = free_port()
        lines = ["import bmp, time", *setup]
        if repl_fun:
            lines.append("bmp.repl_fun(lambda s: str(eval(s)))")
        if debug:
            lines.append("bmp.debug()")
        lines += [f"bmp.init(tcp={self.port})", "print('serving')"]
        if computing:
            lines += ["n = 0", "while True:", "    n += 1",
                      "    if n & 0xFFFFF == 0:", "        print('computed', n)"]
        else:
            lines += ["while True:", "    time.sleep(1)"]
        environment = dict(os.environ, BMP_WIRE=wire or f"sim:{chip}", **(environment or {}))
        super().__init__([str(micropython), "-c", "\n".join(lines) + "\n"], cwd, environment,
                         r"^serving\r?$", startup_timeout, stdin=stdin)

    def connect(self, scan="swdp_scan"):
        return [f"target extended-remote 127.0.0.1:{self.port}", f"monitor {scan}", "attach 1"]


class StreamRelay:
    """Joins gdb's TCP connection to a socket the probe itself opened, so that bmp serves
    GDB on a MicroPython stream object (bmp.init(stream=...)) rather than its own TCP
    server. One probe connection, one gdb connection, bytes copied both ways."""

    def __init__(self):
        self.probe_listener = socket.create_server(("127.0.0.1", 0))
        self.gdb_listener = socket.create_server(("127.0.0.1", 0))
        self.probe_port = self.probe_listener.getsockname()[1]
        self.gdb_port = self.gdb_listener.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.probe_listener.settimeout(60)
        self.gdb_listener.settimeout(60)
        try:
            probe, _ = self.probe_listener.accept()
            gdb, _ = self.gdb_listener.accept()
        except OSError:
            return
        with probe, gdb:
            peers = {probe: gdb, gdb: probe}
            while True:
                readable, _, _ = select.select(list(peers), [], [], 60)
                if not readable:
                    return
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    peers[source].sendall(data)

    def close(self):
        self.probe_listener.close()
        self.gdb_listener.close()


class BmpStreamProbe(GdbServer):
    """The host probe serving GDB on a stream: a socket it connects to the relay, passed
    to bmp.init(stream=...)."""

    kind = "bmp"

    def __init__(self, micropython, cwd, chip="stm32f103c8", startup_timeout=30):
        self.relay = StreamRelay()
        self.port = self.relay.gdb_port
        lines = ["import bmp, socket, time", "stream = socket.socket()",
                 f"stream.connect(socket.getaddrinfo('127.0.0.1', {self.relay.probe_port})[0][-1])",
                 "bmp.init(stream=stream)", "print('serving')",
                 "while True:", "    time.sleep(1)"]
        environment = dict(os.environ, BMP_WIRE=f"sim:{chip}")
        super().__init__([str(micropython), "-c", "\n".join(lines) + "\n"], cwd, environment,
                         r"^serving\r?$", startup_timeout)

    connect = BmpProbe.connect

    def close(self):
        super().close()
        self.relay.close()


class QemuGdbStub(GdbServer):
    """qemu-system-arm's netduino2 (a Cortex-M3, flash at 0x0800_0000) halted at reset with
    its gdbstub on a port and semihosting on: the reference the gdb scripts are checked
    against. Its stdout gets the semihosting console."""

    kind = "qemu"

    def __init__(self, elf, cwd, startup_timeout=20):
        self.port = free_port()
        command = ["qemu-system-arm", "-M", "netduino2", "-nographic", "-semihosting", "-S",
                   "-gdb", f"tcp:127.0.0.1:{self.port}", "-kernel", str(elf)]
        if shutil.which(command[0]) is None:
            raise AssertionError("qemu-system-arm is missing: run tools/prereqs")
        super().__init__(command, cwd, dict(os.environ), None, startup_timeout)
        # qemu prints nothing when it listens: wait until the port is taken.
        deadline = time.monotonic() + startup_timeout
        while not self._listening():
            if not self.alive() or time.monotonic() > deadline:
                self._fail_start(startup_timeout)
            time.sleep(0.1)

    def _listening(self):
        with socket.socket() as trial:
            try:
                trial.bind(("127.0.0.1", self.port))
            except OSError:
                return True
        return False

    def connect(self, scan="swdp_scan"):
        return [f"target remote 127.0.0.1:{self.port}"]
