//! The `dap` module: the CMSIS-DAP probe. `hid_info` is a constant in the C glue.
#![forbid(unsafe_code)]

use crate::connection;
use crate::dap_server::{self, Transport};
use crate::module_target::unwrap;
use crate::mpy::argument::{self, Arguments, Bytes, BytesMut};
use crate::mpy::exception::{Kind, raise};
use crate::mpy::text::FixedText;
use crate::mpy::{Obj, hal, object, print, sys};
use crate::probe;

const HELP: &str = "\
dap functions:
 init(tcp=4441, host='127.0.0.1', packet_size=1024) -- serve CMSIS-DAP to OpenOCD
              (cmsis-dap backend tcp); the wire is taken while a client is connected
 init()       -- serve CMSIS-DAP on usb (boards with a usb device)
 deinit()     -- stop the dap server and give the wire back
 process(req, resp) -- process one dap request; True if resp holds a response
 hid_info     -- usb hid descriptor for pyb.usb_mode()
 calibrate()  -- measure the swd delay loop: returns (loops for 1 kHz, top clock in Hz)
 calibrate(cal=(a, b)) -- set the calibration; calibrate(delay=n) -- clock swclk until ctrl-c
dap and bmp do not share the wire: deinit one before starting the other.
";

pub fn dap_help(_: Arguments) -> Obj {
    print::console(HELP);
    object::NONE
}

/// dap.init(tcp=, host=, packet_size=), keyword arguments parsed by the C glue.
pub fn dap_start(tcp: sys::mp_int_t, host: Obj, packet_size: sys::mp_int_t) -> Obj {
    if tcp == 0 {
        return usb::start();
    }
    if !(1..=65535).contains(&tcp) {
        raise(Kind::Value, c"tcp must be a port number 1..65535");
    }
    if packet_size < 0 || !dap_server::set_tcp_packet_size(packet_size as usize) {
        raise(Kind::Value, c"packet_size must be 64..1024");
    }
    let mut name = [0u8; 64];
    let host_text = if host == object::NONE {
        let mut default = FixedText::<63>::new();
        default.push_bytes(b"127.0.0.1");
        default
    } else {
        argument::text::<63>(host, c"host", c"host is too long")
    };
    let host_text = host_text.as_bytes();
    name[..host_text.len()].copy_from_slice(host_text);
    let Ok(host) = core::ffi::CStr::from_bytes_until_nul(&name) else {
        raise(Kind::Value, c"host must not contain NUL")
    };
    // Only listen: the wire is taken when a client connects (see `poll`).
    connection::open_tcp(dap_server::SLOTS, host, tcp as u16);
    object::NONE
}

pub fn dap_deinit(_: Arguments) -> Obj {
    usb::stop();
    connection::close(dap_server::SLOTS);
    unwrap(probe::with(|probe| {
        probe.stop_dap();
        Ok(())
    }));
    object::NONE
}

/// dap.process(request, response): True if a response was written (the rest of the
/// buffer zeroed), False if the request has none (DAP_TransferAbort; buffer zeroed).
/// The request is copied before the response is written, so both may be one bytearray.
pub fn dap_process(arguments: Arguments) -> Obj {
    let request = Bytes::new(arguments.at(0), c"req");
    let response = BytesMut::new(arguments.at(1), c"resp");
    if request.is_empty() {
        raise(
            Kind::Value,
            c"req is empty: a request starts with a command byte",
        );
    }
    if response.len() < 2 {
        raise(Kind::Value, c"resp must hold at least 2 bytes");
    }
    // A request longer than the largest packet holds nothing the processor reads.
    let mut request_copy = [0u8; dap_server::MAX_PACKET_SIZE];
    let request_length = request.copy_out(0, &mut request_copy);
    let mut answer = [0u8; dap_server::MAX_PACKET_SIZE];
    let answer_room = response.len().min(answer.len());
    let length = unwrap(probe::with(|probe| {
        let server = match probe.dap.as_mut() {
            Some(server) => server,
            None => probe.start_dap(Transport::Calls)?,
        };
        Ok(server.process(&request_copy[..request_length], &mut answer[..answer_room]))
    }));
    // The checks above leave the processor nothing to refuse.
    let length = length.unwrap_or(0);
    response.copy_in(0, &answer[..length]);
    response.fill_from(length, 0);
    object::bool(length > 0)
}

