// The MPS2's CMSDK APB UART (ARM DDI0479 4.2) and where the AN385 puts them (AN385 3.2
// memory map; qemu's mps2-an385 joins UART n to its n-th -serial).
#ifndef BMP_CMSDK_UART_H
#define BMP_CMSDK_UART_H

#include <stdint.h>

typedef struct {
    volatile uint32_t DATA;
    volatile uint32_t STATE;
    volatile uint32_t CTRL;
    volatile uint32_t INTSTATUS;
    volatile uint32_t BAUDDIV;
} cmsdk_uart_t;

#define CMSDK_UART0 ((cmsdk_uart_t *)0x40004000)
#define CMSDK_UART1 ((cmsdk_uart_t *)0x40005000)
#define CMSDK_UART2 ((cmsdk_uart_t *)0x40006000)

#define STATE_TX_FULL (1 << 0)
#define STATE_RX_FULL (1 << 1)
#define CTRL_TX_ENABLE (1 << 0)
#define CTRL_RX_ENABLE (1 << 1)
#define CTRL_RX_INT_ENABLE (1 << 3)
#define INTSTATUS_RX (1 << 1)
// The smallest divider the UART accepts; qemu's UART does not pace by it.
#define CMSDK_UART_BAUDDIV_MIN (16)

static inline void cmsdk_uart_enable(cmsdk_uart_t *uart) {
    if (uart->CTRL != (CTRL_TX_ENABLE | CTRL_RX_ENABLE)) {
        uart->BAUDDIV = CMSDK_UART_BAUDDIV_MIN;
        uart->CTRL = CTRL_TX_ENABLE | CTRL_RX_ENABLE;
    }
}

#endif // BMP_CMSDK_UART_H
