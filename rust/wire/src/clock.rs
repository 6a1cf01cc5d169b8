//! SWCLK/TCK frequency control for bit-banged pins: a delay loop between clock edges,
//! calibrated as the original probe's `dap.calibrate()` did, by two numbers: the loop
//! count per half period that gives a 1 kHz clock, and the clock reached with no delay.

use crate::Pins;

/// The calibration of one board's delay loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calibration {
    /// Delay-loop iterations per half period for a 1 kHz clock.
    pub loops_at_1khz: u32,
    /// The clock with no delay at all (the pins' own toggling speed), in Hz.
    pub max_hz: u32,
}

impl Calibration {
    /// Half period at 1 kHz, and with no delay, in picoseconds.
    fn half_periods_ps(&self) -> (u64, u64) {
        (500_000_000, 500_000_000_000 / u64::from(self.max_hz.max(1)))
    }

    /// Delay-loop iterations per half period so the clock does not exceed `hz`: the half
    /// period grows linearly with the loop count, from the no-delay one (0 loops) to 500 us
    /// (`loops_at_1khz`).
    pub fn delay_loops(&self, hz: u32) -> u32 {
        if hz == 0 {
            return u32::MAX;
        }
        let (slow, fast) = self.half_periods_ps();
        let wanted = 500_000_000_000 / u64::from(hz);
        let extra = u128::from(wanted.saturating_sub(fast));
        let span = u128::from(slow.saturating_sub(fast).max(1));
        let loops = (extra * u128::from(self.loops_at_1khz)).div_ceil(span);
        u32::try_from(loops).unwrap_or(u32::MAX)
    }

    /// The clock that `loops` iterations per half period give.
    pub fn frequency(&self, loops: u32) -> u32 {
        let (slow, fast) = self.half_periods_ps();
        let span = u128::from(slow.saturating_sub(fast));
        let half =
            u128::from(fast) + u128::from(loops) * span / u128::from(self.loops_at_1khz.max(1));
        // The half period in whole picoseconds rounds down: never report above the top speed.
        (500_000_000_000u128 / half.max(1)).min(u128::from(self.max_hz)) as u32
    }
}

/// Spends `loops` iterations of a busy loop (the board's, calibrated).
pub trait DelayLoop {
    fn delay(&mut self, loops: u32);
}

/// Pins whose clock edges are spaced by the calibrated delay.
pub struct Clocked<P: Pins, D: DelayLoop> {
    pins: P,
    delay: D,
    calibration: Calibration,
    loops: u32,
}

impl<P: Pins, D: DelayLoop> Clocked<P, D> {
    pub fn new(pins: P, delay: D, calibration: Calibration) -> Self {
        Self {
            pins,
            delay,
            calibration,
            loops: 0,
        }
    }

    pub fn set_calibration(&mut self, calibration: Calibration) {
        self.calibration = calibration;
    }

    /// The pins under the delay (to measure them, or reach their backend).
    pub fn pins_mut(&mut self) -> &mut P {
        &mut self.pins
    }

    pub fn into_inner(self) -> (P, D) {
        (self.pins, self.delay)
    }
}

impl<P: Pins, D: DelayLoop> Pins for Clocked<P, D> {
    fn set_swclk(&mut self, high: bool) {
        self.pins.set_swclk(high);
        self.delay.delay(self.loops);
    }
    fn set_swdio(&mut self, high: bool) {
        self.pins.set_swdio(high)
    }
    fn swdio_output(&mut self, enable: bool) {
        self.pins.swdio_output(enable)
    }
    fn read_swdio(&mut self) -> bool {
        self.pins.read_swdio()
    }
    fn set_tdi(&mut self, high: bool) {
        self.pins.set_tdi(high)
    }
    fn read_tdo(&mut self) -> bool {
        self.pins.read_tdo()
    }
    fn set_reset(&mut self, asserted: bool) {
        self.pins.set_reset(asserted)
    }
    fn read_reset(&mut self) -> bool {
        self.pins.read_reset()
    }
    /// The delay for `hz`; returns the clock it gives (never above `hz`, nor above the
    /// pins' own top speed).
    fn set_frequency(&mut self, hz: u32) -> u32 {
        self.loops = self.calibration.delay_loops(hz);
        let actual = self.calibration.frequency(self.loops);
        self.pins.set_frequency(actual);
        actual
    }
}

