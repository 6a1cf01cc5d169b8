"""bmp.help() (the build date, the functions, the board's pins) and platform.pinout()
(frozen platform.py over the built-in) on the host probe and on the qemu firmware."""

import os
import re
import subprocess

from conftest import QEMU_FIRMWARE, UNIX_MICROPYTHON

SCRIPT = "import bmp, platform; bmp.help(); print('--'); platform.pinout(); print(platform.platform())"


def build_line(firmware):
    """What bmp.help()'s first line must say, from the build's genhdr/mpversion.h."""
    header = (firmware.parent / "obj" / "genhdr" / "mpversion.h").read_text()
    date, tag = (re.search(rf'#define {name} "([^"]*)"', header).group(1)
                 for name in ("MICROPY_BUILD_DATE", "MICROPY_GIT_TAG"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", date)
    return f"bmp built {date} (MicroPython 1.25.0, source {tag})\n"


def check(output, firmware, pins):
    help_text, _, after = output.partition("--\n")
    assert help_text.startswith(build_line(firmware) + "bmp functions:\n"), help_text
    assert " pinout()   -- the debug connector's pins on this board (below)\n" in help_text
    assert help_text.endswith(pins), help_text
    pinout, _, platform = after.partition(pins)
    assert pinout == "" and platform.strip(), after  # platform.pinout() is bmp.pinout()


def run_unix(wire):
    environment = dict(os.environ, BMP_WIRE=wire)
    result = subprocess.run([str(UNIX_MICROPYTHON), "-c", SCRIPT], capture_output=True, text=True,
                            timeout=60, env=environment)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return result.stdout


def test_help_on_the_host_probe(unix_micropython):
    check(run_unix("sim"), unix_micropython,
          "BMP_WIRE=sim: the in-process simulated target, no pins\n")
    output = run_unix("gpio-model:STLINK3MINI")
    check(output, unix_micropython, output[output.index("BMP_WIRE=gpio-model:STLINK3MINI"):output.index("--\n")])
    assert "STLINK3MINI debug connector:\n SWCLK/TCK  PH6\n SWDIO/TMS  PF9\n" in output
    assert "Linux-1.25.0-" in output  # the built-in platform's functions are still there


def test_help_on_the_qemu_firmware(qemu_console):
    stdout, stderr = qemu_console.run(SCRIPT.replace("; ", "\n"), timeout=30)
    assert stderr == ""
    check(stdout.replace("\r\n", "\n"), QEMU_FIRMWARE,
          "remote_bitbang over the board's UART to a server (qemu: UART1)\n")
