//! What the flash controllers share: the [`Controller`] face the SoC's flash methods use;
//! the key sequence that unlocks an STM32 (F1 FPEC, F4, H7) control register; and the one
//! operation a controller (or an H7 bank) carries out at a time, with the virtual time it
//! ends.

use super::{FlashEffect, FlashError};

/// A flash controller as its SoC's [`super::Soc`] flash methods see it: they default to
/// the controller [`super::Soc::flash`] hands out.
pub trait Controller {
    /// When the operation in progress ends, if one is.
    fn busy_until_ns(&self) -> Option<u64>;
    /// Reading or fetching at `address` must wait (a dual-bank flash reads one bank while
    /// the other works).
    fn busy_at(&self, _address: u32) -> bool {
        self.busy_until_ns().is_some()
    }
    /// What the controller did since the last call (benchmarks).
    fn take_activity(&mut self) -> FlashActivity {
        FlashActivity::default()
    }
    /// Finish an operation whose time has come (`u64::MAX`: whatever the time): its
    /// change to the array.
    fn complete(&mut self, now_ns: u64) -> Option<FlashEffect>;
    /// An erase of the whole chip ended since the last call (nRF52 ERASEALL, SAMD21 chip
    /// erase), taken: the SoC's [`super::Soc::chip_erased`] follows.
    fn take_chip_erased(&mut self) -> bool {
        false
    }
    /// A write of `bytes` (1, 2, 4) to the array at `address`; `current` holds the four
    /// bytes there now, little-endian.
    fn write_array(
        &mut self,
        address: u32,
        bytes: u32,
        value: u32,
        current: u32,
        now_ns: u64,
    ) -> Result<(), FlashError>;
    /// Debugger reads of the array answer a bus error (read protection).
    fn read_protected(&self) -> bool {
        false
    }
}

/// FLASH_KEYR keys of every STM32 flash interface (RM0008 3.3.1, RM0090 3.5.1, RM0433
/// 4.5.1).
pub const KEYS: [u32; 2] = [0x4567_0123, 0xCDEF_89AB];
/// FLASH_OPTKEYR keys of the F2/F4/H7 (RM0090 3.6.2, RM0433 4.5.1); the F1 takes KEYS.
pub const OPTION_KEYS: [u32; 2] = [0x0819_2A3B, 0x4C5D_6E7F];

/// A key written while the register is already unlocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyWhileUnlocked {
    /// Ignored (F1: PM0075 2.3.1 only says a wrong sequence locks).
    Ignored,
    /// A wrong sequence: bus error, locked until reset (RM0090 3.5.1, RM0433 4.5.1).
    Fault,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyState {
    Locked,
    FirstKeyWritten,
    Unlocked,
    /// A wrong key: nothing unlocks it until reset.
    LockedUntilReset,
}

/// The two-key unlock sequence of a flash control register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyLock {
    keys: [u32; 2],
    while_unlocked: KeyWhileUnlocked,
    state: KeyState,
}

impl KeyLock {
    pub const fn new(keys: [u32; 2], while_unlocked: KeyWhileUnlocked) -> Self {
        KeyLock {
            keys,
            while_unlocked,
            state: KeyState::Locked,
        }
    }

    pub fn is_unlocked(&self) -> bool {
        self.state == KeyState::Unlocked
    }

    /// Setting the LOCK bit: locked again, a new key sequence unlocks it.
    pub fn lock(&mut self) {
        if self.state != KeyState::LockedUntilReset {
            self.state = KeyState::Locked;
        }
    }

    /// A system reset: locked, and a wrong sequence forgotten.
    pub fn reset(&mut self) {
        self.state = KeyState::Locked;
    }

    /// Lock until reset, as a wrong key would (the F1's OPTKEYR locks the FPEC).
    pub fn lock_until_reset(&mut self) {
        self.state = KeyState::LockedUntilReset;
    }

    /// A write to the key register. A wrong key answers a bus error and locks until reset.
    pub fn write(&mut self, value: u32) -> Result<(), FlashError> {
        self.state = match (self.state, value) {
            (KeyState::Unlocked, _) if self.while_unlocked == KeyWhileUnlocked::Ignored => {
                KeyState::Unlocked
            }
            (KeyState::Locked, key) if key == self.keys[0] => KeyState::FirstKeyWritten,
            (KeyState::FirstKeyWritten, key) if key == self.keys[1] => KeyState::Unlocked,
            _ => {
                self.state = KeyState::LockedUntilReset;
                return Err(FlashError::Fault);
            }
        };
        Ok(())
    }
}

/// What a flash controller did, for benchmarks: its own (datasheet) time against the
/// time around it. Operations do not overlap within one controller (or H7 bank); merged
/// banks may, then busy + idle exceeds the span.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlashActivity {
    /// Operations started: erases (page, sector, mass) and program units.
    pub operations: u64,
    /// Their durations, summed: the flash's own time.
    pub busy_ns: u64,
    /// Virtual time from the end of one operation to the start of the next, summed, and the
    /// longest such pause: where the flash waited for its client.
    pub idle_ns: u64,
    pub longest_idle_ns: u64,
    /// When the first operation started and the last one ends (virtual time).
    pub first_start_ns: Option<u64>,
    pub last_end_ns: u64,
}

