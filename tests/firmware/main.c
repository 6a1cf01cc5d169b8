/* The bmp test firmware for an STM32F103 blue pill: clock set-up to 72 MHz, a main loop
 * with named functions and globals for a debugger, and a semihosting test mode. README.md
 * describes the symbols and the test-mode protocol. */

#include <stdint.h>

#include "rtt.h"
#include "semihosting.h"
#include "stm32f103.h"

/* The STM32F1 build (not the F4, nRF52 or SAMD21 ones) sets its clock up and has USART1. */
#if !defined(STM32F4) && !defined(SYSTEM_CLOCK_HZ)
#define STM32F1_BUILD 1
#endif

/* Functions a debugger breaks on keep their names and stay real calls: noipa forbids
 * inlining, cloning (compute.constprop.0) and changes of their calling convention. */
#define DEBUG_VISIBLE __attribute__((noipa))

/* Globals for a debugger (README.md lists them). */
volatile uint32_t counter;        /* +1 per main loop iteration, in blink_step() */
volatile uint32_t watched_value;  /* written every iteration: compute(counter) */
volatile uint32_t clock_error;    /* 0, or which wait of clock_setup() timed out */
#if defined(SYSTEM_CLOCK_HZ)
volatile uint32_t system_clock_hz = SYSTEM_CLOCK_HZ; /* the part's clock after reset */
#elif defined(STM32F4)
volatile uint32_t system_clock_hz = 16000000u; /* HSI after reset (RM0090 6.2.2) */
#else
volatile uint32_t system_clock_hz = 8000000u; /* HSI after reset (RM0008 7.2) */
#endif

/* Set to a non-zero value by a debugger to run the semihosting test once. It is in .data
 * (initialised by the start-up code), so write it after the start-up code has run, e.g.
 * halted at main or anywhere in the loop, never while halted at the reset vector. */
__attribute__((section(".data.semihosting_test"))) volatile uint32_t semihosting_test = 0;
volatile uint32_t semihosting_result;      /* 0 not run, 1 passed, 2 failed */
volatile uint32_t semihosting_failed_step; /* 0, or the step that failed */

/* In .data, so in SRAM at run time, for memory reads and searches. */
char hello[] = "hello, world!";

/* The host file the semihosting test writes and reads back, relative to the debugger's
 * working directory (or its semihosting base directory). */
const char semihosting_file_name[] = "semihosting_test.txt";
static const char semihosting_file_text[] = "bmp semihosting file test: hello, world!\n";

#ifdef BENCH_IMAGE
/* 60 KB of pseudo-random data in flash (bench_table.S), for download benchmarks. */
extern const uint32_t bench_table[];
extern const uint32_t bench_table_words;
volatile uint32_t bench_checksum;
#endif

/* Polls of a ready flag before clock_setup() gives up and stays on HSI: far above the HSE
 * start-up time of a few milliseconds at 8 MHz, and quick in a simulator. */
#define CLOCK_READY_POLLS 200000u

static int wait_for_bits(volatile uint32_t *reg, uint32_t mask, uint32_t value) {
    for (uint32_t poll = 0; poll < CLOCK_READY_POLLS; poll++) {
        if ((*reg & mask) == value) {
            return 1;
        }
    }
    return 0;
}

/* SYSCLK = HSE 8 MHz x 9 = 72 MHz through the PLL (RM0008 7.2 clocks, 7.3 registers). On
 * a timeout it stays on HSI at 8 MHz and records the step in clock_error. */
