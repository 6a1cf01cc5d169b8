"""OpenOCD against the simulated blue pill: bmp-sim serves the STM32F103 at its pins over
OpenOCD's remote_bitbang protocol, and OpenOCD (openocd-esp32 from the project venv, the
stock target/stm32f1x.cfg) must find, flash, break, step and read it as it would silicon.

Every step is asserted from OpenOCD's answers on its Tcl RPC port; a failure shows the
commands so far and the tail of OpenOCD's log (BMP_OPENOCD_DEBUG=3 for a debug log; the
full log stays in the test's tmp_path as openocd.log)."""

import re
import struct
import time

import pytest

from helpers.openocd import SimPairs, build_firmware, build_sim, log_has, read_symbols

CHIP = "stm32f103c8"
FLASH_BASE = 0x08000000
FLASH_SIZE_C8 = 64 * 1024
SRAM_TOP = 0x20000000 + 20 * 1024

# IDCODEs of a genuine medium-density STM32F103: the SW-DP's DPIDR (RM0008 31.8.3), the
# JTAG-DP's IDCODE (the Cortex-M3 TAP, RM0008 31.6.3), the boundary-scan TAP's IDCODE
# (RM0008 31.6.2).
SWD_DPIDR = 0x1BA01477
JTAG_DP_IDCODE = 0x3BA00477
BOUNDARY_SCAN_IDCODE_MEDIUM_DENSITY = 0x16410041

# Cortex-M3 FPB and DWT sizes (Cortex-M3 r1p1 TRM, FPB and DWT): 6 instruction comparators,
# 4 watchpoint comparators. OpenOCD reports both once it has examined the core.
FPB_CODE_COMPARATORS = 6
DWT_COMPARATORS = 4

WAIT_HALT_MS = 10000
FLASH_TIMEOUT = 300

EXPECTED_SEMIHOSTING_OUTPUT = (
    "hello, world!\n"
    "semihosting: SYS_WRITE to :tt\n"
    "semihosting: file semihosting_test.txt: wrote 41, flen 41, read back, equal\n"
    "semihosting test: PASS\n"
)
SEMIHOSTING_FILE_TEXT = b"bmp semihosting file test: hello, world!\n"


@pytest.fixture(scope="session")
def firmware():
    """The test firmware (tests/firmware), built with make: its directory and symbols."""
    build = build_firmware()
    return {
        "elf": build / "firmware.elf",
        "bin": build / "firmware.bin",
        "bench_elf": build / "bench.elf",
        "symbols": read_symbols(build / "firmware.nm"),
    }


@pytest.fixture(scope="session")
def bmp_sim():
    return build_sim()


@pytest.fixture
def start(bmp_sim, tmp_path):
    """start(transport, firmware, real_time=False) -> (sim, openocd); both stopped after."""
    pairs = SimPairs(bmp_sim, tmp_path)

    def start_pair(transport, firmware_file, chip=CHIP, extra_config=(), real_time=False):
        # bmp-sim keeps the wall clock unless told otherwise; the tests that do not wait on
        # OpenOCD's clock run in virtual time, deterministically.
        return pairs.start(chip, firmware_file, [] if real_time else ["--virtual-time"],
                           transport, extra=extra_config)

    yield start_pair
    pairs.close()


def scramble(value):
    """The firmware's scramble(): one xorshift32 step."""
    value ^= (value << 13) & 0xFFFFFFFF
    value ^= value >> 17
    value ^= (value << 5) & 0xFFFFFFFF
    return value


def compute(value):
    """The firmware's compute(): scramble(value) + 3 * value, modulo 2**32."""
    return (scramble(value) + 3 * value) & 0xFFFFFFFF


def halt_at(openocd, address, name):
    """Resume, wait for the halt and check the PC."""
    openocd.command("resume")
    openocd.command(f"wait_halt {WAIT_HALT_MS}", timeout=WAIT_HALT_MS / 1000 + 20)
    pc = openocd.pc()
    if pc != address:
        openocd.fail(f"halted at 0x{pc:08x}, not at {name} (0x{address:08x})")


