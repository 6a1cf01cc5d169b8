# bmp on the ST-Link V3MINI (STM32F723IE, 512 KB flash, 256 KB RAM, 216 MHz).
MCU_SERIES = f7
CMSIS_MCU = STM32F723xx
AF_FILE = boards/stm32f722_af.csv
# mboot (tools/mkfw builds it into build/NAME/mboot) in sectors 0-1, the firmware from
# sector 4 (bmp_f723.ld).
USE_MBOOT ?= 1
LD_FILES = $(BOARD_DIR)/bmp_f723.ld boards/common_bl.ld
TEXT0_ADDR = 0x08010000

FROZEN_MANIFEST ?= $(BOARD_DIR)/manifest.py

BMP_RUST_TARGET = thumbv7em-none-eabihf
BMP_WHOLE_ARCHIVE = 1
# 448 KB for the firmware: every chip family but SAMD21, no CMSIS-Pack debug sequences and
# no flash algorithms (FLM, probe-rs): they do not fit (8 480 B free with this set, session
# 5); docs/boards.md says why, docs/performance.md the sizes.
BMP_CARGO_NO_DEFAULT = 1
BMP_CARGO_FEATURES = board-gpio stm32f1 stm32f4 stm32h7 nrf52 rp2040
QSTR_GLOBAL_DEPENDENCIES += $(BOARD_DIR)/mpconfigboard.h
