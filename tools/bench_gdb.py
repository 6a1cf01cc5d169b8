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
the SRAM dump and restore; and the same 16 KiB written and read from MicroPython with
target.mem_write/mem_read (sessions of scan, attach, the call, detach; the probe prints
the counters at detach). Run by tools/bench; `--runs N` repeats (default 1), `--ram-only`
runs only the SRAM plans.

`--families [--chip NAME]`: on each simulated family with an engine driver, the test
firmware into erased flash, again, with one function changed, then 64 KiB images (new over
the firmware, new over another, the same again), each load followed by compare-sections;
each load against the least time its flash operations allow (`limit_ns`)."""

import argparse
import collections
import os
import pathlib
import random
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


PYTHON_RAM = f"""\
import target
pattern = bytes((index * 7 + 1) & 0xFF for index in range({RAM_BYTES}))
data = bytearray({RAM_BYTES})
def session(work):
    target.swdp_scan()
    target.attach(1)
    work()
    target.detach()
session(lambda: None)
session(lambda: target.mem_write(0x20000000, pattern))
session(lambda: target.mem_read(data, 0x20000000))
print('read back', 'matched' if data == pattern else 'MIS-MATCHED')
"""


def python_ram():
    """target.mem_write then target.mem_read of 16 KiB of SRAM from MicroPython on the host
    probe (the `target` binding, default SWCLK 4 MHz): each a session of scan, attach, the
    call, detach (which prints the counters), minus a session of scan, attach, detach."""
    environment = dict(os.environ, BMP_WIRE=f"sim:{CHIP}", BMP_SIM_REALTIME="0",
                       BMP_SIM_STATISTICS="1")
    result = subprocess.run([str(TOP / "build/unix/micropython"), "-c", PYTHON_RAM],
                            capture_output=True, text=True, env=environment, timeout=120)
    sessions = [{key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}
                for line in result.stderr.splitlines() if STATISTICS.match(line)]
    assert result.returncode == 0 and len(sessions) == 3, result.stdout + result.stderr
    verify = "pass" if "read back matched" in result.stdout else f"FAIL: {result.stdout}"
    connect = sessions[0]
    return [{
        "label": label, "bytes": RAM_BYTES,
        "cycles": session["clock_cycles"] - connect["clock_cycles"],
        "connect_cycles": connect["clock_cycles"],
        "transactions": session["transactions"] - connect["transactions"],
        "wait": session["wait"] - connect["wait"],
        "virtual": (session["virtual_ns"] - connect["virtual_ns"]) / 1e9,
        "wall": None, "gdb_rate": "-", "verify": verify, "pages": "-",
    } for label, session in (("target.mem_write of 16 KiB to SRAM", sessions[1]),
                             ("target.mem_read of 16 KiB of SRAM", sessions[2]))]


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


# The simulated families with an engine driver: the test firmware built for each (the H7
# runs the F4 build: flash at 0x0800_0000, RAM at 0x2000_0000), the flash base, and the
# flash's program unit as the simulator times it (the datasheet's figure, cited in
# rust/sim/src/soc/<family>): bytes, time, how many 32-bit (F1: 16-bit) AP writes move
# one unit and how many of them cannot overlap the previous unit's programming; the
# duration of the one kind of erase a plan here makes; and how many units the driver
# can stage in target SRAM while the flash erases (0: the data goes to the flash
# controller, which takes none during an erase).
Family = collections.namedtuple(
    "Family", "chip elf base unit unit_ns writes serial erase_ns source staged caveat",
    defaults=(0, None))
FAMILIES = [
    Family("stm32f103c8", "firmware.elf", 0x0800_0000, 2, 52_500, 1, 0, 20_000_000,
           "DS5319: 52.5 us a half-word, 20 ms a page or mass erase"),
    Family("stm32f407vg", "firmware-f4.elf", 0x0800_0000, 4, 16_000, 1, 0, 250_000_000,
           "DS8626: 16 us a word (x32), 250 ms a 16 KB sector"),
    Family("stm32h743zi", "firmware-f4.elf", 0x0800_0000, 32, 100_000, 8, 7, 1_000_000_000,
           "DS12110 table 53: 100 us a 256-bit flash word (x64), 1 s a sector"),
    Family("nrf52840", "firmware-nrf52.elf", 0x0000_0000, 4, 41_000, 1, 0, 85_000_000,
           "nRF52840 PS 4.3: 41 us a word, 85 ms a page"),
    Family("atsamd21g18a", "firmware-samd21.elf", 0x0000_0000, 64, 2_500_000, 16, 15,
           6_000_000, "DS40001882 NVM characteristics: 2.5 ms a 64-byte page, 6 ms a row"),
    # Through the boot ROM: the data goes to SRAM (64 AP writes a page), which the
    # debugger may write while the ROM programs or erases: SRAM4's 4 KiB (16 pages) hold
    # what goes up during an erase (chips::rp2040 keeps SRAM5 for its loop and stack).
    Family("rp2040", "firmware-rp2040.elf", 0x1000_0000, 256, 400_000, 64, 0, 45_000_000,
           "W25Q16JV class: 0.4 ms a 256-byte page, 45 ms a 4 KB sector", staged=16),
]
SWCLK_HZ = 4_000_000
# One AP write: 8 request, 1 turnaround, 3 ACK, 1 turnaround, 32 data, 1 parity clocks
# (ADIv5.2 B4.2).
CLOCKS_PER_WRITE = 46


# Where the 64 KiB images park the core: a `b .` (0xE7FE) after the vector table's first
# words, their entry point and reset vector, so that the core runs no random bytes after
# a load (a random program may lock the flash controller until reset, as a wrong key does).
PARK = 0x40


def family_image(family, name, seed):
    """64 KiB of pseudo-random bytes (no erased program unit) at the family's flash base,
    as an ELF with one loadable section: an initial SP in RAM, a reset vector and an entry
    point at a `b .`."""
    WORK.mkdir(parents=True, exist_ok=True)
    generator = random.Random(seed)
    data = bytearray(generator.randbytes(FULL))
    data[0:8] = (0x2000_1000).to_bytes(4, "little") + (family.base + PARK | 1).to_bytes(
        4, "little")
    data[PARK:PARK + 2] = (0xE7FE).to_bytes(2, "little")
    for offset in range(0, FULL, family.unit):
        if all(byte == 0xFF for byte in data[offset:offset + family.unit]):
            data[offset] = 0
    raw = WORK / f"{name}.bin"
    raw.write_bytes(data)
    subprocess.run(["arm-none-eabi-objcopy", "-I", "binary", "-O", "elf32-littlearm", "-B", "arm",
                    "--rename-section", ".data=.text,alloc,load,readonly,code,contents",
                    raw.name, f"{name}.o"], cwd=WORK, check=True)
    subprocess.run(["arm-none-eabi-ld", "-o", f"{name}.elf", f"-Ttext=0x{family.base:08x}",
                    "-e", f"0x{family.base + PARK:08x}", f"{name}.o"], cwd=WORK, check=True)
    return WORK / f"{name}.elf"


def changed_function(family):
    """The family's test firmware with blink_step returning at once (its first half-word
    `bx lr`, 0x4770): one function changed, the program still runs."""
    WORK.mkdir(parents=True, exist_ok=True)
    elf = FIRMWARE / family.elf
    symbols = (FIRMWARE / family.elf.replace(".elf", ".nm")).read_text()
    address = int(re.search(r"^([0-9a-f]+) T blink_step$", symbols, re.MULTILINE).group(1), 16)
    sections = subprocess.run(["arm-none-eabi-readelf", "-S", "-W", str(elf)],
                              capture_output=True, text=True, check=True).stdout
    data = bytearray(elf.read_bytes())
    for found in re.finditer(r"\]\s+\.text\s+PROGBITS\s+([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)",
                             sections):
        start, offset, size = (int(field, 16) for field in found.groups())
        if start <= address < start + size:
            at = offset + address - start
            data[at:at + 2] = (0x4770).to_bytes(2, "little")
            changed = WORK / f"{elf.stem}-changed.elf"
            changed.write_bytes(data)
            return changed
    raise AssertionError(f"blink_step not in .text of {elf}")


def program_units(family, flash):
    """How many program units and erases the flash's operations were: both kinds have
    one duration each per plan here, so the busy time and the count say it."""
    operations, busy = flash["operations"], flash["busy_ns"]
    if family.unit_ns == family.erase_ns:
        return None
    units = (busy - operations * family.erase_ns) / (family.unit_ns - family.erase_ns)
    erases = operations - units
    if units < 0 or erases < 0 or units != int(units):
        return None
    return int(units), int(erases)


def limit_ns(family, flash):
    """The least time the flash's operations of a load can take: their datasheet time, plus
    for each program unit the wire time its interface cannot overlap with programming. The
    AP takes one write while the flash is busy (posted; ADIv5.2 B2.2.1 "WAIT"), any further
    write waits until the flash is done: so a unit of w AP writes adds (w - 1) x 46 SWCLK
    after the previous unit (`serial`) where the controller stalls them, and a unit is
    never shorter than its w writes on the wire.
    Where the data is staged in target SRAM (`staged` units), each erase can hide the
    upload of that many units (no more than fit in its time): the limit is then the
    larger of the flash's own busy time and the erases plus the units they cannot hide."""
    counted = program_units(family, flash)
    if counted is None:
        return None, None
    units, erases = counted
    wire = CLOCKS_PER_WRITE * 1e9 / SWCLK_HZ
    per_unit = max(family.unit_ns + family.serial * wire, family.writes * wire)
    if not family.staged:
        return erases * family.erase_ns + units * per_unit, counted
    hidden = min(units, erases * min(family.staged, int(family.erase_ns // per_unit)))
    flash_busy = erases * family.erase_ns + units * family.unit_ns
    return max(flash_busy, erases * family.erase_ns + (units - hidden) * per_unit), counted


def family_plan(family):
    """Sessions on one fresh probe: the test firmware into erased flash, again, with one
    function changed; then a 64 KiB image into the erased flash after it, a different
    64 KiB image over it, the same again. compare-sections after each load."""
    firmware = FIRMWARE / family.elf
    first, second = family_image(family, f"{family.chip}-64k-a", 1), family_image(
        family, f"{family.chip}-64k-b", 2)
    return [
        ("firmware into erased flash", firmware), ("firmware again", firmware),
        ("firmware, one function changed", changed_function(family)),
        ("64 KiB over the firmware", first), ("64 KiB over another 64 KiB", second),
        ("64 KiB again", second),
    ]


def families(runs):
    """gdb `load` of each plan's image on each family: its virtual time (a connect-only
    session subtracted), the flash's own time, and the limit (limit_ns)."""
    print(f"gdb load through bmp, each simulated family, SWCLK {SWCLK_HZ // 1_000_000} MHz, "
          "virtual time (connect subtracted; compare-sections is a session of its own):")
    failed = False
    for family in FAMILIES:
        print(f"  {family.chip} ({family.source}):")
        if family.caveat:
            print(f"    (not comparable: {family.caveat})")
        for run in range(runs):
            probe = Probe(family.chip)
            try:
                plan = family_plan(family)
                gdb(probe.port, plan[0][1], [])
                connect = probe.statistics()
                probe.flash()
                for label, elf in plan:
                    log = gdb(probe.port, elf, [LOAD, "monitor flash_report"])
                    session, flash = probe.statistics(), probe.flash()
                    check = gdb(probe.port, elf, ["compare-sections"])
                    probe.statistics()
                    probe.flash()
                    matched = ("Transfer rate" in log and "matched." in check
                               and "MIS-MATCHED" not in check)
                    failed |= not matched
                    if not matched:
                        print(log[-2000:], check[-2000:])
                    load = (session["virtual_ns"] - connect["virtual_ns"]) / 1e6
                    pages = re.search(r"Flash pages since attach: (.*)", log)
                    waits = session["wait"] - connect["wait"]
                    print(f"    {label}: load {load:.1f} ms ({waits} WAIT answers); "
                          f"{describe(family, flash, load)}; "
                          f"load and compare-sections {'passed' if matched else 'FAILED'}; "
                          f"flash_report: {pages.group(1) if pages else '-'}")
            finally:
                probe.close()
    return failed


def describe(family, flash, load_ms):
    if not flash["operations"]:
        return "no flash operation"
    busy, span = flash["busy_ns"] / 1e6, flash["span_ns"] / 1e6
    limit, counted = limit_ns(family, flash)
    text = (f"flash busy {busy:.1f} ms ({flash['operations']} operations), first to last "
            f"{span:.1f} ms (flash's share {100 * busy / span:.1f} %)")
    if family.caveat:
        return text
    if limit is None:
        return text + "; limit n/a (operations not all of the plan's two kinds)"
    units, erases = counted
    return (text + f"; {units} units, {erases} erases: limit {limit / 1e6:.1f} ms = "
            f"{100 * limit / 1e6 / span:.1f} % of first to last, "
            f"{100 * limit / 1e6 / load_ms:.1f} % of the load")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--ram-only", action="store_true", help="only the SRAM plans: gdb's dump and restore, target.mem_read/mem_write")
    parser.add_argument("--families", action="store_true",
                        help="only gdb load on each simulated family with an engine driver")
    parser.add_argument("--chip", help="with --families: only this chip")
    arguments = parser.parse_args()
    if arguments.families:
        if arguments.chip:
            FAMILIES[:] = [family for family in FAMILIES if family.chip == arguments.chip]
        return 1 if families(arguments.runs) else 0
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
        for plan in plans + ["python"]:
            for result in python_ram() if plan == "python" else measure(plan):
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
                if plan != "python":
                    connect = result["connect_cycles"]
        if run + 1 < runs:
            time.sleep(1)  # a shared machine: no tight loop
    widths = [max(len(row[column]) for row in rows + [header]) for column in range(len(header))]
    for row in [header] + rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    print(f"(figures: each session minus a connect-only session of {connect} cycles (gdb; "
          "target.*: scan, attach and detach); a load's includes `monitor flash_report`; "
          "wall = `load` timed inside gdb)")
    return 0 if all(row[9] in ("pass", "-") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
