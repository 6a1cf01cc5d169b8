// What every stm32 probe board's mpconfigboard.h includes: its USB interfaces, and bmp's
// poll hooks.

// USB: two serial ports, named for the host (the REPL, the GDB server); CMSIS-DAP v2 on a
// vendor bulk interface (pyb.usb_mode('2xVCP+DAP'), micropython/patches/0004) and v1 over HID
// (pyb.usb_mode('VCP+HID', hid=dap.hid_info)); hosts find both by "CMSIS-DAP" in the
// interface and product strings (docs/boards.md).
#define MICROPY_HW_USB_CDC_NUM      (2)
#define MICROPY_HW_USB_INTERFACE_CDC0_STRING "bmp REPL"
#define MICROPY_HW_USB_INTERFACE_CDC1_STRING "bmp GDB server"
#define MICROPY_HW_USB_DAP          (1)
#define MICROPY_HW_USB_INTERFACE_DAP_STRING "bmp CMSIS-DAP"
#define MICROPY_HW_USB_INTERFACE_HID_STRING "bmp CMSIS-DAP v1"
#define MICROPY_HW_USB_PRODUCT_FS_STRING "bmp CMSIS-DAP probe"
#define MICROPY_HW_USB_PRODUCT_HS_STRING "bmp CMSIS-DAP probe"

// The poll hooks, so the GDB and CMSIS-DAP servers answer while MicroPython waits (REPL
// input, time.sleep, UART and HID waits: MICROPY_EVENT_POLL_HOOK, patched in by
// micropython/patches/0005) and while a script computes (the VM hook, at most once a
// millisecond; modules/bmp/bmp_glue.h).
void bmp_event_hook(void);
#define MICROPY_INTERNAL_EVENT_HOOK bmp_event_hook()
extern unsigned int bmp_vm_hook_countdown;
void bmp_vm_hook(void);
#define MICROPY_VM_HOOK_LOOP if (--bmp_vm_hook_countdown == 0) { bmp_vm_hook(); }
#define MICROPY_VM_HOOK_RETURN MICROPY_VM_HOOK_LOOP
