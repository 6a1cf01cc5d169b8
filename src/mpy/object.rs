//! Object encoding for MICROPY_OBJ_REPR_A with immediate objects (py/obj.h); the C glue
//! asserts that the build uses it.

use super::Obj;

const fn immediate(value: usize) -> Obj {
    ((value << 3) | 6) as Obj
}

pub const NONE: Obj = immediate(0);
pub const FALSE: Obj = immediate(1);
pub const TRUE: Obj = immediate(3);

pub fn bool(value: bool) -> Obj {
    if value { TRUE } else { FALSE }
}

/// A small int (`MP_OBJ_NEW_SMALL_INT`); the caller keeps `value` within the small-int range.
pub fn small_int(value: isize) -> Obj {
    ((value << 1) | 1) as Obj
}

/// `mp_obj_is_small_int`: tag bit 0 set.
pub fn is_small_int(object: Obj) -> bool {
    object as usize & 1 == 1
}

/// `MP_OBJ_SMALL_INT_VALUE`: an arithmetic shift drops the tag.
pub fn small_int_value(object: Obj) -> isize {
    (object as isize) >> 1
}

/// The i-th of `n` positional arguments.
///
/// # Safety
/// `args` must point at `n` objects, as MicroPython passes them to a function.
pub unsafe fn arguments<'a>(args: *const Obj, n: usize) -> &'a [Obj] {
    if n == 0 {
        &[]
    } else {
        unsafe { core::slice::from_raw_parts(args, n) }
    }
}

use super::sys;

/// An int object for any u32 (a big int where a small int cannot hold it).
pub fn unsigned(value: u32) -> Obj {
    // SAFETY: allocates an int; may raise MemoryError.
    unsafe { sys::mp_obj_new_int_from_uint(value as sys::mp_uint_t) }
}

pub fn int(value: isize) -> Obj {
    // SAFETY: as above.
    unsafe { sys::mp_obj_new_int(value as sys::mp_int_t) }
}

/// A str object (the text must be UTF-8; ours is ASCII).
pub fn str(text: &str) -> Obj {
    // SAFETY: copies the text.
    unsafe { sys::mp_obj_new_str(text.as_ptr() as *const core::ffi::c_char, text.len()) }
}

pub fn bytes(data: &[u8]) -> Obj {
    // SAFETY: copies the data.
    unsafe { sys::mp_obj_new_bytes(data.as_ptr(), data.len()) }
}

pub fn new_list() -> Obj {
    // SAFETY: an empty list.
    unsafe { sys::mp_obj_new_list(0, core::ptr::null_mut()) }
}

pub fn list_append(list: Obj, item: Obj) {
    // SAFETY: list is a list made by new_list.
    unsafe {
        sys::mp_obj_list_append(list, item);
    }
}

pub fn tuple(items: &[Obj]) -> Obj {
    // SAFETY: copies the item pointers.
    unsafe { sys::mp_obj_new_tuple(items.len(), items.as_ptr()) }
}

pub fn new_dict() -> Obj {
    // SAFETY: an empty dict.
    unsafe { sys::mp_obj_new_dict(0) }
}

pub fn dict_store(dict: Obj, key: &str, value: Obj) {
    // SAFETY: dict is a dict made by new_dict.
    unsafe {
        sys::mp_obj_dict_store(dict, str(key), value);
    }
}
