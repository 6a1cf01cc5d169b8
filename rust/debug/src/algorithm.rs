//! Flash algorithms in the session: the regions an algorithm's FlashDevice describes join
//! the memory map (replacing the chip driver's flash regions they overlap), and the flash
//! buffer's erase and program calls on them go to the algorithm runner (crate `algo`);
//! everything else goes to the chip's driver.

use crate::crc::{self, Method};
use crate::error::Error;
use crate::flash::FlashDriver;
use crate::sequences::{FlashSequences, SequencePort};
use adi::Memory;
use algo::Algorithm;
use algo::runner::Runner;
use chips::memory_map::Flash;
use chips::{MemoryMap, Part, Region, RegionKind};
use cortexm::Core;
use sequence::FlashOperation;

/// An algorithm is in use (never in a build without the feature: its runner is dropped).
fn in_use(algorithm: &Algorithm) -> bool {
    crate::Feature::FlashAlgorithm.built() && algorithm.is_loaded()
}

/// The largest ProgramPage block the session takes (it must fit the flash buffer).
pub const MAX_ALGORITHM_PAGE: u32 = crate::flash::BUFFER_BYTES as u32;

/// The chip's memory map with the algorithm's regions: one flash region per run of equal
/// sectors; chip flash regions that overlap the device are dropped.
pub fn memory_map(chip: &Part, algorithm: &Algorithm) -> MemoryMap {
    let map = chip.memory_map();
    if !in_use(algorithm) {
        return map;
    }
    let device = &algorithm.device;
    let overlaps = |region: &Region| {
        u64::from(region.start) < device.end()
            && u64::from(device.start) < u64::from(region.start) + u64::from(region.length)
    };
    let kept = map
        .regions()
        .filter(|region| !(region.as_flash().is_some() && overlaps(region)))
        .fold(MemoryMap::new(), |map, region| map.with(*region));
    // ProgramPage takes whole pages: the page is the write unit.
    let flash = |sector| Flash {
        block_size: sector,
        write_unit: device.page_size,
        erased: device.erased,
        bank: 0,
    };
    device.runs().fold(kept, |map, (start, length, sector)| {
        map.with(Region::flash(start, length, flash(sector)))
    })
}

/// The first RAM region of the chip's map: where an algorithm runs by default.
pub fn default_ram(chip: &Part) -> Option<(u32, u32)> {
    chip.memory_map()
        .regions()
        .find(|region| region.kind == RegionKind::Ram)
        .map(|region| (region.start, region.length))
}

/// Check that the algorithm can serve the session: its pages fit the flash buffer.
pub fn check(algorithm: &Algorithm) -> Result<(), Error> {
    let page = algorithm.device.page_size;
    let fits = page <= MAX_ALGORITHM_PAGE
        && algorithm.device.runs().all(|(_, _, sector)| {
            sector
                .min(crate::flash::BUFFER_BYTES as u32)
                .is_multiple_of(page)
        });
    if fits {
        Ok(())
    } else {
        Err(Error::AlgorithmPage(page))
    }
}

/// The flash of one attached target: the algorithm on its device, the chip elsewhere.
pub struct Flashes<'a> {
    pub chip: &'a Part,
    /// The chip driver's flash session (ended by `done` and `end_session`).
    pub session: &'a mut chips::Session,
    pub core: &'a mut Core,
    pub algorithm: &'a Algorithm,
    pub runner: &'a mut Runner,
    /// RAM for the algorithm (None: the chip's first RAM region).
    pub ram: Option<(u32, u32)>,
    /// A debug description's FlashInit and FlashUninit around each operation (None: the
    /// description has neither).
    pub sequences: Option<FlashSequences<'a>>,
}

impl Flashes<'_> {
    fn covers(&self, address: u32) -> bool {
        in_use(self.algorithm) && self.algorithm.device.contains(address, 1)
    }

    /// The algorithm's call under way, if any, finished.
    fn finish_algorithm<M: Memory>(&mut self, memory: &mut M) -> Result<(), Error> {
        if !crate::Feature::FlashAlgorithm.built() {
            return Ok(());
        }
        Ok(self.runner.finish(memory, self.core, self.algorithm)?)
    }

    /// An erase, program or verify operation (`FlashOperation::ERASE`...) starts at
    /// `[address, address + length)`, unless one of its kind is under way: the one before
    /// ends (`leave`), then FlashInit runs.
    fn enter<M: Memory + SequencePort>(
        &mut self,
        memory: &mut M,
        operation: u64,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        let Some(sequences) = self.sequences.as_ref() else {
            return Ok(());
        };
        if sequences
            .phase
            .is_some_and(|phase| phase.operation == operation)
        {
            return Ok(());
        }
        self.leave(memory)?;
        let flash = FlashOperation {
            operation,
            address: address.into(),
            length: length.into(),
            argument: 0,
        };
        let sequences = self.sequences.as_mut().expect("checked above");
        *sequences.phase = Some(flash);
        memory.run_flash_sequence(sequences, "FlashInit", flash)
    }

    /// The operation under way ends: the algorithm's last page and UnInit, then
    /// FlashUninit (its Init and UnInit pair inside FlashInit and FlashUninit).
    fn leave<M: Memory + SequencePort>(&mut self, memory: &mut M) -> Result<(), Error> {
        let Some(flash) = self.sequences.as_mut().and_then(|s| s.phase.take()) else {
            return Ok(());
        };
        if crate::Feature::FlashAlgorithm.built() {
            self.runner
                .end_operation(memory, self.core, self.algorithm)?;
        }
        let sequences = self.sequences.as_mut().expect("a phase was under way");
        memory.run_flash_sequence(sequences, "FlashUninit", flash)
    }

    /// The algorithm's Init and UnInit for Verify, which leave an external flash readable,
    /// as a verify operation of its own (FlashInit and FlashUninit around it).
    fn set_up_for_reading<M: Memory + SequencePort>(
        &mut self,
        memory: &mut M,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        self.enter(memory, FlashOperation::VERIFY, address, length)?;
        let ram = self.ram()?;
        self.runner
            .set_up_for_reading(memory, self.core, self.algorithm, ram)?;
        self.leave(memory)
    }

    fn ram(&self) -> Result<(u32, u32), Error> {
        self.ram
            .or_else(|| default_ram(self.chip))
            .ok_or(Error::NoAlgorithmRam)
    }
}

