// bmp on a DEVEBOX STM32H750VB that really has only its datasheet's 128 KB of flash: the
// firmware runs from the board's W25Q64JV (8 MB QSPI flash, memory-mapped at 0x90000000),
// as MicroPython's PYBD_SF2 runs part of its own. The one internal sector holds what runs
// before the mapping exists (bmp_h750_qspi.ld); no mboot (it would need that sector), no
// filesystem in internal flash (the SD card is /sd). docs/boards.md, "The H750 and its
// 128 KB".
#define MICROPY_HW_BOARD_NAME       "DEVEBOX STM32H750 QSPI (bmp)"
#define MICROPY_HW_MCU_NAME         "STM32H750VB"
#define MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE (0)
#define MICROPY_HW_HAS_FLASH        (0)
#define MICROPY_HW_USB_MSC          (0)

// The W25Q64JV on QUADSPI bank 1 (the DEVEBOX wiring: NCS PB6, CLK PB2, IO0 PD11, IO1
// PD12, IO2 PE2, IO3 PD13; tests/firmware/flm/w25q64_h750.c uses the same). 64 Mbit.
// Memory-mapped reads use Fast Read Quad I/O 0xEB (ports/stm32/qspi.c): the mode byte on
// four lines, then 4 dummy clocks (W25Q64JV datasheet 8.2.10), from the default
// MICROPY_HW_SPIFLASH_QREAD_NUM_DUMMY of 2. QUADSPI at HCLK3 (200 MHz) / 3 = 66.7 MHz,
// below the part's 133 MHz.
#define MICROPY_HW_QSPIFLASH_SIZE_BITS_LOG2 (26)
#define MICROPY_HW_QSPIFLASH_CS     (pin_B6)
#define MICROPY_HW_QSPIFLASH_SCK    (pin_B2)
#define MICROPY_HW_QSPIFLASH_IO0    (pin_D11)
#define MICROPY_HW_QSPIFLASH_IO1    (pin_D12)
#define MICROPY_HW_QSPIFLASH_IO2    (pin_E2)
#define MICROPY_HW_QSPIFLASH_IO3    (pin_D13)

// Map the QSPI flash before anything in it runs (main.c calls this after the clocks are
// set, board_qspi.c).
void bmp_board_qspi_map(void);
#define MICROPY_BOARD_EARLY_INIT    bmp_board_qspi_map

#include "../DEVEBOX_STM32H743/mpconfigboard.h"
