//! The MicroPython side: bindings, object encoding, arguments, exceptions, printing.
//!
//! Rule for everything here: a function that may raise (longjmp) is called only where no
//! Rust value with a destructor is alive in the frames it jumps over.

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
pub mod exception;
pub mod object;
pub mod print;
pub mod text;

pub use sys::mp_obj_t as Obj;
