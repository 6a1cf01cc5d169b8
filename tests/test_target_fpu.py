"""The FPU registers through `target` (Python) on the host probe: reg_read/reg_write of
GDB's numbers 23-38 (d0-d15, 8 bytes) and 39 (fpscr) on the simulated F407's Cortex-M4F,
its target description's vfp feature, and the clear errors on the F103's Cortex-M3."""

import os
import subprocess
import textwrap

import pytest

pytestmark = pytest.mark.timeout(120)

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
    result = subprocess.run([str(micropython), "-c", PRELUDE + textwrap.dedent(script)],
                            capture_output=True, text=True, timeout=100, env=environment)
    return result.stdout + result.stderr


def assert_checks(output, count):
    lines = [line for line in output.splitlines() if line.strip()]
    assert all(line.endswith(" ok") for line in lines), output
    assert len(lines) == count, output


def test_fpu_registers_on_the_cortex_m4f(unix_micropython):
    output = run(unix_micropython, "stm32f407vg", """
        raises("unattached", RuntimeError, "no target attached", target.reg_read, 24,
               bytearray(8))
        target.swdp_scan()
        target.attach(1)
        check("tdesc", 'org.gnu.gdb.arm.vfp' in target.tdesc_xml())
        one_and_a_half = 0x3FF8000000000000  # 1.5 as an IEEE double
        check("write d1", target.reg_write(24, one_and_a_half.to_bytes(8, "little")) == 8)
        data = bytearray(8)
        check("read d1", target.reg_read(24, data) == 8 and
              int.from_bytes(data, "little") == one_and_a_half, data)
        check("fpscr", target.reg_write(39, b"\\x00\\x00\\x00\\x03") == 4)
        data = bytearray(4)
        target.reg_read(39, data)
        check("fpscr back", data == b"\\x00\\x00\\x00\\x03", data)
        raises("short", ValueError, "data must hold 8 bytes", target.reg_read, 24, bytearray(4))
        raises("4 for 8", ValueError, "data must be 8 bytes", target.reg_write, 24, b"abcd")
        raises("past fpscr", ValueError, "23..39 (d0-d15, fpscr)", target.reg_read, 40,
               bytearray(8))
    """)
    assert_checks(output, 9)


def test_no_fpu_registers_on_the_cortex_m3(unix_micropython):
    output = run(unix_micropython, "stm32f103c8", """
        target.swdp_scan()
        target.attach(1)
        check("tdesc", 'org.gnu.gdb.arm.vfp' not in target.tdesc_xml())
        raises("d0", ValueError, "need a core with an FPU", target.reg_read, 23, bytearray(8))
        raises("fpscr", ValueError, "need a core with an FPU", target.reg_write, 39, b"abcd")
    """)
    assert_checks(output, 3)
