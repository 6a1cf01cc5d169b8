# target.flash_algorithm on the host probe (run by tests/test_flash_algorithm.py):
#   flash_algorithm.py PROBE_RS_JSON FLM HANG_FLM FAIL_FLM FIRMWARE_BIN
# Each line is "<name> ok" or "<name> FAILED <details>".
import json
import sys

import target

probe_rs, flm, hang, fail, firmware = sys.argv[1:6]
FLASH = 0x08000000


def check(name, condition, details=""):
    print(name, "ok" if condition else "FAILED " + str(details))


def error_of(work):
    try:
        work()
    except Exception as error:
        return "%s: %s" % (type(error).__name__, error)
    return None


def flash(address, data):
    target.flash_erase(address, len(data))
    target.flash_write(address, data)
    target.flash_done()


def read(address, length):
    data = bytearray(length)
    target.mem_read(data, address)
    return bytes(data)


image = open(firmware, "rb").read()
target.swdp_scan()
target.attach(1)

# probe-rs's stm32f10x_128, from the crate's STM32F1_Series.yaml (tools/algorithm).
info = target.flash_algorithm(json.load(open(probe_rs)))
check("probe_rs_loaded", info["name"] == "stm32f10x_128" and info["page_size"] == 1024
      and info["sectors"] == [(FLASH, 0x20000, 1024)], info)
flash_regions = [r for r in target.mem_map() if r["memory_type"] == "flash"]
check("memory_map", flash_regions == [{"memory_type": "flash", "start": FLASH,
                                       "length": 0x20000, "blocksize": 1024}], flash_regions)
flash(FLASH, image)
check("probe_rs_flashes_firmware", read(FLASH, len(image)) == image)

# The FLM built here, by path on the probe's filesystem, over other data.
info = target.flash_algorithm(flm)
check("flm_loaded", info["name"] == "STM32F1 128 KB flash (bmp test FLM)", info)
other = bytes((index * 13 + 5) & 0xFF for index in range(3000))
flash(FLASH + 0x8000 - 7, other)
check("flm_flashes_any_range", read(FLASH + 0x8000 - 7, len(other)) == other)
check("flm_leaves_the_rest", read(FLASH, len(image)) == image)

# Bad algorithms: clear errors, nothing left in use.
check("garbage", error_of(lambda: target.flash_algorithm(b"\x7fELF garbage"))
      == "ValueError: not a usable flash algorithm: shorter than an ELF header (52 bytes)")
truncated = open(flm, "rb").read()[:700]
check("truncated", (error_of(lambda: target.flash_algorithm(truncated)) or "").startswith(
    "ValueError: not a usable flash algorithm:"), error_of(lambda: target.flash_algorithm(truncated)))
check("missing_file", error_of(lambda: target.flash_algorithm("/no/such.flm"))
      == "OSError: cannot read the file: errno 2 (no such file)",
      error_of(lambda: target.flash_algorithm("/no/such.flm")))
directory = firmware.rsplit("/", 1)[0]
check("directory", error_of(lambda: target.flash_algorithm(directory))
      == "OSError: cannot read the file: errno 21 (a directory)",
      error_of(lambda: target.flash_algorithm(directory)))
broken = json.load(open(probe_rs))
broken["pc_program_page"] = 0x100001
check("entry_outside", error_of(lambda: target.flash_algorithm(broken))
      == "ValueError: not a usable flash algorithm: an entry point is outside the code")
del broken["flash_properties"]
check("missing_key", (error_of(lambda: target.flash_algorithm(broken)) or "").startswith(
    "ValueError: flash algorithm dict: 'flash_properties' is missing"))
# Garbage descriptions: instructions that are not base64, that end before the data the
# description places after them, more than the probe keeps, sectors that are not a list.
broken = json.load(open(probe_rs))
broken["instructions"] = "not base64!"
check("not_base64", error_of(lambda: target.flash_algorithm(broken))
      == "ValueError: flash algorithm dict: 'instructions' is not base64 text",
      error_of(lambda: target.flash_algorithm(broken)))
broken["instructions"] = json.load(open(probe_rs))["instructions"][:64]
check("instructions_cut", (error_of(lambda: target.flash_algorithm(broken)) or "").startswith(
    "ValueError: not a usable flash algorithm:"), error_of(lambda: target.flash_algorithm(broken)))
broken["instructions"] = bytes(17 * 1024)
check("too_large_for_the_probe", (error_of(lambda: target.flash_algorithm(broken)) or "")
      .startswith("ValueError: flash algorithm too large: "),
      error_of(lambda: target.flash_algorithm(broken)))
broken = json.load(open(probe_rs))
broken["flash_properties"]["sectors"] = 7
check("sectors_not_a_list", (error_of(lambda: target.flash_algorithm(broken)) or "")
      .startswith("TypeError"), error_of(lambda: target.flash_algorithm(broken)))
check("too_small_ram", (error_of(lambda: target.flash_algorithm(flm, 0x20000000, 0x100)) or "")
      .startswith("ValueError: flash algorithm does not fit the target's RAM"))

# An algorithm whose EraseSector never returns: halted at its timeout, the probe serving.
target.flash_algorithm(hang)
target.flash_erase(FLASH, 1024)
target.flash_write(FLASH, b"\x00" * 16)
error = error_of(target.flash_done)
check("hang_times_out", (error or "").startswith(
    "RuntimeError: flash algorithm EraseSector did not return within 500 ms; the core was "
    "halted at 0x2000"), error)
check("hang_leaves_it_halted", target.halt_poll()[0] != target.HALT_RUNNING)

# An algorithm whose ProgramPage returns 1: the error names the function, the address and
# the code; the target stays halted.
target.flash_algorithm(fail)
target.flash_erase(FLASH + 0x400, 1024)
target.flash_write(FLASH + 0x400, bytes(range(256)) * 4)
error = error_of(target.flash_done)
check("fail_returns_its_code", error == "RuntimeError: flash algorithm ProgramPage failed at "
      "0x08000400 (returned 1)", error)
check("fail_leaves_it_halted", target.halt_poll()[0] != target.HALT_RUNNING)

# A debug sequence with a syntax error: refused with its place, nothing kept, the target
# halted and served.
error = error_of(lambda: target.sequences(
    "sequence ResetSystem {\n  block {\n    Write32(0x1, 2\n  }\n}"))
check("sequence_syntax_error", error == "ValueError: sequence syntax error at line 4 column 3: "
      "expected , between arguments", error)
check("sequence_leaves_it_halted", target.halt_poll()[0] != target.HALT_RUNNING)
target.flash_algorithm(None)
check("built_in_driver_again", read(FLASH + 16, 16) == image[16:32])
