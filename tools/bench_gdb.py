"""Benchmark the GDB path: gdb-multiarch through bmp's GDB server on the host probe with the
simulated STM32F103C8 at SWCLK 4 MHz, in the simulator's virtual time (BMP_SIM_REALTIME=0:
time passes only with SWCLK edges, so the figures are the same on every machine) and, for
reference, in wall time on the host.

Each plan gets a fresh host probe (flash erased) and a series of gdb sessions, each of them
`monitor frequency 4M`, `monitor swdp_scan`, `attach 1`, then one command (`load`, followed
by `monitor flash_report`; `compare-sections`; `dump`/`restore` of 16 KiB of SRAM). The
probe prints the wire's counters for each session when gdb hangs up (BMP_SIM_STATISTICS=1);
each session's figures are its counters minus those of a connect-only session. Plans:
bench.elf into erased flash and again; a 64 KiB image (bench.bin and a fill) into erased
flash, a different 64 KiB image over it, the same again, each followed by compare-sections;
the SRAM dump and restore. Run by tools/bench; `--runs N` repeats (default 1), `--ram-only`
runs only the SRAM plan."""

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
RAM_FILE = WORK / "sram16k.bin"
RAM_BYTES = 16 * 1024
STATISTICS = re.compile(r"^bmp statistics: (.*)$")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def full_image(name, other=False):
    """bench.bin followed by a fill (no erased half-words) up to 64 KiB, as an ELF whose one
    loadable section starts at the flash base and whose entry is bench.elf's; `other`:
    bench.bin's bytes inverted instead, so every page differs from the first."""
    WORK.mkdir(parents=True, exist_ok=True)
    image = (FIRMWARE / "bench.bin").read_bytes()
    fill = bytes((index * 7 + 1) & 0xFF for index in range(FULL - len(image)))
    if other:
        image, fill = bytes(byte ^ 0xFF for byte in image), bytes(byte ^ 0x5A for byte in fill)
    raw = WORK / f"{name}.bin"
    raw.write_bytes(image + fill)
    header = subprocess.run(["arm-none-eabi-readelf", "-h", str(FIRMWARE / "bench.elf")],
                            capture_output=True, text=True, check=True).stdout
    entry = re.search(r"Entry point address:\s+(0x[0-9a-fA-F]+)", header).group(1)
    # Relative names: objcopy derives the symbols _binary_<name>_start from the input path.
    subprocess.run(["arm-none-eabi-objcopy", "-I", "binary", "-O", "elf32-littlearm", "-B", "arm",
                    "--rename-section", ".data=.text,alloc,load,readonly,code,contents",
                    raw.name, f"{name}.o"], cwd=WORK, check=True)
    subprocess.run(["arm-none-eabi-ld", "-o", f"{name}.elf", f"-Ttext=0x{FLASH:08x}", "-e", entry,
                    f"{name}.o"], cwd=WORK, check=True)
    return WORK / f"{name}.elf"


class Probe:
    """The host probe running bmp.init(tcp=port) with the simulated chip in virtual time."""

    def __init__(self, chip=CHIP):
        self.port = free_port()
        script = (f"import bmp, time\nbmp.init(tcp={self.port})\nprint('serving')\n"
                  "while True:\n    time.sleep(1)\n")
        environment = dict(os.environ, BMP_WIRE=f"sim:{chip}", BMP_SIM_REALTIME="0",
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

    def flash(self):
        """The flash controller's activity in the session that just ended (the line after
        the statistics: operations, busy_ns, idle_ns, longest_idle_ns, span_ns)."""
        while True:
            line = self.process.stderr.readline()
            assert line, "the probe exited"
            if line.startswith("bmp flash:"):
                return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}

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


LOAD = ("python import time; started = time.monotonic(); gdb.execute('load'); "
        "print('bench: load wall %.6f s' % (time.monotonic() - started))")


def measure(steps):
    """Run gdb sessions on one fresh probe (flash erased): a connect-only session, then
    one per step (label, ELF, command). Each step's figures are its session minus the
    connect-only one."""
    probe = Probe()
    results = []
    try:
        gdb(probe.port, steps[0][1], [])
        connect = probe.statistics()
        for label, elf, command in steps:
            log = gdb(probe.port, elf, [command, "monitor flash_report"])
            session = probe.statistics()
            assert connect["swclk_hz"] == session["swclk_hz"] == 4_000_000, (connect, session)
            results.append((label, command, log, connect, session))
    finally:
        probe.close()
    return [summary(*result) for result in results]


def summary(label, command, log, connect, session):
    rate = re.search(r"Transfer rate: (\d+) KB/sec, (\d+) bytes/write", log)
    matched = re.findall(r"^Section \S+, range .*: (matched|MIS-MATCHED)\.$", log, re.MULTILINE)
    loaded = re.search(r"load size (\d+)", log)
    ram = command.startswith(("dump", "restore"))
    wall = re.search(r"bench: load wall ([0-9.]+) s", log)
    pages = re.search(r"Flash pages since attach: (.*)", log)
    return {
        "label": label,
        "bytes": int(loaded.group(1)) if loaded else RAM_BYTES if ram else 0,
        "cycles": session["clock_cycles"] - connect["clock_cycles"],
        "connect_cycles": connect["clock_cycles"],
        "transactions": session["transactions"] - connect["transactions"],
        "wait": session["wait"] - connect["wait"],
        "virtual": (session["virtual_ns"] - connect["virtual_ns"]) / 1e9,
        "wall": float(wall.group(1)) if wall else None,
        "gdb_rate": f"{rate.group(1)} KB/s, {rate.group(2)} B/write" if rate else "-",
        "verify": (f"FAIL: load\n{log}" if command == LOAD and not loaded else
                   "-" if command != "compare-sections" else
                   "pass" if matched and set(matched) == {"matched"} else f"FAIL: {log}"),
        "pages": pages.group(1) if pages else "-",
    }


