# The target module against a simulated STM32F4 (host probe, BMP_WIRE=sim:stm32f407vg or
# sim:stm32f411ce): the engine's STM32F4 driver flashes the F4 test firmware.
# Usage: micropython target_f4.py NAME FIRMWARE-F4.bin FIRMWARE-F4.nm
# Prints one "<check> ok" or "<check> FAILED <details>" line per check.
import sys
import target
from target_checks import check, register, wait_halt
import target_checks

name, image_path, symbols_path = sys.argv[1], sys.argv[2], sys.argv[3]
symbols = target_checks.symbols(symbols_path)


found = target.swdp_scan()
check("swdp_scan names the F4", found == [name + " M4"], found)
target.attach(1)
flash = [(r["start"], r["length"], r["blocksize"]) for r in target.mem_map() if r["memory_type"] == "flash"]
check("mem_map has the 16, 64 and 128 KB sectors", flash[:2] == [(0x08000000, 0x10000, 0x4000), (0x08010000, 0x10000, 0x10000)] and flash[2][0] == 0x08020000 and flash[2][2] == 0x20000, flash)

image = open(image_path, "rb").read()
target.flash_erase(0x08000000, len(image))
target.flash_write(0x08000000, image)
target.flash_done()
back = bytearray(len(image))
target.mem_read(back, 0x08000000)
check("flash written and read back", back == image)

target.reset(True)
wait_halt()
target.breakwatch_set(target.BREAK_HARD, symbols["blink_step"], 2)
target.halt_resume(False)
status = wait_halt()
check("breakpoint", status[:2] == (target.HALT_BREAKPOINT, "BREAKPOINT") and register(15) == symbols["blink_step"], (status, hex(register(15))))
target.breakwatch_clear(target.BREAK_HARD, symbols["blink_step"], 2)
pc = register(15)
target.halt_resume(True)
status = wait_halt()
check("step", status[0] == target.HALT_STEPPING and register(15) != pc, (status, hex(pc), hex(register(15))))

try:
    target.flash_write(0x08100000 if "407" not in name else 0x08200000, b"\0\0\0\0")
    target.flash_done()
    check("a write outside flash is refused", False)
except Exception as error:
    check("a write outside flash is refused", "not in flash" in str(error), error)
