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


# nRST held low by the target ----------------------------------------------------------

def rsp_packet(body):
    return b"$" + body + b"#%02x" % (sum(body) & 0xFF)


def rsp_replies(client, until):
    """Packets (their bodies) up to and including the first that `until` accepts."""
    data, replies = b"", []
    while True:
        start = data.find(b"$")
        end = data.find(b"#", start)
        if start >= 0 and end >= 0 and len(data) >= end + 3:
            body = data[start + 1:end]
            data = data[end + 3:]
            replies.append(body)
            client.sendall(b"+")
            if until(body):
                return replies
            continue
        chunk = client.recv(4096)
        assert chunk, f"connection closed; received {replies!r}"
        data += chunk


def monitor(client, command):
    """`monitor COMMAND`: (its console text, its final reply)."""
    client.sendall(rsp_packet(b"qRcmd," + command.encode().hex().encode()))
    replies = rsp_replies(client, lambda body: not body.startswith(b"O") or body == b"OK")
    text = "".join(bytes.fromhex(body[1:].decode()).decode() for body in replies[:-1])
    return text, replies[-1]


def test_nrst_held_low_is_a_clear_error_and_the_probe_keeps_serving(unix_micropython):
    """A target (or wiring) holding nRST low, through a board's own GPIO pin code: the pulse
    of `monitor hard_srst` cannot release it, the probe says so within its 100 ms wait, and
    the GDB server goes on answering (the scan still finds the debug port, which answers
    under reset as an STM32's does)."""
    import socket
    import time
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    script = f"import bmp, time\nbmp.init(tcp={port})\nprint('serving')\nwhile True:\n    time.sleep(1)\n"
    environment = dict(os.environ, BMP_WIRE="gpio-model:devebox_stm32h7", BMP_SIM_FAULTS="reset-stuck=1")
    process = subprocess.Popen([str(unix_micropython), "-c", script], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=environment)
    try:
        assert b"serving" in process.stdout.readline()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            started = time.monotonic()
            text, reply = monitor(client, "hard_srst")
            assert time.monotonic() - started < 5
            assert "nRST stays low" in text and "holds reset" in text, text
            assert reply != b"OK"
            text, reply = monitor(client, "version")
            assert reply == b"OK" and "bmp" in text.lower(), text
            text, reply = monitor(client, "swdp_scan")
            assert reply == b"OK" and "stm32" in text.lower(), text
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.parametrize("board,directory", [("devebox_stm32h7", "DEVEBOX_STM32H743"),
                                             ("stlink3mini", "STLINK3MINI"), ("pybd_sf2", "PYBD_SF2")])
def test_pinout_prints_the_boards_debug_connector(unix_micropython, top, board, directory):
    """bmp.pinout() (the issue's platform.pinout()) prints the pins the board's pin code
    drives, the same ones its pins.csv names BMP_*."""
    output = run(unix_micropython, f"gpio-model:{board}", "-c", "import bmp; bmp.pinout()")
    csv = dict(line.split(",", 1) for line in (top / "boards" / directory / "pins.csv").read_text().splitlines()
               if line.startswith("BMP_"))
    lines = {line.split()[0]: line.split()[1] for line in output.splitlines()[1:] if line.startswith(" ")}
    assert lines["SWCLK/TCK"] == csv["BMP_SWCLK"], output
    assert lines["SWDIO/TMS"] == csv["BMP_SWDIO"], output
    assert lines["SWO"] == csv["BMP_SWO"], output
    assert lines["nRST"] == csv["BMP_SRST"], output
    assert lines["TDI"] == csv["BMP_TDI"], output
    assert directory.split("_")[0] in output.splitlines()[1], output
