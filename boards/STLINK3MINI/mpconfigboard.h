// bmp on the ST-Link V3MINI: STM32F723IE, HSE 25 MHz, USB high speed on the on-chip HS PHY
// (PB14/PB15), the probe's own SWD/JTAG/SWO/nRST connector (pins.csv BMP_*; rust/pins
// boards.rs STLINK3MINI). Note: ST firmware V36 and later set RDP level 2 on this chip;
// such a probe cannot be reflashed.

#define MICROPY_HW_BOARD_NAME       "ST-Link V3MINI (bmp)"
#define MICROPY_HW_MCU_NAME         "STM32F723IE"
#define MICROPY_HW_FLASH_FS_LABEL   "bmp"

#include "../bmp_stm32.h"

#define MICROPY_HW_ENABLE_RTC       (1)
#define MICROPY_HW_ENABLE_RNG       (1)
#define MICROPY_HW_ENABLE_USB       (1)
#define MICROPY_HW_HAS_FLASH        (1)
#define MICROPY_HW_HAS_SWITCH       (0)
#define MICROPY_HW_ENABLE_ADC       (0)
#define MICROPY_HW_ENABLE_DAC       (0)
#define MICROPY_HW_ENABLE_SERVO     (0)

// 448 KB for the firmware (bmp_f723.ld): MicroPython modules a probe does without are out
// (about 30 KB; docs/performance.md). FAT only (no littlefs), no asyncio.
#define MICROPY_PY_FRAMEBUF         (0)
#define MICROPY_PY_UCTYPES          (0)
#define MICROPY_PY_RE               (0)
#define MICROPY_PY_DEFLATE          (0)
#define MICROPY_PY_CMATH            (0)
#define MICROPY_PY_ONEWIRE          (0)
#define MICROPY_PY_ASYNCIO          (0)
#define MICROPY_PY_HEAPQ            (0)
#define MICROPY_PY_NETWORK          (0)
// Room for the rp2040 chip family (docs/boards.md): no math.erf/erfc/gamma/
// lgamma, the stm module without its register-name constants (stm.mem8/16/32 stay), no
// complex numbers.
#define MICROPY_PY_MATH_SPECIAL_FUNCTIONS (0)
#define MICROPY_PY_STM_CONST        (0)
#define MICROPY_PY_BUILTINS_COMPLEX (0)
// No native code emitters (@micropython.native, @micropython.viper, @micropython.asm_thumb):
// about 17 KB (docs/performance.md).
#define MICROPY_EMIT_THUMB          (0)
#define MICROPY_EMIT_INLINE_THUMB   (0)

// 25 MHz HSE / 25 * 432 / 2: 216 MHz core; / 9: 48 MHz USB (RM0431 5.3.2).
#define MICROPY_HW_CLK_PLLM         (25)
#define MICROPY_HW_CLK_PLLN         (432)
#define MICROPY_HW_CLK_PLLP         (RCC_PLLP_DIV2)
#define MICROPY_HW_CLK_PLLQ         (9)
// 216 MHz at 2.7-3.6 V: 7 wait states (RM0431 table 7).
#define MICROPY_HW_FLASH_LATENCY    (FLASH_LATENCY_7)

// The probe's VCP (USART6 PG14 TX, PG9 RX); UART5 RX (PD2) is SWO/TDO.
#define MICROPY_HW_UART6_TX         (pin_G14)
#define MICROPY_HW_UART6_RX         (pin_G9)
#define MICROPY_HW_UART5_TX         (pin_C12)
#define MICROPY_HW_UART5_RX         (pin_D2)

// The bicolour LED on PA10 (low: green).
#define MICROPY_HW_LED1             (pin_A10)
#define MICROPY_HW_LED_ON(pin)      (mp_hal_pin_low(pin))
#define MICROPY_HW_LED_OFF(pin)     (mp_hal_pin_high(pin))

// USB: the HS core with its embedded HS PHY (F723/F733 only; bmp_stm32.h: the interfaces).
#define MICROPY_HW_USB_HS           (1)
#define MICROPY_HW_USB_HS_IN_FS     (1)

#define MICROPY_HW_BMP_PIN_MAP      "STLINK3MINI"

// mboot (sectors 0-1): entered by machine.bootloader() or when no firmware is present (the
// probe has no button). DFU at full speed on the USB connector (the HS core's PHY).
#define MBOOT_USBD_PRODUCT_STRING   "bmp DFU (mboot)"
// No user button to pick a reset mode: start the firmware (mboot's default UI reads a button).
#define MBOOT_BOARD_GET_RESET_MODE(initial_r0) (BOARDCTRL_RESET_MODE_NORMAL)
