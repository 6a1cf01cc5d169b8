"""gdb-multiarch against bmp's GDB server on the simulated STM32F407 and STM32F411
(issue 11): the engine's STM32F4 driver (rust/chips/src/stm32f4.rs) flashes the F4 test
firmware with `load` (16 KB sectors, word programming), `compare-sections` finds it
matched, the program runs to a breakpoint and steps; the family's `monitor option` shows
the option bytes; a second `load` of the same image skips its sector."""

import re

import pytest

from helpers import fpu
from helpers.gdb import BmpProbe, build_firmware

pytestmark = pytest.mark.timeout(180)

REPORT = re.compile(r"Flash pages since attach: (\d+) unchanged \(skipped\), (\d+) erased, "
                    r"(\d+) mass erase\(s\), (\d+) programmed")


@pytest.fixture(scope="module")
def firmware():
    return build_firmware()


def counts(run, occurrence):
    found = REPORT.search(run.output("monitor flash_report", occurrence))
    assert found, f"no flash report\n{run}"
    return tuple(int(value) for value in found.groups())


@pytest.mark.parametrize("chip, name", [("stm32f407vg", "STM32F405/407"),
                                        ("stm32f411ce", "STM32F411xC/E")])
def test_load_compare_break_step(unix_micropython, tmp_path, firmware, chip, name):
    image = (firmware / "firmware-f4.bin").read_bytes()
    assert len(image) < 16 * 1024, "the F4 firmware is meant to fit sector 0"
    commands = ["load", "compare-sections", "monitor flash_report", "break blink_step", "continue",
                "step", "info registers pc", "monitor option", "monitor help", "load",
                "compare-sections", "monitor flash_report"]
    with BmpProbe(unix_micropython, tmp_path, chip=chip) as probe:
        run = probe.gdb(probe.connect() + commands, elf=firmware / "firmware-f4.elf")
    assert re.search(rf"^\s*1\s.*{re.escape(name)} M4", run.output("monitor swdp_scan"),
                     re.MULTILINE), f"scan\n{run}"
    for occurrence in (0, 1):
        compare = run.output("compare-sections", occurrence)
        assert "MIS-MATCHED" not in compare, f"flash differs from the ELF\n{run}"
        assert re.search(r"^Section \.text, range .*: matched\.$", compare, re.MULTILINE), \
            f".text not compared/matched\n{run}"
    # Into erased flash: sector 0 programmed, nothing erased; then the same image: skipped.
    assert counts(run, 0) == (0, 0, 0, 1), run
    assert counts(run, 1) == (1, 0, 0, 1), run
    assert re.search(r"^Breakpoint 1, (0x[0-9a-f]+ in )?blink_step \(", run.output("continue"),
                     re.MULTILINE), f"continue\n{run}"
    assert re.match(r"^\d+\s+uint32_t next = counter \+ 1u;", run.output("step")), \
        f"step did not go to blink_step's first line\n{run}"
    assert "RDP 0xAA (level 0)" in run.output("monitor option"), run
    assert re.search(r"^Target commands:\n\toption -- ", run.output("monitor help"), re.MULTILINE), \
        f"monitor help lists no family command\n{run}"


def test_fpu_registers_and_watch_on_the_f407(unix_micropython, tmp_path, firmware):
    """The Cortex-M4F's FPU registers through gdb, a float program's values, a watchpoint."""
    with BmpProbe(unix_micropython, tmp_path, chip="stm32f407vg") as probe:
        run = probe.gdb(probe.connect() + fpu.COMMANDS, elf=firmware / "firmware-fpu.elf")
    fpu.check(run)


def test_the_f103_offers_no_fpu_registers(unix_micropython, tmp_path, firmware):
    """The Cortex-M3 has no FPU: bmp's target description has no vfp feature."""
    with BmpProbe(unix_micropython, tmp_path) as probe:
        run = probe.gdb(probe.connect() + ["info all-registers", "p $d0"])
    every = run.output("info all-registers")
    assert re.search(r"^control\s", every, re.MULTILINE), f"{run}"
    assert not re.search(r"^(d0|s0|fpscr)\s", every, re.MULTILINE), f"{run}"
    assert "void" in run.output("p $d0"), f"{run}"
