"""The STM32H750's external QSPI flash, end to end with gdb-multiarch and no other tool:
the host probe's simulated H750 (BMP_WIRE=sim:stm32h750vb) has a W25Q64JV on QUADSPI,
memory-mapped at 0x9000_0000 (rust/sim/src/soc/stm32h7/quadspi.rs). The probe's script
(as boot.py would) gives bmp the external-flash algorithm built here
(tests/firmware/flm/w25q64_h750.c) with target.flash_algorithm; its 8 MB device joins
the memory map gdb reads. One `load` of h750-qspi.elf writes its start-up into the
internal flash (the H7 driver) and the rest, 60 KB at 0x9000_0000, through the algorithm;
compare-sections matches; the program runs: its start-up enables memory-mapped mode and
calls into the QSPI flash, where gdb breaks, steps and shows the call stack."""

import re

import pytest

from helpers.gdb import BmpProbe, build_firmware

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def firmware():
    return build_firmware()


def test_h750_loads_breaks_and_steps_in_qspi_flash(unix_micropython, tmp_path, firmware):
    flm = firmware / "w25q64_h750.flm"
    probe = BmpProbe(unix_micropython, tmp_path, chip="stm32h750vb",
                     setup=["import target", f"print(target.flash_algorithm({str(flm)!r}))"])
    try:
        run = probe.gdb(probe.connect() + [
            "info mem", "load", "compare-sections", "break qspi_step", "continue",
            "info registers pc", "step", "step", "bt", "print/x qspi_steps"],
            elf=firmware / "h750-qspi.elf", timeout=250)
    finally:
        probe.close()
    assert "0x90000000 0x90800000 flash blocksize 0x1000" in run.output("info mem"), f"{run}"
    assert "0x08000000 0x08020000 flash" in run.output("info mem"), f"{run}"
    load = run.output("load")
    assert re.search(r"Loading section \.boot, size 0x[0-9a-f]+ lma 0x8000000", load), f"{run}"
    assert re.search(r"Loading section \.text, size 0x[0-9a-f]+ lma 0x90000000", load), f"{run}"
    compare = run.output("compare-sections")
    assert re.search(r"Section \.text, range 0x90000000 -- 0x9000[0-9a-f]+: matched", compare), \
        f"{run}"
    assert "MIS-MATCHED" not in compare, f"{run}"
    assert re.search(r"^Breakpoint \d+, (0x[0-9a-f]+ in )?qspi_step \(", run.output("continue"),
                     re.MULTILINE), f"{run}"
    assert re.search(r"0x9000[0-9a-f]{4}\s+0x9000[0-9a-f]{4} <qspi_step(\+\d+)?>",
                     run.output("info registers pc")), f"{run}"
    # A source line on, then into qspi_mix (called from qspi_step), also in the QSPI flash.
    assert re.search(r"^9\d\s+uint32_t mixed = qspi_mix", run.output("step"), re.MULTILINE), \
        f"{run}"
    assert re.search(r"qspi_mix \(", run.output("step", 1)), f"{run}"
    backtrace = run.output("bt")
    frames = re.findall(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\w+)", backtrace, re.MULTILINE)
    assert [name for _, name in frames] == ["qspi_mix", "qspi_step", "qspi_main", "boot_reset"], \
        f"{run}"
    # The breakpoint stopped the first call: the counter has not moved yet.
    assert "= 0x0" in run.output("print/x qspi_steps"), f"{run}"
