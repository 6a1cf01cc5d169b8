// A CMSIS-Pack flash algorithm (FLM) for a Winbond W25Q64JV on the STM32H750's QUADSPI
// bank 1 (the DevEBox-style wiring: NCS PB6 AF10, CLK PB2, IO0 PD11, IO1 PD12, IO2 PE2,
// IO3 PD13 AF9), memory-mapped at 0x90000000. Written here from RM0433 chapter 23
// (QUADSPI), the W25Q64JV datasheet ("Instructions") and the FLM conventions (Open-CMSIS-
// Pack spec, "Flash Programming"), built the way vendors build theirs: position-independent
// code in PrgCode at 0, data in PrgData reached through R9.
//
// Init sets up the clocks, pins and QUADSPI and checks the JEDEC ID; EraseSector sends
// Sector Erase 0x20, ProgramPage Page Program 0x02, each after Write Enable 0x06 and
// followed by automatic polling of status register 1 (0x05) until BUSY clears; EraseChip
// sends 0xC7. UnInit leaves the QUADSPI in memory-mapped mode (Fast Read 0x0B, 8 dummy
// cycles), so that the debugger and the program read the flash at 0x90000000.
//
// Built by ../Makefile into build/firmware/w25q64_h750.flm (flm.ld).
#include <stdint.h>

#include "flash_device.h"

#define REG(address) (*(volatile uint32_t *)(address))

// RCC (RM0433 8.7): AHB3ENR.QSPIEN 14; AHB4ENR.GPIOxEN (B 1, D 3, E 4).
#define RCC_AHB3ENR REG(0x580244D4)
#define RCC_AHB4ENR REG(0x580244E0)
#define RCC_AHB3ENR_QSPIEN (1u << 14)
#define RCC_AHB4ENR_GPIOBDE ((1u << 1) | (1u << 3) | (1u << 4))

// GPIO ports (RM0433 11.4): MODER, OSPEEDR, AFRL, AFRH.
#define GPIOB 0x58020400u
#define GPIOD 0x58020C00u
#define GPIOE 0x58021000u
#define MODER 0x00u
#define OSPEEDR 0x08u
#define AFR 0x20u
#define MODE_ALTERNATE 2u
#define SPEED_VERY_HIGH 3u

// QUADSPI (RM0433 23.5).
#define QUADSPI 0x52005000u
#define QSPI_CR REG(QUADSPI + 0x00)
#define QSPI_DCR REG(QUADSPI + 0x04)
#define QSPI_SR REG(QUADSPI + 0x08)
#define QSPI_FCR REG(QUADSPI + 0x0C)
#define QSPI_DLR REG(QUADSPI + 0x10)
#define QSPI_CCR REG(QUADSPI + 0x14)
#define QSPI_AR REG(QUADSPI + 0x18)
#define QSPI_DR REG(QUADSPI + 0x20)
#define QSPI_DR_BYTE (*(volatile uint8_t *)(QUADSPI + 0x20))
#define QSPI_PSMKR REG(QUADSPI + 0x24)
#define QSPI_PSMAR REG(QUADSPI + 0x28)
#define QSPI_PIR REG(QUADSPI + 0x2C)

#define CR_EN (1u << 0)
#define CR_ABORT (1u << 1)
#define CR_APMS (1u << 22)
#define CR_PRESCALER(n) ((uint32_t)(n) << 24)
#define DCR_FSIZE(n) ((uint32_t)(n) << 16)
#define DCR_CSHT(n) ((uint32_t)(n) << 8)
#define SR_TCF (1u << 1)
#define SR_FTF (1u << 2)
#define SR_SMF (1u << 3)
#define SR_BUSY (1u << 5)
#define FCR_CTCF (1u << 1)
#define FCR_CSMF (1u << 3)
// CCR: one line for each phase present, 24-bit addresses.
#define CCR_IMODE_1 (1u << 8)
#define CCR_ADDRESS_24 ((1u << 10) | (2u << 12))
#define CCR_DCYC(n) ((uint32_t)(n) << 18)
#define CCR_DMODE_1 (1u << 24)
#define CCR_INDIRECT_READ (1u << 26)
#define CCR_AUTO_POLLING (2u << 26)
#define CCR_MEMORY_MAPPED (3u << 26)

// W25Q64JV instructions and status register 1 (datasheet 7.1, 8.1).
#define WRITE_ENABLE 0x06u
#define READ_STATUS_1 0x05u
#define PAGE_PROGRAM 0x02u
#define SECTOR_ERASE 0x20u
#define CHIP_ERASE 0xC7u
#define FAST_READ 0x0Bu
#define JEDEC_ID 0x9Fu
#define STATUS_BUSY 0x01u
#define STATUS_WEL 0x02u
#define W25Q64_JEDEC 0x1740EFu // EF 40 17, first byte low
#define FLASH_BASE 0x90000000u
#define FLASH_SIZE 0x800000u
#define PAGE_SIZE 256u


// Timeouts: the datasheet's maxima (tPP 3 ms, tSE 400 ms) with room.
__attribute__((section("DevDscr"), used)) const struct FlashDevice FlashDevice = {
    .version = 0x0101,
    .name = "W25Q64JV on STM32H750 QUADSPI (bmp test FLM)",
    .type = 5, // external SPI
    .address = FLASH_BASE,
    .size = FLASH_SIZE,
    .page_size = PAGE_SIZE,
    .erased = 0xFF,
    .program_timeout_ms = 100,
    .erase_timeout_ms = 1000,
    .sectors = {{0x1000, 0}, {0xFFFFFFFF, 0xFFFFFFFF}},
};

