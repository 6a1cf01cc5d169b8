# The target module against the simulated blue pill (host probe, BMP_WIRE=sim).
# Usage: micropython target_flow.py FIRMWARE.bin FIRMWARE.nm
# Prints one "<check> ok" or "<check> FAILED <details>" line per check.
import sys
import target
import time
from target_checks import check, register, wait_halt
import target_checks

image_path, symbols_path = sys.argv[1], sys.argv[2]
symbols = target_checks.symbols(symbols_path)


def word(address):
    data = bytearray(4)
    target.mem_read(data, address)
    return int.from_bytes(data, "little")


found = target.swdp_scan()
check("swdp_scan lists the blue pill", found == ["STM32F1 medium density M3"], found)
target.attach(1)
check("attached", target.attached() and target.driver_name() == "STM32F1 medium density" and target.core_name() == "M3")
regions = target.mem_map()
flash = [r for r in regions if r["memory_type"] == "flash"]
ram = [r for r in regions if r["memory_type"] == "ram"]
check("mem_map", flash and flash[0]["start"] == 0x08000000 and flash[0]["blocksize"] == 1024 and ram and ram[0]["start"] == 0x20000000, regions)
check("mem_map_xml", 'type="flash"' in target.mem_map_xml())

image = open(image_path, "rb").read()
target.flash_erase(0x08000000, len(image))
target.flash_write(0x08000000, image)
target.flash_done()
back = bytearray(len(image))
target.mem_read(back, 0x08000000)
check("flash written and read back", back == image)

target.reset(True)
status = wait_halt()
reset_vector = word(0x08000004) & ~1
check("reset halts at the reset vector", status[0] != target.HALT_RUNNING and register(15) == reset_vector, (status, hex(register(15))))

target.reg_write(0, (0x12345678).to_bytes(4, "little"))
check("register write and read", register(0) == 0x12345678)
block = bytearray(target.regs_size())
target.regs_read(block)
check("regs_read", int.from_bytes(block[0:4], "little") == 0x12345678 and int.from_bytes(block[60:64], "little") == reset_vector)

target.halt_resume(False)
time.sleep_ms(50)
check("running", target.halt_poll()[0] == target.HALT_RUNNING)
target.halt_request()
status = wait_halt()
check("halt_request", status[:2] == (target.HALT_REQUEST, "REQUEST"), status)
first = word(symbols["counter"])
target.halt_resume(False)
time.sleep_ms(50)
target.halt_request()
wait_halt()
second = word(symbols["counter"])
check("counter runs", second > first, (first, second))

pc = register(15)
target.halt_resume(True)
status = wait_halt()
check("step", status[0] == target.HALT_STEPPING and register(15) != pc, (status, hex(pc), hex(register(15))))

target.breakwatch_set(target.BREAK_HARD, symbols["blink_step"], 2)
target.halt_resume(False)
status = wait_halt()
check("breakpoint", status[:2] == (target.HALT_BREAKPOINT, "BREAKPOINT") and register(15) == symbols["blink_step"], (status, hex(register(15))))
target.breakwatch_clear(target.BREAK_HARD, symbols["blink_step"], 2)

target.breakwatch_set(target.WATCH_WRITE, symbols["counter"], 4)
target.halt_resume(False)
status = wait_halt()
check("watchpoint", status == (target.HALT_WATCHPOINT, "WATCHPOINT", symbols["counter"]), status)
target.breakwatch_clear(target.WATCH_WRITE, symbols["counter"], 4)


def memsrch(pattern, start=0x20000000, length=20 * 1024, chunk=256):
    found = []
    buffer = bytearray(chunk + len(pattern) - 1)
    address = start
    while address < start + length:
        size = min(len(buffer), start + length - address)
        view = memoryview(buffer)[:size]
        target.mem_read(view, address)
        offset = bytes(view).find(pattern)
        while offset >= 0:
            found.append(address + offset)
            offset = bytes(view).find(pattern, offset + 1)
        address += chunk
    return sorted(set(found))


check("memory search finds hello, world!", memsrch(b"hello, world!") == [symbols["hello"]])

try:
    target.mem_read(bytearray(4), 0x60000000)
except Exception as error:
    check("bad address raises", isinstance(error, RuntimeError), error)
check("next call works", word(symbols["counter"]) > 0)
target.detach()
check("detached", not target.attached())
