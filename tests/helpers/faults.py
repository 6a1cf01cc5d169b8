"""Fault campaigns on the simulated wire (issue 15 item 3): the host probe's in-process
simulated blue pill injects one kind of fault at a given rate per SWD transaction
(BMP_SIM_FAULTS, with bmp-sim's option names: WAIT, FAULT, no answer, read parity, power
loss). A client loads the test firmware and checks it, again and again, through one probe:

- gdb through `bmp`: `load`, then `compare-sections`;
- OpenOCD through `dap` (cmsis-dap backend tcp): `flash write_image erase`, `verify_image`.

Each load ends in one of these outcomes:

- `matched`: the load reported success and the check found flash equal to the image;
- `error`: the load, or the scan or attach before it, failed with an error the client shows
  (what the issue asks for when a fault cannot be recovered);
- `unchecked`: the load reported success but the check itself failed with an error (a
  fault while reading back), so nothing is known: counted apart, never as success;
- `corrupt`: the load reported success and the check found a difference: silent
  corruption, which must never happen;
- `no-service`: the client could not reach the probe at all, or hung: the probe no longer
  serves, which must never happen either.

tools/faults runs the full campaign (100 loads per kind and client); tests/test_faults.py a
reduced one."""

import collections
import os
import re
import socket
import subprocess
import time

from helpers.gdb import BmpProbe, run_gdb
from helpers.openocd import (OutputCollector, cmsis_dap_arguments, find_openocd, free_port,
                             stop_process, tail)

# bmp-sim's fault options, one kind per campaign.
KINDS = ["wait", "fault", "no-answer", "read-parity", "power-off"]
OUTCOMES = ["matched", "error", "unchecked", "corrupt", "no-service"]
BAD_OUTCOMES = {"corrupt", "no-service"}

GDB_TIMEOUT = 300
OPENOCD_TIMEOUT = 300


def section(run, prefix):
    """The output of the first command of a gdb run that starts with `prefix`; None if gdb
    never ran it."""
    for command, output in run.sections:
        if command.startswith(prefix):
            return output
    return None


def classify_gdb(run):
    """The outcome of one gdb session (connect, scan, attach, load, compare-sections)."""
    if run is None:
        return "no-service", "gdb did not finish"
    connect = section(run, "target extended-remote")
    if connect is None or re.search(r"Connection refused|Connection timed out|"
                                    r"Remote communication error", connect):
        return "no-service", (connect or run.text)[-400:]
    load = section(run, "load")
    if load is None:
        return "error", "gdb stopped before load: " + run.text[-300:]
    loaded = "Transfer rate" in load and not re.search(r"error|fail|Ignoring", load, re.I)
    if not loaded:
        before = "\n".join(output for command, output in run.sections[1:3])
        return "error", (load.strip() or before.strip())[-300:]
    compare = section(run, "compare-sections") or ""
    if "MIS-MATCHED" in compare:
        return "corrupt", compare.strip()[-400:]
    if "matched." in compare and not re.search(r"error|fail|cannot", compare, re.I):
        return "matched", ""
    return "unchecked", compare.strip()[-300:]


def classify_openocd(log, status):
    """The outcome of one OpenOCD session (init, write_image, verify_image)."""
    if status is None:
        return "no-service", "OpenOCD did not finish: " + log[-300:]
    if re.search(r"Error connecting DP|cmsis-dap.*(could not|failed to) (open|connect)|"
                 r"Connection refused|can't connect", log, re.I) and "wrote" not in log:
        # Told apart below: a DAP probe that answers but a target that does not is an error.
        if "CMSIS-DAP: Interface" not in log and "CMSIS-DAP" not in log:
            return "no-service", log[-400:]
    if re.search(r"wrote \d+ bytes from file", log) is None:
        return "error", _errors(log)
    if re.search(r"verified \d+ bytes", log):
        return "matched", ""
    if re.search(r"checksum mismatch - attempting binary compare", log) and \
            re.search(r"diff \d+ address 0x", log):
        return "corrupt", _errors(log)
    return "unchecked", _errors(log)


def _errors(log):
    lines = [line for line in log.splitlines() if line.startswith(("Error", "Warn"))]
    return "\n".join(lines[-4:]) or log[-300:]


