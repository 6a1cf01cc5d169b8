//! The `bmp` module: the GDB server (src/gdb_server.rs), its callbacks and the trace
//! outputs (src/trace.rs). Keyword arguments are parsed by the C glue (modbmp.c).
#![forbid(unsafe_code)]

use core::fmt::Write;

use crate::connection;
use crate::gdb_server::{self, STATE};
use crate::module_target::unwrap;
use crate::mpy::argument::{self, Arguments};
use crate::mpy::exception::{Kind, raise};
use crate::mpy::stream::{self, Root};
use crate::mpy::text::FixedText;
use crate::mpy::{Obj, hal, object, print, sys};
use crate::poll;
use crate::probe;
use crate::rtt;
use crate::trace::{self, TraceBuffer};

const HELP: &str = "\
bmp functions:
 init(stream=|tcp=) -- start bmp on a micropython stream or a tcp port.
              init(tcp=3333, host='127.0.0.1'): one gdb client at a time
 deinit()   -- stop bmp
 poll()     -- run one poll step by hand; returns the number of steps run so far
 traceswo(uart=, chan=[...]) -- display swo logging (itm stimulus ports); traceswo() stops
              without uart= (host probe): the simulated target's own SWO pin
 tracebuf(cb=[buf_addr, buf_size, head_addr, tail_addr], ena=True) -- display target buffer
 rtt(ena=True, stream=|tcp=|fun=, host=, cblock=) -- SEGGER RTT of the attached target:
              up channel 0 to a stream, a tcp port or fun(bytearray) (default: the console),
              input from the stream to down channel 0; cblock=address skips the RAM scan
 disp_fun() -- register callback function to display text
 repl_fun() -- register callback function to execute python
 debug()    -- toggle debugging of the probe itself
 pinout()   -- the debug connector's pins on this board (below)
";

/// bmp.pinout(): the debug connector's pins on this board (platform.pinout() of the issue).
pub fn bmp_pinout(_: Arguments) -> Obj {
    print_pinout();
    object::NONE
}

fn print_pinout() {
    let mut text = FixedText::<512>::new();
    let _ = crate::link::write_pinout(&mut text);
    print::console(core::str::from_utf8(text.as_bytes()).unwrap_or(""));
}

/// bmp.help(): the build, the functions and this board's debug connector.
pub fn bmp_help(_: Arguments) -> Obj {
    let mut text = FixedText::<128>::new();
    let _ = writeln!(text, "bmp built {}", hal::build());
    print::console(core::str::from_utf8(text.as_bytes()).unwrap_or(""));
    print::console(HELP);
    print_pinout();
    object::NONE
}

pub fn bmp_poll(_: Arguments) -> Obj {
    if poll::step_by_hand().is_err() {
        raise(Kind::Runtime, c"bmp.poll() called from inside a poll step");
    }
    object::small_int(poll::bmp_steps() as isize)
}

const HOST_TOO_LONG: &core::ffi::CStr = c"host must be a short name or address";

/// bmp.init(stream=, tcp=, host=): serve GDB on a stream or a TCP port.
pub fn bmp_start(stream: Obj, tcp: sys::mp_int_t, host: Obj) -> Obj {
    let has_stream = stream != object::NONE;
    match (has_stream, tcp) {
        (false, 0) => raise(Kind::Value, c"expected tcp= or stream="),
        (true, tcp) if tcp != 0 => raise(Kind::Value, c"give tcp= or stream=, not both"),
        (false, tcp) if !(1..=65535).contains(&tcp) => {
            raise(Kind::Value, c"tcp must be a port number 1..65535")
        }
        _ => {}
    }
    if !has_stream && host != object::NONE {
        let _ = argument::text::<63>(host, c"host", HOST_TOO_LONG);
    }
    // A stream is a client from the start: refuse before opening anything if the wire
    // is taken. A TCP server takes the wire when a client arrives.
    if has_stream {
        unwrap(probe::with(gdb_server::check_wire));
    }
    if has_stream {
        connection::open_stream(gdb_server::SLOTS, stream);
    } else {
        open_tcp(gdb_server::SLOTS, host, tcp as u16);
    }
    if has_stream {
        let started = probe::with(gdb_server::take_wire);
        if started.is_err() {
            connection::close(gdb_server::SLOTS);
        }
        unwrap(started);
    }
    if STATE.with(|state| state.server_connected()).is_none() {
        raise(Kind::Runtime, c"bmp.init() called from inside a poll step");
    }
    object::NONE
}

