"""The file side of semihosting, for bmp's GDB server.

A target program that makes ARM semihosting calls (BKPT 0xAB) while gdb debugs it through
bmp has them served on the probe. The console (handles 0, 1, 2, the file ":tt") is the
MicroPython console, or bmp.disp_fun(). File calls come here and work on the MicroPython
filesystem. Edit these functions to change that: e.g. set BASE to "/sd/" to keep the
target's files on an SD card.

Every function returns what the ARM semihosting spec says the target gets (e.g. write
returns the number of bytes NOT written); an exception counts as a failure (-1) and is
printed on the console.
"""

import os
import sys
import time as _time

# fopen() modes in the order of SYS_OPEN's mode numbers (spec, SYS_OPEN), each opened in
# binary: the target counts bytes, and a text-mode read would count characters (and fail
# on bytes that are not UTF-8). MicroPython does no newline translation either way.
MODES = ("rb", "rb", "r+b", "r+b", "wb", "wb", "w+b", "w+b", "ab", "ab", "a+b", "a+b")
# Prefix of every file name the target opens, removes or renames.
BASE = ""
# Seconds from 1970 to MicroPython's epoch (2000 on ports without a 1970 epoch).
EPOCH_OFFSET = 946684800 if hasattr(_time, "gmtime") and _time.gmtime(0)[0] == 2000 else 0
EIO = 5

_open = open
files = {}
_last_errno = 0
_next_handle = 3


def _failed(error):
    global _last_errno
    _last_errno = error.errno if isinstance(error, OSError) and error.errno else EIO
    return -1


def open(name, mode):
    """SYS_OPEN: a handle of 3 or more, or -1."""
    global _next_handle
    try:
        file = _open(BASE + name, MODES[mode])
    except OSError as error:
        return _failed(error)
    handle = _next_handle
    _next_handle += 1
    files[handle] = file
    return handle


def close(handle):
    file = files.pop(handle, None)
    if file is None:
        return -1
    try:
        file.close()
    except OSError as error:
        return _failed(error)
    return 0


def write(handle, data):
    """SYS_WRITE: the number of bytes NOT written (0: all of them)."""
    file = files.get(handle)
    if file is None:
        return len(data)
    try:
        written = file.write(data)
    except OSError as error:
        _failed(error)
        return len(data)
    return len(data) - (written if written is not None else len(data))


def read(handle, count):
    """SYS_READ: up to count bytes; b'' at the end of the file."""
    return files[handle].read(count)


def console_read(count):
    """Console input for the target: a line typed on the MicroPython console."""
    line = sys.stdin.readline()
    return (line.encode() if isinstance(line, str) else line)[:count]


def seek(handle, position):
    try:
        files[handle].seek(position)
    except OSError as error:
        return _failed(error)
    return 0


def flen(handle):
    file = files[handle]
    try:
        here = file.seek(0, 1)
        end = file.seek(0, 2)
        file.seek(here)
    except OSError as error:
        return _failed(error)
    return end


def remove(name):
    """SYS_REMOVE: 0, or -1 with errno() telling why (newlib takes only -1 as failure)."""
    try:
        os.remove(BASE + name)
    except OSError as error:
        return _failed(error)
    return 0


def rename(old, new):
    """SYS_RENAME: 0, or -1 with errno() telling why."""
    try:
        os.rename(BASE + old, BASE + new)
    except OSError as error:
        return _failed(error)
    return 0


def system(command):
    """SYS_SYSTEM: the probe has no shell; -1. Put your own commands here."""
    return -1


def errno():
    return _last_errno


def time():
    return int(_time.time()) + EPOCH_OFFSET

