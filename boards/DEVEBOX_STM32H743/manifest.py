# Frozen into the probe firmware: the file side of semihosting (no asyncio: the V3MINI's
# 448 KB firmware region has no room for it).
module("semihosting.py", base_path="$(BOARD_DIR)/../../modules/frozen")
