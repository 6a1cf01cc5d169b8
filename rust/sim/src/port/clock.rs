//! Virtual time: one SWCLK/TCK period passes per rising edge, at the frequency the probe
//! declared through `Pins::set_frequency`.

/// Until the probe says otherwise.
pub const DEFAULT_FREQUENCY: u32 = 1_000_000;
/// The slowest and fastest clocks the simulator accepts.
pub const MINIMUM_FREQUENCY: u32 = 1_000;
pub const MAXIMUM_FREQUENCY: u32 = 100_000_000;

const PICOSECONDS_PER_SECOND: u64 = 1_000_000_000_000;

/// Kept in picoseconds so that odd frequencies do not drift.
#[derive(Clone, Debug)]
pub struct VirtualClock {
    period_picoseconds: u64,
    now_picoseconds: u64,
}

impl Default for VirtualClock {
    fn default() -> Self {
        let mut clock = Self {
            period_picoseconds: 0,
            now_picoseconds: 0,
        };
        clock.set_frequency(DEFAULT_FREQUENCY);
        clock
    }
}

impl VirtualClock {
    /// Returns the frequency the clock really runs at.
    pub fn set_frequency(&mut self, hz: u32) -> u32 {
        let hz = hz.clamp(MINIMUM_FREQUENCY, MAXIMUM_FREQUENCY);
        self.period_picoseconds = PICOSECONDS_PER_SECOND / u64::from(hz);
        self.frequency()
    }

    pub fn frequency(&self) -> u32 {
        (PICOSECONDS_PER_SECOND / self.period_picoseconds) as u32
    }

    /// One clock period.
    pub fn tick(&mut self) {
        self.now_picoseconds += self.period_picoseconds;
    }

    /// Time passing with the clock stopped (a probe's delay).
    pub fn advance(&mut self, nanoseconds: u64) {
        self.now_picoseconds += nanoseconds * 1000;
    }

    pub fn now_ns(&self) -> u64 {
        self.now_picoseconds / 1000
    }
}

/// What the port has seen since power-on of the simulator (not reset by a target power
/// cycle).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    /// Rising edges of SWCLK/TCK.
    pub clock_cycles: u64,
    /// SWD packets with a valid request, and JTAG DR scans through DPACC/APACC.
    pub transactions: u64,
    pub ok: u64,
    pub wait: u64,
    pub fault: u64,
    /// Requests the target did not answer (protocol error, injected, power off).
    pub no_response: u64,
    /// Virtual time since the simulator started.
    pub virtual_time_ns: u64,
}
