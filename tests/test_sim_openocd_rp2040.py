"""OpenOCD against the simulated RP2040: bmp-sim serves it over remote_bitbang (SWD
multi-drop: a DP per core and the rescue DP on one wire), and OpenOCD (openocd-esp32 from
the project venv, its stock target/rp2040.cfg) must find both cores' DPs by TARGETSEL,
examine both Cortex-M0+ cores and reset-halt them, and flash the QSPI flash through XIP
with its rp2xxx driver, which calls the boot ROM's flash functions on core 0, as it would
silicon; the test program linked for XIP flash (tests/firmware: firmware-rp2040.elf) then
runs from it to a hardware breakpoint and steps."""

import os
import re

import pytest

from helpers.openocd import SimPairs, build_firmware, build_sim, log_has, read_symbols

# SW-DP DPIDR (DPv2, multi-drop), DLPIDR per core (TINSTANCE 0 and 1), SYSINFO CHIP_ID of
# a B2 part, SIO CPUID (RP2040 datasheet 2.3.4, 2.20.2, 2.3.1.7).
SWD_DPIDR = 0x0BC12477
CHIP_ID = 0x20002927
SYSINFO_CHIP_ID = 0x40000000
SIO_CPUID = 0xD0000000
CPUID_M0PLUS = 0x410CC601
# The boot ROM's reset handler (datasheet 2.8.1) where a reset-halted core stops.
ROM_RESET_PC = 0xEE
XIP = 0x10000000
FLASH_TIMEOUT = 120
WAIT_HALT_MS = 10000


@pytest.fixture(scope="session")
def firmware():
    return build_firmware()


@pytest.fixture(scope="session")
def bmp_sim():
    return build_sim(release=True)


@pytest.fixture
def rp2040(bmp_sim, tmp_path):
    pairs = SimPairs(bmp_sim, tmp_path)
    yield pairs.start("rp2040", speed_khz=2000, target="target/rp2040.cfg")
    pairs.close()


def test_rp2040_both_cores_identify_and_reset_halt(rp2040):
    """Both DPs answer their TARGETSEL with the DPIDR and their own DLPIDR; OpenOCD
    examines two Cortex-M0+ cores; each reads its own SIO CPUID and the chip's CHIP_ID;
    `reset halt` stops core 0 at the boot ROM's reset handler; a word written through
    core 0 reads back through core 1 (one SRAM)."""
    sim, openocd = rp2040
    if sim.chip != "rp2040":
        openocd.fail(f"bmp-sim says it runs {sim.chip}, not rp2040")
    log_has(openocd, rf"SWD DPIDR 0x{SWD_DPIDR:08x}, DLPIDR 0x00000001", "core 0's DP")
    log_has(openocd, rf"SWD DPIDR 0x{SWD_DPIDR:08x}, DLPIDR 0x10000001", "core 1's DP")
    log_has(openocd, r"\[rp2040.core0\] Cortex-M0\+ r0p1 processor detected", "core 0")
    log_has(openocd, r"\[rp2040.core1\] Cortex-M0\+ r0p1 processor detected", "core 1")
    log_has(openocd, r"\[rp2040.core1\] target has 4 breakpoints, 2 watchpoints",
            "the M0+'s BPU and DWT sizes")
    for core in (0, 1):
        openocd.command(f"targets rp2040.core{core}")
        openocd.command("halt")
        if openocd.read_word(SIO_CPUID) != core:
            openocd.fail(f"SIO CPUID does not read {core} through core {core}'s DP")
        if openocd.read_word(SYSINFO_CHIP_ID) != CHIP_ID:
            openocd.fail("SYSINFO CHIP_ID is not 0x20002927")
        if openocd.read_word(0xE000ED00) != CPUID_M0PLUS:
            openocd.fail("CPUID is not the Cortex-M0+ r0p1's")

    openocd.command("targets rp2040.core0")
    openocd.command("reset halt")
    if openocd.state() != "halted":
        openocd.fail("core 0 is not halted after `reset halt`")
    if openocd.pc() != ROM_RESET_PC:
        openocd.fail(f"core 0 halted at 0x{openocd.pc():08x}, not the ROM's reset handler")
    openocd.command("mww 0x20001000 0xc0ffee01")
    openocd.command("targets rp2040.core1")
    if openocd.read_word(0x20001000) != 0xC0FFEE01:
        openocd.fail("core 1 does not see the SRAM word written through core 0")


