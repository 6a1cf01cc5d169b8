//! The GDB Remote Serial Protocol server of bmp (GDB manual, appendix E): framing,
//! packets, monitor commands and semihosting, over a `Target` (the debug session) and a
//! `Host` (the probe: client connection, console, files, Python). No I/O of its own.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod hex;
#[cfg(any(test, feature = "model"))]
pub mod model;
pub mod monitor;
mod monitor_rtt;
pub mod packet;
pub mod semihosting;
mod server;
mod target;

pub use monitor::Settings;
pub use server::{GDB_CRC, MAX_MEMORY, PACKET_SIZE, Server, crc32};
pub use target::{
    BreakWatch, FlashRegion, FlashWriter, HaltReason, HaltStatus, Host, Listed, REGISTER_COUNT,
    Target, WatchKind,
};

#[cfg(test)]
mod tests;
