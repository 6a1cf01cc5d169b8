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

// Registers of the core used to sleep until the answer comes (ARMv7-M ARM B3.4 NVIC,
// B3.3 SysTick, B3.2.5 VTOR).
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100)
#define NVIC_ICER0 (*(volatile uint32_t *)0xE000E180)
#define NVIC_ICPR0 (*(volatile uint32_t *)0xE000E280)
#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)
#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08)
#define SYST_CSR_ENABLE (1 << 0)
#define SYST_CSR_TICKINT (1 << 1)
#define SYST_CSR_CLKSOURCE (1 << 2)
// UART1's receive interrupt on the AN385 (AN385 3.3 interrupt map: UART n RX at 2n).
#define LINK_RX_IRQ (2)
// SysTick wakes the wait every millisecond to check the timeout (25 MHz core clock).
#define WAKE_TICKS (25000)
#define SYSTEM_VECTORS (16)
#define SYSTICK_VECTOR (15)
#define IRQ_VECTORS (32)

// The firmware's vector table has the system exceptions only: a copy in RAM adds the two
// interrupts the wait uses. VTOR needs the table aligned to its size rounded up to a power
// of two (B3.2.5): 48 words, 256 bytes.
static uint32_t link_vectors[SYSTEM_VECTORS + IRQ_VECTORS] __attribute__((aligned(256)));

static void link_rx_interrupt(void) {
    LINK_UART->INTSTATUS = INTSTATUS_RX; // write one to clear (INTCLEAR)
}

static void link_tick_interrupt(void) {
}

static void link_install_vectors(void) {
    if (SCB_VTOR == (uint32_t)link_vectors) {
        return;
    }
    const uint32_t *current = (const uint32_t *)SCB_VTOR;
    for (int i = 0; i < SYSTEM_VECTORS; ++i) {
        link_vectors[i] = current[i];
    }
    link_vectors[SYSTICK_VECTOR] = (uint32_t)link_tick_interrupt;
    for (int i = 0; i < IRQ_VECTORS; ++i) {
        link_vectors[SYSTEM_VECTORS + i] = (uint32_t)link_rx_interrupt;
    }
    SCB_VTOR = (uint32_t)link_vectors;
}

// Sleep (WFI) until the UART has a byte or the timeout passes. Busy polling keeps qemu's
// vCPU running and delays its delivery of the byte by tens of milliseconds; a sleeping
// core lets it through at once. The receive interrupt wakes the core; SysTick wakes it
// every millisecond to look at the clock.
static void link_sleep_until_received(uint32_t timeout_us) {
    link_install_vectors();
    LINK_UART->CTRL |= CTRL_RX_INT_ENABLE;
    NVIC_ISER0 = 1 << LINK_RX_IRQ;
    SYST_RVR = WAKE_TICKS - 1;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
    mp_uint_t start = mp_hal_ticks_us();
    while (!(LINK_UART->STATE & STATE_RX_FULL) && mp_hal_ticks_us() - start <= timeout_us) {
        __asm__ volatile ("wfi");
    }
    SYST_CSR = 0;
    NVIC_ICER0 = 1 << LINK_RX_IRQ;
    LINK_UART->CTRL &= ~CTRL_RX_INT_ENABLE;
    LINK_UART->INTSTATUS = INTSTATUS_RX;
    NVIC_ICPR0 = 1 << LINK_RX_IRQ;
}

int bmp_board_link_read(uint32_t timeout_us) {
    link_init();
    if (!(LINK_UART->STATE & STATE_RX_FULL)) {
        link_sleep_until_received(timeout_us);
    }
    if (!(LINK_UART->STATE & STATE_RX_FULL)) {
        return -1;
    }
    return LINK_UART->DATA & 0xff;
}
