"""bmp's factory files: the boot.py and main.py a probe board starts with, and install(),
which writes them into a directory.

machine.factory_reset() on the stm32 boards calls install(root()) (modules/frozen/stm32/
machine.py); a fresh filesystem gets the same texts at its creation (modules/bmp/
bmp_board_factory.c reads FILES). Tested on the host probe against a temporary directory
and a FAT image that loses power at every block write (tests/test_factory_reset.py).

No half-written file: each text is first written whole as NAME.new and read back; only
when every file is staged does each NAME become NAME.bak (the previous one, kept) and
NAME.new become NAME, by renames. A failure or power loss at any point leaves NAME as the
old file, the new file, or (between its two renames) absent with both NAME.bak and
NAME.new whole; install() again completes it. A write that fails (e.g. a full
filesystem) removes the staged files and leaves every NAME as it was.
"""

import os

BOOT_PY = """\
# boot.py: runs first at every boot, before USB starts (bmp: docs/boards.md).
# machine.factory_reset() writes this file and main.py again (the old ones become .bak).
import pyb

# Two serial ports: the REPL and the GDB server (main.py).
pyb.usb_mode('2xVCP', vid=0x1d50, pid=0x6018)

# ... and CMSIS-DAP v2 for OpenOCD, pyOCD and probe-rs (WinUSB on Windows):
# pyb.usb_mode('2xVCP+DAP', vid=0x1d50, pid=0x6019)
# or CMSIS-DAP v1 over HID:
# import dap
# pyb.usb_mode('VCP+HID', vid=0x1d50, pid=0x601a, hid=dap.hid_info)

# The SWCLK delay loop's calibration, from one run of dap.calibrate() on this board:
# import dap
# dap.calibrate(cal=(125000, 20000000))
"""

MAIN_PY = """\
# main.py: runs after boot.py (bmp: docs/boards.md). Edit it on the board: pye('main.py').
import bmp
import pyb
from pye import pye  # the editor, at the REPL too: pye('boot.py')

# The GDB server on the second USB serial port.
bmp.init(stream=pyb.USB_VCP(1))

# CMSIS-DAP on USB (a '+DAP' or '+HID' mode in boot.py):
# import dap
# dap.init()

# Wi-Fi (PYBD_SF2): the GDB server on TCP port 3333 instead.
# import network
# wlan = network.WLAN(network.STA_IF)
# wlan.active(True)
# wlan.connect('ssid', 'key')
# bmp.init(tcp=3333, host='0.0.0.0')
"""

# (name, text) of every file install() writes, in that order.
FILES = (("boot.py", BOOT_PY), ("main.py", MAIN_PY))

STAGED = ".new"
PREVIOUS = ".bak"


def root():
    """The board's filesystem: /flash, or /sd on a board without one in internal flash
    (DEVEBOX_STM32H750)."""
    for path in ("/flash", "/sd"):
        if _exists(path):
            return path
    raise OSError("no /flash or /sd filesystem to write boot.py and main.py to")


def install(directory, files=FILES):
    """Write `files` ((name, text) pairs) into `directory` (see the module's text for the
    order of writes); return the paths written."""
    paths = [_join(directory, name) for name, _ in files]
    try:
        for path, (_, text) in zip(paths, files):
            _write_whole(path + STAGED, text)
    except Exception:
        for path in paths:
            _remove_if_there(path + STAGED)
        raise
    _sync()
    for path in paths:
        if _exists(path):
            _remove_if_there(path + PREVIOUS)
            os.rename(path, path + PREVIOUS)
        os.rename(path + STAGED, path)
    _sync()
    return paths


def _write_whole(path, text):
    """Write `text` to `path` and check it reads back the same."""
    data = text.encode()
    with open(path, "wb") as file:
        written = file.write(data)
    if written != len(data):
        raise OSError("%s: %d of %d bytes written (filesystem full?)" % (path, written, len(data)))
    with open(path, "rb") as file:
        if file.read() != data:
            raise OSError("%s reads back differently from what was written" % path)


def _join(directory, name):
    return directory.rstrip("/") + "/" + name


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _remove_if_there(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _sync():
    # The stm32 port caches a flash sector in RAM; os.sync() writes it out.
    sync = getattr(os, "sync", None)
    if sync:
        sync()
