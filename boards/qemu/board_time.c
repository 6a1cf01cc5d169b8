// bmp qemu board: a monotonic clock for the time module and for the probe's timeouts.
//
// The mps2-an385 has a CMSDK APB dual timer at 0x40002000 clocked at 25 MHz (ARM DDI0479,
// CMSDK dual-input timer; AN385 memory map). Timer 1 runs free, 32-bit, prescaled by 16
// (1.5625 MHz, 0.64 us per count, wrapping every 2749 s); every read extends it to 64 bits,
// which stays right as long as the clock is read at least once per wrap.
#include <stdint.h>
#include "py/mphal.h"
#include "py/runtime.h"

#define DUALTIMER1_LOAD (*(volatile uint32_t *)0x40002000)
#define DUALTIMER1_VALUE (*(volatile uint32_t *)0x40002004)
#define DUALTIMER1_CONTROL (*(volatile uint32_t *)0x40002008)

// Timer1Control (DDI0479 3.5.3): TimerEn, 32-bit TimerSize, prescale 01 = /16, free-running.
#define CONTROL_ENABLE (1u << 7)
#define CONTROL_PRESCALE_16 (1u << 2)
#define CONTROL_SIZE_32 (1u << 1)

static uint32_t last_count;
static uint64_t elapsed_counts;

static uint64_t counts_since_start(void) {
    if (!(DUALTIMER1_CONTROL & CONTROL_ENABLE)) {
        DUALTIMER1_LOAD = 0xffffffff;
        DUALTIMER1_CONTROL = CONTROL_ENABLE | CONTROL_PRESCALE_16 | CONTROL_SIZE_32;
        last_count = DUALTIMER1_VALUE;
    }
    // The timer counts down.
    uint32_t count = DUALTIMER1_VALUE;
    elapsed_counts += (uint32_t)(last_count - count);
    last_count = count;
    return elapsed_counts;
}

static uint64_t microseconds(void) {
    return counts_since_start() * 16 / 25;
}

mp_uint_t mp_hal_ticks_us(void) {
    return (mp_uint_t)microseconds();
}

mp_uint_t mp_hal_ticks_ms(void) {
    return (mp_uint_t)(microseconds() / 1000);
}

mp_uint_t mp_hal_ticks_cpu(void) {
    return (mp_uint_t)counts_since_start();
}

// Sleeps go through the event loop, so the event hook (bmp's poll) runs meanwhile.
void mp_hal_delay_ms(mp_uint_t ms) {
    uint64_t end = microseconds() + (uint64_t)ms * 1000;
    while (microseconds() < end) {
        mp_event_wait_ms(1);
    }
}

// Short delays are exact busy-waits without the hook.
void mp_hal_delay_us(mp_uint_t us) {
    uint64_t end = microseconds() + us;
    while (microseconds() < end) {
    }
}
