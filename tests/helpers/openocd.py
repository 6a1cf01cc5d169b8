"""Run the simulated blue pill (bmp-sim, a remote_bitbang server) and OpenOCD against it.

Every wait is bounded and every process is killed on the way out; a failure carries the
tail of OpenOCD's log and of the simulator's output."""

import os
import pathlib
import re
import shutil
import socket
import subprocess
import threading
import time

TOP = pathlib.Path(__file__).resolve().parent.parent.parent
FIRMWARE_SOURCE = TOP / "tests" / "firmware"
FIRMWARE_BUILD = TOP / "build" / "firmware"
VENV = TOP / "build" / "venv"

LOG_TAIL_LINES = 150


def tail(text, lines=LOG_TAIL_LINES):
    kept = text.splitlines()[-lines:]
    return "\n".join(kept)


def run_build(command, cwd, timeout, what):
    """Run a build command; fail with its output when it fails or takes too long."""
    try:
        result = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                timeout=timeout, text=True)
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"{what}: no result within {timeout} s:\n{tail(error.output or '')}")
    if result.returncode != 0:
        raise AssertionError(f"{what} failed ({' '.join(map(str, command))}):\n{tail(result.stdout)}")
    return result.stdout


def build_firmware(build=FIRMWARE_BUILD):
    """make -C tests/firmware BUILD=...; returns the build directory."""
    if shutil.which("arm-none-eabi-gcc") is None:
        raise AssertionError("arm-none-eabi-gcc is missing: run tools/prereqs "
                             "(Debian packages gcc-arm-none-eabi, libnewlib-arm-none-eabi)")
    run_build(["make", "-C", str(FIRMWARE_SOURCE), f"BUILD={build}"], TOP, 300, "firmware build")
    return pathlib.Path(build)


def find_cargo():
    cargo = shutil.which("cargo")
    if cargo is None:
        candidate = pathlib.Path.home() / ".cargo" / "bin" / "cargo"
        if candidate.exists():
            cargo = str(candidate)
    if cargo is None:
        raise AssertionError("cargo is missing: run tools/prereqs")
    return cargo


def build_sim(release=False):
    """cargo build -p sim --bin bmp-sim (--release: an emulated core many times faster);
    returns the binary's path."""
    command = [find_cargo(), "build", "-p", "sim", "--bin", "bmp-sim"]
    if release:
        command.append("--release")
    run_build(command, TOP, 900, "bmp-sim build")
    binary = TOP / "target" / ("release" if release else "debug") / "bmp-sim"
    if not binary.exists():
        raise AssertionError(f"cargo built bmp-sim but {binary} is missing")
    return binary


def find_openocd(venv=VENV):
    """OpenOCD from the PyPI package openocd-esp32 in the project venv: (binary, scripts)."""
    for package in sorted(venv.glob("lib/python3*/site-packages/openocd_esp32")):
        binary = package / "bin" / "openocd"
        scripts = package / "share" / "openocd" / "scripts"
        if binary.exists() and (scripts / "target" / "stm32f1x.cfg").exists():
            return binary, scripts
    raise AssertionError(f"OpenOCD (openocd-esp32) is not installed in {venv}: run tools/prereqs")


def read_symbols(nm_listing):
    """Symbol name -> address from an `nm -n` listing."""
    symbols = {}
    for line in pathlib.Path(nm_listing).read_text().splitlines():
        fields = line.split()
        if len(fields) == 3:
            symbols[fields[2]] = int(fields[0], 16)
    return symbols


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OutputCollector:
    """Drains a pipe in a thread, so a chatty child never blocks; keeps all of it."""

    def __init__(self, pipe):
        self.text = ""
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.thread = threading.Thread(target=self._drain, args=(pipe,), daemon=True)
        self.thread.start()

    def _drain(self, pipe):
        for line in iter(pipe.readline, ""):
            with self.changed:
                self.text += line
                self.changed.notify_all()
        pipe.close()
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, pattern, timeout, alive):
        """Wait until `pattern` matches the output; None on timeout or when alive() is False."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                match = re.search(pattern, self.text, re.MULTILINE)
                if match:
                    return match
                left = deadline - time.monotonic()
                if left <= 0 or not alive():
                    return None
                self.changed.wait(min(left, 0.2))

    def snapshot(self):
        with self.lock:
            return self.text


def stop_process(process, timeout=5):
    """Terminate, then kill; never leaves the process behind."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


