"""The poll hooks: bmp_loop() and dap_loop() run from the port's event loop while the REPL
waits for a key and during time.sleep, and from MicroPython's VM hook while a script
computes, on unix and on qemu, without any Python code asking for it. bmp.poll() returns
how many GDB-server steps have run."""

import re
import time

IDLE_SECONDS = 1.0


def steps_while_idle(console):
    console.line("import bmp")
    console.line("before = bmp.poll()")
    time.sleep(IDLE_SECONDS)  # the REPL waits for a key meanwhile
    output = console.line("print('steps', bmp.poll() - before - 1)")
    match = re.search(r"steps (\d+)", output)
    assert match, output
    return int(match.group(1))


def test_unix_repl_idle_runs_the_loops(unix_console):
    # The unix hook polls stdin every millisecond.
    assert steps_while_idle(unix_console) > 100


def steps_while_sleeping(console, call):
    console.line("import bmp, time")
    output = console.line(f"before = bmp.poll(); {call}; print('steps', bmp.poll() - before - 1)")
    match = re.search(r"steps (\d+)", output)
    assert match, output
    return int(match.group(1))


def sleep_length_ms(console):
    console.line("import time")
    output = console.line("t = time.ticks_ms(); time.sleep(0.3); print('took', time.ticks_diff(time.ticks_ms(), t))")
    match = re.search(r"took (\d+)", output)
    assert match, output
    return int(match.group(1))


def test_unix_sleep_runs_the_loops(unix_console):
    for call in ("time.sleep(0.5)", "time.sleep_ms(500)"):
        assert steps_while_sleeping(unix_console, call) > 50, call


def test_unix_sleep_keeps_its_length(unix_console):
    assert 300 <= sleep_length_ms(unix_console) < 1000


def steps_while_computing(console, milliseconds=500):
    """Poll steps while a script computes for `milliseconds`, never sleeping or waiting
    for input: only MicroPython's VM hook can run them."""
    console.line("import bmp, time")
    output = console.line(
        "before = bmp.poll(); t = time.ticks_ms(); "
        f"exec('while time.ticks_diff(time.ticks_ms(), t) < {milliseconds}: pass'); "
        "print('steps', bmp.poll() - before - 1)")
    match = re.search(r"steps (\d+)", output)
    assert match, output
    return int(match.group(1))


def test_unix_script_computing_runs_the_loops(unix_console):
    # The VM hook polls at most once a millisecond: about 500 in 0.5 s on an idle machine,
    # fewer when the process gets a share of a loaded CPU; without the hook, none.
    assert 10 < steps_while_computing(unix_console) <= 600


def test_unix_two_polls_in_a_row_run_no_loop_between(unix_console):
    # The divisor: straight-line code (no loop, no return) runs no poll step.
    output = unix_console.line("import bmp; a = bmp.poll(); b = bmp.poll(); print('delta', b - a)")
    assert "delta 1" in output


def test_qemu_repl_idle_runs_the_loops(qemu_console):
    # The qemu hook runs on every turn of the UART receive loop.
    assert steps_while_idle(qemu_console) > 1000


def test_qemu_sleep_runs_the_loops(qemu_console):
    for call in ("time.sleep(0.5)", "time.sleep_ms(500)"):
        assert steps_while_sleeping(qemu_console, call) > 1000, call


def test_qemu_script_computing_runs_the_loops(qemu_console):
    assert 10 < steps_while_computing(qemu_console) <= 600


def test_qemu_sleep_keeps_its_length(qemu_console):
    assert 300 <= sleep_length_ms(qemu_console) < 1000
