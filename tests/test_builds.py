"""What the builds contain: the Rust library linked into the qemu firmware as Thumb code."""

import subprocess


def tool_output(*command):
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_qemu_firmware_links_the_rust_poll_loops(qemu_firmware):
    symbols = tool_output("arm-none-eabi-nm", str(qemu_firmware))
    defined = {line.split()[-1]: line.split()[1] for line in symbols.splitlines() if len(line.split()) == 3}
    for name in ("bmp_loop", "dap_loop", "bmp_event_hook", "bmp_help", "target_help", "dap_help"):
        assert defined.get(name) == "T", f"{name} not linked as code"


def test_qemu_firmware_is_thumb_for_cortex_m3(qemu_firmware):
    attributes = tool_output("arm-none-eabi-readelf", "-A", str(qemu_firmware))
    assert "Tag_CPU_arch: v7" in attributes
    assert "Tag_CPU_arch_profile: Microcontroller" in attributes
    # The Rust library itself was built for a Thumb-2 M-profile triple (thumbv7m-none-eabi).
    library = qemu_firmware.parent / "obj" / "rust" / "libbmp.a"
    library_attributes = tool_output("arm-none-eabi-readelf", "-A", str(library))
    assert "Tag_CPU_arch_profile: Microcontroller" in library_attributes
    assert "Tag_THUMB_ISA_use: Thumb-2" in library_attributes


# Probe boards ---------------------------------------------------------------------------
# tools/mkfw NAME builds a board from a MicroPython v1.25.0 git checkout with submodules
# (MICROPY_DIR); without one these tests skip and say so. Each build takes minutes: run them
# with `tools/test -k boards` when a checkout is at hand.

import os
import pathlib
import re

import pytest

TOP = pathlib.Path(__file__).resolve().parent.parent
PROBE_BOARDS = sorted(path.parent.name for path in (TOP / "boards").glob("*/pins.csv"))
# What each board's firmware may use: its internal-flash region after mboot (the linker
# scripts' FLASH_APP), the QSPI region where it has one, static RAM, and mboot's own region.
BUDGETS = {
    "STLINK3MINI": {"flash": 448 * 1024, "ram": 256 * 1024, "mboot": 32 * 1024},
    "PYBD_SF2": {"flash": 480 * 1024, "external": 1024 * 1024, "ram": 256 * 1024, "mboot": 32 * 1024},
    "DEVEBOX_STM32H743": {"flash": 1408 * 1024, "ram": 512 * 1024, "mboot": 128 * 1024},
    "DEVEBOX_STM32H750": {"flash": 896 * 1024, "ram": 512 * 1024, "mboot": 128 * 1024},
    # The H750 with only 128 KB that work: no mboot, the bulk in the 8 MB QSPI flash.
    "DEVEBOX_STM32H750_QSPI": {"flash": 128 * 1024, "external": 8 * 1024 * 1024, "ram": 512 * 1024},
}
# DEVEBOX_STM32H750_QSPI: where the code that runs before bmp_board_qspi_map() has mapped the
# QSPI flash starts: the reset handler (SystemInit, then stm32_main up to its call of
# MICROPY_BOARD_EARLY_INIT), the SysTick interrupt, and the QSPI driver's functions, which
# the SPI-flash driver calls through qspi_proto's pointers.
EARLY_ROOTS = ("Reset_Handler", "SysTick_Handler", "bmp_board_qspi_map")
EARLY_ROOT_PREFIXES = ("qspi_",)
EARLY_INIT = "bmp_board_qspi_map"
# Not followed: the fatal-error path (a clock that fails to start; it prints through the
# UART code in QSPI, so such an early failure stays silent on this board).
EARLY_LEAVES = ("boardctrl_fatal_error",)


def micropython_checkout():
    checkout = os.environ.get("MICROPY_DIR")
    if not checkout or not (pathlib.Path(checkout) / "lib" / "stm32lib" / "README.md").exists():
        pytest.skip("probe board builds need MICROPY_DIR=<MicroPython v1.25.0 git checkout with "
                    "submodules> (git clone --recursive -b v1.25.0 "
                    "https://github.com/micropython/micropython); none given")
    return checkout


def rust_pin_maps():
    """{map name: {signal: 'PB13', ...}} from rust/pins/src/boards.rs."""
    source = (TOP / "rust" / "pins" / "src" / "boards.rs").read_text()
    maps = {}
    for name, body in re.findall(r'name: "(\w+)",(.*?)\n};', source, re.S):
        pins = {}
        for signal, port, number in re.findall(r"(\w+): (?:Some\()?Pin::new\('(\w)', (\d+)\)", body):
            pins[signal] = f"P{port}{number}"
        maps[name] = pins
    return maps