class SimServer:
    """bmp-sim listening on a loopback port the system picks (--listen 127.0.0.1:0)."""

    LISTENING = r"^bmp-sim: (\S+) listening on (\S+):(\d+)\s*$"

    def __init__(self, binary, chip, firmware=None, extra=(), startup_timeout=30, command=None,
                 cwd=None):
        if command is None:
            command = [str(binary), "--chip", chip, "--listen", "127.0.0.1:0"]
            if firmware is not None:
                command += ["--firmware", str(firmware)]
            command += list(extra)
        self.command = command
        self.process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, bufsize=1)
        self.output = OutputCollector(self.process.stdout)
        match = self.output.wait_for(self.LISTENING, startup_timeout,
                                     lambda: self.process.poll() is None)
        if match is None:
            status = self.process.poll()
            self.close()
            state = f"exited with status {status}" if status is not None else \
                f"printed no listening line within {startup_timeout} s"
            raise AssertionError(f"bmp-sim {state} ({' '.join(command)}):\n"
                                 f"{tail(self.output.snapshot())}")
        self.chip = match.group(1)
        self.host = match.group(2)
        self.port = int(match.group(3))

    @classmethod
    def from_command(cls, command, cwd=None, startup_timeout=120):
        """bmp-sim started by a command of one's own (e.g. `cargo run ... --`), which must
        make it listen where its listening line says."""
        return cls(None, None, command=[str(word) for word in command], cwd=cwd,
                   startup_timeout=startup_timeout)

    def log(self):
        return self.output.snapshot()

    def close(self):
        stop_process(self.process)
        self.output.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


class OpenOcdError(AssertionError):
    pass


