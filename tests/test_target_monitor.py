"""target.monitor(): the attached chip family's commands from Python (issue 11), the same
rows gdb's `monitor` runs (chips::Command through Session::chip_command), returning the
text gdb would print; wrong arguments and unknown names raise ValueError before anything
runs. Also the F4's partial large-sector erase refusal as Python sees it."""

import os
import subprocess
import textwrap

import pytest

pytestmark = pytest.mark.timeout(240)

# Each check prints "<name> ok" or "<name> FAILED <details>".
PRELUDE = """
import target

def check(name, condition, details=""):
    print(name, "ok" if condition else "FAILED " + repr(details))

def raises(name, kind, words, call, *arguments):
    try:
        result = call(*arguments)
    except kind as error:
        check(name, words in str(error), str(error))
    else:
        check(name, False, "no %s, returned %r" % (kind.__name__, result))
"""


def run(micropython, chip, script):
    environment = dict(os.environ, BMP_WIRE=f"sim:{chip}")
    source = PRELUDE + textwrap.dedent(script)
    result = subprocess.run([str(micropython), "-c", source], capture_output=True, text=True,
                            timeout=200, env=environment)
    return result.stdout + result.stderr


def assert_checks(output, count):
    lines = [line for line in output.splitlines() if line.strip()]
    assert all(line.endswith(" ok") for line in lines), output
    assert len(lines) == count, output


def test_stm32f4_option_and_bad_input(unix_micropython):
    output = run(unix_micropython, "stm32f407vg", """
        raises("unattached", RuntimeError, "no target attached", target.monitor, "option")
        target.swdp_scan()
        target.attach(1)
        rows = target.monitor_commands()
        check("rows", [row[:2] for row in rows] == [("option", "[erase]")], rows)
        check("help", "'option erase' restores" in rows[0][2], rows)
        text = target.monitor("option")
        check("option", "RDP 0xAA (level 0)" in text and text.endswith("\\n"), text)
        check("spaces", target.monitor("  option  ") == text, text)
        raises("usage", ValueError, "usage: option [erase]", target.monitor, "option bogus")
        raises("unknown", ValueError, "no command 'unlock' for this chip", target.monitor,
               "unlock")
        raises("empty", ValueError, "no command '' for this chip", target.monitor, "")
        raises("type", TypeError, "command must be a str", target.monitor, 5)
        raises("long", ValueError, "too long", target.monitor, "option " + "x" * 300)
        # The 64 KB sector 4 holds data: an erase of part of it is refused, nothing lost.
        data = bytes(range(256)) * 16
        target.flash_erase(0x08010000, 0x10000)
        target.flash_write(0x08010000, data)
        target.flash_write(0x08018000, data)
        target.flash_done()
        raises("partial", ValueError, "part of the 64 KiB flash sector at 0x08010000 whose rest",
               target.flash_erase, 0x08010000, 0x1000)
        target.flash_done()
        back = bytearray(len(data))
        target.mem_read(back, 0x08018000)
        check("kept", back == data)
        """)
    assert_checks(output, 12)


def test_stm32h7_unlock_takes_no_arguments(unix_micropython):
    output = run(unix_micropython, "stm32h743zi", """
        target.swdp_scan()
        target.attach(1)
        check("rows", [row[:2] for row in target.monitor_commands()] == [("unlock", "")])
        target.flash_erase(0x08000000, 0x20000)
        target.flash_write(0x08000000, b"\\x5a" * 64)
        target.flash_done()
        raises("arguments", ValueError, "unlock takes no arguments", target.monitor, "unlock now")
        back = bytearray(64)
        target.mem_read(back, 0x08000000)
        check("not erased", back == b"\\x5a" * 64, back)
        """)
    assert_checks(output, 3)


def test_nrf52840_read(unix_micropython):
    output = run(unix_micropython, "nrf52840", """
        target.swdp_scan()
        target.attach(1)
        names = [row[0] for row in target.monitor_commands()]
        check("rows", names == ["erase_mass", "read"], names)
        text = target.monitor("read deviceinfo")
        check("deviceinfo", text.startswith("Part: nRF52840, variant AAC0"), text)
        check("deviceid", target.monitor("read deviceid").startswith("Device ID: 0x"))
        raises("usage", ValueError, "usage: read deviceid|deviceaddr|deviceinfo",
               target.monitor, "read everything")
        raises("arguments", ValueError, "erase_mass takes no arguments", target.monitor,
               "erase_mass please")
        """)
    assert_checks(output, 5)


def test_samd21_commands(unix_micropython):
    output = run(unix_micropython, "atsamd21g18a", """
        target.swdp_scan()
        target.attach(1)
        rows = dict((row[0], row[1]) for row in target.monitor_commands())
        check("rows", rows["lock_bootprot"].startswith("[0-6]") and rows["serial"] == "", rows)
        check("serial", target.monitor("serial").startswith("Serial number: 0x"))
        raises("bootprot", ValueError, "usage: lock_bootprot [0-6]", target.monitor,
               "lock_bootprot 9")
        raises("security", ValueError, "set_security_bit takes no arguments", target.monitor,
               "set_security_bit x")
        check("not secured", "0x" in target.monitor("user_row"))
        """)
    assert_checks(output, 5)