# The simulated families with an engine driver, and the test firmware built for each (the
# H7 runs the F4 build: flash at 0x0800_0000, RAM at 0x2000_0000).
FAMILIES = [
    ("stm32f103c8", "firmware.elf"),
    ("stm32h743zi", "firmware-f4.elf"),
    ("nrf52840", "firmware-nrf52.elf"),
    ("atsamd21g18a", "firmware-samd21.elf"),
]


def families():
    """gdb `load` of each family's test firmware into erased flash: the flash's own time
    (its operations' datasheet durations in the simulator) against the virtual time from
    the start of its first operation to the end of its last, and the whole load's."""
    print("gdb load through bmp, each simulated family, SWCLK 4 MHz, virtual time:")
    for chip, image in FAMILIES:
        elf = FIRMWARE / image
        probe = Probe(chip)
        try:
            gdb(probe.port, elf, [])
            connect = probe.statistics()
            probe.flash()
            log = gdb(probe.port, elf, [LOAD, "compare-sections"])
            session = probe.statistics()
            flash = probe.flash()
        finally:
            probe.close()
        matched = "matched." in log and "MIS-MATCHED" not in log
        load = (session["virtual_ns"] - connect["virtual_ns"]) / 1e6
        if flash["operations"]:
            figures = (f"flash busy {flash['busy_ns'] / 1e6:.1f} ms in {flash['operations']} "
                       f"operations, first to last {flash['span_ns'] / 1e6:.1f} ms: the flash's "
                       f"own time is {100 * flash['busy_ns'] / flash['span_ns']:.1f} % of it "
                       f"(idle {flash['idle_ns'] / 1e6:.1f} ms, longest "
                       f"{flash['longest_idle_ns'] / 1e6:.2f} ms)")
        else:
            figures = "no flash activity recorded (the simulator models no busy time here)"
        print(f"  {chip} {image}: load and compare-sections {load:.1f} ms (a connect-only "
              f"session subtracted); {figures}; compare-sections "
              f"{'matched' if matched else 'FAILED'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--ram-only", action="store_true", help="only the SRAM dump and restore")
    parser.add_argument("--families", action="store_true",
                        help="only gdb load on each simulated family with an engine driver")
    arguments = parser.parse_args()
    if arguments.families:
        families()
        return 0
    runs = arguments.runs
    bench = FIRMWARE / "bench.elf"
    new, old = full_image("bench64k"), full_image("bench64k-other", other=True)
    verify = "compare-sections"
    plans = [
        [("bench.elf into erased flash", bench, LOAD), ("  compare-sections", bench, verify),
         ("bench.elf again (unchanged)", bench, LOAD), ("  compare-sections", bench, verify)],
        [("64 KiB into erased flash", old, LOAD), ("  compare-sections", old, verify),
         ("64 KiB over another 64 KiB image", new, LOAD), ("  compare-sections", new, verify),
         ("64 KiB again (unchanged)", new, LOAD), ("  compare-sections", new, verify)],
        [("dump of 16 KiB of SRAM", bench, f"dump binary memory {RAM_FILE} 0x20000000 0x20004000"),
         ("restore of 16 KiB to SRAM", bench, f"restore {RAM_FILE} binary 0x20000000")],
    ]
    if arguments.ram_only:
        plans = plans[-1:]
    print(f"gdb through bmp's GDB server, simulated {CHIP.upper()}, SWCLK 4 MHz "
          "(virtual time; wall time on this host)")
    header = ("what", "bytes", "SWCLK cycles", "transactions", "WAIT", "virtual", "virtual rate",
              "wall", "gdb's rate", "compare-sections", "flash_report")
    rows, connect = [], None
    for run in range(runs):
        for plan in plans:
            for result in measure(plan):
                rate = (f"{result['bytes'] / result['virtual'] / 1024:.1f} KiB/s"
                        if result["bytes"] else "-")
                if "16 KiB" in result["label"]:
                    # The wire's limit: 46 SWCLK per 32-bit word (ADIv5.2 B4.2).
                    limit = 4_000_000 / 46 * 4
                    rate += f" ({100 * result['bytes'] / result['virtual'] / limit:.1f} % of wire)"
                wall = f"{result['wall']:.3f} s" if result["wall"] is not None else "-"
                rows.append((result["label"], str(result["bytes"]), str(result["cycles"]),
                             str(result["transactions"]), str(result["wait"]),
                             f"{result['virtual']:.3f} s", rate, wall, result["gdb_rate"],
                             result["verify"], result["pages"]))
                connect = result["connect_cycles"]
        if run + 1 < runs:
            time.sleep(1)  # a shared machine: no tight loop
    widths = [max(len(row[column]) for row in rows + [header]) for column in range(len(header))]
    for row in [header] + rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    print(f"(figures: each session minus a connect-only session of {connect} cycles; a load's "
          "includes `monitor flash_report`; wall = `load` timed inside gdb)")
    return 0 if all(row[9] in ("pass", "-") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
