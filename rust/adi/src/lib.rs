//! ARM Debug Interface v5 (ADIv5.2, ARM IHI 0031): debug port and access port registers,
//! WAIT retry, sticky-error recovery, the MEM-AP with auto-increment, ROM table walks.
//!
//! The wire below is a [`Transport`]: one DP or AP register transaction at a time, as SWD
//! or as JTAG-DP scans. Timeouts come from a [`Clock`].
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod deadline;
mod debug_port;
mod error;
mod memory_ap;
pub mod registers;
mod rom_table;
mod transport;
mod wire_transport;

/// The bitfield crate, for [`register!`].
pub use bitfield;
pub use deadline::{Deadline, poll_memory};
pub use debug_port::{DebugPort, RunError, TRANSIENT_RETRIES, Timeouts};
pub use error::Error;
pub use memory_ap::{BANKED_BLOCK, BlockAccess, Memory, MemoryAp, MemoryPort};
pub use rom_table::{Component, ComponentKind, RomTable};
pub use transport::{Clock, Port, Swj, TransferError, Transport};

#[cfg(test)]
mod tests;
