"""gdb `load` shortcuts end to end (issue 13): bmp's GDB server on the host probe with the
simulated STM32F103C8 (1 KiB pages), and the STM32H743 (128 KiB sectors taken in 16 KiB
blocks, each compared by its own CRC). Each kind of load (new image, unchanged, one function
changed, an image smaller than the last, an image in a different place) must leave flash
that `compare-sections` (qCRC, computed by the CRC routine on the target) finds matched,
and the program must run to a breakpoint. `monitor flash_report` says what was skipped,
erased and programmed, and how the CRCs were taken. The same kinds of load run on every
simulated family with a flash driver (F103, F407, H743, nRF52840, SAMD21, RP2040), each on
one fresh probe in virtual time."""

import collections
import re
import subprocess

import pytest

from helpers.gdb import BmpProbe, build_firmware, firmware_symbols
from helpers.openocd import read_symbols

pytestmark = pytest.mark.timeout(180)

FLASH = 0x0800_0000
PAGE = 1024
REPORT = re.compile(r"Flash pages since attach: (\d+) unchanged \(skipped\), (\d+) erased, "
                    r"(\d+) mass erase\(s\), (\d+) programmed")


def elf_of(binary, address, path, entry):
    """`binary` as an ELF whose one loadable section is at `address`, entry `entry`."""
    raw = path.with_suffix(".bin")
    raw.write_bytes(binary)
    subprocess.run(["arm-none-eabi-objcopy", "-I", "binary", "-O", "elf32-littlearm", "-B", "arm",
                    "--rename-section", ".data=.text,alloc,load,readonly,code,contents",
                    raw.name, path.with_suffix(".o").name], cwd=path.parent, check=True)
    subprocess.run(["arm-none-eabi-ld", "-o", path.name, f"-Ttext=0x{address:08x}", "-e", entry,
                    path.with_suffix(".o").name], cwd=path.parent, check=True)
    return path


@pytest.fixture(scope="module")
def firmware():
    return build_firmware()


def counts(transcript, occurrence):
    found = REPORT.search(transcript.output("monitor flash_report", occurrence))
    assert found, f"no flash report\n{transcript}"
    return tuple(int(value) for value in found.groups())


def check_every_step(run, steps):
    """After each (elf, expected) step's load: compare-sections matched, the flash report
    grew by `expected` (unchanged, erased, mass erases, programmed: counts()), and the
    program ran to blink_step."""
    previous = (0, 0, 0, 0)
    for index, (elf, expected) in enumerate(steps):
        compare = run.output("compare-sections", index)
        assert "MIS-MATCHED" not in compare and "matched" in compare, \
            f"step {index} ({elf.name}): compare-sections\n{run}"
        now = counts(run, index)
        added = tuple(after - before for after, before in zip(now, previous))
        assert added == expected, f"step {index} ({elf.name}): report {added}\n{run}"
        previous = now
        stopped = run.output("continue", index)
        assert re.search(r"^Breakpoint \d+, (0x[0-9a-f]+ in )?blink_step \(", stopped,
                         re.MULTILINE), f"step {index} ({elf.name}): did not run\n{run}"


