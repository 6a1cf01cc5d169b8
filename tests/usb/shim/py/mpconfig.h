// The board's USB configuration for the host build of the stm32 USB device stack:
// the board's own mpconfigboard.h (BOARD_HEADER), then the port's USB defaults, which
// tests/test_usb_descriptors.py copies from the patched mpconfigboard_common.h into
// usb_defaults.h.
#ifndef BMP_USB_HOST_MPCONFIG_H
#define BMP_USB_HOST_MPCONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include BOARD_HEADER
#include "usb_defaults.h"
#endif
