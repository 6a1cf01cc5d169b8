# A vendor's flash algorithm (one probe-rs `flash_algorithms` entry as JSON, tools/algorithm)
# through target.flash_algorithm on the host probe (run by tests/test_flash_algorithm.py):
#   vendor_algorithm.py ALGORITHM_JSON IMAGE_BIN SLACK_MS OVER
# The image goes into the erased flash at the algorithm's start; with OVER=1 other data is
# written first, so the image goes over it (EraseSector runs too).
# Each line is "<name> ok" or "<name> FAILED <details>".
import json
import sys

import target

path, image_path, slack_ms, over = sys.argv[1:5]
description = json.load(open(path))
properties = description["flash_properties"]
image = open(image_path, "rb").read()


def check(name, condition, details=""):
    print(name, "ok" if condition else "FAILED " + str(details))


def flash_and_read(address, data):
    target.flash_erase(address, len(data))
    target.flash_write(address, data)
    target.flash_done()
    back = bytearray(len(data))
    target.mem_read(back, address)
    return bytes(back)


target.swdp_scan()
target.attach(1)
info = target.flash_algorithm(description, None, None, int(slack_ms))
start = properties["address_range"]["start"]
check("loaded", info["name"] == description["name"] and info["start"] == start
      and info["page_size"] == properties["page_size"], info)
regions = [(r["start"], r["blocksize"]) for r in target.mem_map() if r["memory_type"] == "flash"]
first = properties["sectors"][0]["size"]
check("memory_map", (start, first) in regions, regions)
if over == "1":
    other = bytes(byte ^ 0x5A for byte in image)
    check("other_data", flash_and_read(start, other) == other)
check("image", flash_and_read(start, image) == image)
check("halted", target.halt_poll()[0] != target.HALT_RUNNING)
