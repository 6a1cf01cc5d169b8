"""Flash algorithms run by the probe (issue 12), each through target.flash_algorithm from a
script and through gdb `load` + `compare-sections`: the vendors' algorithms of the probe-rs
crate (targets/*.yaml, tools/probe-rs-targets) and pyOCD's built-in ones (build/venv's
pyocd) on the simulated chips they are for, the FLM built here (tests/firmware/flm); bad
algorithms give clear errors."""

import base64
import importlib
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from helpers.gdb import BmpProbe, build_firmware

pytestmark = pytest.mark.timeout(300)

TOP = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = TOP / "tests" / "sim" / "flash_algorithm.py"


@pytest.fixture(scope="module")
def firmware():
    return build_firmware()


def probe_rs_algorithm(directory, file, name):
    """One algorithm of the probe-rs crate's targets/FILE as JSON (tools/algorithm)."""
    targets = subprocess.run([str(TOP / "tools" / "probe-rs-targets")], capture_output=True,
                             text=True, check=True).stdout.strip()
    out = directory / f"{name}.json"
    subprocess.run([sys.executable, str(TOP / "tools" / "algorithm"), f"{targets}/{file}", name,
                    str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def probe_rs_json(tmp_path_factory):
    return probe_rs_algorithm(tmp_path_factory.mktemp("algorithms"), "STM32F1_Series.yaml",
                              "stm32f10x_128")


def test_target_flash_algorithm_from_a_script(unix_micropython, firmware, probe_rs_json):
    environment = dict(os.environ, BMP_WIRE="sim:stm32f103cb")
    result = subprocess.run(
        [str(unix_micropython), str(SCRIPT), str(probe_rs_json), str(firmware / "stm32f1.flm"),
         str(firmware / "stm32f1-hang.flm"), str(firmware / "stm32f1-fail.flm"),
         str(firmware / "firmware.bin")],
        capture_output=True, text=True, timeout=240, env=environment)
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    assert all(" ok" in line for line in lines) and len(lines) == 24, output


def gdb_load(micropython, cwd, chip, setup, elf, flash_map):
    """gdb `load`, `compare-sections` and a run to blink_step through bmp with the
    algorithm that `setup` gives; `info mem` must show `flash_map`."""
    probe = BmpProbe(micropython, cwd, chip=chip, setup=["import target", "import json"] + setup)
    try:
        run = probe.gdb(probe.connect() + [
            "info mem", "load", "compare-sections", "break blink_step", "continue"], elf=elf,
            timeout=250)
    finally:
        probe.close()
    memory = run.output("info mem")
    assert flash_map in memory, f"{run}"
    compare = run.output("compare-sections")
    assert "matched" in compare and "MIS-MATCHED" not in compare, f"{run}"
    assert "blink_step" in run.output("continue"), f"{run}"


def test_gdb_loads_through_the_flm_built_here(unix_micropython, tmp_path, firmware):
    """On the 64 KB STM32F103C8 the 128 KB FLM's region replaces the driver's: the memory
    map gdb reads shows it, and every vFlash packet goes to the algorithm."""
    setup = [f"target.flash_algorithm({str(firmware / 'stm32f1.flm')!r})"]
    gdb_load(unix_micropython, tmp_path, "stm32f103c8", setup, firmware / "firmware.elf",
             "0x08000000 0x08020000 flash blocksize 0x400")


# The vendors' algorithms of the probe-rs crate (targets/*.yaml, extracted by probe-rs's
# target-gen from the vendors' CMSIS-Packs): chip: (file, algorithm, firmware build, the
# first flash run of `info mem` with the algorithm's region, whether `target` also writes
# over other data). Nobody here wrote them; the simulated flash controllers are modelled
# from the reference manuals alone.
VENDOR_ALGORITHMS = {
    # ST's STM32F1 128 KB algorithm: on the 64 KB C8 its 128 KB region replaces the driver's.
    "stm32f103c8": ("STM32F1_Series.yaml", "stm32f10x_128", "firmware",
                    "0x08000000 0x08020000 flash blocksize 0x400", True),
    # ST's STM32F4 1 MB algorithm: three runs of sectors, replacing the F4 driver's.
    "stm32f407vg": ("STM32F4_Series.yaml", "stm32f4xx_1024", "firmware-f4",
                    "0x08000000 0x08010000 flash blocksize 0x4000", True),
    # Nordic's nRF52 algorithm (NVMC): 4 KB pages, one region from 0 over the UICR.
    "nrf52840": ("nRF52_Series.yaml", "nrf52", "firmware-nrf52",
                 "0x00000000 0x10002000 flash blocksize 0x1000", True),
    # Microchip's SAMD21 256 KB algorithm (NVMCTRL): 64-byte pages, 16 KB sectors.
    "atsamd21g18a": ("SAMD21.yaml", "atsamd21_256", "firmware-samd21",
                     "0x00000000 0x00040000 flash blocksize 0x4000", True),
    # Raspberry Pi's RP2040 algorithm (through the boot ROM's flash functions): its 128 MB
    # region (4 KB sectors) replaces the driver's 2 MB one.
    "rp2040": ("RP2040.yaml", "algo", "firmware-rp2040",
               "0x10000000 0x18000000 flash blocksize 0x1000", True),
    # ST's STM32H7 2 MB algorithm: 128 KB sectors over both banks. Not over other data
    # through `target`: one 128 KB EraseSector polls ~2 s of the simulator's flash time,
    # about 18 s of emulation on this host.
    "stm32h743zi": ("STM32H7_Series.yaml", "stm32h7x_2048", "firmware-f4",
                    "0x08000000 0x08200000 flash blocksize 0x20000", False),
}
# Time added to each call's timeout: the probe's clock is the host's, and the emulated core
# polls the simulated flash's busy flag far slower than the chip would.
SLACK_MS = 120000


def run_vendor_algorithm(micropython, chip, algorithm, image, over):
    """tests/sim/vendor_algorithm.py on the simulated `chip`: every check passes."""
    environment = dict(os.environ, BMP_WIRE=f"sim:{chip}")
    result = subprocess.run(
        [str(micropython), str(TOP / "tests" / "sim" / "vendor_algorithm.py"), str(algorithm),
         str(image), str(SLACK_MS), str(int(over))],
        capture_output=True, text=True, timeout=240, env=environment)
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    assert all(line.endswith(" ok") for line in lines) and len(lines) == 4 + over, output


@pytest.mark.parametrize("chip", list(VENDOR_ALGORITHMS))
def test_vendor_algorithm_through_target(unix_micropython, tmp_path, firmware, chip):
    file, name, image, _, over = VENDOR_ALGORITHMS[chip]
    run_vendor_algorithm(unix_micropython, chip, probe_rs_algorithm(tmp_path, file, name),
                         firmware / f"{image}.bin", over)


@pytest.mark.parametrize("chip", list(VENDOR_ALGORITHMS))
def test_vendor_algorithm_through_gdb_load(unix_micropython, tmp_path, firmware, chip):
    """gdb `load` through bmp with the vendor's algorithm set before bmp.init(): the memory
    map gdb reads shows its region, every vFlash packet goes to it, compare-sections
    matches and the program runs to a breakpoint."""
    file, name, image, flash_map, _ = VENDOR_ALGORITHMS[chip]
    algorithm = probe_rs_algorithm(tmp_path, file, name)
    setup = [f"target.flash_algorithm(json.load(open({str(algorithm)!r})), None, None, "
             f"{SLACK_MS})"]
    gdb_load(unix_micropython, tmp_path, chip, setup, firmware / f"{image}.elf", flash_map)


def pyocd_algorithm(module, target_class, directory):
    """pyOCD's built-in FLASH_ALGO of `module` (pyocd.target.builtin or .family, in
    build/venv) as the dict target.flash_algorithm takes: the blob (its header included)
    with the entry points and static base as offsets from its load address; the flash
    the blob gives (flash_start, flash_size, sector_sizes), else the first flash region of
    the target's pyOCD memory map that uses it; its page size, else the region's. pyOCD's
    blobs carry no timeouts: 1 s a page, 6 s a sector (the slack comes on top)."""
    builtin = importlib.import_module(f"pyocd.target.{module}")
    blob = builtin.FLASH_ALGO
    region = next(region for region in getattr(builtin, target_class).MEMORY_MAP.regions
                  if region.type.name == "FLASH" and region.algo is blob)
    start = blob.get("flash_start", region.start)
    sectors = blob.get("sector_sizes", [(0, region.sector_size)])
    load = blob["load_address"]
    entries = {"pc_init": "pc_init", "pc_uninit": "pc_unInit", "pc_program_page":
               "pc_program_page", "pc_erase_sector": "pc_erase_sector", "pc_erase_all":
               "pc_eraseAll"}
    algorithm = {
        "name": f"pyOCD {target_class}",
        "instructions": base64.b64encode(b"".join(
            word.to_bytes(4, "little") for word in blob["instructions"])).decode(),
        # The RP2040's pc_eraseAll is 0x120000003: none.
        **{ours: blob[theirs] - load for ours, theirs in entries.items()
           if theirs in blob and blob[theirs] < 1 << 32},
        "data_section_offset": blob["static_base"] - load,
        "flash_properties": {
            "address_range": {"start": start,
                              "end": start + blob.get("flash_size", region.length)},
            "page_size": blob.get("page_size") or region.page_size,
            "erased_byte_value": region.erased_byte_value,
            "program_page_timeout": 1000, "erase_sector_timeout": 6000,
            "sectors": [{"size": size, "address": offset} for offset, size in sectors],
        },
    }
    out = directory / f"{target_class}.json"
    out.write_text(json.dumps(algorithm))
    return out


# pyOCD's built-in algorithms for the simulated chips: chip: (module, target class,
# firmware build, over other data through `target`). pyOCD has none for the F407 (its
# builtins are the F412, F429, F439) nor the SAMD21 (a pack).
PYOCD_ALGORITHMS = {
    # ST's STM32F103RC algorithm: 2 KB pages, its data past its code (static base 0x200).
    "stm32f103rc": ("builtin.target_STM32F103RC", "STM32F103RC", "firmware", True),
    # Nordic's algorithm as pyOCD ships it for the nRF52840.
    "nrf52840": ("builtin.target_nRF52840_xxAA", "NRF52840", "firmware-nrf52", True),
    # ST's STM32H7 algorithm for both banks (2 MB); not over other data, as above.
    "stm32h743zi": ("builtin.target_STM32H743xx", "STM32H743xx", "firmware-f4", False),
    # pyOCD's own RP2040 algorithm (boot ROM functions), 256-byte pages.
    "rp2040": ("family.target_rp2", "RP2040Core0", "firmware-rp2040", True),
}


@pytest.mark.parametrize("chip", list(PYOCD_ALGORITHMS))
def test_pyocd_built_in_algorithm_through_target(unix_micropython, tmp_path, firmware, chip):
    module, target_class, image, over = PYOCD_ALGORITHMS[chip]
    run_vendor_algorithm(unix_micropython, chip, pyocd_algorithm(module, target_class, tmp_path),
                         firmware / f"{image}.bin", over)


@pytest.mark.parametrize("chip", list(PYOCD_ALGORITHMS))
def test_pyocd_built_in_algorithm_through_gdb_load(unix_micropython, tmp_path, firmware, chip):
    module, target_class, image, _ = PYOCD_ALGORITHMS[chip]
    algorithm = pyocd_algorithm(module, target_class, tmp_path)
    properties = json.loads(algorithm.read_text())["flash_properties"]
    flash = properties["address_range"]
    flash_map = (f"0x{flash['start']:08x} 0x{flash['end']:08x} flash blocksize "
                 f"0x{properties['sectors'][0]['size']:x}")
    setup = [f"target.flash_algorithm(json.load(open({str(algorithm)!r})), None, None, "
             f"{SLACK_MS})"]
    gdb_load(unix_micropython, tmp_path, chip, setup, firmware / f"{image}.elf", flash_map)


def test_gdb_monitor_algorithm_chooses_the_algorithm(unix_micropython, tmp_path, firmware):
    """`monitor algorithm` from gdb on the STM32F103C8: lists what writes each flash region,
    loads FLMs from the probe's filesystem (here the host's), refuses a missing file and
    an FLM that does not write the address given; an FLM whose ProgramPage fails makes
    gdb's load fail, `monitor flash_report` says why, and the probe serves on; after
    `attach` again gdb's memory map has the algorithm's 128 KB, and load, compare-sections
    and a breakpoint work through it;
    `off` gives the flash back to the driver."""
    flm, fail = firmware / "stm32f1.flm", firmware / "stm32f1-fail.flm"
    probe = BmpProbe(unix_micropython, tmp_path, chip="stm32f103c8")
    try:
        run = probe.gdb(probe.connect() + [
            "monitor algorithm", f"monitor algorithm load {tmp_path}/missing.flm",
            f"monitor algorithm load {fail}", "detach", "attach 1", "load",
            "monitor flash_report", "monitor algorithm",
            f"monitor algorithm load {flm} 0x08020000", "monitor algorithm",
            f"monitor algorithm load {flm} 0x08000000", "detach", "attach 1", "info mem", "load",
            "compare-sections", "break blink_step", "continue", "monitor algorithm off",
            "monitor algorithm"], elf=firmware / "firmware.elf", timeout=120)
    finally:
        probe.close()
    driver = ("Flash regions:\n  0x08000000-0x08010000 sectors 0x400: driver STM32F1 medium "
              "density")
    algorithm = ('Flash regions:\n  0x08000000-0x08020000 sectors 0x400: algorithm "STM32F1 '
                 '128 KB flash (bmp test FLM)"')
    assert run.outputs("monitor algorithm")[0].startswith(driver), f"{run}"
    assert "cannot read the file: errno 2 (no such file)" in run.output(
        f"monitor algorithm load {tmp_path}/missing.flm"), f"{run}"
    assert algorithm in run.output(f"monitor algorithm load {fail}"), f"{run}"
    # gdb names the packet that failed (vFlashWrite, or vFlashDone for the last pages).
    failed = run.output("load", 0)
    assert re.search(r"Error (writing data to|finishing) flash", failed), f"{run}"
    assert "Start address" not in failed, f"{run}"
    # gdb does not say why; flash_report does.
    assert run.output("monitor flash_report").startswith(
        "The last load failed: flash algorithm ProgramPage failed at 0x08000000 (returned 1)"), \
        f"{run}"
    assert run.outputs("monitor algorithm")[1].startswith(algorithm), f"{run}"
    assert ("it writes 0x08000000-0x08020000, not 0x08020000; no algorithm in use" in
            run.output(f"monitor algorithm load {flm} 0x08020000")), f"{run}"
    assert run.outputs("monitor algorithm")[2].startswith(driver), f"{run}"
    assert algorithm in run.output(f"monitor algorithm load {flm} 0x08000000"), f"{run}"
    assert "0x08000000 0x08020000 flash blocksize 0x400" in run.output("info mem"), f"{run}"
    compare = run.output("compare-sections")
    assert "matched" in compare and "MIS-MATCHED" not in compare, f"{run}"
    assert "blink_step" in run.output("continue"), f"{run}"
    assert "the chip's driver writes its flash" in run.output("monitor algorithm off"), f"{run}"
    assert run.outputs("monitor algorithm")[3].startswith(driver), f"{run}"


@pytest.mark.parametrize("chip", ["nrf52840", "atsamd21g18a", "stm32f407vg"])
def test_gdb_monitor_algorithm_loads_a_vendor_algorithm_as_an_flm(unix_micropython, tmp_path,
                                                                   firmware, chip):
    """The vendor's algorithm written as an FLM file (tools/algorithm TARGET.yaml NAME
    OUT.flm) and chosen from gdb before `attach`: gdb's memory map has its region, load and
    compare-sections go through it, the program runs to a breakpoint."""
    file, name, image, flash_map, _ = VENDOR_ALGORITHMS[chip]
    targets = subprocess.run([str(TOP / "tools" / "probe-rs-targets")], capture_output=True,
                             text=True, check=True).stdout.strip()
    flm = tmp_path / f"{name}.flm"
    subprocess.run([sys.executable, str(TOP / "tools" / "algorithm"), f"{targets}/{file}", name,
                    str(flm)], check=True)
    start = flash_map.split()[0]
    probe = BmpProbe(unix_micropython, tmp_path, chip=chip, setup=[
        "import target", f"target.flash_algorithm(None, None, None, {SLACK_MS})"])
    try:
        run = probe.gdb([f"target extended-remote 127.0.0.1:{probe.port}", "monitor swdp_scan",
                         "attach 1", "monitor algorithm", f"monitor algorithm load {flm} {start}",
                         "detach", "attach 1", "info mem", "load", "compare-sections",
                         "break blink_step", "continue"], elf=firmware / f"{image}.elf",
                        timeout=200)
    finally:
        probe.close()
    assert ": driver " in run.output("monitor algorithm"), f"{run}"
    assert f"Flash algorithm {flm} writes {start}" in run.output(
        f"monitor algorithm load {flm} {start}"), f"{run}"
    assert flash_map in run.output("info mem"), f"{run}"
    compare = run.output("compare-sections")
    assert "matched" in compare and "MIS-MATCHED" not in compare, f"{run}"
    assert "blink_step" in run.output("continue"), f"{run}"
