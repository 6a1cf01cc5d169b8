"""OpenOCD against the simulated STM32F4: bmp-sim serves an STM32F407 (and the F401/F411
variants) over remote_bitbang, and OpenOCD (openocd-esp32 from the project venv, its stock
target/stm32f4x.cfg and its own stm32f2x flash driver) must identify it, reset-halt it,
flash and verify the F4 build of the test firmware (tests/firmware, firmware-f4.elf),
break and step, as it would silicon."""

import re

import pytest

from helpers.openocd import (SimPairs, break_and_step, build_firmware, build_sim, log_has,
                             read_symbols, write_and_verify)

FLASH_BASE = 0x08000000
WAIT_HALT_MS = 10000
FLASH_TIMEOUT = 300

# SW-DP of the Cortex-M4 r0p1 (RM0090 38.8.3) and its CPUID (PM0214 4.3.1).
SWD_DPIDR = 0x2BA01477
CPUID_M4_R0P1 = 0x410FC241

# Per part: flash size in KiB (F_SIZE at 0x1FFF_7A22, RM0090 39.2), DEV_ID of
# DBGMCU_IDCODE (RM0090 38.6.1, RM0368 and RM0383 "DBGMCU_IDCODE").
PARTS = {
    "stm32f407vg": (1024, 0x413),
    "stm32f411ce": (512, 0x431),
    "stm32f401cc": (256, 0x423),
}


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
    """start(chip, firmware) -> (sim, openocd) with target/stm32f4x.cfg over SWD."""
    pairs = SimPairs(bmp_sim, tmp_path)

    def start_pair(chip, firmware_file=None):
        # The wall clock: stm32f2x writes a whole 16 KB sector (write_image pads to the
        # sector's end) into its ring buffer before it moves the write pointer, then waits
        # at most 10 s of wall time for its loader to program 8192 half-words (16 us each)
        # and halt. With time passing only on the wire's clock, those polls give the core
        # too little time; on the wall clock the optimised simulator keeps up.
        return pairs.start(chip, firmware_file, speed_khz=2000, target="target/stm32f4x.cfg")

    yield start_pair
    pairs.close()


def test_f407_flash_break_step(start, firmware):
    """Identify, reset halt, flash write_image erase + verify_image with OpenOCD's stm32f2x
    driver on a blank F407, then the new image runs: a breakpoint on blink_step, a step,
    the counter between two hits."""
    symbols = firmware["symbols"]
    elf = firmware["elf"]
    sim, openocd = start("stm32f407vg")
    log_has(openocd, rf"SWD DPIDR 0x{SWD_DPIDR:08x}", "the SW-DP's DPIDR")
    log_has(openocd, r"Cortex-M4 r0p1 processor detected", "CPUID 0x410FC241 (Cortex-M4 r0p1)")
    log_has(openocd, r"target has 6 breakpoints, 4 watchpoints", "the M4's FPB and DWT sizes")
    if openocd.read_word(0xE0042000) & 0xFFF != 0x413:
        openocd.fail("DBGMCU_IDCODE does not name the F405/407 (0x413)")
    openocd.command("reset halt")
    if openocd.state() != "halted":
        openocd.fail("not halted after `reset halt`")

    write_and_verify(openocd, elf, FLASH_TIMEOUT)
    log_has(openocd, r"flash size = 1024 ?k", "the F407's 1 MiB (F_SIZE)")
    break_and_step(openocd, symbols, WAIT_HALT_MS)


def test_f407_erase_error_paths(start, firmware):
    """The flash interface's error flags as OpenOCD sees them: a program with the wrong
    width (PGPERR), a write without PG (PGSERR), a write-protected sector (WRPERR via the
    option bytes), and a wrong key locking FLASH_CR until reset."""
    sim, openocd = start("stm32f407vg")
    openocd.command("reset halt")
    flash_sr, flash_cr = 0x40023C0C, 0x40023C10
    openocd.command("mww 0x40023C04 0x45670123")
    openocd.command("mww 0x40023C04 0xCDEF89AB")
    if openocd.read_word(flash_cr) & (1 << 31):
        openocd.fail("FLASH_CR still locked after the key sequence")
    openocd.command(f"mww 0x{flash_cr:08x} 0x101")  # PG, PSIZE x16
    openocd.command("mww 0x08000000 0x12345678")   # a word: wrong width
    if openocd.read_word(flash_sr) & (1 << 6) == 0:
        openocd.fail("no PGPERR after a 32-bit write with PSIZE x16")
    openocd.command(f"mww 0x{flash_sr:08x} 0xF3")
    openocd.command(f"mww 0x{flash_cr:08x} 0x100")  # no PG
    openocd.command("mwh 0x08000000 0x1234")
    if openocd.read_word(flash_sr) & (1 << 7) == 0:
        openocd.fail("no PGSERR after a write without PG")
    openocd.command(f"mww 0x{flash_sr:08x} 0xF3")
    openocd.command(f"mww 0x{flash_cr:08x} 0x101")
    openocd.command("mwh 0x08000000 0x1234")
    if openocd.read_word(flash_sr) & 0xF0:
        openocd.fail(f"a correct half-word program set errors: SR 0x{openocd.read_word(flash_sr):08x}")
    if openocd.read_word(0x08000000) & 0xFFFF != 0x1234:
        openocd.fail("the half-word was not programmed")
    openocd.command(f"mww 0x{flash_cr:08x} 0x80000000")  # LOCK
    # A wrong key answers a bus error, and so do the right keys after it; OpenOCD reports a
    # posted write's fault with the next access, so each write is followed by a read.
    faults = 0
    for key in [0x11111111, 0x45670123, 0xCDEF89AB]:
        openocd.try_command(f"mww 0x40023C04 0x{key:08x}")
        ok, _ = openocd.try_command(f"mdw 0x{flash_cr:08x}")
        faults += not ok
    if faults != 3:
        openocd.fail(f"{faults} of the 3 key writes after a wrong key answered a bus error")
    if openocd.read_word(flash_cr) & (1 << 31) == 0:
        openocd.fail("FLASH_CR unlocked after a wrong key (it stays locked until reset)")
    openocd.command("reset halt")
    openocd.command("mww 0x40023C04 0x45670123")
    openocd.command("mww 0x40023C04 0xCDEF89AB")
    if openocd.read_word(flash_cr) & (1 << 31):
        openocd.fail("FLASH_CR still locked after a reset and the right keys")


@pytest.mark.parametrize("chip", sorted(PARTS))
def test_f4_part_identity(start, firmware, chip):
    """Each F4 part: DEV_ID, CPUID, F_SIZE, and OpenOCD's probe of the same size."""
    flash_kib, device_id = PARTS[chip]
    sim, openocd = start(chip, firmware["elf"])
    if sim.chip != chip:
        openocd.fail(f"bmp-sim says it runs {sim.chip}, not {chip}")
    openocd.command("halt")
    openocd.command(f"wait_halt {WAIT_HALT_MS}", timeout=WAIT_HALT_MS / 1000 + 20)
    if openocd.read_word(0xE0042000) & 0xFFF != device_id:
        openocd.fail(f"DBGMCU_IDCODE does not carry DEV_ID 0x{device_id:03x}")
    if openocd.read_word(0xE000ED00) != CPUID_M4_R0P1:
        openocd.fail("CPUID is not 0x410FC241")
    if openocd.read_word(0x1FFF7A20) >> 16 != flash_kib:
        openocd.fail(f"F_SIZE does not read {flash_kib}")
    openocd.command("flash probe 0")
    log_has(openocd, rf"flash size = {flash_kib} ?k", f"OpenOCD probing {flash_kib} KiB")
