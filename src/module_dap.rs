//! The `dap` module: the CMSIS-DAP probe. `hid_info` is a constant in the C glue.

use crate::connection;
use crate::dap_server::{self, Transport};
use crate::module_target::unwrap;
use crate::mpy::argument;
use crate::mpy::exception::{Kind, raise};
use crate::mpy::{Obj, object, print, sys};
use crate::placeholder_kw;
use crate::probe;

const HELP: &str = "\
dap functions:
 init(tcp=4441, host='127.0.0.1') -- serve CMSIS-DAP to OpenOCD (cmsis-dap backend tcp)
 init()       -- serve CMSIS-DAP on usb (boards with a usb device)
 deinit()     -- stop the dap server and give the wire back
 process(req, resp) -- process one dap request; True if resp holds a response
 hid_info     -- usb hid descriptor for pyb.usb_mode()
 calibrate()  -- calibrate swd clock frequency; calibrate(cal=(a, b)) sets it
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
    // Listen first: it may raise (port in use), and nothing has changed yet.
    connection::open_tcp(dap_server::SLOTS, host, tcp as u16);
    if let Err(failure) = probe::with(|probe| probe.start_dap(Transport::Tcp).map(|_| ())) {
        connection::close(dap_server::SLOTS);
        crate::module_target::fail(failure);
    }
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

/// The TCP server's poll step (dap_loop).
pub fn poll() {
    if !connection::is_open(dap_server::SLOTS) {
        return;
    }
    let _ = probe::with(|probe| {
        if let Some(server) = probe.dap.as_mut() {
            server.step();
        }
        Ok(())
    });
}

placeholder_kw!(dap_calibrate, c"dap.calibrate");