/// Measure a calibration: `now_micros` is a monotonic clock. Toggles SWCLK for about
/// `sample_micros` with no delay, then runs the delay loop for about as long.
pub fn calibrate<P: Pins, D: DelayLoop>(
    pins: &mut P,
    delay: &mut D,
    mut now_micros: impl FnMut() -> u64,
    sample_micros: u64,
) -> Calibration {
    let mut half_periods = 0u64;
    let start = now_micros();
    while now_micros() - start < sample_micros {
        for _ in 0..100 {
            pins.set_swclk(half_periods.is_multiple_of(2));
            half_periods += 1;
        }
    }
    let toggling = (now_micros() - start).max(1);
    let max_hz = (half_periods * 500_000 / toggling).min(u64::from(u32::MAX)) as u32;
    let mut loops = 0u64;
    let start = now_micros();
    while now_micros() - start < sample_micros {
        delay.delay(1000);
        loops += 1000;
    }
    let looping = (now_micros() - start).max(1);
    // Loops in the 500 us half period of 1 kHz, less what the toggling itself takes.
    let half_period_us = 500u64.saturating_sub(500_000 / u64::from(max_hz.max(1)));
    let loops_at_1khz = (loops * half_period_us / looping).clamp(1, u64::from(u32::MAX)) as u32;
    Calibration {
        loops_at_1khz,
        max_hz,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The original probe's figures for its board: (35985, 8999685).
    const ORIGINAL: Calibration = Calibration {
        loops_at_1khz: 35985,
        max_hz: 8_999_685,
    };

    #[test]
    fn the_model_meets_the_requested_frequency_from_below() {
        for hz in [1_000, 10_000, 100_000, 1_000_000, 4_000_000] {
            let loops = ORIGINAL.delay_loops(hz);
            let actual = ORIGINAL.frequency(loops);
            assert!(actual <= hz, "{hz}: {actual}");
            assert!(actual as f64 >= hz as f64 * 0.95, "{hz}: {actual}");
        }
        assert!(ORIGINAL.delay_loops(1_000).abs_diff(35985) <= 1);
        assert_eq!(ORIGINAL.delay_loops(20_000_000), 0);
        assert!(ORIGINAL.frequency(0).abs_diff(8_999_685) < 100);
        assert!(ORIGINAL.frequency(0) <= ORIGINAL.max_hz);
    }

    struct Counting {
        edges: u64,
        requested: u32,
    }

    impl Pins for Counting {
        fn set_swclk(&mut self, _: bool) {
            self.edges += 1;
        }
        fn set_swdio(&mut self, _: bool) {}
        fn swdio_output(&mut self, _: bool) {}
        fn read_swdio(&mut self) -> bool {
            true
        }
        fn set_tdi(&mut self, _: bool) {}
        fn read_tdo(&mut self) -> bool {
            true
        }
        fn set_reset(&mut self, _: bool) {}
        fn set_frequency(&mut self, hz: u32) -> u32 {
            self.requested = hz;
            hz
        }
    }

    struct Recording(u64);

    impl DelayLoop for Recording {
        fn delay(&mut self, loops: u32) {
            self.0 += u64::from(loops);
        }
    }

    #[test]
    fn clocked_pins_delay_each_edge_and_report_the_real_frequency() {
        let mut pins = Clocked::new(
            Counting {
                edges: 0,
                requested: 0,
            },
            Recording(0),
            ORIGINAL,
        );
        let actual = pins.set_frequency(100_000);
        assert!(actual <= 100_000 && actual > 95_000);
        pins.set_swclk(true);
        pins.set_swclk(false);
        let (inner, delay) = pins.into_inner();
        assert_eq!(inner.edges, 2);
        assert_eq!(inner.requested, actual);
        assert_eq!(delay.0, 2 * u64::from(ORIGINAL.delay_loops(100_000)));
    }

    #[test]
    fn calibration_measures_a_loop_of_known_speed() {
        // A fake clock: each edge takes 0.1 us, each loop 0.01 us.
        let time = core::cell::Cell::new(0.0f64);
        struct Edges<'a>(&'a core::cell::Cell<f64>);
        impl Pins for Edges<'_> {
            fn set_swclk(&mut self, _: bool) {
                self.0.set(self.0.get() + 0.1);
            }
            fn set_swdio(&mut self, _: bool) {}
            fn swdio_output(&mut self, _: bool) {}
            fn read_swdio(&mut self) -> bool {
                true
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
        struct Loops<'a>(&'a core::cell::Cell<f64>);
        impl DelayLoop for Loops<'_> {
            fn delay(&mut self, loops: u32) {
                self.0.set(self.0.get() + 0.01 * f64::from(loops));
            }
        }
        let calibration = calibrate(
            &mut Edges(&time),
            &mut Loops(&time),
            || time.get() as u64,
            10_000,
        );
        // 0.2 us per period: 5 MHz; 500 us minus 0.1 us at 0.01 us per loop: about 49990.
        assert!(
            calibration.max_hz.abs_diff(5_000_000) < 100_000,
            "{calibration:?}"
        );
        assert!(
            calibration.loops_at_1khz.abs_diff(49_990) < 500,
            "{calibration:?}"
        );
    }
}
