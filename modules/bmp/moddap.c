// The dap module: a CMSIS-DAP probe. Functions are Rust (src/module_dap.rs).
#include "py/runtime.h"
#include "py/objstr.h"
#include "py/objtuple.h"
#include "bmp_fun.h"

// dap.init(tcp=0, host=None, packet_size=1024): keyword arguments parsed here, the work
// done in Rust.
mp_obj_t dap_start(mp_int_t tcp, mp_obj_t host, mp_int_t packet_size);
static mp_obj_t dap_init(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_tcp, ARG_host, ARG_packet_size };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_tcp, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_host, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_packet_size, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 1024} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    return dap_start(args[ARG_tcp].u_int, args[ARG_host].u_obj, args[ARG_packet_size].u_int);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(dap_init_obj, 0, dap_init);
BMP_FUN_VAR(dap_deinit, 0, 0);
BMP_FUN_VAR(dap_process, 2, 2);
// dap.calibrate(), dap.calibrate(cal=(a, b)), dap.calibrate(delay=n): parsed here.
mp_obj_t dap_calibrate_with(mp_obj_t cal, mp_int_t delay);
static mp_obj_t dap_calibrate(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_cal, ARG_delay };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_cal, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_delay, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = -1} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_obj_t result = dap_calibrate_with(args[ARG_cal].u_obj, args[ARG_delay].u_int);
    // calibrate(delay=) returns when Ctrl-C is pending: raise it now.
    mp_handle_pending(true);
    return result;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(dap_calibrate_obj, 0, dap_calibrate);
BMP_FUN_VAR(dap_help, 0, 0);

// USB HID report descriptor of CMSIS-DAP v1 (HID 1.11 section 6.2.2): vendor usage page,
// 64-byte input and output reports, a 1-byte feature report.
static const uint8_t dap_hid_report_descriptor[] = {
    0x06, 0x00, 0xff, // Usage Page (Vendor Defined 0xFF00)
    0x09, 0x01,       // Usage (0x01)
    0xa1, 0x01,       // Collection (Application)
    0x15, 0x00,       //   Logical Minimum (0)
    0x26, 0xff, 0x00, //   Logical Maximum (255)
    0x75, 0x08,       //   Report Size (8)
    0x95, 0x40,       //   Report Count (64)
    0x09, 0x01,       //   Usage (0x01)
    0x81, 0x02,       //   Input (Data, Variable, Absolute)
    0x95, 0x40,       //   Report Count (64)
    0x09, 0x01,       //   Usage (0x01)
    0x91, 0x02,       //   Output (Data, Variable, Absolute)
    0x95, 0x01,       //   Report Count (1)
    0x09, 0x01,       //   Usage (0x01)
    0xb1, 0x02,       //   Feature (Data, Variable, Absolute)
    0xc0,             // End Collection
};
static const MP_DEFINE_BYTES_OBJ(dap_hid_report_descriptor_obj, dap_hid_report_descriptor, sizeof(dap_hid_report_descriptor));

// pyb.usb_mode(..., hid=dap.hid_info): (subclass, protocol, max packet, interval ms, report descriptor)
static const mp_rom_obj_tuple_t dap_hid_info_obj = {
    .base = { &mp_type_tuple },
    .len = 5,
    .items = {
        MP_ROM_INT(0),
        MP_ROM_INT(0),
        MP_ROM_INT(64),
        MP_ROM_INT(1),
        MP_ROM_PTR(&dap_hid_report_descriptor_obj),
    },
};

static const mp_rom_map_elem_t dap_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_dap) },
    BMP_ENTRY(MP_QSTR_init, dap_init),
    BMP_ENTRY(MP_QSTR_deinit, dap_deinit),
    BMP_ENTRY(MP_QSTR_process, dap_process),
    BMP_ENTRY(MP_QSTR_calibrate, dap_calibrate),
    BMP_ENTRY(MP_QSTR_help, dap_help),
    { MP_ROM_QSTR(MP_QSTR_hid_info), MP_ROM_PTR(&dap_hid_info_obj) },
};
static MP_DEFINE_CONST_DICT(dap_module_globals, dap_module_globals_table);

const mp_obj_module_t dap_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&dap_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_dap, dap_module);
