// The target module: the debug engine as a Python API.
// Functions are Rust (src/module_target.rs); names and constants follow the original probe.
#include "py/obj.h"
#include "py/builtin.h"
#include "py/runtime.h"
#include "py/stream.h"
#include "bmp_fun.h"

BMP_FUN_VAR(target_jtag_scan, 0, 2);
BMP_FUN_VAR(target_swdp_scan, 0, 1);
BMP_FUN_VAR(target_jtag_chain, 0, 0);
BMP_FUN_VAR(target_attach, 1, 1);
BMP_FUN_VAR(target_detach, 0, 0);
BMP_FUN_VAR(target_reattach, 0, 0);
BMP_FUN_VAR(target_attached, 0, 0);
BMP_FUN_VAR(target_driver_name, 0, 0);
BMP_FUN_VAR(target_core_name, 0, 0);
BMP_FUN_VAR(target_check_error, 0, 0);
BMP_FUN_VAR(target_mem_map, 0, 0);
BMP_FUN_VAR(target_mem_map_xml, 0, 0);
BMP_FUN_VAR(target_mem_read, 2, 2);
BMP_FUN_VAR(target_mem_write, 2, 2);
BMP_FUN_VAR(target_rtt_read, 1, 2);
BMP_FUN_VAR(target_rtt_write, 1, 2);
BMP_FUN_VAR(target_flash_erase, 2, 2);
BMP_FUN_VAR(target_flash_write, 2, 2);
BMP_FUN_VAR(target_flash_done, 0, 0);
BMP_FUN_VAR(target_monitor, 1, 1);
BMP_FUN_VAR(target_monitor_commands, 0, 0);
BMP_FUN_VAR(target_tdesc_xml, 0, 0);
BMP_FUN_VAR(target_regs_size, 0, 0);
BMP_FUN_VAR(target_regs_read, 1, 1);
BMP_FUN_VAR(target_regs_write, 1, 1);
BMP_FUN_VAR(target_reg_read, 2, 2);
BMP_FUN_VAR(target_reg_write, 2, 2);
BMP_FUN_VAR(target_reset, 0, 2);
BMP_FUN_VAR(target_halt_request, 0, 0);
BMP_FUN_VAR(target_halt_poll, 0, 0);
BMP_FUN_VAR(target_halt_resume, 0, 1);
BMP_FUN_VAR(target_cmdline, 1, 1);
BMP_FUN_VAR(target_heapsize, 1, 1);
BMP_FUN_VAR(target_breakwatch_set, 3, 3);
BMP_FUN_VAR(target_breakwatch_clear, 3, 3);
BMP_FUN_VAR(target_help, 0, 0);
BMP_FUN_VAR(target_sequences, 1, 2);
BMP_FUN_VAR(target_debugvars, 0, 1);
BMP_FUN_VAR(target_run_sequence, 1, 1);
BMP_FUN_VAR(target_sequence_log, 0, 0);

// flash_algorithm(path or bytes or dict or None, ...): a path is read in pieces by the
// Rust side (bmp_call_file_*).
BMP_FUN_VAR(target_flash_algorithm, 0, 4);