// A word of initialised data: Init checks that the loader copied PrgData and set R9.
#define DATA_MAGIC 0x0590F1A5u
__attribute__((section(".data"), used)) uint32_t data_magic = DATA_MAGIC;

// Pin `pin` of the port at `port` to alternate function `af`, very high speed.
static void alternate(uint32_t port, uint32_t pin, uint32_t af) {
    REG(port + MODER) = (REG(port + MODER) & ~(3u << (2 * pin))) | MODE_ALTERNATE << (2 * pin);
    REG(port + OSPEEDR) |= SPEED_VERY_HIGH << (2 * pin);
    uint32_t afr = port + AFR + (pin / 8) * 4;
    uint32_t shift = 4 * (pin % 8);
    REG(afr) = (REG(afr) & ~(0xFu << shift)) | af << shift;
}

// End any command (memory-mapped mode included) and wait until the QUADSPI is idle.
static void abort_command(void) {
    QSPI_CR |= CR_ABORT;
    while (QSPI_SR & SR_BUSY) {
    }
}

static void wait_transfer_complete(void) {
    while (!(QSPI_SR & SR_TCF)) {
    }
    QSPI_FCR = FCR_CTCF;
}

// Poll status register 1 until (status & mask) == match; the QUADSPI stops when it does.
static void poll_status(uint32_t mask, uint32_t match) {
    QSPI_PSMKR = mask;
    QSPI_PSMAR = match;
    QSPI_PIR = 0x10;
    QSPI_DLR = 0;
    QSPI_CR |= CR_APMS;
    QSPI_CCR = CCR_IMODE_1 | CCR_DMODE_1 | CCR_AUTO_POLLING | READ_STATUS_1;
    while (!(QSPI_SR & SR_SMF)) {
    }
    QSPI_FCR = FCR_CSMF;
    while (QSPI_SR & SR_BUSY) {
    }
}

static void write_enable(void) {
    QSPI_CCR = CCR_IMODE_1 | WRITE_ENABLE;
    wait_transfer_complete();
    poll_status(STATUS_WEL, STATUS_WEL);
}

static uint32_t read_jedec_id(void) {
    QSPI_DLR = 2;
    QSPI_CCR = CCR_IMODE_1 | CCR_DMODE_1 | CCR_INDIRECT_READ | JEDEC_ID;
    wait_transfer_complete();
    uint32_t id = QSPI_DR & 0xFFFFFFu;
    while (QSPI_SR & SR_BUSY) {
    }
    return id;
}

int Init(uint32_t address, uint32_t clock, uint32_t function) {
    (void)address;
    (void)clock;
    (void)function;
    if (static_base_word() != DATA_MAGIC) {
        return 1;
    }
    RCC_AHB3ENR |= RCC_AHB3ENR_QSPIEN;
    RCC_AHB4ENR |= RCC_AHB4ENR_GPIOBDE;
    alternate(GPIOB, 6, 10); // NCS
    alternate(GPIOB, 2, 9);  // CLK
    alternate(GPIOD, 11, 9); // IO0
    alternate(GPIOD, 12, 9); // IO1
    alternate(GPIOE, 2, 9);  // IO2
    alternate(GPIOD, 13, 9); // IO3
    abort_command();
    QSPI_CR = 0;
    // 8 MB: FSIZE + 1 = 23 address bits; chip select high 2 cycles between commands.
    QSPI_DCR = DCR_FSIZE(22) | DCR_CSHT(1);
    QSPI_CR = CR_PRESCALER(1) | CR_EN;
    return read_jedec_id() == W25Q64_JEDEC ? 0 : 1;
}

// Back to memory-mapped mode: the flash reads at 0x90000000 again.
int UnInit(uint32_t function) {
    (void)function;
    abort_command();
    QSPI_CCR = CCR_IMODE_1 | CCR_ADDRESS_24 | CCR_DCYC(8) | CCR_DMODE_1 | CCR_MEMORY_MAPPED |
               FAST_READ;
    return 0;
}

int EraseChip(void) {
    abort_command();
    write_enable();
    QSPI_CCR = CCR_IMODE_1 | CHIP_ERASE;
    wait_transfer_complete();
    poll_status(STATUS_BUSY, 0);
    return 0;
}

int EraseSector(uint32_t address) {
    abort_command();
    write_enable();
    QSPI_CCR = CCR_IMODE_1 | CCR_ADDRESS_24 | SECTOR_ERASE;
    QSPI_AR = address - FLASH_BASE;
    wait_transfer_complete();
    poll_status(STATUS_BUSY, 0);
    return 0;
}

int ProgramPage(uint32_t address, uint32_t size, const uint8_t *data) {
    abort_command();
    while (size > 0) {
        // One Page Program stays inside its 256-byte page (datasheet 8.2.15).
        uint32_t room = PAGE_SIZE - (address % PAGE_SIZE);
        uint32_t count = size < room ? size : room;
        write_enable();
        QSPI_DLR = count - 1;
        QSPI_CCR = CCR_IMODE_1 | CCR_ADDRESS_24 | CCR_DMODE_1 | PAGE_PROGRAM;
        QSPI_AR = address - FLASH_BASE;
        for (uint32_t index = 0; index < count; index++) {
            while (!(QSPI_SR & SR_FTF)) {
            }
            QSPI_DR_BYTE = data[index];
        }
        wait_transfer_complete();
        poll_status(STATUS_BUSY, 0);
        address += count;
        data += count;
        size -= count;
    }
    return 0;
}