def test_every_kind_of_load(unix_micropython, tmp_path, firmware):
    symbols = firmware_symbols(firmware)
    header = subprocess.run(["arm-none-eabi-readelf", "-h", str(firmware / "firmware.elf")],
                            capture_output=True, text=True, check=True).stdout
    entry = re.search(r"Entry point address:\s+(0x[0-9a-fA-F]+)", header).group(1)
    image = (firmware / "firmware.bin").read_bytes()
    pages = -(-len(image) // PAGE)
    assert pages < 0x8000 // PAGE
    # One function changed: fault_handler (never run here) gets a NOP before its loop.
    offset = symbols["fault_handler"] - FLASH
    changed_bytes = bytearray(image)
    changed_bytes[offset:offset + 2] = b"\x00\xbf"  # NOP (ARMv7-M A7.7.88, T1)
    changed_bytes[offset + 2:offset + 4] = b"\xfe\xe7"  # B . (T2)
    changed = elf_of(bytes(changed_bytes), FLASH, tmp_path / "changed.elf", entry)
    # Larger than the firmware: the firmware then a 4 KiB fill.
    fill = bytes((index * 7 + 1) & 0xFF for index in range(4 * PAGE))
    larger = elf_of(image.ljust(pages * PAGE, b"\xff") + fill, FLASH, tmp_path / "larger.elf",
                    entry)
    elsewhere = elf_of(fill, FLASH + 0x8000, tmp_path / "elsewhere.elf", entry)
    original = firmware / "firmware.elf"

    steps = [  # (ELF, what monitor flash_report must add: unchanged, erased, mass, programmed)
        (original, (0, 0, 0, pages)),         # new image, into erased flash
        (original, (pages, 0, 0, 0)),         # unchanged
        (changed, (pages - 1, 1, 0, 1)),      # one function changed: its page only
        (larger, (pages - 1, 1, 0, 5)),       # larger: page 0 differs, 4 new pages
        (original, (pages, 0, 0, 0)),         # smaller than the last: its pages as they are
        (elsewhere, (0, 0, 0, 4)),   # in a different place, over erased flash
        (elsewhere, (4, 0, 0, 0)),   # and there again
    ]

    probe = BmpProbe(unix_micropython, tmp_path)
    try:
        commands = probe.connect()
        for elf, _ in steps:
            commands += [f"file {elf}", "load", "compare-sections", "monitor flash_report"]
            # The program runs: the firmware's vector table is at FLASH in every step.
            commands += [f"file {original}", "break blink_step", "continue", "delete"]
        run = probe.gdb(commands, timeout=150)
    finally:
        probe.close()

    check_every_step(run, steps)
    assert "Last CRC: on the target's core" in run.output("monitor flash_report", 0), f"{run}"


def test_an_image_with_a_gap_is_left_alone_when_unchanged(unix_micropython, tmp_path, firmware):
    """The firmware plus a table near the end of the flash: gdb asks for both erases
    before any data (one vFlashErase per run of touched pages). Loaded again, every page
    of both pieces is left alone; compare-sections matches and the program runs."""
    image = (firmware / "firmware.bin").read_bytes()
    pages = -(-len(image) // PAGE)
    table_at = FLASH + 0xF000
    assert pages * PAGE < table_at - FLASH - PAGE
    table = tmp_path / "table.bin"
    table.write_bytes(bytes((index * 13 + 5) & 0xFF for index in range(700)))
    elf = tmp_path / "with-table.elf"
    subprocess.run(["arm-none-eabi-objcopy", "--add-section", f".table={table}",
                    "--set-section-flags", ".table=alloc,load,readonly,data,contents",
                    "--change-section-address", f".table=0x{table_at:08x}",
                    str(firmware / "firmware.elf"), str(elf)], check=True)
    steps = [(elf, (0, 0, 0, pages + 1)), (elf, (pages + 1, 0, 0, 0))]
    probe = BmpProbe(unix_micropython, tmp_path)
    try:
        commands = probe.connect()
        for _ in steps:
            commands += [f"file {elf}", "load", "compare-sections", "monitor flash_report",
                         "break blink_step", "continue", "delete"]
        run = probe.gdb(commands, timeout=150)
    finally:
        probe.close()
    assert ".table" in run.output("compare-sections", 0), f"{run}"
    check_every_step(run, steps)


def test_the_crc_falls_back_to_reading_back_and_says_so(unix_micropython, tmp_path, firmware):
    """`monitor crc_routine off`, and a routine given 1 us (halted, then read back): the
    CRCs are still right, `monitor flash_report` says how they were taken, and the program
    still runs afterwards. The report with the 1 us limit is the load's (its run over the
    firmware's pages takes far longer than one poll); compare-sections' qCRC of a few bytes
    of .data may be done before the first poll, and then it did not time out."""
    probe = BmpProbe(unix_micropython, tmp_path)
    try:
        run = probe.gdb(probe.connect() + [
            "load", "monitor crc_routine off", "compare-sections", "monitor flash_report",
            "monitor crc_routine on", "monitor crc_routine timeout 1", "load",
            "monitor flash_report", "compare-sections", "monitor crc_routine timeout 0",
            "compare-sections", "monitor flash_report", "break blink_step", "continue"])
    finally:
        probe.close()
    compares = run.outputs("compare-sections")
    assert len(compares) == 3 and all("matched" in text and "MIS-MATCHED" not in text
                                      for text in compares), f"{run}"
    reports = run.outputs("monitor flash_report")
    assert "Last CRC: by reading back (the CRC routine is turned off)" in reports[0], f"{run}"
    assert "Last CRC: by reading back (the CRC routine timed out and was halted)" in reports[1], \
        f"{run}"
    # The second load found every page as it was, by reading back.
    image = (firmware / "firmware.bin").read_bytes()
    assert counts(run, 1)[0] == -(-len(image) // PAGE), f"{run}"
    assert "Last CRC: on the target's core" in reports[2], f"{run}"
    assert re.search(r"^Breakpoint \d+, (0x[0-9a-f]+ in )?blink_step \(", run.output("continue"),
                     re.MULTILINE), f"{run}"


H7_BLOCK = 16 * 1024


def test_every_kind_of_load_in_an_h743_sector(unix_micropython, tmp_path, firmware):
    """The same kinds of load in the H743's first 128 KiB sector, block by block: an image of
    six blocks (the firmware, then fill), the same again (nothing rewritten), one block in the
    middle changed (the sector erased, the three blocks before it kept through target RAM),
    the firmware alone (smaller: its block kept, the rest erased), and a fill in sector 1."""
    header = subprocess.run(["arm-none-eabi-readelf", "-h", str(firmware / "firmware-f4.elf")],
                            capture_output=True, text=True, check=True).stdout
    entry = re.search(r"Entry point address:\s+(0x[0-9a-fA-F]+)", header).group(1)
    image = (firmware / "firmware-f4.bin").read_bytes()
    assert len(image) < H7_BLOCK
    fill = bytes(((index * 13) ^ (index >> 9)) & 0xFF | 0x01 for index in range(5 * H7_BLOCK))
    big_bytes = image.ljust(H7_BLOCK, b"\xff") + fill
    big = elf_of(big_bytes, FLASH, tmp_path / "big.elf", entry)
    middle_bytes = bytearray(big_bytes)
    middle_bytes[3 * H7_BLOCK + 5000:3 * H7_BLOCK + 5064] = bytes(64)
    middle = elf_of(bytes(middle_bytes), FLASH, tmp_path / "middle.elf", entry)
    elsewhere = elf_of(fill[:H7_BLOCK + 4096], FLASH + 0x2_0000, tmp_path / "elsewhere.elf",
                       entry)
    original = firmware / "firmware-f4.elf"
    steps = [  # (ELF, blocks: unchanged, erased, mass, programmed)
        (big, (0, 0, 0, 6)),        # new, into erased flash
        (big, (6, 0, 0, 0)),        # unchanged: no block rewritten
        (middle, (0, 1, 0, 6)),     # block 3 changed: 0-2 kept (programmed again), 3-5
        (middle, (6, 0, 0, 0)),     # and unchanged again
        (original, (0, 1, 0, 1)),   # smaller: block 0 kept, blocks 1-5 erased
        (original, (1, 0, 0, 0)),
        (elsewhere, (0, 0, 0, 2)),  # in a different place (sector 1), over erased flash
        (elsewhere, (2, 0, 0, 0)),
    ]
    probe = BmpProbe(unix_micropython, tmp_path, chip="stm32h743zi")
    try:
        commands = probe.connect()
        for elf, _ in steps:
            commands += [f"file {elf}", "load", "compare-sections", "monitor flash_report"]
            commands += [f"file {original}", "break blink_step", "continue", "delete"]
        run = probe.gdb(commands, elf=original, timeout=170)
    finally:
        probe.close()
    check_every_step(run, steps)


# Every simulated family with a flash driver: the test firmware built for it (the H7 runs
# the F4 build), its flash base, and where an image "in a different place" goes: in an
# erase unit the firmware does not share (the H743's sectors are 128 KiB).
Family = collections.namedtuple("Family", "chip image base elsewhere")
FAMILIES = [
    Family("stm32f103c8", "firmware", 0x0800_0000, 0x8000),
    Family("stm32f407vg", "firmware-f4", 0x0800_0000, 0x8000),
    Family("stm32h743zi", "firmware-f4", 0x0800_0000, 0x2_0000),
    Family("nrf52840", "firmware-nrf52", 0x0000_0000, 0x8000),
    Family("atsamd21g18a", "firmware-samd21", 0x0000_0000, 0x8000),
    Family("rp2040", "firmware-rp2040", 0x1000_0000, 0x8000),
]
FILL = 8 * 1024


def changed_function(elf, symbols, path):
    """`elf` with fault_handler (never run here) given a NOP before its loop, patched in the
    ELF file itself so that the symbols and every other section stay as they are."""
    sections = subprocess.run(["arm-none-eabi-readelf", "-S", "-W", str(elf)],
                              capture_output=True, text=True, check=True).stdout
    address = symbols["fault_handler"]
    data = bytearray(elf.read_bytes())
    for found in re.finditer(r"\]\s+\.text\s+PROGBITS\s+([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)",
                             sections):
        start, offset, size = (int(field, 16) for field in found.groups())
        if start <= address < start + size:
            at = offset + address - start
            assert data[at:at + 4] != b"\x00\xbf\xfe\xe7"
            data[at:at + 4] = b"\x00\xbf\xfe\xe7"  # NOP; B . (ARMv7-M A7.7.88 T1, A7.7.12 T2)
            path.write_bytes(data)
            return path
    raise AssertionError(f"fault_handler not in .text of {elf}")


@pytest.mark.parametrize("family", FAMILIES, ids=[family.chip for family in FAMILIES])
def test_every_kind_of_load_on_every_family(unix_micropython, tmp_path, firmware, family):
    """Each kind of load on each family's flash driver, in virtual time (one fresh probe per
    family): new, unchanged, one function changed, larger, smaller than the last, in a
    different place, and there again. After each: compare-sections matched, the program runs
    to blink_step, and the flash report says an unchanged image was neither erased nor
    programmed and a changed function cost at most one erase."""
    original = firmware / f"{family.image}.elf"
    symbols = read_symbols(firmware / f"{family.image}.nm")
    header = subprocess.run(["arm-none-eabi-readelf", "-h", str(original)],
                            capture_output=True, text=True, check=True).stdout
    entry = re.search(r"Entry point address:\s+(0x[0-9a-fA-F]+)", header).group(1)
    image = (firmware / f"{family.image}.bin").read_bytes()
    assert len(image) + FILL < family.elsewhere
    changed = changed_function(original, symbols, tmp_path / "changed.elf")
    fill = bytes(((index * 13) ^ (index >> 9)) & 0xFF | 0x01 for index in range(FILL))
    larger = elf_of(image.ljust(-(-len(image) // 1024) * 1024, b"\xff") + fill, family.base,
                    tmp_path / "larger.elf", entry)
    elsewhere = elf_of(fill, family.base + family.elsewhere, tmp_path / "elsewhere.elf", entry)
    steps = [original, original, changed, larger, original, elsewhere, elsewhere]
    probe = BmpProbe(unix_micropython, tmp_path, chip=family.chip,
                     environment={"BMP_SIM_REALTIME": "0"})
    try:
        commands = probe.connect()
        for elf in steps:
            commands += [f"file {elf}", "load", "compare-sections", "monitor flash_report"]
            commands += [f"file {original}", "break blink_step", "continue", "delete"]
        run = probe.gdb(commands, elf=original, timeout=170)
    finally:
        probe.close()

    previous = (0, 0, 0, 0)
    for index, elf in enumerate(steps):
        compare = run.output("compare-sections", index)
        assert "MIS-MATCHED" not in compare and "matched" in compare, \
            f"step {index} ({elf.name}): compare-sections\n{run}"
        now = counts(run, index)
        unchanged, erased, mass, programmed = (after - before
                                               for after, before in zip(now, previous))
        previous = now
        if index in (1, 6):  # the same image again: only CRCs
            assert unchanged > 0 and (erased, mass, programmed) == (0, 0, 0), \
                f"step {index} ({elf.name}): rewrote an unchanged image\n{run}"
        if index == 2:  # one function changed: its erase unit only
            assert erased + mass <= 1 and programmed > 0, \
                f"step {index} ({elf.name}): more than one unit erased\n{run}"
        assert mass == 0 or index == 0, f"step {index} ({elf.name}): a mass erase\n{run}"
        stopped = run.output("continue", index)
        assert re.search(r"^Breakpoint \d+, (0x[0-9a-f]+ in )?blink_step \(", stopped,
                         re.MULTILINE), f"step {index} ({elf.name}): did not run\n{run}"
