//! Flash buffering: writes at any address and length are gathered one block at a time,
//! and each block is programmed once, in whole write units of its region, when the writes
//! move on or finish. A block is the region's erase unit (page or sector) when it fits in
//! the buffer ([`BUFFER_BYTES`]), else a buffer-sized piece of it.
//!
//! An erase request (GDB's vFlashErase) is not carried out at once. The CRC of every
//! sector it covers is taken first, on the target (crate::crc), and the erase waits for
//! the data:
//! - a sector that fits the buffer and whose new content (the writes, erased value
//!   elsewhere) has the CRC of what is there already is neither erased nor programmed;
//! - a sector that reads back erased is programmed without erasing;
//! - if the request covers the family's whole mass erase range and the first sector to
//!   change is the first of the range, one mass erase replaces the sector erases (DS5319:
//!   20 ms for either on the STM32F1);
//! - sectors of the request that get no data are erased at the end, unless already erased.
//!
//! A sector larger than the buffer (STM32F4: 64 and 128 KiB, STM32H7: 128 KiB) comes in
//! buffer-sized blocks. When its first block arrives, the sector is unchanged if its CRC is
//! that of this block with the rest of the sector erased (the same small image again, or
//! one that grows into the sector's erased part): the block is skipped and the later ones
//! are programmed without an erase. Otherwise it is erased, unless it reads back erased:
//! whether a sector with more in it is unchanged could only be known with all of it in hand.
//! The part of such a sector that a request leaves out could not be kept through the
//! buffer: if it holds data (it does not read back erased), the request is refused
//! ([`Error::PartialSector`]) before anything is erased. GDB always asks for whole sectors
//! (its memory map's blocks; gdb-multiarch 15 sends `vFlashErase:08010000,00010000` for a
//! 4 KiB section at 0x0801_1000), so a `load` erases the rest of the sectors it touches,
//! as it does with any GDB server.
//!
//! Units holding only the erased value are never programmed (the chip drivers skip them).

use crate::crc::{self, GDB_CRC, Method};
use crate::error::Error;
use adi::Memory;
use chips::{MemoryMap, Region};

/// What the buffer needs of a flash: the chip's driver, or a flash algorithm on the
/// regions it covers (`crate::algorithm::Flashes` routes by address).
pub trait FlashDriver<M: Memory> {
    /// RAM and flash regions; each flash region says its sector size, write unit and
    /// erased value.
    fn memory_map(&self) -> MemoryMap;
    /// What the mass erase of the flash at `address` erases (start, length), if it has
    /// one at least as fast as erasing two sectors.
    fn mass_erase_range(&self, address: u32) -> Option<(u32, u32)>;
    /// Err if the flash at `address` is protected (the error says how to lift it).
    fn check_protection(&mut self, memory: &mut M, address: u32) -> Result<(), Error>;
    fn erase(&mut self, memory: &mut M, address: u32, length: u32) -> Result<(), Error>;
    fn program(&mut self, memory: &mut M, address: u32, data: &[u8]) -> Result<(), Error>;
    /// The mass erase of the flash at `address` (its `mass_erase_range`).
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

/// The flash buffer: the largest block programmed at once. STM32F1 pages (1 and 2 KiB)
/// and STM32F4's 16 KiB sectors fit whole, so unchanged ones are skipped.
pub const BUFFER_BYTES: usize = 16 * 1024;
/// Largest erase request that is deferred, in sectors; larger ones are carried out at once.
const MAX_PENDING_SECTORS: usize = crc::MAX_BLOCKS;
/// Runs of equal sectors in one deferred request (STM32F4: 16, 64, 128 KiB).
const MAX_RUNS: usize = 4;

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

/// Equal sectors back to back: `count` of `size` bytes from `start`.
#[derive(Clone, Copy, Debug, Default)]
struct Run {
    start: u32,
    size: u32,
    count: usize,
}

/// An erase request waiting for the data: its sectors and their CRCs as they were.
struct Pending {
    runs: [Run; MAX_RUNS],
    run_count: usize,
    count: usize,
    crcs: [u32; MAX_PENDING_SECTORS],
    /// Sectors already dealt with (skipped, erased or programmed), one bit each.
    done: [u32; MAX_PENDING_SECTORS / 32],
    /// The request covers the family's mass erase range.
    covers_mass_erase: bool,
    /// The CRC of an erased sector, per run.
    erased_crcs: [u32; MAX_RUNS],
}

impl Pending {
    /// The sector holding `address`: (index, run index).
    fn index(&self, address: u32) -> Option<(usize, usize)> {
        let mut first = 0;
        for (number, run) in self.runs[..self.run_count].iter().enumerate() {
            let offset = address.wrapping_sub(run.start) / run.size;
            if address >= run.start && (offset as usize) < run.count {
                return Some((first + offset as usize, number));
            }
            first += run.count;
        }
        None
    }

