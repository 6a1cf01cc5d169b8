"""gdb-multiarch end to end against bmp's GDB server: the unix host probe runs
bmp.init(tcp=PORT) with the simulated blue pill (BMP_WIRE=sim:stm32f103c8), and gdb in
batch mode connects, scans, attaches, loads tests/firmware into flash and debugs it.

Each test has a probe process of its own (in its tmp_path, where semihosting files land).
The gdb command lists were checked against qemu-system-arm's own gdbstub (netduino2, a
Cortex-M3 with flash at 0x0800_0000): BMP_GDB_SERVER=qemu runs the same scripts there,
and the tests that exercise bmp's own commands (monitor, attach, kill) skip, saying so."""

import os
import pathlib
import re
import subprocess
import threading
import time

import pytest

from helpers.console import Console
from helpers.gdb import (BmpProbe, BmpStreamProbe, QemuGdbStub, build_firmware, firmware_symbols,
                         interrupt_after, run_gdb)
from helpers.openocd import build_sim, free_port, stop_process

SERVER = os.environ.get("BMP_GDB_SERVER", "bmp")

# tests/firmware/README.md, "Expected console output on success".
SEMIHOSTING_CONSOLE = [
    "hello, world!",
    "semihosting: SYS_WRITE to :tt",
    "semihosting: file semihosting_test.txt: wrote 41, flen 41, read back, equal",
    "semihosting test: PASS",
]
SEMIHOSTING_FILE = b"bmp semihosting file test: hello, world!\n"

# compute(1) = scramble(1) + 3 = 0x42021 + 3: what blink_step stores in watched_value on its
# first call (counter 0 -> 1).
FIRST_WATCHED_VALUE = 0x42024

MONITOR_COMMANDS = ["version", "help", "swdp_scan", "jtag_scan", "targets", "frequency", "reset",
                    "halt_timeout", "connect_rst", "hard_srst", "erase_mass", "recover", "flash_report", "crc_routine",
                    "python", "traceswo", "rtt"]

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="session")
def firmware():
    build = build_firmware()
    return build


@pytest.fixture(scope="session")
def symbols(firmware):
    return firmware_symbols(firmware)


@pytest.fixture
def server(request, tmp_path, firmware):
    """A factory: server(repl_fun=False) starts a GDB server in tmp_path."""
    started = []

    def start(repl_fun=False, chip="stm32f103c8", stdin=None, computing=False):
        if SERVER == "qemu":
            process = QemuGdbStub(firmware / "firmware.elf", tmp_path)
        else:
            assert SERVER == "bmp", f"BMP_GDB_SERVER must be bmp or qemu, not {SERVER!r}"
            micropython = request.getfixturevalue("unix_micropython")
            process = BmpProbe(micropython, tmp_path, chip=chip, repl_fun=repl_fun, stdin=stdin,
                               computing=computing)
        started.append(process)
        return process

    yield start
    for process in started:
        process.close()


def bmp_only(server, what):
    if server.kind != "bmp":
        pytest.skip(f"BMP_GDB_SERVER={server.kind}: {what} is bmp's own")


def loaded(server, scan="swdp_scan"):
    """Connect, attach and load the firmware into flash. bmp resets and halts the target
    after a flash write (vFlashDone), so it starts from the new image's vector table and
    `load` sets the PC to the entry point; qemu's gdbstub does not reset, so there the SP
    is set by hand."""
    commands = server.connect(scan) + ["load"]
    if server.kind == "qemu":
        commands += ["set $sp = *(unsigned int *) &vector_table", "set $pc = reset_handler"]
    return commands


def value_of(output):
    """The value of a `print` answer such as `$3 = 1234`."""
    match = re.search(r"^\$\d+ = (.*)$", output, re.MULTILINE)
    assert match is not None, f"no value in {output!r}"
    return match.group(1).strip()


def assert_no_errors(transcript, commands):
    """None of `commands` printed a gdb error."""
    for command in commands:
        output = transcript.output(command)
        assert not re.search(r"error|Cannot|not supported|Could not|Invalid|Remote failure",
                             output, re.IGNORECASE), \
            f"{command!r} failed: {output!r}\n{transcript}"


def assert_stopped_at(transcript, command, function, occurrence=0):
    output = transcript.output(command, occurrence)
    assert re.search(rf"^Breakpoint \d+, (0x[0-9a-f]+ in )?{function} \(", output, re.MULTILINE), \
        f"{command!r} (#{occurrence}) did not stop at {function}\n{transcript}"


