//! Flash buffering: writes at any address and length are gathered a page at a time, and
//! each page is programmed once, aligned, when the writes move on or finish.
//!
//! An erase request (GDB's vFlashErase) is not carried out at once. The CRC of every page
//! it covers is taken first, on the target (crate::crc), and the erase waits for the data:
//! - a page whose new content (the writes, erased value elsewhere) has the CRC of what is
//!   there already is neither erased nor programmed;
//! - a page that reads back erased is programmed without erasing;
//! - if the request covers the family's whole mass erase range and the first page to
//!   change is the first of the range, one mass erase replaces the page erases (DS5319:
//!   20 ms for either on the STM32F1);
//! - pages of the request that get no data are erased at the end, unless already erased.
//!
//! Units holding only the erased value are never programmed (the chip drivers skip them).

use crate::crc::{self, GDB_CRC, Method};
use crate::error::Error;
use adi::Memory;
use chips::{FlashTraits, MemoryMap, RegionKind};

/// What the buffer needs of a flash: the chip's driver, or a flash algorithm on the
/// regions it covers (`crate::algorithm::Flashes` routes by address).
pub trait FlashDriver<M: Memory> {
    fn memory_map(&self) -> MemoryMap;
    /// Erased value, write unit and mass erase of the flash at `address`.
    fn traits(&self, address: u32) -> Option<FlashTraits>;
    fn erase(&mut self, memory: &mut M, address: u32, length: u32) -> Result<(), Error>;
    fn program(&mut self, memory: &mut M, address: u32, data: &[u8]) -> Result<(), Error>;
    /// The mass erase of the flash at `address` (its `traits().mass_erase` range).
    fn mass_erase(&mut self, memory: &mut M, address: u32) -> Result<(), Error>;
    /// End of the work: lock the controller, finish the algorithm.
    fn done(&mut self, memory: &mut M) -> Result<(), Error>;
    /// The CRC of `crcs.len()` blocks (crate::crc::block_crcs).
    fn block_crcs(
        &mut self,
        memory: &mut M,
        options: crc::Options,
        address: u32,
        block: u32,
        crcs: &mut [u32],
    ) -> Result<Method, Error>;
}

/// Largest flash page buffered (STM32F1 high density: 2 KB).
const MAX_PAGE: usize = 2048;
/// Largest erase request that is deferred; larger ones are carried out at once.
const MAX_PENDING_PAGES: usize = crc::MAX_BLOCKS;

/// What the flash work since the last `reset_report` did, for `monitor flash_report`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Pages left alone: they already held the data.
    pub unchanged: u32,
    /// Pages erased one by one.
    pub erased: u32,
    /// Mass erases.
    pub mass_erases: u32,
    /// Pages programmed.
    pub programmed: u32,
    /// How the pages' CRCs were taken at the last erase request.
    pub method: Option<Method>,
}

impl core::fmt::Display for Report {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        writeln!(
            f,
            "Flash pages since attach: {} unchanged (skipped), {} erased, {} mass erase(s), \
             {} programmed",
            self.unchanged, self.erased, self.mass_erases, self.programmed
        )?;
        match self.method {
            Some(method) => writeln!(f, "Last CRC: {method}"),
            None => writeln!(f, "Last CRC: none yet"),
        }
    }
}

/// An erase request waiting for the data: its pages and their CRCs as they were.
struct Pending {
    start: u32,
    page_size: u32,
    count: usize,
    crcs: [u32; MAX_PENDING_PAGES],
    /// Pages already dealt with (skipped, erased or programmed), one bit each.
    done: [u32; MAX_PENDING_PAGES / 32],
    /// The request covers the family's mass erase range.
    covers_mass_erase: bool,
    erased_crc: u32,
}

impl Pending {
    fn index(&self, page: u32) -> Option<usize> {
        let index = (page.checked_sub(self.start)? / self.page_size) as usize;
        (index < self.count).then_some(index)
    }

    fn is_done(&self, index: usize) -> bool {
        self.done[index / 32] & (1 << (index % 32)) != 0
    }

    fn set_done(&mut self, index: usize) {
        self.done[index / 32] |= 1 << (index % 32);
    }

    fn none_done(&self) -> bool {
        self.done.iter().all(|&word| word == 0)
    }

    fn page(&self, index: usize) -> u32 {
        self.start + index as u32 * self.page_size
    }