class OpenOcd:
    """OpenOCD on a remote_bitbang server, driven through its Tcl RPC port.

    `config` is a list of configuration commands run with -c before `init`, which OpenOCD runs
    itself once the configuration is read. Each command() call is one Tcl RPC round trip
    (the command, then byte 0x1A; the answer, then 0x1A), wrapped in `catch` so a failure is
    told apart from output."""

    def __init__(self, binary, scripts, config, cwd, debug_level=None, startup_timeout=60):
        if debug_level is None:
            debug_level = int(os.environ.get("BMP_OPENOCD_DEBUG", "2"))
        self.tcl_port = free_port()
        arguments = [str(binary), "-s", str(scripts), f"-d{debug_level}",
                     "-c", f"tcl port {self.tcl_port}", "-c", "telnet port disabled",
                     "-c", "gdb port disabled"]
        for line in config:
            arguments += ["-c", line]
        self.arguments = arguments
        self.log_path = pathlib.Path(cwd) / "openocd.log"
        self.stdout_path = pathlib.Path(cwd) / "openocd.stdout"
        self.log_file = open(self.log_path, "w")
        self.stdout_file = open(self.stdout_path, "w")
        # OpenOCD logs to stderr; semihosting console output goes to its stdout.
        self.process = subprocess.Popen(arguments, cwd=cwd, stdin=subprocess.DEVNULL,
                                        stdout=self.stdout_file, stderr=self.log_file)
        self.socket = None
        self.transcript = []
        deadline = time.monotonic() + startup_timeout
        while self.socket is None:
            if self.process.poll() is not None:
                self.fail(f"OpenOCD exited with status {self.process.returncode} before its "
                          f"Tcl port opened")
            try:
                self.socket = socket.create_connection(("127.0.0.1", self.tcl_port), timeout=1)
            except OSError:
                if time.monotonic() > deadline:
                    self.fail(f"OpenOCD's Tcl port {self.tcl_port} did not open within "
                              f"{startup_timeout} s")
                time.sleep(0.1)
        # The Tcl server answers only from OpenOCD's main loop, after `init`: a first round
        # trip makes sure the start-up (scan, examine) is over and logged.
        self.command("version", timeout=startup_timeout)

    def log(self):
        self.log_file.flush()
        return self.log_path.read_text(errors="replace")

    def stdout(self):
        self.stdout_file.flush()
        return self.stdout_path.read_text(errors="replace")

    def fail(self, message):
        transcript = "\n".join(self.transcript[-30:])
        raise OpenOcdError(f"{message}\n--- commands and answers (last 30) ---\n{transcript}\n"
                           f"--- OpenOCD log (last {LOG_TAIL_LINES} lines; {self.log_path}) ---\n"
                           f"{tail(self.log())}\n--- OpenOCD stdout ---\n{tail(self.stdout(), 40)}")

    def _round_trip(self, text, timeout):
        self.socket.settimeout(timeout)
        self.socket.sendall(text.encode() + b"\x1a")
        answer = b""
        deadline = time.monotonic() + timeout
        while not answer.endswith(b"\x1a"):
            if time.monotonic() > deadline:
                raise TimeoutError
            chunk = self.socket.recv(4096)
            if not chunk:
                raise ConnectionError("OpenOCD closed its Tcl connection")
            answer += chunk
        return answer[:-1].decode(errors="replace")

    def try_command(self, command, timeout=30):
        """Run one command: (ok, output). Fails the test only on a timeout or a lost link."""
        wrapped = f"set _bmp_code [catch {{{command}}} _bmp_result]"
        try:
            code = self._round_trip(wrapped, timeout).strip()
            output = self._round_trip("set _bmp_result", 10)
        except TimeoutError:
            self.transcript.append(f"> {command}\n  (no answer within {timeout} s)")
            self.fail(f"OpenOCD gave no answer to {command!r} within {timeout} s")
        except (ConnectionError, OSError) as error:
            self.transcript.append(f"> {command}\n  ({error})")
            time.sleep(0.5)
            self.fail(f"lost OpenOCD during {command!r}: {error}; OpenOCD status "
                      f"{self.process.poll()}")
        ok = code == "0"
        self.transcript.append(f"> {command}\n  [{'ok' if ok else 'error ' + code}] {output}")
        return ok, output

    def command(self, command, timeout=30):
        """Run one command that must succeed; returns its output."""
        ok, output = self.try_command(command, timeout)
        if not ok:
            self.fail(f"OpenOCD command {command!r} failed: {output}")
        return output

    def read_word(self, address):
        """One 32-bit word with mdw."""
        output = self.command(f"mdw 0x{address:08x}")
        match = re.search(r"0x([0-9a-fA-F]{8}):\s+([0-9a-fA-F]{8})", output)
        if match is None or int(match.group(1), 16) != address:
            self.fail(f"unexpected mdw answer for 0x{address:08x}: {output!r}")
        return int(match.group(2), 16)

    def read_bytes(self, address, count):
        """Bytes with mdb (at most a few dozen)."""
        output = self.command(f"mdb 0x{address:08x} {count}")
        values = []
        for line in output.splitlines():
            _, _, data = line.partition(":")
            values += [int(byte, 16) for byte in data.split()]
        if len(values) < count:
            self.fail(f"mdb 0x{address:08x} {count} gave {len(values)} bytes: {output!r}")
        return bytes(values[:count])

    def pc(self):
        """The PC of the halted core, with `reg pc`."""
        output = self.command("reg pc")
        match = re.search(r"pc \(/32\): (0x[0-9a-fA-F]+)", output)
        if match is None:
            self.fail(f"unexpected `reg pc` answer: {output!r}")
        return int(match.group(1), 16)

    def wait_for_word(self, address, done, what, timeout=30):
        """Read the word at `address` (mdw, the core may be running) until done(value);
        returns that value. Fails, saying `what` was awaited, after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.read_word(address)
            if done(value):
                return value
            if time.monotonic() > deadline:
                self.fail(f"{what}: still 0x{value:08x} at 0x{address:08x} after {timeout} s")

    def state(self):
        """The target's state: halted, running, reset, ..."""
        return self.command("[target current] curstate").strip()

    def wait_exit(self, timeout):
        """Wait for OpenOCD to exit on its own; its status, or None on a timeout."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self):
        if self.socket is not None:
            try:
                if self.process.poll() is None:
                    self.socket.settimeout(2)
                    self.socket.sendall(b"shutdown\x1a")
                    self.process.wait(timeout=3)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self.socket.close()
        stop_process(self.process)
        self.log_file.close()
        self.stdout_file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


def remote_bitbang_config(port, transport, speed_khz=1000, extra=(),
                          target="target/stm32f1x.cfg", before=()):
    """OpenOCD configuration for a simulated chip (the STM32F1 unless `target` says
    otherwise) on a remote_bitbang server; `before` goes ahead of the target's file (set
    DUAL_BANK 1), `extra` after it."""
    return [
        "adapter driver remote_bitbang",
        "remote_bitbang host 127.0.0.1",
        f"remote_bitbang port {port}",
        f"transport select {transport}",
        *before,
        f"source [find {target}]",
        f"adapter speed {speed_khz}",
        *extra,
    ]


class SimPairs:
    """bmp-sim serving a chip over remote_bitbang and OpenOCD on its port, started in pairs
    (the `start` fixtures of the test_sim_openocd* files); close() stops them all."""

    def __init__(self, bmp_sim, cwd):
        self.bmp_sim, self.cwd = bmp_sim, cwd
        self.running = []

    def start(self, chip, firmware_file=None, sim_extra=("--real-time",), transport="swd",
              **config):
        """(sim, openocd); `config` goes to remote_bitbang_config."""
        sim = SimServer(self.bmp_sim, chip, firmware_file, extra=list(sim_extra))
        self.running.append(sim)
        binary, scripts = find_openocd()
        openocd = OpenOcd(binary, scripts, remote_bitbang_config(sim.port, transport, **config),
                          cwd=self.cwd)
        self.running.append(openocd)
        return sim, openocd

    def close(self):
        for process in reversed(self.running):
            process.close()


def log_has(openocd, pattern, what):
    """Fail unless OpenOCD's log matches `pattern` (case-insensitive, per line)."""
    if re.search(pattern, openocd.log(), re.IGNORECASE | re.MULTILINE) is None:
        openocd.fail(f"OpenOCD's log does not show {what} (pattern {pattern!r})")