impl FlashActivity {
    fn record(&mut self, now_ns: u64, duration_ns: u64) {
        if self.first_start_ns.is_some() {
            let idle = now_ns.saturating_sub(self.last_end_ns);
            self.idle_ns += idle;
            self.longest_idle_ns = self.longest_idle_ns.max(idle);
        } else {
            self.first_start_ns = Some(now_ns);
        }
        self.operations += 1;
        self.busy_ns += duration_ns;
        self.last_end_ns = now_ns + duration_ns;
    }

    /// Two controllers' (or banks') activity together.
    pub fn merge(self, other: FlashActivity) -> FlashActivity {
        let first_start_ns = match (self.first_start_ns, other.first_start_ns) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        FlashActivity {
            operations: self.operations + other.operations,
            busy_ns: self.busy_ns + other.busy_ns,
            idle_ns: self.idle_ns + other.idle_ns,
            longest_idle_ns: self.longest_idle_ns.max(other.longest_idle_ns),
            first_start_ns,
            last_end_ns: self.last_end_ns.max(other.last_end_ns),
        }
    }
}

/// The operation a flash controller is busy with, if any: its work (what to do when it
/// ends) and the virtual time it ends; and what it did so far ([`FlashActivity`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Busy<W> {
    operation: Option<(W, u64)>,
    activity: FlashActivity,
}

impl<W> Default for Busy<W> {
    fn default() -> Self {
        Busy {
            operation: None,
            activity: FlashActivity::default(),
        }
    }
}

impl<W> Busy<W> {
    pub fn is_busy(&self) -> bool {
        self.operation.is_some()
    }

    pub fn until_ns(&self) -> Option<u64> {
        self.operation.as_ref().map(|(_, ends_at)| *ends_at)
    }

    /// Start `work` now; it ends `duration_ns` later.
    pub fn start(&mut self, work: W, duration_ns: u64, now_ns: u64) {
        self.operation = Some((work, now_ns + duration_ns));
        self.activity.record(now_ns, duration_ns);
    }

    /// What was done since the last call (an operation cut short by a reset counts whole).
    pub fn take_activity(&mut self) -> FlashActivity {
        core::mem::take(&mut self.activity)
    }

    /// The work whose time has come, taken.
    pub fn take_due(&mut self, now_ns: u64) -> Option<W> {
        match self.operation {
            Some((_, ends_at)) if ends_at <= now_ns => self.take(),
            _ => None,
        }
    }

    /// The work in progress, taken whatever the time.
    pub fn take(&mut self) -> Option<W> {
        self.operation.take().map(|(work, _)| work)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_unlock_and_a_wrong_key_locks_until_reset() {
        let mut lock = KeyLock::new(KEYS, KeyWhileUnlocked::Fault);
        lock.write(KEYS[0]).unwrap();
        lock.write(KEYS[1]).unwrap();
        assert!(lock.is_unlocked());
        assert_eq!(lock.write(KEYS[0]), Err(FlashError::Fault));
        lock.lock();
        assert_eq!(lock.write(KEYS[0]), Err(FlashError::Fault));
        lock.reset();
        lock.write(KEYS[0]).unwrap();
        assert_eq!(lock.write(0x1234), Err(FlashError::Fault));
        assert!(!lock.is_unlocked());
    }

    #[test]
    fn a_key_while_unlocked_may_be_ignored() {
        let mut lock = KeyLock::new(KEYS, KeyWhileUnlocked::Ignored);
        lock.write(KEYS[0]).unwrap();
        lock.write(KEYS[1]).unwrap();
        lock.write(0x1234).unwrap();
        assert!(lock.is_unlocked());
    }

    #[test]
    fn activity_counts_the_flash_time_and_the_pauses_between() {
        let mut busy = Busy::default();
        busy.start("erase", 100, 50);
        busy.take_due(150);
        busy.start("program", 10, 170);
        let activity = busy.take_activity();
        assert_eq!(
            (activity.operations, activity.busy_ns, activity.idle_ns),
            (2, 110, 20)
        );
        assert_eq!(
            (activity.first_start_ns, activity.last_end_ns),
            (Some(50), 180)
        );
        assert_eq!(busy.take_activity(), FlashActivity::default());
    }

    #[test]
    fn busy_ends_at_its_time() {
        let mut busy = Busy::default();
        busy.start("erase", 100, 50);
        assert_eq!(busy.until_ns(), Some(150));
        assert_eq!(busy.take_due(149), None);
        assert_eq!(busy.take_due(150), Some("erase"));
        assert!(!busy.is_busy());
    }
}
