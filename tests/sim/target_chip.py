# The target module against one simulated chip (host probe, BMP_WIRE=sim:CHIP): flash the
# test firmware, verify it, reset halted, break at blink_step, watch `counter` (write),
# step, read the core registers (and the FPU's where there is one), run one of the family's
# monitor commands (ERASES 1: one that erases the image's first sector; 0: the image stays), and see
# a watch the DWT cannot do refused as a ValueError. START `reset` runs the firmware from
# the reset vector; `entry` from reset_handler after the reset (the simulated RP2040's boot
# ROM sleeps: it does not boot from flash).
# Usage: micropython target_chip.py IMAGE.bin IMAGE.nm FLASH_BASE FPU(0|1) START COMMAND
#        EXPECTED ERASES(0|1)
# Prints one "<check> ok" or "<check> FAILED <details>" line per check.
import sys
import target
from target_checks import check, register, wait_halt
import target_checks

image_path, symbols_path, flash_base = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
has_fpu, start, command, expected = sys.argv[4] == "1", sys.argv[5], sys.argv[6], sys.argv[7]
erases = sys.argv[8] == "1"
symbols = target_checks.symbols(symbols_path)
blink_step, counter = symbols["blink_step"], symbols["counter"]

found = target.swdp_scan()
check("scan", len(found) >= 1, found)
target.attach(1)

image = open(image_path, "rb").read()
target.flash_erase(flash_base, len(image))
target.flash_write(flash_base, image)
target.flash_done()
back = bytearray(len(image))
target.mem_read(back, flash_base)
check("flash written and verified", back == image)

target.reset(True)
wait_halt()
if start == "entry":
    target.reg_write(15, symbols["reset_handler"].to_bytes(4, "little"))
target.breakwatch_set(target.BREAK_HARD, blink_step, 2)
target.halt_resume(False)
status = wait_halt()
check("breakpoint", status[:2] == (target.HALT_BREAKPOINT, "BREAKPOINT") and
      register(15) == blink_step, (status, hex(register(15))))
target.breakwatch_clear(target.BREAK_HARD, blink_step, 2)

target.breakwatch_set(target.WATCH_WRITE, counter, 4)
target.halt_resume(False)
status = wait_halt()
value = bytearray(4)
target.mem_read(value, counter)
check("watchpoint", status == (target.HALT_WATCHPOINT, "WATCHPOINT", counter) and
      int.from_bytes(value, "little") == 1, (status, value))
target.breakwatch_clear(target.WATCH_WRITE, counter, 4)

pc = register(15)
target.halt_resume(True)
status = wait_halt()
check("step", status[0] == target.HALT_STEPPING and register(15) != pc,
      (status, hex(pc), hex(register(15))))

data = bytearray(4)
check("registers r0-r15, xpsr", all(target.reg_read(n, data) == 4 for n in range(17)))
stack = register(13)
check("sp in RAM", 0x2000_0000 <= stack < 0x2100_0000, hex(stack))
wide = bytearray(8)
if has_fpu:
    check("FPU registers", "org.gnu.gdb.arm.vfp" in target.tdesc_xml() and
          target.reg_read(23, wide) == 8 and target.reg_read(39, data) == 4)
else:
    try:
        target.reg_read(23, wide)
        check("no FPU registers", False, "d0 read on a core without an FPU")
    except ValueError as error:
        check("no FPU registers", "FPU" in str(error), error)

text = target.monitor(command)
check("monitor " + command, expected in text, text)
first = bytearray(16)
target.mem_read(first, flash_base)
if erases:
    check("monitor " + command + " erased the image", first == b"\xff" * 16, first)
else:
    check("monitor " + command + " kept the image", first == image[:16], first)

try:
    target.breakwatch_set(target.WATCH_WRITE, counter + 1, 4)
    check("unaligned watch refused", False, "accepted")
except ValueError as error:
    check("unaligned watch refused", "cannot watch 4 bytes" in str(error), error)
target.detach()
