"""gdb-multiarch against bmp's GDB server on the host probe with the simulated generic
Cortex-M33 (BMP_WIRE=sim:cortex-m33, ARMv8-M mainline; rust/sim/src/soc/cortex_m33.rs),
the F4 test program put in its code memory by the simulator's loader (BMP_SIM_FIRMWARE: no
family driver knows the part, so the probe has no flash driver for it). The engine finds
the ARMv8-M debug components by DEVARCH and attaches a generic Cortex-M33: registers
(with the FPU's), break, step, and `monitor security` reading DSCSR."""

import os
import re
import subprocess

import pytest

from helpers.gdb import BmpProbe, build_firmware

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def firmware():
    return build_firmware()


def test_cortex_m33_registers_break_step_security(unix_micropython, tmp_path, firmware):
    elf = firmware / "firmware-f4.elf"
    commands = ["info registers pc", "break blink_step",
                "continue", "step", "info registers", "set $r4 = 0x12345678",
                "maint flush register-cache", "p/x $r4", "p $d0", "info registers control",
                "monitor security", "monitor security sbrsel nonsecure",
                "monitor security sbrsel current", "monitor help"]
    with BmpProbe(unix_micropython, tmp_path, chip="cortex-m33",
                  environment={"BMP_SIM_FIRMWARE": str(elf)}) as probe:
        run = probe.gdb(probe.connect() + commands, elf=elf)
    assert re.search(r"^\s*1\s.*ARM Cortex-M M33", run.output("monitor swdp_scan"),
                     re.MULTILINE), f"scan\n{run}"
    assert re.search(r"^Breakpoint 1, (0x[0-9a-f]+ in )?blink_step \(", run.output("continue"),
                     re.MULTILINE), f"continue\n{run}"
    assert re.match(r"^\d+\s+uint32_t next = counter \+ 1u;", run.output("step")), \
        f"step did not go to blink_step's first line\n{run}"
    general = run.output("info registers")
    for name in ("r0", "sp", "pc", "xpsr", "msp", "psp"):
        assert re.search(rf"^{name}\s+0x", general, re.MULTILINE), f"no {name}\n{run}"
    assert run.output("p/x $r4").strip() == "$1 = 0x12345678", f"{run}"
    assert run.output("p $d0").startswith("$2 = "), f"no FPU registers\n{run}"
    security = run.output("monitor security")
    assert "DSCSR 0x00010000: the core is in Secure state (CDS)" in security, f"{run}"
    assert "Secure debug enabled (DHCSR.S_SDE)" in security, f"{run}"
    assert "banked registers: the Non-secure ones (SBRSELEN 1, SBRSEL 0)" in \
        run.output("monitor security sbrsel nonsecure"), f"{run}"
    assert "banked registers: the current state's (SBRSELEN 0)" in \
        run.output("monitor security sbrsel current"), f"{run}"
    assert re.search(r"^\tsecurity -- ARMv8-M", run.output("monitor help"), re.MULTILINE), f"{run}"


def test_cortex_m33_watch_rwatch_awatch(unix_micropython, tmp_path, firmware):
    """gdb's three watchpoint kinds on the M33's ARMv8-M DWT (DWT_FUNCTION's MATCH, ACTION
    and DATAVSIZE), each stopping with its own kind on `counter`."""
    elf = firmware / "firmware-f4.elf"
    commands = ["watch counter", "continue", "delete",
                "rwatch counter", "continue", "delete",
                "awatch counter", "continue", "delete"]
    with BmpProbe(unix_micropython, tmp_path, chip="cortex-m33",
                  environment={"BMP_SIM_FIRMWARE": str(elf)}) as probe:
        run = probe.gdb(probe.connect() + commands, elf=elf)
    assert re.search(r"Hardware watchpoint \d+: counter\s+Old value = \d+\s+New value = \d+",
                     run.output("continue", 0)), f"watch\n{run}"
    assert re.search(r"Hardware read watchpoint \d+: counter\s+Value = \d+",
                     run.output("continue", 1)), f"rwatch\n{run}"
    assert re.search(r"Hardware access \(read/write\) watchpoint \d+: counter\s+Value = \d+",
                     run.output("continue", 2)), f"awatch\n{run}"