def test_firmware_image(firmware):
    """The test firmware: vector table at 0x0800_0000, the symbols the tests rely on."""
    symbols = firmware["symbols"]
    for name in ["vector_table", "reset_handler", "fault_handler", "main", "clock_setup",
                 "blink_step", "compute", "scramble", "run_semihosting_test", "semihosting_call",
                 "counter", "watched_value", "hello", "semihosting_test", "semihosting_result",
                 "system_clock_hz", "clock_error"]:
        assert name in symbols, f"{name} is missing from firmware.nm"
    assert symbols["vector_table"] == FLASH_BASE
    image = firmware["bin"].read_bytes()
    assert len(image) < 8 * 1024
    initial_sp, reset_vector = struct.unpack_from("<II", image, 0)
    assert initial_sp == SRAM_TOP
    assert reset_vector == symbols["reset_handler"] | 1  # Thumb bit (ARMv7-M B1.5.3)
    for name in ["counter", "hello", "semihosting_test"]:
        assert 0x20000000 <= symbols[name] < SRAM_TOP, f"{name} is not in SRAM"
    bench = firmware["bench_elf"].with_suffix(".bin").read_bytes()
    assert 60 * 1024 < len(bench) <= FLASH_SIZE_C8


def check_examined(openocd):
    log_has(openocd, rf"SWD DPIDR 0x{SWD_DPIDR:08x}", f"the SW-DP's DPIDR 0x{SWD_DPIDR:08x}")
    log_has(openocd, r"Cortex-M3 r1p1 processor detected",
            "CPUID 0x411FC231: the STM32F103 core is a Cortex-M3 r1p1 (RM0008 31.8.3)")
    log_has(openocd, rf"(target|hardware) has {FPB_CODE_COMPARATORS} breakpoints, "
                     rf"{DWT_COMPARATORS} watchpoints", "the Cortex-M3's FPB and DWT sizes")


def test_swd_flash_write_verify(start, firmware):
    """SWD: flash write_image erase + verify_image over a different image, then the new
    reset vector runs.

    The simulator runs on the wall clock (its default): OpenOCD's stm32f1x driver waits on the wall clock
    (FLASH_SR.BSY polled with 1 ms host sleeps, 100 polls for a page erase), as silicon
    allows; with time passing only on SWCLK cycles, those 100 polls are about 10 ms of
    virtual time, less than a page erase (tERASE 20-40 ms), and OpenOCD reports "timed out
    waiting for flash". The write goes through OpenOCD's flash loader in SRAM, which the
    simulated core runs, fed with block writes of more than 1 KB (OpenOCD assumes the
    Cortex-M3 AHB-AP's 4 KB TAR auto-increment range)."""
    symbols = firmware["symbols"]
    elf = firmware["elf"]
    # Start from a different image (bench.elf), so the flash write has to change flash.
    sim, openocd = start("swd", firmware["bench_elf"], real_time=True)
    check_examined(openocd)
    openocd.command("reset halt")
    if openocd.state() != "halted":
        openocd.fail("not halted after `reset halt`")
    pc = openocd.pc()
    if pc != symbols["reset_handler"]:
        openocd.fail(f"after `reset halt` the PC is 0x{pc:08x}, not reset_handler "
                     f"0x{symbols['reset_handler']:08x} (the reset vector of bench.elf)")

    # The flash holds bench.elf: verify_image of firmware.elf must find a difference.
    ok, output = openocd.try_command(f"verify_image {{{elf}}}", timeout=FLASH_TIMEOUT)
    if ok:
        openocd.fail(f"verify_image passed before flashing (the image was preloaded?): {output}")

    started = time.monotonic()
    output = openocd.command(f"flash write_image erase {{{elf}}}", timeout=FLASH_TIMEOUT)
    if re.search(r"wrote \d+ bytes from file", output) is None:
        openocd.fail(f"unexpected answer to flash write_image: {output!r}")
    log_has(openocd, r"flash size = 64 ?k", "the C8's flash size (64 KiB, from F_SIZE)")
    output = openocd.command(f"verify_image {{{elf}}}", timeout=FLASH_TIMEOUT)
    if re.search(r"verified \d+ bytes", output) is None:
        openocd.fail(f"unexpected answer to verify_image: {output!r}")
    flash_seconds = time.monotonic() - started

    openocd.command("reset halt")
    pc = openocd.pc()
    if pc != symbols["reset_handler"]:
        openocd.fail(f"after flashing and `reset halt` the PC is 0x{pc:08x}, not "
                     f"reset_handler 0x{symbols['reset_handler']:08x}")
    openocd.command(f"bp 0x{symbols['blink_step']:08x} 2 hw")
    halt_at(openocd, symbols["blink_step"], "blink_step of the new image")
    print(f"flash write_image + verify_image took {flash_seconds:.1f} s")


