# bmp on a DEVEBOX STM32H750VB with only 128 KB of working internal flash: the firmware
# runs from the board's QSPI flash (mpconfigboard.h, bmp_h750_qspi.ld). Two images:
# firmware0.bin for 0x08000000 (internal: the ROM's DFU or SWD) and firmware1.bin for
# 0x90000000 (QSPI: SWD with an external-flash algorithm; docs/boards.md); firmware.hex
# holds both. No mboot: it would need the one sector there is.
USE_MBOOT = 0
CMSIS_MCU = STM32H750xx
include $(BOARD_DIR)/../DEVEBOX_STM32H743/mpconfigboard.mk
LD_FILES = $(BOARD_DIR)/bmp_h750_qspi.ld
TEXT0_ADDR = 0x08000000
TEXT1_ADDR = 0x90000000
TEXT0_SECTIONS = .isr_vector .isr_extratext .text .data .ARM
TEXT1_SECTIONS = .text_ext
