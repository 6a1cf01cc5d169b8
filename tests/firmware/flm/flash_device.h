// FlashOS.h's FlashDevice (Open-CMSIS-Pack), 160 bytes then the sector list, shared by the
// FLMs built here. Each FLM defines its own `FlashDevice` in section DevDscr, and a word of
// initialised data that its Init checks through static_base_word().
#ifndef FLASH_DEVICE_H
#define FLASH_DEVICE_H

#include <stdint.h>

struct FlashSector {
    uint32_t size;
    uint32_t address;
};

struct FlashDevice {
    uint16_t version;
    char name[128];
    uint16_t type;
    uint32_t address;
    uint32_t size;
    uint32_t page_size;
    uint32_t reserved;
    uint8_t erased;
    uint8_t padding[3];
    uint32_t program_timeout_ms;
    uint32_t erase_timeout_ms;
    struct FlashSector sectors[2];
};

// The first word of the FLM's data, read through R9: the loader copied PrgData and set the
// static base (an FLM is built position independent, data addressed from R9).
static inline uint32_t static_base_word(void) {
    uint32_t value;
    __asm__ volatile ("ldr %0, [r9]" : "=r" (value));
    return value;
}

#endif