    /// Each sector: (index, start, size, run index).
    fn sectors(&self) -> impl Iterator<Item = (usize, u32, u32, usize)> + '_ {
        self.runs[..self.run_count]
            .iter()
            .enumerate()
            .flat_map(|(number, run)| {
                (0..run.count).map(move |n| (run.start + n as u32 * run.size, run.size, number))
            })
            .enumerate()
            .map(|(index, (start, size, number))| (index, start, size, number))
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

    fn is_erased(&self, index: usize, run: usize) -> bool {
        self.crcs[index] == self.erased_crcs[run]
    }

    /// Sectors of the request that hold something.
    fn to_erase(&self) -> usize {
        self.sectors()
            .filter(|&(index, _, _, run)| !self.is_erased(index, run))
            .count()
    }

    fn mark_all_erased(&mut self) {
        let mut index = 0;
        for (run, erased_crc) in self.runs[..self.run_count].iter().zip(self.erased_crcs) {
            self.crcs[index..index + run.count].fill(erased_crc);
            index += run.count;
        }
    }

    /// What to do with the block at `block` whose new content is `data` (`erased` where
    /// nothing was written); marks its sector done.
    ///
    /// A block smaller than its sector (the first of the sector to arrive) is unchanged
    /// if the sector's CRC is that of this block with the rest of the sector erased: the
    /// rest then reads back erased, so the sector's later blocks are programmed without
    /// an erase (`Plan::Program`) and nothing needs erasing when no more data comes.
    fn plan(&mut self, block: u32, data: &[u8], erased: u8) -> Plan {
        let Some((index, run)) = self.index(block) else {
            return Plan::Program;
        };
        if self.is_done(index) {
            return Plan::Program;
        }
        let first_change = self.none_done();
        self.set_done(index);
        let size = self.runs[run].size;
        let offset = (block - self.runs[run].start) % size;
        if self.crcs[index] == sector_crc(size, offset, data, erased) {
            return Plan::Unchanged;
        }
        if self.is_erased(index, run) {
            return Plan::AlreadyErased;
        }
        if first_change && self.covers_mass_erase && self.to_erase() > 1 {
            self.mark_all_erased();
            return Plan::MassErase;
        }
        Plan::Erase
    }
}

/// What a buffered block needs.
enum Plan {
    /// Not the first block of a pending sector: program the bytes written.
    Program,
    /// Its sector holds the data already.
    Unchanged,
    /// Its sector reads back erased: program it.
    AlreadyErased,
    /// Erase its sector, then program it.
    Erase,
    /// Mass erase (the first change of a request covering the whole range), then program.
    MassErase,
}

/// The buffered block: where, how long, and the region it is in.
#[derive(Clone, Copy)]
struct Block {
    start: u32,
    length: u32,
    region: Region,
}

impl Block {
    /// The block holding `address`: its sector if that fits the buffer, else the
    /// buffer-sized piece of the sector.
    fn of(map: &MemoryMap, address: u32) -> Result<Self, Error> {
        let region = match map.flash_at(address) {
            Some(region) => *region,
            None if map.regions().any(|region| region.as_flash().is_some()) => {
                return Err(Error::Chip(chips::Error::OutsideFlash { address }));
            }
            // A generic Cortex-M: no driver knows its flash.
            None => return Err(Error::Chip(chips::Error::NoFlashDriver)),
        };
        let flash = region.as_flash().ok_or(chips::Error::NoFlashDriver)?;
        let size = flash.block_size.min(BUFFER_BYTES as u32);
        Ok(Self {
            start: address - (address - region.start) % size,
            length: size,
            region,
        })
    }

    fn sector(&self) -> (u32, u32) {
        let size = self
            .region
            .as_flash()
            .map_or(self.length, |flash| flash.block_size);
        (self.start - (self.start - self.region.start) % size, size)
    }

