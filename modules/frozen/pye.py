"""pye(path): a small full-screen text editor for the MicroPython console (VT100/ANSI).

    from pye import pye
    pye('/flash/main.py')

Keys: arrows, Home/End, PgUp/PgDn move; typing inserts (Tab: four spaces); Enter splits
the line; Backspace/Delete join lines at either end; Ctrl-S saves; Ctrl-Q quits (twice
when there are unsaved changes). A missing file opens empty and is created on save; a
file that cannot be read or saved says why on the status line and nothing is lost (a
save goes to PATH.new first, then replaces PATH by a rename). Lines are kept without
their line ends and saved with "\\n". Written for bmp (tests/test_pye.py drives it
through a pty on the host probe).
"""

import os
import sys

ESC = "\x1b"
CTRL_Q = 0x11
CTRL_S = 0x13
BACKSPACES = (0x08, 0x7F)
ENTERS = (0x0A, 0x0D)
TAB = 0x09
TAB_SPACES = "    "
STAGED = ".new"

# The key names of the escape sequences VT100/xterm send (ESC [ ... or ESC O ...).
SEQUENCES = {
    "[A": "up", "[B": "down", "[C": "right", "[D": "left",
    "[H": "home", "[F": "end", "OH": "home", "OF": "end",
    "[1~": "home", "[4~": "end", "[7~": "home", "[8~": "end",
    "[3~": "delete", "[5~": "pgup", "[6~": "pgdn",
}
DEFAULT_SIZE = (24, 80)
SIZE_REPLY_MS = 300


class Terminal:
    """The console in raw mode: bytes in, text out."""

    def __init__(self):
        self.saved = None
        # Bytes where the port has sys.stdin.buffer (MICROPY_PY_SYS_STDIO_BUFFER), else text.
        self.input = getattr(sys.stdin, "buffer", sys.stdin)
        self.pending = b""
        self.output = sys.stdout

    def __enter__(self):
        try:
            import termios  # the unix port: the terminal must stop buffering lines

            self.saved = termios.tcgetattr(0)
            termios.setraw(0)
        except (ImportError, OSError):
            pass
        _kbd_intr(-1)  # Ctrl-C is a key here, not KeyboardInterrupt
        return self

    def __exit__(self, *exception):
        _kbd_intr(3)
        if self.saved is not None:
            import termios

            termios.tcsetattr(0, termios.TCSANOW, self.saved)

    def byte(self, timeout_ms=-1):
        """The next input byte; None if none comes within `timeout_ms` (-1: wait)."""
        if timeout_ms >= 0 and not self.pending:
            try:
                import select
            except ImportError:
                return None  # no way to wait with a timeout: the caller falls back
            poller = select.poll()
            poller.register(self.input, select.POLLIN)
            if not poller.poll(timeout_ms):
                return None
        if self.pending:
            byte, self.pending = self.pending[0], self.pending[1:]
            return byte
        data = self.input.read(1)
        if not data:
            raise EOFError("console closed")
        if isinstance(data, str):  # a text stream: one character, maybe several bytes
            data = data.encode()
            self.pending = data[1:]
        return data[0]

    def size(self):
        """(rows, columns), asked of the terminal (cursor to the far corner, then a cursor
        position report, ECMA-48 CPR); DEFAULT_SIZE if it does not answer."""
        self.write(ESC + "7" + ESC + "[999;999H" + ESC + "[6n" + ESC + "8")
        reply = ""
        while not reply.endswith("R"):
            byte = self.byte(SIZE_REPLY_MS)
            if byte is None or len(reply) > 32:
                return DEFAULT_SIZE
            reply += chr(byte)
        try:
            rows, cols = reply[reply.rindex("[") + 1 : -1].split(";")
            return max(int(rows), 2), max(int(cols), 10)
        except ValueError:
            return DEFAULT_SIZE

    def write(self, text):
        self.output.write(text)


def _kbd_intr(char):
    try:
        import micropython

        micropython.kbd_intr(char)
    except (ImportError, AttributeError):
        pass


