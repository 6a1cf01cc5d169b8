//! The wire engines as ADI transports: SWD packets, and JTAG-DP scans with their posted
//! results turned into the same read semantics.

use crate::registers::dp;
use crate::transport::{Port, Transport, TransportError};
use wire::Pins;
use wire::jtag::{JTAG_ACK_OK_FAULT, JTAG_ACK_WAIT, JtagDp};
use wire::swd::{Swd, SwdError};

impl From<SwdError> for TransportError {
    fn from(error: SwdError) -> Self {
        match error {
            SwdError::Wait => TransportError::Wait,
            SwdError::Fault => TransportError::Fault,
            SwdError::NoResponse => TransportError::NoResponse,
            SwdError::Parity => TransportError::Protocol,
        }
    }
}

impl<P: Pins> Transport for Swd<P> {
    fn read(&mut self, port: Port, address: u8) -> Result<u32, TransportError> {
        Ok(Swd::read(self, port == Port::Access, address)?)
    }

    fn write(&mut self, port: Port, address: u8, value: u32) -> Result<(), TransportError> {
        Ok(Swd::write(self, port == Port::Access, address, value)?)
    }

    /// Line reset, then DPIDR: the read that must follow a line reset (ADIv5.2 B4.3.3).
    fn resynchronise(&mut self) -> Result<(), TransportError> {
        self.line_reset();
        Swd::read(self, false, dp::DPIDR)?;
        Ok(())
    }
}

/// One scan, its ACK checked: WAIT means the request was not taken (ADIv5.2 B3.3.2).
fn checked_scan<P: Pins>(
    dp: &mut JtagDp<P>,
    access_port: bool,
    read: bool,
    address: u8,
    value: u32,
) -> Result<u32, TransportError> {
    match dp.scan(access_port, read, address, value) {
        (JTAG_ACK_OK_FAULT, result) => Ok(result),
        (JTAG_ACK_WAIT, _) => Err(TransportError::Wait),
        _ => Err(TransportError::NoResponse),
    }
}

impl<P: Pins> Transport for JtagDp<P> {
    /// Every JTAG-DP read is posted: a scan returns the result of the scan before it.
    /// DP reads are completed here with an RDBUFF scan; AP reads stay posted, as on SWD.
    /// Address 0 of the DP reads the DP TAP's IDCODE: a DPv0 JTAG-DP has no DPIDR.
    fn read(&mut self, port: Port, address: u8) -> Result<u32, TransportError> {
        match (port, address) {
            (Port::Access, _) => checked_scan(self, true, true, address, 0),
            (Port::Debug, dp::DPIDR) => Ok(self.idcode()),
            (Port::Debug, dp::RDBUFF) => checked_scan(self, false, true, dp::RDBUFF, 0),
            (Port::Debug, _) => {
                checked_scan(self, false, true, address, 0)?;
                checked_scan(self, false, true, dp::RDBUFF, 0)
            }
        }
    }

    /// ABORT has its own instruction on JTAG (B3.2.1); the rest are DPACC/APACC writes.
    fn write(&mut self, port: Port, address: u8, value: u32) -> Result<(), TransportError> {
        if port == Port::Debug && address == dp::ABORT {
            self.write_abort(value);
            return Ok(());
        }
        checked_scan(self, port == Port::Access, false, address, value).map(|_| ())
    }

    fn resynchronise(&mut self) -> Result<(), TransportError> {
        self.reset();
        Ok(())
    }
}
