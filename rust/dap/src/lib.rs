//! A CMSIS-DAP v2.1 command processor (ARM CMSIS-DAP, "CMSIS-DAP Commands"), `no_std`, no
//! allocation.
//!
//! - Below: the probe implements the small traits of [`wire`]: [`Swj`] (pins, clock,
//!   SWJ sequences), [`Swd`] (one raw SWD transaction per call), [`Jtag`] (raw TCK cycles)
//!   and [`Board`] (delays, timestamps, LEDs, abort flag).
//! - Above: a transport (USB HID, USB bulk, TCP) hands each request to
//!   [`Dap::process`] and sends the response back. [`request_length`] finds where a
//!   request ends in a byte stream; [`tcp`] frames OpenOCD's `cmsis-dap backend tcp`
//!   packets; [`is_queued`] tells which packets DAP_QueueCommands holds back.
//!
//! Supported: DAP_Info, HostStatus, Connect, Disconnect, TransferConfigure, Transfer,
//! TransferBlock, TransferAbort, WriteABORT, Delay, ResetTarget, SWJ_Pins, SWJ_Clock,
//! SWJ_Sequence, SWD_Configure, SWD_Sequence, JTAG_Sequence, JTAG_Configure, JTAG_IDCODE,
//! ExecuteCommands, QueueCommands. SWO, UART and vendor commands answer 0xFF
//! (unimplemented; their capability bits are clear).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod buffer;
mod command;
mod config;
mod dap;
mod jtag;
pub mod tcp;
mod transfer;
pub mod wire;

pub use command::{Command, ID_INVALID, UnknownCommand, request_length};
pub use config::{Config, ConfigError, PROTOCOL_VERSION, Strings};
pub use dap::{Dap, Error};
pub use jtag::MAX_DEVICES;
pub use wire::{Board, HostStatus, Jtag, Mode, Port, Swd, SwdConfig, Swj, TransferError, Wire};

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
