// bmp on the DEVEBOX STM32H750VB: the H743 board's configuration (same board), without the
// internal-flash filesystem (see mpconfigboard.mk on the 128 KB question).
#define MICROPY_HW_BOARD_NAME       "DEVEBOX STM32H750 (bmp)"
#define MICROPY_HW_MCU_NAME         "STM32H750VB"
#define MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE (0)
#define MICROPY_HW_HAS_FLASH        (0)
#include "../DEVEBOX_STM32H743/mpconfigboard.h"
