//! A CMSIS-DAP v2.1 command processor (ARM CMSIS-DAP, "CMSIS-DAP Commands"), `no_std`, no
//! allocation.
//!
//! - Below: the probe implements the small traits of [`wire`]: [`Swj`] (pins, clock,
//!   SWJ sequences), [`Swd`] (one raw SWD transaction per call), [`Jtag`] (raw TCK cycles)
//!   and [`Board`] (delays, timestamps, LEDs, abort flag).
//! - Above: a transport (USB HID, USB bulk, TCP) hands each request to
//!   [`Dap::process`] and sends the response back. [`request_length`] finds where a
//!   request ends in a byte stream; [`tcp`] frames OpenOCD's `cmsis-dap backend tcp`
//!   packets; [`Queue`] holds DAP_QueueCommands packets back ([`is_queued`] tells which).
//!
//! Supported: DAP_Info, HostStatus, Connect, Disconnect, TransferConfigure, Transfer,
//! TransferBlock, TransferAbort, WriteABORT, Delay, ResetTarget, SWJ_Pins, SWJ_Clock,
//! SWJ_Sequence, SWD_Configure, SWD_Sequence, JTAG_Sequence, JTAG_Configure, JTAG_IDCODE,
//! ExecuteCommands, QueueCommands; the SWO commands on a board with an SWO receiver
//! ([`Board::swo_modes`]; [`pins::Serial`] for a [`pins::PinWire`]); the UART commands
//! on a board with a UART to the target ([`Board::has_uart`]). Vendor commands, and SWO
//! and UART commands elsewhere, answer 0xFF (unimplemented; their capability bits clear).
//!
//! # Behaviour worth knowing
//!
//! - **Bad requests** (short, inconsistent, or with a response that would not fit in
//!   `min(response buffer, packet size)`) are checked before anything reaches the wire.
//!   Commands whose response has a status byte answer `ID, 0xFF` (DAP_ERROR, CMSIS-DAP
//!   "Response Status"); the others (DAP_Info, DAP_Connect, DAP_Transfer,
//!   DAP_TransferBlock, DAP_SWJ_Pins, DAP_ExecuteCommands) answer the single byte 0xFF,
//!   which is what an unimplemented command answers (CMSIS-DAP "Commands"), so no host
//!   mistakes it for a result.
//! - **DAP_Transfer** follows ARM's reference firmware (`DAP.c`): SWD AP reads (and every
//!   JTAG-DP read) are posted, the last value comes from DP RDBUFF, a run ending in a write
//!   reads RDBUFF once more so that a write error shows in this response, and the run stops
//!   at the first error. The count is the transfers completed; a read is complete when its
//!   data is in the response, so a posted read whose data was lost to the next
//!   transaction's FAULT is not counted. Not connected: count 0, value 0.
//! - **DAP_TransferAbort** can only arrive between commands in a poll loop; then there is
//!   nothing to abort and it is answered with nothing. A transport that sees it while a
//!   transfer runs (an interrupt) sets the flag that [`Board::take_abort`] reports; the
//!   retry loops and the transfer loops stop there, and the command answers its partial
//!   results. A stale flag is dropped at the start of each transfer command.
//! - **DAP_QueueCommands**: the transport holds 0x7E packets ([`is_queued`], or a
//!   [`Queue`]) until one without 0x7E arrives, then passes them all to [`Dap::process`]
//!   in order; each gets a DAP_ExecuteCommands-style response (ID 0x7F), as ARM's
//!   reference firmware does.
//! - **Packets**: DAP_Info 0xFE/0xFF report [`Config::packet_count`] and
//!   [`Config::packet_size`]; the transport buffers that many requests and answers them in
//!   order. A HID transport pads each response to the report size.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod buffer;
mod command;
mod config;
mod dap;
mod jtag;
pub mod pins;
mod queue;
pub mod swo;
pub mod tcp;
mod transfer;
pub mod uart;
pub mod wire;

pub use command::{Command, ID_INVALID, UnknownCommand, request_length};
pub use config::{Config, ConfigError, PROTOCOL_VERSION, Strings, packet_size};
pub use dap::{Dap, Error};
pub use jtag::MAX_DEVICES;
pub use queue::{Queue, QueueError};
pub use wire::{
    Board, HostStatus, Jtag, Mode, Parity, Pin, Port, Swd, SwdConfig, Swj, SwoMode, TransferError,
    UartErrors, UartFault, UartFormat, Wire,
};

/// DAP_QueueCommands: the transport holds this packet and every following one until a
/// packet that does not start with 0x7E arrives, then hands them to [`Dap::process`] in
/// order; each gets its own response (CMSIS-DAP DAP_QueueCommands).
pub fn is_queued(request: &[u8]) -> bool {
    request.first() == Some(&(Command::QueueCommands as u8))
}

/// DAP_TransferAbort. It has no response; [`Dap::process`] answers it with nothing. A
/// transport that sees it while a transfer runs (an interrupt-driven USB receive) can set
/// the flag that [`Board::take_abort`] reports instead of queueing it.
pub fn is_transfer_abort(request: &[u8]) -> bool {
    request.first() == Some(&(Command::TransferAbort as u8))
}
