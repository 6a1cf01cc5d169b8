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

// MICROPY_VM_HOOK_LOOP and MICROPY_VM_HOOK_RETURN of bmp's boards, so the servers are
// served while a script computes: the VM counts down bmp_vm_hook_countdown at every
// backward jump and return, and at zero calls bmp_vm_hook(), which reads the clock and runs
// bmp_event_hook() when BMP_VM_HOOK_PERIOD_MS have passed since its last run. A board
// writes (it cannot include this file from its mpconfig header):
//   extern unsigned int bmp_vm_hook_countdown;
//   void bmp_vm_hook(void);
//   #define MICROPY_VM_HOOK_LOOP if (--bmp_vm_hook_countdown == 0) { bmp_vm_hook(); }
//   #define MICROPY_VM_HOOK_RETURN MICROPY_VM_HOOK_LOOP
#define BMP_VM_HOOK_DIVISOR (64)
#define BMP_VM_HOOK_PERIOD_MS (1)
extern unsigned int bmp_vm_hook_countdown;
void bmp_vm_hook(void);

// Call fn(context) and return the exception it raised, or MP_OBJ_NULL.
// Rust must never call nlr_push itself (it returns twice).
mp_obj_t bmp_glue_call_protected(void (*fn)(void *context), void *context);

// True when Ctrl-C (or another pending exception) waits to be raised.
bool bmp_glue_interrupt_pending(void);

// The build date, MicroPython's version and the source's git tag, as one line.
const char *bmp_glue_build(void);

// Boards whose wire is a remote_bitbang link on a UART (qemu) provide these.
void bmp_board_link_write(const uint8_t *data, size_t length);
// A byte, or -1 after timeout_us without one.
int bmp_board_link_read(uint32_t timeout_us);

// Probe boards (BMP_CARGO_FEATURES=board-gpio): turn on the clocks of the GPIO ports the
// BMP_* pins of pins.csv are on; returns the board's pin map name (rust/pins boards.rs).
const char *bmp_board_gpio_init(void);

// Probe boards: CMSIS-DAP packets on the USB device (bmp_board_usb_dap.c), v2 on the vendor
// bulk interface or v1 on the HID interface, whichever the USB mode has. The packet size
// (0: the mode has neither); one command packet (its length, 0 if none waits, -1 if USB is
// not configured); one response packet (0 if queued, -1 if the last is still in flight).
size_t bmp_board_usb_dap_packet_size(void);
int bmp_board_usb_dap_receive(uint8_t *buffer, size_t size);
int bmp_board_usb_dap_transmit(const uint8_t *data, size_t length);

#endif // BMP_GLUE_H