def test_sram_block_write_across_1k(start, firmware):
    """A 1.3 KB block written to SRAM reads back whole: OpenOCD writes it with one TAR write
    and auto-increment across 0x2000_1400 (it takes the Cortex-M3 AHB-AP's auto-increment
    range as 4 KB). It goes above stm32f1x.cfg's work area (4 KB at 0x2000_0000), where
    verify_image runs its CRC algorithm."""
    image = firmware["bin"]
    sim, openocd = start("swd", firmware["elf"])
    openocd.command("halt")
    openocd.command(f"wait_halt {WAIT_HALT_MS}", timeout=WAIT_HALT_MS / 1000 + 20)
    openocd.command(f"load_image {{{image}}} 0x20001200 bin", timeout=120)
    ok, output = openocd.try_command(f"verify_image {{{image}}} 0x20001200 bin", timeout=120)
    if not ok:
        openocd.fail(f"SRAM does not hold what load_image wrote: {output[:2000]}")


def test_swd_bus_fault_reported(start, firmware):
    """A read of unmapped memory (0x6000_0000: no FSMC on a C8, RM0008 3.3 memory map) fails
    in OpenOCD, and the next read works. The AHB-AP read that faults sets STICKYERR; the
    SW-DP must answer FAULT to the RDBUFF read that collects the posted result (ADIv5.2
    B4.2.4, sticky flags and DP error responses). ARM's CMSIS-DAP firmware depends on it
    too: it reads RDBUFF after a final AP write so that a write error shows in that
    response. OpenOCD's SWD drivers trust the ACK: with OK they print stale data as the
    memory's contents."""
    symbols = firmware["symbols"]
    sim, openocd = start("swd", firmware["elf"])
    openocd.command("halt")
    openocd.command(f"wait_halt {WAIT_HALT_MS}", timeout=WAIT_HALT_MS / 1000 + 20)
    ok, output = openocd.try_command("mdw 0x60000000")
    if ok:
        openocd.fail(f"mdw of unmapped 0x60000000 succeeded with {output.strip()!r}")
    hello = openocd.read_bytes(symbols["hello"], 14)
    if hello != b"hello, world!\0":
        openocd.fail(f"after the fault, hello reads {hello!r}")


