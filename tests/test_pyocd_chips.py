"""pyOCD 0.46 through `dap` (tools/pyocd-tcpdap) on each simulated chip it has a built-in
target for (issue 11): `pyocd commander` loads the test firmware with the target's own flash
algorithm (run on the simulated core), compares the flash with the image, resets into halt
and steps. pyOCD has no built-in target for the STM32F401/F407/F411 or the SAMD21
(`pyocd list --targets`: its F4s are the F412, F429 and F439).

Two settings differ from pyOCD's defaults, each for a limit of the simulator (docs/dap.md):
- STM32H7: the flash algorithm erases a 128 KB sector (1-2 s of the chip's time), and the
  simulated core runs it far slower than real time, so pyOCD's 10 s erase timeout is raised.
- RP2040: pyOCD's smart flash reads XIP after its algorithm's Init has left XIP
  (flash_exit_xip); the simulator answers those reads with bus errors, so smart flash is off.
"""

import re

import pytest

from helpers.openocd import build_firmware
from test_dap_clients import DapServer, pyocd

pytestmark = pytest.mark.timeout(300)

CHIPS = [
    # bmp-sim chip, pyOCD target, image, flash base, pyOCD options
    ("stm32f103rc", "stm32f103rc", "firmware", 0x0800_0000, []),
    ("stm32h743zi", "stm32h743xx", "firmware-f4", 0x0800_0000,
     ["-O", "flash.timeout.erase_sector=200"]),
    ("stm32h750vb", "stm32h750xx", "firmware-f4", 0x0800_0000,
     ["-O", "flash.timeout.erase_sector=200"]),
    ("nrf52840", "nrf52840", "firmware-nrf52", 0x0000_0000, []),
    ("rp2040", "rp2040", "firmware-rp2040", 0x1000_0000, ["-O", "smart_flash=false"]),
]


@pytest.fixture(scope="module")
def firmware():
    return build_firmware()


@pytest.mark.parametrize("chip, target, image, base, options", CHIPS,
                         ids=[chip for chip, *_ in CHIPS])
def test_pyocd_loads_compares_halts_and_steps(unix_micropython, firmware, chip, target, image,
                                              base, options):
    server = DapServer(unix_micropython, chip)
    try:
        elf, binary = firmware / f"{image}.elf", firmware / f"{image}.bin"
        code, log = pyocd("commander", "-u", f"tcpdap:127.0.0.1:{server.port}", "-t", target,
                          *options, "-c", f"load {elf}", "-c", f"compare {base:#x} {binary}",
                          "-c", "reset -h", "-c", "reg pc", "-c", "step", "-c", "reg pc",
                          "-c", "step", "-c", "reg pc")
    finally:
        statistics = server.output()
    assert code == 0, log
    size = binary.stat().st_size
    assert f"All {size} bytes match." in log, log
    assert "Successfully halted device on reset" in log, log
    pcs = [int(value, 16) for value in re.findall(r"^pc = (0x[0-9a-f]+)", log, re.MULTILINE)]
    assert len(pcs) == 3 and pcs[0] != pcs[1] != pcs[2], log
    if chip != "rp2040":
        # The chip's own flash controller did the work (the RP2040's is the boot ROM's).
        busy = [int(value) for value in re.findall(r"bmp flash: operations=\d+ busy_ns=(\d+)",
                                                   statistics)]
        assert busy and max(busy) > 0, statistics