DEBUG_VISIBLE void clock_setup(void) {
    RCC_CR |= RCC_CR_HSEON;
    if (!wait_for_bits(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY)) {
        RCC_CR &= ~RCC_CR_HSEON;
        clock_error = 1;
        return;
    }
    /* Two flash wait states before SYSCLK exceeds 48 MHz (RM0008 3.3.3). */
    FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_MASK) | FLASH_ACR_LATENCY_2 | FLASH_ACR_PRFTBE;
    /* AHB = SYSCLK, APB1 = HCLK / 2 (36 MHz at most), APB2 = HCLK; PLL input HSE
     * undivided, multiplied by 9 (RM0008 7.3.2). The PLL is off, so PLLMUL may change. */
    uint32_t configuration = RCC_CFGR;
    configuration &= ~(RCC_CFGR_HPRE_MASK | RCC_CFGR_PPRE1_MASK | RCC_CFGR_PPRE2_MASK |
                       RCC_CFGR_PLLXTPRE | RCC_CFGR_PLLMUL_MASK);
    configuration |= RCC_CFGR_PPRE1_DIV2 | RCC_CFGR_PLLSRC_HSE | RCC_CFGR_PLLMUL_9;
    RCC_CFGR = configuration;
    RCC_CR |= RCC_CR_PLLON;
    if (!wait_for_bits(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) {
        clock_error = 2;
        return;
    }
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
    if (!wait_for_bits(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL)) {
        clock_error = 3;
        return;
    }
    system_clock_hz = 72000000u;
}

/* The innermost of the nested calls blink_step() -> compute() -> scramble(). */
DEBUG_VISIBLE uint32_t scramble(uint32_t value) {
    value ^= value << 13;
    value ^= value >> 17;
    value ^= value << 5;
    return value;
}

DEBUG_VISIBLE uint32_t compute(uint32_t value) {
    uint32_t mixed = scramble(value);
    return mixed + value * 3u;
}

/* One step of the main loop. The name is the blue pill's LED blink; the firmware drives
 * no GPIO, so it runs on a simulator that models only the debug and clock registers. */
DEBUG_VISIBLE void blink_step(void) {
    uint32_t next = counter + 1u;
    counter = next;
    watched_value = compute(next);
}

static uint32_t text_length(const char *text) {
    uint32_t length = 0;
    while (text[length] != '\0') {
        length++;
    }
    return length;
}

