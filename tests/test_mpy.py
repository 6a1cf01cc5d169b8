"""MicroPython-level tests (tests/mpy/*.py) on the host probe and on the qemu firmware:
each script's output must equal its .exp file."""

import pathlib
import subprocess

import pytest

SCRIPTS = sorted((pathlib.Path(__file__).parent / "mpy").glob("*.py"))


def expected(script):
    return script.with_name(script.name + ".exp").read_text()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_unix(script, unix_micropython):
    result = subprocess.run([str(unix_micropython), script.name], cwd=script.parent,
                            capture_output=True, text=True, timeout=60)
    assert result.stderr == ""
    assert result.stdout == expected(script)
    assert result.returncode == 0


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_qemu(script, qemu_console):
    stdout, stderr = qemu_console.run(script.read_text(), timeout=60)
    assert stderr == ""
    assert stdout == expected(script)
