/* The few STM32F103 and Cortex-M3 registers the test firmware uses, defined here from the
 * reference manual (no vendor headers). RM0008 = STM32F101/102/103/105/107 reference
 * manual, rev 21. */

#ifndef BMP_TEST_STM32F103_H
#define BMP_TEST_STM32F103_H

#include <stdint.h>

#define REGISTER32(address) (*(volatile uint32_t *)(address))

/* Reset and clock control, base 0x4002_1000 (RM0008 3.3 memory map). */
#define RCC_BASE 0x40021000u
#define RCC_CR REGISTER32(RCC_BASE + 0x00u)   /* RM0008 7.3.1 */
#define RCC_CFGR REGISTER32(RCC_BASE + 0x04u) /* RM0008 7.3.2 */
#define RCC_APB2ENR REGISTER32(RCC_BASE + 0x18u) /* RM0008 7.3.7 */
#define RCC_APB2ENR_IOPAEN (1u << 2)
#define RCC_APB2ENR_USART1EN (1u << 14)

/* RCC_CR bits (RM0008 7.3.1). */
#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)

/* RCC_CFGR fields (RM0008 7.3.2). */
#define RCC_CFGR_SW_MASK (3u << 0)
#define RCC_CFGR_SW_PLL (2u << 0)        /* SW = 10: PLL selected as system clock */
#define RCC_CFGR_SWS_MASK (3u << 2)
#define RCC_CFGR_SWS_PLL (2u << 2)       /* SWS = 10: PLL used as system clock */
#define RCC_CFGR_HPRE_MASK (0xfu << 4)   /* AHB prescaler, 0xxx = SYSCLK not divided */
#define RCC_CFGR_PPRE1_MASK (7u << 8)
#define RCC_CFGR_PPRE1_DIV2 (4u << 8)    /* APB1 at most 36 MHz: 100 = HCLK / 2 */
#define RCC_CFGR_PPRE2_MASK (7u << 11)   /* APB2, 0xx = HCLK not divided */
#define RCC_CFGR_PLLSRC_HSE (1u << 16)   /* PLLSRC = 1: HSE (through PLLXTPRE) */
#define RCC_CFGR_PLLXTPRE (1u << 17)     /* 0: HSE not divided */
#define RCC_CFGR_PLLMUL_MASK (0xfu << 18)
#define RCC_CFGR_PLLMUL_9 (7u << 18)     /* PLLMUL = 0111: input clock x 9 */

/* Flash interface, base 0x4002_2000 (RM0008 3.3 memory map). */
#define FLASH_BASE 0x40022000u
#define FLASH_ACR REGISTER32(FLASH_BASE + 0x00u) /* RM0008 3.3.3 */
#define FLASH_ACR_LATENCY_MASK (7u << 0)
#define FLASH_ACR_LATENCY_2 (2u << 0)    /* two wait states, 48 MHz < SYSCLK <= 72 MHz */
#define FLASH_ACR_PRFTBE (1u << 4)       /* prefetch buffer enable */

/* GPIO port A, base 0x4001_0800 (RM0008 3.3): PA9 = USART1_TX, PA10 = USART1_RX. */
#define GPIOA_CRH REGISTER32(0x40010800u + 0x04u) /* RM0008 9.2.2, pins 8..15, 4 bits each */
#define GPIO_CRH_PIN_MASK(pin) (0xfu << (4u * ((pin) - 8u)))
#define GPIO_CRH_AF_PUSH_PULL_50MHZ(pin) (0xbu << (4u * ((pin) - 8u))) /* CNF 10, MODE 11 */
#define GPIO_CRH_INPUT_FLOATING(pin) (0x4u << (4u * ((pin) - 8u)))    /* CNF 01, MODE 00 */

/* USART1, base 0x4001_3800 (RM0008 3.3, registers 27.6). */
#define USART1_BASE 0x40013800u
#define USART1_SR REGISTER32(USART1_BASE + 0x00u)
#define USART1_DR REGISTER32(USART1_BASE + 0x04u)
#define USART1_BRR REGISTER32(USART1_BASE + 0x08u)
#define USART1_CR1 REGISTER32(USART1_BASE + 0x0cu)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_UE (1u << 13)

/* MCU device ID code, DBGMCU_IDCODE at 0xE004_2000 (RM0008 31.6.1). */
#define DBGMCU_IDCODE REGISTER32(0xE0042000u)

/* ITM (ARMv7-M C1.7): stimulus port 0, trace enable and control. A debugger sets them up
 * (with DEMCR.TRCENA and the TPIU); reading a stimulus port gives FIFOREADY in bit 0. */
#define ITM_STIM0 (*(volatile uint8_t *)0xE0000000u)
#define ITM_STIM0_WORD REGISTER32(0xE0000000u)
#define ITM_TER REGISTER32(0xE0000E00u)
#define ITM_TCR REGISTER32(0xE0000E80u)
#define ITM_TCR_ITMENA (1u << 0)

#endif
