//! The `target` module: the debug engine as a Python API, with the original probe's names.
//!
//! Each function converts its arguments (raising on bad ones), runs the session inside
//! `probe::with`, and only after that has returned builds the result or raises. Buffers
//! are copied through the stack in chunks (`CHUNK`), never borrowed from Python.
#![forbid(unsafe_code)]

use crate::mpy::argument::{self, Arguments, Bytes, BytesMut};
use crate::mpy::exception::{Kind, raise, raise_display, raise_with_text};
use crate::mpy::object::{Dict, List};
use crate::mpy::text::FixedText;
use crate::mpy::{Obj, object, print};
use crate::probe::{self, Failure};
use core::fmt::Write;
use debug::{BreakWatch, Feature, HaltReason, HaltStatus, MAX_TARGETS};

const HELP: &str = "\
scan target:
 jtag_scan(assert_srst: bool, ir_len: list) -- returns the list of targets found
 swdp_scan(assert_srst: bool) -- returns the list of targets found
 jtag_chain() -- devices of the last jtag scan: [(idcode, ir_len), ...] from TDO
attach/detach target:
 attach(n: int) -- n counts from 1, as in the scan list
 detach()
 reattach()
 attached() -- True if a target is attached
 driver_name()
 core_name()
 check_error() -- True if an access failed since the last check
memory access:
 mem_map() -- list of dicts: memory_type, start, length (and blocksize for flash)
 mem_map_xml()
 mem_read(dst: bytearray, src: int) -- fills dst from target address src
 mem_write(dst: int, src: bytes)
