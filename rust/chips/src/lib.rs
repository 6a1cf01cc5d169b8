//! What chip is behind a Cortex-M core: its name, memory map and flash driver.
//! STM32F1 first (RM0008); anything else is a generic Cortex-M with no flash driver.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod memory_map;
pub mod stm32f1;
#[cfg(test)]
mod tests;

use adi::Memory;
pub use memory_map::{MemoryMap, Region, RegionKind};
pub use stm32f1::OptionBytes;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    Adi(adi::Error),
    /// The flash controller stayed locked after the key sequence.
    Locked,
    /// PGERR: a location was not erased before programming (RM0008 3.3.3).
    NotErased {
        address: u32,
    },
    /// WRPRTERR: the page is write protected by the option bytes.
    WriteProtected {
        address: u32,
    },
    /// BSY did not clear in time.
    Timeout {
        address: u32,
    },
    /// The address range is not inside the chip's flash.
    OutsideFlash {
        address: u32,
    },
    /// This chip has no flash driver.
    NoFlashDriver,
    /// OPTWRE stayed clear after the OPTKEYR key sequence (PM0075 2.5).
    OptionBytesLocked,
    /// WRPRTERR on option byte programming: the byte was not erased (PM0075 2.5).
    OptionByteNotErased {
        address: u32,
    },
    /// Option bytes are numbered 0 (RDP) to 7 (WRP3).
    NoSuchOptionByte {
        index: usize,
    },
}

impl From<adi::Error> for Error {
    fn from(error: adi::Error) -> Self {
        Error::Adi(error)
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Adi(error) => error.fmt(f),
            Error::Locked => write!(f, "flash controller still locked after the unlock sequence"),
            Error::NotErased { address } => write!(
                f,
                "flash at 0x{address:08x} not erased before programming (PGERR)"
            ),
            Error::WriteProtected { address } => {
                write!(f, "flash at 0x{address:08x} is write protected (WRPRTERR)")
            }
            Error::Timeout { address } => write!(f, "flash operation at 0x{address:08x} timed out"),
            Error::OutsideFlash { address } => write!(f, "0x{address:08x} is not in flash"),
            Error::NoFlashDriver => write!(f, "no flash driver for this chip"),
            Error::OptionBytesLocked => write!(
                f,
                "option bytes still locked after the unlock sequence (OPTWRE clear)"
            ),
            Error::OptionByteNotErased { address } => write!(
                f,
                "option byte at 0x{address:08x} not erased: erase the option bytes first"
            ),
            Error::NoSuchOptionByte { index } => {
                write!(f, "no option byte {index}: they are numbered 0 to 7")
            }
        }
    }
}

/// How a family's flash behaves: what the session needs to skip work safely. Each family
/// states its own, so every driver gets mass erase and the skips (issue 13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashTraits {
    /// The value of every byte of an erased page.
    pub erased: u8,
    /// The smallest unit the controller programs, in bytes; a unit that holds only the
    /// erased value need not be programmed.
    pub write_unit: u32,
    /// What `flash_mass_erase` erases (start, length), if the family has a mass erase
    /// that is at least as fast as erasing two pages.
    pub mass_erase: Option<(u32, u32)>,
}

/// The identified chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chip {
    Stm32F1(stm32f1::Stm32F1),
    /// A Cortex-M of unknown make: memory access and run control only.
    Generic,
}

/// What the debug port and core told us, for identification.
#[derive(Clone, Copy, Debug)]
pub struct Identity {
    pub dpidr: u32,
    pub cpuid: u32,
}

impl Chip {
    pub fn identify<M: Memory>(memory: &mut M, identity: Identity) -> Result<Self, Error> {
        if let Some(chip) = stm32f1::Stm32F1::identify(memory, identity)? {
            return Ok(Chip::Stm32F1(chip));
        }
        Ok(Chip::Generic)
    }

    /// The name the scan list shows, e.g. "STM32F1 medium density".
    pub fn name(&self) -> &'static str {
        match self {
            Chip::Stm32F1(chip) => chip.name(),
            Chip::Generic => "ARM Cortex-M",
        }
    }

    pub fn memory_map(&self) -> MemoryMap {
        match self {
            Chip::Stm32F1(chip) => chip.memory_map(),
            Chip::Generic => MemoryMap::new(),
        }
    }

    /// Erased value, write unit and mass erase of the flash; None without a flash driver.
    pub fn flash_traits(&self) -> Option<FlashTraits> {
        match self {
            Chip::Stm32F1(chip) => Some(chip.flash_traits()),
            Chip::Generic => None,
        }
    }

    pub fn flash_erase<M: Memory>(
        &mut self,
        memory: &mut M,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        match self {
            Chip::Stm32F1(chip) => chip.erase(memory, address, length),
            Chip::Generic => Err(Error::NoFlashDriver),
        }
    }

    /// Program `data` at `address`; the range must be erased. Even address, any length
    /// (an odd last byte is padded with 0xFF).
    pub fn flash_program<M: Memory>(
        &mut self,
        memory: &mut M,
        address: u32,
        data: &[u8],
    ) -> Result<(), Error> {
        match self {
            Chip::Stm32F1(chip) => chip.program(memory, address, data),
            Chip::Generic => Err(Error::NoFlashDriver),
        }
    }

    pub fn flash_mass_erase<M: Memory>(&mut self, memory: &mut M) -> Result<(), Error> {
        match self {
            Chip::Stm32F1(chip) => chip.mass_erase(memory),
            Chip::Generic => Err(Error::NoFlashDriver),
        }
    }

    /// The option bytes and the option registers loaded from them at the last reset.
    pub fn option_bytes<M: Memory>(&self, memory: &mut M) -> Result<OptionBytes, Error> {
        match self {
            Chip::Stm32F1(chip) => chip.read_option_bytes(memory),
            Chip::Generic => Err(Error::NoFlashDriver),
        }
    }

    /// Erase the option bytes and leave the flash unprotected (RDP 0xA5 programmed); takes
    /// effect at the next reset.
    pub fn erase_option_bytes<M: Memory>(&mut self, memory: &mut M) -> Result<(), Error> {
        match self {
            Chip::Stm32F1(chip) => chip.erase_option_bytes(memory),
            Chip::Generic => Err(Error::NoFlashDriver),
        }
    }

    /// Program erased option byte `index` (0 RDP ... 7 WRP3) with `value`.
    pub fn write_option_byte<M: Memory>(
        &mut self,
        memory: &mut M,
        index: usize,
        value: u8,
    ) -> Result<(), Error> {
        match self {
            Chip::Stm32F1(chip) => chip.write_option_byte(memory, index, value),
            Chip::Generic => Err(Error::NoFlashDriver),
        }
    }

    /// Lock the flash controller again.
    pub fn flash_done<M: Memory>(&mut self, memory: &mut M) -> Result<(), Error> {
        match self {
            Chip::Stm32F1(chip) => chip.lock(memory),
            Chip::Generic => Ok(()),
        }
    }
}
