//! The wire: SWD and JTAG bit engines over a small pin-level trait.
//!
//! A pin backend (the GPIOs of a probe MCU, the simulated target, a remote_bitbang link)
//! implements [`Pins`]; the engines ([`swd::Swd`], [`jtag::Jtag`], [`jtag::JtagDp`]) do
//! the protocols on top.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod clock;
pub mod jtag;
pub mod remote_bitbang;
pub mod swd;

/// Register bank of a transaction: the APnDP bit of an SWD request (ADIv5.2 B4.2.2), the
/// DPACC or APACC instruction on JTAG (B3.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    Dp,
    Ap,
}

bitflags::bitflags! {
    /// Signals of DAP_SWJ_Pins: the bits of its `output`, `select` and returned input bytes
    /// (CMSIS-DAP DAP_SWJ_Pins), for `dap` and for debug sequences' DAP_SWJ_Pins (`adi`).
    /// nRESET and nTRST are active low.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct SwjPin: u8 {
        const SWCLK_TCK = 1 << 0;
        const SWDIO_TMS = 1 << 1;
        const TDI = 1 << 2;
        const TDO = 1 << 3;
        const NTRST = 1 << 5;
        const NRESET = 1 << 7;
    }
}

/// A target's acknowledge of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ack {
    Ok,
    Wait,
    Fault,
}

impl Ack {
    /// The 3 ACK bits of an SWD packet, as received LSB first (ADIv5.2 B4.2.1).
    pub const fn from_swd(bits: u32) -> Option<Self> {
        match bits {
            0b001 => Some(Ack::Ok),
            0b010 => Some(Ack::Wait),
            0b100 => Some(Ack::Fault),
            _ => None,
        }
    }

    /// The 3 ACK bits of a JTAG-DP DPACC/APACC scan (ADIv5.2 B3.3.2): OK/FAULT share one
    /// value (a FAULT shows in CTRL/STAT), WAIT is the other.
    pub const fn from_jtag(bits: u32) -> Option<Self> {
        match bits {
            0b010 => Some(Ack::Ok),
            0b001 => Some(Ack::Wait),
            _ => None,
        }
    }

    /// OK as `Ok(())`; WAIT, FAULT and no valid ACK (`None`) as their [`TransferError`].
    pub const fn check(ack: Option<Self>) -> Result<(), TransferError> {
        match ack {
            Some(Ack::Ok) => Ok(()),
            Some(Ack::Wait) => Err(TransferError::Wait),
            Some(Ack::Fault) => Err(TransferError::Fault),
            None => Err(TransferError::NoResponse),
        }
    }
}

/// Why one SWD or JTAG-DP transaction failed at the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferError {
    /// ACK WAIT: the request was not taken; the same request may be retried.
    Wait,
    /// ACK FAULT: a sticky error flag is set in CTRL/STAT (ADIv5.2 B2.2.4).
    Fault,
    /// No valid ACK: nothing drives the line (no target, no power, not selected), or a bad
    /// ACK pattern.
    NoResponse,
    /// Bad parity on read data (SWD): the line may have lost sync.
    Parity,
}

/// The debug connector's signals, one level at a time.
///
/// SWCLK and TCK share a pin, as do SWDIO and TMS (ADIv5.2 B5.1: SWJ-DP). A backend that
/// cannot read a signal back returns a fixed level.
pub trait Pins {
    /// Drive SWCLK/TCK. A backend that counts time advances by half a clock period here.
    fn set_swclk(&mut self, high: bool);
    /// Drive SWDIO/TMS (when the probe drives it).
    fn set_swdio(&mut self, high: bool);
    /// Probe drives SWDIO (true), or releases it to the target (false: turnaround).
    fn swdio_output(&mut self, enable: bool);
    /// Sample SWDIO.
    fn read_swdio(&mut self) -> bool;
    /// Drive TDI.
    fn set_tdi(&mut self, high: bool);
    /// Sample TDO.
    fn read_tdo(&mut self) -> bool;
    /// Drive nRST (true: asserted, target held in reset).
    fn set_reset(&mut self, asserted: bool);
    /// Sense nRST (true: low, asserted by the probe or by the target itself). The default,
    /// for a backend that cannot sense the pin, reports it released.
    fn read_reset(&mut self) -> bool {
        false
    }
    /// Ask for an SWCLK/TCK frequency; returns the frequency the backend will run at.
    fn set_frequency(&mut self, hz: u32) -> u32;
}

impl<P: Pins + ?Sized> Pins for &mut P {
    fn set_swclk(&mut self, high: bool) {
        (**self).set_swclk(high)
    }
    fn set_swdio(&mut self, high: bool) {
        (**self).set_swdio(high)
    }
    fn swdio_output(&mut self, enable: bool) {
        (**self).swdio_output(enable)
    }
    fn read_swdio(&mut self) -> bool {
        (**self).read_swdio()
    }
    fn set_tdi(&mut self, high: bool) {
        (**self).set_tdi(high)
    }
    fn read_tdo(&mut self) -> bool {
        (**self).read_tdo()
    }
    fn set_reset(&mut self, asserted: bool) {
        (**self).set_reset(asserted)
    }
    fn read_reset(&mut self) -> bool {
        (**self).read_reset()
    }
    fn set_frequency(&mut self, hz: u32) -> u32 {
        (**self).set_frequency(hz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledges_of_swd_and_jtag() {
        assert_eq!(Ack::check(Ack::from_swd(0b001)), Ok(()));
        assert_eq!(Ack::check(Ack::from_swd(0b010)), Err(TransferError::Wait));
        assert_eq!(Ack::check(Ack::from_swd(0b100)), Err(TransferError::Fault));
        assert_eq!(
            Ack::check(Ack::from_swd(0b111)),
            Err(TransferError::NoResponse)
        );
        assert_eq!(Ack::check(Ack::from_jtag(0b010)), Ok(()));
        assert_eq!(Ack::check(Ack::from_jtag(0b001)), Err(TransferError::Wait));
        assert_eq!(
            Ack::check(Ack::from_jtag(0b100)),
            Err(TransferError::NoResponse)
        );
    }
}