/* Decimal digits of value followed by a NUL, at most 11 bytes. */
static char *format_decimal(uint32_t value, char *buffer) {
    char digits[10];
    uint32_t count = 0;
    do {
        digits[count++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0);
    char *out = buffer;
    while (count > 0) {
        *out++ = digits[--count];
    }
    *out = '\0';
    return buffer;
}

static void print_number(uint32_t value) {
    char buffer[11];
    semihosting_write0(format_decimal(value, buffer));
}

/* Writes semihosting_file_text to the host file, reads it back and compares. Returns 0,
 * or the number of the step that failed. */
static uint32_t semihosting_file_test(void) {
    uint32_t length = text_length(semihosting_file_text);
    int32_t handle = semihosting_open(semihosting_file_name, OPEN_MODE_WRITE_BINARY);
    if (handle < 0) {
        return 3;
    }
    if (semihosting_write(handle, semihosting_file_text, length) != 0) {
        semihosting_close(handle);
        return 4;
    }
    if (semihosting_close(handle) != 0) {
        return 5;
    }
    handle = semihosting_open(semihosting_file_name, OPEN_MODE_READ_BINARY);
    if (handle < 0) {
        return 6;
    }
    int32_t file_length = semihosting_flen(handle);
    if (file_length != (int32_t)length) {
        semihosting_close(handle);
        return 7;
    }
    char buffer[sizeof semihosting_file_text];
    if (semihosting_read(handle, buffer, length) != 0) {
        semihosting_close(handle);
        return 8;
    }
    if (semihosting_close(handle) != 0) {
        return 9;
    }
    for (uint32_t index = 0; index < length; index++) {
        if (buffer[index] != semihosting_file_text[index]) {
            return 10;
        }
    }
    semihosting_write0("semihosting: file ");
    semihosting_write0(semihosting_file_name);
    semihosting_write0(": wrote ");
    print_number(length);
    semihosting_write0(", flen ");
    print_number((uint32_t)file_length);
    semihosting_write0(", read back, equal\n");
    return 0;
}

/* The test mode: console output, a host file written and read back, then SYS_EXIT_EXTENDED
 * with status 0 on success or the failed step's number. If the debugger resumes after the
 * exit call, the main loop carries on. */
DEBUG_VISIBLE void run_semihosting_test(void) {
    uint32_t failed_step = 0;
    /* Step 1: SYS_WRITE0 of the string in SRAM. */
    semihosting_write0(hello);
    semihosting_write0("\n");
    /* Step 2: SYS_WRITE to the console, opened as the special file ":tt" in mode "w"
     * (stdout; spec, SYS_OPEN). The console handle is not closed: some debuggers would
     * close their own standard output. */
    static const char console_line[] = "semihosting: SYS_WRITE to :tt\n";
    int32_t console = semihosting_open(":tt", OPEN_MODE_WRITE);
    if (console < 0 ||
        semihosting_write(console, console_line, sizeof console_line - 1u) != 0) {
        failed_step = 2;
    } else {
        failed_step = semihosting_file_test();
    }
    if (failed_step == 0) {
        semihosting_write0("semihosting test: PASS\n");
        semihosting_result = 1;
    } else {
        semihosting_write0("semihosting test: FAIL at step ");
        print_number(failed_step);
        semihosting_write0("\n");
        semihosting_result = 2;
    }
    semihosting_failed_step = failed_step;
    semihosting_test = 0;
    semihosting_exit(failed_step);
}

/* RTT: a line on up channel 0 every RTT_LINE_PERIOD loop iterations; a line received on
 * down channel 0 comes back on up channel 0 as "echo: LINE". With rtt_flood non-zero the
 * loop fills up channel 0 with bytes 0, 1, 2, ... (mod 256) as fast as it can instead
 * (throughput benchmarks; set it with the channel in block mode so nothing is dropped). */
#define RTT_LINE_PERIOD 0x4000u
#define RTT_ECHO_LINE 80u
volatile uint32_t rtt_flood;
volatile uint32_t rtt_flood_bytes; /* bytes written in flood mode */
volatile uint32_t rtt_lines;       /* counter lines written */
static char echo_line[RTT_ECHO_LINE];
static uint32_t echo_length;

static void rtt_echo(void) {
    char input[16];
    uint32_t count = rtt_read(0, input, sizeof input);
    for (uint32_t index = 0; index < count; index++) {
        char byte = input[index];
        if (byte == '\r') {
            continue;
        }
        if (byte != '\n' && echo_length < RTT_ECHO_LINE - 1u) {
            echo_line[echo_length++] = byte;
            continue;
        }
        char line[RTT_ECHO_LINE + 8];
        static const char prefix[] = "echo: ";
        uint32_t length = 0;
        for (uint32_t at = 0; at < sizeof prefix - 1u; at++) {
            line[length++] = prefix[at];
        }
        for (uint32_t at = 0; at < echo_length; at++) {
            line[length++] = echo_line[at];
        }
        line[length++] = '\n';
        rtt_write(0, line, length);
        echo_length = 0;
    }
}

static void rtt_flood_step(void) {
    char block[64];
    uint32_t next = rtt_flood_bytes;
    for (uint32_t index = 0; index < sizeof block; index++) {
        block[index] = (char)(next + index);
    }
    rtt_flood_bytes = next + rtt_write(0, block, sizeof block);
}

/* The same text on ITM stimulus port 0 (SWO), if a debugger has enabled it; a byte at a
 * time, each after the port's FIFO is ready (ARMv7-M C1.7.1). */
static void itm_print(const char *text, uint32_t length) {
#ifdef NO_ITM
    /* ARMv6-M has no ITM (ARMv6-M C1.1). */
    (void)text;
    (void)length;
#else
    if ((ITM_TCR & ITM_TCR_ITMENA) == 0u || (ITM_TER & 1u) == 0u) {
        return;
    }
    for (uint32_t index = 0; index < length; index++) {
        while ((ITM_STIM0_WORD & 1u) == 0u) {
        }
        ITM_STIM0 = (uint8_t)text[index];
    }
#endif
}

#ifdef STM32F1_BUILD
/* USART1 at 115200 8N1 on PA9/PA10 (the probe's UART bridge): the counter lines as
 * "uart: counter N", and a line received comes back as "uart echo: LINE". PCLK2 = 72 MHz
 * after clock_setup() (APB2 undivided), so BRR = 72 MHz / 115200 = 625 (RM0008 27.3.4). */
#define UART_BRR_115200_AT_72MHZ 625u
#define UART_ECHO_LINE 80u
static char uart_line[UART_ECHO_LINE];
static uint32_t uart_length;

DEBUG_VISIBLE void uart_setup(void) {
    RCC_APB2ENR |= RCC_APB2ENR_IOPAEN | RCC_APB2ENR_USART1EN;
    GPIOA_CRH = (GPIOA_CRH & ~(GPIO_CRH_PIN_MASK(9u) | GPIO_CRH_PIN_MASK(10u))) |
                GPIO_CRH_AF_PUSH_PULL_50MHZ(9u) | GPIO_CRH_INPUT_FLOATING(10u);
    USART1_BRR = UART_BRR_115200_AT_72MHZ;
    USART1_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
}

static void uart_write(const char *text, uint32_t length) {
    for (uint32_t index = 0; index < length; index++) {
        while ((USART1_SR & USART_SR_TXE) == 0u) {
        }
        USART1_DR = (uint8_t)text[index];
    }
}

/* Take what has arrived; a complete line is echoed. */
static void uart_echo(void) {
    while ((USART1_SR & USART_SR_RXNE) != 0u) {
        char byte = (char)USART1_DR;
        if (byte == '\r') {
            continue;
        }
        if (byte != '\n' && uart_length < UART_ECHO_LINE - 1u) {
            uart_line[uart_length++] = byte;
            continue;
        }
        static const char prefix[] = "uart echo: ";
        uart_write(prefix, sizeof prefix - 1u);
        uart_write(uart_line, uart_length);
        uart_write("\n", 1u);
        uart_length = 0;
    }
}
#endif

/* One RTT step of the main loop. */
DEBUG_VISIBLE void rtt_step(void) {
    if (rtt_flood != 0) {
        rtt_flood_step();
        return;
    }
    if ((counter % RTT_LINE_PERIOD) == 0u) {
        char line[32] = "rtt: counter ";
        format_decimal(counter, line + 13);
        uint32_t length = text_length(line);
        line[length++] = '\n';
        if (rtt_write(0, line, length) == length) {
            rtt_lines = rtt_lines + 1u;
        }
        line[0] = 'i';
        line[1] = 't';
        line[2] = 'm';
        itm_print(line, length);
#ifdef STM32F1_BUILD
        static const char uart_prefix[] = "uart: counter ";
        uart_write(uart_prefix, sizeof uart_prefix - 1u);
        uart_write(line + 13, length - 13u);
#endif
    }
    rtt_echo();
#ifdef STM32F1_BUILD
    uart_echo();
#endif
}

#ifdef BENCH_IMAGE
static void bench_sum(void) {
    uint32_t sum = 0;
    for (uint32_t index = 0; index < bench_table_words; index++) {
        sum += bench_table[index];
    }
    bench_checksum = sum;
}
#endif

int main(void) {
#ifdef STM32F1_BUILD
    clock_setup(); /* the other builds stay on the reset clock: their clock trees differ */
    uart_setup();
#endif
    rtt_init();
#ifdef BENCH_IMAGE
    bench_sum();
#endif
    for (;;) {
        if (semihosting_test != 0) {
            run_semihosting_test();
        }
        blink_step();
        rtt_step();
    }
}
