# The three modules import, and help() in each prints its listing.
import bmp
import dap
import target

bmp.help()
target.help()
dap.help()
