"""RTT end to end on the host probe with the test firmware running in the simulated blue
pill: gdb-multiarch debugs through bmp's GDB server while RTT text flows from the target
to a TCP client and back (bmp.rtt(tcp=...)), `monitor rtt` output checked; bmp.rtt() with a
callback and its argument errors (tests/sim/bmp_rtt.py); target.rtt_read/rtt_write
(tests/sim/target_rtt.py); bmp.traceswo() showing the
firmware's ITM text from the simulated target's SWO (tests/sim/bmp_traceswo_sim.py). The
engine's own tests (corrupt blocks, resets, channel modes) are in rust/debug."""

import os
import pathlib
import socket
import subprocess
import threading
import time

import pytest

from helpers.gdb import GdbServer, build_firmware, firmware_symbols, interrupt_after, run_gdb
from helpers.openocd import free_port

SIM_SCRIPTS = pathlib.Path(__file__).parent / "sim"

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def firmware():
    return build_firmware()


class RttProbe(GdbServer):
    """The host probe with the firmware preloaded and running: RTT on a TCP port, the GDB
    server on another."""

    kind = "bmp"

    def __init__(self, micropython, cwd, firmware):
        self.port = free_port()
        self.rtt_port = free_port()
        lines = ["import bmp, time", f"bmp.rtt(tcp={self.rtt_port})", f"bmp.init(tcp={self.port})",
                 "print('serving')", "while True:", "    time.sleep(1)"]
        environment = dict(os.environ, BMP_WIRE="sim:stm32f103c8",
                           BMP_SIM_FIRMWARE=str(firmware / "firmware.elf"))
        super().__init__([str(micropython), "-c", "\n".join(lines) + "\n"], cwd, environment,
                         r"^serving\r?$", 30)

    def close(self):
        self.process.kill()
        self.process.wait(timeout=10)


