//! Converting arguments. Each function raises TypeError/ValueError/OverflowError on bad
//! input, so call them before any Rust value with a destructor is alive.
//!
//! Nothing here hands out a Rust reference into a Python object: a buffer's bytes are
//! copied in and out at the moment of the copy (`Bytes`, `BytesMut`), text and lists are
//! copied into fixed arrays. So two arguments that are one bytearray
//! (`dap.process(buf, buf)`) cannot make a `&[u8]` and a `&mut [u8]` alias, and Python
//! code that resizes a buffer between two accesses cannot leave one dangling.

use super::exception::{Kind, raise, raise_with_text};
use super::object::{self, Obj};
use super::sys;
use super::text::FixedText;
use core::ffi::CStr;

/// The positional arguments of one call from MicroPython.
#[derive(Clone, Copy)]
pub struct Arguments<'call> {
    objects: &'call [Obj],
}

impl<'call> Arguments<'call> {
    /// # Safety
    /// `pointer` points at `n` objects that stay valid for `'call`, and `'call` ends when
    /// the call from MicroPython returns (MicroPython passes a function's positional
    /// arguments this way: `mp_fun_var_t`, py/obj.h).
    pub(in crate::mpy) unsafe fn from_raw(n: usize, pointer: *const sys::mp_obj_t) -> Self {
        let objects = if n == 0 || pointer.is_null() {
            &[]
        } else {
            // SAFETY: as the caller promises; Obj is a transparent mp_obj_t.
            unsafe { core::slice::from_raw_parts(pointer as *const Obj, n) }
        };
        Self { objects }
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn get(&self, index: usize) -> Option<Obj> {
        self.objects.get(index).copied()
    }

    /// The `index`th argument (the C glue checks the count; a missing one is TypeError).
    pub fn at(&self, index: usize) -> Obj {
        match self.objects.get(index) {
            Some(&object) => object,
            None => raise(Kind::Type, c"missing argument"),
        }
    }
}

/// An int that fits an unsigned 32-bit target address or word (0 to 0xFFFFFFFF, also on
/// a 32-bit MCU where the upper half needs a big int).
pub fn unsigned32(object: Obj, name: &CStr) -> u32 {
    if object::is_small_int(object) {
        let value = object::small_int_value(object);
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
        if sys::mp_obj_get_type(object.raw()) != &raw const sys::mp_type_int {
            raise_with_text(Kind::Type, c"%s must be an int", name.to_bytes());
        }
        if sys::mp_obj_int_sign(object.raw()) < 0 {
            raise_with_text(Kind::Value, c"%s must not be negative", name.to_bytes());
        }
        // A big int: compare with 0xFFFFFFFF as Python does, then convert.
        let limit = object::unsigned(0xFFFF_FFFF);
        let above = sys::mp_binary_op(
            sys::mp_binary_op_t_MP_BINARY_OP_MORE,
            object.raw(),
            limit.raw(),
        );
        if above == object::TRUE.raw() {
            raise_with_text(Kind::Value, c"%s must fit in 32 bits", name.to_bytes());
        }
        sys::mp_obj_int_get_uint_checked(object.raw()) as u32
    }
}

/// A non-negative int.
pub fn count(object: Obj, name: &CStr) -> usize {
    // SAFETY: raises TypeError for a non-int, which is what we want.
    let value = unsafe { sys::mp_obj_get_int(object.raw()) };
    if value < 0 {
        raise_with_text(Kind::Value, c"%s must not be negative", name.to_bytes());
    }
    value as usize
}

pub fn truth(object: Obj) -> bool {
    // SAFETY: any object has a truth value (may call __bool__, which may raise).
    unsafe { sys::mp_obj_is_true(object.raw()) }
}

fn is_str(object: Obj) -> bool {
    // SAFETY: reading the type of a live object.
    unsafe { sys::mp_obj_get_type(object.raw()) == &raw const sys::mp_type_str }
}

/// Where a buffer's bytes are now: (address, length), or None if the object no longer
/// offers them with `flags`.
fn buffer_now(object: Obj, flags: u32) -> Option<(*mut u8, usize)> {
    let mut info = sys::mp_buffer_info_t {
        buf: core::ptr::null_mut(),
        len: 0,
        typecode: 0,
    };
    // SAFETY: mp_get_buffer fills `info` for objects with the buffer protocol and returns
    // false (without raising) for others.
    let ok = unsafe { sys::mp_get_buffer(object.raw(), &mut info, flags as _) };
    (ok && (info.len == 0 || !info.buf.is_null())).then_some((info.buf as *mut u8, info.len))
}

/// A bytes-like argument to read from: bytes, bytearray or memoryview (str is refused:
/// text is not data). Its bytes are copied out when asked for.
#[derive(Clone, Copy)]
pub struct Bytes {
    object: Obj,
}

impl Bytes {
    pub fn new(object: Obj, name: &CStr) -> Self {
        if is_str(object) || buffer_now(object, sys::MP_BUFFER_READ).is_none() {
            raise_with_text(
                Kind::Type,
                c"%s must be bytes, bytearray or memoryview",
                name.to_bytes(),
            );
        }
        Self { object }
    }

