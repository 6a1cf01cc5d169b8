# dap.calibrate(): the original's forms. Measured values differ per machine: print checks.
import dap

loops, hz = dap.calibrate()
print("measured", loops > 0, hz > 0)
print("set", dap.calibrate(cal=(35985, 8999685)))
for bad in ((1,), (0, 5), "x"):
    try:
        dap.calibrate(cal=bad)
    except (TypeError, ValueError) as error:
        print(type(error).__name__, error)
try:
    dap.calibrate(speed=1)
except TypeError as error:
    print("TypeError")
dap.deinit()
