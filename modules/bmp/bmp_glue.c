// bmp: C helpers for the Rust library: the exception trampoline and the event hook.
#include "py/runtime.h"
#include "py/mphal.h"
#include "bmp_glue.h"

// src/mpy/object.rs encodes objects for representation A with immediate objects.
_Static_assert(MICROPY_OBJ_REPR == MICROPY_OBJ_REPR_A, "bmp's Rust side expects MICROPY_OBJ_REPR_A");
_Static_assert(MICROPY_OBJ_IMMEDIATE_OBJS, "bmp's Rust side expects MICROPY_OBJ_IMMEDIATE_OBJS");

mp_obj_t bmp_glue_call_protected(void (*fn)(void *context), void *context) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        fn(context);
        nlr_pop();
        return MP_OBJ_NULL;
    }
    return MP_OBJ_FROM_PTR(nlr.ret_val);
}

static void bmp_poll_step_trampoline(void *context) {
    (void)context;
    bmp_poll_step();
}

void bmp_event_hook(void) {
    mp_obj_t exception = bmp_glue_call_protected(bmp_poll_step_trampoline, NULL);
    if (exception != MP_OBJ_NULL) {
        mp_printf(MICROPY_ERROR_PRINTER, "bmp: poll step failed: ");
        mp_obj_print_exception(MICROPY_ERROR_PRINTER, exception);
    }
}