/// Listen on `port` of `host` (None: 127.0.0.1); raises on a bad host or a busy port.
fn open_tcp(slots: connection::Slots, host: Obj, port: u16) {
    let mut name = [0u8; 64];
    let host_text = if host == object::NONE {
        let mut default = FixedText::<63>::new();
        default.push_bytes(b"127.0.0.1");
        default
    } else {
        argument::text::<63>(host, c"host", HOST_TOO_LONG)
    };
    let host_text = host_text.as_bytes();
    if host_text.contains(&0) {
        raise(Kind::Value, HOST_TOO_LONG);
    }
    name[..host_text.len()].copy_from_slice(host_text);
    let host = core::ffi::CStr::from_bytes_until_nul(&name).unwrap_or(c"127.0.0.1");
    connection::open_tcp(slots, host, port);
}

pub fn bmp_deinit(_: Arguments) -> Obj {
    unwrap(probe::with(|probe| {
        gdb_server::stop(probe);
        Ok(())
    }));
    object::NONE
}

/// A callable or None, for a callback slot.
fn set_callback(which: Root, function: Obj, name: &core::ffi::CStr) {
    if function != object::NONE && !object::is_callable(function) {
        argument::refuse(Kind::Type, name);
    }
    stream::set_root(which, function);
}

pub fn bmp_repl_fun(arguments: Arguments) -> Obj {
    set_callback(
        Root::BMP_ROOT_REPL_FUN,
        arguments.at(0),
        c"repl_fun() expects a callable taking a str, or None",
    );
    object::NONE
}

pub fn bmp_disp_fun(arguments: Arguments) -> Obj {
    set_callback(
        Root::BMP_ROOT_DISP_FUN,
        arguments.at(0),
        c"disp_fun() expects a callable taking a bytearray, or None",
    );
    object::NONE
}

/// bmp.debug(): toggle showing the GDB traffic on the console; the new state.
pub fn bmp_debug(_: Arguments) -> Obj {
    match STATE.with(|state| {
        state.debug = !state.debug;
        state.debug
    }) {
        Some(on) => object::bool(on),
        None => raise(Kind::Runtime, c"bmp.debug() called from inside a poll step"),
    }
}

/// bmp.tracebuf(cb=[buf_addr, buf_size, head_addr, tail_addr], ena=bool).
pub fn bmp_tracebuf_with(descriptor: Obj, enable: Obj) -> Obj {
    let mut buffer = None;
    if descriptor != object::NONE {
        const SHAPE: &core::ffi::CStr = c"expected [buf_addr, buf_size, head_addr, tail_addr]";
        let items = argument::sequence::<8>(descriptor, c"cb", SHAPE);
        let items = items.as_slice();
        if items.len() != 4 {
            raise(Kind::Type, SHAPE);
        }
        let size = argument::unsigned32(items[1], c"buf_size");
        if size == 0 {
            raise(Kind::Value, c"buf_size must not be 0");
        }
        buffer = Some(TraceBuffer {
            buffer_variable: argument::unsigned32(items[0], c"buf_addr"),
            size,
            head_address: argument::unsigned32(items[2], c"head_addr"),
            tail_address: argument::unsigned32(items[3], c"tail_addr"),
        });
    }
    let enable = (enable != object::NONE).then(|| argument::truth(enable));
    let done = STATE.with(|state| {
        let trace = &mut state.trace;
        if buffer.is_some() {
            trace.buffer = buffer;
            trace.buffer_enabled = enable.unwrap_or(true);
        } else if let Some(enable) = enable {
            trace.buffer_enabled = enable && trace.buffer.is_some();
        }
        trace.buffer_enabled
    });
    match done {
        Some(enabled) => object::bool(enabled),
        None => raise(
            Kind::Runtime,
            c"bmp.tracebuf() called from inside a poll step",
        ),
    }
}

