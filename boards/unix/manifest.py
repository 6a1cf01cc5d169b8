# Frozen into the bmp host probe.
include("$(MPY_DIR)/extmod/asyncio")
# The file side of semihosting for the GDB server (user-editable functions).
module("semihosting.py", base_path="../../modules/frozen")
# Loads what tools/pack wrote for a CMSIS-Pack device (docs/packs.md).
module("pack.py", base_path="../../modules/frozen")
