# Scans over SWD and over JTAG, and the JTAG chain the last scan found.
import target

print("swdp", target.swdp_scan())
print("jtag", target.jtag_scan())
print("chain", [(hex(idcode), length) for idcode, length in target.jtag_chain()])
