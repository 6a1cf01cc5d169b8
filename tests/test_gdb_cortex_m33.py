"""gdb-multiarch against bmp's GDB server on the host probe with the simulated generic
Cortex-M33 (BMP_WIRE=sim:cortex-m33, ARMv8-M mainline; rust/sim/src/soc/cortex_m33.rs),
the F4 test program put in its code memory by the simulator's loader (BMP_SIM_FIRMWARE: no
family driver knows the part, so the probe has no flash driver for it). The engine finds
the ARMv8-M debug components by DEVARCH and attaches a generic Cortex-M33: registers
(with the FPU's), break, step, and `monitor security` reading DSCSR."""

import re

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
                "monitor security", "monitor help"]
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
