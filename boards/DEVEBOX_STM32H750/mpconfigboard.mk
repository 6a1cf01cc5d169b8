# bmp on the DEVEBOX STM32H750VB core board: the DEVEBOX STM32H743 build for the H750.
#
# The H750VB's datasheet gives it 128 KB of flash; the original project found 2 MB usable
# on these parts in practice (the same die as the H743). This build takes that route: the
# firmware is linked for 2 MB at 0x08000000 like the H743's, with no filesystem in internal
# flash (the SD card holds boot.py). On a part that really has 128 KB, programming beyond it
# fails with a verify error (dfu-util/openocd report it): such a part needs a firmware that
# runs from the QSPI flash (W25Q64 at 0x90000000), which is not written yet (docs/boards.md).
CMSIS_MCU = STM32H750xx
include $(BOARD_DIR)/../DEVEBOX_STM32H743/mpconfigboard.mk
