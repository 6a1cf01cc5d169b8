# Frozen into the probe firmware: the PYBD_SF2's own set (asyncio, networking bundle, ...)
# and the file side of semihosting.
include("$(PORT_DIR)/boards/PYBD_SF2/manifest.py")
module("semihosting.py", base_path="$(BOARD_DIR)/../../modules/frozen")
