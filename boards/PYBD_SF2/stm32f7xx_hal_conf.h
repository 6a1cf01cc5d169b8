// The PYBD_SF2 board's HAL configuration (MicroPython's).
#include "ports/stm32/boards/PYBD_SF2/stm32f7xx_hal_conf.h"
