// The PYBD_SF2 board's own start-up code (MicroPython's).
#include "ports/stm32/boards/PYBD_SF2/board_init.c"
