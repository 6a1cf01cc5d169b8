// The bmp module: a GDB server on any MicroPython stream or TCP port.
// Functions are Rust (src/module_bmp.rs).
#include "py/obj.h"
#include "bmp_fun.h"

BMP_FUN_KW(bmp_init, 0);
BMP_FUN_VAR(bmp_deinit, 0, 0);
BMP_FUN_VAR(bmp_poll, 0, 0);
BMP_FUN_KW(bmp_traceswo, 0);
BMP_FUN_KW(bmp_tracebuf, 0);
BMP_FUN_VAR(bmp_disp_fun, 1, 1);
BMP_FUN_VAR(bmp_repl_fun, 1, 1);
BMP_FUN_VAR(bmp_debug, 0, 0);
BMP_FUN_VAR(bmp_help, 0, 0);

static const mp_rom_map_elem_t bmp_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_bmp) },
    BMP_ENTRY(MP_QSTR_init, bmp_init),
    BMP_ENTRY(MP_QSTR_deinit, bmp_deinit),
    BMP_ENTRY(MP_QSTR_poll, bmp_poll),
    BMP_ENTRY(MP_QSTR_traceswo, bmp_traceswo),
    BMP_ENTRY(MP_QSTR_tracebuf, bmp_tracebuf),
    BMP_ENTRY(MP_QSTR_disp_fun, bmp_disp_fun),
    BMP_ENTRY(MP_QSTR_repl_fun, bmp_repl_fun),
    BMP_ENTRY(MP_QSTR_debug, bmp_debug),
    BMP_ENTRY(MP_QSTR_help, bmp_help),
};
static MP_DEFINE_CONST_DICT(bmp_module_globals, bmp_module_globals_table);

const mp_obj_module_t bmp_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&bmp_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_bmp, bmp_module);