    /// The length now.
    pub fn len(&self) -> usize {
        buffer_now(self.object, sys::MP_BUFFER_READ).map_or(0, |(_, length)| length)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copy bytes from `offset` on into `out`; the count copied (fewer at the end).
    pub fn copy_out(&self, offset: usize, out: &mut [u8]) -> usize {
        let Some((data, length)) = buffer_now(self.object, sys::MP_BUFFER_READ) else {
            return 0;
        };
        let count = length.saturating_sub(offset).min(out.len());
        if count > 0 {
            // SAFETY: `data` holds `length` bytes now and offset + count <= length; no Rust
            // reference to them exists (`ptr::copy` allows any overlap).
            unsafe { core::ptr::copy(data.add(offset), out.as_mut_ptr(), count) };
        }
        count
    }
}

/// A buffer argument the probe writes into: bytearray or a writable memoryview (bytes
/// and str are immutable and refused). Bytes are copied in when given.
#[derive(Clone, Copy)]
pub struct BytesMut {
    object: Obj,
}

impl BytesMut {
    pub fn new(object: Obj, name: &CStr) -> Self {
        if buffer_now(object, sys::MP_BUFFER_WRITE).is_none() {
            raise_with_text(
                Kind::Type,
                c"%s must be a bytearray or memoryview (bytes and str cannot be written into)",
                name.to_bytes(),
            );
        }
        Self { object }
    }