def test_cortex_m33_ranged_watchpoints(unix_micropython, tmp_path, firmware):
    """Watches larger than 4 bytes or unaligned on the ARMv8-M DWT: a comparator and the
    next one as its data address limit (FUNCTION MATCH 0b0111; the M33's 1 and 3 can be
    limits). An 8-byte object from counter, 3 unaligned bytes inside it and a 16-byte
    array each stop; with both pairs taken a third range is refused with the reason."""
    elf = firmware / "firmware-f4.elf"
    commands = ["watch *(char (*)[8])&counter", "continue", "delete",
                "awatch *(char (*)[3])((char *)&counter + 1)", "continue", "delete",
                "watch *(unsigned (*)[4])&counter", "continue", "delete",
                "rwatch *(char (*)[16])0x20001000", "rwatch *(char (*)[16])0x20001100",
                "rwatch *(char (*)[16])0x20001200", "continue", "delete",
                "watch counter", "continue"]
    with BmpProbe(unix_micropython, tmp_path, chip="cortex-m33", debug=True,
                  environment={"BMP_SIM_FIRMWARE": str(elf)}) as probe:
        run = probe.gdb(probe.connect() + commands, elf=elf)
        probe.wait_for_output(re.escape("E.no free pair of DWT comparators for a 16-byte"), 30)
        log = probe.log()
    assert re.search(r"Hardware watchpoint \d+: \*\(char \(\*\)\[8\]\)&counter\s+Old value",
                     run.output("continue", 0)), f"8 bytes\n{run}"
    assert re.search(r"Hardware access \(read/write\) watchpoint \d+: .*counter \+ 1\)\s+"
                     r"(Value|Old value) = ", run.output("continue", 1)), f"unaligned\n{run}"
    assert re.search(r"Hardware watchpoint \d+: \*\(unsigned \(\*\)\[4\]\)&counter\s+"
                     r"Old value", run.output("continue", 2)), f"16 bytes\n{run}"
    assert "Could not insert hardware watchpoint" in run.output("continue", 3), f"{run}"
    assert re.search(r"Z3,0*20001200,10.*E\.no free pair of DWT comparators for a 16-byte "
                     r"watch", log, re.DOTALL), log
    assert re.search(r"Hardware watchpoint \d+: counter\s+Old value = \d+\s+New value",
                     run.output("continue", 4)), f"a watch after the refusal\n{run}"


def test_cortex_m33_banked_and_stack_limit_registers(unix_micropython, tmp_path, firmware):
    """The M33's banked stack pointers and stack limits in gdb: org.gnu.gdb.arm.secext
    (msp_ns, psp_ns, msp_s, psp_s, then msplim_s, psplim_s, msplim_ns, psplim_ns), read
    and written through DCRSR 0x18-0x1F; gdb 12+ matches msp and sp to msp_s without a
    warning."""
    elf = firmware / "firmware-f4.elf"
    commands = ["break blink_step", "continue", "info registers msp msp_s msp_ns psp_s",
                "set $psplim_ns = 0x20000400", "set $msplim_s = 0x20000100",
                "set $psp_s = 0x20003000", "maint flush register-cache",
                "p/x $psplim_ns", "p/x $msplim_s", "p/x $psp", "p $msp == $msp_s",
                "p $sp == $msp", "bt", "info registers psplim_s msplim_ns"]
    with BmpProbe(unix_micropython, tmp_path, chip="cortex-m33",
                  environment={"BMP_SIM_FIRMWARE": str(elf)}) as probe:
        run = probe.gdb(probe.connect() + commands, elf=elf)
    assert "Invalid state" not in str(run), f"{run}"
    shown = run.output("info registers msp msp_s msp_ns psp_s")
    for name in ("msp", "msp_s", "msp_ns", "psp_s"):
        assert re.search(rf"^{name}\s+0x", shown, re.MULTILINE), f"no {name}\n{run}"
    assert run.output("p/x $psplim_ns").strip() == "$1 = 0x20000400", f"{run}"
    assert run.output("p/x $msplim_s").strip() == "$2 = 0x20000100", f"{run}"
    assert run.output("p/x $psp").strip() == "$3 = 0x20003000", f"psp is psp_s\n{run}"
    assert run.output("p $msp == $msp_s").strip() == "$4 = 1", f"{run}"
    assert run.output("p $sp == $msp").strip() == "$5 = 1", f"{run}"
    assert re.search(r"^#0\s.*blink_step", run.output("bt"), re.MULTILINE), f"{run}"
    assert re.search(r"^msplim_ns\s+0x", run.output("info registers psplim_s msplim_ns"),
                     re.MULTILINE), f"{run}"