/// The TCP server's poll step (dap_loop). The server takes the wire when a client
/// connects (unless the GDB server has it: then the client is closed at once) and gives it
/// back when the client disconnects.
pub fn poll() {
    usb::poll();
    if !connection::is_open(dap_server::SLOTS) {
        return;
    }
    let _ = probe::with(|probe| {
        let serving = probe
            .dap
            .as_ref()
            .is_some_and(|server| server.transport().is_tcp());
        if !serving {
            if connection::accept(dap_server::SLOTS) != Ok(true) {
                return Ok(());
            }
            if probe.start_dap(dap_server::tcp_transport()).is_err() {
                // As the GDB server does for a client it cannot serve: say why.
                print::console(
                    "dap: CMSIS-DAP client refused: the GDB server (bmp) has the wire\n",
                );
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

/// CMSIS-DAP on a probe board's USB device (`dap.init()` with no `tcp`).
#[cfg(feature = "board-gpio")]
mod usb {
    use super::*;
    use crate::mpy::hal::board_usb_dap;
    use core::sync::atomic::{AtomicBool, Ordering};

    static SERVING: AtomicBool = AtomicBool::new(false);

    /// Serve the USB mode's CMSIS-DAP function (v2 bulk or v1 HID) from dap_loop. The wire
    /// is taken with the first request, as a TCP client takes it by connecting.
    pub fn start() -> Obj {
        if board_usb_dap::packet_size().is_none() {
            raise(
                Kind::Runtime,
                c"the USB mode has no CMSIS-DAP function: call pyb.usb_mode('2xVCP+DAP') (v2) or pyb.usb_mode('VCP+HID', hid=dap.hid_info) (v1) in boot.py",
            );
        }
        SERVING.store(true, Ordering::Relaxed);
        object::NONE
    }

    pub fn stop() {
        SERVING.store(false, Ordering::Relaxed);
    }

    /// One step: a held answer first, then at most one request.
    pub fn poll() {
        if !SERVING.load(Ordering::Relaxed) {
            return;
        }
        let Some(size) = board_usb_dap::packet_size() else {
            return;
        };
        let _ = probe::with(|probe| {
            let transport = probe.dap.as_ref().map(|server| server.transport());
            if transport == Some(Transport::Usb(size))
                && let Some(server) = probe.dap.as_mut()
                && !server.flush_usb()
            {
                return Ok(());
            }
            let mut request = [0u8; dap_server::MAX_PACKET_SIZE];
            let room = usize::from(size).min(request.len());
            let Some(length @ 1..) = board_usb_dap::receive(&mut request[..room]) else {
                return Ok(());
            };
            if transport.is_some_and(Transport::is_tcp) {
                print::console("dap: USB CMSIS-DAP request refused: a TCP client has the wire\n");
                return Ok(());
            }
            match probe.start_dap(Transport::Usb(size)) {
                Ok(server) => server.answer_usb(&request[..length]),
                Err(_) => print::console(
                    "dap: USB CMSIS-DAP request refused: the GDB server (bmp) has the wire\n",
                ),
            }
            Ok(())
        });
    }
}

/// Ports without a USB device: `dap.init()` needs `tcp=`.
#[cfg(not(feature = "board-gpio"))]
mod usb {
    use super::*;

    pub fn start() -> Obj {
        raise(
            Kind::Runtime,
            c"this port has no USB device for CMSIS-DAP: use dap.init(tcp=4441)",
        );
    }

    pub fn stop() {}

    pub fn poll() {}
}

/// The probe's delay between clock edges (the loop `wire::clock::Clocked` runs).
use pins::SpinDelay;

fn now_micros() -> u64 {
    // Wraps after 71 minutes on 32-bit ports; calibration takes a fraction of a second.
    hal::ticks_us() as u64
}

/// dap.calibrate(cal=, delay=), keyword arguments parsed by the C glue:
/// - no arguments: measure the delay loop and the pins' top speed; returns
///   (loops for a 1 kHz clock, clock in Hz with no delay), and keeps them;
/// - cal=(loops, hz): keep those;
/// - delay=n: a continuous clock on SWCLK with n loops per half period, until Ctrl-C.
pub fn dap_calibrate_with(cal: Obj, delay: sys::mp_int_t) -> Obj {
    use wire::clock::{Calibration, DelayLoop};
    if cal != object::NONE {
        const SHAPE: &core::ffi::CStr = c"expected calibrate(cal=(loops_at_1khz, max_hz))";
        let items = argument::sequence::<8>(cal, c"cal", SHAPE);
        let items = items.as_slice();
        if items.len() != 2 {
            raise(Kind::Type, SHAPE);
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
                while !hal::interrupt_pending() {
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
