# Frozen into the probe board firmware: asyncio, and the file side of semihosting.
include("$(MPY_DIR)/extmod/asyncio")
module("semihosting.py", base_path="$(BOARD_DIR)/../../modules/frozen")
