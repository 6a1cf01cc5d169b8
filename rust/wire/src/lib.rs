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