@pytest.mark.parametrize("board", PROBE_BOARDS)
def test_pins_csv_names_the_pins_the_rust_backend_drives(board):
    """pins.csv's BMP_* names and the pin map the firmware's Rust backend uses agree."""
    directory = TOP / "boards" / board
    csv = {}
    for line in (directory / "pins.csv").read_text().splitlines():
        name, _, cpu = line.partition(",")
        csv[name] = cpu
    header = (directory / "mpconfigboard.h").read_text()
    # A board may include another's configuration (DEVEBOX_STM32H750 includes the H743's).
    for included in re.findall(r'#include "(\.\./\w+/mpconfigboard\.h)"', header):
        header += (directory / included).read_text()
    map_name = re.search(r'MICROPY_HW_BMP_PIN_MAP\s+"(\w+)"', header).group(1)
    rust = rust_pin_maps()[map_name]
    expected = {"BMP_SWCLK": "swclk", "BMP_SWDIO": "swdio", "BMP_SWO": "swo", "BMP_SRST": "reset",
                "BMP_TDI": "tdi", "BMP_TDO": "tdo", "BMP_SWDIO_IN": "swdio_in", "BMP_SWDIO_DIR": "swdio_direction"}
    for name, signal in expected.items():
        if signal in rust or name in csv:
            assert csv.get(name) == rust.get(signal), f"{board}: {name} {csv.get(name)} vs rust {signal} {rust.get(signal)}"