def write_image(openocd, path):
    output = openocd.command(f"flash write_image erase {{{path}}} 0x{XIP:08x} bin",
                             timeout=FLASH_TIMEOUT)
    if re.search(r"wrote \d+ bytes", output) is None:
        openocd.fail(f"unexpected answer to flash write_image: {output!r}")
    size = path.stat().st_size
    output = openocd.command(f"verify_image {{{path}}} 0x{XIP:08x} bin", timeout=FLASH_TIMEOUT)
    if re.search(rf"verified {size} bytes", output) is None:
        openocd.fail(f"verify_image does not verify {size} bytes: {output!r}")
    first = int.from_bytes(path.read_bytes()[:4], "little")
    if openocd.read_word(XIP) != first:
        openocd.fail("XIP does not read the image's first word after the write")


def test_rp2040_flash_write_and_verify(rp2040, tmp_path):
    """OpenOCD's rp2xxx driver probes the W25Q16JV by its JEDEC ID through the SSI with
    chip select forced by IO_QSPI, then erases and programs through the boot ROM's
    connect_internal_flash, flash_exit_xip, flash_range_erase, flash_range_program,
    flash_flush_cache and flash_enter_cmd_xip, run on core 0; verify_image reads the
    result back through XIP. A second, different image over the first verifies too, which
    needs the erase (NOR programming only clears bits)."""
    sim, openocd = rp2040
    openocd.command("reset halt")
    openocd.command("flash probe 0", timeout=FLASH_TIMEOUT)
    log_has(openocd, r"RP2040 rev 2, QSPI Flash \S+ w25q16jv id = 0x1540ef size = 2048 KiB "
            r"in 512 sectors", "the W25Q16JV found by its JEDEC ID")
    # Not a whole number of pages: the driver pads the last one.
    for number in (1, 2):
        image = tmp_path / f"image{number}.bin"
        image.write_bytes(os.urandom(6000))
        write_image(openocd, image)


def test_rp2040_flash_run_break_step(rp2040, firmware):
    """The ELF linked for XIP flash: write_image erase and verify_image through the rp2xxx
    driver; core 0 then runs it from XIP (the simulated ROM runs no boot2: the PC is set
    to reset_handler) to a hardware breakpoint (the BPU covers 0x0-0x1FFF_FFFF) on
    blink_step twice, with a step between."""
    sim, openocd = rp2040
    elf = firmware / "firmware-rp2040.elf"
    symbols = read_symbols(firmware / "firmware-rp2040.nm")
    openocd.command("reset halt")
    output = openocd.command(f"flash write_image erase {{{elf}}}", timeout=FLASH_TIMEOUT)
    if re.search(r"wrote \d+ bytes from file", output) is None:
        openocd.fail(f"unexpected answer to flash write_image: {output!r}")
    output = openocd.command(f"verify_image {{{elf}}}", timeout=FLASH_TIMEOUT)
    if re.search(r"verified \d+ bytes", output) is None:
        openocd.fail(f"unexpected answer to verify_image: {output!r}")
    openocd.command(f"reg pc 0x{symbols['reset_handler']:08x}")
    blink_step = symbols["blink_step"]
    openocd.command(f"bp 0x{blink_step:08x} 2 hw")
    for hit in range(2):
        openocd.command("resume")
        openocd.command(f"wait_halt {WAIT_HALT_MS}", timeout=WAIT_HALT_MS / 1000 + 20)
        if openocd.pc() != blink_step:
            openocd.fail(f"halted at 0x{openocd.pc():08x}, not at blink_step (hit {hit})")
        if openocd.read_word(symbols["counter"]) != hit:
            openocd.fail(f"counter is not {hit} at blink_step hit {hit}")
        if hit == 0:
            openocd.command("step")
            if not blink_step < openocd.pc() <= blink_step + 4:
                openocd.fail(f"after `step` the PC is 0x{openocd.pc():08x}")
    openocd.command(f"rbp 0x{blink_step:08x}")