def assert_attached(transcript):
    attach = transcript.output("attach 1")
    assert not re.search(r"error|fail|Don't|not supported|No such", attach, re.IGNORECASE), \
        f"attach 1 failed\n{transcript}"


def test_swdp_scan_lists_the_stm32f1_and_attach_halts_it(server):
    probe = server()
    bmp_only(probe, "monitor swdp_scan and attach")
    run = probe.gdb(probe.connect() + ["info registers pc", "monitor targets"])
    scan = run.output("monitor swdp_scan")
    assert re.search(r"^\s*1\s.*STM32F1", scan, re.MULTILINE), f"no target 1 STM32F1\n{run}"
    # In batch mode gdb prints no "Attaching to ..." line, only the frame: on this blank
    # chip the core is locked up at 0xfffffffe, which gdb shows as <signal handler called>.
    assert_attached(run)
    assert re.search(r"^pc\s+0x[0-9a-f]+", run.output("info registers pc"), re.MULTILINE), \
        f"no PC after attach\n{run}"
    assert re.search(r"^\s*1\s+\*\s+STM32F1", run.output("monitor targets"), re.MULTILINE), \
        f"monitor targets does not mark target 1 attached\n{run}"


def test_load_and_compare_sections(server, firmware, symbols):
    probe = server()
    run = probe.gdb(probe.connect() + ["load", "compare-sections", "x/16xw 0x08000000",
                                       "flushregs", "info registers sp"])
    load = run.output("load")
    if probe.kind == "bmp":
        # After the flash write bmp reset the target: SP comes from the new vector table.
        sp = re.search(r"^sp\s+(0x[0-9a-f]+)", run.output("info registers sp"), re.MULTILINE)
        assert sp and int(sp.group(1), 16) == 0x20005000, f"SP after load\n{run}"
    assert "Loading section .text" in load and "Loading section .data" in load, f"load\n{run}"
    assert re.search(rf"Start address 0x0*{symbols['reset_handler']:x}", load), f"load\n{run}"
    compare = run.output("compare-sections")
    assert "MIS-MATCHED" not in compare, f"flash differs from the ELF\n{run}"
    for section in (".text", ".data"):
        assert re.search(rf"^Section {re.escape(section)}, range .*: matched\.$", compare,
                         re.MULTILINE), f"{section} not compared/matched\n{run}"
    words = [int(word, 16) for line in run.output("x/16xw 0x08000000").splitlines()
             for word in re.findall(r"\t(0x[0-9a-f]{8})", line)]
    image = (firmware / "firmware.bin").read_bytes()[:64]
    expected = [int.from_bytes(image[i:i + 4], "little") for i in range(0, 64, 4)]
    assert words == expected, f"x/16xw 0x08000000 is not the image's first 16 words\n{run}"
    assert words[0] == 0x20005000, f"initial SP\n{run}"


def test_break_continue_next_step_finish(server, symbols):
    probe = server()
    commands = loaded(probe) + ["break blink_step", "continue", "next", "next", "next", "step",
                                "finish", "print counter"]
    run = probe.gdb(commands)
    assert re.search(rf"^Breakpoint 1 at 0x0*{symbols['blink_step']:x}: file .*main\.c",
                     run.output("break blink_step"), re.MULTILINE), f"break\n{run}"
    assert_stopped_at(run, "continue", "blink_step")
    # The lines of blink_step's body in main.c, found in the source (edits above them move them).
    source = (pathlib.Path(__file__).parent / "firmware" / "main.c").read_text().splitlines()
    next_line, counter_line, watched_line = (
        source.index(text) + 1 for text in ["    uint32_t next = counter + 1u;",
                                            "    counter = next;",
                                            "    watched_value = compute(next);"])
    assert re.match(rf"^{next_line}\s+uint32_t next = counter \+ 1u;", run.output("next", 0)), \
        f"next\n{run}"
    assert re.match(rf"^{counter_line}\s+counter = next;", run.output("next", 1)), f"next\n{run}"
    assert re.match(rf"^{watched_line}\s+watched_value = compute\(next\);", run.output("next", 2)), \
        f"next\n{run}"
    step = run.output("step")
    assert re.search(r"^compute \(value=1\) at .*main\.c:\d+", step, re.MULTILINE), \
        f"step did not enter compute(1)\n{run}"
    finish = run.output("finish")
    assert re.search(rf"in blink_step \(\) at .*main\.c:{watched_line}", finish), f"finish\n{run}"
    assert re.search(rf"^Value returned is \$\d+ = {FIRST_WATCHED_VALUE}$", finish, re.MULTILINE), \
        f"finish did not return compute(1)\n{run}"
    assert value_of(run.output("print counter")) == "1", f"counter\n{run}"


