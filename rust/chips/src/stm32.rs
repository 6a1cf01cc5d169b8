//! What the STM32 flash drivers (F1, F4, H7) share: the two-key sequence that unlocks a
//! flash control register.

use crate::Error;
use adi::Memory;

/// FLASH_KEYR keys of every STM32 flash interface (RM0008 3.3.1, RM0090 3.5.1, RM0433
/// 4.5.1); the F1 takes them in FLASH_OPTKEYR too (PM0075 2.5).
pub(crate) const KEYS: [u32; 2] = [0x4567_0123, 0xCDEF_89AB];
/// FLASH_OPTKEYR keys of the F2/F4/H7 (RM0090 3.6.2, RM0433 4.5.1).
#[cfg(any(feature = "stm32f4", feature = "stm32h7"))]
pub(crate) const OPTION_KEYS: [u32; 2] = [0x0819_2A3B, 0x4C5D_6E7F];

/// A control register bit that a key sequence clears (LOCK, OPTLOCK) or sets (the F1's
/// OPTWRE).
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyLock {
    /// Where the keys go (FLASH_KEYR, FLASH_OPTKEYR).
    pub keyr: u32,
    pub keys: [u32; 2],
    /// The register holding the bit (FLASH_CR, FLASH_OPTCR).
    pub control: u32,
    pub bit: u32,
    /// The bit reads 1 once unlocked (OPTWRE) rather than while locked (LOCK).
    pub set_when_unlocked: bool,
    /// What the driver reports when the bit still says locked after the keys.
    pub still_locked: Error,
}

impl KeyLock {
    fn locked<M: Memory + ?Sized>(&self, memory: &mut M) -> Result<bool, Error> {
        let set = memory.read_word(self.control)? & self.bit != 0;
        Ok(set != self.set_when_unlocked)
    }

    /// The keys, only while locked: a key written while unlocked, or a wrong one, locks
    /// the register until reset (RM0090 3.5.1, RM0433 4.5.1).
    pub fn unlock<M: Memory + ?Sized>(&self, memory: &mut M) -> Result<(), Error> {
        if !self.locked(memory)? {
            return Ok(());
        }
        for key in self.keys {
            memory.write_word(self.keyr, key)?;
        }
        if self.locked(memory)? {
            return Err(self.still_locked);
        }
        Ok(())
    }
}
