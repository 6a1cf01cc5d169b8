// The bmp module: a GDB server on any MicroPython stream or TCP port.
// Keyword arguments are parsed here; the functions are Rust (src/module_bmp.rs).
#include "py/runtime.h"
#include "bmp_fun.h"

// bmp.init(stream=None, tcp=0, host=None)
mp_obj_t bmp_start(mp_obj_t stream, mp_int_t tcp, mp_obj_t host);
static mp_obj_t bmp_init(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_stream, ARG_tcp, ARG_host };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_stream, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_tcp, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_host, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    return bmp_start(args[ARG_stream].u_obj, args[ARG_tcp].u_int, args[ARG_host].u_obj);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(bmp_init_obj, 0, bmp_init);

// bmp.traceswo(uart=None, chan=None)
mp_obj_t bmp_traceswo_with(mp_obj_t uart, mp_obj_t channels);
static mp_obj_t bmp_traceswo(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_uart, ARG_chan };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_uart, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_chan, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    return bmp_traceswo_with(args[ARG_uart].u_obj, args[ARG_chan].u_obj);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(bmp_traceswo_obj, 0, bmp_traceswo);

// bmp.tracebuf(cb=None, ena=None)
mp_obj_t bmp_tracebuf_with(mp_obj_t descriptor, mp_obj_t enable);
static mp_obj_t bmp_tracebuf(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_cb, ARG_ena };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_cb, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_ena, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    return bmp_tracebuf_with(args[ARG_cb].u_obj, args[ARG_ena].u_obj);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(bmp_tracebuf_obj, 0, bmp_tracebuf);

// bmp.rtt(ena=True, stream=None, tcp=0, host=None, fun=None, cblock=None)
mp_obj_t bmp_rtt_with(mp_obj_t enable, mp_obj_t stream, mp_int_t tcp, mp_obj_t host, mp_obj_t function, mp_obj_t address);
static mp_obj_t bmp_rtt(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_ena, ARG_stream, ARG_tcp, ARG_host, ARG_fun, ARG_cblock };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_ena, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_TRUE} },
        { MP_QSTR_stream, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_tcp, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_host, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_fun, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_cblock, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    return bmp_rtt_with(args[ARG_ena].u_obj, args[ARG_stream].u_obj, args[ARG_tcp].u_int,
        args[ARG_host].u_obj, args[ARG_fun].u_obj, args[ARG_cblock].u_obj);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(bmp_rtt_obj, 0, bmp_rtt);

BMP_FUN_VAR(bmp_deinit, 0, 0);
BMP_FUN_VAR(bmp_poll, 0, 0);
BMP_FUN_VAR(bmp_disp_fun, 1, 1);
BMP_FUN_VAR(bmp_repl_fun, 1, 1);
BMP_FUN_VAR(bmp_debug, 0, 0);
BMP_FUN_VAR(bmp_help, 0, 0);
BMP_FUN_VAR(bmp_pinout, 0, 0);

static const mp_rom_map_elem_t bmp_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_bmp) },
    BMP_ENTRY(MP_QSTR_init, bmp_init),
    BMP_ENTRY(MP_QSTR_deinit, bmp_deinit),
    BMP_ENTRY(MP_QSTR_poll, bmp_poll),
    BMP_ENTRY(MP_QSTR_traceswo, bmp_traceswo),
    BMP_ENTRY(MP_QSTR_tracebuf, bmp_tracebuf),
    BMP_ENTRY(MP_QSTR_rtt, bmp_rtt),
    BMP_ENTRY(MP_QSTR_disp_fun, bmp_disp_fun),
    BMP_ENTRY(MP_QSTR_repl_fun, bmp_repl_fun),
    BMP_ENTRY(MP_QSTR_debug, bmp_debug),
    BMP_ENTRY(MP_QSTR_help, bmp_help),
    BMP_ENTRY(MP_QSTR_pinout, bmp_pinout),
};
static MP_DEFINE_CONST_DICT(bmp_module_globals, bmp_module_globals_table);

const mp_obj_module_t bmp_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&bmp_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_bmp, bmp_module);
