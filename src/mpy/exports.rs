//! Every function the C glue (modules/bmp/*.c) calls, under its C name. The modules'
//! functions are safe Rust: this is where MicroPython's calling convention (a count and a
//! pointer to the positional arguments) becomes `Arguments`, and the only place a symbol
//! is exported (`no_mangle` counts as unsafe code).

use super::argument::Arguments;
use super::object::Obj;
use super::sys;

/// `mp_obj_t NAME(size_t n_args, const mp_obj_t *args)` for `crate::MODULE::NAME`.
macro_rules! positional {
    ($($module:ident :: $name:ident),* $(,)?) => {$(
        /// # Safety
        /// MicroPython calls it with `n` positional arguments at `arguments`.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(n: usize, arguments: *const sys::mp_obj_t) -> Obj {
            // SAFETY: MicroPython's convention for a function object's C function
            // (mp_fun_var_t); `Arguments` does not outlive this call.
            crate::$module::$name(unsafe { Arguments::from_raw(n, arguments) })
        }
    )*};
}

positional! {
    module_bmp::bmp_help,
    module_bmp::bmp_pinout,
    module_bmp::bmp_poll,
    module_bmp::bmp_deinit,
    module_bmp::bmp_repl_fun,
    module_bmp::bmp_disp_fun,
    module_bmp::bmp_debug,
    module_dap::dap_help,
    module_dap::dap_deinit,
    module_dap::dap_process,
    module_target::target_help,
    module_target::target_swdp_scan,
    module_target::target_jtag_scan,
    module_target::target_jtag_chain,
    module_target::target_attach,
    module_target::target_detach,
    module_target::target_reattach,
    module_target::target_attached,
    module_target::target_driver_name,
    module_target::target_core_name,
    module_target::target_check_error,
    module_target::target_mem_map,
    module_target::target_mem_map_xml,
    module_target::target_mem_read,
    module_target::target_mem_write,
    module_target::target_rtt_read,
    module_target::target_rtt_write,
    module_target::target_flash_erase,
    module_target::target_flash_write,
    module_target::target_flash_done,
    module_target::target_monitor,
    module_target::target_monitor_commands,
    module_target::target_tdesc_xml,
    module_target::target_regs_size,
    module_target::target_regs_read,
    module_target::target_regs_write,
    module_target::target_reg_read,
    module_target::target_reg_write,
    module_target::target_reset,
    module_target::target_halt_request,
    module_target::target_halt_poll,
    module_target::target_halt_resume,
    module_target::target_cmdline,
    module_target::target_heapsize,
    module_target::target_breakwatch_set,
    module_target::target_breakwatch_clear,
    module_target::target_flash_algorithm,
    module_target::target_sequences,
    module_target::target_debugvars,
    module_target::target_run_sequence,
    module_target::target_sequence_log,
}

// Functions with keyword arguments: the C glue parses them and passes objects and ints.

#[unsafe(no_mangle)]
pub extern "C" fn bmp_start(stream: Obj, tcp: sys::mp_int_t, host: Obj) -> Obj {
    crate::module_bmp::bmp_start(stream, tcp, host)
}

#[unsafe(no_mangle)]
pub extern "C" fn bmp_tracebuf_with(descriptor: Obj, enable: Obj) -> Obj {
    crate::module_bmp::bmp_tracebuf_with(descriptor, enable)
}

#[unsafe(no_mangle)]
pub extern "C" fn bmp_traceswo_with(uart: Obj, channels: Obj) -> Obj {
    crate::module_bmp::bmp_traceswo_with(uart, channels)
}

#[unsafe(no_mangle)]
pub extern "C" fn bmp_rtt_with(
    enable: Obj,
    stream: Obj,
    tcp: sys::mp_int_t,
    host: Obj,
    function: Obj,
    address: Obj,
) -> Obj {
    crate::module_bmp::bmp_rtt_with(enable, stream, tcp, host, function, address)
}

#[unsafe(no_mangle)]
pub extern "C" fn dap_start(tcp: sys::mp_int_t, host: Obj, packet_size: sys::mp_int_t) -> Obj {
    crate::module_dap::dap_start(tcp, host, packet_size)
}

#[unsafe(no_mangle)]
pub extern "C" fn dap_calibrate_with(cal: Obj, delay: sys::mp_int_t) -> Obj {
    crate::module_dap::dap_calibrate_with(cal, delay)
}

// The poll steps (MICROPY_INTERNAL_EVENT_HOOK through bmp_event_hook, bmp_glue.c).

#[unsafe(no_mangle)]
pub extern "C" fn bmp_loop() {
    crate::poll::bmp_loop()
}

#[unsafe(no_mangle)]
pub extern "C" fn dap_loop() {
    crate::poll::dap_loop()
}
