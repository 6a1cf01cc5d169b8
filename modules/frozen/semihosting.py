"""The file side of semihosting, for bmp's GDB server.

A target program that makes ARM semihosting calls (BKPT 0xAB) while gdb debugs it through
bmp has them served on the probe. The console (handles 0, 1, 2, the file ":tt") is the
MicroPython console, or bmp.disp_fun(). File calls come here and work on the MicroPython
filesystem, confined to one directory (the sandbox, see init()): the target cannot reach
boot.py or any other file of the probe. Edit these functions to change what they do.

Every function returns what the ARM semihosting spec says the target gets (e.g. write
returns the number of bytes NOT written); a failure is -1 with errno() telling why (the
target reads it with SYS_ERRNO); an exception counts as a failure (-1) and is printed on
the console.
"""

import os
import sys
import time as _time

# fopen() modes in the order of SYS_OPEN's mode numbers (spec, SYS_OPEN), each opened in
# binary: the target counts bytes, and a text-mode read would count characters (and fail
# on bytes that are not UTF-8). MicroPython does no newline translation either way.
MODES = ("rb", "rb", "r+b", "r+b", "wb", "wb", "w+b", "w+b", "ab", "ab", "a+b", "a+b")
# The sandbox: the directory the target's file names are relative to (set by init()).
ROOT = None
# Seconds from 1970 to MicroPython's epoch (2000 on ports without a 1970 epoch).
EPOCH_OFFSET = 946684800 if hasattr(_time, "gmtime") and _time.gmtime(0)[0] == 2000 else 0
EIO = 5
# A name the sandbox refuses: absolute, with "..", through a symbolic link, or with NUL.
EACCES = 13
# st_mode's file type of a symbolic link (POSIX), as os.ilistdir() gives it.
S_IFLNK = 0xA000

_open = open
files = {}
_last_errno = 0
_next_handle = 3


def _failed(error):
    global _last_errno
    _last_errno = error.errno if isinstance(error, OSError) and error.errno else EIO
    return -1


def default_root():
    """./semihosting on a host (the working directory), else /sd/semihosting when an SD
    card is mounted, else /flash/semihosting."""
    if sys.platform in ("linux", "darwin", "freebsd", "win32"):
        return os.getcwd().rstrip("/") + "/semihosting"
    try:
        os.stat("/sd")
        return "/sd/semihosting"
    except OSError:
        return "/flash/semihosting"


def init(root=None):
    """Confine the target's files to directory `root` (default: default_root()), created
    if missing, and close what an earlier program left open. The target's names are
    relative to it; absolute names, ".." and symbolic links out of it are refused (-1,
    errno EACCES). Returns the directory. Called from main.py; the first file call makes
    it if nobody did."""
    global ROOT, _next_handle, _last_errno
    if root is None:
        root = default_root()
    if not root.startswith("/"):
        root = os.getcwd().rstrip("/") + "/" + root
    root = root.rstrip("/") or "/"
    path = ""
    for part in root.split("/"):
        if not part:
            continue
        path += "/" + part
        try:
            os.mkdir(path)
        except OSError:
            pass  # there already, or not possible: file calls will say so
    for file in files.values():
        try:
            file.close()
        except OSError:
            pass
    files.clear()
    _next_handle = 3
    _last_errno = 0
    ROOT = root
    return root


def _is_link(directory, name):
    """`name` in `directory` is a symbolic link (or something mounted over one)."""
    try:
        entries = list(os.ilistdir(directory))
    except OSError:
        return False
    for entry in entries:
        if entry[0] == name:
            if entry[1] == S_IFLNK:
                return True
            # A file system that does not give the type: stat() follows links, the
            # directory entry does not; a link's inode differs from its target's.
            inode = entry[2] if len(entry) > 2 else 0
            try:
                followed = os.stat(directory + "/" + name)[1]
            except OSError:
                return False  # a dangling link has type S_IFLNK above
            return bool(inode and followed and inode != followed)
    return False


def _path(name, whole_root=True):
    """The probe's path for the target's `name`, or None (errno EACCES) if it leaves the
    sandbox. With whole_root False, the sandbox directory itself is refused too."""
    global _last_errno
    if ROOT is None:
        init()
    parts = name.replace("\\", "/").split("/")
    if "\0" in name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") \
            or ".." in parts:
        _last_errno = EACCES
        return None
    path = ROOT
    parts = [part for part in parts if part and part != "."]
    if not parts and not whole_root:
        _last_errno = EACCES
        return None
    for part in parts:
        if _is_link(path, part):
            _last_errno = EACCES
            return None
        path += "/" + part
    return path


def open(name, mode):
    """SYS_OPEN: a handle of 3 or more, or -1."""
    global _next_handle
    path = _path(name)
    if path is None:
        return -1
    try:
        file = _open(path, MODES[mode])
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
    path = _path(name, whole_root=False)
    if path is None:
        return -1
    try:
        os.remove(path)
    except OSError as error:
        return _failed(error)
    return 0


def rename(old, new):
    """SYS_RENAME: 0, or -1 with errno() telling why."""
    old, new = _path(old, whole_root=False), _path(new, whole_root=False)
    if old is None or new is None:
        return -1
    try:
        os.rename(old, new)
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