    /// What to do with `page`, whose new content is `data` (erased value where nothing
    /// was written); marks it done.
    fn plan(&mut self, page: u32, data: &[u8]) -> Plan {
        let Some(index) = self.index(page).filter(|&index| !self.is_done(index)) else {
            return Plan::Program;
        };
        if self.page_size as usize != data.len() {
            return Plan::Program;
        }
        let first_change = self.none_done();
        self.set_done(index);
        let there = self.crcs[index];
        if there == GDB_CRC.checksum(data) {
            return Plan::Unchanged;
        }
        if there == self.erased_crc {
            return Plan::AlreadyErased;
        }
        let to_erase = self.crcs[..self.count]
            .iter()
            .filter(|&&crc| crc != self.erased_crc)
            .count();
        if first_change && self.covers_mass_erase && to_erase > 1 {
            let erased_crc = self.erased_crc;
            self.crcs[..self.count].fill(erased_crc);
            return Plan::MassErase;
        }
        Plan::Erase
    }
}

/// What a buffered page needs.
enum Plan {
    /// Not part of a pending erase: program the bytes written.
    Program,
    /// It holds the data already.
    Unchanged,
    /// It reads back erased: program it.
    AlreadyErased,
    /// Erase it, then program it.
    Erase,
    /// Mass erase (the first change of a request covering the whole range), then program.
    MassErase,
}

pub struct FlashBuffer {
    page: Option<u32>,
    page_size: u32,
    data: [u8; MAX_PAGE],
    /// Bytes of the page written since it was started: [first, end).
    dirty: Option<(usize, usize)>,
    pending: Option<Pending>,
    pub report: Report,
    pub crc_options: crc::Options,
}

impl FlashBuffer {
    pub const fn new() -> Self {
        Self {
            page: None,
            page_size: 0,
            data: [0xFF; MAX_PAGE],
            dirty: None,
            pending: None,
            report: Report {
                unchanged: 0,
                erased: 0,
                mass_erases: 0,
                programmed: 0,
                method: None,
            },
            crc_options: crc::Options::new(),
        }
    }

