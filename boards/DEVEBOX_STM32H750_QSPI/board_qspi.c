// DEVEBOX_STM32H750_QSPI: put the W25Q64JV into memory-mapped mode at 0x90000000 before
// any code linked there runs (MICROPY_BOARD_EARLY_INIT, after SystemClock_Config). This
// file, like everything main.c calls before it, is linked into internal flash
// (bmp_h750_qspi.ld). mp_spiflash_init sets the part's QE bit if it is clear (quad
// reads need it) and leaves the bus in memory-mapped mode (qspi.c, BUS_RELEASE).
#include "py/mphal.h"
#include "drivers/memory/spiflash.h"
#include "qspi.h"

static const mp_spiflash_config_t bmp_qspi_flash_config = {
    .bus_kind = MP_SPIFLASH_BUS_QSPI,
    .bus.u_qspi.data = NULL,
    .bus.u_qspi.proto = &qspi_proto,
};

static mp_spiflash_t bmp_qspi_flash = {
    .config = &bmp_qspi_flash_config,
};

void bmp_board_qspi_map(void) {
    mp_spiflash_init(&bmp_qspi_flash);
}
