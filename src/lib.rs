//! The MicroPython modules `bmp`, `target` and `dap`, as one static library.
//!
//! The C glue in modules/bmp/ holds the module tables; the functions they point at are
//! here. This crate converts arguments and errors; the engine lives in the crates under
//! rust/.
//!
//! Unsafe code lives in `mpy` only (the bindings, the exported C functions, the busy flag
//! of `Exclusive`); every other module forbids it.
#![cfg_attr(not(feature = "host"), no_std)]
#![deny(unsafe_code)]

mod connection;
mod dap_server;
mod gdb_server;
#[cfg(feature = "host")]
mod host;
mod link;
mod module_bmp;
mod module_dap;
mod module_target;
mod mpy;
mod poll;
mod probe;
mod rtt;
mod trace;

/// A panic is a bug in bmp: report it as RuntimeError rather than crash the interpreter.
#[cfg(not(feature = "host"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write;
    let mut message = mpy::text::FixedText::<120>::new();
    let _ = write!(message, "{}", info.message());
    mpy::exception::raise_with_text(
        mpy::exception::Kind::Runtime,
        c"bmp internal error (please report): %s",
        message.as_bytes(),
    )
}
