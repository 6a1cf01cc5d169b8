// bmp qemu board: the probe's wire is a remote_bitbang link on UART1 of the MPS2
// (CMSDK APB UART, ARM DDI0479 4.2; AN385 memory map: UART1 at 0x40005000). qemu joins it
// to a remote_bitbang server with a second -serial, e.g. -serial tcp:127.0.0.1:3335.
#include <stdint.h>
#include <stddef.h>
#include "py/mphal.h"
#include "bmp_glue.h"
#include "cmsdk_uart.h"

#define LINK_UART CMSDK_UART1

static void link_init(void) {
    cmsdk_uart_enable(LINK_UART);
}

void bmp_board_link_write(const uint8_t *data, size_t length) {
    link_init();
    for (size_t i = 0; i < length; ++i) {
        while (LINK_UART->STATE & STATE_TX_FULL) {
        }
        LINK_UART->DATA = data[i];
    }
}

int bmp_board_link_read(uint32_t timeout_us) {
    link_init();
    mp_uint_t start = mp_hal_ticks_us();
    while (!(LINK_UART->STATE & STATE_RX_FULL)) {
        if (mp_hal_ticks_us() - start > timeout_us) {
            return -1;
        }
    }
    return LINK_UART->DATA & 0xff;
}
