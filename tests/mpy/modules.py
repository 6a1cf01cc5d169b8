# The three modules import, and help() in target and dap prints its listing (bmp.help(),
# with the build date and the board's pins: tests/test_help.py).
import bmp
import dap
import target

target.help()
dap.help()
