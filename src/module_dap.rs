//! The `dap` module: the CMSIS-DAP probe. `hid_info` is a constant in the C glue.

use crate::connection;
use crate::dap_server::{self, Transport};
use crate::module_target::unwrap;
use crate::mpy::argument;
use crate::mpy::exception::{Kind, raise};
use crate::mpy::{Obj, object, print, sys};
use crate::probe;

const HELP: &str = "\
dap functions:
 init(tcp=4441, host='127.0.0.1') -- serve CMSIS-DAP to OpenOCD (cmsis-dap backend tcp);
              the wire is taken while a client is connected
 init()       -- serve CMSIS-DAP on usb (boards with a usb device)
 deinit()     -- stop the dap server and give the wire back
 process(req, resp) -- process one dap request; True if resp holds a response
 hid_info     -- usb hid descriptor for pyb.usb_mode()
 calibrate()  -- measure the swd delay loop: returns (loops for 1 kHz, top clock in Hz)
 calibrate(cal=(a, b)) -- set the calibration; calibrate(delay=n) -- clock swclk until ctrl-c
dap and bmp do not share the wire: deinit one before starting the other.
";

#[unsafe(no_mangle)]
pub extern "C" fn dap_help(_: usize, _: *const Obj) -> Obj {
    print::console(HELP);
    object::NONE
}

/// dap.init(tcp=, host=), keyword arguments parsed by the C glue.
#[unsafe(no_mangle)]
pub extern "C" fn dap_start(tcp: sys::mp_int_t, host: Obj) -> Obj {
    if tcp == 0 {
        raise(
            Kind::Runtime,
            c"this port has no USB device for CMSIS-DAP: use dap.init(tcp=4441)",
        );
    }
    if !(1..=65535).contains(&tcp) {
        raise(Kind::Value, c"tcp must be a port number 1..65535");
    }
    let mut name = [0u8; 64];
    let host_text: &[u8] = if host == object::NONE {
        b"127.0.0.1"
    } else {
        argument::text(host, c"host")
    };
    if host_text.len() >= name.len() {
        raise(Kind::Value, c"host is too long");
    }
    name[..host_text.len()].copy_from_slice(host_text);
    let Ok(host) = core::ffi::CStr::from_bytes_until_nul(&name) else {
        raise(Kind::Value, c"host must not contain NUL")
    };
    // Only listen: the wire is taken when a client connects (see `poll`).
    connection::open_tcp(dap_server::SLOTS, host, tcp as u16);
    object::NONE
}

#[unsafe(no_mangle)]
pub extern "C" fn dap_deinit(_: usize, _: *const Obj) -> Obj {
    connection::close(dap_server::SLOTS);
    unwrap(probe::with(|probe| {
        probe.stop_dap();
        Ok(())
    }));
    object::NONE
}

/// dap.process(request, response): True if a response was written (the rest of the
/// buffer zeroed), False if the request has none (DAP_TransferAbort; buffer zeroed).
#[unsafe(no_mangle)]
pub extern "C" fn dap_process(n: usize, pointer: *const Obj) -> Obj {
    // SAFETY: two arguments, checked by the C glue.
    let arguments = unsafe { object::arguments(pointer, n) };
    let request = argument::readable(arguments[0], c"req");
    let response = argument::writable(arguments[1], c"resp");
    if request.is_empty() {
        raise(
            Kind::Value,
            c"req is empty: a request starts with a command byte",
        );
    }
    if response.len() < 2 {
        raise(Kind::Value, c"resp must hold at least 2 bytes");
    }
    let length = unwrap(probe::with(|probe| {
        let server = match probe.dap.as_mut() {
            Some(server) => server,
            None => probe.start_dap(Transport::Calls)?,
        };
        Ok(server.process(request, response))
    }));
    // The checks above leave the processor nothing to refuse.
    let length = length.unwrap_or(0);
    response[length..].fill(0);
    object::bool(length > 0)
}

/// The TCP server's poll step (dap_loop). The server takes the wire when a client
/// connects (unless the GDB server has it: then the client is closed at once) and gives it
/// back when the client disconnects.
pub fn poll() {
    if !connection::is_open(dap_server::SLOTS) {
        return;
    }
    let _ = probe::with(|probe| {
        let serving = probe
            .dap
            .as_ref()
            .is_some_and(|server| server.transport() == Transport::Tcp);
        if !serving {
            if connection::accept(dap_server::SLOTS) != Ok(true) {
                return Ok(());
            }
            if probe.start_dap(Transport::Tcp).is_err() {
                connection::hang_up(dap_server::SLOTS);
                return Ok(());
            }
        }
        if let Some(server) = probe.dap.as_mut()
            && !server.step()
        {
            probe.stop_dap();
        }
        Ok(())
    });
}

/// The probe's delay between clock edges (the loop `wire::clock::Clocked` runs).
use pins::SpinDelay;

fn now_micros() -> u64 {
    // SAFETY: reads a clock. Wraps after 71 minutes on 32-bit ports; calibration takes
    // a fraction of a second.
    unsafe { sys::mp_hal_ticks_us() as u64 }
}

/// dap.calibrate(cal=, delay=), keyword arguments parsed by the C glue:
/// - no arguments: measure the delay loop and the pins' top speed; returns
///   (loops for a 1 kHz clock, clock in Hz with no delay), and keeps them;
/// - cal=(loops, hz): keep those;
/// - delay=n: a continuous clock on SWCLK with n loops per half period, until Ctrl-C.
#[unsafe(no_mangle)]
pub extern "C" fn dap_calibrate_with(cal: Obj, delay: sys::mp_int_t) -> Obj {
    use wire::clock::{Calibration, DelayLoop};
    if cal != object::NONE {
        let items = argument::sequence(cal, c"cal");
        if items.len() != 2 {
            raise(
                Kind::Type,
                c"expected calibrate(cal=(loops_at_1khz, max_hz))",
            );
        }
        let calibration = Calibration {
            loops_at_1khz: argument::unsigned32(items[0], c"loops_at_1khz"),
            max_hz: argument::unsigned32(items[1], c"max_hz"),
        };
        if calibration.loops_at_1khz == 0 || calibration.max_hz == 0 {
            raise(Kind::Value, c"calibration values must be positive");
        }
        unwrap(probe::with(|probe| probe.set_calibration(calibration)));
        return object::NONE;
    }
    if delay >= 0 {
        let loops = delay as u32;
        unwrap(probe::with(|probe| {
            probe.with_pins(|pins| {
                let pins = crate::link::raw_pins(pins);
                let mut level = false;
                // SAFETY: reads a flag set by the Ctrl-C handler.
                while !unsafe { sys::bmp_glue_interrupt_pending() } {
                    for _ in 0..1024 {
                        level = !level;
                        pins.set_swclk(level);
                        SpinDelay.delay(loops);
                    }
                }
            })
        }));
        return object::NONE;
    }
    let calibration = unwrap(probe::with(|probe| {
        // Measured on the pins without the delay it calibrates.
        let calibration = probe.with_pins(|pins| {
            wire::clock::calibrate(
                &mut crate::link::raw_pins(pins),
                &mut SpinDelay,
                now_micros,
                200_000,
            )
        })?;
        probe.set_calibration(calibration)?;
        Ok(calibration)
    }));
    object::tuple(&[
        object::unsigned(calibration.loops_at_1khz),
        object::unsigned(calibration.max_hz),
    ])
}
