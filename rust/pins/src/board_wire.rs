//! The probe board's wire as one concrete type: the debug connector on the MCU's GPIO
//! ([`Stm32Pins`] over [`Mmio`]) with edges spaced by the calibrated [`SpinDelay`].
//!
//! Why a type of its own: a generic bit loop is compiled in the crate that names its
//! concrete type. [`BoardPins`] names it here, so the SWD and JTAG bit loops
//! ([`Pins::write_swd_bits`], [`Pins::read_swd_bits`], [`Pins::tck_cycle`]) are compiled
//! in this crate, which the Cargo profile `board` keeps at opt-level "s" (the edges
//! inlined into the loop), while the firmware's root package, which only calls them, is
//! built at "z" (docs/performance.md P5 measures the loop built this way: tools/p5).

use crate::SpinDelay;
use crate::stm32_gpio::{Mmio, Stm32Pins};
use wire::Pins;
use wire::clock::{Calibration, Clocked};

type Inner = Clocked<Stm32Pins<Mmio>, SpinDelay>;

/// The board's pins, clocked by the delay loop.
pub struct BoardPins(Inner);

impl BoardPins {
    pub fn new(gpio: Stm32Pins<Mmio>, calibration: Calibration) -> Self {
        Self(Clocked::new(gpio, SpinDelay, calibration))
    }

    /// The delay loop's calibration (`dap.calibrate()`).
    pub fn set_calibration(&mut self, calibration: Calibration) {
        self.0.set_calibration(calibration);
    }

    /// The pins without the delay: what `dap.calibrate()` measures.
    pub fn raw(&mut self) -> &mut Stm32Pins<Mmio> {
        self.0.pins_mut()
    }
}

impl Pins for BoardPins {
    fn set_swclk(&mut self, high: bool) {
        self.0.set_swclk(high)
    }
    fn set_swdio(&mut self, high: bool) {
        self.0.set_swdio(high)
    }
    fn swdio_output(&mut self, enable: bool) {
        self.0.swdio_output(enable)
    }
    fn read_swdio(&mut self) -> bool {
        self.0.read_swdio()
    }
    fn set_tdi(&mut self, high: bool) {
        self.0.set_tdi(high)
    }
    fn read_tdo(&mut self) -> bool {
        self.0.read_tdo()
    }
    fn set_reset(&mut self, asserted: bool) {
        self.0.set_reset(asserted)
    }
    fn read_reset(&mut self) -> bool {
        self.0.read_reset()
    }
    fn set_frequency(&mut self, hz: u32) -> u32 {
        self.0.set_frequency(hz)
    }
    #[inline(never)]
    fn write_swd_bits(&mut self, bits: u32, count: u32) {
        self.0.write_swd_bits(bits, count)
    }
    #[inline(never)]
    fn read_swd_bits(&mut self, count: u32) -> u32 {
        self.0.read_swd_bits(count)
    }
    #[inline(never)]
    fn tck_cycle(&mut self, tms: bool, tdi: bool) -> bool {
        self.0.tck_cycle(tms, tdi)
    }
}
