"""Benchmark the dap path: OpenOCD (cmsis-dap backend tcp) against the host probe with the
simulated STM32F103C8 at SWCLK 4 MHz. Run by tools/bench; alone:

    build/venv/bin/python tools/bench_dap.py [--runs N] [--ram-only | --flash-only]

The probe prints, when each OpenOCD session ends (BMP_SIM_STATISTICS=1), the simulated
wire's counters, the DAP server's (packet size and count, requests, the most waiting at
once) and the flash controller's activity. What each figure includes:

- SRAM: SWCLK cycles of a session that dumps (or loads) 16 KiB minus those of a session
  that only connects and halts, against the wire's limit of 46 SWCLK per 32-bit word
  (ADIv5.2 B4.2: 8 request, 1 turnaround, 3 ACK, 32 data, 1 parity, 1 turnaround). Cycles
  leave out the time requests spend on TCP and in OpenOCD and the probe's CPU: on a real
  probe that is the USB round trips that packets in flight hide.
- Flash (`flash write_image erase`): the flash controller's own time (the sum of its
  operations' datasheet durations, DS5319: 20 ms a page or mass erase, 52.5 us a
  half-word) against the virtual time from the start of its first operation to the end
  of its last. The host simulator's virtual time follows the wall clock while the probe is
  idle (OpenOCD times its flash polling on the wall clock), so the span includes OpenOCD's
  own waiting and the host's latency: the pauses between operations are where the flash
  waited for OpenOCD or the probe. Connecting, the loader's download before the first
  half-word... are before the first operation or between operations as they fall.
"""

import argparse
import importlib.util
import os
import pathlib
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = pathlib.Path(__file__).resolve().parent.parent
FIRMWARE = TOP / "build/firmware"
WORDS = 4096  # 16 KiB of SRAM
WIRE_CYCLES_PER_WORD = 46
PAGE_ERASE_NS = 20_000_000
HALF_WORD_NS = 52_500


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def openocd_binary():
    import glob
    root = pathlib.Path(glob.glob(str(TOP / "build/venv/lib/python3*/site-packages/openocd_esp32"))[0])
    return root / "bin/openocd", root / "share/openocd/scripts"


def bench_gdb():
    """tools/bench_gdb.py, for its 64 KiB test image."""
    spec = importlib.util.spec_from_file_location("bench_gdb", TOP / "tools/bench_gdb.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Probe:
    """The host probe serving dap.init(tcp=port, packet_size=size) with a simulated chip."""

    def __init__(self, packet_size, chip="stm32f103c8", config="target/stm32f1x.cfg"):
        self.config = config
        self.port = free_port()
        script = (f"import dap, time\ndap.init(tcp={self.port}, packet_size={packet_size})\n"
                  "print('serving')\nwhile True:\n    time.sleep(1)\n")
        environment = dict(os.environ, BMP_WIRE=f"sim:{chip}", BMP_SIM_STATISTICS="1")
        self.process = subprocess.Popen([str(TOP / "build/unix/micropython"), "-c", script],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=environment, text=True)
        assert "serving" in self.process.stdout.readline()

    def counters(self):
        """The three report lines of the session that just ended, as one dict."""
        found = {}
        while not {"bmp statistics", "bmp dap", "bmp flash"} <= found.keys():
            line = self.process.stderr.readline()
            assert line, "the probe exited"
            name, _, fields = line.partition(":")
            if name in ("bmp statistics", "bmp dap", "bmp flash"):
                found[name] = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", fields)}
        merged = {}
        for values in found.values():
            merged.update(values)
        return merged

    def openocd(self, commands):
        binary, scripts = openocd_binary()
        arguments = [str(binary), "-s", str(scripts),
                     "-c", "adapter driver cmsis-dap", "-c", "cmsis-dap backend tcp",
                     "-c", "cmsis-dap tcp host 127.0.0.1", "-c", f"cmsis-dap tcp port {self.port}",
                     "-c", "transport select swd", "-c", "gdb_port disabled",
                     "-c", "tcl_port disabled", "-c", "telnet_port disabled",
                     "-f", self.config, "-c", "adapter speed 4000", "-c", "init"]
        for command in commands:
            arguments += ["-c", command]
        arguments += ["-c", "shutdown"]
        started = time.monotonic()
        result = subprocess.run(arguments, capture_output=True, text=True, timeout=300)
        log = result.stdout + result.stderr
        assert "shutdown command invoked" in log, log
        return log, time.monotonic() - started, self.counters()

    def close(self):
        self.process.kill()
        self.process.wait()


def ram(packet_size, runs):
    probe = Probe(packet_size)
    dump = pathlib.Path(tempfile.mkdtemp()) / "ram.bin"
    source = dump.with_name("source.bin")
    source.write_bytes(os.urandom(4 * WORDS))
    try:
        for _ in range(runs):
            _, _, connect = probe.openocd(["reset halt"])
            for label, command in [("dump_image", f"dump_image {dump} 0x20000000 {4 * WORDS}"),
                                   ("load_image", f"load_image {source} 0x20000000 bin")]:
                _, wall, counters = probe.openocd(["reset halt", command])
                cycles = counters["clock_cycles"] - connect["clock_cycles"]
                limit = WIRE_CYCLES_PER_WORD * WORDS
                print(f"  packet {packet_size:4}: {label} 16 KiB: {cycles} SWCLK cycles without the "
                      f"connection ({connect['clock_cycles']}), {100 * limit / cycles:.1f} % of the "
                      f"wire's limit ({limit}); {counters['requests']} requests, the largest "
                      f"{counters['largest_request']} B in and {counters['largest_response']} B out, "
                      f"up to {counters['most_waiting']} waiting at once; wall {wall:.2f} s")
    finally:
        probe.close()


def datasheet_ns(elf):
    """The flash's own time for an image written into erased flash: a mass erase if it
    covers the whole 64 KiB (OpenOCD's stm32f1x does that), else 20 ms per page touched, and
    52.5 us per half-word that is not 0xFFFF (OpenOCD's loader writes every half-word)."""
    with tempfile.TemporaryDirectory() as work:
        binary = pathlib.Path(work) / "image.bin"
        subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(elf), str(binary)], check=True)
        image = binary.read_bytes()
    pages = (len(image) + 1023) // 1024
    erase = PAGE_ERASE_NS if pages == 64 else pages * PAGE_ERASE_NS
    return erase + (len(image) + 1) // 2 * HALF_WORD_NS, len(image)


