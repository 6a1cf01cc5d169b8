"""gdb-multiarch against bmp's GDB server on the host probe with the simulated STM32H743
(BMP_WIRE=sim:stm32h743zi): the engine's STM32H7 driver identifies it, `load` writes the
F4 build of the test firmware (Cortex-M4 code, flash at 0x0800_0000, RAM at 0x2000_0000:
the H7's bank 1 and DTCM) through 128 KB sectors and 32-byte flash words, compare-sections
matches, and the Cortex-M7 breaks and steps; the `unlock` command is listed."""

import re

import pytest

from helpers import fpu
from helpers.gdb import BmpProbe, build_firmware

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def firmware():
    return build_firmware()


def test_h743_load_compare_break_step(unix_micropython, tmp_path, firmware):
    elf = firmware / "firmware-f4.elf"
    probe = BmpProbe(unix_micropython, tmp_path, chip="stm32h743zi")
    try:
        run = probe.gdb(probe.connect() + [
            "load", "compare-sections", "break blink_step", "continue", "stepi",
            "info registers pc", "monitor help"], elf=elf, timeout=150)
    finally:
        probe.close()
    scan = run.output("monitor swdp_scan")
    assert "STM32H74x/H75x" in scan and "M7" in scan, f"{run}"
    compare = run.output("compare-sections")
    assert "matched" in compare and "MIS-MATCHED" not in compare, f"{run}"
    assert re.search(r"^Breakpoint \d+, (0x[0-9a-f]+ in )?blink_step \(", run.output("continue"),
                     re.MULTILINE), f"{run}"
    # One instruction on from the breakpoint, still in blink_step.
    assert re.search(r"<blink_step\+[1-9]\d*>", run.output("info registers pc")), f"{run}"
    assert "unlock" in run.output("monitor help"), f"{run}"


def test_h743_fpu_registers_and_watch(unix_micropython, tmp_path, firmware):
    """The Cortex-M7's FPU registers through gdb, a float program's values, a watchpoint."""
    with BmpProbe(unix_micropython, tmp_path, chip="stm32h743zi") as probe:
        run = probe.gdb(probe.connect() + fpu.COMMANDS, elf=firmware / "firmware-fpu.elf",
                        timeout=150)
    fpu.check(run)


def test_h743_memory_writes_and_breakpoints_with_the_caches_on(unix_micropython, tmp_path, firmware):
    """With CCR.DC and IC set, the simulated M7 hides a debugger's write to cacheable RAM
    (AXI SRAM) from the core until it is cleaned/invalidated (rust/sim/src/chip/cache.rs):
    gdb's writes of code and data and its software breakpoint there reach the core."""
    commands = [
        "set {int}0xE000ED14 = 0x30000",
        # ldr r0, [r1]; adds r0, #1; bkpt
        "set {short}0x24000000 = 0x6808", "set {short}0x24000002 = 0x3001",
        "set {short}0x24000004 = 0xbe00", "set {int}0x24000100 = 41",
        "set $r1 = 0x24000100", "set $pc = 0x24000000", "continue", "p $r0",
        "break *0x24000002", "set $pc = 0x24000000", "continue", "p $r0", "p/x $pc",
    ]
    with BmpProbe(unix_micropython, tmp_path, chip="stm32h743zi") as probe:
        run = probe.gdb(probe.connect() + commands, elf=firmware / "firmware-f4.elf")
    assert "SIGTRAP" in run.output("continue", 0), f"{run}"
    assert run.output("p $r0", 0).strip() == "$1 = 42", f"{run}"
    assert re.search(r"^Breakpoint 1, 0x24000002 in", run.output("continue", 1), re.MULTILINE), \
        f"{run}"
    assert run.output("p $r0", 1).strip() == "$2 = 41", f"{run}"