class Editor:
    def __init__(self, path):
        self.path = path
        self.resize(DEFAULT_SIZE)
        self.lines = [""]
        self.row = 0  # the cursor, in the text
        self.col = 0
        self.top = 0  # the first line and column on the screen
        self.left = 0
        self.modified = False
        self.quit_armed = False
        self.message = ""

    def resize(self, size):
        self.rows = size[0] - 1  # the last row is the status line
        self.cols = size[1]

    # The file.

    def load(self):
        """Read the file; return False (with a message) when it cannot be edited."""
        try:
            with open(self.path, "rb") as file:
                text = file.read().decode()
        except OSError as error:
            if error.errno == 2:  # ENOENT
                self.message = "new file (not found: saving creates it)"
                return True
            self.message = "cannot read %s: %s" % (self.path, _reason(error))
            return False
        except UnicodeError:
            self.message = "cannot edit %s: not UTF-8 text" % self.path
            return False
        self.lines = text.replace("\r\n", "\n").split("\n")
        if len(self.lines) > 1 and self.lines[-1] == "":
            self.lines.pop()  # the file's last line end
        return True

    def save(self):
        staged = self.path + STAGED
        data = ("\n".join(self.lines) + "\n").encode()
        try:
            with open(staged, "wb") as file:
                written = file.write(data)
            if written != len(data):
                raise OSError(28)  # ENOSPC
            os.rename(staged, self.path)
        except OSError as error:
            try:
                os.remove(staged)
            except OSError:
                pass
            self.message = "NOT saved: %s: %s" % (self.path, _reason(error))
            return
        self.modified = False
        self.message = "saved %d lines, %d bytes" % (len(self.lines), len(data))

    # Editing.

    def insert(self, text):
        line = self.lines[self.row]
        self.lines[self.row] = line[: self.col] + text + line[self.col :]
        self.col += len(text)
        self.modified = True

    def enter(self):
        line = self.lines[self.row]
        self.lines[self.row] = line[: self.col]
        self.lines.insert(self.row + 1, line[self.col :])
        self.row += 1
        self.col = 0
        self.modified = True

    def backspace(self):
        if self.col > 0:
            line = self.lines[self.row]
            self.lines[self.row] = line[: self.col - 1] + line[self.col :]
            self.col -= 1
        elif self.row > 0:
            self.row -= 1
            self.col = len(self.lines[self.row])
            self.lines[self.row] += self.lines.pop(self.row + 1)
        else:
            return
        self.modified = True

    def delete(self):
        line = self.lines[self.row]
        if self.col < len(line):
            self.lines[self.row] = line[: self.col] + line[self.col + 1 :]
        elif self.row + 1 < len(self.lines):
            self.lines[self.row] += self.lines.pop(self.row + 1)
        else:
            return
        self.modified = True

    def move(self, key):
        if key == "up":
            self.row = max(0, self.row - 1)
        elif key == "down":
            self.row = min(len(self.lines) - 1, self.row + 1)
        elif key == "pgup":
            self.row = max(0, self.row - self.rows)
        elif key == "pgdn":
            self.row = min(len(self.lines) - 1, self.row + self.rows)
        elif key == "left":
            if self.col > 0:
                self.col -= 1
            elif self.row > 0:
                self.row -= 1
                self.col = len(self.lines[self.row])
        elif key == "right":
            if self.col < len(self.lines[self.row]):
                self.col += 1
            elif self.row + 1 < len(self.lines):
                self.row += 1
                self.col = 0
        elif key == "home":
            self.col = 0
        elif key == "end":
            self.col = len(self.lines[self.row])
        self.col = min(self.col, len(self.lines[self.row]))

    # One key: returns False when the editor is done.

    def key(self, key):
        if key == CTRL_Q:
            if self.modified and not self.quit_armed:
                self.quit_armed = True
                self.message = "unsaved changes: Ctrl-Q again quits without saving, Ctrl-S saves"
                return True
            return False
        self.quit_armed = False
        if key == CTRL_S:
            self.save()
        elif key in ENTERS:
            self.enter()
        elif key in BACKSPACES:
            self.backspace()
        elif key == TAB:
            self.insert(TAB_SPACES)
        elif key == "delete":
            self.delete()
        elif isinstance(key, str) and key in SEQUENCES.values():
            self.move(key)
        elif isinstance(key, str):
            self.insert(key)
        return True

    # The screen.

    def draw(self, terminal):
        if self.row < self.top:
            self.top = self.row
        elif self.row >= self.top + self.rows:
            self.top = self.row - self.rows + 1
        if self.col < self.left:
            self.left = self.col
        elif self.col >= self.left + self.cols:
            self.left = self.col - self.cols + 1
        out = [ESC + "[?25l" + ESC + "[H"]  # hide the cursor while drawing, go home
        for screen_row in range(self.rows):
            index = self.top + screen_row
            text = self.lines[index][self.left : self.left + self.cols] if index < len(self.lines) else "~"
            out.append(text + ESC + "[K\r\n")
        line = "%s%d:%d  %s  %s" % (
            "* " if self.modified else "", self.row + 1, self.col + 1,
            self.message or "^S save  ^Q quit", self.path)
        line = line[: self.cols - 1]
        out.append(ESC + "[7m" + line + ESC + "[K" + ESC + "[0m")
        out.append(ESC + "[%d;%dH" % (self.row - self.top + 1, self.col - self.left + 1) + ESC + "[?25h")
        terminal.write("".join(out))
        self.message = ""


def _reason(error):
    return str(error) if error.args else repr(error)


def read_key(terminal):
    """One key: a byte (control keys), a name from SEQUENCES, or a printable character."""
    byte = terminal.byte()
    if byte == 0x1B:
        first = terminal.byte()
        if first not in (0x5B, 0x4F):  # '[' 'O'
            return None
        sequence = chr(first)
        while True:
            byte = terminal.byte()
            sequence += chr(byte)
            if 0x40 <= byte <= 0x7E:  # a final byte ends it (ECMA-48 5.4)
                return SEQUENCES.get(sequence)
            if len(sequence) > 8:
                return None
    if byte < 0x20 or byte == 0x7F:
        return byte
    if byte < 0x80:
        return chr(byte)
    # UTF-8: the lead byte says how many continuation bytes follow.
    data = bytes([byte])
    for _ in range(1 if byte < 0xE0 else 2 if byte < 0xF0 else 3):
        data += bytes([terminal.byte()])
    try:
        return data.decode()
    except UnicodeError:
        return None


def _is_directory(path):
    try:
        return os.stat(path)[0] & 0x4000 != 0  # S_IFDIR
    except OSError:
        return False


def pye(path, size=None):
    """Edit the text file `path`; `size` (rows, columns) if the terminal cannot tell."""
    if not isinstance(path, str):
        raise TypeError("pye(path): path must be a str")
    if _is_directory(path):
        raise OSError("pye: %s is a directory" % path)
    editor = Editor(path)
    if not editor.load():
        raise OSError("pye: " + editor.message)
    with Terminal() as terminal:
        editor.resize(size or terminal.size())
        try:
            while True:
                editor.draw(terminal)
                key = read_key(terminal)
                if key is not None and not editor.key(key):
                    break
        finally:
            terminal.write(ESC + "[0m" + ESC + "[2J" + ESC + "[H")
