# Frozen into the qemu firmware: the file side of semihosting for the GDB server.
module("semihosting.py", base_path="../../modules/frozen")
# Loads what tools/pack wrote for a CMSIS-Pack device (docs/packs.md).
module("pack.py", base_path="../../modules/frozen")
