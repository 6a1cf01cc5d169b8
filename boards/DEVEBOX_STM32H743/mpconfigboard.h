// bmp on the DEVEBOX STM32H743VI core board: HSE 25 MHz, LSE 32.768 kHz, LED PA1 (active
// low), keys K1 PE3 and K2 PC5 (active low), microSD on SDMMC1 (no card detect), micro-USB
// on the FS core (PA11/PA12). The debug connector is on the TFT header's SPI2 pins
// (pins.csv: BMP_*; rust/pins boards.rs DEVEBOX_STM32H7).

#ifndef MICROPY_HW_BOARD_NAME
#define MICROPY_HW_BOARD_NAME       "DEVEBOX STM32H743 (bmp)"
#define MICROPY_HW_MCU_NAME         "STM32H743VI"
#endif
#define MICROPY_HW_FLASH_FS_LABEL   "bmp"

#include "../bmp_stm32.h"

#define MICROPY_HW_ENABLE_RTC       (1)
#define MICROPY_HW_ENABLE_RNG       (1)
#define MICROPY_HW_ENABLE_ADC       (1)
#define MICROPY_HW_ENABLE_DAC       (1)
#define MICROPY_HW_ENABLE_USB       (1)
#define MICROPY_HW_ENABLE_SDCARD    (1)
#define MICROPY_HW_HAS_SWITCH       (1)
#ifndef MICROPY_HW_HAS_FLASH
#define MICROPY_HW_HAS_FLASH        (1)
#endif

// 25 MHz HSE / 5 * 160 / 2: 400 MHz core (RM0433 8.7.13 PLL1; VOS1 allows 400 MHz).
#define MICROPY_HW_CLK_PLLM         (5)
#define MICROPY_HW_CLK_PLLN         (160)
#define MICROPY_HW_CLK_PLLP         (2)
#define MICROPY_HW_CLK_PLLQ         (4)
#define MICROPY_HW_CLK_PLLR         (2)
#define MICROPY_HW_CLK_PLLVCI       (RCC_PLL1VCIRANGE_2)
#define MICROPY_HW_CLK_PLLVCO       (RCC_PLL1VCOWIDE)
#define MICROPY_HW_CLK_PLLFRAC      (0)

// USB 48 MHz from PLL3: 25 / 5 * 48 / 5.
#define MICROPY_HW_CLK_PLL3M        (5)
#define MICROPY_HW_CLK_PLL3N        (48)
#define MICROPY_HW_CLK_PLL3P        (2)
#define MICROPY_HW_CLK_PLL3Q        (5)
#define MICROPY_HW_CLK_PLL3R        (2)
#define MICROPY_HW_CLK_PLL3VCI      (RCC_PLL3VCIRANGE_2)
#define MICROPY_HW_CLK_PLL3VCO      (RCC_PLL3VCOWIDE)
#define MICROPY_HW_CLK_PLL3FRAC     (0)

// AXI at 200 MHz, VOS1: 2 wait states (RM0433 table 17); one more for margin.
#define MICROPY_HW_FLASH_LATENCY    FLASH_LATENCY_3

// USART2 (PA2 TX, PA3 RX) is the SWO input (BMP_SWO = PA3); UART7 is free for a target.
#define MICROPY_HW_UART2_TX         (pin_A2)
#define MICROPY_HW_UART2_RX         (pin_A3)
#define MICROPY_HW_UART7_TX         (pin_E8)
#define MICROPY_HW_UART7_RX         (pin_E7)

// SPI2 on the TFT header carries SWD (a later SPI mode): not offered as machine.SPI.

// K1 (PE3), active low.
#define MICROPY_HW_USRSW_PIN        (pin_E3)
#define MICROPY_HW_USRSW_PULL       (GPIO_PULLUP)
#define MICROPY_HW_USRSW_EXTI_MODE  (GPIO_MODE_IT_FALLING)
#define MICROPY_HW_USRSW_PRESSED    (0)

#define MICROPY_HW_LED1             (pin_A1)
#define MICROPY_HW_LED_ON(pin)      (mp_hal_pin_low(pin))
#define MICROPY_HW_LED_OFF(pin)     (mp_hal_pin_high(pin))

// USB: the FS core (bmp_stm32.h: the interfaces).
#define MICROPY_HW_USB_FS           (1)

// bmp: the debug connector's pin map in rust/pins boards.rs.
#define MICROPY_HW_BMP_PIN_MAP      "DEVEBOX_STM32H7"

// mboot (the DFU bootloader in the first 128 KB sector): entered by machine.bootloader(),
// with K2 (PC5) held at reset, or when no firmware is present. DFU on the FS USB port.
#define MBOOT_BOOTPIN_PIN           (pin_C5)
#define MBOOT_BOOTPIN_PULL          (MP_HAL_PIN_PULL_UP)
#define MBOOT_BOOTPIN_ACTIVE        (0)
#define MBOOT_USBD_PRODUCT_STRING   "bmp DFU (mboot)"
