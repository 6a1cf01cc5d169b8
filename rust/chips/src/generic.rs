//! A Cortex-M that no family knows: memory, registers and run control work; there is no
//! flash driver, so the memory map is empty and every flash operation says so.

use crate::{Error, Family, Identity, MemoryMap, Part, Region};
use adi::Memory;

pub struct Generic;

pub static GENERIC: Generic = Generic;

/// The generic part: no regions, so GDB treats all memory as RAM-like and a flash write
/// reaches the session as a plain memory write, which the chip refuses (bus fault).
pub fn part() -> Part {
    Part {
        family: &GENERIC,
        name: "ARM Cortex-M",
        memory_map: MemoryMap::new(),
        mass_erase: None,
        device: 0,
        variant: 0,
    }
}

impl Family for Generic {
    fn identify(&'static self, _: &mut dyn Memory, _: &Identity) -> Result<Option<Part>, Error> {
        Ok(Some(part()))
    }

    fn erase(&self, _: &Part, _: &mut dyn Memory, _: &Region, _: u32, _: u32) -> Result<(), Error> {
        Err(Error::NoFlashDriver)
    }

    fn program(
        &self,
        _: &Part,
        _: &mut dyn Memory,
        _: &Region,
        _: u32,
        _: &[u8],
    ) -> Result<(), Error> {
        Err(Error::NoFlashDriver)
    }

    fn mass_erase(&self, _: &Part, _: &mut dyn Memory) -> Result<(), Error> {
        Err(Error::NoFlashDriver)
    }
}
