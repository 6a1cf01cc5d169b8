// bmp: what the C glue and the Rust library (the repository's root package) share.
#ifndef BMP_GLUE_H
#define BMP_GLUE_H

#include "py/obj.h"

// Rust signatures of module functions (see MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN / _KW).
typedef mp_obj_t (*bmp_fun_var_t)(size_t n_args, const mp_obj_t *args);
typedef mp_obj_t (*bmp_fun_kw_t)(size_t n_args, const mp_obj_t *args, mp_map_t *kw_args);

// One poll step of the GDB server and of the CMSIS-DAP server (Rust, src/poll.rs).
void bmp_loop(void);
void dap_loop(void);

// MICROPY_INTERNAL_EVENT_HOOK of bmp's boards: bmp_loop() then dap_loop().
void bmp_event_hook(void);

// Call fn(context) and return the exception it raised, or MP_OBJ_NULL.
// Rust must never call nlr_push itself (it returns twice).
mp_obj_t bmp_glue_call_protected(void (*fn)(void *context), void *context);

// True when Ctrl-C (or another pending exception) waits to be raised.
bool bmp_glue_interrupt_pending(void);

// Boards whose wire is a remote_bitbang link on a UART (qemu) provide these.
void bmp_board_link_write(const uint8_t *data, size_t length);
// A byte, or -1 after timeout_us without one.
int bmp_board_link_read(uint32_t timeout_us);

#endif // BMP_GLUE_H
