//! The wire engines as ADI transports: SWD packets, and JTAG-DP scans with their posted
//! results turned into the same read semantics.

use crate::registers::{DpRegister, dp};
use crate::transport::{Swj, Transport};
use wire::jtag::JtagDp;
use wire::swd::Swd;
use wire::{Pins, Port, SwjPin, TransferError};

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

    fn swj(&mut self) -> Option<&mut dyn Swj> {
        Some(self)
    }
}

impl<P: Pins> Swj for Swd<P> {
    fn sequence(&mut self, count: u32, bits: u64) {
        self.set_burst(false);
        Swd::sequence(self, &bits.to_le_bytes(), count.min(64) as usize);
    }

    fn pins(&mut self, output: u8, select: u8) -> u8 {
        drive_pins(self.pins(), output, select)
    }

    fn clock(&mut self, hz: u32) -> u32 {
        self.pins().set_frequency(hz)
    }

    fn jtag_sequence(&mut self, _: u32, _: bool, _: u64) -> Option<u64> {
        None
    }
}

impl<P: Pins> Swj for JtagDp<P> {
    fn sequence(&mut self, count: u32, bits: u64) {
        for index in 0..count.min(64) {
            wire::jtag::tck_cycle(self.pins(), bits >> index & 1 != 0, true);
        }
        self.pins().set_swclk(false);
    }

    fn pins(&mut self, output: u8, select: u8) -> u8 {
        drive_pins(self.pins(), output, select)
    }

    fn clock(&mut self, hz: u32) -> u32 {
        self.pins().set_frequency(hz)
    }

    fn jtag_sequence(&mut self, count: u32, tms: bool, tdi: u64) -> Option<u64> {
        let mut tdo = 0;
        for index in 0..count.min(64) {
            if wire::jtag::tck_cycle(self.pins(), tms, tdi >> index & 1 != 0) {
                tdo |= 1 << index;
            }
        }
        self.pins().set_swclk(false);
        Some(tdo)
    }
}

/// DAP_SWJ_Pins on the pins: `output` and `select` as its bytes; the outputs as driven
/// (SWCLK, SWDIO, TDI) and nRESET as read. nRESET is active low.
fn drive_pins<P: Pins>(pins: &mut P, output: u8, select: u8) -> u8 {
    let (output, select) = (
        SwjPin::from_bits_retain(output),
        SwjPin::from_bits_retain(select),
    );
    if select.contains(SwjPin::SWCLK_TCK) {
        pins.set_swclk(output.contains(SwjPin::SWCLK_TCK));
    }
    if select.contains(SwjPin::SWDIO_TMS) {
        pins.swdio_output(true);
        pins.set_swdio(output.contains(SwjPin::SWDIO_TMS));
    }
    if select.contains(SwjPin::TDI) {
        pins.set_tdi(output.contains(SwjPin::TDI));
    }
    if select.contains(SwjPin::NRESET) {
        pins.set_reset(!output.contains(SwjPin::NRESET));
    }
    let mut levels = output & (SwjPin::SWCLK_TCK | SwjPin::SWDIO_TMS | SwjPin::TDI);
    levels.set(SwjPin::NRESET, !pins.read_reset());
    levels.bits()
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

    fn is_jtag(&self) -> bool {
        true
    }

    fn swj(&mut self) -> Option<&mut dyn Swj> {
        Some(self)
    }
}