def test_swd_break_step_counter(start, firmware):
    """SWD: reset halt, a hardware breakpoint on blink_step, step, the counter between two
    halts, a write watchpoint, free running, halt, reset run (the firmware preloaded by
    bmp-sim)."""
    symbols = firmware["symbols"]
    sim, openocd = start("swd", firmware["elf"])
    check_examined(openocd)
    openocd.command("reset halt")
    if openocd.state() != "halted":
        openocd.fail("not halted after `reset halt`")
    pc = openocd.pc()
    if pc != symbols["reset_handler"]:
        openocd.fail(f"after `reset halt` the PC is 0x{pc:08x}, not reset_handler "
                     f"0x{symbols['reset_handler']:08x}")

    blink_step = symbols["blink_step"]
    output = openocd.command(f"bp 0x{blink_step:08x} 2 hw")
    if f"breakpoint set at 0x{blink_step:08x}" not in output.lower():
        openocd.fail(f"unexpected answer to bp: {output!r}")
    halt_at(openocd, blink_step, "blink_step")
    first = openocd.read_word(symbols["counter"])
    if first != 0:
        openocd.fail(f"counter is {first} at the first blink_step entry, expected 0 "
                     f"(.bss zeroed by the start-up code)")
    hello = openocd.read_bytes(symbols["hello"], 14)
    if hello != b"hello, world!\0":
        openocd.fail(f"hello in SRAM reads {hello!r} (the start-up code copies .data)")

    openocd.command("step")
    pc = openocd.pc()
    if not blink_step < pc <= blink_step + 4:
        openocd.fail(f"after `step` from blink_step 0x{blink_step:08x} the PC is 0x{pc:08x}, "
                     f"not one instruction further")

    halt_at(openocd, blink_step, "blink_step (second hit)")
    second = openocd.read_word(symbols["counter"])
    if second != first + 1:
        openocd.fail(f"counter went from {first} to {second} between two blink_step hits, "
                     f"expected +1")

    # A DWT write watchpoint on watched_value: the store in this blink_step call halts the
    # core, with the value compute(counter) in memory.
    watched = symbols["watched_value"]
    openocd.command(f"rbp 0x{blink_step:08x}")
    openocd.command(f"wp 0x{watched:08x} 4 w")
    watchpoint_halts = openocd.log().count("halted due to watchpoint")
    openocd.command("resume")
    openocd.command(f"wait_halt {WAIT_HALT_MS}", timeout=WAIT_HALT_MS / 1000 + 20)
    if openocd.log().count("halted due to watchpoint") != watchpoint_halts + 1:
        openocd.fail("the core did not halt on the watchpoint on watched_value")
    counter = openocd.read_word(symbols["counter"])
    value = openocd.read_word(watched)
    if counter != second + 1 or value != compute(counter):
        openocd.fail(f"at the watchpoint counter is {counter} (expected {second + 1}) and "
                     f"watched_value 0x{value:08x} (expected compute({counter}) = "
                     f"0x{compute(counter):08x})")
    openocd.command(f"rwp 0x{watched:08x}")

    openocd.command("resume")
    # Running on: the counter moves twice more (a comparator left set would stop it).
    openocd.wait_for_word(symbols["counter"], lambda counter: counter > second + 2,
                          "counter increasing while running")
    if openocd.state() != "running":
        openocd.fail("the core is not running after resume with no breakpoint")
    openocd.command("halt")
    openocd.command(f"wait_halt {WAIT_HALT_MS}", timeout=WAIT_HALT_MS / 1000 + 20)
    third = openocd.read_word(symbols["counter"])
    if third <= second:
        openocd.fail(f"counter did not increase while running: {second} then {third}")
    pc = openocd.pc()
    if not FLASH_BASE <= pc < FLASH_BASE + FLASH_SIZE_C8:
        openocd.fail(f"halted outside flash at 0x{pc:08x}")

    # A marker the start-up code's .bss zeroing must wipe out if `reset run` resets.
    marker = 0xF0000000
    openocd.command(f"mww 0x{symbols['counter']:08x} 0x{marker:08x}")
    openocd.command("reset run")
    openocd.wait_for_word(symbols["counter"], lambda counter: counter < marker,
                          "the start-up code wiping the marker after `reset run`")
    if openocd.state() != "running":
        openocd.fail("the core is not running after `reset run`")
    openocd.command("halt")
    openocd.command(f"wait_halt {WAIT_HALT_MS}", timeout=WAIT_HALT_MS / 1000 + 20)
    after_reset = openocd.read_word(symbols["counter"])
    if after_reset >= marker:
        openocd.fail(f"counter is 0x{after_reset:08x} after `reset run`: the firmware did not "
                     f"start again (0x{marker:08x} was written before)")