def test_print_and_set_variable(server):
    probe = server()
    commands = loaded(probe) + ["break blink_step", "continue", "continue", "print counter",
                                "print hello", "set var counter = 1234", "print counter",
                                "continue", "print counter", "print/x watched_value"]
    run = probe.gdb(commands)
    assert_stopped_at(run, "continue", "blink_step", 1)
    assert value_of(run.output("print counter", 0)) == "1", f"counter after one loop\n{run}"
    assert value_of(run.output("print hello")) == '"hello, world!"', f"hello in SRAM\n{run}"
    assert_no_errors(run, ["set var counter = 1234"])
    assert value_of(run.output("print counter", 1)) == "1234", f"set var counter\n{run}"
    # The firmware carries on from the written value: one more blink_step makes it 1235.
    assert_stopped_at(run, "continue", "blink_step", 2)
    assert value_of(run.output("print counter", 2)) == "1235", f"counter after set var\n{run}"
    assert value_of(run.output("print/x watched_value")) != "0x0", f"watched_value\n{run}"


def test_watchpoint(server):
    probe = server()
    commands = loaded(probe) + ["break blink_step", "continue", "delete", "watch watched_value",
                                "continue", "print counter"]
    run = probe.gdb(commands)
    assert_stopped_at(run, "continue", "blink_step")
    assert re.search(r"^Hardware watchpoint 2: watched_value$", run.output("watch watched_value"),
                     re.MULTILINE), f"watch\n{run}"
    hit = run.output("continue", 1)
    assert re.search(r"^Hardware watchpoint 2: watched_value$", hit, re.MULTILINE), \
        f"continue did not stop on the watchpoint\n{run}"
    assert re.search(r"^Old value = 0$", hit, re.MULTILINE), f"old value\n{run}"
    assert re.search(rf"^New value = {FIRST_WATCHED_VALUE}$", hit, re.MULTILINE), \
        f"new value\n{run}"
    # The store is blink_step's last instruction but one (then `pop {r3, pc}`). gdb treats
    # ARM watchpoints as reported before the access and single-steps once more after the
    # report (z2, vCont;s); a Cortex-M DWT halts after the access (qemu reports before it),
    # so the stop is in blink_step on qemu and back in main on bmp or any Cortex-M probe.
    assert re.search(r"^(0x[0-9a-f]+ in )?(blink_step|main) \(\) at .*main\.c", hit, re.MULTILINE), \
        f"stopped outside blink_step and its caller\n{run}"
    assert value_of(run.output("print counter")) == "1", f"counter\n{run}"


def test_info_registers(server, symbols):
    probe = server()
    run = probe.gdb(loaded(probe) + ["break blink_step", "continue", "info registers"])
    assert_stopped_at(run, "continue", "blink_step")
    registers = {}
    for line in run.output("info registers").splitlines():
        match = re.match(r"^(\w+)\s+(0x[0-9a-f]+)\s", line)
        if match:
            registers[match.group(1)] = int(match.group(2), 16)
    names = [f"r{number}" for number in range(13)] + ["sp", "lr", "pc", "xpsr"]
    missing = [name for name in names if name not in registers]
    assert not missing, f"info registers lacks {missing}\n{run}"
    assert registers["pc"] == symbols["blink_step"], f"pc\n{run}"
    assert 0x20000000 < registers["sp"] <= 0x20005000, f"sp not in SRAM\n{run}"
    assert registers["xpsr"] & 0x01000000, f"xpsr without the Thumb bit\n{run}"
    # blink_step was called from main: lr is a Thumb return address into main.
    assert symbols["main"] < registers["lr"] - 1 < symbols["semihosting_call"], f"lr\n{run}"


