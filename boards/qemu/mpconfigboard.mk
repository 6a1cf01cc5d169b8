# bmp firmware on an emulated Cortex-M3: qemu-system-arm's mps2-an385 (ARM MPS2 FPGA
# board with the AN385 Cortex-M3 image), soft float, Rust target thumbv7m-none-eabi.
QEMU_ARCH = arm
QEMU_MACHINE = mps2-an385

CFLAGS += -mthumb -mcpu=cortex-m3 -mfloat-abi=soft
CFLAGS += -DQEMU_SOC_MPS2
CFLAGS += -DMICROPY_HW_MCU_NAME='"Cortex-M3"'
CFLAGS += -DMP_CONFIGFILE='"$(BOARD_DIR)/mpconfigboard.h"'

LDSCRIPT = $(BOARD_DIR)/bmp_mps2.ld

SRC_BOARD_O = shared/runtime/gchelper_native.o shared/runtime/gchelper_thumb2.o
SRC_BOARD_O += $(BOARD_DIR)/board_time.o $(BOARD_DIR)/board_link.o
# Scanned for QSTRs and module registrations (SRC_BOARD_O files are not).
SRC_C += $(BOARD_DIR)/board_uart.c

MPY_CROSS_FLAGS += -march=armv7m

# Our own frozen modules only (the port's default needs micropython-lib's unittest).
FROZEN_MANIFEST = $(BOARD_DIR)/manifest.py

BMP_RUST_TARGET = thumbv7m-none-eabi
BMP_WHOLE_ARCHIVE = 1
# The wire: remote_bitbang on UART1 (board_link.c).
BMP_CARGO_FEATURES = board-link
QSTR_GLOBAL_DEPENDENCIES += $(BOARD_DIR)/mpconfigboard.h
