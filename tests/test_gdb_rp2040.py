"""gdb-multiarch against bmp's GDB server on the simulated RP2040 (BMP_WIRE=sim:rp2040):
`monitor swdp_scan` wakes the multi-drop wire and lists both Cortex-M0+ cores, gdb attaches
to core 0, `load`s the test firmware linked for XIP flash (firmware-rp2040) through the
chips::rp2040 driver (the boot ROM's flash functions run on the core), compare-sections
matches, core 0 runs from XIP to a breakpoint at blink_step and steps; then gdb detaches
and attaches to core 1, which sees the same flash and its own SIO CPUID, and whose
`monitor erase_sector` erases the first sector."""

import re

import pytest

from helpers.gdb import BmpProbe, build_firmware

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="session")
def firmware():
    return build_firmware()


def test_rp2040_scan_load_compare_break_step_both_cores(firmware, tmp_path, unix_micropython):
    elf = firmware / "firmware-rp2040.elf"
    probe = BmpProbe(unix_micropython, tmp_path, chip="rp2040")
    try:
        run = probe.gdb(probe.connect() + [
            "info mem", "load", "compare-sections", "break blink_step", "continue", "stepi",
            "info registers pc", "print counter", "monitor help", "detach", "attach 2",
            # SIO is outside the memory map, which gdb keeps to by default.
            "set mem inaccessible-by-default off", "print/x *(unsigned int *)0xd0000000",
            "compare-sections", "monitor erase_sector 0x10000000 4096", "compare-sections"],
            elf=elf, timeout=150)
    finally:
        probe.close()
    scan = run.output("monitor swdp_scan")
    assert re.search(r"1\s+RP2040 core 0 M0\+", scan), f"core 0 not listed\n{run}"
    assert re.search(r"2\s+RP2040 core 1 M0\+", scan), f"core 1 not listed\n{run}"
    memory = run.output("info mem")
    assert re.search(r"0x10000000\s+0x10200000\s+flash blocksize 0x1000", memory), f"{run}"
    assert re.search(r"0x00000000\s+0x00004000\s+ro", memory), f"the boot ROM\n{run}"
    load = run.output("load")
    assert "Loading section .text" in load, f"load\n{run}"
    for occurrence in (0, 1):
        compare = run.output("compare-sections", occurrence)
        assert "MIS-MATCHED" not in compare, f"flash differs from the ELF\n{run}"
        assert re.search(r"^Section \.text, range .*: matched\.$", compare, re.MULTILINE), \
            f".text not matched\n{run}"
    assert re.search(r"^Breakpoint \d+, (0x[0-9a-f]+ in )?blink_step \(",
                     run.output("continue"), re.MULTILINE), f"{run}"
    assert re.search(r"<blink_step\+[1-9]\d*>", run.output("info registers pc")), f"{run}"
    assert run.output("print counter").endswith("= 0"), f"{run}"
    assert "erase_mass" in run.output("monitor help"), f"{run}"
    assert "erase_sector" in run.output("monitor help"), f"{run}"
    assert run.output("print/x *(unsigned int *)0xd0000000").endswith("= 0x1"), \
        f"core 1's SIO CPUID\n{run}"
    # Black Magic Probe's erase_sector, through core 1: the first sector is gone.
    assert "erased 0x10000000" in run.output("monitor erase_sector 0x10000000 4096"), f"{run}"
    assert re.search(r"^Section \.text, range .*: MIS-MATCHED!$", run.output("compare-sections", 2),
                     re.MULTILINE), f"{run}"


def test_rp2040_reset_usb_boot_then_reattach(firmware, tmp_path, unix_micropython):
    """Black Magic Probe's `monitor reset_usb_boot`: the boot ROM's reset_to_usb_boot ('UB')
    runs on core 0, which reboots into the ROM's USB boot mode (halted there in the ROM, the
    ROM's USB device controller on: USBCTRL MAIN_CTRL.CONTROLLER_EN); gdb attaches again,
    the flash is intact, and a plain reset leaves USB boot mode."""
    main_ctrl = "print/x *(unsigned int *)0x50110040"
    probe = BmpProbe(unix_micropython, tmp_path, chip="rp2040")
    try:
        run = probe.gdb(probe.connect() + [
            "set mem inaccessible-by-default off", "load", "break blink_step", "continue",
            "delete", main_ctrl, "monitor reset_usb_boot",
            # gdb keeps the registers it read before the monitor command.
            "maint flush register-cache", "info registers pc", main_ctrl,
            "detach", "attach 1", "info registers pc", "compare-sections", "monitor reset",
            main_ctrl], elf=firmware / "firmware-rp2040.elf", timeout=150)
    finally:
        probe.close()
    assert re.search(r"^Breakpoint \d+, (0x[0-9a-f]+ in )?blink_step \(",
                     run.output("continue"), re.MULTILINE), f"{run}"
    assert run.output(main_ctrl, 0).endswith("= 0x0"), f"USB off while the firmware runs\n{run}"
    reboot = run.output("monitor reset_usb_boot")
    assert "rebooted into the boot ROM's USB boot mode (BOOTSEL)" in reboot, f"{run}"
    for occurrence in (0, 1):
        pc = re.search(r"^pc\s+0x([0-9a-f]+)", run.output("info registers pc", occurrence),
                       re.MULTILINE)
        assert pc and int(pc[1], 16) < 0x4000, f"the core is not in the boot ROM\n{run}"
    assert run.output(main_ctrl, 1).endswith("= 0x1"), f"no USB boot mode\n{run}"
    assert re.search(r"^Section \.text, range .*: matched\.$", run.output("compare-sections"),
                     re.MULTILINE), f"flash changed\n{run}"
    assert re.match(r"\$\d+ = 0x0$", run.output(main_ctrl, 2), re.MULTILINE), \
        f"still in USB boot mode\n{run}"