flash memory access:
 flash_erase(addr: int, len: int)
 flash_write(dst: int, src: bytes) -- any address and length
 flash_done() -- programs what is buffered
 flash_algorithm(algorithm, ram_start=None, ram_size=None, slack_ms=None) -- use a
   flash algorithm (an FLM's bytes or path, a probe-rs algorithm dict, None to stop)
chip commands (gdb's 'monitor' for the attached chip's family):
 monitor(command: str) -- e.g. monitor('option erase'); returns the text it printed
 monitor_commands() -- list of (name, arguments, help)
CMSIS-Pack debug sequences (tools/pack writes them; pack.load(dir) loads a whole device):
 sequences(text, processor='') -- use a device's sequences and debugvars (None: built-in
   steps again); returns the names of its sequences
 debugvars(overrides=None) -- override debugvars ('name = value;'); returns them all
 run_sequence(name) -- run a sequence now (the description's or the standard one)
 sequence_log() -- what the sequences said since the last call
RTT (the target keeps running):
 rtt_read(dst: bytearray, chan=0) -- bytes up channel chan holds now; returns the count
 rtt_write(src: bytes, chan=0) -- into down channel chan, what has room; returns the count
register access:
 tdesc_xml()
 regs_size()
 regs_read(data: bytearray)
 regs_write(data: bytes)
 reg_read(reg: int, data: bytearray) -- 4 bytes; d0-d15 (23..38, FPU) 8
 reg_write(reg: int, data: bytes)
halt/resume:
 reset(halt: bool, kind='system') -- reset the target ('system' SYSRESETREQ, 'processor' VECTRESET, 'hardware' nRST; a device's sequences if loaded); with halt, stop at the reset vector
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
functions return 0 or None on success and raise an exception on failure.
";

/// Raise the exception that fits a failure.
pub fn fail(failure: Failure) -> ! {
    match failure {
        Failure::Busy => raise(
            Kind::Runtime,
            c"the probe is busy (called from inside a probe operation)",
        ),
        Failure::NoWire(reason) => raise_display(Kind::OS, &reason),
        Failure::WireInUse(message) => raise_display(Kind::Runtime, &message),
        Failure::ResetStuck => raise_display(Kind::OS, &Failure::ResetStuck),
        Failure::File(errno) => raise_display(Kind::OS, &Failure::File(errno)),
        Failure::Session(error) => match python_advice(&error) {
            Some(text) => raise_display(probe::exception_kind(&error), &text),
            None => raise_display(probe::exception_kind(&error), &error),
        },
    }
}

/// A missing scan or attach in Python words: the calls that fix it (the engine names none).
fn python_advice(error: &debug::Error) -> Option<&'static str> {
    match error {
        debug::Error::NotScanned => {
            Some("no scan yet: run target.swdp_scan() or target.jtag_scan()")
        }
        debug::Error::NotAttached => {
            Some("no target attached: run target.swdp_scan() and target.attach(1)")
        }
        _ => None,
    }
}

/// RuntimeError naming the Cargo feature when this build left a subsystem out (a board
/// that must fit its flash). Inlined, so the check is a constant at each call and nothing
/// after it is linked into such a build.
#[inline(always)]
fn require(feature: Feature) {
    if !feature.built() {
        not_built(feature);
    }
}

#[cold]
fn not_built(feature: Feature) -> ! {
    fail(Failure::Session(debug::Error::NotBuilt(feature)))
}

pub fn unwrap<R>(result: Result<R, Failure>) -> R {
    match result {
        Ok(value) => value,
        Err(failure) => fail(failure),
    }
}

pub fn target_help(_: Arguments) -> Obj {
    print::console(HELP);
    object::NONE
}

/// The scan list: "<driver> <core>" per target.
fn scan_result(names: [Option<(&'static str, &'static str)>; MAX_TARGETS]) -> Obj {
    let list = List::new();
    for (driver, core) in names.into_iter().flatten() {
        let mut text = FixedText::<64>::new();
        let _ = write!(text, "{driver} {core}");
        list.append(object::str(
            core::str::from_utf8(text.as_bytes()).unwrap_or(driver),
        ));
    }
    list.object()
}

pub fn target_swdp_scan(arguments: Arguments) -> Obj {
    let assert_reset = arguments.get(0).is_some_and(argument::truth);
    scan_result(unwrap(probe::with(|probe| probe.swdp_scan(assert_reset))))
}

pub fn target_jtag_scan(arguments: Arguments) -> Obj {
    let assert_reset = arguments.get(0).is_some_and(argument::truth);
    let mut ir_lengths = [0u8; 8];
    let mut count = 0;
    if let Some(list) = arguments.get(1) {
        let items = argument::sequence::<8>(list, c"ir_len", c"ir_len: at most 8 devices");
        let items = items.as_slice();
        for (slot, &item) in ir_lengths.iter_mut().zip(items) {
            let length = argument::count(item, c"ir_len entry");
            if !(2..=32).contains(&length) {
                raise(Kind::Value, c"ir_len entries must be between 2 and 32");
            }
            *slot = length as u8;
        }
        count = items.len();
    }
    scan_result(unwrap(probe::with(|probe| {
        probe.jtag_scan(assert_reset, &ir_lengths[..count])
    })))
}

/// The devices of the last JTAG scan, nearest TDO first: [(idcode, ir_length), ...].
pub fn target_jtag_chain(_: Arguments) -> Obj {
    let chain = unwrap(probe::with(|probe| Ok(probe.jtag_chain)));
    let list = List::new();
    for (idcode, ir_length) in chain.into_iter().flatten() {
        let entry = [
            object::unsigned(idcode),
            object::small_int(ir_length as isize),
        ];
        list.append(object::tuple(&entry));
    }
    list.object()
}

pub fn target_attach(arguments: Arguments) -> Obj {
    let number = argument::count(arguments.at(0), c"n");
    unwrap(probe::session(|session| session.attach(number)));
    object::NONE
}

pub fn target_detach(_: Arguments) -> Obj {
    unwrap(probe::session(|session| {
        session.detach()?;
        // A Python session ends here as a gdb one ends at hang-up: with BMP_SIM_STATISTICS=1
        // the simulated wire's counters since the last report (tools/bench_gdb.py).
        #[cfg(feature = "host")]
        session.with_transport(|wire| crate::host::report_statistics(wire.pins()));
        Ok(())
    }));
    object::NONE
}

pub fn target_reattach(_: Arguments) -> Obj {
    unwrap(probe::session(|session| session.reattach()));
    object::NONE
}

pub fn target_attached(_: Arguments) -> Obj {
    object::bool(unwrap(probe::with(|probe| {
        Ok(probe.session.attached().is_some())
    })))
}

pub fn target_driver_name(_: Arguments) -> Obj {
    match unwrap(probe::with(|probe| {
        Ok(probe.session.attached().map(|target| target.driver_name()))
    })) {
        Some(name) => object::str(name),
        None => object::NONE,
    }
}

pub fn target_core_name(_: Arguments) -> Obj {
    match unwrap(probe::with(|probe| {
        Ok(probe.session.attached().map(|target| target.core_name()))
    })) {
        Some(name) => object::str(name),
        None => object::NONE,
    }
}

pub fn target_check_error(_: Arguments) -> Obj {
    object::bool(unwrap(probe::with(|probe| Ok(probe.take_error_flag()))))
}

pub fn target_mem_map(_: Arguments) -> Obj {
    let map = unwrap(probe::session(|session| session.memory_map()));
    let list = List::new();
    for region in map.regions() {
        let entry = Dict::new();
        match region.kind {
            chips::RegionKind::Ram => entry.store("memory_type", object::str("ram")),
            chips::RegionKind::Rom => entry.store("memory_type", object::str("rom")),
            chips::RegionKind::Flash(flash) => {
                entry.store("memory_type", object::str("flash"));
                entry.store("blocksize", object::unsigned(flash.block_size));
            }
        }
        entry.store("start", object::unsigned(region.start));
        entry.store("length", object::unsigned(region.length));
        list.append(entry.object());
    }
    list.object()
}

pub fn target_mem_map_xml(_: Arguments) -> Obj {
    let map = unwrap(probe::session(|session| session.memory_map()));
    let mut text = FixedText::<1024>::new();
    let _ = map.write_xml(&mut text);
    object::str(core::str::from_utf8(text.as_bytes()).unwrap_or(""))
}

/// Target memory and Python buffers meet through this much stack at a time.
const CHUNK: usize = 1024;

/// Call `work(offset, length)` for successive pieces of `[0, length)`, at least once (so
/// an empty buffer still reports "no target"); stop at the first error.
fn in_chunks(
    length: usize,
    mut work: impl FnMut(usize, usize) -> Result<(), debug::Error>,
) -> Result<(), debug::Error> {
    let mut offset = 0;
    loop {
        let piece = (length - offset).min(CHUNK);
        work(offset, piece)?;
        offset += piece;
        if offset >= length {
            return Ok(());
        }
    }
}

/// Raise ValueError if `length` bytes from `address` pass the end of the address space.
fn check_range(address: u32, length: usize, name: &core::ffi::CStr) {
    if u64::from(address) + length as u64 > 1 << 32 {
        raise_with_text(
            Kind::Value,
            c"%s: the range passes the end of the 32-bit address space",
            name.to_bytes(),
        );
    }
}

pub fn target_mem_read(arguments: Arguments) -> Obj {
    let destination = BytesMut::new(arguments.at(0), c"dst");
    let address = argument::unsigned32(arguments.at(1), c"src");
    let length = destination.len();
    check_range(address, length, c"src");
    unwrap(probe::session(|session| {
        let mut chunk = [0u8; CHUNK];
        in_chunks(length, |offset, piece| {
            session.read_memory(address + offset as u32, &mut chunk[..piece])?;
            destination.copy_in(offset, &chunk[..piece]);
            Ok(())
        })
    }));
    object::small_int(0)
}

pub fn target_mem_write(arguments: Arguments) -> Obj {
    let address = argument::unsigned32(arguments.at(0), c"dst");
    let source = Bytes::new(arguments.at(1), c"src");
    let length = source.len();
    check_range(address, length, c"dst");
    unwrap(probe::session(|session| {
        let mut chunk = [0u8; CHUNK];
        in_chunks(length, |offset, piece| {
            let piece = source.copy_out(offset, &mut chunk[..piece]);
            session.write_memory(address + offset as u32, &chunk[..piece])
        })
    }));
    object::small_int(0)
}

/// The optional RTT channel argument: 0 by default, 0..15.
fn rtt_channel(arguments: &Arguments, index: usize) -> u8 {
    let channel = arguments
        .get(index)
        .map_or(0, |object| argument::count(object, c"chan"));
    if channel >= debug::rtt::MAX_CHANNELS {
        raise(Kind::Value, c"chan must be 0..15");
    }
    channel as u8
}

/// target.rtt_read(dst, chan=0): what up channel `chan` of the RTT control block holds now,
/// into `dst`; returns the count. The target keeps running.
pub fn target_rtt_read(arguments: Arguments) -> Obj {
    let destination = BytesMut::new(arguments.at(0), c"dst");
    let channel = rtt_channel(&arguments, 1);
    let length = destination.len();
    let count = unwrap(probe::session(|session| {
        let mut chunk = [0u8; CHUNK];
        let mut count = 0;
        while count < length {
            let want = (length - count).min(CHUNK);
            let got = session.rtt_read(channel, &mut chunk[..want])?;
            destination.copy_in(count, &chunk[..got]);
            count += got;
            if got < want {
                break;
            }
        }
        if length == 0 {
            // Still find the block and check the channel: an empty read reports errors too.
            session.rtt_read(channel, &mut [])?;
        }
        Ok(count)
    }));
    object::small_int(count as isize)
}

/// target.rtt_write(src, chan=0): `src` into down channel `chan`, as much as has room now;
/// returns the count written.
pub fn target_rtt_write(arguments: Arguments) -> Obj {
    let source = Bytes::new(arguments.at(0), c"src");
    let channel = rtt_channel(&arguments, 1);
    let length = source.len();
    let count = unwrap(probe::session(|session| {
        let mut chunk = [0u8; CHUNK];
        let mut count = 0;
        loop {
            let piece = source.copy_out(count, &mut chunk[..(length - count).min(CHUNK)]);
            let written = session.rtt_write(channel, &chunk[..piece])?;
            count += written;
            if written < piece || count == length {
                return Ok(count);
            }
        }
    }));
    object::small_int(count as isize)
}

pub fn target_flash_erase(arguments: Arguments) -> Obj {
    let address = argument::unsigned32(arguments.at(0), c"addr");
    let length = argument::unsigned32(arguments.at(1), c"len");
    unwrap(probe::session(|session| {
        session.flash_erase(address, length)
    }));
    object::small_int(0)
}

pub fn target_flash_write(arguments: Arguments) -> Obj {
    let address = argument::unsigned32(arguments.at(0), c"dst");
    let source = Bytes::new(arguments.at(1), c"src");
    let length = source.len();
    check_range(address, length, c"dst");
    unwrap(probe::session(|session| {
        let mut chunk = [0u8; CHUNK];
        in_chunks(length, |offset, piece| {
            let piece = source.copy_out(offset, &mut chunk[..piece]);
            session.flash_write(address + offset as u32, &chunk[..piece])
        })
    }));
    object::small_int(0)
}

pub fn target_flash_done(_: Arguments) -> Obj {
    unwrap(probe::session(|session| session.flash_done()));
    object::small_int(0)
}

/// What a family command may print for `monitor()`; more is cut.
const MONITOR_OUTPUT: usize = 2048;

/// The attached chip's command, as gdb's `monitor` runs it: "name arguments".
pub fn target_monitor(arguments: Arguments) -> Obj {
    let line = argument::text::<256>(
        arguments.at(0),
        c"command",
        c"command is too long (at most 256 bytes)",
    );
    let line = core::str::from_utf8(line.as_bytes()).unwrap_or("").trim();
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let mut output = FixedText::<MONITOR_OUTPUT>::new();
    let known = unwrap(probe::session(|session| {
        session.attached().ok_or(debug::Error::NotAttached)?;
        let known = session
            .chip_commands()
            .iter()
            .any(|command| command.name == name);
        if known {
            session.chip_command(name, rest, &mut output)?;
        }
        Ok(known)
    }));
    if !known {
        let message =
            format_args!("no command '{name}' for this chip: target.monitor_commands() lists them");
        raise_display(Kind::Value, &message);
    }
    object::str(core::str::from_utf8(output.as_bytes()).unwrap_or(""))
}

/// The attached chip's commands: (name, arguments, help) each, as `monitor help` lists them.
pub fn target_monitor_commands(_: Arguments) -> Obj {
    let commands = unwrap(probe::session(|session| {
        session.attached().ok_or(debug::Error::NotAttached)?;
        Ok(session.chip_commands())
    }));
    let list = List::new();
    for command in commands {
        list.append(object::tuple(&[
            object::str(command.name),
            object::str(command.arguments),
            object::str(command.help),
        ]));
    }
    list.object()
}

pub fn target_tdesc_xml(_: Arguments) -> Obj {
    // Attached or not, as the memory map says; the description is the attached core's.
    let xml = unwrap(probe::session(|session| {
        session.memory_map()?;
        Ok(session.target_description())
    }));
    object::str(xml)
}

pub fn target_regs_size(_: Arguments) -> Obj {
    object::small_int(cortexm::REGISTER_BYTES as isize)
}

fn check_register_block(length: usize) {
    if length != cortexm::REGISTER_BYTES {
        let mut size = FixedText::<8>::new();
        let _ = write!(size, "{}", cortexm::REGISTER_BYTES);
        raise_with_text(
            Kind::Value,
            c"data must be regs_size() = %s bytes",
            size.as_bytes(),
        );
    }
}

pub fn target_regs_read(arguments: Arguments) -> Obj {
    let data = BytesMut::new(arguments.at(0), c"data");
    check_register_block(data.len());
    let mut values = [0u32; cortexm::REGISTER_COUNT];
    unwrap(probe::session(|session| {
        session.read_registers(&mut values)
    }));
    let mut block = [0u8; cortexm::REGISTER_BYTES];
    for (chunk, value) in block.chunks_exact_mut(4).zip(values) {
        chunk.copy_from_slice(&value.to_le_bytes());
    }
    data.copy_in(0, &block);
    object::NONE
}

pub fn target_regs_write(arguments: Arguments) -> Obj {
    let data = Bytes::new(arguments.at(0), c"data");
    check_register_block(data.len());
    let mut block = [0u8; cortexm::REGISTER_BYTES];
    data.copy_out(0, &mut block);
    let mut values = [0u32; cortexm::REGISTER_COUNT];
    for (value, chunk) in values.iter_mut().zip(block.chunks_exact(4)) {
        *value = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    unwrap(probe::session(|session| session.write_registers(&values)));
    object::NONE
}

/// GDB's register number and its size in bytes: 4 for 0..22; for 23..39 (the FPU's
/// d0-d15, 8 bytes, and fpscr) the attached core must have an FPU.
fn register_number(object: Obj) -> (usize, usize) {
    let number = argument::count(object, c"reg");
    if number > cortexm::LAST_REGISTER {
        raise(Kind::Value, c"reg must be a GDB register number 0..22 (r0-r12, sp, lr, pc, xpsr, msp, psp, primask, basepri, faultmask, control), 23..39 (d0-d15, fpscr) with an FPU, or an ARMv8-M core's banked stack pointers, stack limits and each security state's primask/basepri/faultmask/control after those (target.tdesc_xml() numbers them)");
    }
    if number < cortexm::REGISTER_COUNT {
        return (number, 4);
    }
    let size = unwrap(probe::session(|session| {
        session.attached().ok_or(debug::Error::NotAttached)?;
        Ok(session.register_size(number))
    }));
    match size {
        Some(size) => (number, size),
        None => raise(
            Kind::Value,
            c"this core has no such register: 23..39 (d0-d15, fpscr) need a core with an FPU; the ARMv8-M banked stack pointers, stack limits and special registers follow the FPU's registers (or control without an FPU) as target.tdesc_xml() numbers them; the Secure ones only while Secure debug is allowed",
        ),
    }
}

fn register_data_size_error(size: usize, exact: bool) -> ! {
    match (size, exact) {
        (8, false) => raise(Kind::Value, c"data must hold 8 bytes"),
        (8, true) => raise(Kind::Value, c"data must be 8 bytes"),
        (_, false) => raise(Kind::Value, c"data must hold 4 bytes"),
        (_, true) => raise(Kind::Value, c"data must be 4 bytes"),
    }
}

pub fn target_reg_read(arguments: Arguments) -> Obj {
    let (number, size) = register_number(arguments.at(0));
    let data = BytesMut::new(arguments.at(1), c"data");
    if data.len() < size {
        register_data_size_error(size, false);
    }
    let value = unwrap(probe::session(|session| session.read_register_wide(number)));
    data.copy_in(0, &value.to_le_bytes()[..size]);
    object::small_int(size as isize)
}

pub fn target_reg_write(arguments: Arguments) -> Obj {
    let (number, size) = register_number(arguments.at(0));
    let data = Bytes::new(arguments.at(1), c"data");
    if data.len() != size {
        register_data_size_error(size, true);
    }
    let mut bytes = [0u8; 8];
    data.copy_out(0, &mut bytes[..size]);
    let value = u64::from_le_bytes(bytes);
    unwrap(probe::session(|session| {
        session.write_register_wide(number, value)
    }));
    object::small_int(size as isize)
}

/// reset(halt=False, kind='system'): with `halt`, the core stops at the reset vector
/// (vector catch); `kind` 'system', 'processor' or 'hardware' (debug::ResetKind).
pub fn target_reset(arguments: Arguments) -> Obj {
    let halt = arguments.get(0).is_some_and(argument::truth);
    let kind = match arguments.get(1) {
        None => debug::ResetKind::System,
        Some(kind) => {
            let name = argument::text::<16>(kind, c"kind", c"kind: system, processor or hardware");
            debug::ResetKind::from_name(core::str::from_utf8(name.as_bytes()).unwrap_or(""))
                .unwrap_or_else(|| raise(Kind::Value, c"kind: system, processor or hardware"))
        }
    };
    unwrap(probe::session(|session| session.reset_kind(kind, halt)));
    object::NONE
}

pub fn target_halt_request(_: Arguments) -> Obj {
    unwrap(probe::session(|session| session.halt_request()));
    object::NONE
}

pub fn target_halt_poll(_: Arguments) -> Obj {
    // A status that cannot be read is HALT_ERROR, as in the original; no target raises.
    let status = match probe::session(|session| session.halt_poll()) {
        Ok(status) => Some(status),
        Err(Failure::Session(error @ (debug::Error::NotAttached | debug::Error::NotScanned))) => {
            fail(Failure::Session(error))
        }
        Err(Failure::Session(_)) => None,
        Err(failure) => fail(failure),
    };
    let (code, reason, address): (isize, &str, u32) = match status {
        None => (1, "ERROR", 0),
        Some(HaltStatus::Running) => (0, "RUNNING", 0),
        Some(HaltStatus::Halted(reason)) => match reason {
            HaltReason::Request | HaltReason::Reset => (2, "REQUEST", 0),
            HaltReason::Step => (3, "STEPPING", 0),
            HaltReason::Breakpoint { .. } | HaltReason::Semihosting => (4, "BREAKPOINT", 0),
            HaltReason::Watchpoint { address, .. } => (5, "WATCHPOINT", address),
            HaltReason::Fault => (6, "FAULT", 0),
        },
    };
    object::tuple(&[
        object::small_int(code),
        object::str(reason),
        object::unsigned(address),
    ])
}

pub fn target_halt_resume(arguments: Arguments) -> Obj {
    let step = arguments.get(0).is_some_and(argument::truth);
    unwrap(probe::session(|session| session.resume(step)));
    object::NONE
}

pub fn target_cmdline(arguments: Arguments) -> Obj {
    let text = argument::text::<256>(
        arguments.at(0),
        c"cmdline",
        c"cmdline is too long (at most 256 bytes)",
    );
    if unwrap(probe::with(|probe| {
        Ok(probe.set_command_line(text.as_bytes()))
    }))
    .is_err()
    {
        raise(Kind::Value, c"cmdline is too long (at most 256 bytes)");
    }
    object::NONE
}

pub fn target_heapsize(arguments: Arguments) -> Obj {
    const SHAPE: &core::ffi::CStr =
        c"heapsize must be [heap_base, heap_limit, stack_base, stack_limit]";
    let items = argument::sequence::<4>(arguments.at(0), c"heapsize", SHAPE);
    let items = items.as_slice();
    if items.len() != 4 {
        raise(Kind::Value, SHAPE);
    }
    let mut values = [0u32; 4];
    for (value, &item) in values.iter_mut().zip(items) {
        *value = argument::unsigned32(item, c"heapsize entry");
    }
    unwrap(probe::with(|probe| {
        probe.heap_info = values;
        Ok(())
    }));
    object::NONE
}

fn breakwatch_arguments(arguments: Arguments) -> (BreakWatch, u32, u32) {
    let kind = argument::count(arguments.at(0), c"bw_type");
    let Some(kind) = BreakWatch::from_gdb(kind as u32) else {
        raise(
            Kind::Value,
            c"bw_type must be BREAK_SOFT, BREAK_HARD, WATCH_WRITE, WATCH_READ or WATCH_ACCESS",
        );
    };
    let address = argument::unsigned32(arguments.at(1), c"addr");
    let length = argument::unsigned32(arguments.at(2), c"len");
    (kind, address, length)
}

pub fn target_breakwatch_set(arguments: Arguments) -> Obj {
    let (kind, address, length) = breakwatch_arguments(arguments);
    unwrap(probe::session(|session| {
        session.set_breakwatch(kind, address, length)
    }));
    object::small_int(0)
}

pub fn target_breakwatch_clear(arguments: Arguments) -> Obj {
    let (kind, address, length) = breakwatch_arguments(arguments);
    unwrap(probe::session(|session| {
        session.clear_breakwatch(kind, address, length)
    }));
    object::small_int(0)
}

/// A bytes-like argument as an `algo::Source` (an FLM's contents, probe-rs instructions).
struct BytesSource(Bytes);

impl debug::algo::Source for BytesSource {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn read_at(&mut self, offset: usize, out: &mut [u8]) -> bool {
        self.0.copy_out(offset, out) == out.len()
    }
}

/// probe-rs `instructions` as they are in the YAML (base64 text), decoded piece by piece.
struct Base64Source {
    text: argument::Str,
    decoded: usize,
}

impl Base64Source {
    /// None unless the text is whole groups of 4 characters.
    fn new(text: argument::Str) -> Option<Self> {
        let length = text.len();
        if length == 0 || !length.is_multiple_of(4) {
            return None;
        }
        let mut tail = [0u8; 2];
        text.copy_out(length - 2, &mut tail);
        let padding = tail.iter().filter(|&&byte| byte == b'=').count();
        Some(Self {
            text,
            decoded: length / 4 * 3 - padding,
        })
    }
}

impl debug::algo::Source for Base64Source {
    fn len(&self) -> usize {
        self.decoded
    }

    fn read_at(&mut self, offset: usize, out: &mut [u8]) -> bool {
        use base64::Engine;
        let mut at = offset;
        let mut written = 0;
        while written < out.len() {
            let mut group = [0u8; 4];
            if self.text.copy_out(at / 3 * 4, &mut group) != 4 {
                return false;
            }
            let mut bytes = [0u8; 3];
            let Ok(count) =
                base64::engine::general_purpose::STANDARD.decode_slice(group, &mut bytes)
            else {
                return false;
            };
            let skip = at % 3;
            if skip >= count {
                return false;
            }
            let take = (count - skip).min(out.len() - written);
            out[written..written + take].copy_from_slice(&bytes[skip..skip + take]);
            written += take;
            at += take;
        }
        true
    }
}

/// The longest FLM path `flash_algorithm` takes.
const MAX_PATH: usize = 255;

/// At most this many entries in a probe-rs `sectors` list.
const MAX_PROBE_RS_SECTORS: usize = 16;

/// A probe-rs `flash_algorithms` entry given as a dict (keys as in the YAML), converted
/// before the session runs (conversions raise).
struct ProbeRsFields {
    name: FixedText<48>,
    instructions: Obj,
    numbers: [Option<u32>; PROBE_RS_KEYS.len()],
    sectors: [(u32, u32); MAX_PROBE_RS_SECTORS],
    sector_count: usize,
}

/// The number fields: (key, required); `flash_properties` ones are looked up there.
const PROBE_RS_KEYS: [(&str, bool); 14] = [
    ("pc_init", false),
    ("pc_uninit", false),
    ("pc_program_page", true),
    ("pc_erase_sector", true),
    ("pc_erase_all", false),
    ("pc_verify", false),
    ("pc_blank_check", false),
    ("data_section_offset", true),
    ("start", true),
    ("end", true),
    ("page_size", true),
    ("erased_byte_value", true),
    ("program_page_timeout", true),
    ("erase_sector_timeout", true),
];

fn missing(key: &str) -> ! {
    raise_with_text(
        Kind::Value,
        c"flash algorithm dict: '%s' is missing (keys as in a probe-rs target description)",
        key.as_bytes(),
    )
}

impl ProbeRsFields {
    fn from_dict(dict: Obj) -> Self {
        let properties = argument::dict_item(dict, "flash_properties")
            .filter(|&item| argument::is_dict(item))
            .unwrap_or_else(|| missing("flash_properties"));
        let range = argument::dict_item(properties, "address_range")
            .filter(|&item| argument::is_dict(item))
            .unwrap_or_else(|| missing("address_range"));
        let mut fields = Self {
            name: FixedText::new(),
            instructions: argument::dict_item(dict, "instructions")
                .unwrap_or_else(|| missing("instructions")),
            numbers: [None; PROBE_RS_KEYS.len()],
            sectors: [(0, 0); MAX_PROBE_RS_SECTORS],
            sector_count: 0,
        };
        if let Some(name) = argument::dict_item(dict, "name") {
            fields.name = argument::text::<48>(name, c"name", c"name is too long");
        }
        for ((key, required), slot) in PROBE_RS_KEYS.iter().zip(fields.numbers.iter_mut()) {
            let found = [dict, properties, range]
                .into_iter()
                .find_map(|place| argument::dict_item(place, key))
                .filter(|item| item.is_set());
            *slot = match found {
                Some(item) => Some(argument::unsigned32(item, c"a flash algorithm field")),
                None if *required => missing(key),
                None => None,
            };
        }
        let sectors =
            argument::dict_item(properties, "sectors").unwrap_or_else(|| missing("sectors"));
        let items = argument::sequence::<MAX_PROBE_RS_SECTORS>(
            sectors,
            c"sectors",
            c"sectors: at most 16 entries",
        );
        for (slot, &item) in fields.sectors.iter_mut().zip(items.as_slice()) {
            let size = argument::dict_item(item, "size").unwrap_or_else(|| missing("size"));
            let address =
                argument::dict_item(item, "address").unwrap_or_else(|| missing("address"));
            *slot = (
                argument::unsigned32(size, c"sector size"),
                argument::unsigned32(address, c"sector address"),
            );
        }
        fields.sector_count = items.as_slice().len();
        fields
    }

    fn number(&self, key: &str) -> Option<u32> {
        PROBE_RS_KEYS
            .iter()
            .position(|(name, _)| *name == key)
            .and_then(|index| self.numbers[index])
    }

    fn description(&self) -> debug::algo::probe_rs::Description<'_> {
        let required = |key| self.number(key).unwrap_or(0);
        debug::algo::probe_rs::Description {
            name: core::str::from_utf8(self.name.as_bytes()).unwrap_or(""),
            pc_init: self.number("pc_init"),
            pc_uninit: self.number("pc_uninit"),
            pc_program_page: required("pc_program_page"),
            pc_erase_sector: required("pc_erase_sector"),
            pc_erase_all: self.number("pc_erase_all"),
            pc_verify: self.number("pc_verify"),
            pc_blank_check: self.number("pc_blank_check"),
            data_section_offset: required("data_section_offset"),
            address_start: required("start"),
            address_end: required("end"),
            page_size: required("page_size"),
            erased_byte_value: required("erased_byte_value") as u8,
            program_page_timeout: required("program_page_timeout"),
            erase_sector_timeout: required("erase_sector_timeout"),
            sectors: &self.sectors[..self.sector_count],
        }
    }
}

/// What the algorithm given is, converted before the session runs. Lives on the stack
/// for one call (no heap to box the larger variant in).
#[allow(clippy::large_enum_variant)]
enum AlgorithmArgument {
    None,
    Flm(BytesSource),
    /// An FLM file on the probe's filesystem, read in pieces (never whole).
    FlmFile(crate::mpy::call::File),
    ProbeRs(ProbeRsFields, Result<BytesSource, Base64Source>),
}

/// The algorithm's description, copied out of the session for the result.
struct AlgorithmSummary {
    name: FixedText<48>,
    start: u32,
    size: u32,
    page_size: u32,
    erased: u8,
    runs: [(u32, u32, u32); debug::algo::MAX_SECTOR_RUNS],
    run_count: usize,
}

/// flash_algorithm(algorithm, ram_start=None, ram_size=None, slack_ms=None): use a flash
/// algorithm for the flash its device describes. `algorithm`: an FLM's bytes, the path of
/// an FLM (read in pieces, never whole), a dict holding a probe-rs target description's
/// algorithm (keys as in the YAML; `instructions` as base64 text or bytes), or None to
/// stop using one. `slack_ms`: time added to each call's timeout (default 2000; a slow
/// target such as the simulator needs more). Returns a dict describing the algorithm's
/// flash (None when cleared).
pub fn target_flash_algorithm(arguments: Arguments) -> Obj {
    require(Feature::FlashAlgorithm);
    let given = arguments.get(0).unwrap_or(object::NONE);
    let ram = match (arguments.get(1), arguments.get(2)) {
        (None, _) => None,
        (Some(start), _) if !start.is_set() => None,
        (Some(start), Some(size)) => Some((
            argument::unsigned32(start, c"ram_start"),
            argument::unsigned32(size, c"ram_size"),
        )),
        (Some(_), None) => raise(Kind::Value, c"give ram_size with ram_start"),
    };
    let slack_ms = arguments
        .get(3)
        .filter(|slack| slack.is_set())
        .map(|slack| argument::unsigned32(slack, c"slack_ms"));
    let argument = if !given.is_set() {
        AlgorithmArgument::None
    } else if argument::is_dict(given) {
        let fields = ProbeRsFields::from_dict(given);
        let instructions = match argument::Str::new(fields.instructions) {
            Some(text) => Err(Base64Source::new(text).unwrap_or_else(|| {
                raise(
                    Kind::Value,
                    c"flash algorithm dict: 'instructions' is not base64 text",
                )
            })),
            None => Ok(BytesSource(Bytes::new(
                fields.instructions,
                c"instructions",
            ))),
        };
        AlgorithmArgument::ProbeRs(fields, instructions)
    } else if argument::Str::new(given).is_some() {
        let path = argument::text::<MAX_PATH>(given, c"path", c"path is too long");
        match crate::mpy::call::File::open(path.as_bytes()) {
            Ok(file) => AlgorithmArgument::FlmFile(file),
            Err(errno) => fail(Failure::File(errno)),
        }
    } else {
        AlgorithmArgument::Flm(BytesSource(Bytes::new(
            given,
            c"algorithm (an FLM's bytes, its path, a probe-rs algorithm dict or None)",
        )))
    };
    let summary = unwrap(probe::session(|session| {
        if let Some(slack_ms) = slack_ms {
            session.set_algorithm_slack(slack_ms);
        }
        match argument {
            AlgorithmArgument::None => {
                session.clear_flash_algorithm()?;
                return Ok(None);
            }
            AlgorithmArgument::Flm(mut source) => session.set_flash_algorithm(
                |algorithm| debug::algo::flm::load(algorithm, &mut source),
                ram,
            )?,
            AlgorithmArgument::FlmFile(mut file) => session.set_flash_algorithm(
                |algorithm| debug::algo::flm::load(algorithm, &mut file),
                ram,
            )?,
            AlgorithmArgument::ProbeRs(fields, instructions) => {
                let description = fields.description();
                session.set_flash_algorithm(
                    |algorithm| match instructions {
                        Ok(mut bytes) => {
                            debug::algo::probe_rs::load(algorithm, &description, &mut bytes)
                        }
                        Err(mut text) => {
                            debug::algo::probe_rs::load(algorithm, &description, &mut text)
                        }
                    },
                    ram,
                )?
            }
        }
        let Some(algorithm) = session.flash_algorithm() else {
            return Ok(None);
        };
        let device = &algorithm.device;
        let mut summary = AlgorithmSummary {
            name: FixedText::new(),
            start: device.start,
            size: device.size,
            page_size: device.page_size,
            erased: device.erased,
            runs: [(0, 0, 0); debug::algo::MAX_SECTOR_RUNS],
            run_count: 0,
        };
        summary.name.push_bytes(device.name.as_bytes());
        for (slot, run) in summary.runs.iter_mut().zip(device.runs()) {
            *slot = run;
            summary.run_count += 1;
        }
        Ok(Some(summary))
    }));
    let Some(summary) = summary else {
        return object::NONE;
    };
    let result = Dict::new();
    result.store(
        "name",
        object::str(core::str::from_utf8(summary.name.as_bytes()).unwrap_or("")),
    );
    result.store("start", object::unsigned(summary.start));
    result.store("length", object::unsigned(summary.size));
    result.store("page_size", object::unsigned(summary.page_size));
    result.store("erased", object::small_int(summary.erased as isize));
    let sectors = List::new();
    for &(start, length, size) in &summary.runs[..summary.run_count] {
        let entry = [
            object::unsigned(start),
            object::unsigned(length),
            object::unsigned(size),
        ];
        sectors.append(object::tuple(&entry));
    }
    result.store("sectors", sectors.object());
    result.object()
}

/// sequences(text, processor=''): use a CMSIS-Pack device's debug sequences and debugvars
/// (the text `tools/pack` writes, as str or bytes) for processor `processor`; they replace
/// the built-in steps at scan, attach, reset and detach (docs/packs.md). None: back to the
/// built-in steps. Returns the names of the description's sequences. A text that is not
/// the sequence language raises ValueError with its line and column.
pub fn target_sequences(arguments: Arguments) -> Obj {
    require(Feature::Sequences);
    let given = arguments.get(0).unwrap_or(object::NONE);
    let processor = match arguments.get(1).filter(|value| value.is_set()) {
        Some(value) => argument::text::<{ debug::sequence::MAX_NAME }>(
            value,
            c"processor",
            c"processor name too long",
        ),
        None => FixedText::new(),
    };
    if !given.is_set() {
        unwrap(probe::session(|session| {
            session.clear_sequences();
            Ok(())
        }));
        return object::NONE;
    }
    // The text is copied in pieces straight into the session's buffer.
    enum Text {
        Str(argument::Str),
        Bytes(Bytes),
    }
    let text = match argument::Str::new(given) {
        Some(text) => Text::Str(text),
        None => Text::Bytes(Bytes::new(given, c"sequences (str, bytes or None)")),
    };
    let copy_out = |offset: usize, out: &mut [u8]| match &text {
        Text::Str(text) => text.copy_out(offset, out),
        Text::Bytes(bytes) => bytes.copy_out(offset, out),
    };
    let processor = core::str::from_utf8(processor.as_bytes()).unwrap_or("");
    let loaded = unwrap(probe::session(|session| {
        let loaded = session.load_sequences(processor, |buffer| {
            let mut piece = [0u8; 256];
            loop {
                let count = copy_out(buffer.len(), &mut piece);
                if count == 0 {
                    return true;
                }
                if buffer.extend_from_slice(&piece[..count]).is_err() {
                    return false;
                }
            }
        });
        Ok(loaded)
    }));
    if let Err(error) = loaded {
        raise_display(Kind::Value, &error);
    }
    let names = List::new();
    let mut name = FixedText::<{ debug::sequence::MAX_NAME }>::new();
    let mut index = 0;
    // One name at a time: nothing is allocated while the session is borrowed.
    loop {
        let found = unwrap(probe::session(|session| {
            name = FixedText::new();
            Ok(session
                .sequences()
                .names()
                .nth(index)
                .map(|(known, _)| name.push_bytes(known.as_bytes()))
                .is_some())
        }));
        if !found {
            return names.object();
        }
        names.append(object::str(
            core::str::from_utf8(name.as_bytes()).unwrap_or(""),
        ));
        index += 1;
    }
}

/// debugvars(overrides=None): assign debugvars the loaded description declares (`name =
/// value;` statements, all or none); returns {name: value} of all of them (values over 32
/// bits as hex text).
pub fn target_debugvars(arguments: Arguments) -> Obj {
    require(Feature::Sequences);
    if let Some(overrides) = arguments.get(0).filter(|value| value.is_set()) {
        let overrides = argument::text::<512>(
            overrides,
            c"overrides",
            c"debugvar overrides longer than 512 bytes",
        );
        let text = core::str::from_utf8(overrides.as_bytes()).unwrap_or("");
        let applied = unwrap(probe::session(|session| Ok(session.set_debugvars(text))));
        if let Err(error) = applied {
            raise_display(Kind::Value, &error);
        }
    }
    let result = Dict::new();
    let mut index = 0;
    loop {
        let mut name = FixedText::<{ debug::sequence::MAX_NAME }>::new();
        let found = unwrap(probe::session(|session| {
            Ok(session
                .sequences()
                .debugvars()
                .nth(index)
                .map(|(known, value)| {
                    name.push_bytes(known.as_bytes());
                    value
                }))
        }));
        let Some(value) = found else {
            return result.object();
        };
        let key = core::str::from_utf8(name.as_bytes()).unwrap_or("");
        match u32::try_from(value) {
            Ok(value) => result.store(key, object::unsigned(value)),
            Err(_) => {
                let mut hex = FixedText::<24>::new();
                let _ = write!(hex, "{value:#x}");
                result.store(
                    key,
                    object::str(core::str::from_utf8(hex.as_bytes()).unwrap_or("")),
                )
            }
        }
        index += 1;
    }
}

/// run_sequence(name): run the description's sequence `name`, or the standard one, now (on
/// the attached target's AP, or AP 0).
pub fn target_run_sequence(arguments: Arguments) -> Obj {
    require(Feature::Sequences);
    let name = argument::text::<{ debug::sequence::MAX_NAME }>(
        arguments.at(0),
        c"name",
        c"sequence name too long",
    );
    let name = core::str::from_utf8(name.as_bytes()).unwrap_or("");
    unwrap(probe::session(|session| session.run_named_sequence(name)));
    object::NONE
}

/// sequence_log(): what the sequences said since the last call (Message(), a while that
/// timed out, a Query answered with its default, the full text of a failure).
pub fn target_sequence_log(_: Arguments) -> Obj {
    require(Feature::Sequences);
    let log = unwrap(probe::session(|session| Ok(session.take_sequence_log())));
    object::str(&log)
}