impl<M: Memory + SequencePort> FlashDriver<M> for Flashes<'_> {
    fn memory_map(&self) -> MemoryMap {
        memory_map(self.chip, self.algorithm)
    }

    fn mass_erase_range(&self, address: u32) -> Option<(u32, u32)> {
        if !self.covers(address) {
            return self.chip.mass_erase;
        }
        let device = &self.algorithm.device;
        self.algorithm
            .entries
            .erase_chip
            .map(|_| (device.start, device.size))
    }

    fn check_protection(&mut self, memory: &mut M, address: u32) -> Result<(), Error> {
        if self.covers(address) {
            return Ok(());
        }
        Ok(self.chip.protection(memory)?.check()?)
    }

    fn erase(&mut self, memory: &mut M, address: u32, length: u32) -> Result<(), Error> {
        self.enter(memory, FlashOperation::ERASE, address, length)?;
        if !self.covers(address) {
            return Ok(self.chip.erase_in(self.session, memory, address, length)?);
        }
        FlashDriver::<M>::end_session(self, memory)?;
        let ram = self.ram()?;
        Ok(self
            .runner
            .erase(memory, self.core, self.algorithm, ram, address, length)?)
    }

    fn program(&mut self, memory: &mut M, address: u32, data: &[u8]) -> Result<(), Error> {
        self.enter(memory, FlashOperation::PROGRAM, address, data.len() as u32)?;
        if !self.covers(address) {
            return Ok(self.chip.program_in(self.session, memory, address, data)?);
        }
        FlashDriver::<M>::end_session(self, memory)?;
        let ram = self.ram()?;
        Ok(self
            .runner
            .program(memory, self.core, self.algorithm, ram, address, data)?)
    }

    fn mass_erase(&mut self, memory: &mut M, address: u32) -> Result<(), Error> {
        if let Some((start, length)) = FlashDriver::<M>::mass_erase_range(self, address) {
            self.enter(memory, FlashOperation::ERASE, start, length)?;
        }
        if !self.covers(address) {
            return Ok(self.chip.mass_erase_in(self.session, memory)?);
        }
        FlashDriver::<M>::end_session(self, memory)?;
        let ram = self.ram()?;
        Ok(self
            .runner
            .erase_chip(memory, self.core, self.algorithm, ram)?)
    }

    fn done(&mut self, memory: &mut M) -> Result<(), Error> {
        let ended = FlashDriver::<M>::end_session(self, memory);
        let left = ended.and(self.leave(memory));
        let finished = left.and(self.finish_algorithm(memory));
        let locked = self.chip.done(memory).map_err(Error::from);
        finished.and(locked)
    }

    fn block_crcs(
        &mut self,
        memory: &mut M,
        options: crc::Options,
        address: u32,
        block: u32,
        crcs: &mut [u32],
    ) -> Result<Method, Error> {
        // The CRC routine needs the core: the algorithm's last page must be done, the
        // chip's session ended.
        self.finish_algorithm(memory)?;
        FlashDriver::<M>::end_session(self, memory)?;
        // The algorithm's device is in it: the routine runs only over mapped memory.
        let map = memory_map(self.chip, self.algorithm);
        // An external flash answers only once its algorithm has set it up (the H750's
        // QSPI flash after reset): one read by the probe finds that out (a bus error)
        // before the CRC routine is loaded and run into it (12 ms of the H750's load).
        let length = block.saturating_mul(crcs.len() as u32);
        if self.covers(address) && memory.read_words(address & !3, &mut [0]).is_err() {
            self.set_up_for_reading(memory, address, length)?;
        }
        match crc::block_crcs(memory, self.core, &map, options, address, block, crcs) {
            // An external flash answers only once its algorithm has set it up (the H750's
            // QSPI flash after reset): Init and UnInit, then the CRCs again.
            Err(Error::Adi(adi::Error::Bus { .. })) if self.covers(address) => {
                self.set_up_for_reading(memory, address, length)?;
                crc::block_crcs(memory, self.core, &map, options, address, block, crcs)
            }
            taken => taken,
        }
    }

    fn end_session(&mut self, memory: &mut M) -> Result<(), Error> {
        Ok(self.chip.end_session(self.session, memory)?)
    }

    fn in_session(&self) -> bool {
        self.session.is_open()
    }

    fn busy_ram(&self) -> Option<(u32, u32)> {
        if in_use(self.algorithm) {
            self.ram().ok()
        } else {
            None
        }
    }
}
