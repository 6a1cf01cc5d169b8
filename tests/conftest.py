"""Shared fixtures: where the builds are. tools/test builds them before running pytest."""

import os
import pathlib

import pytest

from helpers.console import Console

TOP = pathlib.Path(__file__).resolve().parent.parent
UNIX_MICROPYTHON = TOP / "build" / "unix" / "micropython"
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
    return _require(UNIX_MICROPYTHON, "tools/mkfw unix")


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