static const mp_rom_map_elem_t target_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_target) },
    BMP_ENTRY(MP_QSTR_jtag_scan, target_jtag_scan),
    BMP_ENTRY(MP_QSTR_swdp_scan, target_swdp_scan),
    BMP_ENTRY(MP_QSTR_jtag_chain, target_jtag_chain),
    BMP_ENTRY(MP_QSTR_attach, target_attach),
    BMP_ENTRY(MP_QSTR_detach, target_detach),
    BMP_ENTRY(MP_QSTR_reattach, target_reattach),
    BMP_ENTRY(MP_QSTR_attached, target_attached),
    BMP_ENTRY(MP_QSTR_driver_name, target_driver_name),
    BMP_ENTRY(MP_QSTR_core_name, target_core_name),
    BMP_ENTRY(MP_QSTR_check_error, target_check_error),
    BMP_ENTRY(MP_QSTR_mem_map, target_mem_map),
    BMP_ENTRY(MP_QSTR_mem_map_xml, target_mem_map_xml),
    BMP_ENTRY(MP_QSTR_mem_read, target_mem_read),
    BMP_ENTRY(MP_QSTR_mem_write, target_mem_write),
    BMP_ENTRY(MP_QSTR_rtt_read, target_rtt_read),
    BMP_ENTRY(MP_QSTR_rtt_write, target_rtt_write),
    BMP_ENTRY(MP_QSTR_flash_erase, target_flash_erase),
    BMP_ENTRY(MP_QSTR_flash_write, target_flash_write),
    BMP_ENTRY(MP_QSTR_flash_done, target_flash_done),
    BMP_ENTRY(MP_QSTR_monitor, target_monitor),
    BMP_ENTRY(MP_QSTR_monitor_commands, target_monitor_commands),
    BMP_ENTRY(MP_QSTR_tdesc_xml, target_tdesc_xml),
    BMP_ENTRY(MP_QSTR_regs_size, target_regs_size),
    BMP_ENTRY(MP_QSTR_regs_read, target_regs_read),
    BMP_ENTRY(MP_QSTR_regs_write, target_regs_write),
    BMP_ENTRY(MP_QSTR_reg_read, target_reg_read),
    BMP_ENTRY(MP_QSTR_reg_write, target_reg_write),
    BMP_ENTRY(MP_QSTR_reset, target_reset),
    BMP_ENTRY(MP_QSTR_halt_request, target_halt_request),
    BMP_ENTRY(MP_QSTR_halt_poll, target_halt_poll),
    BMP_ENTRY(MP_QSTR_halt_resume, target_halt_resume),
    BMP_ENTRY(MP_QSTR_cmdline, target_cmdline),
    BMP_ENTRY(MP_QSTR_heapsize, target_heapsize),
    BMP_ENTRY(MP_QSTR_breakwatch_set, target_breakwatch_set),
    BMP_ENTRY(MP_QSTR_breakwatch_clear, target_breakwatch_clear),
    BMP_ENTRY(MP_QSTR_help, target_help),
    BMP_ENTRY(MP_QSTR_flash_algorithm, target_flash_algorithm),
    BMP_ENTRY(MP_QSTR_sequences, target_sequences),
    BMP_ENTRY(MP_QSTR_debugvars, target_debugvars),
    BMP_ENTRY(MP_QSTR_run_sequence, target_run_sequence),
    BMP_ENTRY(MP_QSTR_sequence_log, target_sequence_log),

    // halt_poll() reasons
    { MP_ROM_QSTR(MP_QSTR_HALT_RUNNING), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR_HALT_ERROR), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR_HALT_REQUEST), MP_ROM_INT(2) },
    { MP_ROM_QSTR(MP_QSTR_HALT_STEPPING), MP_ROM_INT(3) },
    { MP_ROM_QSTR(MP_QSTR_HALT_BREAKPOINT), MP_ROM_INT(4) },
    { MP_ROM_QSTR(MP_QSTR_HALT_WATCHPOINT), MP_ROM_INT(5) },
    { MP_ROM_QSTR(MP_QSTR_HALT_FAULT), MP_ROM_INT(6) },

    // breakwatch_set() types, numbered as GDB's Z0..Z4
    { MP_ROM_QSTR(MP_QSTR_BREAK_SOFT), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR_BREAK_HARD), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR_WATCH_WRITE), MP_ROM_INT(2) },
    { MP_ROM_QSTR(MP_QSTR_WATCH_READ), MP_ROM_INT(3) },
    { MP_ROM_QSTR(MP_QSTR_WATCH_ACCESS), MP_ROM_INT(4) },
};
static MP_DEFINE_CONST_DICT(target_module_globals, target_module_globals_table);

const mp_obj_module_t target_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&target_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_target, target_module);
