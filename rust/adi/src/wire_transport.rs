//! The wire engines as ADI transports: SWD packets, and JTAG-DP scans with their posted
//! results turned into the same read semantics.

use crate::registers::{DpRegister, dp};
use crate::transport::Transport;
use wire::jtag::JtagDp;
use wire::swd::Swd;
use wire::{Pins, Port, TransferError};

impl<P: Pins> Transport for Swd<P> {
    fn read(&mut self, port: Port, address: u8) -> Result<u32, TransferError> {
        Swd::read(self, port, address)
    }

    fn write(&mut self, port: Port, address: u8, value: u32) -> Result<(), TransferError> {
        Swd::write(self, port, address, value)
    }

    /// Line reset (and TARGETSEL on a multi-drop wire), then DPIDR: the read that must
    /// follow a line reset (ADIv5.2 B4.3.3, B4.3.4).
    fn resynchronise(&mut self) -> Result<(), TransferError> {
        self.set_burst(false);
        self.reset_and_select();
        Swd::read(self, Port::Dp, dp::DPIDR)?;
        Ok(())
    }

    fn select_target(&mut self, target_select: u32) -> bool {
        self.set_burst(false);
        self.set_target_select(Some(target_select));
        self.reset_and_select();
        true
    }

    fn wake_from_dormant(&mut self) -> bool {
        self.set_burst(false);
        self.set_target_select(None);
        self.switch_through_dormant();
        true
    }

    fn set_burst(&mut self, on: bool) {
        Swd::set_burst(self, on);
    }
}

impl<P: Pins> Transport for JtagDp<P> {
    /// Every JTAG-DP read is posted: a scan returns the result of the scan before it.
    /// DP reads are completed here with an RDBUFF scan; AP reads stay posted, as on SWD.
    /// Address 0 of the DP reads the DP TAP's IDCODE: a DPv0 JTAG-DP has no DPIDR.
    fn read(&mut self, port: Port, address: u8) -> Result<u32, TransferError> {
        match (port, address) {
            (Port::Ap, _) => self.scan(Port::Ap, true, address, 0),
            (Port::Dp, dp::DPIDR) => Ok(self.idcode()),
            (Port::Dp, dp::RDBUFF) => self.scan(Port::Dp, true, dp::RDBUFF, 0),
            (Port::Dp, _) => {
                self.scan(Port::Dp, true, address, 0)?;
                self.scan(Port::Dp, true, dp::RDBUFF, 0)
            }
        }
    }

    /// ABORT has its own instruction on JTAG (B3.2.1); the rest are DPACC/APACC writes.
    fn write(&mut self, port: Port, address: u8, value: u32) -> Result<(), TransferError> {
        if port == Port::Dp && address == dp::Abort::ADDRESS {
            self.write_abort(value);
            return Ok(());
        }
        self.scan(port, false, address, value).map(|_| ())
    }

    fn resynchronise(&mut self) -> Result<(), TransferError> {
        self.reset();
        Ok(())
    }
}
