//! The C glue's GC root slots and byte streams (modules/bmp/bmp_stream.c): a server's
//! listener and client, callbacks. Slots are read and written by value, never lent out.

use super::object::Obj;
use super::sys;
pub use sys::bmp_root_t as Root;

/// The object in a root slot (MP_OBJ_NULL when empty; test with `Obj::is_set`).
pub fn root(slot: Root) -> Obj {
    // SAFETY: bmp_stream_root points into MP_STATE_VM, valid for the program's life; the
    // slot holds MP_OBJ_NULL or an object that the slot keeps alive.
    unsafe { Obj::from_raw(*sys::bmp_stream_root(slot)) }
}

/// Put an object in a root slot (it stays alive while there).
pub fn set_root(slot: Root, object: Obj) {
    // SAFETY: as in `root`; the write ends before this function returns.
    unsafe { *sys::bmp_stream_root(slot) = object.raw() };
}

/// Empty a root slot.
pub fn clear_root(slot: Root) {
    set_root(slot, Obj::NULL);
}

/// Raise OSError unless the object is a stream with read, write and ioctl.
pub fn check(stream: Obj) {
    // SAFETY: inspects the object's type; raises if it is not a stream.
    unsafe { sys::bmp_stream_check(stream.raw()) };
}

/// A listening TCP socket on `host`:`port` (raises on failure: port in use, no socket
/// module).
pub fn tcp_listen(host: &core::ffi::CStr, port: u16) -> Obj {
    // SAFETY: `host` is NUL-terminated; raises on failure.
    unsafe {
        Obj::from_raw(sys::bmp_stream_tcp_listen(
            host.as_ptr(),
            port as sys::mp_int_t,
        ))
    }
}

struct Accept {
    listener: sys::mp_obj_t,
    client: sys::mp_obj_t,
}

extern "C" fn accept_trampoline(context: *mut core::ffi::c_void) {
    // SAFETY: `context` is the `Accept` that `tcp_accept` passes, alive during the call.
    let accept = unsafe { &mut *(context as *mut Accept) };
    // SAFETY: raises on errors other than "nothing waiting"; the trampoline catches them.
    accept.client = unsafe { sys::bmp_stream_tcp_accept(accept.listener) };
}

/// A waiting client of a listener: Ok(None) when none waits, Err(exception) when
/// accepting raised.
pub fn tcp_accept(listener: Obj) -> Result<Option<Obj>, Obj> {
    let mut attempt = Accept {
        listener: listener.raw(),
        client: core::ptr::null_mut(),
    };
    // SAFETY: the trampoline catches exceptions; `attempt` outlives the call.
    let exception = unsafe {
        sys::bmp_glue_call_protected(
            Some(accept_trampoline),
            &mut attempt as *mut Accept as *mut core::ffi::c_void,
        )
    };
    if !exception.is_null() {
        // SAFETY: the exception object the trampoline caught.
        return Err(unsafe { Obj::from_raw(exception) });
    }
    if attempt.client.is_null() {
        return Ok(None);
    }
    // SAFETY: a socket object returned by accept.
    Ok(Some(unsafe { Obj::from_raw(attempt.client) }))
}

/// Read what has arrived into `buffer`: the count, 0 at the end of the stream, or a
/// negative errno (-MP_EAGAIN: nothing yet). Never raises.
pub fn read(stream: Obj, buffer: &mut [u8]) -> isize {
    // SAFETY: reads through the stream protocol into `buffer` (at most its length),
    // catching what the stream raises.
    unsafe { sys::bmp_stream_read(stream.raw(), buffer.as_mut_ptr(), buffer.len()) as isize }
}

/// Write all of `data`: 0, or a negative errno. Never raises.
pub fn write(stream: Obj, data: &[u8]) -> isize {
    // SAFETY: the stream reads `data` during the call only.
    unsafe { sys::bmp_stream_write(stream.raw(), data.as_ptr(), data.len()) as isize }
}

/// Write what the stream takes now, without waiting: the count (0 when it is full), or a
/// negative errno. Never raises.
pub fn write_some(stream: Obj, data: &[u8]) -> isize {
    // SAFETY: the stream reads `data` during the call only.
    unsafe { sys::bmp_stream_write_some(stream.raw(), data.as_ptr(), data.len()) as isize }
}

/// Close a stream or socket, ignoring what closing raises.
pub fn close(stream: Obj) {
    // SAFETY: bmp_stream_close catches what closing raises.
    unsafe { sys::bmp_stream_close(stream.raw()) };
}

/// How many of the host's idle waits (time.sleep) a GDB or CMSIS-DAP server's socket
/// ended early (boards' waits end at an interrupt).
#[cfg(feature = "host")]
pub fn socket_wakeups() -> u32 {
    // SAFETY: reads a counter of the C glue.
    unsafe { sys::bmp_stream_socket_wakeups() }
}

/// The errno of "nothing to read yet".
pub const EAGAIN: isize = sys::MP_EAGAIN as isize;
