//! A server's connection to its client: a MicroPython stream given by the user (a UART, a
//! USB VCP), or a TCP port served through the port's socket module with one client at a
//! time. The Python objects live in GC root slots (C glue), never in Rust statics.
//!
//! Calls that may raise go through the C trampoline; errors come back as values.

use crate::mpy::sys::{self, bmp_root_t};
use crate::mpy::{Obj, object};
use core::ffi::c_void;

/// What a connection needs from its owner: which root slots hold its objects.
#[derive(Clone, Copy)]
pub struct Slots {
    pub listener: bmp_root_t,
    pub stream: bmp_root_t,
}

/// Why reading or writing stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// The client went away (end of stream); a TCP server waits for the next one.
    Hangup,
    /// An I/O error (errno).
    Error(i32),
}

/// A GC root slot of the C glue (bmp_stream.h): a server's stream, a callback.
pub fn slot(slot: bmp_root_t) -> &'static mut Obj {
    // SAFETY: bmp_stream_root returns a pointer into MP_STATE_VM, valid for the program's
    // life; only the poll thread touches these slots.
    unsafe { &mut *sys::bmp_stream_root(slot) }
}

/// A slot holds an object (not empty, not None).
pub fn is_set(value: Obj) -> bool {
    !value.is_null() && value != object::NONE
}

/// Serve on a stream object (checked to have read, write and ioctl; raises if not).
pub fn open_stream(slots: Slots, stream: Obj) {
    // SAFETY: raises OSError if the object is not a stream; nothing of ours is alive.
    unsafe { sys::bmp_stream_check(stream) };
    close(slots);
    *slot(slots.stream) = stream;
}

/// Listen on a TCP port of the loopback-or-any address `host` (raises on failure).
pub fn open_tcp(slots: Slots, host: &core::ffi::CStr, port: u16) {
    close(slots);
    // SAFETY: raises on failure (port in use, no socket module); nothing of ours is alive.
    let listener = unsafe { sys::bmp_stream_tcp_listen(host.as_ptr(), port as sys::mp_int_t) };
    *slot(slots.listener) = listener;
}

/// Close the client and the listener.
pub fn close(slots: Slots) {
    for which in [slots.stream, slots.listener] {
        let value = *slot(which);
        if is_set(value) {
            // SAFETY: bmp_stream_close catches what closing raises.
            unsafe { sys::bmp_stream_close(value) };
        }
        *slot(which) = core::ptr::null_mut();
    }
}

pub fn is_open(slots: Slots) -> bool {
    is_set(*slot(slots.listener)) || is_set(*slot(slots.stream))
}

/// A client stream is there to talk to.
pub fn has_client(slots: Slots) -> bool {
    is_set(*slot(slots.stream))
}

/// Close the client only: a TCP server goes back to waiting; a user stream is dropped.
pub fn hang_up(slots: Slots) {
    let stream = *slot(slots.stream);
    if is_set(stream) && is_set(*slot(slots.listener)) {
        // SAFETY: as in `close`.
        unsafe { sys::bmp_stream_close(stream) };
    }
    *slot(slots.stream) = core::ptr::null_mut();
}

struct Accept {
    listener: Obj,
    client: Obj,
}

extern "C" fn accept_trampoline(context: *mut c_void) {
    // SAFETY: `context` is the `Accept` passed by `accept` below.
    let accept = unsafe { &mut *(context as *mut Accept) };
    // SAFETY: raises on errors other than "nothing waiting"; caught by the trampoline.
    accept.client = unsafe { sys::bmp_stream_tcp_accept(accept.listener) };
}

/// Take a waiting TCP client. While one is connected, a newcomer is left in the listen
/// backlog (its connect has completed; it is served when the current client leaves), so a
/// client that closes and reconnects at once is never reset. Returns true when a new client
/// arrived.
pub fn accept(slots: Slots) -> Result<bool, Obj> {
    let listener = *slot(slots.listener);
    if !is_set(listener) || has_client(slots) {
        return Ok(false);
    }
    let mut attempt = Accept {
        listener,
        client: core::ptr::null_mut(),
    };
    // SAFETY: the trampoline catches exceptions; `attempt` outlives the call.
    let exception = unsafe {
        sys::bmp_glue_call_protected(
            Some(accept_trampoline),
            &mut attempt as *mut Accept as *mut c_void,
        )
    };
    if !exception.is_null() {
        return Err(exception);
    }
    if attempt.client.is_null() {
        return Ok(false);
    }
    *slot(slots.stream) = attempt.client;
    Ok(true)
}

/// Read what has arrived (0 when nothing has).
pub fn read(slots: Slots, buffer: &mut [u8]) -> Result<usize, Closed> {
    let stream = *slot(slots.stream);
    if !is_set(stream) {
        return Ok(0);
    }
    // SAFETY: reads through the stream protocol without raising.
    let count = unsafe { sys::bmp_stream_read(stream, buffer.as_mut_ptr(), buffer.len()) };
    match count {
        0 => Err(Closed::Hangup),
        count if count > 0 => Ok(count as usize),
        error if -error == sys::MP_EAGAIN as sys::mp_int_t => Ok(0),
        error => Err(Closed::Error(-error as i32)),
    }
}

/// Write all of `data` to the client.
pub fn write(slots: Slots, data: &[u8]) -> Result<(), Closed> {
    let stream = *slot(slots.stream);
    if !is_set(stream) || data.is_empty() {
        return Ok(());
    }
    // SAFETY: writes through the stream protocol without raising.
    match unsafe { sys::bmp_stream_write(stream, data.as_ptr(), data.len()) } {
        0 => Ok(()),
        error => Err(Closed::Error(-error as i32)),
    }
}
