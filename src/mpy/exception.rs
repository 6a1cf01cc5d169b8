//! Raising Python exceptions. Each function here longjmps back into MicroPython and never
//! returns: call it last, with nothing left to drop.

use super::sys;
use core::ffi::{CStr, c_char};

/// The exception types bmp raises.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Runtime,
    Value,
    Type,
    NotImplemented,
    /// The target or the wire failed (no answer, timeouts).
    OS,
}

fn type_object(kind: Kind) -> *const sys::mp_obj_type_t {
    match kind {
        Kind::Runtime => &raw const sys::mp_type_RuntimeError,
        Kind::Value => &raw const sys::mp_type_ValueError,
        Kind::Type => &raw const sys::mp_type_TypeError,
        Kind::NotImplemented => &raw const sys::mp_type_NotImplementedError,
        Kind::OS => &raw const sys::mp_type_OSError,
    }
}

/// Raise `kind` with a fixed message.
pub fn raise(kind: Kind, message: &CStr) -> ! {
    // SAFETY: mp_raise_msg takes a NUL-terminated message (any mp_rom_error_text_t that does
    // not start with 0xff is used as is, py/objexcept.c) and does not return.
    unsafe {
        sys::mp_raise_msg(
            type_object(kind),
            message.as_ptr() as sys::mp_rom_error_text_t,
        )
    }
}

/// Raise `kind` with a message formatted by MicroPython: `format` holds one `%s`.
pub fn raise_with_text(kind: Kind, format: &CStr, text: &[u8]) -> ! {
    let mut buffer = [0u8; 160];
    let length = text.len().min(buffer.len() - 1);
    buffer[..length].copy_from_slice(&text[..length]);
    // SAFETY: the buffer is NUL-terminated and outlives the call; mp_raise_msg_varg copies it.
    unsafe {
        sys::mp_raise_msg_varg(
            type_object(kind),
            format.as_ptr() as sys::mp_rom_error_text_t,
            buffer.as_ptr() as *const c_char,
        )
    }
}

/// Raise `kind` with the Display text of `error` (cut at 256 bytes).
pub fn raise_display(kind: Kind, error: &dyn core::fmt::Display) -> ! {
    use core::fmt::Write;
    let mut text = super::text::FixedText::<256>::new();
    let _ = write!(text, "{error}");
    raise_with_text(kind, c"%s", text.as_bytes())
}

/// `NotImplementedError("<name>() is not implemented yet")` for functions whose issue has
/// not landed.
pub fn not_implemented(name: &CStr) -> ! {
    raise_with_text(
        Kind::NotImplemented,
        c"%s() is not implemented yet",
        name.to_bytes(),
    )
}
