"""Pin backends on the host probe (rust/pins): a probe board's STM32 GPIO pin code against
a model of its GPIO registers wired to the simulated blue pill (BMP_WIRE=gpio-model:BOARD),
the calibrated SWCLK delay, and the Linux GPIO character device's BMP_WIRE errors (no GPIO
chip on this machine: the ioctl path itself is checked in `cargo test -p pins`)."""

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


def run(micropython, wire, *arguments, timeout=120):
    environment = dict(os.environ, BMP_WIRE=wire)
    result = subprocess.run([str(micropython), *map(str, arguments)], capture_output=True,
                            text=True, timeout=timeout, env=environment)
    return result.stdout + result.stderr


def assert_checks(output, expected_count):
    lines = [line for line in output.splitlines() if line.strip()]
    failed = [line for line in lines if not line.endswith(" ok")]
    assert not failed, output
    assert len(lines) == expected_count, output


@pytest.mark.parametrize("board", ["stlink3mini", "pybd_sf2", "devebox_stm32h7"])
def test_target_flow_through_the_boards_gpio_pin_code(unix_micropython, firmware, board):
    """Scan, attach, flash, verify, run control, break and watch points (tests/sim/target_flow.py)."""
    output = run(unix_micropython, f"gpio-model:{board}", SIM_SCRIPTS / "target_flow.py",
                 firmware / "firmware.bin", firmware / "firmware.nm")
    assert_checks(output, 18)


def test_calibration_sets_the_swclk_delay(unix_micropython):
    output = run(unix_micropython, "gpio-model", SIM_SCRIPTS / "calibration.py")
    assert_checks(output, 8)


SCAN = "import target\ntry:\n    target.swdp_scan()\nexcept OSError as error:\n    print(error)\n"


@pytest.mark.parametrize("wire, message", [
    ("gpiochip:/dev/gpiochip0:swclk=25", "gpiochip: swdio=N is required"),
    ("gpiochip:/dev/gpiochip0:swclk=25,swdio=25", "gpiochip: one line is given to two signals"),
    ("gpiochip:/dev/gpiochip0:swclk=25,swdio=x", "gpiochip: a line number is a decimal number below 64"),
    ("gpiochip:/dev/gpiochip0:sclk=25,swdio=24", "gpiochip: signals are swclk, swdio, srst, tdi and tdo"),
    ("gpiochip:/dev/gpiochip-none:swclk=25,swdio=24", "gpiochip: no such device"),
    ("gpiochip:/dev/null:swclk=25,swdio=24", "gpiochip: that file is not a GPIO chip"),
    ("gpio-model:nucleo", "BOARD is stlink3mini, pybd_sf2 or devebox_stm32h7"),
])
def test_bad_wire_settings_are_clear_errors(unix_micropython, wire, message):
    output = run(unix_micropython, wire, "-c", SCAN)
    assert output.startswith("wire backend: ") and message in output, output
