// bmp on the DEVEBOX STM32H750VB: the H743 board's configuration (same board), without the
// internal-flash filesystem (see mpconfigboard.mk on the 128 KB question).
#define MICROPY_HW_BOARD_NAME       "DEVEBOX STM32H750 (bmp)"
#define MICROPY_HW_MCU_NAME         "STM32H750VB"
#define MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE (0)
#define MICROPY_HW_HAS_FLASH        (0)
// No internal-flash block device, so no USB mass storage of it (the SD card is reached
// from Python as /sd).
#define MICROPY_HW_USB_MSC          (0)
// mboot offers bank 1 (8 x 128 KB): MicroPython's H7 flash driver takes every address as
// bank 1 on a part without DUAL_BANK, so bank 2 cannot be erased correctly on the H750.
#define MBOOT_INTERNAL_FLASH_LAYOUT "@Internal Flash  /0x08000000/08*128Kg"
#include "../DEVEBOX_STM32H743/mpconfigboard.h"
