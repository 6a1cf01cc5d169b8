//! Errors of the ADI layer, with what was being accessed.

use crate::transport::{Port, TransferError};
use core::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Nothing answered the debug port (no target, no power, wiring).
    NoResponse,
    /// The target kept answering WAIT past the timeout; the transaction was aborted.
    WaitTimeout { port: Port, address: u8 },
    /// A sticky error was set (CTRL/STAT value given); it has been cleared.
    Fault { ctrl_stat: u32 },
    /// The line lost sync (parity error); it has been resynchronised.
    Protocol,
    /// CDBGPWRUPACK/CSYSPWRUPACK did not come up in time (ADIv5.2 B2.2.2).
    PowerUpTimeout,
    /// The access port is not a MEM-AP (IDR given).
    NotMemoryAp { ap: u8, idr: u32 },
    /// The address or length is not aligned as the access requires.
    Unaligned { address: u32 },
    /// A bus access through the MEM-AP failed (a sticky error after the access).
    Bus { address: u32 },
    /// Multi-drop selection needs SWD (the wire is JTAG).
    MultidropUnsupported,
    /// The DP TARGETSEL selected is not a multi-drop DP (version below 2) or another
    /// instance answered (DLPIDR's TINSTANCE).
    MultidropMismatch { dpidr: u32, dlpidr: u32 },
}

impl Error {
    /// An error that may be transient: a FAULT answer (a sticky flag, cleared since; in a
    /// memory access an [`Error::Bus`]), no answer, or a parity error (the line
    /// resynchronised since). The access may succeed if run again, where running it again
    /// is safe.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Fault { .. } | Error::Bus { .. } | Error::NoResponse | Error::Protocol
        )
    }

    pub(crate) fn from_transport(error: TransferError, port: Port, address: u8) -> Self {
        match error {
            TransferError::Wait => Error::WaitTimeout { port, address },
            TransferError::Fault => Error::Fault { ctrl_stat: 0 },
            TransferError::NoResponse => Error::NoResponse,
            TransferError::Parity => Error::Protocol,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoResponse => write!(
                f,
                "no response from the debug port (check wiring and target power)"
            ),
            Error::WaitTimeout { port, address } => {
                let port = match port {
                    Port::Dp => "Debug",
                    Port::Ap => "Access",
                };
                write!(
                    f,
                    "target kept answering WAIT ({port} port register 0x{address:x})"
                )
            }
            Error::Fault { ctrl_stat } => {
                write!(f, "debug port fault (CTRL/STAT 0x{ctrl_stat:08x})")
            }
            Error::Protocol => write!(f, "SWD/JTAG protocol error (parity); line resynchronised"),
            Error::PowerUpTimeout => write!(f, "debug power-up not acknowledged"),
            Error::MultidropUnsupported => {
                write!(f, "SWD multi-drop target selection needs an SWD wire")
            }
            Error::MultidropMismatch { dpidr, dlpidr } => write!(
                f,
                "the selected multi-drop DP does not match (DPIDR 0x{dpidr:08x}, DLPIDR \
                 0x{dlpidr:08x})"
            ),
            Error::NotMemoryAp { ap, idr } => {
                write!(f, "AP {ap} is not a MEM-AP (IDR 0x{idr:08x})")
            }
            Error::Unaligned { address } => write!(f, "unaligned access at 0x{address:08x}"),
            Error::Bus { address } => write!(f, "bus error at 0x{address:08x}"),
        }
    }
}
