//! A build without the STM32F1 family (`cargo test -p chips --no-default-features --lib`):
//! the same identification registers that name an STM32F103 in a full build give a generic
//! Cortex-M, which refuses flash writes in words that say so.

use crate::{Identity, Part};
use adi::{Error as AdiError, Memory};

/// A genuine STM32F103's SW-DP, core and ROM table (PM0056 4.3.1, RM0008 31.6.3).
const F103: Identity = Identity {
    dpidr: 0x1BA0_1477,
    cpuid: 0x411F_C231,
    rom_designer: 0x020,
    rom_part: 0x410,
};
/// DBGMCU_IDCODE (RM0008 31.6.1) and the flash size word (RM0008 30.1.1).
const DBGMCU_IDCODE: u32 = 0xE004_2000;
const FLASH_SIZE_WORD: u32 = 0x1FFF_F7E0;

/// A medium-density STM32F103's identification registers; every other word reads 0.
struct Identification;

impl Memory for Identification {
    fn read_words(&mut self, address: u32, words: &mut [u32]) -> Result<(), AdiError> {
        for (index, word) in words.iter_mut().enumerate() {
            *word = match address + 4 * index as u32 {
                DBGMCU_IDCODE => 0x2000_6410,
                FLASH_SIZE_WORD => 64,
                _ => 0,
            };
        }
        Ok(())
    }

    fn write_words(&mut self, _: u32, _: &[u32]) -> Result<(), AdiError> {
        Ok(())
    }

    fn write_halves(&mut self, _: u32, _: &[u16]) -> Result<(), AdiError> {
        Ok(())
    }

    fn read_bytes(&mut self, address: u32, bytes: &mut [u8]) -> Result<(), AdiError> {
        for (index, byte) in bytes.iter_mut().enumerate() {
            let at = address + index as u32;
            let mut word = [0];
            self.read_words(at & !3, &mut word)?;
            *byte = word[0].to_le_bytes()[(at & 3) as usize];
        }
        Ok(())
    }

    fn write_bytes(&mut self, _: u32, _: &[u8]) -> Result<(), AdiError> {
        Ok(())
    }

    fn now_micros(&mut self) -> u64 {
        0
    }
}

#[cfg(feature = "stm32f1")]
#[test]
fn the_model_is_an_stm32f103_with_the_family() {
    let part = Part::identify(&mut Identification, F103).unwrap();
    assert_eq!(part.name(), "STM32F1 medium density");
    assert!(part.has_flash_driver());
}

#[cfg(not(feature = "stm32f1"))]
#[test]
fn without_the_family_it_is_a_generic_cortex_m() {
    let part = Part::identify(&mut Identification, F103).unwrap();
    assert_eq!(part.name(), "ARM Cortex-M");
    assert!(!crate::FAMILY_FEATURES.contains(&"stm32f1"));
    let refused = part.program(&mut Identification, 0x0800_0000, &[0; 4]);
    assert_eq!(refused, Err(crate::Error::NoFlashDriver));
    assert!(refused.unwrap_err().to_string().contains("no flash driver"));
}
