"""Shared fixtures: where the builds are. tools/test builds them before running pytest."""

import os
import pathlib

import pytest

from helpers.console import Console

TOP = pathlib.Path(__file__).resolve().parent.parent
# BMP_UNIX_BUILD=unix-asan runs the host-probe tests on the sanitizer build (tools/test).
UNIX_BUILD = os.environ.get("BMP_UNIX_BUILD", "unix")
UNIX_MICROPYTHON = TOP / "build" / UNIX_BUILD / "micropython"
if UNIX_BUILD == "unix-asan":
    # Reports go to stderr, which every test checks. No leak report: MicroPython's heap
    # is one block kept until exit. No fake stacks: the GC scans the real one.
    os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=0:detect_stack_use_after_return=0:"
                          "abort_on_error=0:halt_on_error=1")
    # UBSan halts on a report, except those in MicroPython's own code listed here.
    os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:suppressions="
                          f"{TOP / 'tools' / 'sanitizers' / 'ubsan.supp'}")
QEMU_FIRMWARE = TOP / "build" / "qemu" / "firmware.elf"
MICROPYTHON_SOURCE = TOP / "build" / "micropython"


def _require(path, how):
    if not path.exists():
        pytest.fail(f"{path} is missing: run {how} (tools/test does)")
    return path


@pytest.fixture(scope="session")
def top():
    return TOP


@pytest.fixture(scope="session")
def unix_micropython():
    return _require(UNIX_MICROPYTHON, f"tools/mkfw {UNIX_BUILD}")


@pytest.fixture(scope="session")
def qemu_firmware():
    return _require(QEMU_FIRMWARE, "tools/mkfw qemu")


@pytest.fixture(scope="session")
def micropython_source():
    return _require(MICROPYTHON_SOURCE / "tests" / "run-tests.py", "micropython/get-source").parent.parent


@pytest.fixture
def qemu_console(qemu_firmware):
    console = Console.qemu(str(qemu_firmware))
    try:
        console.prompt(timeout=20)  # after the boot banner
        yield console
    finally:
        console.close()


@pytest.fixture
def unix_console(unix_micropython):
    console = Console.unix(str(unix_micropython))
    try:
        console.prompt(timeout=10)
        yield console
    finally:
        console.close()
