# bmp on the DEVEBOX STM32H743VI core board (STM32H743VIT6, 2 MB flash, 1 MB RAM).
# mboot (tools/mkfw builds it into build/NAME/mboot) sits in the first sector; USE_MBOOT=0
# links the firmware at 0x08000000 for a board without it.
USE_MBOOT ?= 1

MCU_SERIES = h7
CMSIS_MCU ?= STM32H743xx
MICROPY_FLOAT_IMPL = double
AF_FILE = boards/stm32h743_af.csv

ifeq ($(USE_MBOOT),1)
# mboot takes the whole first 128 KB sector (RM0433 4.3.4).
LD_FILES = boards/stm32h743.ld boards/common_bl.ld
TEXT0_ADDR = 0x08020000
else
LD_FILES = boards/stm32h743.ld boards/common_basic.ld
TEXT0_ADDR = 0x08000000
endif

MICROPY_VFS_LFS2 = 1
FROZEN_MANIFEST ?= $(BOARD_DIR)/manifest.py

# bmp: the Rust library for a Cortex-M7 with FPU, the debug connector on the MCU's GPIO.
BMP_RUST_TARGET = thumbv7em-none-eabihf
BMP_WHOLE_ARCHIVE = 1
BMP_CARGO_FEATURES = board-gpio
QSTR_GLOBAL_DEPENDENCIES += $(BOARD_DIR)/mpconfigboard.h
