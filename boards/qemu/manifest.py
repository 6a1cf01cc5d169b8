# Frozen into the qemu firmware: the file side of semihosting for the GDB server.
module("semihosting.py", base_path="../../modules/frozen")
