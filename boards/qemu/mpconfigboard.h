// bmp firmware on qemu's mps2-an385: the qemu port's configuration plus bmp's event hook.
#include <mpconfigport.h>

// The time module, on the board's dual timer (board_time.c).
#undef MICROPY_PY_TIME
#define MICROPY_PY_TIME (1)

// Poll bmp's servers while the REPL waits for input (micropython/patches/0002) and while
// sleeping (board_time.c).
void bmp_event_hook(void);
#define MICROPY_INTERNAL_EVENT_HOOK bmp_event_hook()

// ... and while a script computes: MicroPython's VM hook at backward jumps and returns,
// with a divisor (bmp_glue.h: the clock is read every 64th time, a poll runs at most once
// a millisecond).
extern unsigned int bmp_vm_hook_countdown;
void bmp_vm_hook(void);
#define MICROPY_VM_HOOK_LOOP if (--bmp_vm_hook_countdown == 0) { bmp_vm_hook(); }
#define MICROPY_VM_HOOK_RETURN MICROPY_VM_HOOK_LOOP
