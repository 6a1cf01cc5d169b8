//! JTAG-DP access built from raw TCK sequences ([`Jtag::sequence`]): the chain set by
//! DAP_JTAG_Configure and DPACC/APACC transactions through the probe's one JTAG-DP scanner
//! (`wire::jtag::Scanner`, ADIv5.2 B3.3), with the IR remembered between transfers.
//!
//! Devices are numbered from TDO: device 0's registers are shifted out first, so the first
//! bits shifted in end up in it (IEEE 1149.1; CMSIS-DAP DAP_JTAG_Configure, as ARM's
//! reference firmware and OpenOCD's TAP order).

use crate::transfer::Link;
use crate::wire::{Board, Jtag, Port, TransferError};

/// Devices DAP_JTAG_Configure accepts.
pub use ::wire::jtag::MAX_DEVICES;
pub(crate) use ::wire::jtag::{Chain, Scanner, instruction};

/// DPACC/APACC transactions to one device; remembers the IR to skip IR scans.
pub(crate) struct JtagLink<'w, W> {
    pub scanner: Scanner<'w, W>,
    pub ir: Option<u32>,
}

impl<'w, W: Jtag> JtagLink<'w, W> {
    pub(crate) fn new(scanner: Scanner<'w, W>) -> Self {
        Self { scanner, ir: None }
    }

    pub(crate) fn select(&mut self, instruction: u32) {
        if self.ir != Some(instruction) {
            self.scanner.ir(instruction);
            self.ir = Some(instruction);
        }
    }

    /// A 35-bit DPACC/APACC or ABORT scan (ADIv5.2 B3.3.2): RnW, A[3:2], data in; ACK and
    /// the previous read result out.
    pub(crate) fn scan(
        &mut self,
        read: bool,
        address: u8,
        data: u32,
    ) -> Result<u32, TransferError> {
        self.scanner.dp_scan(read, address, data)
    }
}

impl<W: Jtag + Board> Link for JtagLink<'_, W> {
    fn access(
        &mut self,
        port: Port,
        read: bool,
        address: u8,
        data: u32,
    ) -> Result<u32, TransferError> {
        self.select(match port {
            Port::Dp => instruction::DPACC,
            Port::Ap => instruction::APACC,
        });
        self.scan(read, address, data)
    }

    fn posted(&self, _port: Port) -> bool {
        true
    }

    fn timestamp(&mut self) -> u32 {
        self.scanner.wire.timestamp()
    }

    fn take_abort(&mut self) -> bool {
        self.scanner.wire.take_abort()
    }
}