# Per part: flash size in KiB as F_SIZE at 0x1FFF_F7E0 reports it (RM0008 30.1.1), the
# DEV_ID of DBGMCU_IDCODE (RM0008 31.6.1: 0x410 medium density, 0x414 high density) and
# CPUID (0xE000_ED00): Cortex-M3 r1p1 on genuine parts; the CKS32F103C8 clone copies ST's
# DEV_ID but carries an r2p1 core (SW-DP 0x2BA01477), as observed on such blue pills.
PARTS = {
    "stm32f103c8": (64, 0x410, 0x411FC231),
    "stm32f103cb": (128, 0x410, 0x411FC231),
    "stm32f103rc": (256, 0x414, 0x411FC231),
    "cks32f103c8": (64, 0x410, 0x412FC231),
}


@pytest.mark.parametrize("chip", sorted(PARTS))
def test_swd_part_identity(start, firmware, chip):
    """Each simulated part reports its own DEV_ID, CPUID and flash size, and OpenOCD's
    stm32f1x flash driver probes the same size."""
    flash_kib, device_id, cpuid = PARTS[chip]
    sim, openocd = start("swd", firmware["elf"], chip=chip)
    if sim.chip != chip:
        openocd.fail(f"bmp-sim says it runs {sim.chip}, not {chip}")
    openocd.command("halt")
    openocd.command(f"wait_halt {WAIT_HALT_MS}", timeout=WAIT_HALT_MS / 1000 + 20)
    idcode = openocd.read_word(0xE0042000)
    if idcode & 0xFFF != device_id:
        openocd.fail(f"DBGMCU_IDCODE 0x{idcode:08x}: DEV_ID 0x{idcode & 0xFFF:03x}, expected "
                     f"0x{device_id:03x} for {chip}")
    if openocd.read_word(0xE000ED00) != cpuid:
        openocd.fail(f"CPUID is not 0x{cpuid:08x} on {chip}")
    size_word = openocd.read_word(0x1FFFF7E0)
    if size_word & 0xFFFF != flash_kib:
        openocd.fail(f"F_SIZE reads {size_word & 0xFFFF} KiB, expected {flash_kib} for {chip}")
    openocd.command("flash probe 0")
    log_has(openocd, rf"flash size = {flash_kib} ?k", f"OpenOCD probing {flash_kib} KiB of flash")


def test_swd_clock_setup(start, firmware):
    """The firmware's clock set-up reaches 72 MHz on the PLL: the simulator models RCC_CR
    HSERDY/PLLRDY and RCC_CFGR SWS (RM0008 7.3.1, 7.3.2)."""
    symbols = firmware["symbols"]
    sim, openocd = start("swd", firmware["elf"])
    openocd.command("reset halt")
    openocd.command(f"bp 0x{symbols['blink_step']:08x} 2 hw")
    halt_at(openocd, symbols["blink_step"], "blink_step")
    clock_error = openocd.read_word(symbols["clock_error"])
    frequency = openocd.read_word(symbols["system_clock_hz"])
    rcc_cfgr = openocd.read_word(0x40021004)
    flash_acr = openocd.read_word(0x40022000)
    if clock_error != 0 or frequency != 72000000:
        waits = {1: "HSERDY", 2: "PLLRDY", 3: "SWS = PLL"}
        openocd.fail(f"clock_setup() stayed on HSI: clock_error {clock_error} (the wait for "
                     f"{waits.get(clock_error, '?')} timed out), system_clock_hz {frequency}, "
                     f"RCC_CFGR 0x{rcc_cfgr:08x}, FLASH_ACR 0x{flash_acr:08x}")
    if (rcc_cfgr >> 2) & 3 != 2:
        openocd.fail(f"RCC_CFGR 0x{rcc_cfgr:08x}: SWS is not PLL")
    if flash_acr & 7 != 2:
        openocd.fail(f"FLASH_ACR 0x{flash_acr:08x}: LATENCY is not 2")


