//! Objects: `Obj`, a MicroPython object handle that only this module can make from a raw
//! pointer, and the objects bmp builds (ints, str, bytes, lists, tuples, dicts).
//!
//! Encoding: MICROPY_OBJ_REPR_A with immediate objects (py/obj.h); the C glue asserts
//! that the build uses it.

use super::sys;

/// A MicroPython object, as MicroPython hands it to bmp (an argument, a result, a root
/// slot) or as this module builds it. Safe code cannot forge one from an address, so the
/// safe functions of `mpy` that pass it to MicroPython hold a real object. Objects reached
/// only from Rust locals are kept alive by MicroPython's conservative scan of the stack.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Obj(sys::mp_obj_t);

impl Obj {
    /// # Safety
    /// `raw` is a valid object (or MP_OBJ_NULL where the caller checks for it).
    pub(in crate::mpy) const unsafe fn from_raw(raw: sys::mp_obj_t) -> Self {
        Obj(raw)
    }

    pub(in crate::mpy) const fn raw(self) -> sys::mp_obj_t {
        self.0
    }

    /// MP_OBJ_NULL, the "no object" of an empty root slot or a C call that made none.
    pub(in crate::mpy) const NULL: Obj = Obj(core::ptr::null_mut());

    /// Holds an object: neither MP_OBJ_NULL nor None.
    pub fn is_set(self) -> bool {
        !self.0.is_null() && self != NONE
    }
}

const fn immediate(value: usize) -> Obj {
    Obj(((value << 3) | 6) as sys::mp_obj_t)
}

pub const NONE: Obj = immediate(0);
pub const FALSE: Obj = immediate(1);
pub const TRUE: Obj = immediate(3);

pub fn bool(value: bool) -> Obj {
    if value { TRUE } else { FALSE }
}

/// Largest value of a small int (MP_SMALL_INT_MAX: one bit of the word is the tag).
const SMALL_INT_MAX: isize = isize::MAX >> 1;

/// An int: a small int (`MP_OBJ_NEW_SMALL_INT`) when it fits, else a big int.
pub fn small_int(value: isize) -> Obj {
    if (-SMALL_INT_MAX - 1..=SMALL_INT_MAX).contains(&value) {
        Obj(((value << 1) | 1) as sys::mp_obj_t)
    } else {
        int(value)
    }
}

/// `mp_obj_is_small_int`: tag bit 0 set.
pub fn is_small_int(object: Obj) -> bool {
    object.0 as usize & 1 == 1
}

/// `MP_OBJ_SMALL_INT_VALUE`: an arithmetic shift drops the tag.
pub fn small_int_value(object: Obj) -> isize {
    (object.0 as isize) >> 1
}

/// An int object for any u32 (a big int where a small int cannot hold it).
pub fn unsigned(value: u32) -> Obj {
    // SAFETY: allocates an int; may raise MemoryError.
    Obj(unsafe { sys::mp_obj_new_int_from_uint(value as sys::mp_uint_t) })
}

pub fn int(value: isize) -> Obj {
    // SAFETY: as above.
    Obj(unsafe { sys::mp_obj_new_int(value as sys::mp_int_t) })
}

/// A str object (the text must be UTF-8; ours is ASCII).
pub fn str(text: &str) -> Obj {
    // SAFETY: copies the text.
    Obj(unsafe { sys::mp_obj_new_str(text.as_ptr() as *const core::ffi::c_char, text.len()) })
}

pub fn bytes(data: &[u8]) -> Obj {
    // SAFETY: copies the data.
    Obj(unsafe { sys::mp_obj_new_bytes(data.as_ptr(), data.len()) })
}

/// A list built by bmp (only lists can be appended to).
#[derive(Clone, Copy)]
pub struct List(Obj);

impl List {
    pub fn new() -> Self {
        // SAFETY: an empty list.
        List(Obj(unsafe {
            sys::mp_obj_new_list(0, core::ptr::null_mut())
        }))
    }

    pub fn append(self, item: Obj) {
        // SAFETY: self.0 is a list (made by `new`).
        unsafe {
            sys::mp_obj_list_append(self.0.0, item.0);
        }
    }

    pub fn object(self) -> Obj {
        self.0
    }
}

pub fn tuple(items: &[Obj]) -> Obj {
    // SAFETY: copies the item handles; Obj is a transparent mp_obj_t.
    Obj(unsafe { sys::mp_obj_new_tuple(items.len(), items.as_ptr() as *const sys::mp_obj_t) })
}

/// A dict built by bmp.
#[derive(Clone, Copy)]
pub struct Dict(Obj);

impl Dict {
    pub fn new() -> Self {
        // SAFETY: an empty dict.
        Dict(Obj(unsafe { sys::mp_obj_new_dict(0) }))
    }

    pub fn store(self, key: &str, value: Obj) {
        // SAFETY: self.0 is a dict (made by `new`).
        unsafe {
            sys::mp_obj_dict_store(self.0.0, str(key).0, value.0);
        }
    }

    pub fn object(self) -> Obj {
        self.0
    }
}

/// The object can be called (a function, a bound method, a class with __call__).
pub fn is_callable(object: Obj) -> bool {
    // SAFETY: inspects the type of a live object.
    unsafe { sys::mp_obj_is_callable(object.0) }
}
