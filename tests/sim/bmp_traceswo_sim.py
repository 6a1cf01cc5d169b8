# bmp.traceswo(chan=[0]) on the host probe without uart=: the ITM text of the test firmware
# (BMP_SIM_FIRMWARE) from the simulated target's own SWO pin. The debugger's part of SWO
# (DEMCR.TRCENA, TPIU NRZ at 2 Mbit/s with the formatter off, ITM on, port 0) is done with
# target.mem_write, as OpenOCD's tpiu/itm commands do. With the argument "formatted" the
# TPIU's formatter is on (16-byte frames, as OpenOCD's -formatter 1) and the ITM adds local
# timestamps and synchronization packets. Each check prints "<check> ok".
import bmp
import sys
import target
import time

formatted = sys.argv[1:] == ["formatted"]


def write_word(address, value):
    target.mem_write(address, value.to_bytes(4, "little"))


def read_word(address):
    data = bytearray(4)
    target.mem_read(data, address)
    return int.from_bytes(data, "little")


def check(name, condition, detail=""):
    print(name, "ok" if condition else "FAILED " + str(detail))


target.swdp_scan(False)
target.attach(1)
write_word(0xE000EDFC, read_word(0xE000EDFC) | 1 << 24)  # DEMCR.TRCENA
write_word(0xE00400F0, 2)  # TPIU_SPPR: NRZ
write_word(0xE0040010, 35)  # TPIU_ACPR: 72 MHz / 36 = 2 Mbit/s
write_word(0xE0040304, 0x102 if formatted else 0x100)  # TPIU_FFCR: EnFCont, or off
write_word(0xE0000FB0, 0xC5ACCE55)  # ITM_LAR
# ITM_TCR: TraceBusID 1, ITMENA (and SYNCENA, TSENA)
write_word(0xE0000E80, 0x10007 if formatted else 0x10001)
write_word(0xE0000E00, 1)  # ITM_TER: port 0
target.halt_resume(False)

shown = bytearray()
bmp.disp_fun(shown.extend)
check("traceswo on", bmp.traceswo(chan=[0]) is True)
deadline = time.ticks_add(time.ticks_ms(), 20000)
while shown.count(b"\n") < 3 and time.ticks_diff(deadline, time.ticks_ms()) > 0:
    time.sleep(0.01)
lines = bytes(shown).split(b"\n")
whole = [line for line in lines[1:-1] if line]
check("itm text from the simulated swo", b"itm: counter " in shown, bytes(shown[-60:]))
check("only whole counter lines", all(line.startswith(b"itm: counter ") and
                                      line[13:].isdigit() for line in whole), whole)
check("traceswo off", bmp.traceswo() is False)
bmp.disp_fun(None)
