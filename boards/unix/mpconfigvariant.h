// bmp host probe: the unix port's standard features plus bmp's event hook.
#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

// Poll bmp's servers from the event loop, while the REPL waits for a key and in
// time.sleep() (micropython/patches/0001).
void bmp_event_hook(void);
#define MICROPY_INTERNAL_EVENT_HOOK bmp_event_hook()
#define MICROPY_UNIX_STDIN_IDLE_HOOK (1)

// The port's idle wait (time.sleep, 500 us at a time) ends early when a GDB or CMSIS-DAP
// client's request arrives (bmp_stream.c; micropython/patches/0006): the host probe
// answers at once, as a board woken by its USB interrupt does.
#define BMP_IDLE_WAIT_ON_SOCKETS (1)
void bmp_stream_idle_wait_us(unsigned int us);
#define MICROPY_INTERNAL_WFE(TIMEOUT_MS) bmp_stream_idle_wait_us(500)

// ... and while a script computes: MicroPython's VM hook at backward jumps and returns,
// with a divisor (bmp_glue.h: the clock is read every 64th time, a poll runs at most once
// a millisecond).
extern unsigned int bmp_vm_hook_countdown;
void bmp_vm_hook(void);
#define MICROPY_VM_HOOK_LOOP if (--bmp_vm_hook_countdown == 0) { bmp_vm_hook(); }
#define MICROPY_VM_HOOK_RETURN MICROPY_VM_HOOK_LOOP

#include "ports/unix/variants/mpconfigvariant_common.h"
