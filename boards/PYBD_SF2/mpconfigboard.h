// bmp on the PYBD-SF2W: MicroPython's own PYBD_SF2 configuration (SD card, Wi-Fi, QSPI
// flash and mboot kept) with bmp's USB interfaces and the debug connector on the X pins
// (pins.csv: BMP_*; rust/pins boards.rs PYBD_SF2). The F722's own SWD pins are the USR
// switch and the SD card detect, so SWD goes out on X6/X8 (SPI1's SCK and MOSI).
#include "ports/stm32/boards/PYBD_SF2/mpconfigboard.h"

#undef MICROPY_HW_BOARD_NAME
#define MICROPY_HW_BOARD_NAME       "PYBD-SF2W (bmp)"

#include "../bmp_stm32.h"

#define MICROPY_HW_BMP_PIN_MAP      "PYBD_SF2"

#define MBOOT_USBD_PRODUCT_STRING   "bmp DFU (mboot)"
