// bmp qemu board: the probe's wire is a remote_bitbang link on UART1 of the MPS2
// (CMSDK APB UART, ARM DDI0479 4.2; AN385 memory map: UART1 at 0x40005000). qemu joins it
// to a remote_bitbang server with a second -serial, e.g. -serial tcp:127.0.0.1:3335.
#include <stdint.h>
#include <stddef.h>
#include "py/mphal.h"
#include "bmp_glue.h"

typedef struct {
    volatile uint32_t DATA;
    volatile uint32_t STATE;
    volatile uint32_t CTRL;
    volatile uint32_t INTSTATUS;
    volatile uint32_t BAUDDIV;
} cmsdk_uart_t;

#define LINK_UART ((cmsdk_uart_t *)0x40005000)
#define STATE_TX_FULL (1 << 0)
#define STATE_RX_FULL (1 << 1)
#define CTRL_TX_ENABLE (1 << 0)
#define CTRL_RX_ENABLE (1 << 1)

static void link_init(void) {
    if (LINK_UART->CTRL != (CTRL_TX_ENABLE | CTRL_RX_ENABLE)) {
        LINK_UART->BAUDDIV = 16; // the smallest divider the UART accepts
        LINK_UART->CTRL = CTRL_TX_ENABLE | CTRL_RX_ENABLE;
    }
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
