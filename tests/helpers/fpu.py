"""The FPU and watchpoint checks that tests/test_gdb_f4.py and test_gdb_h7.py run with
gdb-multiarch on firmware-fpu.elf (tests/firmware/fpu.c): the core's FPU registers in
bmp's target description (org.gnu.gdb.arm.vfp: d0-d15, fpscr; gdb adds s0-s31), read and
written through the engine, as the program's float arguments show them."""

import re

COMMANDS = [
    "load", "break fpu_checkpoint", "continue",
    "info registers", "info all-registers", "p $s0", "p value", "p $d0",
    "set $d1 = 1.5", "maint flush register-cache", "p $d1", "p/x $s3",
    "set $s0 = 4", "continue", "p fpu_result", "p $s0",
    "delete", "watch fpu_rounds", "continue",
]


def check(run):
    """What gdb showed for COMMANDS."""
    hit = run.output("continue", 0)
    assert re.search(r"^Breakpoint 1, (0x[0-9a-f]+ in )?fpu_checkpoint \(value=(value@entry=)?1\.75\)", hit,
                     re.MULTILINE), f"first call\n{run}"
    general = run.output("info registers")
    assert re.search(r"^pc\s+0x", general, re.MULTILINE), f"{run}"
    every = run.output("info all-registers")
    for name in ("d0", "d15", "fpscr", "s0", "s31"):
        assert re.search(rf"^{name}\s", every, re.MULTILINE), f"no {name}\n{run}"
    assert run.output("p $s0").strip() == "$1 = 1.75", f"{run}"
    assert run.output("p value").strip() == "$2 = 1.75", f"{run}"
    assert run.output("p $d0").startswith("$3 = "), f"{run}"
    # Written, the cache flushed, read back from the core: d1 is s2 (low) and s3 (high).
    assert run.output("p $d1").strip() == "$4 = 1.5", f"{run}"
    assert run.output("p/x $s3").strip() == "$5 = 0x3ff80000", f"{run}"
    # The program stores what s0 holds: the value gdb wrote; the next call gets 2.875.
    second = run.output("continue", 1)
    assert re.search(r"fpu_checkpoint \(value=(value@entry=)?2\.875\)", second), f"second call\n{run}"
    assert run.output("p fpu_result").strip() == "$6 = 4", f"{run}"
    assert run.output("p $s0", 1).strip() == "$7 = 2.875", f"{run}"
    # Halted at the second call's entry: its count is still 1.
    watched = run.output("continue", 2)
    assert re.search(r"Hardware watchpoint 2: fpu_rounds\s+Old value = 1\s+New value = 2", watched), \
        f"watchpoint\n{run}"
