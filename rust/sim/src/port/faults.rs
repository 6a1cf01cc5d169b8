//! Fault injection for reliability tests: a seeded, deterministic pseudo-random choice per
//! transaction of what goes wrong.

/// Probabilities (0.0 to 1.0) per transaction. All zero by default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaultConfig {
    pub seed: u64,
    /// The DP answers WAIT; the transaction does not happen.
    pub wait: f64,
    /// An AP transaction fails as a bus error would: STICKYERR is set, the DP answers FAULT.
    pub fault: f64,
    /// The target does not answer the request (SWD).
    pub no_answer: f64,
    /// The parity bit of SWD read data is wrong (the data is right).
    pub read_parity: f64,
    /// The target loses power for `power_off_ns` of virtual time.
    pub power_off: f64,
    pub power_off_ns: u64,
    /// The target (or its wiring) holds nRST low: the chip stays in reset and the line
    /// reads low whatever the probe drives.
    pub reset_stuck: bool,
    /// Only while the target does this (a power loss or bus faults during a mass erase or
    /// a CRC run on the core).
    pub during: Window,
    /// At most this many faults in all (0: no limit), so what follows runs clean.
    pub at_most: u64,
}

/// When faults are drawn at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Window {
    #[default]
    Always,
    /// While the core executes a routine in SRAM (`bus::Activity::routine_running`).
    RoutineRunning,
    /// While the flash controller programs or erases.
    FlashBusy,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            wait: 0.0,
            fault: 0.0,
            no_answer: 0.0,
            read_parity: 0.0,
            power_off: 0.0,
            power_off_ns: 1_000_000,
            reset_stuck: false,
            during: Window::Always,
            at_most: 0,
        }
    }
}

impl FaultConfig {
    /// Parse `KIND=VALUE,...` with bmp-sim's option names: `wait`, `fault`, `no-answer`,
    /// `read-parity`, `power-off` (probabilities per transaction, 0 to 1), `power-off-time`
    /// (microseconds), `reset-stuck` (1: nRST held low), `seed`, `during` (`always`,
    /// `routine-running`, `flash-busy`), `at-most` (a count); e.g. `wait=1e-3,seed=7` or
    /// `power-off=1,during=flash-busy,at-most=1`.
    /// The host probe reads it from
    /// BMP_SIM_FAULTS.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let mut config = Self::default();
        for item in text.split(',').filter(|item| !item.is_empty()) {
            let (name, value) = item.split_once('=').ok_or("expected KIND=VALUE")?;
            let probability = || match value.parse::<f64>() {
                Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
                _ => Err("a probability is a number from 0 to 1"),
            };
            let number = || value.parse::<u64>().map_err(|_| "expected a whole number");
            match name {
                "wait" => config.wait = probability()?,
                "fault" => config.fault = probability()?,
                "no-answer" => config.no_answer = probability()?,
                "read-parity" => config.read_parity = probability()?,
                "power-off" => config.power_off = probability()?,
                "power-off-time" => config.power_off_ns = number()?.saturating_mul(1000),
                "reset-stuck" => config.reset_stuck = number()? != 0,
                "seed" => config.seed = number()?,
                "during" => {
                    config.during = match value {
                        "always" => Window::Always,
                        "routine-running" => Window::RoutineRunning,
                        "flash-busy" => Window::FlashBusy,
                        _ => return Err("during is always, routine-running or flash-busy"),
                    }
                }
                "at-most" => config.at_most = number()?,
                _ => {
                    return Err(
                        "unknown fault kind (wait, fault, no-answer, read-parity, power-off, power-off-time, reset-stuck, seed, during, at-most)",
                    );
                }
            }
        }
        Ok(config)
    }
}

/// What to do to one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Injected {
    Nothing,
    Wait,
    Fault,
    NoAnswer,
    PowerOff,
}

/// SplitMix64 (a well-known public-domain generator), enough for test randomness.
#[derive(Clone, Debug)]
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut value = self.0;
        value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        value ^ (value >> 31)
    }

    /// True with probability `probability`; draws nothing when it is 0.
    fn chance(&mut self, probability: f64) -> bool {
        if probability <= 0.0 {
            return false;
        }
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        unit < probability
    }
}

#[derive(Clone, Debug)]
pub struct FaultInjector {
    config: FaultConfig,
    random: Random,
    /// The window is open (the target does what `during` names).
    open: bool,
    injected: u64,
}

