"""Benchmark the GDB path: gdb-multiarch `load` through bmp's GDB server on the host probe
with the simulated STM32F103C8 at SWCLK 4 MHz, in the simulator's virtual time
(BMP_SIM_REALTIME=0: time passes only with SWCLK edges, so the figures are the same on every
machine) and, for reference, in wall time on the host.

Each image gets a fresh host probe (flash erased) and three gdb sessions, each of them
`monitor frequency 4M`, `monitor swdp_scan`, `attach 1`, then:

1. connect: nothing more;
2. load: `load`, timed on the wall clock inside gdb;
3. verify: `compare-sections`.

The probe prints the wire's counters for each session when gdb hangs up
(BMP_SIM_STATISTICS=1); the load's own figures are session 2 minus session 1. Images:
bench.elf from tests/firmware (62 800 bytes), and the same bytes followed by a fill to
exactly 64 KiB, linked into an ELF under build/bench_gdb (it fills the C8's flash).
Run by tools/bench; `--runs N` repeats every image N times (default 3)."""

import argparse
import os
import pathlib
import re
import select
import socket
import subprocess
import sys
import time

TOP = pathlib.Path(__file__).resolve().parent.parent
FIRMWARE = TOP / "build/firmware"
WORK = TOP / "build/bench_gdb"
CHIP = "stm32f103c8"
FLASH = 0x0800_0000
FULL = 64 * 1024
STATISTICS = re.compile(r"^bmp statistics: (.*)$")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def full_image():
    """bench.bin followed by a fill (no erased half-words) up to 64 KiB, as an ELF whose one
    loadable section starts at the flash base and whose entry is bench.elf's."""
    WORK.mkdir(parents=True, exist_ok=True)
    image = (FIRMWARE / "bench.bin").read_bytes()
    fill = bytes((index * 7 + 1) & 0xFF for index in range(FULL - len(image)))
    raw = WORK / "bench64k.bin"
    raw.write_bytes(image + fill)
    header = subprocess.run(["arm-none-eabi-readelf", "-h", str(FIRMWARE / "bench.elf")],
                            capture_output=True, text=True, check=True).stdout
    entry = re.search(r"Entry point address:\s+(0x[0-9a-fA-F]+)", header).group(1)
    # Relative names: objcopy derives the symbols _binary_<name>_start from the input path.
    subprocess.run(["arm-none-eabi-objcopy", "-I", "binary", "-O", "elf32-littlearm", "-B", "arm",
                    "--rename-section", ".data=.text,alloc,load,readonly,code,contents",
                    raw.name, "bench64k.o"], cwd=WORK, check=True)
    subprocess.run(["arm-none-eabi-ld", "-o", "bench64k.elf", f"-Ttext=0x{FLASH:08x}", "-e", entry,
                    "bench64k.o"], cwd=WORK, check=True)
    return WORK / "bench64k.elf"


class Probe:
    """The host probe running bmp.init(tcp=port) with the simulated chip in virtual time."""

    def __init__(self):
        self.port = free_port()
        script = (f"import bmp, time\nbmp.init(tcp={self.port})\nprint('serving')\n"
                  "while True:\n    time.sleep(1)\n")
        environment = dict(os.environ, BMP_WIRE=f"sim:{CHIP}", BMP_SIM_REALTIME="0",
                           BMP_SIM_STATISTICS="1")
        self.process = subprocess.Popen([str(TOP / "build/unix/micropython"), "-c", script],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=environment, text=True)
        assert "serving" in self.process.stdout.readline()

    def statistics(self, timeout=30):
        """The counters the probe printed when the last gdb hung up."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.process.stderr], [], [], max(left, 0))
            assert ready, "no statistics line from the probe"
            line = self.process.stderr.readline()
            assert line, "the probe exited"
            found = STATISTICS.match(line.strip())
            if found:
                return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", found.group(1))}

    def close(self):
        self.process.kill()
        self.process.wait()


def gdb(port, elf, commands):
    arguments = ["gdb-multiarch", "-nx", "-batch",
                 "-ex", "set pagination off", "-ex", "set confirm off",
                 "-ex", "set remotetimeout 30", "-ex", f"target extended-remote 127.0.0.1:{port}",
                 "-ex", "monitor frequency 4M", "-ex", "monitor swdp_scan", "-ex", "attach 1"]
    for command in commands + ["detach"]:
        arguments += ["-ex", command]
    arguments.append(str(elf))
    result = subprocess.run(arguments, capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode == 0 and "detached" in log, log
    return log


def measure(elf):
    probe = Probe()
    try:
        gdb(probe.port, elf, [])
        connect = probe.statistics()
        log = gdb(probe.port, elf, [
            "python import time; started = time.monotonic(); gdb.execute('load'); "
            "print('bench: load wall %.6f s' % (time.monotonic() - started))"])
        session = probe.statistics()
        verify = gdb(probe.port, elf, ["compare-sections"])
        probe.statistics()
    finally:
        probe.close()
    assert connect["swclk_hz"] == session["swclk_hz"] == 4_000_000, (connect, session)
    rate = re.search(r"Transfer rate: (\d+) KB/sec, (\d+) bytes/write", log)
    matched = re.findall(r"^Section \S+, range .*: (matched|MIS-MATCHED)\.$", verify, re.MULTILINE)
    return {
        "bytes": int(re.search(r"load size (\d+)", log).group(1)),
        "cycles": session["clock_cycles"] - connect["clock_cycles"],
        "connect_cycles": connect["clock_cycles"],
        "transactions": session["transactions"] - connect["transactions"],
        "wait": session["wait"] - connect["wait"],
        "virtual": (session["virtual_ns"] - connect["virtual_ns"]) / 1e9,
        "wall": float(re.search(r"bench: load wall ([0-9.]+) s", log).group(1)),
        "gdb_rate": f"{rate.group(1)} KB/s, {rate.group(2)} B/write",
        "verify": "pass" if matched and set(matched) == {"matched"} else f"FAIL: {verify}",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    images = [("bench.elf", FIRMWARE / "bench.elf"), ("bench64k.elf", full_image())]
    print(f"gdb load through bmp's GDB server, simulated {CHIP.upper()}, SWCLK 4 MHz "
          "(virtual time; wall time on this host)")
    header = ("image", "bytes", "SWCLK cycles", "transactions", "WAIT", "virtual", "virtual rate",
              "wall", "gdb's rate", "compare-sections")
    rows, connect = [], None
    for run in range(runs):
        for name, elf in images:
            result = measure(elf)
            rows.append((name, str(result["bytes"]), str(result["cycles"]),
                         str(result["transactions"]), str(result["wait"]),
                         f"{result['virtual']:.3f} s",
                         f"{result['bytes'] / result['virtual'] / 1024:.1f} KiB/s",
                         f"{result['wall']:.3f} s", result["gdb_rate"], result["verify"]))
            connect = result["connect_cycles"]
        if run + 1 < runs:
            time.sleep(1)  # a shared machine: no tight loop
    widths = [max(len(row[column]) for row in rows + [header]) for column in range(len(header))]
    for row in [header] + rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    print(f"(load figures: the load session minus a connect-only session of {connect} cycles; "
          "wall = `load` timed inside gdb)")
    return 0 if all(row[-1] == "pass" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