    /// Ask for the pages `[address, address + length)` touches to be erased. Pending
    /// work is finished first. The erase itself waits for the data (see the module's
    /// comment), unless the range is not one run of equal pages the buffer can track.
    pub fn erase<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        self.finish(memory, chip)?;
        if length == 0 {
            return Ok(());
        }
        let deferred = self.defer(chip, address, length);
        let Some(mut pending) = deferred else {
            return chip.erase(memory, address, length);
        };
        let crcs = &mut pending.crcs[..pending.count];
        let method = chip.block_crcs(
            memory,
            self.crc_options,
            pending.start,
            pending.page_size,
            crcs,
        )?;
        self.report.method = Some(method);
        self.pending = Some(pending);
        Ok(())
    }

    /// The pending request for this range, if it is one run of equal pages in one region
    /// of a chip with a flash driver, and not too long.
    fn defer<M: Memory>(
        &self,
        chip: &impl FlashDriver<M>,
        address: u32,
        length: u32,
    ) -> Option<Pending> {
        let traits = chip.traits(address)?;
        let map = chip.memory_map();
        let region = map.flash_at(address)?;
        let RegionKind::Flash { block_size } = region.kind else {
            return None;
        };
        let end = address.checked_add(length)?;
        if block_size as usize > MAX_PAGE || end > region.start + region.length {
            return None;
        }
        let start = address - (address - region.start) % block_size;
        let count = (end - start).div_ceil(block_size) as usize;
        if count > MAX_PENDING_PAGES {
            return None;
        }
        let erased_page = [traits.erased; MAX_PAGE];
        Some(Pending {
            start,
            page_size: block_size,
            count,
            crcs: [0; MAX_PENDING_PAGES],
            done: [0; MAX_PENDING_PAGES / 32],
            covers_mass_erase: traits.mass_erase.is_some_and(|(first, size)| {
                start == first && start + count as u32 * block_size == first + size
            }),
            erased_crc: GDB_CRC.checksum(&erased_page[..block_size as usize]),
        })
    }

    pub fn write<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        address: u32,
        data: &[u8],
    ) -> Result<(), Error> {
        let mut offset = 0;
        while offset < data.len() {
            let at = address.wrapping_add(offset as u32);
            let (page, page_size) = page_of(chip, at)?;
            if self.page != Some(page) {
                self.flush(memory, chip)?;
                self.page = Some(page);
                self.page_size = page_size;
                let erased = chip.traits(page).map_or(0xFF, |traits| traits.erased);
                self.data[..page_size as usize].fill(erased);
            }
            let start = (at - page) as usize;
            let length = (data.len() - offset).min(page_size as usize - start);
            self.data[start..start + length].copy_from_slice(&data[offset..offset + length]);
            self.dirty = Some(match self.dirty {
                Some((first, end)) => (first.min(start), end.max(start + length)),
                None => (start, start + length),
            });
            offset += length;
        }
        Ok(())
    }

    /// Program the buffered page, if any, erasing it first if it is part of a pending
    /// erase request and does not hold the data already. On an error the pending
    /// request is dropped: the next erase request starts afresh.
    pub fn flush<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
    ) -> Result<(), Error> {
        let result = self.flush_page(memory, chip);
        if result.is_err() {
            self.pending = None;
        }
        result
    }

    fn flush_page<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
    ) -> Result<(), Error> {
        let (Some(page), Some((first, end))) = (self.page, self.dirty.take()) else {
            self.page = None;
            return Ok(());
        };
        self.page = None;
        let size = self.page_size as usize;
        let plan = match self.pending.as_mut() {
            Some(pending) => pending.plan(page, &self.data[..size]),
            None => Plan::Program,
        };
        match plan {
            Plan::Program => self.program(memory, chip, page, first, end, false),
            Plan::Unchanged => {
                self.report.unchanged += 1;
                Ok(())
            }
            Plan::AlreadyErased => self.program(memory, chip, page, 0, size, true),
            Plan::Erase => {
                chip.erase(memory, page, self.page_size)?;
                self.report.erased += 1;
                self.program(memory, chip, page, 0, size, false)
            }
            Plan::MassErase => {
                chip.mass_erase(memory, page)?;
                self.report.mass_erases += 1;
                self.program(memory, chip, page, 0, size, false)
            }
        }
    }

    /// Program `data[first..end]` at `page`; whole units, an odd edge padded with the
    /// erased value. `retry_erase`: the page was only believed erased from its CRC, so
    /// on a not-erased error erase it and program again.
    fn program<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        page: u32,
        first: usize,
        end: usize,
        retry_erase: bool,
    ) -> Result<(), Error> {
        let unit = chip.traits(page).map_or(2, |traits| traits.write_unit) as usize;
        let first = first - first % unit;
        let end = end.div_ceil(unit) * unit;
        let data = &self.data[first..end];
        let at = page + first as u32;
        match chip.program(memory, at, data) {
            Err(Error::Chip(chips::Error::NotErased { .. })) if retry_erase => {
                chip.erase(memory, page, self.page_size)?;
                self.report.erased += 1;
                chip.program(memory, at, data)?;
            }
            result => result?,
        }
        self.report.programmed += 1;
        Ok(())
    }

    /// Program what is buffered, erase what the last erase request covered and got no
    /// data, and lock the flash controller.
    pub fn finish<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
    ) -> Result<(), Error> {
        let flushed = self.flush(memory, chip);
        let settled = match flushed {
            Ok(()) => self.settle(memory, chip),
            Err(error) => Err(error),
        };
        let locked = chip.done(memory);
        settled.and(locked)
    }

    /// Finish pending work before `[address, address + length)` is read or the core runs
    /// (None): a reader sees the flash as written so far, a program never runs from half
    /// a load. Writes elsewhere (GDB's RAM sections, sent before the flash data) do not.
    pub fn finish_before<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        range: Option<(u32, u32)>,
    ) -> Result<(), Error> {
        if self.page.is_none() && self.pending.is_none() {
            return Ok(());
        }
        let touches_flash = range.is_none_or(|(address, length)| {
            let end = u64::from(address) + u64::from(length);
            chip.memory_map().regions().any(|region| {
                matches!(region.kind, RegionKind::Flash { .. })
                    && u64::from(address) < u64::from(region.start) + u64::from(region.length)
                    && u64::from(region.start) < end
            })
        });
        if touches_flash {
            self.finish(memory, chip)?;
        }
        Ok(())
    }

    /// Erase the pages of the pending request that no data came for.
    fn settle<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
    ) -> Result<(), Error> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        let to_erase = (0..pending.count)
            .filter(|&index| !pending.is_done(index) && pending.crcs[index] != pending.erased_crc)
            .count();
        // One mass erase if the request got no data at all and it saves page erases.
        if pending.none_done() && pending.covers_mass_erase && to_erase > 1 {
            chip.mass_erase(memory, pending.start)?;
            self.report.mass_erases += 1;
            return Ok(());
        }
        for index in 0..pending.count {
            if !pending.is_done(index) && pending.crcs[index] != pending.erased_crc {
                chip.erase(memory, pending.page(index), pending.page_size)?;
                self.report.erased += 1;
            }
        }
        Ok(())
    }
}

fn page_of<M: Memory>(chip: &impl FlashDriver<M>, address: u32) -> Result<(u32, u32), Error> {
    let map = chip.memory_map();
    let has_flash = map
        .regions()
        .any(|region| matches!(region.kind, RegionKind::Flash { .. }));
    let region = map.flash_at(address).ok_or(Error::Chip(if has_flash {
        chips::Error::OutsideFlash { address }
    } else {
        // A generic Cortex-M: no driver knows its flash.
        chips::Error::NoFlashDriver
    }))?;
    let RegionKind::Flash { block_size } = region.kind else {
        unreachable!("flash_at returns flash")
    };
    let block_size = block_size.min(MAX_PAGE as u32);
    Ok((address - (address - region.start) % block_size, block_size))
}
