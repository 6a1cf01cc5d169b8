# Frozen into the bmp host probe.
include("$(MPY_DIR)/extmod/asyncio")
# The file side of semihosting for the GDB server (user-editable functions).
module("semihosting.py", base_path="../../modules/frozen")
# Loads what tools/pack wrote for a CMSIS-Pack device (docs/packs.md).
module("pack.py", base_path="../../modules/frozen")
# The probe boards' boot.py/main.py templates and their writer (tests/test_factory_reset.py).
module("bmp_factory.py", base_path="../../modules/frozen")
# The editor: pye(path) (tests/test_pye.py).
module("pye.py", base_path="../../modules/frozen")
# platform.pinout(): bmp.pinout() under the name (platform.py over the built-in).
module("platform.py", base_path="../../modules/frozen")
