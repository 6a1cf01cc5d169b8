// Stands in for the STM32 HAL header when the stm32 port's USB device stack is compiled
// for the host (tests/usb/usbd_host.c): the stack's descriptor code needs no HAL.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
