# bmp on the PYBD-SF2W (STM32F722IE): MicroPython's PYBD_SF2 build (mboot, Wi-Fi, Bluetooth,
# SD card, QSPI flash) plus bmp. bmp's Rust library runs from the memory-mapped QSPI flash
# with the networking stacks (bmp_pybd_qspi.ld): the 480 KB of internal flash after mboot
# hold MicroPython itself and are 98 % full without bmp.
# Bluetooth (NimBLE) left out: a probe has no use for it, and it spares the
# lib/mynewt-nimble submodule and its flash.
MICROPY_PY_BLUETOOTH = 0
include $(TOP)/ports/stm32/boards/PYBD_SF2/mpconfigboard.mk
LD_FILES = $(BOARD_DIR)/bmp_pybd_qspi.ld

BMP_RUST_TARGET = thumbv7em-none-eabihf
BMP_WHOLE_ARCHIVE = 1
BMP_CARGO_FEATURES = board-gpio
QSTR_GLOBAL_DEPENDENCIES += $(BOARD_DIR)/mpconfigboard.h
