//! The MicroPython modules `bmp`, `target` and `dap`, as one static library.
//!
//! The C glue in modules/bmp/ holds the module tables; the functions they point at are
//! here. This crate converts arguments and errors; the engine lives in the crates under
//! rust/.
#![no_std]

mod module_bmp;
mod module_dap;
mod module_target;
mod mpy;
mod poll;

/// A panic is a bug in bmp: report it as RuntimeError rather than crash the interpreter.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write;
    let mut message = FixedText::<120>::new();
    let _ = write!(message, "{}", info.message());
    mpy::exception::raise_with_text(
        mpy::exception::Kind::Runtime,
        c"bmp internal error (please report): %s",
        message.as_bytes(),
    )
}

/// The hosted core library refers to the unwinder's personality routine even with
/// panic=abort; nothing unwinds here.
#[cfg(target_os = "linux")]
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

/// Text formatted into a fixed buffer, cut at its capacity.
struct FixedText<const N: usize> {
    bytes: [u8; N],
    length: usize,
}

impl<const N: usize> FixedText<N> {
    const fn new() -> Self {
        Self { bytes: [0; N], length: 0 }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.length]
    }
}

impl<const N: usize> core::fmt::Write for FixedText<N> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let room = N - self.length;
        let taken = text.len().min(room);
        self.bytes[self.length..self.length + taken].copy_from_slice(&text.as_bytes()[..taken]);
        self.length += taken;
        Ok(())
    }
}