def test_info_registers_msp(server):
    probe = server()
    bmp_only(probe, "msp (qemu 7.2's Cortex-M description has no msp)")
    run = probe.gdb(loaded(probe) + ["break blink_step", "continue", "info registers msp",
                                     "info registers sp"])
    assert_stopped_at(run, "continue", "blink_step")
    msp = re.search(r"^msp\s+(0x[0-9a-f]+)", run.output("info registers msp"), re.MULTILINE)
    sp = re.search(r"^sp\s+(0x[0-9a-f]+)", run.output("info registers sp"), re.MULTILINE)
    assert msp and sp, f"info registers msp/sp\n{run}"
    # Thread mode on the main stack: sp is msp.
    assert int(msp.group(1), 16) == int(sp.group(1), 16), f"msp != sp\n{run}"


def test_backtrace(server):
    probe = server()
    run = probe.gdb(loaded(probe) + ["break scramble", "continue", "bt"])
    assert_stopped_at(run, "continue", "scramble")
    frames = re.findall(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\w+) \(", run.output("bt"), re.MULTILINE)
    assert [name for _, name in frames] == ["scramble", "compute", "blink_step", "main"], \
        f"backtrace\n{run}"


def test_monitor_reset(server):
    probe = server()
    bmp_only(probe, "monitor reset")
    commands = loaded(probe) + ["break blink_step", "continue", "continue", "continue",
                                "print counter", "monitor reset", "continue", "print counter"]
    run = probe.gdb(commands)
    assert value_of(run.output("print counter", 0)) == "2", f"counter before reset\n{run}"
    assert_no_errors(run, ["monitor reset"])
    # The reset runs the start-up code again: .bss (counter) is zeroed, and the first
    # blink_step sees counter 0.
    assert_stopped_at(run, "continue", "blink_step", 3)
    assert value_of(run.output("print counter", 1)) == "0", f"counter after reset\n{run}"


def test_interrupt(server, symbols):
    probe = server()
    commands = loaded(probe) + [interrupt_after(1.0), "continue", "print counter", "print $pc"]
    run = probe.gdb(commands)
    stop = run.output("continue")
    assert "Program received signal SIGINT" in stop, f"interrupt did not stop the target\n{run}"
    assert int(value_of(run.output("print counter"))) > 0, f"the target did not run\n{run}"
    pc = re.search(r"0x([0-9a-f]+)", value_of(run.output("print $pc")))
    assert pc and symbols["vector_table"] <= int(pc.group(1), 16) < symbols["_data_load"], \
        f"pc outside the firmware\n{run}"


def test_detach_then_a_second_connection(server):
    probe = server()
    first = probe.gdb(loaded(probe) + ["break blink_step", "continue", "continue", "print counter",
                                       "delete", "detach"])
    assert value_of(first.output("print counter")) == "1", f"first session\n{first}"
    assert re.search(r"\[Inferior 1 \(.*\) detached\]", first.output("detach")), \
        f"detach\n{first}"
    second = probe.gdb(probe.connect() + ["print counter", "info registers pc"])
    # The target ran on after the detach: the second session sees it further on.
    assert int(value_of(second.output("print counter"))) > 1, f"second session\n{second}"
    assert re.search(r"^pc\s+0x[0-9a-f]+", second.output("info registers pc"), re.MULTILINE), \
        f"second session\n{second}"


def test_kill(server):
    probe = server()
    bmp_only(probe, "kill over extended-remote")
    run = probe.gdb(loaded(probe) + ["break blink_step", "continue", "kill", "monitor swdp_scan",
                                     "attach 1", "print counter"])
    assert_stopped_at(run, "continue", "blink_step")
    assert re.search(r"\[Inferior 1 \(.*\) killed\]", run.output("kill")), f"kill\n{run}"
    # The probe is still usable: scan and attach again, read the target.
    assert re.search(r"^\s*1\s.*STM32F1", run.output("monitor swdp_scan"), re.MULTILINE), \
        f"scan after kill\n{run}"
    assert re.match(r"^\d+$", value_of(run.output("print counter"))), f"after kill\n{run}"
    assert probe.alive(), f"the probe exited\n{run}"


def test_semihosting(server, tmp_path):
    probe = server()
    commands = loaded(probe) + ["break main", "continue", "delete", "set var semihosting_test = 1",
                                "continue"]
    run = probe.gdb(commands)
    assert_stopped_at(run, "continue", "main")
    exited = run.output("continue", 1)
    assert re.search(r"^\[Inferior 1 \(.*\) exited normally\]$", exited, re.MULTILINE), \
        f"no normal exit (SYS_EXIT_EXTENDED status 0)\n{run}"
    probe.wait_for_output(r"^semihosting test: ", 5)
    console = [line.rstrip("\r") for line in probe.log().splitlines()]
    start = console.index(SEMIHOSTING_CONSOLE[0]) if SEMIHOSTING_CONSOLE[0] in console else -1
    assert start >= 0 and console[start:start + 4] == SEMIHOSTING_CONSOLE, \
        f"console lines\n{run}"
    # bmp confines the target's files to ./semihosting (semihosting.py's sandbox); qemu's
    # own semihosting writes into its working directory.
    sandbox = tmp_path / "semihosting" if probe.kind == "bmp" else tmp_path
    written = sandbox / "semihosting_test.txt"
    assert written.exists(), f"{written} missing\n{run}"
    assert written.read_bytes() == SEMIHOSTING_FILE, f"{written}: {written.read_bytes()!r}"


NEWLIB_CONSOLE = [
    "newlib: printf 42 ok",
    "newlib: stderr ok",
    'newlib: read back "written by newlib 1234", 23 bytes',
    "newlib: remove 0, again -1, reopen after remove fails",
    "newlib: time ok, clock ok",
    'newlib: stdin "typed on the probe"',
]


def test_a_newlib_program(server, tmp_path, firmware):
    """tests/firmware/newlib.elf: printf, stderr, fopen/fprintf/fgets/fseek/ftell, remove,
    time, clock, a line read from stdin (the probe's console input) and exit(3), through
    newlib-nano's librdimon (which reads ':semihosting-features' and so exits with
    SYS_EXIT_EXTENDED and the status)."""
    probe = server(stdin="typed on the probe\n")
    bmp_only(probe, "semihosting served on the probe")
    run = probe.gdb(probe.connect() + ["load", "continue"], elf=firmware / "newlib.elf")
    exited = run.output("continue")
    assert re.search(r"^\[Inferior 1 \(.*\) exited with code 03\]$", exited, re.MULTILINE), \
        f"no exit with code 3\n{run}"
    probe.wait_for_output(r"^newlib: stdin", 5)
    console = [line.rstrip("\r") for line in probe.log().splitlines()]
    start = console.index(NEWLIB_CONSOLE[0]) if NEWLIB_CONSOLE[0] in console else -1
    assert start >= 0 and console[start:start + len(NEWLIB_CONSOLE)] == NEWLIB_CONSOLE, \
        f"console lines\n{run}"
    assert (tmp_path / "semihosting").is_dir(), "the sandbox was made"
    assert not (tmp_path / "semihosting" / "newlib_test.txt").exists(), "the program removed its file"
    assert sorted(os.listdir(tmp_path)) == ["semihosting"], "nothing outside the sandbox"


def test_served_while_a_script_computes(server):
    """The probe's script counts in a busy loop (no sleep, no input): MicroPython's VM hook
    polls the GDB server meanwhile, so gdb scans, attaches and reads memory, and the script
    computes on."""
    probe = server(computing=True)
    bmp_only(probe, "the VM hook")
    before = probe.log().count("computed")
    run = probe.gdb(probe.connect() + ["x/2xw 0x08000000", "print counter", "detach"])
    assert re.search(r"^0x8000000\b.*:\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}\s*$",
                     run.output("x/2xw 0x08000000"), re.MULTILINE), f"x/2xw\n{run}"
    assert re.match(r"^\d+$", value_of(run.output("print counter"))), f"print counter\n{run}"
    deadline = time.monotonic() + 10
    while probe.log().count("computed") <= before + 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert probe.alive() and probe.log().count("computed") > before + 1, \
        f"the script did not compute on\n{run}"


def test_monitor_help_and_version(server):
    probe = server()
    bmp_only(probe, "monitor help")
    run = probe.gdb([f"target extended-remote 127.0.0.1:{probe.port}", "monitor help",
                     "monitor version"])
    help_text = run.output("monitor help")
    missing = [name for name in MONITOR_COMMANDS
               if not re.search(rf"^\s*{name}\b", help_text, re.MULTILINE)]
    assert not missing, f"monitor help lacks {missing}\n{run}"
    assert "bmp" in run.output("monitor version").lower(), f"monitor version\n{run}"


def test_monitor_python(server):
    probe = server(repl_fun=True)
    bmp_only(probe, "monitor python")
    run = probe.gdb([f"target extended-remote 127.0.0.1:{probe.port}", "monitor python 6*7"])
    assert re.search(r"^42$", run.output("monitor python 6*7"), re.MULTILINE), \
        f"monitor python 6*7\n{run}"


def test_monitor_python_without_repl_fun(server):
    probe = server()
    bmp_only(probe, "monitor python")
    run = probe.gdb([f"target extended-remote 127.0.0.1:{probe.port}", "monitor python 6*7"])
    output = run.output("monitor python 6*7")
    assert "repl_fun() not registered" in output and not re.search(r"^42$", output, re.MULTILINE), \
        f"monitor python without repl_fun\n{run}"
    assert probe.alive(), f"the probe exited\n{run}"


def frequency_of(output):
    """Hz from a line such as `... 4000000 Hz`, `4000 kHz` or `4.000 MHz`."""
    match = re.search(r"(\d+(?:\.\d+)?)\s*([kKM]?)Hz", output)
    assert match is not None, f"no frequency in {output!r}"
    scale = {"": 1, "k": 1e3, "K": 1e3, "M": 1e6}[match.group(2)]
    return float(match.group(1)) * scale


def test_monitor_frequency(server):
    probe = server()
    bmp_only(probe, "monitor frequency")
    # After a scan: the wire's clock is what the scan ran at.
    run = probe.gdb([f"target extended-remote 127.0.0.1:{probe.port}", "monitor swdp_scan",
                     "monitor frequency", "monitor frequency 1000000", "monitor frequency"])
    before = frequency_of(run.output("monitor frequency", 0))
    after = frequency_of(run.output("monitor frequency", 1))
    assert before > 0, f"monitor frequency\n{run}"
    assert 500e3 <= after <= 1.1e6, f"monitor frequency 1000000 not reflected\n{run}"


def test_jtag_scan_and_attach(server, symbols):
    probe = server()
    bmp_only(probe, "monitor jtag_scan")
    run = probe.gdb(loaded(probe, scan="jtag_scan") + ["compare-sections", "break blink_step",
                                                       "continue", "print counter"])
    assert re.search(r"^\s*1\s.*STM32F1", run.output("monitor jtag_scan"), re.MULTILINE), \
        f"jtag_scan\n{run}"
    assert_attached(run)
    compare = run.output("compare-sections")
    assert "matched." in compare and "MIS-MATCHED" not in compare, f"compare-sections\n{run}"
    assert_stopped_at(run, "continue", "blink_step")
    assert value_of(run.output("print counter")) == "0", f"counter\n{run}"


def test_gdb_on_a_stream(tmp_path, firmware, request):
    """bmp.init(stream=s) with a socket the probe opened itself: the same session as over
    bmp's own TCP server (scan, attach, load, compare-sections, break, continue, print)."""
    if SERVER != "bmp":
        pytest.skip("bmp.init(stream=) is bmp's own")
    micropython = request.getfixturevalue("unix_micropython")
    with BmpStreamProbe(micropython, tmp_path) as probe:
        run = probe.gdb(probe.connect() + ["load", "compare-sections", "break blink_step",
                                           "continue", "print counter"])
        compare = run.output("compare-sections")
        assert "MIS-MATCHED" not in compare and "matched." in compare, f"compare\n{run}"
        assert "Breakpoint 1, blink_step" in run.output("continue"), f"continue\n{run}"
        assert value_of(run.output("print counter")) == "0", f"counter\n{run}"


def test_a_target_that_stops_answering(tmp_path, firmware, request):
    """The wire's far end (bmp-sim over remote_bitbang) dies while gdb waits for the running
    target: the probe says why on gdb's console and reports SIGLOST; it serves on."""
    if SERVER != "bmp":
        pytest.skip("bmp's own error path")
    sim_port = free_port()
    sim = subprocess.Popen([str(build_sim()), "--listen", f"127.0.0.1:{sim_port}",
                            "--virtual-time", "--firmware", str(firmware / "firmware.elf")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert "listening" in sim.stdout.readline()
        micropython = request.getfixturevalue("unix_micropython")
        with BmpProbe(micropython, tmp_path, wire=f"remote_bitbang:127.0.0.1:{sim_port}",
                      debug=True) as probe:
            def pull_the_plug():
                # The probe prints a packet before it handles it: give the resume time.
                if probe.wait_for_output(r"gdb < \$vCont;c#", 60):
                    time.sleep(0.5)
                    stop_process(sim)
            killer = threading.Thread(target=pull_the_plug, daemon=True)
            killer.start()
            run = probe.gdb(probe.connect() + ["continue", "monitor version"])
            killer.join(timeout=10)
            stopped = run.output("continue")
            assert "target lost: " in stopped, str(run)  # with the engine's reason
            assert "SIGLOST" in stopped, str(run)
            assert "bmp" in run.output("monitor version"), str(run)
    finally:
        stop_process(sim)


def test_gdb_through_the_qemu_firmware(qemu_firmware, tmp_path, firmware):
    """The whole firmware path: gdb -> qemu's UART2 -> bmp.init(stream=mps2.UART(2)) in the
    probe firmware on the emulated Cortex-M3 -> its wire, remote_bitbang on UART1 -> bmp-sim
    running the test firmware. bmp-sim runs without --real-time: over this link the target
    only runs while the wire clocks (docs/target.md)."""
    if SERVER != "bmp":
        pytest.skip("the qemu firmware's GDB server is bmp's own")
    sim_port, gdb_port = free_port(), free_port()
    sim = subprocess.Popen([str(build_sim()), "--listen", f"127.0.0.1:{sim_port}",
                            "--virtual-time", "--firmware", str(firmware / "firmware.elf")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    console = None
    try:
        assert "listening" in sim.stdout.readline()
        console = Console.qemu(str(qemu_firmware), [
            f"tcp:127.0.0.1:{sim_port},nodelay=on",
            f"tcp:127.0.0.1:{gdb_port},server=on,wait=off,nodelay=on"])
        console.prompt(timeout=30)
        started = console.line("import bmp, mps2; bmp.repl_fun(lambda s: str(eval(s))); "
                               "bmp.init(stream=mps2.UART(2)); print('serving')")
        assert "serving" in started, started
        # The REPL now waits for input, and its idle hook polls the GDB server.
        run = run_gdb([f"target extended-remote 127.0.0.1:{gdb_port}", "monitor version",
                       "monitor python 6*7", "monitor swdp_scan", "attach 1", "x/4xw 0x08000000",
                       "break blink_step", "continue", "bt"],
                      firmware / "firmware.elf", tmp_path, timeout=120)
        assert "GDB server on MicroPython firmware" in run.output("monitor version"), str(run)
        assert run.output("monitor python 6*7").strip().startswith("42"), str(run)
        assert re.search(r"^\s*1\s+STM32F1", run.output("monitor swdp_scan"), re.MULTILINE), str(run)
        assert "0x20005000" in run.output("x/4xw 0x08000000"), str(run)
        assert "Breakpoint 1, blink_step" in run.output("continue"), str(run)
        backtrace = run.output("bt")
        assert "blink_step" in backtrace and "main" in backtrace, str(run)
    finally:
        if console is not None:
            console.close()
        stop_process(sim)


def test_gdb_flashes_through_the_qemu_firmwares_wire(qemu_firmware, tmp_path, firmware):
    """The qemu firmware's wire (UART1, remote_bitbang) to bmp-sim on its default wall clock
    holding another image (bench.elf): gdb loads the test firmware through it and
    compare-sections matches. (In virtual time the flash driver's wall-clock timeouts ran
    out, docs/target.md.)"""
    if SERVER != "bmp":
        pytest.skip("the qemu firmware's GDB server is bmp's own")
    sim_port, gdb_port = free_port(), free_port()
    sim = subprocess.Popen([str(build_sim()), "--listen", f"127.0.0.1:{sim_port}",
                            "--firmware", str(firmware / "bench.elf")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    console = None
    try:
        assert "listening" in sim.stdout.readline()
        console = Console.qemu(str(qemu_firmware), [
            f"tcp:127.0.0.1:{sim_port},nodelay=on",
            f"tcp:127.0.0.1:{gdb_port},server=on,wait=off,nodelay=on"])
        console.prompt(timeout=30)
        started = console.line("import bmp, mps2; bmp.init(stream=mps2.UART(2)); "
                               "print('serving')")
        assert "serving" in started, started
        run = run_gdb([f"target extended-remote 127.0.0.1:{gdb_port}", "monitor swdp_scan",
                       "attach 1", "load", "compare-sections"],
                      firmware / "firmware.elf", tmp_path, timeout=600)
        assert "Transfer rate" in run.output("load"), str(run)
        compare = run.output("compare-sections")
        assert "matched." in compare and "MIS-MATCHED" not in compare, str(run)
    finally:
        if console is not None:
            console.close()
        stop_process(sim)