def test_cortex_m33_special_registers_of_each_security_state(unix_micropython, tmp_path,
                                                            firmware):
    """primask, basepri, faultmask and control of each security state (secext's primask_s
    .. control_ns, DCRSR 0x22 and 0x23) in gdb: this Secure core's are the _s ones;
    control_s.SPSEL moves sp to psp; the _ns ones are a bank of their own."""
    elf = firmware / "firmware-f4.elf"
    commands = ["break blink_step", "continue",
                "info registers primask_s basepri_s faultmask_s control_s primask_ns "
                "basepri_ns faultmask_ns control_ns",
                "set $basepri_s = 0x40", "set $primask_ns = 1", "set $basepri_ns = 0x80",
                "set $faultmask_ns = 1", "set $control_ns = 2", "set $psp_s = 0x20003000",
                "maint flush register-cache",
                "p/x $basepri", "p/x $primask_ns", "p/x $basepri_ns", "p/x $faultmask_ns",
                "p/x $control_ns", "p/x $control", "set $control_s = 2",
                "maint flush register-cache", "p/x $control", "p/x $sp",
                "set $control_s = 0", "set $basepri_s = 0", "continue"]
    with BmpProbe(unix_micropython, tmp_path, chip="cortex-m33",
                  environment={"BMP_SIM_FIRMWARE": str(elf)}) as probe:
        run = probe.gdb(probe.connect() + commands, elf=elf)
    shown = run.output("info registers primask_s basepri_s faultmask_s control_s primask_ns "
                       "basepri_ns faultmask_ns control_ns")
    for name in ("primask_s", "basepri_s", "faultmask_s", "control_s", "primask_ns",
                 "basepri_ns", "faultmask_ns", "control_ns"):
        assert re.search(rf"^{name}\s+0x", shown, re.MULTILINE), f"no {name}\n{run}"
    printed = [run.output(f"p/x ${name}").strip() for name in
               ("basepri", "primask_ns", "basepri_ns", "faultmask_ns", "control_ns")]
    assert printed == ["$1 = 0x40", "$2 = 0x1", "$3 = 0x80", "$4 = 0x1", "$5 = 0x2"], f"{run}"
    assert run.output("p/x $control", 0).strip() == "$6 = 0x0", f"control is control_s\n{run}"
    assert run.output("p/x $control", 1).strip() == "$7 = 0x2", f"{run}"
    assert run.output("p/x $sp").strip() == "$8 = 0x20003000", f"sp is psp_s\n{run}"
    assert re.search(r"^Breakpoint 1, (0x[0-9a-f]+ in )?blink_step \(",
                     run.output("continue", 1), re.MULTILINE), f"runs on\n{run}"


def test_cortex_m33_registers_through_target(unix_micropython, firmware):
    """The same registers through `target.reg_read/reg_write` (GDB's numbers 40-55 after
    the FPU's: basepri_ns is 53, apart from the Secure core's basepri), and the clear
    error past them."""
    script = """
import target
target.swdp_scan()
target.attach(1)
print("secext", 'org.gnu.gdb.arm.secext' in target.tdesc_xml())
target.reg_write(46, (0x20000500).to_bytes(4, "little"))
msp = bytearray(4)
target.reg_read(17, msp)
data = bytearray(4)
target.reg_read(42, data)
print("msp_s is msp", data == msp)
target.reg_read(46, data)
print("msplim_ns", hex(int.from_bytes(data, "little")))
target.reg_write(53, (0x80).to_bytes(4, "little"))
target.reg_read(53, data)
print("basepri_ns", hex(int.from_bytes(data, "little")))
target.reg_read(20, data)
print("basepri", hex(int.from_bytes(data, "little")))
try:
    target.reg_read(56, data)
except ValueError as error:
    print("56:", error)
"""
    environment = dict(os.environ, BMP_WIRE="sim:cortex-m33",
                       BMP_SIM_FIRMWARE=str(firmware / "firmware-f4.elf"))
    result = subprocess.run([str(unix_micropython), "-c", script], capture_output=True,
                            text=True, timeout=100, env=environment)
    output = result.stdout + result.stderr
    assert "secext True" in output, output
    assert "msplim_ns 0x20000500" in output, output
    assert "msp_s is msp True" in output, output
    assert "basepri_ns 0x80" in output and "basepri 0x0" in output, output
    assert "56: reg must be a GDB register number" in output, output


