"""machine.factory_reset() and its templates (modules/frozen/bmp_factory.py, frozen into the
host probe; the stm32 boards' machine.py from the source tree) on the host probe: into a
temporary directory, into a FAT image that loses power after every number of block writes
in turn (each boot.py/main.py whole, old or new, and a second run completes), a full
filesystem (nothing changed), a missing directory (tests/board/factory_reset.py)."""

import subprocess

from conftest import TOP

SCRIPT = TOP / "tests" / "board" / "factory_reset.py"

EXPECTED = """\
paths True
written True
kept True
listing ['boot.py', 'boot.py.bak', 'main.py', 'main.py.bak']
power cuts tried True
states seen [('gone', 'old'), ('new', 'gone'), ('new', 'new'), ('new', 'old'), ('old', 'old')]
full: True
unchanged True
no staged files []
missing directory: True
"""


def test_factory_reset_writes_whole_files_or_none(unix_micropython, tmp_path):
    result = subprocess.run(
        [str(unix_micropython), str(SCRIPT), str(tmp_path), str(TOP / "modules" / "frozen" / "stm32")],
        capture_output=True, text=True, timeout=60)
    assert result.stderr == ""
    assert result.stdout == EXPECTED
    assert result.returncode == 0
    # The templates themselves: boot.py sets up the two serial ports, main.py the GDB server.
    boot = (tmp_path / "boot.py").read_text()
    main = (tmp_path / "main.py").read_text()
    assert "pyb.usb_mode('2xVCP', vid=0x1d50, pid=0x6018)" in boot
    assert "\nbmp.init(stream=pyb.USB_VCP(1))\n" in main
    assert "# dap.init()" in main and "# wlan.connect(" in main
    compile(boot, "boot.py", "exec")
    compile(main, "main.py", "exec")
