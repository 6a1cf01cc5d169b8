//! The `target` module: the debug engine as a Python API, with the original probe's names.
//! Functions whose issue has not landed raise NotImplementedError.

use crate::mpy::{Obj, object, print};
use crate::placeholder_var as placeholder;

const HELP: &str = "\
scan target:
 jtag_scan(assert_srst: bool, ir_len: list)
 swdp_scan(assert_srst: bool)
attach/detach target:
 attach(n: int) -- n counts from 1, as in the scan list
 detach()
 reattach()
 attached()
 driver_name()
 core_name()
 check_error()
memory access:
 mem_map()
 mem_map_xml()
 mem_read(dst: bytearray, src: int)
 mem_write(dst: int, src: bytearray)
flash memory access:
 flash_erase(addr: int, len: int)
 flash_write(dst: int, src: bytearray)
 flash_done()
register access:
 tdesc_xml()
 regs_size()
 regs_read(data: bytearray)
 regs_write(data: bytearray)
 reg_read(reg: int, data: bytearray)
 reg_write(reg: int, data: bytearray)
halt/resume:
 reset() -- reset the target
 halt_request()
 halt_poll() -- returns tuple (halt_code: int, halt_reason: str, watchpoint_address: int)
 halt_resume(step: bool)
semihosting:
 cmdline(cmdline: str) -- set command line args
 heapsize(heapsize: list) -- set heap/stack in crt0.S
break/watchpoint:
 breakwatch_set(bw_type: int, addr: int, len: int)
 breakwatch_clear(bw_type: int, addr: int, len: int)
halt_poll() return value:
 HALT_RUNNING -- target not halted
 HALT_ERROR -- failed to read target status
 HALT_REQUEST
 HALT_STEPPING
 HALT_BREAKPOINT
 HALT_WATCHPOINT
 HALT_FAULT
breakpoint/watchpoint type:
 BREAK_SOFT
 BREAK_HARD
 WATCH_WRITE
 WATCH_READ
 WATCH_ACCESS
";

#[unsafe(no_mangle)]
pub extern "C" fn target_help(_: usize, _: *const Obj) -> Obj {
    print::console(HELP);
    object::NONE
}

placeholder!(target_jtag_scan, c"target.jtag_scan");
placeholder!(target_swdp_scan, c"target.swdp_scan");
placeholder!(target_attach, c"target.attach");
placeholder!(target_detach, c"target.detach");
placeholder!(target_reattach, c"target.reattach");
placeholder!(target_attached, c"target.attached");
placeholder!(target_driver_name, c"target.driver_name");
placeholder!(target_core_name, c"target.core_name");
placeholder!(target_check_error, c"target.check_error");
placeholder!(target_mem_map, c"target.mem_map");
placeholder!(target_mem_map_xml, c"target.mem_map_xml");
placeholder!(target_mem_read, c"target.mem_read");
placeholder!(target_mem_write, c"target.mem_write");
placeholder!(target_flash_erase, c"target.flash_erase");
placeholder!(target_flash_write, c"target.flash_write");
placeholder!(target_flash_done, c"target.flash_done");
placeholder!(target_tdesc_xml, c"target.tdesc_xml");
placeholder!(target_regs_size, c"target.regs_size");
placeholder!(target_regs_read, c"target.regs_read");
placeholder!(target_regs_write, c"target.regs_write");
placeholder!(target_reg_read, c"target.reg_read");
placeholder!(target_reg_write, c"target.reg_write");
placeholder!(target_reset, c"target.reset");
placeholder!(target_halt_request, c"target.halt_request");
placeholder!(target_halt_poll, c"target.halt_poll");
placeholder!(target_halt_resume, c"target.halt_resume");
placeholder!(target_cmdline, c"target.cmdline");
placeholder!(target_heapsize, c"target.heapsize");
placeholder!(target_breakwatch_set, c"target.breakwatch_set");
placeholder!(target_breakwatch_clear, c"target.breakwatch_clear");
