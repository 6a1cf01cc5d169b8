"""The `target` module on every simulated chip (issue 11): one run of tests/sim/target_chip.py
per chip flashes the test firmware built for it, verifies it, breaks at blink_step, stops
on a write watchpoint, steps, reads the core registers (the FPU's on the M4F and M7, a clear
ValueError on the M3 and M0+), runs a family monitor command through target.monitor and
sees an unaligned watch refused as a ValueError that says why."""

import os
import pathlib
import subprocess

import pytest

from helpers.gdb import build_firmware

pytestmark = pytest.mark.timeout(120)

SCRIPT = pathlib.Path(__file__).parent / "sim" / "target_chip.py"

# chip: (firmware, flash base, FPU, start, monitor command, what it prints, erases the image)
CHIPS = {
    "stm32f103c8": ("firmware", 0x0800_0000, False, "reset", "option", "RDP", False),
    "stm32f407vg": ("firmware-f4", 0x0800_0000, True, "reset", "option", "RDP 0xAA (level 0)",
                    False),
    "stm32f411ce": ("firmware-f4", 0x0800_0000, True, "reset", "option", "RDP 0xAA (level 0)",
                    False),
    "stm32h743zi": ("firmware-f4", 0x0800_0000, True, "reset", "unlock",
                    "RDP is level 0 already: nothing to unlock, nothing erased", False),
    "nrf52840": ("firmware-nrf52", 0, True, "reset", "read deviceinfo", "Part: nRF52840", False),
    "atsamd21g18a": ("firmware-samd21", 0, False, "reset", "serial", "Serial number: 0x", False),
    "rp2040": ("firmware-rp2040", 0x1000_0000, False, "entry", "erase_sector 0x10000000 4096",
               "erased 0x10000000", True),
}
CHECKS = 11


@pytest.fixture(scope="session")
def firmware():
    return build_firmware()


@pytest.mark.parametrize("chip", sorted(CHIPS))
def test_target_flash_verify_break_watch_step_registers_monitor(chip, firmware,
                                                                 unix_micropython):
    image, base, fpu, start, command, expected, erases = CHIPS[chip]
    arguments = [firmware / f"{image}.bin", firmware / f"{image}.nm", hex(base),
                 "1" if fpu else "0", start, command, expected, "1" if erases else "0"]
    result = subprocess.run([str(unix_micropython), str(SCRIPT), *map(str, arguments)],
                            capture_output=True, text=True, timeout=100, cwd=SCRIPT.parent,
                            env=dict(os.environ, BMP_WIRE=f"sim:{chip}"))
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines and all(line.endswith(" ok") for line in lines), output
    assert len(lines) == CHECKS, output
