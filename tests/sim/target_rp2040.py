# The target module against the simulated RP2040 (host probe, BMP_WIRE=sim:rp2040): the
# scan over SWD multi-drop lists both cores, the engine's RP2040 driver flashes the RP2040
# build of the test firmware through the boot ROM on core 1, core 0 runs it from XIP to a
# breakpoint and steps.
# Usage: micropython target_rp2040.py FIRMWARE-RP2040.bin FIRMWARE-RP2040.nm
# Prints one "<check> ok" or "<check> FAILED <details>" line per check.
import sys
import target
from target_checks import check, register
import target_checks

XIP = 0x10000000
image_path, symbols_path = sys.argv[1], sys.argv[2]
symbols = target_checks.symbols(symbols_path)


def wait_halt():
    return target_checks.wait_halt(5.0)


found = target.swdp_scan()
check("swdp_scan lists both cores", found == ["RP2040 core 0 M0+", "RP2040 core 1 M0+"], found)
target.attach(2)
regions = [(r["memory_type"], r["start"], r["length"]) for r in target.mem_map()]
check("mem_map: ROM, XIP flash, SRAM", regions == [("rom", 0, 0x4000), ("flash", XIP, 0x200000), ("ram", 0x20000000, 0x42000)], regions)

image = open(image_path, "rb").read()
target.flash_erase(XIP, len(image))
target.flash_write(XIP, image)
target.flash_done()
back = bytearray(len(image))
target.mem_read(back, XIP)
check("flash written through core 1 and read back", back == image)

target.attach(1)
pc = bytearray(symbols["reset_handler"].to_bytes(4, "little"))
target.reg_write(15, pc)
target.breakwatch_set(target.BREAK_HARD, symbols["blink_step"], 2)
target.halt_resume(False)
status = wait_halt()
check("core 0 breaks in flash", status[:2] == (target.HALT_BREAKPOINT, "BREAKPOINT") and register(15) == symbols["blink_step"], (status, hex(register(15))))
target.breakwatch_clear(target.BREAK_HARD, symbols["blink_step"], 2)
pc = register(15)
target.halt_resume(True)
status = wait_halt()
check("step", status[0] == target.HALT_STEPPING and register(15) != pc, (status, hex(pc), hex(register(15))))
