// bmp: C helpers for the Rust library: the exception trampoline and the event hook.
#include "py/runtime.h"
#include "py/mphal.h"
#include "bmp_glue.h"
#include "genhdr/mpversion.h"

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

static void run_loop(void *loop) {
    ((void (*)(void))loop)();
}

// A poll step must not raise into whatever the port was doing; the servers catch their own
// errors, so anything that arrives here is a bug, reported and dropped.
static void run_loop_protected(void (*loop)(void)) {
    mp_obj_t exception = bmp_glue_call_protected(run_loop, (void *)loop);
    if (exception != MP_OBJ_NULL) {
        mp_printf(MICROPY_ERROR_PRINTER, "bmp: poll step failed: ");
        mp_obj_print_exception(MICROPY_ERROR_PRINTER, exception);
    }
}

void bmp_event_hook(void) {
    run_loop_protected(bmp_loop);
    run_loop_protected(dap_loop);
}

// The VM hook's divisor: reading the clock at every backward jump would cost more than
// the poll. Threads of the unix port share the count; a lost decrement only delays a poll.
unsigned int bmp_vm_hook_countdown = BMP_VM_HOOK_DIVISOR;
static mp_uint_t bmp_vm_hook_last_ms;

void bmp_vm_hook(void) {
    bmp_vm_hook_countdown = BMP_VM_HOOK_DIVISOR;
    mp_uint_t now = mp_hal_ticks_ms();
    if ((mp_uint_t)(now - bmp_vm_hook_last_ms) >= BMP_VM_HOOK_PERIOD_MS) {
        bmp_vm_hook_last_ms = now;
        bmp_event_hook();
    }
}

// A KeyboardInterrupt (or another scheduled exception) is waiting to be raised.
bool bmp_glue_interrupt_pending(void) {
    return MP_STATE_THREAD(mp_pending_exception) != MP_OBJ_NULL;
}

// bmp.help()'s first line: when and from what this firmware was built (the banner's date;
// the source is MicroPython's git tag, or bmp's commit when MicroPython is not a checkout).
const char *bmp_glue_build(void) {
    return MICROPY_BUILD_DATE " (MicroPython " MICROPY_VERSION_STRING ", source " MICROPY_GIT_TAG ")";
}
