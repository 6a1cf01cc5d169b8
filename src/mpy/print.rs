//! Printing to the MicroPython console.

use super::sys;

/// Write text to the console (sys.stdout), as print() does.
pub fn console(text: &str) {
    // SAFETY: mp_plat_print is the console printer; the text is read during the call only.
    unsafe {
        sys::mp_print_strn(
            &raw const sys::mp_plat_print,
            text.as_ptr() as *const core::ffi::c_char,
            text.len(),
            0,
            b' ' as core::ffi::c_char,
            0,
        );
    }
}
