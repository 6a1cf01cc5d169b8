"""gdb-multiarch against bmp's GDB server on the simulated nRF52840 and ATSAMD21G18A
(BMP_WIRE=sim:nrf52840, sim:atsamd21g18a): the scan names the part (the chips::nrf52 and
chips::samd21 family drivers), gdb loads the test firmware built for each (firmware-nrf52,
firmware-samd21) into flash through the family's flash controller, compare-sections
matches, a breakpoint stops at blink_step, `step` moves on, and the families' monitor
commands answer."""

import re

import pytest

from helpers.gdb import BmpProbe, build_firmware
from helpers.openocd import read_symbols

pytestmark = pytest.mark.timeout(180)

CHIPS = {
    # chip: (firmware, what swdp_scan lists, monitor commands that must appear in help)
    "nrf52840": ("firmware-nrf52", r"nRF52840 M4", ["erase_mass", "read"]),
    "atsamd21g18a": ("firmware-samd21", r"ATSAMD21G18A M0\+",
                     ["erase_mass", "lock_flash", "unlock_flash", "user_row", "serial",
                      "set_security_bit"]),
}


@pytest.fixture(scope="session")
def firmware():
    return build_firmware()



@pytest.mark.parametrize("chip", sorted(CHIPS))
def test_load_compare_break_step_monitor(chip, firmware, tmp_path, request):
    image, scan_line, commands = CHIPS[chip]
    elf = firmware / f"{image}.elf"
    symbols = read_symbols(firmware / f"{image}.nm")
    micropython = request.getfixturevalue("unix_micropython")
    probe = BmpProbe(micropython, tmp_path, chip=chip)
    try:
        run = probe.gdb(probe.connect() + ["load", "compare-sections", "break blink_step",
                                           "continue", "step", "print counter",
                                           "monitor help"], elf=elf)
    finally:
        probe.close()
    scan = run.output("monitor swdp_scan")
    assert re.search(scan_line, scan), f"the scan does not name the part\n{run}"
    load = run.output("load")
    assert "Loading section .text" in load, f"load\n{run}"
    assert re.search(rf"Start address 0x0*{symbols['reset_handler']:x}", load), f"load\n{run}"
    compare = run.output("compare-sections")
    assert "MIS-MATCHED" not in compare, f"flash differs from the ELF\n{run}"
    assert re.search(r"^Section \.text, range .*: matched\.$", compare, re.MULTILINE), \
        f".text not matched\n{run}"
    cont = run.output("continue")
    assert re.search(r"^Breakpoint \d+, (0x[0-9a-f]+ in )?blink_step \(", cont, re.MULTILINE), \
        f"continue did not stop at blink_step\n{run}"
    step = run.output("step")
    assert not re.search(r"error|Cannot", step, re.IGNORECASE), f"step\n{run}"
    helps = run.output("monitor help")
    for name in commands:
        assert re.search(rf"^\s*{name}\b", helps, re.MULTILINE), \
            f"monitor help does not list {name}\n{run}"