def test_cortex_m33_nonsecure_debugging(unix_micropython, tmp_path, firmware):
    """`cortex-m33-ns`: a part whose Secure debug is not permitted (SPIDEN low) and whose
    core the debugger sees in Non-secure state. bmp makes every MEM-AP transfer Non-secure
    (HNONSEC), offers no secext (only msplim_ns/psplim_ns beside msp and psp), gdb reads
    Non-secure memory and is refused the Secure half of SRAM; break, step and `monitor
    security` as ever."""
    elf = firmware / "firmware-f4.elf"
    commands = ["info registers msp psp msplim_ns psplim_ns", "p $msp_s",
                "set $msplim_ns = 0x20000100", "maint flush register-cache",
                "p/x $msplim_ns", "x/x 0x20010000", "p counter > 0",
                "break blink_step", "continue", "step", "monitor security"]
    with BmpProbe(unix_micropython, tmp_path, chip="cortex-m33-ns",
                  environment={"BMP_SIM_FIRMWARE": str(elf)}) as probe:
        run = probe.gdb(probe.connect() + commands, elf=elf)
    shown = run.output("info registers msp psp msplim_ns psplim_ns")
    for name in ("msp", "psp", "msplim_ns", "psplim_ns"):
        assert re.search(rf"^{name}\s+0x", shown, re.MULTILINE), f"no {name}\n{run}"
    assert "void" in run.output("p $msp_s"), f"a Secure register offered\n{run}"
    assert run.output("p/x $msplim_ns").strip() == "$2 = 0x20000100", f"{run}"
    assert "Cannot access memory at address 0x20010000" in run.output("x/x 0x20010000"), \
        f"the Secure SRAM was read\n{run}"
    assert run.output("p counter > 0").strip() == "$3 = 1", f"{run}"
    assert re.search(r"^Breakpoint 1, (0x[0-9a-f]+ in )?blink_step \(", run.output("continue"),
                     re.MULTILINE), f"continue\n{run}"
    assert re.match(r"^\d+\s+uint32_t next = counter \+ 1u;", run.output("step")), f"{run}"
    security = run.output("monitor security")
    assert "the core is in Non-secure state (CDS)" in security, f"{run}"
    assert "Secure debug disabled (DHCSR.S_SDE)" in security, f"{run}"
    assert "Secure invasive debug disabled" in security, f"{run}"


def test_cortex_m33_nonsecure_through_target(unix_micropython, firmware):
    """The same part through `target`: the Secure SRAM's refusal names the reason; no
    Secure register is offered (GDB's 40 and 41 are msplim_ns and psplim_ns)."""
    script = """
import target
target.swdp_scan()
target.attach(1)
print("secext", 'org.gnu.gdb.arm.secext' in target.tdesc_xml())
print("limits", 'name="msplim_ns"' in target.tdesc_xml())
data = bytearray(4)
try:
    target.mem_read(data, 0x20010000)
except RuntimeError as error:
    print("refused:", error)
target.mem_read(data, 0x20000000)
print("non-secure read ok")
try:
    target.reg_read(42, data)
except ValueError as error:
    print("42:", error)
"""
    environment = dict(os.environ, BMP_WIRE="sim:cortex-m33-ns",
                       BMP_SIM_FIRMWARE=str(firmware / "firmware-f4.elf"))
    result = subprocess.run([str(unix_micropython), "-c", script], capture_output=True,
                            text=True, timeout=100, env=environment)
    output = result.stdout + result.stderr
    assert "secext False" in output and "limits True" in output, output
    assert re.search(r"refused: .*0x20010000.*Secure debug is not permitted", output), output
    assert "non-secure read ok" in output, output
    assert "42: this core has no such register" in output, output
