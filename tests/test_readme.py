"""The README's examples run as written: bmp-sim serving the simulated blue pill, then
OpenOCD flashing it with `flash write_image` (issue 15 item 6: the wall clock is bmp-sim's
default, since OpenOCD's flash driver waits on its own clock).

The commands are taken from README.md itself, so the example cannot drift from what is
tested. Only the port changes (a free one, so tests can run side by side) and `openocd` is
the project's (openocd-esp32 in build/venv, with its scripts directory)."""

import re
import shlex
import subprocess

from helpers.openocd import (TOP, SimServer, build_firmware, build_sim, find_openocd, free_port,
                             stop_process, tail)

README_PORT = "3335"
OPENOCD_TIMEOUT = 600
# Before the README's own arguments: no gdb, Tcl or telnet server, whose default ports other
# tests may hold.
QUIET_PORTS = ["-c", "gdb port disabled", "-c", "tcl port disabled", "-c", "telnet port disabled"]


def readme_commands(first_word):
    """The commands of README.md's sh blocks that start with `first_word` (continuation
    lines joined), each as an argument list."""
    text = (TOP / "README.md").read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == first_word:
                commands.append(words)
    return commands


def bmp_sim_example():
    (cargo,) = [c for c in readme_commands("cargo") if "bmp-sim" in c]
    (openocd,) = [c for c in readme_commands("openocd") if "flash write_image" in " ".join(c)]
    return cargo, openocd


def test_readme_bmp_sim_then_openocd_flash_write_image(tmp_path):
    cargo, openocd = bmp_sim_example()
    assert f"remote_bitbang port {README_PORT}" in openocd
    assert "--virtual-time" not in cargo, "the README's example must run on the default clock"
    build_firmware()
    build_sim()
    binary, scripts = find_openocd()
    port = str(free_port())

    # `cargo run ... -- OPTIONS`, as written, plus --listen on the free port.
    sim = SimServer.from_command(cargo + ["--listen", f"127.0.0.1:{port}"], cwd=TOP)
    try:
        command = [str(binary), "-s", str(scripts), *QUIET_PORTS] + [
            f"remote_bitbang port {port}" if word == f"remote_bitbang port {README_PORT}" else word
            for word in openocd[1:]]
        try:
            run = subprocess.run(command, cwd=TOP, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 timeout=OPENOCD_TIMEOUT)
        except subprocess.TimeoutExpired as error:
            raise AssertionError(f"OpenOCD did not finish within {OPENOCD_TIMEOUT} s:\n"
                                 f"{tail(error.output or '')}")
        log = run.stdout
        assert run.returncode == 0, f"OpenOCD exited with {run.returncode}:\n{tail(log)}"
        assert re.search(r"wrote \d+ bytes from file build/firmware/firmware.elf", log), tail(log)
        assert re.search(r"verified \d+ bytes", log), tail(log)
        assert "timed out" not in log.lower(), tail(log)
    finally:
        sim.close()