def cmsis_dap_arguments(port, commands, transport="swd", target="target/stm32f1x.cfg",
                        openocd=None):
    """OpenOCD's command line (`openocd`: binary and scripts, find_openocd's by default) for
    the probe's `dap` server at `port` (cmsis-dap backend tcp): init, `commands`, shutdown.
    No servers of its own: tests running at once would fight over 3333."""
    binary, scripts = openocd or find_openocd()
    arguments = [str(binary), "-s", str(scripts),
                 "-c", "adapter driver cmsis-dap", "-c", "cmsis-dap backend tcp",
                 "-c", "cmsis-dap tcp host 127.0.0.1", "-c", f"cmsis-dap tcp port {port}",
                 "-c", f"transport select {transport}", "-c", "adapter speed 4000",
                 "-c", "gdb_port disabled", "-c", "tcl_port disabled",
                 "-c", "telnet_port disabled", "-f", target, "-c", "init"]
    for command in commands:
        arguments += ["-c", command]
    return arguments + ["-c", "shutdown"]


def run_cmsis_dap_openocd(port, commands, transport="swd", timeout=60):
    """OpenOCD (cmsis_dap_arguments) run to its end: what it printed, stdout then stderr."""
    result = subprocess.run(cmsis_dap_arguments(port, commands, transport), capture_output=True,
                            text=True, timeout=timeout)
    return result.stdout + result.stderr


def write_and_verify(openocd, elf, timeout):
    """verify_image fails on blank flash; `flash write_image erase` then verify_image pass
    (OpenOCD's own flash driver for the chip)."""
    ok, output = openocd.try_command(f"verify_image {{{elf}}}", timeout=timeout)
    if ok:
        openocd.fail(f"verify_image passed on blank flash: {output}")
    output = openocd.command(f"flash write_image erase {{{elf}}}", timeout=timeout)
    if re.search(r"wrote \d+ bytes from file", output) is None:
        openocd.fail(f"unexpected answer to flash write_image: {output!r}")
    output = openocd.command(f"verify_image {{{elf}}}", timeout=timeout)
    if re.search(r"verified \d+ bytes", output) is None:
        openocd.fail(f"unexpected answer to verify_image: {output!r}")


def break_and_step(openocd, symbols, wait_halt_ms):
    """After flashing the test firmware: `reset halt` stops at reset_handler; a hardware
    breakpoint on blink_step is hit twice with the counter between the hits, and a `step`
    moves one instruction on."""
    openocd.command("reset halt")
    pc = openocd.pc()
    if pc != symbols["reset_handler"]:
        openocd.fail(f"after flashing and `reset halt` the PC is 0x{pc:08x}, not "
                     f"reset_handler 0x{symbols['reset_handler']:08x}")
    blink_step = symbols["blink_step"]
    openocd.command(f"bp 0x{blink_step:08x} 2 hw")
    for hit in range(2):
        openocd.command("resume")
        openocd.command(f"wait_halt {wait_halt_ms}", timeout=wait_halt_ms / 1000 + 20)
        if openocd.pc() != blink_step:
            openocd.fail(f"halted at 0x{openocd.pc():08x}, not at blink_step (hit {hit})")
        counter = openocd.read_word(symbols["counter"])
        if counter != hit:
            openocd.fail(f"counter is {counter} at blink_step hit {hit}")
        if hit == 0:
            openocd.command("step")
            pc = openocd.pc()
            if not blink_step < pc <= blink_step + 4:
                openocd.fail(f"after `step` the PC is 0x{pc:08x}, not one instruction on")
