# A CMSIS-Pack device on the host probe (run by tests/test_pack.py):
#   pack_device.py DEVICE_DIR FIRMWARE_BIN
# DEVICE_DIR is what tools/pack wrote. Each line is "<name> ok" or "<name> FAILED <details>".
import io
import sys

import bmp
import pack
import target

directory, firmware = sys.argv[1:3]
FLASH = 0x08000000
RAM = 0x20000000
MARKER = 0x20004F00
RESETS = 0x20004F04
PROCESSOR_RESETS = 0x20004F08
HARDWARE_RESETS = 0x20004F0C
FLASH_INITS = 0x20004F10
DBGMCU_CR = 0xE0042004
LOG = []


def check(name, condition, details=""):
    print(name, "ok" if condition else "FAILED " + str(details))


def error_of(work):
    try:
        work()
    except Exception as error:
        return "%s: %s" % (type(error).__name__, error)
    return None


def log():
    """The sequence log since the start (target.sequence_log() empties it)."""
    LOG.append(target.sequence_log())
    return "".join(LOG)


def halted_at_the_vector():
    reason = target.halt_poll()
    pc = bytearray(4)
    target.reg_read(15, pc)
    return reason[0] != target.HALT_RUNNING and \
        int.from_bytes(pc, "little") == word(FLASH + 4) & ~1


def word(address):
    data = bytearray(4)
    target.mem_read(data, address)
    return int.from_bytes(data, "little")


# The device: sequences, debugvars (one overridden), the pack's FLM.
device = pack.load(directory, debugvars="DbgMCU_CR = 0x3;")
check("loaded", device["device"] == "STM32F103CB", device)
check("debugvars", target.debugvars() == {"DbgMCU_CR": 3, "Marker": 0x600DF00D},
      target.debugvars())
target.swdp_scan()
target.attach(1)
check("device_unlock_ran", word(MARKER) == 0x600DF00D, hex(word(MARKER)))
check("core_start_ran", word(DBGMCU_CR) == 3, hex(word(DBGMCU_CR)))
check("port_setup_ran", "DebugPortSetup: DPIDR 1ba01477" in log(), log())
target.mem_write(PROCESSOR_RESETS, bytes(12))

# Flash through the pack's FLM.
image = open(firmware, "rb").read()
target.flash_erase(FLASH, len(image))
target.flash_write(FLASH, image)
target.flash_done()
back = bytearray(len(image))
target.mem_read(back, FLASH)
check("flm_flashes", bytes(back) == image)
# Into the erased flash: one program operation, so one FlashInit; its FlashUninit ends it
# at flash_done, then FlashProgramDone.
check("flash_init_ran_once", word(FLASH_INITS) == 1, word(FLASH_INITS))
check("flash_done_sequences_ran", "FlashUninit\nFlashProgramDone\n" in log(), log())

# Reset and halt: the pack's ResetSystem (it counts in RAM), the standard reset catch.
target.mem_write(RESETS, bytes(4))
target.reset(True)
reason = target.halt_poll()
check("reset_system_ran", word(RESETS) == 1, word(RESETS))
check("reset_halted", reason[0] != target.HALT_RUNNING, reason)
vector = word(FLASH + 4) & ~1
pc = bytearray(4)
target.reg_read(15, pc)
check("reset_at_vector", int.from_bytes(pc, "little") == vector, (hex(vector), pc))
check("log_has_the_query", "Unlock now? (answered with the default)" in log())

# The other reset kinds: the pack's ResetProcessor, its ResetHardwareAssert/Deassert.
target.reset(True, "processor")
check("reset_processor_ran", word(PROCESSOR_RESETS) == 1 and halted_at_the_vector(),
      word(PROCESSOR_RESETS))
target.reset(True, "hardware")
check("reset_hardware_ran", word(HARDWARE_RESETS) == 1 and halted_at_the_vector(),
      word(HARDWARE_RESETS))
error = error_of(lambda: target.reset(True, "warm"))
check("reset_kind_checked", error == "ValueError: kind: system, processor or hardware", error)

# A step: RecoverySupportStart before it, RecoverySupportStop at the halt.
target.halt_resume(True)
while target.halt_poll()[0] == target.HALT_RUNNING:
    pass
check("recovery_support_ran", "RecoverySupportStart\nRecoverySupportStop\n" in log(), log())

# SWO on and off: TraceStart (disabled in the pack: empty) and TraceStop.
bmp.traceswo(uart=io.BytesIO(), chan=[0])
bmp.traceswo()
check("trace_stop_ran", log().endswith("TraceStop\n"), log())

# A new scan lets the old wire go: DebugPortStop, then DebugPortSetup again.
target.swdp_scan()
check("port_stop_ran", "TraceStop\nDebugPortStop\nDebugPortSetup: DPIDR 1ba01477\n" in log(),
      log())
target.attach(1)

# Bad text: a clear error with its place, nothing kept.
error = error_of(lambda: target.sequences("sequence ResetSystem {\n  block { Wrte32(1, 2); }\n}"))
check("syntax_error", error == "ValueError: sequence syntax error at line 2 column 11: "
      "unknown function Wrte32", error)
check("bad_override", (error_of(lambda: target.debugvars("Nope = 1;")) or "").startswith(
    "ValueError: no debugvar Nope"), error_of(lambda: target.debugvars("Nope = 1;")))
check("bad_type", (error_of(lambda: target.sequences(42)) or "").startswith("TypeError"))

# A sequence whose access fails: a clear error, the probe serves on.
target.sequences("sequence DebugDeviceUnlock {\n  block {\n    Read32(0xF0000000);\n  }\n}")
error = error_of(target.swdp_scan)
check("failing_sequence", error is not None and error.startswith(
    "RuntimeError: debug sequence DebugDeviceUnlock failed (line 3 column 5): Read32: "),
      error)
check("failure_logged", "Read32 failed" in target.sequence_log())
target.sequences(None)
target.swdp_scan()
target.attach(1)
check("serves_on", word(FLASH) == int.from_bytes(image[:4], "little"))
