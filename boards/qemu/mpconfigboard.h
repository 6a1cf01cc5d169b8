// bmp firmware on qemu's mps2-an385: the qemu port's configuration plus bmp's event hook.
#include <mpconfigport.h>

// The time module, on the board's dual timer (board_time.c).
#undef MICROPY_PY_TIME
#define MICROPY_PY_TIME (1)

// Poll bmp's servers while the REPL waits for input (micropython/patches/0002) and while
// sleeping (board_time.c).
void bmp_event_hook(void);
#define MICROPY_INTERNAL_EVENT_HOOK bmp_event_hook()
