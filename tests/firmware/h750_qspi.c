// A program for the STM32H750 that runs from its external QSPI flash (a W25Q64JV on
// QUADSPI bank 1, memory-mapped at 0x90000000), as on the boards that carry an H750: a
// small start-up in the internal flash (.boot: the vector table and boot_reset) sets up
// the clocks, pins and QUADSPI, enters memory-mapped mode (Fast Read 0x0B) and calls
// qspi_main, which, with everything it calls and its read-only data, is linked at
// 0x90000000 (h750_qspi.ld). bmp's GDB server writes both parts with one `load`: the
// internal flash through its H7 driver, the QSPI flash through the external-flash
// algorithm (flm/w25q64_h750.c) given to target.flash_algorithm.
//
// Built by Makefile into build/firmware/h750-qspi.elf; with bench_table.S (60 KB of
// read-only data, also in the QSPI flash) it spans 16 of the flash's 4 KB sectors.
#include <stdint.h>

#define REG(address) (*(volatile uint32_t *)(address))

// RCC, GPIO and QUADSPI as in flm/w25q64_h750.c (RM0433 8.7, 11.4, 23.5).
#define RCC_AHB3ENR REG(0x580244D4)
#define RCC_AHB4ENR REG(0x580244E0)
#define GPIOB 0x58020400u
#define GPIOD 0x58020C00u
#define GPIOE 0x58021000u
#define QUADSPI 0x52005000u
#define QSPI_CR REG(QUADSPI + 0x00)
#define QSPI_DCR REG(QUADSPI + 0x04)
#define QSPI_SR REG(QUADSPI + 0x08)
#define QSPI_CCR REG(QUADSPI + 0x14)
#define CR_EN (1u << 0)
#define CR_ABORT (1u << 1)
#define SR_BUSY (1u << 5)
// Fast Read 0x0B: instruction, 24-bit address, 8 dummy cycles, data, each on one line;
// FMODE memory-mapped.
#define CCR_FAST_READ_MAPPED ((1u << 8) | (1u << 10) | (2u << 12) | (8u << 18) | (1u << 24) | \
                              (3u << 26) | 0x0Bu)

extern uint32_t __bss_start, __bss_end;
extern const uint32_t bench_table[];
extern const uint32_t bench_table_words;

void boot_reset(void);
void qspi_main(void);

#define STACK_TOP 0x20020000u // the end of DTCM

__attribute__((section(".boot_vectors"), used)) const uintptr_t vectors[2] = {
    STACK_TOP,
    (uintptr_t)boot_reset,
};

__attribute__((section(".boot_text"))) static void boot_alternate(uint32_t port, uint32_t pin,
                                                                 uint32_t af) {
    REG(port) = (REG(port) & ~(3u << (2 * pin))) | 2u << (2 * pin);
    uint32_t afr = port + 0x20 + (pin / 8) * 4;
    REG(afr) = (REG(afr) & ~(0xFu << (4 * (pin % 8)))) | af << (4 * (pin % 8));
}

// Runs from the internal flash: nothing at 0x90000000 is readable until this is done.
__attribute__((section(".boot_text"), noreturn)) void boot_reset(void) {
    RCC_AHB3ENR |= 1u << 14;                        // QSPIEN
    RCC_AHB4ENR |= (1u << 1) | (1u << 3) | (1u << 4); // GPIOB, D, E
    boot_alternate(GPIOB, 6, 10);
    boot_alternate(GPIOB, 2, 9);
    boot_alternate(GPIOD, 11, 9);
    boot_alternate(GPIOD, 12, 9);
    boot_alternate(GPIOE, 2, 9);
    boot_alternate(GPIOD, 13, 9);
    QSPI_CR |= CR_ABORT;
    while (QSPI_SR & SR_BUSY) {
    }
    QSPI_DCR = (22u << 16) | (1u << 8); // 8 MB, CSHT 2 cycles
    QSPI_CR = (1u << 24) | CR_EN;
    QSPI_CCR = CCR_FAST_READ_MAPPED;
    for (uint32_t *word = &__bss_start; word < &__bss_end; word++) {
        *word = 0;
    }
    // A far call: the veneer or an indirect branch, wherever the linker puts qspi_main.
    void (*volatile entry)(void) = qspi_main;
    entry();
    for (;;) {
    }
}

// Everything below runs from the QSPI flash.
volatile uint32_t qspi_steps;
volatile uint32_t qspi_sum;

__attribute__((noinline)) uint32_t qspi_mix(uint32_t value, uint32_t index) {
    return value ^ bench_table[index % bench_table_words];
}

__attribute__((noinline)) void qspi_step(uint32_t index) {
    uint32_t mixed = qspi_mix(qspi_sum, index);
    qspi_sum = mixed;
    qspi_steps = qspi_steps + 1;
}

__attribute__((noreturn)) void qspi_main(void) {
    for (uint32_t index = 0;; index++) {
        qspi_step(index);
    }
}
