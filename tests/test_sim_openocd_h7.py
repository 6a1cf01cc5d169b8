"""OpenOCD against the simulated STM32H7: bmp-sim serves an STM32H743ZI (and the H750VB)
over remote_bitbang, and OpenOCD (openocd-esp32 from the project venv, its stock
target/stm32h7x.cfg and its own stm32h7x flash driver) must identify it, reset-halt it,
flash and verify the test firmware (tests/firmware's F4 build, firmware-f4.elf: Cortex-M4
code without FPU instructions or clock set-up, flash at 0x0800_0000 and RAM at
0x2000_0000, which the H7 has as flash bank 1 and DTCM), break and step, as it would
silicon."""

import re

import pytest

from helpers.openocd import (SimPairs, break_and_step, build_firmware, build_sim, log_has,
                             read_symbols, write_and_verify)

WAIT_HALT_MS = 10000
FLASH_TIMEOUT = 120

# SW-DP of the STM32H7 (DPv2, RM0433 60.4.3), the M7 r1p1's CPUID, DBGMCU_IDCODE at its H7
# address (RM0433 60.5.8).
SWD_DPIDR = 0x6BA02477
CPUID_M7_R1P1 = 0x411FC271
DBGMCU_IDCODE = 0x5C001000
FLASH_SIZE = 0x1FF1E880
BANK_2 = 0x08100000


@pytest.fixture(scope="session")
def firmware():
    build = build_firmware()
    return {
        "elf": build / "firmware-f4.elf",
        "symbols": read_symbols(build / "firmware-f4.nm"),
    }


@pytest.fixture(scope="session")
def bmp_sim():
    # Optimised: OpenOCD's flash loader keeps the emulated core busy on the wall clock.
    return build_sim(release=True)


@pytest.fixture
def start(bmp_sim, tmp_path):
    """start(chip, firmware, before) -> (sim, openocd) with target/stm32h7x.cfg over SWD;
    `before` are commands before the target configuration (set DUAL_BANK 1)."""
    pairs = SimPairs(bmp_sim, tmp_path)

    def start_pair(chip, firmware_file=None, before=()):
        # The wall clock, as for the F4: the stm32h7x driver waits on its own clock for
        # erases (1 s per sector at x64) and for its loader.
        return pairs.start(chip, firmware_file, speed_khz=2000, target="target/stm32h7x.cfg",
                           before=before)

    yield start_pair
    pairs.close()


def test_h743_flash_break_step(start, firmware):
    """Identify, reset halt, flash write_image erase + verify_image with OpenOCD's stm32h7x
    driver on a blank H743, then the new image runs: a breakpoint on blink_step (FPB
    version 2), a step, the counter between two hits."""
    symbols = firmware["symbols"]
    elf = firmware["elf"]
    sim, openocd = start("stm32h743zi")
    log_has(openocd, rf"SWD DPIDR 0x{SWD_DPIDR:08x}", "the SW-DP's DPIDR")
    log_has(openocd, r"Cortex-M7 r1p1 processor detected", "CPUID 0x411FC271 (Cortex-M7 r1p1)")
    log_has(openocd, r"target has 8 breakpoints, 4 watchpoints", "the M7's FPB and DWT sizes")
    if openocd.read_word(DBGMCU_IDCODE) & 0xFFF != 0x450:
        openocd.fail("DBGMCU_IDCODE at 0x5C001000 does not name the H74x/75x (0x450)")
    if openocd.read_word(0xE000ED00) != CPUID_M7_R1P1:
        openocd.fail("CPUID is not 0x411FC271")
    # stm32h7x.cfg's examine-end set DBGMCU_CR through AP2 (the APB-AP, 0xE00E1000): the
    # debug clocks, trace clock and D1 low-power debug bits (the D2 bits 3-5 do not exist
    # on the H743, RM0433 60.5.8).
    control = openocd.read_word(0x5C001004)
    if control != 0x00700007:
        openocd.fail(f"DBGMCU_CR is 0x{control:08x} after examine-end, not 0x00700007")
    openocd.command("reset halt")
    if openocd.state() != "halted":
        openocd.fail("not halted after `reset halt`")

    write_and_verify(openocd, elf, FLASH_TIMEOUT)
    log_has(openocd, r"flash size probed value 2048k", "the H743's 2 MiB (flash size register)")
    log_has(openocd, r"dual banks?", "two banks")
    break_and_step(openocd, symbols, WAIT_HALT_MS)


