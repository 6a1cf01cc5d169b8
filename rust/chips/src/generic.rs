//! A Cortex-M that no family knows: memory, registers and run control work; there is no
//! flash driver, and every flash operation says so.
//!
//! Its memory map is the ARMv7-M/ARMv6-M default map (ARMv7-M B3.1 table B3-1): the Code
//! region, where vendors put their flash, is given to GDB as flash, so `load` into it goes
//! through vFlashErase and fails with "no flash driver" instead of writing the array as
//! memory (which does nothing, or faults, on a real chip). The SRAM region and the rest of
//! the address space are RAM to GDB, so memory and peripherals stay reachable. A program
//! linked to run from RAM in the Code region (an M7's ITCM) cannot be loaded with `load`.

use crate::memory_map::Flash;
use crate::{Error, Family, Identity, MemoryMap, Part, Protection, Region};
use adi::Memory;

pub struct Generic;

pub static GENERIC: Generic = Generic;

/// The Code region (0x0000_0000-0x1FFF_FFFF), the SRAM region (0x2000_0000-0x3FFF_FFFF)
/// and everything above (peripherals, external memory, the PPB).
const CODE_END: u32 = 0x2000_0000;
const SRAM_END: u32 = 0x4000_0000;
/// An erase unit for GDB's memory map; nothing is erased.
const NOMINAL_BLOCK: u32 = 0x400;

/// The generic part.
pub fn part() -> Part {
    Part {
        family: &GENERIC,
        name: "ARM Cortex-M",
        memory_map: MemoryMap::new()
            .with(Region::flash(0, CODE_END, Flash::new(NOMINAL_BLOCK, 4)))
            .with(Region::ram(CODE_END, SRAM_END - CODE_END))
            .with(Region::ram(SRAM_END, 0u32.wrapping_sub(SRAM_END))),
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

    fn drives_flash(&self) -> bool {
        false
    }

    /// Nothing is known of its flash: every flash operation stops here, before any work.
    fn protection(&self, _: &Part, _: &mut dyn Memory) -> Result<Protection, Error> {
        Err(Error::NoFlashDriver)
    }
}
