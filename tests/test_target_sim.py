"""The target module on the host probe against the simulated blue pill (issue: the debug
engine). Each script line is a check: "<name> ok" or "<name> FAILED <details>"."""

import os
import pathlib
import subprocess

import pytest

SIM_SCRIPTS = pathlib.Path(__file__).parent / "sim"


@pytest.fixture(scope="session")
def firmware(top):
    build = top / "build" / "firmware"
    subprocess.run(["make", "-s", "-C", str(top / "tests" / "firmware"), f"BUILD={build}"], check=True)
    return build


def run_script(micropython, script, *arguments, wire="sim", timeout=300):
    environment = dict(os.environ, BMP_WIRE=wire)
    result = subprocess.run([str(micropython), str(SIM_SCRIPTS / script), *map(str, arguments)],
                            capture_output=True, text=True, timeout=timeout, env=environment)
    return result.stdout + result.stderr


def assert_checks(output, expected_count):
    lines = [line for line in output.splitlines() if line.strip()]
    failed = [line for line in lines if " ok" not in line]
    assert not failed, output
    assert len(lines) == expected_count, output


def test_target_flow_on_the_simulated_blue_pill(unix_micropython, firmware):
    output = run_script(unix_micropython, "target_flow.py", firmware / "firmware.bin", firmware / "firmware.nm")
    assert_checks(output, 18)


def test_scan_names_the_clone(unix_micropython):
    output = run_script(unix_micropython, "scan.py", wire="sim:cks32f103c8")
    assert "swdp ['STM32F1 (clone) medium density M3']" in output, output


def test_jtag_scan_finds_both_taps(unix_micropython):
    output = run_script(unix_micropython, "scan.py")
    assert "swdp ['STM32F1 medium density M3']" in output, output
    assert "jtag ['STM32F1 medium density M3']" in output, output
    # Nearest TDO first: the Cortex-M3 JTAG-DP, then the boundary-scan TAP (RM0008 31.6.2).
    assert "chain [('0x3ba00477', 4), ('0x16410041', 5)]" in output, output


def test_scan_finds_the_f407(unix_micropython):
    """BMP_WIRE=sim:CHIP takes any bmp-sim chip: the F407 is found by the engine's STM32F4
    driver (its JTAG-DP 0x4BA00477, boundary-scan TAP 0x06413041)."""
    output = run_script(unix_micropython, "scan.py", wire="sim:stm32f407vg")
    assert "swdp ['STM32F405/407 M4']" in output, output
    assert "chain [('0x4ba00477', 4), ('0x6413041', 5)]" in output, output


@pytest.mark.parametrize("chip, name", [("stm32f407vg", "STM32F405/407"),
                                        ("stm32f411ce", "STM32F411xC/E")])
def test_target_flashes_and_debugs_the_f4(unix_micropython, firmware, chip, name):
    output = run_script(unix_micropython, "target_f4.py", name, firmware / "firmware-f4.bin",
                        firmware / "firmware-f4.nm", wire=f"sim:{chip}")
    assert_checks(output, 6)


def test_an_unknown_sim_chip_is_a_clear_error(unix_micropython):
    output = run_script(unix_micropython, "scan.py", wire="sim:stm32f999")
    assert "bmp-sim --help" in output, output


def test_target_flashes_and_debugs_the_rp2040(unix_micropython, firmware):
    """BMP_WIRE=sim:rp2040: both cores behind the multi-drop wire; flash through the boot
    ROM on core 1, break and step from XIP on core 0 (tests/sim/target_rp2040.py)."""
    output = run_script(unix_micropython, "target_rp2040.py", firmware / "firmware-rp2040.bin",
                        firmware / "firmware-rp2040.nm", wire="sim:rp2040")
    assert_checks(output, 5)