# A board's first build takes 10-20 minutes on a busy two-core machine: more than the suite's
# 600 s default (pytest.ini), which cut the DEVEBOX builds short.
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("board", PROBE_BOARDS)
def test_board_builds_and_fits(board):
    checkout = micropython_checkout()
    environment = dict(os.environ, MICROPY_DIR=checkout)
    result = subprocess.run([str(TOP / "tools" / "mkfw"), board], capture_output=True, text=True,
                            env=environment, timeout=3600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = TOP / "build" / board
    for suffix in ("elf", "hex", "dfu"):
        assert (out / f"firmware.{suffix}").stat().st_size > 0
    sizes = tool_output("arm-none-eabi-size", "-A", str(out / "firmware.elf"))
    sections = {fields[0]: int(fields[1]) for fields in (line.split() for line in sizes.splitlines())
                if len(fields) == 3 and fields[1].isdigit()}
    flash = sum(sections.get(name, 0) for name in (".isr_vector", ".text", ".data"))
    ram = sum(sections.get(name, 0) for name in (".data", ".bss"))
    assert flash <= BUDGETS[board]["flash"], (board, flash)
    assert sections.get(".text_ext", 0) <= BUDGETS[board].get("external", 0), (board, sections.get(".text_ext"))
    assert ram <= BUDGETS[board]["ram"], (board, ram)
    if "mboot" in BUDGETS[board]:
        # mboot, built with it, fits the sectors the firmware leaves it.
        mboot = tool_output("arm-none-eabi-size", "-A", str(out / "mboot" / "firmware.elf"))
        mboot_sections = {fields[0]: int(fields[1]) for fields in (line.split() for line in mboot.splitlines())
                          if len(fields) == 3 and fields[1].isdigit()}
        mboot_flash = sum(mboot_sections.get(name, 0) for name in (".isr_vector", ".text", ".data"))
        assert 0 < mboot_flash <= BUDGETS[board]["mboot"], (board, mboot_flash)
        assert (out / "mboot" / "firmware.dfu").stat().st_size > 0
    else:
        check_code_before_the_qspi_mapping_is_internal(out / "firmware.elf")
    # The Rust library went in, built for the Cortex-M7 with the GPIO pin backend.
    symbols = tool_output("arm-none-eabi-nm", str(out / "firmware.elf"))
    assert " T bmp_loop" in symbols and " T bmp_board_gpio_init" in symbols
    # The probe's static starts as zeros in .bss, not as a 40 KB image in flash (.data).
    probe = [line.split() for line in symbols.splitlines() if line.endswith("5probe5PROBE")]
    assert len(probe) == 1 and probe[0][1] in "bB", probe
    # USB: the CMSIS-DAP v2 interface and the event hook are in.
    assert " T pyb_usb_dap_receive" in symbols and " T bmp_board_usb_dap_receive" in symbols
    assert " T bmp_vm_hook" in symbols
    # The board's Cargo features (docs/boards.md): a subsystem left out is not linked at
    # all (the STLINK3MINI: the debug-sequence interpreter and the flash-algorithm runner).
    kept = board_cargo_features(board)
    for feature, crate_module in (("sequences", "8sequence7machine"), ("flash-algorithm", "4algo6runner")):
        assert (crate_module in symbols) == (kept is None or feature in kept), (board, feature)
    check_bit_loops_keep_their_edges_inlined(out / "firmware.elf")


def check_bit_loops_keep_their_edges_inlined(elf):
    """The SWD/JTAG bit loops are functions of rust/pins (pins::board_wire::BoardPins, built
    at opt-level "s" while the rest is at "z", Cargo profile `board`) with every pin access
    inlined: no call in them (at "z" each edge was a call, docs/performance.md P5)."""
    listing = tool_output("arm-none-eabi-objdump", "-d", "--no-show-raw-insn", str(elf))
    loops = {}
    current = None
    for line in listing.splitlines():
        start = re.match(r"^[0-9a-f]{8} <(\S+)>:$", line)
        if start:
            name = start.group(1)
            current = next((method for method in ("write_swd_bits", "read_swd_bits", "tck_cycle")
                            if "board_wire" in name and "BoardPins" in name and name.endswith(method)), None)
            if current:
                loops[current] = []
        elif current and line.strip():
            loops[current].append(line.split()[1] if len(line.split()) > 1 else "")
    assert set(loops) == {"write_swd_bits", "read_swd_bits", "tck_cycle"}, sorted(loops)
    for method, mnemonics in loops.items():
        assert mnemonics and not [m for m in mnemonics if m in ("bl", "blx")], (elf, method, mnemonics)


def board_cargo_features(board):
    """The root package's features a board builds with; None: the defaults (everything)."""
    make = (TOP / "boards" / board / "mpconfigboard.mk").read_text()
    if not re.search(r"^BMP_CARGO_NO_DEFAULT\s*=\s*1", make, re.M):
        return None
    return re.search(r"^BMP_CARGO_FEATURES\s*=(.*)$", make, re.M).group(1).split()


def internal_functions(elf):
    """{name: [(mnemonic, target name)]} of the internal flash's code (objdump of .text)."""
    functions, current = {}, None
    listing = tool_output("arm-none-eabi-objdump", "-d", "--no-show-raw-insn", "-j", ".text", str(elf))
    for line in listing.splitlines():
        start = re.match(r"^[0-9a-f]{8} <([^>]+)>:$", line)
        if start:
            current = functions.setdefault(start.group(1), [])
            continue
        branch = re.match(r"^\s+[0-9a-f]+:\s+(b\S*)\s+[0-9a-f]+ <([^>+]+)>$", line)
        if branch and current is not None:
            current.append(branch.groups())
    return functions


def reached_before_the_mapping(elf):
    """Functions reachable (direct branches) from EARLY_ROOTS, stm32_main only up to its call
    of EARLY_INIT: {name: caller}."""
    functions = internal_functions(elf)
    roots = [name for name in functions if name in EARLY_ROOTS or name.startswith(EARLY_ROOT_PREFIXES)]
    assert "stm32_main" in functions and EARLY_INIT in functions and len(roots) >= 5, roots
    early_main = []
    for mnemonic, target in functions["stm32_main"]:
        if target == EARLY_INIT:
            break
        early_main.append((mnemonic, target))
    early = "stm32_main (before the mapping)"
    functions[early] = early_main
    reached = {name: "root" for name in roots + [early]}
    work = list(reached)
    while work:
        name = work.pop()
        if name in EARLY_LEAVES:
            continue
        for _, target in functions.get(name, []):
            target = early if target == "stm32_main" else target
            if target not in reached and target != name:
                reached[target] = name
                work.append(target)
    return reached


def check_code_before_the_qspi_mapping_is_internal(elf):
    """The QSPI build: nothing that runs before the mapping branches to code in the QSPI
    flash (a veneer, __NAME_veneer, is how internal code reaches it; a function not in the
    internal listing is in the QSPI one); the bulk (the VM, bmp's Rust library) is at
    0x9000_0000; both images are there for flashing. Calls through function pointers other
    than qspi_proto's are not followed (SysTick's dispatch table is empty at that time)."""
    functions = internal_functions(elf)
    reached = reached_before_the_mapping(elf)
    outside = {name: caller for name, caller in reached.items()
               if name.endswith("_veneer") or (name not in functions and not name.startswith("stm32_main ("))}
    assert not outside, f"reached before the QSPI mapping but in QSPI flash: {outside}"
    for name in ("SystemInit", "SystemClock_Config", "HAL_RCC_ClockConfig", "mp_spiflash_init",
                 "qspi_memory_map", "memset"):
        assert name in reached, name
    addresses = {}
    for line in tool_output("arm-none-eabi-nm", str(elf)).splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in "tTwW":
            addresses[fields[2]] = int(fields[0], 16)
    for name in ("bmp_loop", "mp_execute_bytecode", "gc_collect"):
        assert 0x9000_0000 <= addresses[name] < 0x9080_0000, (name, hex(addresses[name]))
    for image in ("firmware0.bin", "firmware1.bin"):
        assert (elf.parent / image).stat().st_size > 0


def test_boards_freeze_the_factory_files_factory_reset_and_pye():
    """Every probe board freezes bmp_factory (the boot.py/main.py templates, tested on the
    host probe: tests/test_factory_reset.py), the machine.py that adds factory_reset() and
    the pye editor (tests/test_pye.py); a fresh filesystem gets bmp_factory.FILES from the
    C side."""
    source = (TOP / "modules" / "bmp" / "bmp_board_factory.c").read_text()
    assert "MP_QSTR_bmp_factory" in source and "MP_QSTR_FILES" in source
    for board in PROBE_BOARDS:
        manifest = (TOP / "boards" / board / "manifest.py").read_text()
        assert 'module("bmp_factory.py"' in manifest, board
        assert 'module("machine.py", base_path="$(BOARD_DIR)/../../modules/frozen/stm32")' in manifest, board
        assert 'module("pye.py"' in manifest, board
        assert 'module("platform.py"' in manifest, board  # platform.pinout()
