"""MicroPython's own test suite still passes on the patched unix build (the host probe)."""

import os
import re
import subprocess

DIRECTORIES = ["basics", "float", "micropython", "misc", "unicode", "io", "stress"]


def test_micropython_test_suite(micropython_source, unix_micropython):
    tests = micropython_source / "tests"
    environment = dict(os.environ, MICROPY_MICROPYTHON=str(unix_micropython))
    result = subprocess.run(["python3", "./run-tests.py", "-d", *DIRECTORIES], cwd=tests,
                            env=environment, capture_output=True, text=True, timeout=900)
    summary = result.stdout[-3000:]
    print(summary)
    assert result.returncode == 0, summary
    passed = re.search(r"(\d+) tests passed", result.stdout)
    assert passed and int(passed.group(1)) > 700, summary
    assert "tests failed" not in result.stdout, summary
