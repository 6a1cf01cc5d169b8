// P5 harness for qemu-system-arm -M mps2-an500 -icount shift=0 (one instruction per
// virtual nanosecond): times the board's SWD bit loop (lib.rs) on the CMSDK timer 0
// (25 MHz: one tick is 40 instructions) and prints instructions per SWCLK period.
#include <stdint.h>

void p5_write_words(uint32_t gpioa, uint32_t words);
uint32_t p5_read_words(uint32_t gpioa, uint32_t words);

#define TIMER0_CTRL (*(volatile uint32_t *)0x40000000)
#define TIMER0_VALUE (*(volatile uint32_t *)0x40000004)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008)
#define CPACR (*(volatile uint32_t *)0xE000ED88)
#define WORDS 1000
#define INSTRUCTIONS_PER_TICK 40

static uint32_t gpio_blocks[9 * 0x400 / 4];

static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile ("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void print(const char *text) {
    semihost(0x04, text);  // SYS_WRITE0
}

static void print_number(uint32_t value) {
    char digits[12];
    int i = sizeof(digits) - 1;
    digits[i] = 0;
    do {
        digits[--i] = '0' + value % 10;
        value /= 10;
    } while (value && i);
    print(&digits[i]);
}

// Instructions per SWCLK period, in hundredths.
static void report(const char *what, uint32_t ticks) {
    uint32_t per_period_x100 = (uint32_t)((uint64_t)ticks * INSTRUCTIONS_PER_TICK * 100 / (WORDS * 32));
    print(what);
    print(" ticks=");
    print_number(ticks);
    print(" instructions_per_period_x100=");
    print_number(per_period_x100);
    print("\n");
}

static uint32_t run(int reading) {
    TIMER0_CTRL = 0;
    TIMER0_RELOAD = 0xFFFFFFFF;
    TIMER0_VALUE = 0xFFFFFFFF;
    TIMER0_CTRL = 1;
    uint32_t start = TIMER0_VALUE;
    if (reading) {
        p5_read_words((uint32_t)gpio_blocks, WORDS);
    } else {
        p5_write_words((uint32_t)gpio_blocks, WORDS);
    }
    return start - TIMER0_VALUE;
}

void p5_main(void) {
    CPACR |= 0xF << 20;  // the FPU, for code built for thumbv7em-none-eabihf
    // Set-up (pin configuration) costs the same in both: time it with one word and subtract.
    report("write", run(0));
    report("read", run(1));
    semihost(0x18, (const void *)0x20026);  // SYS_EXIT, ADP_Stopped_ApplicationExit
    for (;;) {
    }
}

extern uint32_t _stack_top;
void reset(void) {
    p5_main();
}
__attribute__((section(".vectors"))) const void *vectors[2] = {&_stack_top, (void *)reset};