def flash(packet_size, runs, chip="stm32f103c8", config="target/stm32f1x.cfg", images=None):
    images = images or [FIRMWARE / "firmware.elf", bench_gdb().full_image("bench64k")]
    probe = Probe(packet_size, chip, config)
    try:
        for elf in images:
            # The F1's figure from the image, as a check of the simulator's own count.
            expected, length = datasheet_ns(elf) if chip.startswith("stm32f1") else (0, 0)
            spans = []
            for _ in range(runs):
                log, wall, counters = probe.openocd(["reset halt", f"flash write_image erase {elf}"])
                assert re.search(r"wrote \d+ bytes from file", log), log
                busy, span = counters["busy_ns"], counters["span_ns"]
                spans.append(span)
                check = f" (datasheet {expected / 1e6:.1f} ms, {length} B)" if expected else ""
                print(f"  packet {packet_size:4}: {chip} write_image {elf.name}: flash busy "
                      f"{busy / 1e6:.1f} ms in {counters['operations']} operations{check}; first to last operation {span / 1e6:.1f} ms: the "
                      f"flash's own time is {100 * busy / span:.1f} % of it; idle between operations "
                      f"{counters['idle_ns'] / 1e6:.1f} ms, longest {counters['longest_idle_ns'] / 1e6:.2f} ms; "
                      f"{counters['clock_cycles']} SWCLK cycles, {counters['wait']} WAIT, "
                      f"{counters['requests']} requests; wall {wall:.2f} s")
            if runs > 1:
                print(f"  packet {packet_size:4}: {elf.name}: span median {statistics.median(spans) / 1e6:.1f} ms")
    finally:
        probe.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--ram-only", action="store_true")
    parser.add_argument("--flash-only", action="store_true")
    parser.add_argument("--families", action="store_true",
                        help="also the simulated STM32F407 through OpenOCD's stm32f4x driver")
    options = parser.parse_args()
    subprocess.run(["make", "-s", "-C", str(TOP / "tests/firmware"), f"BUILD={FIRMWARE}"], check=True)
    for packet_size in (1024, 512):
        if not options.flash_only:
            print(f"SRAM through OpenOCD and dap, SWCLK 4 MHz, packet size {packet_size}:")
            ram(packet_size, options.runs)
        if not options.ram_only:
            print(f"flash write_image through OpenOCD and dap, SWCLK 4 MHz, packet size {packet_size}:")
            flash(packet_size, options.runs)
    if options.families:
        # The simulated F407's flash: sector erase and programming times of its datasheet
        # (rust/sim/src/soc/stm32f4); OpenOCD's own loader.
        print("flash write_image through OpenOCD and dap, SWCLK 4 MHz, packet size 1024:")
        flash(1024, options.runs, "stm32f407vg", "target/stm32f4x.cfg",
              [FIRMWARE / "firmware-f4.elf"])


if __name__ == "__main__":
    sys.exit(main())