/// bmp.traceswo(uart=stream, chan=[ports]): decode ITM from the stream; no uart: off.
pub fn bmp_traceswo_with(uart: Obj, channels: Obj) -> Obj {
    let mut mask = 0u32;
    if uart == object::NONE && channels != object::NONE && !cfg!(feature = "host") {
        raise(
            Kind::Value,
            c"this board has no SWO input of its own: give uart=",
        );
    }
    if uart != object::NONE || channels != object::NONE {
        if uart != object::NONE {
            // Raises OSError if the object is not a stream; nothing of ours is alive.
            stream::check(uart);
        }
        mask = u32::MAX;
        if channels != object::NONE {
            let ports =
                argument::sequence::<32>(channels, c"chan", c"chan: at most 32 stimulus ports");
            mask = 0;
            for &port in ports.as_slice() {
                let port = argument::count(port, c"chan entry");
                if port > 31 {
                    raise(Kind::Value, c"chan entries are stimulus ports 0..31");
                }
                mask |= 1 << port;
            }
        }
    }
    let Some(was_on) = STATE.with(|state| state.trace.swo_channels != 0) else {
        raise(
            Kind::Runtime,
            c"bmp.traceswo() called from inside a poll step",
        );
    };
    // A device's TraceStart before the stream is taken, TraceStop after it stops.
    if mask != 0 && !was_on {
        unwrap(probe::session(|session| session.trace(true)));
    }
    trace::set_swo_stream(if mask != 0 { uart } else { object::NONE });
    let _ = STATE.with(|state| state.trace.start_swo(mask));
    if mask == 0 && was_on {
        unwrap(probe::session(|session| session.trace(false)));
    }
    object::bool(mask != 0)
}

/// bmp.rtt(ena=True, stream=, tcp=, host=, fun=, cblock=): RTT on (with one output) or off.
pub fn bmp_rtt_with(
    enable: Obj,
    stream: Obj,
    tcp: sys::mp_int_t,
    host: Obj,
    function: Obj,
    address: Obj,
) -> Obj {
    let enable = argument::truth(enable);
    let outputs = [stream != object::NONE, tcp != 0, function != object::NONE];
    if outputs.iter().filter(|&&given| given).count() > 1 {
        raise(Kind::Value, c"give one of stream=, tcp= and fun=");
    }
    if tcp != 0 && !(1..=65535).contains(&tcp) {
        raise(Kind::Value, c"tcp must be a port number 1..65535");
    }
    if tcp == 0 && host != object::NONE {
        raise(Kind::Value, c"host= goes with tcp=");
    }
    if function != object::NONE && !object::is_callable(function) {
        argument::refuse(Kind::Type, c"fun expects a callable taking a bytearray");
    }
    if stream != object::NONE {
        // Raises OSError if the object is not a stream; nothing of ours is alive.
        stream::check(stream);
    }
    let address = (address != object::NONE).then(|| argument::unsigned32(address, c"cblock"));
    if address.is_some_and(|address| address % 4 != 0) {
        raise(Kind::Value, c"cblock must be a word-aligned address");
    }
    if !enable && (outputs.contains(&true) || address.is_some()) {
        raise(Kind::Value, c"rtt(False) takes no other argument");
    }
    // Outputs change only when RTT is switched off or another output is given.
    if !enable || outputs.contains(&true) {
        connection::close(rtt::SLOTS);
        stream::clear_root(Root::BMP_ROOT_RTT_FUN);
    }
    if stream != object::NONE {
        connection::open_stream(rtt::SLOTS, stream);
    } else if tcp != 0 {
        open_tcp(rtt::SLOTS, host, tcp as u16);
    } else if function != object::NONE {
        stream::set_root(Root::BMP_ROOT_RTT_FUN, function);
    }
    unwrap(probe::with(|probe| {
        let rtt = &mut probe.session.rtt;
        rtt.config.address = address;
        rtt.enable(enable);
        Ok(())
    }));
    object::bool(enable)
}
