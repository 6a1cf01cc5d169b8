"""gdb's `watch`, `rwatch` and `awatch` through bmp's GDB server on the simulated blue pill
(Cortex-M3), nRF52840 (Cortex-M4F), ATSAMD21G18A and RP2040 (Cortex-M0+, the ARMv6-M DWT:
two comparators): one gdb session per chip loads the test firmware, stops on a write, a
read and an access of the firmware's variables with the stop reply gdb expects
(T05watch:/rwatch:/awatch:ADDR), and sees the server refuse an unaligned watch and one
watchpoint more than DWT_CTRL.NUMCOMP comparators, with the reason in the reply
(E.errtext), before a last watchpoint works again."""

import re

import pytest

from helpers.gdb import BmpProbe, build_firmware
from helpers.openocd import read_symbols

pytestmark = pytest.mark.timeout(180)

# chip: (firmware, DWT comparators). RAM starts at 0x2000_0000 on all four.
CHIPS = {
    "stm32f103c8": ("firmware", 4),
    "nrf52840": ("firmware-nrf52", 4),
    "atsamd21g18a": ("firmware-samd21", 2),
    "rp2040": ("firmware-rp2040", 2),
}
SPARE_RAM = 0x2000_0100


@pytest.fixture(scope="session")
def firmware():
    return build_firmware()



@pytest.mark.parametrize("chip", sorted(CHIPS))
def test_watch_rwatch_awatch_and_refusals(chip, firmware, tmp_path, unix_micropython):
    image, comparators = CHIPS[chip]
    symbols = read_symbols(firmware / f"{image}.nm")
    counter, watched = symbols["counter"], symbols["watched_value"]
    too_many = [f"watch *(int *){SPARE_RAM + 4 * slot:#x}" for slot in range(comparators + 1)]
    commands = ["load", "break blink_step", "continue", "delete",
                "watch counter", "continue", "delete",
                "rwatch counter", "continue", "delete",
                "awatch watched_value", "continue", "delete",
                f"watch *(int *){SPARE_RAM + 1:#x}", "continue", "delete",
                *too_many, "continue", "delete",
                "watch counter", "continue", "print counter"]
    with BmpProbe(unix_micropython, tmp_path, chip=chip, debug=True) as probe:
        run = probe.gdb(probe.connect() + commands, elf=firmware / f"{image}.elf", timeout=150)
        # The probe prints a reply before it sends it: the last refusal's reply is in its
        # output (and every earlier line with it) once the collector has read that far.
        probe.wait_for_output(re.escape(f"E.no free watchpoint: all {comparators} DWT"), 30)
        log = probe.log()
    assert re.search(r"^Breakpoint 1, (0x[0-9a-f]+ in )?blink_step \(", run.output("continue"),
                     re.MULTILINE), f"{run}"
    write = run.output("continue", 1)
    assert re.search(r"^Hardware watchpoint 2: counter\s+Old value = 0\s+New value = 1$", write,
                     re.MULTILINE), f"watch\n{run}"
    read = run.output("continue", 2)
    assert re.search(r"^Hardware read watchpoint 3: counter\s+Value = 1$", read, re.MULTILINE), \
        f"rwatch\n{run}"
    access = run.output("continue", 3)
    assert re.search(r"^Hardware access \(read/write\) watchpoint 4: watched_value\s+"
                     r"(Value|Old value) = ", access, re.MULTILINE), f"awatch\n{run}"
    # The stop replies name the kind and the watched address (GDB manual E.3).
    for kind, address in (("watch", counter), ("rwatch", counter), ("awatch", watched)):
        assert re.search(rf"T05{kind}:0*{address:x};", log), f"no T05{kind} stop reply\n{log}"
    # Unaligned: refused, with the reason in the reply; gdb inserts nothing and says so.
    unaligned = run.output("continue", 4)
    assert "Could not insert hardware watchpoint 5." in unaligned, f"{run}"
    assert f"E.cannot watch 4 bytes at {SPARE_RAM + 1:#010x}" in log, log
    # One more than the comparators: the last is refused.
    crowded = run.output("continue", 5)
    assert f"Could not insert hardware watchpoint {6 + comparators}." in crowded, f"{run}"
    assert f"Could not insert hardware watchpoint {5 + comparators}." not in crowded, f"{run}"
    assert f"E.no free watchpoint: all {comparators} DWT comparators" in log, log
    # Nothing stuck: a watchpoint works again afterwards.
    again = re.search(r"^Hardware watchpoint \d+: counter\s+Old value = (\d+)\s+New value = (\d+)$",
                      run.output("continue", 6), re.MULTILINE)
    assert again and int(again[2]) == int(again[1]) + 1, f"watch after the refusals\n{run}"
    assert re.search(rf"^\$\d+ = {again[2]}$", run.output("print counter"), re.MULTILINE), \
        f"{run}"
