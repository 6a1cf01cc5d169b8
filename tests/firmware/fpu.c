/* The FPU test program (firmware-fpu.elf): Cortex-M4F hard-float code for the STM32F4
 * memory map (stm32f4.ld), also run by the STM32H7's Cortex-M7. It enables the FPU
 * (CPACR CP10/CP11 full access, ARMv7-M B3.2.20) and keeps a float in the FPU's
 * registers: fpu_checkpoint() gets it in s0 (AAPCS VFP variant) and stores it, so a
 * debugger halted there sees the value in s0/d0 and can change what is stored. */
#include <stdint.h>

#define CPACR (*(volatile uint32_t *)0xE000ED88u)
#define CPACR_CP10_CP11_FULL (0xFu << 20)

volatile float fpu_result;       /* the last value fpu_checkpoint() got */
volatile uint32_t fpu_rounds;    /* how many times it was called */

__attribute__((noinline)) void fpu_checkpoint(float value) {
    fpu_result = value;
    fpu_rounds++;
}

__attribute__((noinline)) static float fpu_step(float x) {
    return x * 1.5f + 0.25f;
}

/* The float work, apart from main: its prologue saves FP registers (vpush), which
 * faults (NOCP UsageFault) until CPACR has the FPU on. */
__attribute__((noinline, noreturn)) static void fpu_rounds_forever(void) {
    float value = 1.0f;
    for (;;) {
        value = fpu_step(value);
        fpu_checkpoint(value);
        if (value > 1000.0f) {
            value = 1.0f;
        }
    }
}

int main(void) {
    CPACR |= CPACR_CP10_CP11_FULL;
    __asm volatile("dsb\n\tisb" ::: "memory");
    fpu_rounds_forever();
}