def test_h743_bank_2_and_errors(start):
    """Bank 2 through OpenOCD's driver (DUAL_BANK 1: registers at +0x100), then the flash
    interface's error flags as OpenOCD sees them: a write to a second flash word while the
    buffer holds one (INCERR), a write without PG (PGSERR), and a wrong key locking the
    bank until reset."""
    sim, openocd = start("stm32h743zi", before=["set DUAL_BANK 1"])
    openocd.command("reset halt")
    output = openocd.command("flash probe 1", timeout=FLASH_TIMEOUT)
    log_has(openocd, r"Bank \(1\) size is 1024 kb, base address is 0x08100000", "bank 2 probed")
    output = openocd.command(f"flash fillw 0x{BANK_2:08x} 0x5a5aa5a5 16", timeout=FLASH_TIMEOUT)
    if re.search(r"wrote 64 bytes", output) is None:
        openocd.fail(f"unexpected answer to flash fillw on bank 2: {output!r}")
    if openocd.read_word(BANK_2 + 60) != 0x5A5AA5A5:
        openocd.fail("bank 2 does not read what flash fillw wrote")
    if openocd.read_word(0x08000000) != 0xFFFFFFFF:
        openocd.fail("bank 1 changed when bank 2 was written")

    flash_cr, flash_sr, flash_ccr = 0x5200200C, 0x52002010, 0x52002014
    openocd.command("mww 0x52002004 0x45670123")
    openocd.command("mww 0x52002004 0xCDEF89AB")
    if openocd.read_word(flash_cr) & 1:
        openocd.fail("FLASH_CR1 still locked after the key sequence")
    openocd.command(f"mww 0x{flash_cr:08x} 0x32")   # PG, PSIZE x64
    openocd.command("mww 0x08000000 0x12345678")   # one word of a flash word
    if openocd.read_word(flash_sr) & 0x2 == 0:
        openocd.fail("WBNE is not set with a partly written flash word")
    openocd.command("mww 0x08000040 0x12345678")   # another flash word
    if openocd.read_word(flash_sr) & (1 << 21) == 0:
        openocd.fail("no INCERR after a write to a second flash word")
    openocd.command(f"mww 0x{flash_ccr:08x} 0x0FFF0000")
    openocd.command(f"mww 0x{flash_cr:08x} 0x30")   # no PG
    openocd.command("mww 0x08000000 0x12345678")
    if openocd.read_word(flash_sr) & (1 << 18) == 0:
        openocd.fail("no PGSERR after a write without PG")
    openocd.command(f"mww 0x{flash_ccr:08x} 0x0FFF0000")
    if openocd.read_word(0x08000000) != 0xFFFFFFFF:
        openocd.fail("a refused write reached the array")
    openocd.command(f"mww 0x{flash_cr:08x} 0x1")   # LOCK
    faults = 0
    for key in [0x11111111, 0x45670123, 0xCDEF89AB]:
        openocd.try_command(f"mww 0x52002004 0x{key:08x}")
        ok, _ = openocd.try_command(f"mdw 0x{flash_cr:08x}")
        faults += not ok
    if faults != 3:
        openocd.fail(f"{faults} of the 3 key writes after a wrong key answered a bus error")
    if openocd.read_word(flash_cr) & 1 == 0:
        openocd.fail("FLASH_CR1 unlocked after a wrong key (it stays locked until reset)")


def test_h750_identity(start, firmware):
    """The H750: the same DEV_ID, 128 KiB in one bank, and OpenOCD's probe of it."""
    sim, openocd = start("stm32h750vb", firmware["elf"])
    if sim.chip != "stm32h750vb":
        openocd.fail(f"bmp-sim says it runs {sim.chip}, not stm32h750vb")
    openocd.command("halt")
    openocd.command(f"wait_halt {WAIT_HALT_MS}", timeout=WAIT_HALT_MS / 1000 + 20)
    if openocd.read_word(DBGMCU_IDCODE) & 0xFFF != 0x450:
        openocd.fail("DBGMCU_IDCODE does not carry DEV_ID 0x450")
    if openocd.read_word(FLASH_SIZE) & 0xFFFF != 128:
        openocd.fail("the flash size register does not read 128")
    openocd.command("flash probe 0")
    log_has(openocd, r"flash size probed value 128k", "OpenOCD probing 128 KiB")
    output = openocd.command(f"verify_image {{{firmware['elf']}}}", timeout=FLASH_TIMEOUT)
    if re.search(r"verified \d+ bytes", output) is None:
        openocd.fail(f"the firmware bmp-sim loaded does not verify: {output!r}")
