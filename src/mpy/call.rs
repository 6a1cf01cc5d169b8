//! Calls from the servers into Python (modules/bmp/bmp_call.c): the frozen module
//! `semihosting`, bmp.repl_fun(), bmp.disp_fun(). The C side catches and prints what
//! Python raises, so these never raise.

use super::object::Obj;
use super::sys;
use core::marker::PhantomData;
pub use sys::bmp_semihosting_t as Semihosting;

/// One argument of a semihosting.py function: an int, a str or bytes (copied into a
/// Python object by the C side during the call). Transparent: a slice of them is an
/// array of `bmp_arg_t` for C.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct Argument<'a> {
    raw: sys::bmp_arg_t,
    data: PhantomData<&'a [u8]>,
}

impl<'a> Argument<'a> {
    pub fn int(value: i64) -> Self {
        Self::new(sys::bmp_arg_kind_t::BMP_ARG_INT, value, &[])
    }

    /// Text (a name): a str for Python.
    pub fn str(text: &'a [u8]) -> Self {
        Self::new(sys::bmp_arg_kind_t::BMP_ARG_STR, 0, text)
    }

    pub fn bytes(data: &'a [u8]) -> Self {
        Self::new(sys::bmp_arg_kind_t::BMP_ARG_BYTES, 0, data)
    }

    fn new(kind: sys::bmp_arg_kind_t, number: i64, data: &'a [u8]) -> Self {
        Self {
            raw: sys::bmp_arg_t {
                kind,
                number: number as sys::mp_int_t,
                data: data.as_ptr(),
                length: data.len(),
            },
            data: PhantomData,
        }
    }
}

/// semihosting.FUNCTION(*arguments) -> int (-1 on any failure, printed).
pub fn semihosting_int(function: Semihosting, arguments: &[Argument]) -> i32 {
    // SAFETY: the arguments' data lives for the call (their lifetime); the C side copies
    // them into Python objects and catches exceptions; `out` NULL asks for an int.
    let value = unsafe {
        sys::bmp_call_semihosting(
            function,
            arguments.len(),
            arguments.as_ptr() as *const sys::bmp_arg_t,
            core::ptr::null_mut(),
            0,
        )
    };
    value as i32
}

/// semihosting.FUNCTION(*arguments) -> bytes copied into `out`; the count or -1.
pub fn semihosting_bytes(function: Semihosting, arguments: &[Argument], out: &mut [u8]) -> i32 {
    // SAFETY: as above; at most out.len() bytes are written to `out`.
    let value = unsafe {
        sys::bmp_call_semihosting(
            function,
            arguments.len(),
            arguments.as_ptr() as *const sys::bmp_arg_t,
            out.as_mut_ptr(),
            out.len(),
        )
    };
    value as i32
}

/// function(text) -> str or bytes copied into `out` (cut at its length); the count, or -1
/// if it raised (printed on the console).
pub fn text(function: Obj, text: &[u8], out: &mut [u8]) -> isize {
    // SAFETY: `text` is read and `out` written (at most its length) during the call; the C
    // side catches exceptions.
    unsafe {
        sys::bmp_call_text(
            function.raw(),
            text.as_ptr(),
            text.len(),
            out.as_mut_ptr(),
            out.len(),
        ) as isize
    }
}

/// function(bytearray(data)); false if it raised (printed).
pub fn display(function: Obj, data: &[u8]) -> bool {
    // SAFETY: `data` is copied into a bytearray during the call; exceptions are caught.
    unsafe { sys::bmp_call_display(function.raw(), data.as_ptr(), data.len()) }
}

/// Write bytes to the MicroPython console as they are.
pub fn console_write(data: &[u8]) {
    // SAFETY: `data` is read during the call only.
    unsafe { sys::bmp_call_console_write(data.as_ptr(), data.len()) }
}

/// A file on the probe's filesystem, open for reading in pieces (`monitor algorithm
/// load`); closed when dropped. The object is kept alive by the conservative scan of the
/// stack this value lives on.
pub struct File {
    object: Obj,
    size: usize,
}

impl File {
    /// open(name, 'rb'); Err(errno) if that failed (ENOMEM: MemoryError, EIO: another
    /// exception).
    pub fn open(name: &[u8]) -> Result<Self, i32> {
        let mut size: sys::mp_int_t = 0;
        // SAFETY: `name` is read during the call; the C side catches exceptions and gives
        // a file object or MP_OBJ_NULL.
        let raw = unsafe { sys::bmp_call_file_open(name.as_ptr(), name.len(), &mut size) };
        if raw.is_null() {
            return Err(size as i32);
        }
        // SAFETY: not NULL, so the file object C made.
        let object = unsafe { Obj::from_raw(raw) };
        Ok(Self {
            object,
            size: size as usize,
        })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Read `out.len()` bytes at `offset`; false if the file ends first or reading failed.
    pub fn read_at(&mut self, offset: usize, out: &mut [u8]) -> bool {
        // SAFETY: at most out.len() bytes are written to `out`; exceptions are caught.
        let count = unsafe {
            sys::bmp_call_file_read_at(self.object.raw(), offset, out.as_mut_ptr(), out.len())
        };
        count == out.len() as sys::mp_int_t
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // SAFETY: the file object from `open`; errors are caught.
        unsafe { sys::bmp_call_file_close(self.object.raw()) }
    }
}

/// An FLM on the probe's filesystem, read in pieces by the loader.
impl debug::algo::Source for File {
    fn len(&self) -> usize {
        self.size
    }

    fn read_at(&mut self, offset: usize, out: &mut [u8]) -> bool {
        File::read_at(self, offset, out)
    }
}
