// bmp firmware on qemu's mps2-an385: the qemu port's configuration plus bmp's event hook.
#include <mpconfigport.h>

// Poll bmp's servers while the REPL waits for input (micropython/patches/0002).
void bmp_event_hook(void);
#define MICROPY_INTERNAL_EVENT_HOOK bmp_event_hook()