def test_swd_semihosting(start, firmware, tmp_path):
    """The firmware's semihosting test mode under OpenOCD: console output, a host file
    written and read back, SYS_EXIT_EXTENDED status 0 (OpenOCD exits with it when no gdb is
    connected)."""
    symbols = firmware["symbols"]
    sim, openocd = start("swd", firmware["elf"])
    openocd.command("reset halt")
    openocd.command("arm semihosting enable")
    main = symbols["main"]
    openocd.command(f"bp 0x{main:08x} 2 hw")
    halt_at(openocd, main, "main")
    openocd.command(f"rbp 0x{main:08x}")
    openocd.command(f"mww 0x{symbols['semihosting_test']:08x} 1")
    openocd.command("resume")
    status = openocd.wait_exit(timeout=120)
    if status is None:
        result = openocd.read_word(symbols["semihosting_result"]) \
            if openocd.try_command("halt")[0] else "?"
        openocd.fail(f"OpenOCD did not exit on SYS_EXIT_EXTENDED within 120 s "
                     f"(semihosting_result {result}); stdout so far: {openocd.stdout()!r}")
    output = openocd.stdout()
    if EXPECTED_SEMIHOSTING_OUTPUT not in output:
        openocd.fail(f"semihosting console output differs; expected {EXPECTED_SEMIHOSTING_OUTPUT!r},"
                     f" got {output!r}")
    if status != 0:
        openocd.fail(f"OpenOCD exited with status {status}, not the firmware's exit status 0")
    written = (tmp_path / "semihosting_test.txt").read_bytes()
    assert written == SEMIHOSTING_FILE_TEXT


def test_jtag_scan(start, firmware):
    """JTAG: the chain holds the Cortex-M3 TAP (JTAG-DP, IR 4) nearest TDO, then the
    boundary-scan TAP (IR 5), with a genuine medium-density part's IDCODEs; memory reads
    through the JTAG-DP work."""
    symbols = firmware["symbols"]
    sim, openocd = start("jtag", firmware["elf"])
    log_has(openocd, rf"tap/device found: 0x{JTAG_DP_IDCODE:08x}",
            f"the JTAG-DP IDCODE 0x{JTAG_DP_IDCODE:08x}")
    log_has(openocd, rf"tap/device found: 0x{BOUNDARY_SCAN_IDCODE_MEDIUM_DENSITY:08x}",
            f"the boundary-scan IDCODE 0x{BOUNDARY_SCAN_IDCODE_MEDIUM_DENSITY:08x}")
    if re.search(r"UNEXPECTED|IR capture error", openocd.log()):
        openocd.fail("OpenOCD reports an unexpected IDCODE or IR capture value")
    output = openocd.command("scan_chain")
    taps = {}
    for line in output.splitlines():
        match = re.match(r"\s*(\d+)\s+(\S+)\s+Y\s+(0x[0-9a-f]+)\s+\S+\s+(\d+)", line, re.IGNORECASE)
        if match:
            taps[match.group(2)] = (int(match.group(1)), int(match.group(3), 16),
                                    int(match.group(4)))
    expected = {"stm32f1x.cpu": (0, JTAG_DP_IDCODE, 4),
                "stm32f1x.bs": (1, BOUNDARY_SCAN_IDCODE_MEDIUM_DENSITY, 5)}
    if taps != expected:
        openocd.fail(f"scan_chain shows {taps}, expected {expected}:\n{output}")

    openocd.command("halt")
    openocd.command(f"wait_halt {WAIT_HALT_MS}", timeout=WAIT_HALT_MS / 1000 + 20)
    initial_sp = openocd.read_word(FLASH_BASE)
    if initial_sp != SRAM_TOP:
        openocd.fail(f"word 0 of flash reads 0x{initial_sp:08x} through the JTAG-DP, "
                     f"expected the initial SP 0x{SRAM_TOP:08x}")
    openocd.command("reset halt")
    openocd.command(f"bp 0x{symbols['blink_step']:08x} 2 hw")
    halt_at(openocd, symbols["blink_step"], "blink_step")
    hello = openocd.read_bytes(symbols["hello"], 14)
    if hello != b"hello, world!\0":
        openocd.fail(f"hello in SRAM reads {hello!r} through the JTAG-DP")