    /// The length now.
    pub fn len(&self) -> usize {
        buffer_now(self.object, sys::MP_BUFFER_WRITE).map_or(0, |(_, length)| length)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copy `data` into the buffer at `offset`; the count copied (cut at its end).
    pub fn copy_in(&self, offset: usize, data: &[u8]) -> usize {
        let Some((buffer, length)) = buffer_now(self.object, sys::MP_BUFFER_WRITE) else {
            return 0;
        };
        let count = length.saturating_sub(offset).min(data.len());
        if count > 0 {
            // SAFETY: `buffer` holds `length` writable bytes now; offset + count <= length.
            unsafe { core::ptr::copy(data.as_ptr(), buffer.add(offset), count) };
        }
        count
    }

    /// Set every byte from `offset` to the end to `value`.
    pub fn fill_from(&self, offset: usize, value: u8) {
        let Some((buffer, length)) = buffer_now(self.object, sys::MP_BUFFER_WRITE) else {
            return;
        };
        if offset < length {
            // SAFETY: as in `copy_in`.
            unsafe { core::ptr::write_bytes(buffer.add(offset), value, length - offset) };
        }
    }
}

/// Up to N objects of a list or tuple, copied out of it.
pub struct Items<const N: usize> {
    objects: [Obj; N],
    length: usize,
}

impl<const N: usize> Items<N> {
    pub fn as_slice(&self) -> &[Obj] {
        &self.objects[..self.length]
    }
}

/// A list (or tuple) of at most N objects; a longer one raises ValueError `too_long`.
pub fn sequence<const N: usize>(object: Obj, name: &CStr, too_long: &CStr) -> Items<N> {
    // SAFETY: type checks only.
    let is_list = unsafe {
        let kind = sys::mp_obj_get_type(object.raw());
        kind == &raw const sys::mp_type_list || kind == &raw const sys::mp_type_tuple
    };
    if !is_list {
        raise_with_text(Kind::Type, c"%s must be a list", name.to_bytes());
    }
    let mut length = 0;
    let mut items: *mut sys::mp_obj_t = core::ptr::null_mut();
    // SAFETY: lists and tuples have an item array of `length` objects.
    unsafe { sys::mp_obj_get_array(object.raw(), &mut length, &mut items) };
    if length > N {
        raise(Kind::Value, too_long);
    }
    let mut copy = Items {
        objects: [object::NONE; N],
        length,
    };
    for (index, slot) in copy.objects[..length].iter_mut().enumerate() {
        // SAFETY: index < length; read before any Python code could change the list.
        *slot = unsafe { Obj::from_raw(*items.add(index)) };
    }
    copy
}

/// The text of a str argument, copied; longer than N bytes raises ValueError `too_long`.
pub fn text<const N: usize>(object: Obj, name: &CStr, too_long: &CStr) -> FixedText<N> {
    if !is_str(object) {
        raise_with_text(Kind::Type, c"%s must be a str", name.to_bytes());
    }
    let mut length = 0;
    // SAFETY: a str's data stays valid and unchanged while the object lives; it is copied
    // before anything else runs.
    let data = unsafe { sys::mp_obj_str_get_data(object.raw(), &mut length) };
    if length > N {
        raise(Kind::Value, too_long);
    }
    let mut copy = FixedText::new();
    // SAFETY: `data` holds `length` bytes.
    copy.push_bytes(unsafe { core::slice::from_raw_parts(data.cast::<u8>(), length) });
    copy
}

/// The object is a dict.
pub fn is_dict(object: Obj) -> bool {
    // SAFETY: reading the type of a live object.
    unsafe { sys::mp_obj_get_type(object.raw()) == &raw const sys::mp_type_dict }
}

/// `dict[key]`, or None if the key is missing; `dict` must be a dict (`is_dict`).
pub fn dict_item(dict: Obj, key: &str) -> Option<Obj> {
    if !is_dict(dict) {
        return None;
    }
    let key = object::str(key);
    // SAFETY: `dict` is a dict (checked), so it is an mp_obj_dict_t and its map is valid
    // (mp_obj_dict_get_map, py/obj.h, with MICROPY_OBJ_REPR_A's identity MP_OBJ_TO_PTR);
    // a lookup does not change it. The element is read before anything else runs.
    unsafe {
        let dict = dict.raw() as *mut sys::mp_obj_dict_t;
        let element = sys::mp_map_lookup(
            &raw mut (*dict).map,
            key.raw(),
            sys::_mp_map_lookup_kind_t_MP_MAP_LOOKUP,
        );
        if element.is_null() {
            None
        } else {
            Some(Obj::from_raw((*element).value))
        }
    }
}

/// A str argument read a piece at a time (e.g. base64 text too long to copy at once).
#[derive(Clone, Copy)]
pub struct Str {
    object: Obj,
}

impl Str {
    /// Some if `object` is a str.
    pub fn new(object: Obj) -> Option<Self> {
        is_str(object).then_some(Self { object })
    }

    fn data(&self) -> (*const u8, usize) {
        let mut length = 0;
        // SAFETY: a str (checked in `new`); its data stays valid while the object lives.
        let data = unsafe { sys::mp_obj_str_get_data(self.object.raw(), &mut length) };
        (data.cast::<u8>(), length)
    }

    pub fn len(&self) -> usize {
        self.data().1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copy bytes from `offset` on into `out`; the count copied (fewer at the end).
    pub fn copy_out(&self, offset: usize, out: &mut [u8]) -> usize {
        let (data, length) = self.data();
        let count = length.saturating_sub(offset).min(out.len());
        if count > 0 {
            // SAFETY: `data` holds `length` bytes and offset + count <= length.
            unsafe { core::ptr::copy(data.add(offset), out.as_mut_ptr(), count) };
        }
        count
    }
}

/// Reject a call with a clear message.
pub fn refuse(kind: Kind, message: &CStr) -> ! {
    raise(kind, message)
}
