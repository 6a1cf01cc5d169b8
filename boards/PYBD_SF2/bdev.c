// The PYBD_SF2 board's QSPI flash block devices (MicroPython's).
#include "ports/stm32/boards/PYBD_SF2/bdev.c"