class Campaign:
    """bmp-sim with one kind of fault, the host probe on it, and a client loading again and
    again. Counts outcomes; keeps the first few details of each."""

    def __init__(self, micropython, firmware, cwd, kind, rate, seed=1, log=print):
        self.micropython = micropython
        self.firmware = firmware
        self.cwd = cwd
        self.kind = kind
        self.rate = rate
        self.seed = seed
        self.log = log
        self.counts = collections.Counter()
        self.details = collections.defaultdict(list)
        self.seconds = 0.0

    def environment(self):
        return {"BMP_SIM_FAULTS": f"{self.kind}={self.rate},seed={self.seed}"}

    def record(self, client, index, outcome, detail):
        self.counts[outcome] += 1
        if detail and len(self.details[outcome]) < 5:
            self.details[outcome].append(f"{client} load {index}: {detail}")
        self.log(f"faults: {client} {self.kind} {self.rate} load {index}: {outcome}"
                 + (f" ({detail.splitlines()[-1][:160]})" if detail else ""))

    def gdb_loads(self, loads):
        """`loads` gdb sessions through bmp: connect, load, compare-sections."""
        started = time.monotonic()
        with BmpProbe(self.micropython, self.cwd, environment=self.environment()) as probe:
            for index in range(loads):
                commands = probe.connect() + ["load", "compare-sections"]
                try:
                    run = run_gdb(commands, self.firmware / "firmware.elf", self.cwd,
                                  timeout=GDB_TIMEOUT, server=probe)
                except AssertionError as error:
                    run, detail = None, str(error)[-300:]
                outcome, detail = classify_gdb(run)
                if not probe.alive():
                    outcome, detail = "no-service", "the probe exited:\n" + tail(probe.log(), 20)
                self.record("gdb", index, outcome, detail)
                if outcome == "no-service":
                    break
        self.seconds += time.monotonic() - started

    def openocd_loads(self, loads):
        """`loads` OpenOCD sessions through dap: init, flash write_image, verify_image."""
        binary, scripts = find_openocd()
        started = time.monotonic()
        port = free_port()
        server = DapProbe(self.micropython, port, self.environment(), self.cwd)
        try:
            for index in range(loads):
                log, status = run_openocd(binary, scripts, port, [
                    f"flash write_image erase {self.firmware / 'firmware.elf'}",
                    f"verify_image {self.firmware / 'firmware.elf'}"], self.cwd)
                outcome, detail = classify_openocd(log, status)
                if not server.alive():
                    outcome, detail = "no-service", "the probe exited:\n" + tail(server.log(), 20)
                self.record("openocd", index, outcome, detail)
                if outcome == "no-service":
                    break
        finally:
            server.close()
        self.seconds += time.monotonic() - started

    def bad(self):
        return {outcome: self.counts[outcome] for outcome in BAD_OUTCOMES if self.counts[outcome]}

    def summary(self):
        counts = ", ".join(f"{outcome} {self.counts[outcome]}" for outcome in OUTCOMES
                           if self.counts[outcome])
        return f"{self.kind} at {self.rate}: {counts} ({self.seconds:.0f} s)"


class DapProbe:
    """The host probe serving CMSIS-DAP on a TCP port, on the given wire."""

    def __init__(self, micropython, port, environment, cwd, startup_timeout=30):
        script = (f"import dap, time\ndap.init(tcp={port})\nprint('serving')\n"
                  "while True:\n    time.sleep(1)\n")
        environment = dict(os.environ, BMP_WIRE="sim:stm32f103c8", **environment)
        self.process = subprocess.Popen([str(micropython), "-c", script], cwd=cwd,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, bufsize=1,
                                        env=environment)
        self.output = OutputCollector(self.process.stdout)
        if self.output.wait_for(r"^serving", startup_timeout, self.alive) is None:
            self.close()
            raise AssertionError(f"the dap probe did not start:\n{tail(self.log())}")

    def alive(self):
        return self.process.poll() is None

    def log(self):
        return self.output.snapshot()

    def close(self):
        stop_process(self.process)


def run_openocd(binary, scripts, port, commands, cwd, timeout=OPENOCD_TIMEOUT):
    """OpenOCD on the dap probe at `port`: init, `commands`, shutdown. (log, exit status or
    None when it did not finish)."""
    arguments = cmsis_dap_arguments(port, ["reset halt", *commands], openocd=(binary, scripts))
    try:
        result = subprocess.run(arguments, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                timeout=timeout)
    except subprocess.TimeoutExpired as error:
        output = error.output or ""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        return output, None
    return result.stdout, result.returncode


def port_refuses(port):
    """True if nothing accepts on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except OSError:
        return True
