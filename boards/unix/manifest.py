# Frozen into the bmp host probe.
include("$(MPY_DIR)/extmod/asyncio")
# The file side of semihosting for the GDB server (user-editable functions).
module("semihosting.py", base_path="../../modules/frozen")
