# bmp on the DEVEBOX STM32H750VB core board: the DEVEBOX STM32H743 build for the H750.
#
# The H750VB's datasheet gives it 128 KB of flash (one sector); the die is the H743's and
# the original project found the rest usable in practice. This build takes that route,
# within bank 1: mboot in sector 0 (the guaranteed 128 KB), the firmware in sectors 1-7
# (896 KB, bmp_h750.ld), no filesystem in internal flash (the SD card is /sd). On a part
# whose flash past 128 KB does not work, writing the firmware fails verification in
# mboot/dfu-util or OpenOCD; such a part needs a firmware that runs from the board's QSPI
# flash (docs/boards.md).
CMSIS_MCU = STM32H750xx
include $(BOARD_DIR)/../DEVEBOX_STM32H743/mpconfigboard.mk
ifeq ($(USE_MBOOT),1)
LD_FILES = $(BOARD_DIR)/bmp_h750.ld boards/common_bl.ld
endif
