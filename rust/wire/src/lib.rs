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

    // The bit loops. A backend may override them to have them compiled in its own crate:
    // rust/pins' board pins keep the loop at opt-level "s" while the firmware's root
    // package is built for size (Cargo profile `board`, docs/performance.md P5).

    /// Clock out `count` bits (up to 32) of `bits`, LSB first, on SWDIO; SWCLK is left low.
    fn write_swd_bits(&mut self, bits: u32, count: u32) {
        // Shifted by one a bit, not by `index`: no masking of a variable shift per period.
        let mut rest = bits;
        for _ in 0..count {
            self.set_swdio(rest & 1 != 0);
            rest >>= 1;
            self.set_swclk(false);
            self.set_swclk(true);
        }
        self.set_swclk(false);
    }
    /// Clock in `count` bits (up to 32), LSB first, sampling SWDIO while SWCLK is low;
    /// SWCLK is left low.
    fn read_swd_bits(&mut self, count: u32) -> u32 {
        // A moving mask, as in `write_swd_bits`: no variable shift per period.
        let mut bits = 0;
        let mut mask = 1u32;
        for _ in 0..count {
            self.set_swclk(false);
            if self.read_swdio() {
                bits |= mask;
            }
            mask <<= 1;
            self.set_swclk(true);
        }
        self.set_swclk(false);
        bits
    }
    /// One TCK cycle with TMS and TDI set while TCK is low; returns TDO sampled before the
    /// rising edge. TCK is left high.
    fn tck_cycle(&mut self, tms: bool, tdi: bool) -> bool {
        self.set_swclk(false);
        self.set_swdio(tms);
        self.set_tdi(tdi);
        let tdo = self.read_tdo();
        self.set_swclk(true);
        tdo
    }
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
    fn write_swd_bits(&mut self, bits: u32, count: u32) {
        (**self).write_swd_bits(bits, count)
    }
    fn read_swd_bits(&mut self, count: u32) -> u32 {
        (**self).read_swd_bits(count)
    }
    fn tck_cycle(&mut self, tms: bool, tdi: bool) -> bool {
        (**self).tck_cycle(tms, tdi)
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

    /// A line that records SWDIO at each rising SWCLK edge and answers reads from `input`,
    /// one bit per falling edge, LSB first.
    #[derive(Default)]
    struct Line {
        swclk: bool,
        swdio: bool,
        driven: Vec<bool>,
        input: u64,
        sampled: u32,
    }

    impl Pins for Line {
        fn set_swclk(&mut self, high: bool) {
            if high && !self.swclk {
                self.driven.push(self.swdio);
            }
            if !high && self.swclk {
                self.input >>= 1;
            }
            self.swclk = high;
        }
        fn set_swdio(&mut self, high: bool) {
            self.swdio = high;
        }
        fn swdio_output(&mut self, _: bool) {}
        fn read_swdio(&mut self) -> bool {
            self.sampled += 1;
            self.input & 1 != 0
        }
        fn set_tdi(&mut self, _: bool) {}
        fn read_tdo(&mut self) -> bool {
            true
        }
        fn set_reset(&mut self, _: bool) {}
        fn set_frequency(&mut self, hz: u32) -> u32 {
            hz
        }
    }

    #[test]
    fn the_swd_bit_loops_go_lsb_first_for_every_count() {
        let word = 0xA5C3_0F81u32;
        for count in [0, 1, 7, 31, 32] {
            let mut line = Line::default();
            line.write_swd_bits(word, count);
            let expected: Vec<bool> = (0..count).map(|bit| word >> bit & 1 != 0).collect();
            assert_eq!(line.driven, expected, "write of {count} bits");
            assert!(!line.swclk, "SWCLK left low after a write of {count}");

            // The first bit is on the line before the first falling edge.
            let mut line = Line {
                input: u64::from(word) << 1 | 1,
                swclk: true,
                ..Line::default()
            };
            let expected = word & ((1u64 << count) - 1) as u32;
            assert_eq!(line.read_swd_bits(count), expected, "read of {count} bits");
            assert_eq!(line.sampled, count);
            assert!(!line.swclk, "SWCLK left low after a read of {count}");
        }
    }
}
