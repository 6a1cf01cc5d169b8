//! A server's connection to its client: a MicroPython stream given by the user (a UART, a
//! USB VCP), or a TCP port served through the port's socket module with one client at a
//! time. The Python objects live in GC root slots (C glue), never in Rust statics.
//!
//! Calls that may raise go through the C trampoline; errors come back as values.
#![forbid(unsafe_code)]

use crate::mpy::Obj;
use crate::mpy::stream::{self, Root};

/// What a connection needs from its owner: which root slots hold its objects.
#[derive(Clone, Copy)]
pub struct Slots {
    pub listener: Root,
    pub stream: Root,
}

/// Why reading or writing stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// The client went away (end of stream); a TCP server waits for the next one.
    Hangup,
    /// An I/O error (errno).
    Error(i32),
}

/// Serve on a stream object (checked to have read, write and ioctl; raises if not).
pub fn open_stream(slots: Slots, client: Obj) {
    stream::check(client);
    close(slots);
    stream::set_root(slots.stream, client);
}

/// Listen on a TCP port of the loopback-or-any address `host` (raises on failure).
pub fn open_tcp(slots: Slots, host: &core::ffi::CStr, port: u16) {
    close(slots);
    // Raises on failure (port in use, no socket module); nothing of ours is alive.
    let listener = stream::tcp_listen(host, port);
    stream::set_root(slots.listener, listener);
}

/// Close the client and the listener.
pub fn close(slots: Slots) {
    for which in [slots.stream, slots.listener] {
        let value = stream::root(which);
        if value.is_set() {
            stream::close(value);
        }
        stream::clear_root(which);
    }
}

pub fn is_open(slots: Slots) -> bool {
    stream::root(slots.listener).is_set() || stream::root(slots.stream).is_set()
}

/// A client stream is there to talk to.
pub fn has_client(slots: Slots) -> bool {
    stream::root(slots.stream).is_set()
}

/// Close the client only: a TCP server goes back to waiting; a user stream is dropped.
pub fn hang_up(slots: Slots) {
    let client = stream::root(slots.stream);
    if client.is_set() && stream::root(slots.listener).is_set() {
        stream::close(client);
    }
    stream::clear_root(slots.stream);
}

/// Take a waiting TCP client. While one is connected, a newcomer is left in the listen
/// backlog (its connect has completed; it is served when the current client leaves), so a
/// client that closes and reconnects at once is never reset. Returns true when a new client
/// arrived.
pub fn accept(slots: Slots) -> Result<bool, Obj> {
    let listener = stream::root(slots.listener);
    if !listener.is_set() || has_client(slots) {
        return Ok(false);
    }
    let Some(client) = stream::tcp_accept(listener)? else {
        return Ok(false);
    };
    stream::set_root(slots.stream, client);
    Ok(true)
}

/// Read what has arrived (0 when nothing has).
pub fn read(slots: Slots, buffer: &mut [u8]) -> Result<usize, Closed> {
    let client = stream::root(slots.stream);
    if !client.is_set() {
        return Ok(0);
    }
    match stream::read(client, buffer) {
        0 => Err(Closed::Hangup),
        count if count > 0 => Ok(count as usize),
        error if -error == stream::EAGAIN => Ok(0),
        error => Err(Closed::Error(-error as i32)),
    }
}

/// Write all of `data` to the client.
pub fn write(slots: Slots, data: &[u8]) -> Result<(), Closed> {
    let client = stream::root(slots.stream);
    if !client.is_set() || data.is_empty() {
        return Ok(());
    }
    match stream::write(client, data) {
        0 => Ok(()),
        error => Err(Closed::Error(-error as i32)),
    }
}
