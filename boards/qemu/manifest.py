# Frozen into the qemu firmware: the file side of semihosting for the GDB server.
module("semihosting.py", base_path="../../modules/frozen")
# Loads what tools/pack wrote for a CMSIS-Pack device (docs/packs.md).
module("pack.py", base_path="../../modules/frozen")
# platform.pinout(): bmp.pinout() under the name (platform.py over the built-in).
module("platform.py", base_path="../../modules/frozen")
