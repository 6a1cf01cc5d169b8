//! What the STM32 flash interfaces (F1 FPEC, F4, H7) share: the key sequence that unlocks
//! a control register, and the one operation a controller (or an H7 bank) carries out at a
//! time, with the virtual time it ends.

use super::FlashError;

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

/// The operation a flash controller is busy with, if any: its work (what to do when it
/// ends) and the virtual time it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Busy<W> {
    operation: Option<(W, u64)>,
}

impl<W> Default for Busy<W> {
    fn default() -> Self {
        Busy { operation: None }
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
    fn busy_ends_at_its_time() {
        let mut busy = Busy::default();
        busy.start("erase", 100, 50);
        assert_eq!(busy.until_ns(), Some(150));
        assert_eq!(busy.take_due(149), None);
        assert_eq!(busy.take_due(150), Some("erase"));
        assert!(!busy.is_busy());
    }
}