impl Default for FaultInjector {
    fn default() -> Self {
        Self::new(FaultConfig::default())
    }
}

impl FaultInjector {
    pub fn new(config: FaultConfig) -> Self {
        Self {
            config,
            random: Random(config.seed),
            open: config.during == Window::Always,
            injected: 0,
        }
    }

    /// Faults only in a window: the port tells what the target does before each bit.
    pub fn windowed(&self) -> bool {
        self.config.during != Window::Always
    }

    pub fn set_activity(&mut self, activity: crate::bus::Activity) {
        self.open = match self.config.during {
            Window::Always => true,
            Window::RoutineRunning => activity.routine_running,
            Window::FlashBusy => activity.flash_busy,
        };
    }

    /// Faults may be drawn now: in the window and under the count.
    fn armed(&self) -> bool {
        self.open && (self.config.at_most == 0 || self.injected < self.config.at_most)
    }

    fn count(&mut self, injected: bool) -> bool {
        self.injected += u64::from(injected);
        injected
    }

    pub fn config(&self) -> FaultConfig {
        self.config
    }

    /// The fate of one request. FAULT only for AP transactions (a DP register access does
    /// not touch the bus).
    pub fn draw(&mut self, access_port: bool) -> Injected {
        let config = self.config;
        if !self.armed() {
            return Injected::Nothing;
        }
        let injected = self.draw_armed(access_port, config);
        self.count(injected != Injected::Nothing);
        injected
    }

    fn draw_armed(&mut self, access_port: bool, config: FaultConfig) -> Injected {
        if self.random.chance(config.power_off) {
            Injected::PowerOff
        } else if self.random.chance(config.no_answer) {
            Injected::NoAnswer
        } else if self.random.chance(config.wait) {
            Injected::Wait
        } else if access_port && self.random.chance(config.fault) {
            Injected::Fault
        } else {
            Injected::Nothing
        }
    }

    /// Corrupt the parity of this read's data?
    pub fn draw_read_parity(&mut self) -> bool {
        let corrupt = self.armed() && self.random.chance(self.config.read_parity);
        self.count(corrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names_every_kind() {
        let config =
            FaultConfig::parse("wait=0.1,fault=0.2,no-answer=0.3,read-parity=0.4,power-off=0.5,power-off-time=20,reset-stuck=1,seed=7")
                .unwrap();
        assert_eq!(
            (config.wait, config.fault, config.no_answer),
            (0.1, 0.2, 0.3)
        );
        assert_eq!((config.read_parity, config.power_off), (0.4, 0.5));
        assert_eq!((config.power_off_ns, config.seed), (20_000, 7));
        assert!(config.reset_stuck);
        assert_eq!(FaultConfig::parse(""), Ok(FaultConfig::default()));
        assert!(FaultConfig::parse("wait=2").is_err());
        assert!(FaultConfig::parse("bogus=0.1").is_err());
        assert!(FaultConfig::parse("wait").is_err());
        let config = FaultConfig::parse("power-off=1,during=flash-busy,at-most=2").unwrap();
        assert_eq!((config.during, config.at_most), (Window::FlashBusy, 2));
        assert_eq!(
            FaultConfig::parse("during=routine-running").unwrap().during,
            Window::RoutineRunning
        );
        assert!(FaultConfig::parse("during=sometimes").is_err());
    }

    #[test]
    fn a_window_and_a_count_limit_the_faults() {
        let mut injector =
            FaultInjector::new(FaultConfig::parse("fault=1,during=flash-busy,at-most=2").unwrap());
        let busy = crate::bus::Activity {
            flash_busy: true,
            ..Default::default()
        };
        assert_eq!(injector.draw(true), Injected::Nothing, "closed until told");
        injector.set_activity(busy);
        assert_eq!(
            injector.draw(false),
            Injected::Nothing,
            "FAULT only for AP accesses"
        );
        assert_eq!(injector.draw(true), Injected::Fault);
        injector.set_activity(crate::bus::Activity::default());
        assert_eq!(injector.draw(true), Injected::Nothing, "closed again");
        injector.set_activity(busy);
        assert_eq!(injector.draw(true), Injected::Fault);
        assert_eq!(injector.draw(true), Injected::Nothing, "two in all");
        let mut always = FaultInjector::new(FaultConfig::parse("fault=1").unwrap());
        assert!((0..5).all(|_| always.draw(true) == Injected::Fault));
    }
}
