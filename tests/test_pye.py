"""pye(path), the frozen editor (modules/frozen/pye.py), on the host probe through a pty:
scripted keystrokes, then the file on disk is checked; the terminal's size comes from its
answer to the editor's cursor position query."""

import os
import pty
import select
import subprocess
import time

import pytest

UP, DOWN, RIGHT, LEFT = b"\x1b[A", b"\x1b[B", b"\x1b[C", b"\x1b[D"
HOME, END, DELETE, PGDN = b"\x1b[H", b"\x1b[F", b"\x1b[3~", b"\x1b[6~"
BACKSPACE, ENTER, CTRL_S, CTRL_Q = b"\x7f", b"\r", b"\x13", b"\x11"
SIZE_QUERY = b"\x1b[6n"


class Pty:
    def __init__(self, micropython, path):
        self.controller, device = pty.openpty()
        self.process = subprocess.Popen(
            [str(micropython), "-c", f"from pye import pye; pye({str(path)!r}); print('done')"],
            stdin=device, stdout=device, stderr=device, close_fds=True)
        os.close(device)
        self.seen = b""

    def wait_for(self, marker, timeout=10.0):
        deadline = time.monotonic() + timeout
        while marker not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {marker!r}; seen {self.seen[-500:]!r}"
            if select.select([self.controller], [], [], left)[0]:
                try:
                    chunk = os.read(self.controller, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"closed before {marker!r}; seen {self.seen[-500:]!r}"
                self.seen += chunk
        before, _, self.seen = self.seen.partition(marker)
        return before

    def start(self, rows=10, cols=80):
        """Answer the size query as a rows x cols terminal; wait for the first screen."""
        self.wait_for(SIZE_QUERY)
        os.write(self.controller, b"\x1b[%d;%dR" % (rows, cols))
        return self.wait_for(b"\x1b[?25h")  # the cursor shown again: a screen is drawn

    def keys(self, *keys):
        """Type each key and wait for the screen it redraws; return the last screen."""
        screen = b""
        for key in keys:
            os.write(self.controller, key)
            screen = self.wait_for(b"\x1b[?25h")
        return screen

    def quit(self):
        os.write(self.controller, CTRL_Q)
        self.wait_for(b"done")
        assert self.process.wait(timeout=10) == 0

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.controller)


@pytest.fixture
def editor(unix_micropython):
    opened = []

    def open_editor(path):
        opened.append(Pty(unix_micropython, path))
        return opened[-1]

    yield open_editor
    for session in opened:
        session.close()


def test_pye_moves_inserts_deletes_and_saves(editor, tmp_path):
    path = tmp_path / "main.py"
    path.write_text("line one\nline two\n")
    session = editor(path)
    screen = session.start(rows=10, cols=60)
    assert b"line one\x1b[K\r\nline two\x1b[K\r\n~\x1b[K" in screen
    assert b"\x1b[7m1:1  ^S save  ^Q quit  /tmp" in screen
    session.keys(DOWN, END, b" ", b"2", ENTER, b"t", b"h", b"r", b"e", b"e", b"x", BACKSPACE)
    screen = session.keys(UP, UP, HOME, DELETE, b"L", RIGHT, RIGHT, RIGHT, END, LEFT)
    assert b"\x1b[7m* 1:8  " in screen  # modified; row 1, column 8
    screen = session.keys(CTRL_S)
    assert b"saved 3 lines, 26 bytes" in screen
    session.quit()
    assert path.read_text() == "Line one\nline two 2\nthree\n"


def test_pye_scrolls_a_long_file_on_a_small_terminal(editor, tmp_path):
    path = tmp_path / "long.py"
    path.write_text("".join(f"# line {n}\n" for n in range(1, 101)))
    session = editor(path)
    session.start(rows=6, cols=20)  # five rows of text
    screen = session.keys(PGDN, PGDN, DOWN)
    assert b"# line 8\x1b[K\r\n# line 9\x1b[K\r\n# line 10\x1b[K\r\n# line 11\x1b[K\r\n# line 12\x1b[K" in screen
    assert b"\x1b[5;1H" in screen  # the cursor on the last text row
    session.keys(b"x", b"=", b"1", ENTER)
    session.keys(CTRL_S)
    session.quit()
    lines = path.read_text().splitlines()
    assert lines[11:13] == ["x=1", "# line 12"] and len(lines) == 101


def test_pye_unsaved_changes_need_a_second_ctrl_q(editor, tmp_path):
    path = tmp_path / "boot.py"
    path.write_text("import pyb\n")
    session = editor(path)
    session.start()
    session.keys(b"#")
    screen = session.keys(CTRL_Q)
    assert b"unsaved changes: Ctrl-Q again quits without saving" in screen
    session.quit()
    assert path.read_text() == "import pyb\n"


def test_pye_a_missing_file_is_created_on_save(editor, tmp_path):
    path = tmp_path / "new.py"
    session = editor(path)
    screen = session.start()
    assert b"new file (not found: saving creates it)" in screen
    session.keys(b"h", b"i", "\u00e9".encode(), CTRL_S)  # a UTF-8 character: two bytes
    session.quit()
    assert path.read_text(encoding="utf-8") == "hi\u00e9\n"


def test_pye_an_unwritable_file_says_so_and_keeps_the_text(editor):
    # /proc/self/comm: readable, and nothing can be created next to it (not even by root).
    session = editor("/proc/self/comm")
    session.start()
    screen = session.keys(END, b"!", CTRL_S)
    assert b"NOT saved: /proc/self/comm: [Errno 2] ENOENT" in screen
    assert b"micropython!" in screen and b"\x1b[7m* 1:13" in screen
    os.write(session.controller, CTRL_Q)
    session.quit()


def test_pye_refuses_a_directory_and_unreadable_paths(unix_micropython, tmp_path):
    (tmp_path / "file").write_text("x")
    for path, message in ((tmp_path, "is a directory"), (tmp_path / "file" / "x.py", "cannot read")):
        result = subprocess.run([str(unix_micropython), "-c", f"from pye import pye; pye({str(path)!r})"],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 1
        assert f"OSError: pye: " in result.stderr and message in result.stderr, result.stderr
    result = subprocess.run([str(unix_micropython), "-c", "from pye import pye; pye(3)"],
                            capture_output=True, text=True, timeout=30)
    assert "TypeError: pye(path): path must be a str" in result.stderr
