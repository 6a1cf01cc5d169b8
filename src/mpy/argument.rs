//! Converting arguments. Each function raises TypeError/ValueError/OverflowError on bad
//! input, so call them before any Rust value with a destructor is alive.

use super::exception::{Kind, raise, raise_with_text};
use super::{Obj, sys};
use core::ffi::CStr;

/// An int that fits an unsigned 32-bit target address or word (0 to 0xFFFFFFFF, also on
/// a 32-bit MCU where the upper half needs a big int).
pub fn unsigned32(object: Obj, name: &CStr) -> u32 {
    if super::object::is_small_int(object) {
        let value = super::object::small_int_value(object);
        if value < 0 {
            raise_with_text(Kind::Value, c"%s must not be negative", name.to_bytes());
        }
        if value as u64 > 0xFFFF_FFFF {
            raise_with_text(Kind::Value, c"%s must fit in 32 bits", name.to_bytes());
        }
        return value as u32;
    }
    // SAFETY: type checks and conversions of a live object; they raise on failure.
    unsafe {
        if sys::mp_obj_get_type(object) != &raw const sys::mp_type_int {
            raise_with_text(Kind::Type, c"%s must be an int", name.to_bytes());
        }
        if sys::mp_obj_int_sign(object) < 0 {
            raise_with_text(Kind::Value, c"%s must not be negative", name.to_bytes());
        }
        // A big int: compare with 0xFFFFFFFF as Python does, then convert.
        let limit = sys::mp_obj_new_int_from_uint(0xFFFF_FFFF);
        let above = sys::mp_binary_op(sys::mp_binary_op_t_MP_BINARY_OP_MORE, object, limit);
        if above == super::object::TRUE {
            raise_with_text(Kind::Value, c"%s must fit in 32 bits", name.to_bytes());
        }
        sys::mp_obj_int_get_uint_checked(object) as u32
    }
}

/// A non-negative int.
pub fn count(object: Obj, name: &CStr) -> usize {
    // SAFETY: raises TypeError for a non-int, which is what we want.
    let value = unsafe { sys::mp_obj_get_int(object) };
    if value < 0 {
        raise_with_text(Kind::Value, c"%s must not be negative", name.to_bytes());
    }
    value as usize
}

pub fn truth(object: Obj) -> bool {
    // SAFETY: any object has a truth value (may call __bool__, which may raise).
    unsafe { sys::mp_obj_is_true(object) }
}

/// The bytes of any object with the buffer protocol (bytes, bytearray, memoryview, str
/// is refused: text is not data).
pub fn readable<'a>(object: Obj, name: &CStr) -> &'a [u8] {
    let mut info = sys::mp_buffer_info_t {
        buf: core::ptr::null_mut(),
        len: 0,
        typecode: 0,
    };
    // SAFETY: mp_get_buffer fills info for objects that support reading.
    let ok = unsafe { sys::mp_get_buffer(object, &mut info, sys::MP_BUFFER_READ as _) };
    if !ok || is_str(object) {
        raise_with_text(
            Kind::Type,
            c"%s must be bytes, bytearray or memoryview",
            name.to_bytes(),
        );
    }
    if info.len == 0 {
        return &[];
    }
    // SAFETY: the buffer belongs to `object`, which the caller keeps alive for the call.
    unsafe { core::slice::from_raw_parts(info.buf as *const u8, info.len) }
}

/// A buffer the probe may write into: bytearray or a writable memoryview. bytes and str
/// are immutable and refused with a TypeError that says so.
pub fn writable<'a>(object: Obj, name: &CStr) -> &'a mut [u8] {
    let mut info = sys::mp_buffer_info_t {
        buf: core::ptr::null_mut(),
        len: 0,
        typecode: 0,
    };
    // SAFETY: mp_get_buffer fills info only for objects that allow writing.
    let ok = unsafe { sys::mp_get_buffer(object, &mut info, sys::MP_BUFFER_WRITE as _) };
    if !ok {
        raise_with_text(
            Kind::Type,
            c"%s must be a bytearray or memoryview (bytes and str cannot be written into)",
            name.to_bytes(),
        );
    }
    if info.len == 0 {
        return &mut [];
    }
    // SAFETY: as in `readable`, and the object allows writes.
    unsafe { core::slice::from_raw_parts_mut(info.buf as *mut u8, info.len) }
}

fn is_str(object: Obj) -> bool {
    // SAFETY: reading the type of a live object.
    unsafe { sys::mp_obj_get_type(object) == &raw const sys::mp_type_str }
}

/// A list (or tuple) of objects.
pub fn sequence<'a>(object: Obj, name: &CStr) -> &'a [Obj] {
    // SAFETY: type checks only.
    let is_list = unsafe {
        let kind = sys::mp_obj_get_type(object);
        kind == &raw const sys::mp_type_list || kind == &raw const sys::mp_type_tuple
    };
    if !is_list {
        raise_with_text(Kind::Type, c"%s must be a list", name.to_bytes());
    }
    let mut length = 0;
    let mut items: *mut Obj = core::ptr::null_mut();
    // SAFETY: lists and tuples have an item array of `length` objects.
    unsafe {
        sys::mp_obj_get_array(object, &mut length, &mut items);
        if length == 0 {
            &[]
        } else {
            core::slice::from_raw_parts(items, length)
        }
    }
}

/// Text of a str argument.
pub fn text<'a>(object: Obj, name: &CStr) -> &'a [u8] {
    if !is_str(object) {
        raise_with_text(Kind::Type, c"%s must be a str", name.to_bytes());
    }
    let mut length = 0;
    // SAFETY: a str's data stays valid while the object lives.
    unsafe {
        let data = sys::mp_obj_str_get_data(object, &mut length);
        core::slice::from_raw_parts(data as *const u8, length)
    }
}

/// Reject a call with a clear message.
pub fn refuse(kind: Kind, message: &CStr) -> ! {
    raise(kind, message)
}