    fn write_unit(&self) -> usize {
        self.region
            .as_flash()
            .map_or(1, |flash| flash.write_unit.max(1)) as usize
    }
}

pub struct FlashBuffer {
    block: Option<Block>,
    data: [u8; BUFFER_BYTES],
    /// Bytes of the block written since it was started: [first, end).
    dirty: Option<(usize, usize)>,
    pending: Option<Pending>,
    pub report: Report,
    pub crc_options: crc::Options,
}

impl FlashBuffer {
    pub const fn new() -> Self {
        Self {
            block: None,
            data: [0xFF; BUFFER_BYTES],
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

    /// Ask for the sectors `[address, address + length)` touches to be erased. Pending
    /// work is finished first. The erase itself waits for the data (see the module's
    /// comment), unless the range is too long or too varied to track.
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
        // Before the CRCs: a protected flash answers their reads with bus errors.
        chip.check_protection(memory, address)?;
        self.keep_large_sectors(memory, chip, address, length)?;
        let Some(mut pending) = defer(chip, address, length) else {
            return chip.erase(memory, address, length);
        };
        let mut first = 0;
        let mut method = Method::Target;
        for run in pending.runs[..pending.run_count].iter() {
            let crcs = &mut pending.crcs[first..first + run.count];
            let taken = chip.block_crcs(memory, self.crc_options, run.start, run.size, crcs)?;
            if taken != Method::Target {
                method = taken;
            }
            first += run.count;
        }
        self.report.method = Some(method);
        self.pending = Some(pending);
        Ok(())
    }

    /// Err if the request leaves out part of a sector larger than the buffer and that
    /// part holds data: erasing the sector would lose it, and it cannot be kept.
    fn keep_large_sectors<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        let map = chip.memory_map();
        for ((start, length), sector) in left_out_of_large_sectors(&map, address, length)
            .into_iter()
            .flatten()
        {
            let erased = map.flash_at(start).and_then(|region| region.as_flash());
            let erased = erased.map_or(0xFF, |flash| flash.erased);
            let mut crc = [0];
            chip.block_crcs(memory, self.crc_options, start, length, &mut crc)?;
            if crc[0] != erased_crc(erased, length) {
                let (start, size) = sector;
                return Err(Error::PartialSector { start, size });
            }
        }
        Ok(())
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
            let block = Block::of(&chip.memory_map(), at)?;
            if self.block.map(|buffered| buffered.start) != Some(block.start) {
                self.flush(memory, chip)?;
                self.block = Some(block);
                let erased = block.region.as_flash().map_or(0xFF, |flash| flash.erased);
                self.data[..block.length as usize].fill(erased);
            }
            let start = (at - block.start) as usize;
            let length = (data.len() - offset).min(block.length as usize - start);
            self.data[start..start + length].copy_from_slice(&data[offset..offset + length]);
            self.dirty = Some(match self.dirty {
                Some((first, end)) => (first.min(start), end.max(start + length)),
                None => (start, start + length),
            });
            offset += length;
        }
        Ok(())
    }

    /// Program the buffered block, if any, erasing its sector first if it is part of a
    /// pending erase request and does not hold the data already. On an error the pending
    /// request is dropped: the next erase request starts afresh.
    pub fn flush<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
    ) -> Result<(), Error> {
        let result = self.flush_block(memory, chip);
        if result.is_err() {
            self.pending = None;
        }
        result
    }

    fn flush_block<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
    ) -> Result<(), Error> {
        let (Some(block), Some((first, end))) = (self.block.take(), self.dirty.take()) else {
            self.block = None;
            return Ok(());
        };
        let size = block.length as usize;
        let plan = match self.pending.as_mut() {
            Some(pending) => {
                let erased = block.region.as_flash().map_or(0xFF, |flash| flash.erased);
                pending.plan(block.start, &self.data[..size], erased)
            }
            None => Plan::Program,
        };
        let (sector, sector_size) = block.sector();
        match plan {
            Plan::Program => self.program(memory, chip, &block, first, end, false),
            Plan::Unchanged => {
                self.report.unchanged += 1;
                Ok(())
            }
            Plan::AlreadyErased => self.program(memory, chip, &block, 0, size, true),
            Plan::Erase => {
                chip.erase(memory, sector, sector_size)?;
                self.report.erased += 1;
                self.program(memory, chip, &block, 0, size, false)
            }
            Plan::MassErase => {
                chip.mass_erase(memory, block.start)?;
                self.report.mass_erases += 1;
                self.program(memory, chip, &block, 0, size, false)
            }
        }
    }

    /// Program `data[first..end]` of `block`; whole write units, the edges padded with
    /// the erased value. `retry_erase`: the sector was only believed erased from its CRC,
    /// so on a not-erased error erase it and program again (only when nothing else of
    /// the sector was programmed: the block is the first of its sector to arrive).
    fn program<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        block: &Block,
        first: usize,
        end: usize,
        retry_erase: bool,
    ) -> Result<(), Error> {
        let unit = block.write_unit();
        let first = first - first % unit;
        let end = (end.div_ceil(unit) * unit).min(block.length as usize);
        let data = &self.data[first..end];
        let at = block.start + first as u32;
        match chip.program(memory, at, data) {
            Err(Error::Chip(chips::Error::NotErased { .. })) if retry_erase => {
                let (sector, sector_size) = block.sector();
                chip.erase(memory, sector, sector_size)?;
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
        if self.block.is_none() && self.pending.is_none() {
            return Ok(());
        }
        let touches_flash = range.is_none_or(|(address, length)| {
            let end = u64::from(address) + u64::from(length);
            chip.memory_map().regions().any(|region| {
                region.as_flash().is_some()
                    && u64::from(address) < region.end()
                    && u64::from(region.start) < end
            })
        });
        if touches_flash {
            self.finish(memory, chip)?;
        }
        Ok(())
    }

    /// Erase the sectors of the pending request that no data came for.
    fn settle<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
    ) -> Result<(), Error> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        // One mass erase if the request got no data at all and it saves sector erases.
        if pending.none_done() && pending.covers_mass_erase && pending.to_erase() > 1 {
            chip.mass_erase(memory, pending.runs[0].start)?;
            self.report.mass_erases += 1;
            return Ok(());
        }
        for (index, start, size, run) in pending.sectors() {
            if !pending.is_done(index) && !pending.is_erased(index, run) {
                chip.erase(memory, start, size)?;
                self.report.erased += 1;
            }
        }
        Ok(())
    }
}

