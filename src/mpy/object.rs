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

/// The i-th of `n` positional arguments.
///
/// # Safety
/// `args` must point at `n` objects, as MicroPython passes them to a function.
pub unsafe fn arguments<'a>(args: *const Obj, n: usize) -> &'a [Obj] {
    if n == 0 { &[] } else { unsafe { core::slice::from_raw_parts(args, n) } }
}
