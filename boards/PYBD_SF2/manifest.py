# Frozen into the probe firmware: the PYBD_SF2's own set (asyncio, networking bundle, ...)
# and the file side of semihosting.
include("$(PORT_DIR)/boards/PYBD_SF2/manifest.py")
module("semihosting.py", base_path="$(BOARD_DIR)/../../modules/frozen")
# Out of the box (docs/boards.md): machine.factory_reset() (machine.py over the built-in)
# and its boot.py/main.py templates.
module("bmp_factory.py", base_path="$(BOARD_DIR)/../../modules/frozen")
module("machine.py", base_path="$(BOARD_DIR)/../../modules/frozen/stm32")
# The editor: pye('/flash/main.py').
module("pye.py", base_path="$(BOARD_DIR)/../../modules/frozen")
# platform.pinout(): bmp.pinout() under the name (platform.py over the built-in).
module("platform.py", base_path="$(BOARD_DIR)/../../modules/frozen")