class RttClient:
    """A TCP client of the RTT port, reading in a thread."""

    def __init__(self, port):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.received = bytearray()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        self.socket.settimeout(1)
        while True:
            try:
                data = self.socket.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.received.extend(data)

    def text(self):
        with self.lock:
            return self.received.decode(errors="replace")

    def wait_for(self, needle, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if needle in self.text():
                return True
            time.sleep(0.05)
        return False

    def close(self):
        self.socket.close()


def test_rtt_flows_both_ways_over_tcp_while_gdb_debugs(unix_micropython, tmp_path, firmware):
    symbols = firmware_symbols(firmware)
    probe = RttProbe(unix_micropython, tmp_path, firmware)
    client = None
    try:
        result = {}

        def talk():
            # Once gdb has attached and let the target run: text up, a line down and back.
            nonlocal client
            client = RttClient(probe.rtt_port)
            result["up"] = client.wait_for("rtt: counter ", 40)
            client.socket.sendall(b"hello through the down channel\n")
            result["echo"] = client.wait_for("echo: hello through the down channel\n", 20)

        talker = threading.Thread(target=talk, daemon=True)
        talker.start()
        commands = [f"target extended-remote 127.0.0.1:{probe.port}", "monitor swdp_scan",
                    "attach 1", "monitor rtt status", interrupt_after(8), "continue",
                    "monitor rtt status", "monitor rtt cblock", "monitor rtt channel",
                    "monitor rtt poll", "monitor rtt ident xyz", "monitor rtt nonsense",
                    "monitor rtt ident", "print counter", "detach"]
        transcript = run_gdb(commands, firmware / "firmware.elf", tmp_path, timeout=120,
                             server=probe)
        talker.join(timeout=60)
        assert result.get("up"), f"no RTT text on TCP: {client.text() if client else None!r}"
        assert result.get("echo"), f"no echo: {client.text()!r}"
        # gdb worked all along: the target ran and stopped.
        assert "Program received signal SIGINT" in transcript.output("continue") or \
            "SIGINT" in transcript.output("continue"), transcript
        block = symbols["rtt_control_block"]
        status = transcript.output("monitor rtt status", 1)
        assert f"rtt: on found: yes, at 0x{block:08X} ident: \"SEGGER RTT\"" in status, transcript
        assert "channels: up 0, down 0" in status, transcript
        assert "max poll ms: 256 min poll ms: 8 max errs: 10" in status, transcript
        cblock = transcript.output("monitor rtt cblock")
        assert f"cbaddr: 0x{block:08X} up: 2 down: 1" in cblock, transcript
        up_buffer = symbols["up_terminal"]
        assert f" 0  y  out 0x{up_buffer:08X}  2048" in cblock, transcript
        assert " 2  y  in  0x" in cblock, transcript
        assert "channels: up 0, down 0" in transcript.output("monitor rtt channel"), transcript
        assert "RTT ident: xyz" in transcript.output("monitor rtt ident xyz"), transcript
        assert "unknown or ambiguous subcommand" in transcript.output("monitor rtt nonsense"), \
            transcript
        assert "RTT ident: SEGGER RTT" in transcript.output("monitor rtt ident"), transcript
        # The lines arrived whole and in order.
        counters = [int(line.split()[-1]) for line in client.text().splitlines()
                    if line.startswith("rtt: counter ")]
        assert counters == sorted(counters) and len(counters) >= 2, client.text()
    finally:
        if client is not None:
            client.close()
        probe.close()


def test_bmp_rtt_callback_and_argument_errors(unix_micropython, firmware):
    environment = dict(os.environ, BMP_WIRE="sim",
                       BMP_SIM_FIRMWARE=str(firmware / "firmware.elf"))
    result = subprocess.run([str(unix_micropython), str(SIM_SCRIPTS / "bmp_rtt.py")],
                            capture_output=True, text=True, timeout=120, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines and all(line.endswith(" ok") for line in lines), result.stdout
    assert len(lines) == 15, result.stdout


def test_target_rtt_read_and_write_while_the_target_runs(unix_micropython, firmware):
    """target.rtt_read/rtt_write (tests/sim/target_rtt.py): up text, a line echoed back,
    a full down buffer, channel and argument errors."""
    environment = dict(os.environ, BMP_WIRE="sim",
                       BMP_SIM_FIRMWARE=str(firmware / "firmware.elf"))
    result = subprocess.run([str(unix_micropython), str(SIM_SCRIPTS / "target_rtt.py")],
                            capture_output=True, text=True, timeout=120, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines and all(line.endswith(" ok") for line in lines), result.stdout
    assert len(lines) == 16, result.stdout


@pytest.mark.parametrize("mode", ["plain", "formatted"])
def test_traceswo_shows_the_firmwares_itm_text_from_the_simulated_swo(unix_micropython, firmware,
                                                                     mode):
    """bmp.traceswo(chan=[0]) without uart= on the host probe: the simulated target's SWO,
    plain or in TPIU formatter frames with ITM timestamps and synchronization packets."""
    environment = dict(os.environ, BMP_WIRE="sim",
                       BMP_SIM_FIRMWARE=str(firmware / "firmware.elf"))
    result = subprocess.run([str(unix_micropython), str(SIM_SCRIPTS / "bmp_traceswo_sim.py"),
                             mode], capture_output=True, text=True, timeout=120, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines == ["traceswo on ok", "itm text from the simulated swo ok",
                     "only whole counter lines ok", "traceswo off ok"], result.stdout


def test_monitor_traceswo_shows_the_itm_text_on_the_probes_console(unix_micropython, tmp_path,
                                                                   firmware):
    """gdb sets SWO up as OpenOCD's tpiu/itm would (register writes), `monitor traceswo decode
    0` starts decoding the simulated target's SWO, and the firmware's ITM lines appear on the
    probe's console while the target runs."""
    probe = RttProbe(unix_micropython, tmp_path, firmware)
    try:
        setup = ["set mem inaccessible-by-default off",
                 "set {unsigned int}0xE000EDFC = *(unsigned int *)0xE000EDFC | 0x1000000",
                 "set {unsigned int}0xE00400F0 = 2", "set {unsigned int}0xE0040010 = 35",
                 "set {unsigned int}0xE0040304 = 0x100", "set {unsigned int}0xE0000FB0 = 0xC5ACCE55",
                 "set {unsigned int}0xE0000E80 = 0x10001", "set {unsigned int}0xE0000E00 = 1"]
        commands = ([f"target extended-remote 127.0.0.1:{probe.port}", "monitor swdp_scan",
                     "attach 1"] + setup +
                    ["monitor traceswo decode 0", "monitor traceswo decode 40",
                     "monitor traceswo bogus", interrupt_after(5), "continue",
                     "monitor traceswo disable", "detach"])
        transcript = run_gdb(commands, firmware / "firmware.elf", tmp_path, timeout=120,
                             server=probe)
        assert "Trace enabled, decoding channels 0" in \
            transcript.output("monitor traceswo decode 0"), transcript
        assert "stimulus ports 0..31" in transcript.output("monitor traceswo decode 40"), transcript
        assert "[decode [CHANNEL_NR ...]] or disable" in \
            transcript.output("monitor traceswo bogus"), transcript
        assert "Trace disabled" in transcript.output("monitor traceswo disable"), transcript
        assert probe.wait_for_output(r"itm: counter ", 30), probe.log()[-2000:]
    finally:
        probe.close()
