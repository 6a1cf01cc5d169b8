//! The MicroPython side: bindings, objects, arguments, exceptions, printing, streams,
//! calls into Python, the port's clock, and the functions the C glue calls (`exports`).
//!
//! This is the only module of the crate with unsafe code (lib.rs denies it elsewhere,
//! each other module forbids it). Its safe functions are sound for any input safe code can
//! give them: `Obj` cannot be forged, no Rust reference into a Python object is handed
//! out, root slots are read and written by value.
//!
//! Rule for everything here: a function that may raise (longjmp) is called only where no
//! Rust value with a destructor is alive in the frames it jumps over.
#![allow(unsafe_code)]
// Parts of this API wait for the functions that will use them.
#![allow(dead_code)]

#[allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    dead_code,
    unsafe_op_in_unsafe_fn,
    unused_qualifications,
    clippy::all
)]
pub mod sys {
    include!(concat!(env!("OUT_DIR"), "/micropython.rs"));
}

pub mod argument;
pub mod call;
pub mod exception;
pub mod exclusive;
mod exports;
pub mod hal;
pub mod object;
pub mod print;
pub mod stream;
pub mod text;

pub use object::Obj;

/// The hosted core library refers to the unwinder's personality routine even with
/// panic=abort; nothing unwinds here.
#[cfg(all(target_os = "linux", not(feature = "host")))]
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}
