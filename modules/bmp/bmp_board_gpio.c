// Probe boards (stm32 port): the BMP_* pins of the board's pins.csv. The Rust pin backend
// (rust/pins stm32_gpio) drives them through the GPIO registers; this only turns on their
// ports' clocks and names the board's pin map.
#include "py/mphal.h"
#include "pin.h"
#include "bmp_glue.h"

#ifndef MICROPY_HW_BMP_PIN_MAP
#error "a board with BMP_CARGO_FEATURES=board-gpio defines MICROPY_HW_BMP_PIN_MAP (rust/pins boards.rs)"
#endif

const char *bmp_board_gpio_init(void) {
    static const machine_pin_obj_t *const pins[] = {
        pyb_pin_BMP_SWCLK,
        pyb_pin_BMP_SWDIO,
        pyb_pin_BMP_SWO,
        pyb_pin_BMP_SRST,
        pyb_pin_BMP_TDI,
        #ifdef pyb_pin_BMP_SWDIO_IN
        pyb_pin_BMP_SWDIO_IN,
        #endif
        #ifdef pyb_pin_BMP_SWDIO_DIR
        pyb_pin_BMP_SWDIO_DIR,
        #endif
    };
    for (size_t i = 0; i < MP_ARRAY_SIZE(pins); ++i) {
        mp_hal_gpio_clock_enable(pins[i]->gpio);
    }
    return MICROPY_HW_BMP_PIN_MAP;
}
