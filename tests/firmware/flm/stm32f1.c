// A CMSIS-Pack flash algorithm (FLM) for the STM32F1's on-chip flash, written here from
// the flash programming manual (PM0075) and the FLM conventions (Open-CMSIS-Pack spec,
// "Flash Programming": FlashOS functions, FlashDevice in DevDscr). It tests bmp's FLM
// loader and runner against a file built the way vendors build theirs: position-
// independent code in PrgCode at 0, data in PrgData reached through R9 (the static base).
//
// Built by ../Makefile into build/firmware/stm32f1.flm (flm.ld). Variants for the tests:
// -DHANG (EraseSector never returns), -DFAIL (ProgramPage returns 1).
#include <stdint.h>

#include "flash_device.h"

#define FLASH_KEYR (*(volatile uint32_t *)0x40022004)
#define FLASH_SR (*(volatile uint32_t *)0x4002200C)
#define FLASH_CR (*(volatile uint32_t *)0x40022010)
#define FLASH_AR (*(volatile uint32_t *)0x40022014)

// PM0075 3.4 and 3.5.
#define SR_BSY (1u << 0)
#define SR_PGERR (1u << 2)
#define SR_WRPRTERR (1u << 4)
#define SR_EOP (1u << 5)
#define CR_PG (1u << 0)
#define CR_PER (1u << 1)
#define CR_MER (1u << 2)
#define CR_STRT (1u << 6)
#define CR_LOCK (1u << 7)
#define KEY1 0x45670123u
#define KEY2 0xCDEF89ABu


__attribute__((section("DevDscr"), used)) const struct FlashDevice FlashDevice = {
    .version = 0x0101,
    .name = "STM32F1 128 KB flash (bmp test FLM)",
    .type = 1, // on-chip
    .address = 0x08000000,
    .size = 0x20000,
    .page_size = 1024,
    .erased = 0xFF,
    .program_timeout_ms = 100,
    .erase_timeout_ms = 500,
    .sectors = {{0x400, 0}, {0xFFFFFFFF, 0xFFFFFFFF}},
};

// A word of initialised data: Init checks that the loader copied PrgData and set R9.
#define DATA_MAGIC 0x600DF00Du
__attribute__((section(".data"), used)) uint32_t data_magic = DATA_MAGIC;

static int wait_done(void) {
    while (FLASH_SR & SR_BSY) {
    }
    uint32_t status = FLASH_SR;
    FLASH_SR = SR_EOP | SR_PGERR | SR_WRPRTERR;
    return (status & (SR_PGERR | SR_WRPRTERR)) ? 1 : 0;
}

int Init(uint32_t address, uint32_t clock, uint32_t function) {
    (void)address;
    (void)clock;
    (void)function;
    if (static_base_word() != DATA_MAGIC) {
        return 1;
    }
    if (FLASH_CR & CR_LOCK) {
        FLASH_KEYR = KEY1;
        FLASH_KEYR = KEY2;
    }
    FLASH_SR = SR_EOP | SR_PGERR | SR_WRPRTERR;
    return (FLASH_CR & CR_LOCK) ? 1 : 0;
}

int UnInit(uint32_t function) {
    (void)function;
    FLASH_CR = CR_LOCK;
    return 0;
}

int EraseChip(void) {
    FLASH_CR = CR_MER;
    FLASH_CR = CR_MER | CR_STRT;
    int result = wait_done();
    FLASH_CR = 0;
    return result;
}

int EraseSector(uint32_t address) {
#ifdef HANG
    for (;;) {
    }
#endif
    FLASH_CR = CR_PER;
    FLASH_AR = address;
    FLASH_CR = CR_PER | CR_STRT;
    int result = wait_done();
    FLASH_CR = 0;
    return result;
}

int ProgramPage(uint32_t address, uint32_t size, const uint8_t *data) {
#ifdef FAIL
    return 1;
#endif
    int result = 0;
    FLASH_CR = CR_PG;
    for (uint32_t offset = 0; offset < size && result == 0; offset += 2) {
        uint16_t half = data[offset] | (offset + 1 < size ? data[offset + 1] << 8 : 0xFF00);
        *(volatile uint16_t *)(address + offset) = half;
        result = wait_done();
    }
    FLASH_CR = 0;
    return result;
}
