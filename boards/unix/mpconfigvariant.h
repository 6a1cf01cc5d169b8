// bmp host probe: the unix port's standard features plus bmp's event hook.
#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

// Poll bmp's servers from the event loop, while the REPL waits for a key and in
// time.sleep() (micropython/patches/0001).
void bmp_event_hook(void);
#define MICROPY_INTERNAL_EVENT_HOOK bmp_event_hook()
#define MICROPY_UNIX_STDIN_IDLE_HOOK (1)

#include "ports/unix/variants/mpconfigvariant_common.h"