/// A range of flash: start and length.
type Span = (u32, u32);

/// The parts of sectors larger than the buffer that `[address, address + length)` leaves
/// out at its start and end, each with its sector.
fn left_out_of_large_sectors(
    map: &MemoryMap,
    address: u32,
    length: u32,
) -> [Option<(Span, Span)>; 2] {
    let end = u64::from(address) + u64::from(length);
    let last = (end - 1).min(u64::from(u32::MAX)) as u32;
    let large_sector = |at| {
        let (start, size) = Block::of(map, at).ok()?.sector();
        (size as usize > BUFFER_BYTES).then_some((start, size))
    };
    let before = large_sector(address)
        .filter(|&(start, _)| address != start)
        .map(|(start, size)| ((start, address - start), (start, size)));
    let after = large_sector(last).and_then(|(start, size)| {
        let sector_end = u64::from(start) + u64::from(size);
        (end < sector_end).then(|| ((end as u32, (sector_end - end) as u32), (start, size)))
    });
    [before, after]
}

/// The CRC of a sector of `size` bytes holding `data` at `offset` and `erased` elsewhere.
fn sector_crc(size: u32, offset: u32, data: &[u8], erased: u8) -> u32 {
    let fill = [erased; 256];
    let after = (size as usize).saturating_sub(offset as usize + data.len());
    let mut digest = GDB_CRC.digest();
    for (count, piece) in [(offset as usize, None), (0, Some(data)), (after, None)] {
        match piece {
            Some(bytes) => digest.update(bytes),
            None => {
                let mut left = count;
                while left > 0 {
                    let length = left.min(fill.len());
                    digest.update(&fill[..length]);
                    left -= length;
                }
            }
        }
    }
    digest.finalize()
}

/// The pending request for this range: its sectors in at most [`MAX_RUNS`] runs of equal
/// size, in flash regions of a chip with a flash driver, and not too many of them.
fn defer<M: Memory>(chip: &impl FlashDriver<M>, address: u32, length: u32) -> Option<Pending> {
    let map = chip.memory_map();
    let end = u64::from(address) + u64::from(length);
    let mut pending = Pending {
        runs: [Run::default(); MAX_RUNS],
        run_count: 0,
        count: 0,
        crcs: [0; MAX_PENDING_SECTORS],
        done: [0; MAX_PENDING_SECTORS / 32],
        covers_mass_erase: false,
        erased_crcs: [0; MAX_RUNS],
    };
    let mut at = address;
    let first = Block::of(&map, address).ok()?.sector().0;
    let mut last_end = u64::from(first);
    while u64::from(at) < end {
        let block = Block::of(&map, at).ok()?;
        let (sector, size) = block.sector();
        let erased = block.region.as_flash()?.erased;
        // Sectors of this region the range touches.
        let stop = block.region.end().min(end);
        let count = (stop - u64::from(sector)).div_ceil(u64::from(size)) as usize;
        if pending.run_count == MAX_RUNS
            || pending.count + count > MAX_PENDING_SECTORS
            || u64::from(sector) != last_end
        {
            return None;
        }
        pending.runs[pending.run_count] = Run {
            start: sector,
            size,
            count,
        };
        pending.erased_crcs[pending.run_count] = erased_crc(erased, size);
        pending.run_count += 1;
        pending.count += count;
        last_end = u64::from(sector) + count as u64 * u64::from(size);
        if last_end >= 1 << 32 {
            break;
        }
        at = last_end as u32;
    }
    pending.covers_mass_erase = chip.mass_erase_range(first).is_some_and(|(start, size)| {
        first == start && last_end == u64::from(start) + u64::from(size)
    });
    Some(pending)
}

/// GDB's CRC of `size` bytes of `erased`.
fn erased_crc(erased: u8, size: u32) -> u32 {
    let piece = [erased; 256];
    let mut digest = GDB_CRC.digest();
    let mut left = size as usize;
    while left > 0 {
        let length = left.min(piece.len());
        digest.update(&piece[..length]);
        left -= length;
    }
    digest.finalize()
}
