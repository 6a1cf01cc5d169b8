//! Flash buffering: writes at any address and length are gathered one block at a time,
//! and each block is programmed once, in whole write units of its region, when the writes
//! move on or finish. A block is the region's erase unit (page or sector) when it fits in
//! the buffer ([`BUFFER_BYTES`]), else a buffer-sized piece of it.
//!
//! An erase request (GDB's vFlashErase) is not carried out at once. The CRC of every
//! block of the sectors it covers is taken first, on the target (crate::crc: one run of
//! the routine, the results in target RAM), and the erase waits for the data:
//! - a block whose new content (the writes, erased value elsewhere) has the CRC of what
//!   is there already is neither erased nor programmed;
//! - a block that reads back erased is programmed without erasing its sector;
//! - if the request covers the family's whole mass erase range and the first block to
//!   change is the first the request gets, one mass erase replaces the sector erases
//!   (DS5319: 20 ms for either on the STM32F1);
//! - sectors of the request that got no data, or whose blocks without data hold some,
//!   are erased at the end, unless already erased.
//!
//! GDB asks for all of a load's erases before its first write (one request per run of
//! sectors the image touches, gdb's target-memory.c): a request for other sectors that
//! comes before any data joins the pending one, so an image with a gap is compared
//! piece by piece too; one over some of the same sectors makes one request of both. Any
//! other request finishes the pending one first.
//!
//! A sector larger than the buffer (STM32F4: 64 and 128 KiB, STM32H7: 128 KiB) is taken
//! block by block the same way. When one of its blocks differs after others were left
//! alone (or programmed into erased flash), the sector must be erased and those blocks
//! kept: they are copied from the flash into a save area in target RAM ([`save_area`]),
//! the sector erased, and they are programmed back from there before the new block. With
//! no such RAM free, a block of a large sector is left alone only if the blocks still to
//! come read back erased (nothing of it can need an erase later).
//! The part of such a sector that a request leaves out is not kept this way: if it holds
//! data (it does not read back erased), the request is refused ([`Error::PartialSector`])
//! before anything is erased. GDB always asks for whole sectors (its memory map's blocks;
//! gdb-multiarch 15 sends `vFlashErase:08010000,00010000` for a 4 KiB section at
//! 0x0801_1000), so a `load` erases the rest of the sectors it touches, as it does with
//! any GDB server.
//!
//! Units holding only the erased value are never programmed (the chip drivers skip them).

use crate::crc::{self, GDB_CRC, Method};
use crate::error::Error;
use adi::Memory;
use chips::{MemoryMap, Region, RegionKind};

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
    /// End of the work: end the chip's flash session, lock the controller, finish the
    /// algorithm.
    fn done(&mut self, memory: &mut M) -> Result<(), Error>;
    /// End the chip's flash session (chips::Session), if open: its flash readable and its
    /// core as before. Erase and program calls open it again.
    fn end_session(&mut self, memory: &mut M) -> Result<(), Error>;
    /// The chip's flash session is open.
    fn in_session(&self) -> bool;
    /// The CRC of `crcs.len()` blocks (crate::crc::block_crcs).
    fn block_crcs(
        &mut self,
        memory: &mut M,
        options: crc::Options,
        address: u32,
        block: u32,
        crcs: &mut [u32],
    ) -> Result<Method, Error>;
    /// Target RAM the driver itself uses while it erases and programs (a flash
    /// algorithm's), kept out of the save area.
    fn busy_ram(&self) -> Option<(u32, u32)>;
}

/// The flash buffer: the largest block programmed at once. STM32F1 pages (1 and 2 KiB)
/// and STM32F4's 16 KiB sectors fit whole.
pub const BUFFER_BYTES: usize = 16 * 1024;
/// Largest erase request that is deferred, in blocks; larger ones are carried out at once.
const MAX_PENDING_BLOCKS: usize = crc::MAX_BLOCKS;
/// Blocks of one sector that are tracked (a sector of up to 512 KiB).
const MAX_SECTOR_BLOCKS: u32 = 32;
/// Runs of equal sectors in deferred requests (STM32F4: 16, 64, 128 KiB), for a load in
/// up to a few pieces (`FlashBuffer::joins`).
const MAX_RUNS: usize = 8;
/// Piece of a kept block copied through the probe at a time.
const COPY_PIECE: usize = 1024;
/// Spans of flash erased outside a pending request that are remembered (see
/// `FlashBuffer::erased`); writes outside them are checked.
const MAX_ERASED_SPANS: usize = 4;
/// RAM regions the debugger wrote since the core last ran that are remembered; more
/// writes elsewhere keep every RAM region out of the save area.
const MAX_WRITTEN_RAMS: usize = 4;

/// What the flash work since the last `reset_report` did, for `monitor flash_report`.
/// Large sectors count in blocks of [`BUFFER_BYTES`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Pages left alone: they already held the data.
    pub unchanged: u32,
    /// Pages erased one by one.
    pub erased: u32,
    /// Mass erases.
    pub mass_erases: u32,
    /// Pages programmed (blocks kept through their sector's erase count again).
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

/// Equal sectors back to back: `count` of `size` bytes from `start`, each taken in
/// blocks of `block` bytes (the sector, if it fits the buffer); its first block is block
/// number `first` of the request.
#[derive(Clone, Copy, Debug, Default)]
struct Run {
    start: u32,
    size: u32,
    count: usize,
    block: u32,
    first: usize,
}

impl Run {
    fn blocks_per_sector(&self) -> usize {
        (self.size / self.block) as usize
    }
}

/// A set of blocks of the request, one bit each.
#[derive(Clone, Copy, Default)]
struct Blocks([u32; MAX_PENDING_BLOCKS / 32]);

impl Blocks {
    fn has(&self, index: usize) -> bool {
        self.0[index / 32] & (1 << (index % 32)) != 0
    }

    fn add(&mut self, index: usize) {
        self.0[index / 32] |= 1 << (index % 32);
    }

    fn remove(&mut self, index: usize) {
        self.0[index / 32] &= !(1 << (index % 32));
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|&word| word == 0)
    }
}

/// One sector of the request: its run, start, size and blocks.
#[derive(Clone, Copy)]
struct Sector {
    run: usize,
    start: u32,
    size: u32,
    block: u32,
    /// Its first block's index, and how many.
    first: usize,
    per: usize,
}

impl Sector {
    fn blocks(&self) -> core::ops::Range<usize> {
        self.first..self.first + self.per
    }
}

/// An erase request waiting for the data: its sectors and their blocks' CRCs as they were.
struct Pending {
    runs: [Run; MAX_RUNS],
    run_count: usize,
    /// Blocks of the request.
    count: usize,
    crcs: [u32; MAX_PENDING_BLOCKS],
    /// Blocks dealt with (left alone, or programmed).
    done: Blocks,
    /// Blocks left alone because they held the data.
    skipped: Blocks,
    /// Sectors erased (by their first block): what comes for them is only programmed.
    rewritten: Blocks,
    /// The request covers the family's mass erase range.
    covers_mass_erase: bool,
    /// The CRC of an erased block, per run.
    erased_crcs: [u32; MAX_RUNS],
    /// Where blocks kept through their sector's erase go (see `save_area`).
    save: Option<u32>,
}

impl Pending {
    /// The block holding `address` (its index) and its sector.
    fn locate(&self, address: u32) -> Option<(usize, Sector)> {
        for (number, run) in self.runs[..self.run_count].iter().enumerate() {
            let offset = address.wrapping_sub(run.start);
            let sector = (offset / run.size) as usize;
            if address >= run.start && sector < run.count {
                let per = run.blocks_per_sector();
                let first = run.first + sector * per;
                let index = run.first + (offset / run.block) as usize;
                return Some((index, self.sector(number, first, per)));
            }
        }
        None
    }

    fn sector(&self, run: usize, first: usize, per: usize) -> Sector {
        let Run {
            start, size, block, ..
        } = self.runs[run];
        let number = ((first - self.runs[run].first) / per) as u32;
        Sector {
            run,
            start: start + number * size,
            size,
            block,
            first,
            per,
        }
    }

    /// Every sector of the request.
    fn sectors(&self) -> impl Iterator<Item = Sector> + '_ {
        self.runs[..self.run_count]
            .iter()
            .enumerate()
            .flat_map(move |(number, run)| {
                let per = run.blocks_per_sector();
                (0..run.count).map(move |n| self.sector(number, run.first + n * per, per))
            })
    }

    /// Each run's flash: [start, end).
    fn spans(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.runs[..self.run_count].iter().map(|run| {
            let start = u64::from(run.start);
            (start, start + run.count as u64 * u64::from(run.size))
        })
    }

    /// This request and `next` (other sectors, no data yet for either) as one. Its
    /// sectors are not back to back with these: no mass erase for the two.
    fn join(mut self, next: Pending) -> Pending {
        for (number, run) in next.runs[..next.run_count].iter().enumerate() {
            self.runs[self.run_count] = Run {
                first: run.first + self.count,
                ..*run
            };
            self.erased_crcs[self.run_count] = next.erased_crcs[number];
            self.run_count += 1;
        }
        self.crcs[self.count..self.count + next.count].copy_from_slice(&next.crcs[..next.count]);
        self.count += next.count;
        self.covers_mass_erase = false;
        self
    }

    fn is_erased(&self, index: usize, run: usize) -> bool {
        self.crcs[index] == self.erased_crcs[run]
    }

    /// Sectors of the request that hold something.
    fn to_erase(&self) -> usize {
        self.sectors()
            .filter(|sector| {
                sector
                    .blocks()
                    .any(|index| !self.is_erased(index, sector.run))
            })
            .count()
    }

    fn mark_all_erased(&mut self) {
        for (run, erased_crc) in self.runs[..self.run_count].iter().zip(self.erased_crcs) {
            let blocks = run.count * run.blocks_per_sector();
            self.crcs[run.first..run.first + blocks].fill(erased_crc);
        }
    }

    /// Blocks of `sector` dealt with and still in the flash: (all of them, those left
    /// alone), as bit masks over the sector's blocks.
    fn kept(&self, sector: &Sector) -> (u32, u32) {
        let mut kept = (0, 0);
        for (bit, index) in sector.blocks().enumerate() {
            if self.done.has(index) {
                kept.0 |= 1 << bit;
            }
            if self.skipped.has(index) {
                kept.1 |= 1 << bit;
            }
        }
        kept
    }

    /// What to do with the block at `address` whose new content is `data` (`erased` where
    /// nothing was written); marks it done.
    fn plan(&mut self, address: u32, data: &[u8]) -> Plan {
        let Some((index, sector)) = self.locate(address) else {
            return Plan::Program;
        };
        if self.done.has(index) || self.rewritten.has(sector.first) {
            self.done.add(index);
            return Plan::Program;
        }
        let first_change = self.done.is_empty();
        let run = sector.run;
        // Without a save area a block is kept only if nothing of its sector can need an
        // erase later: the blocks still to come read back erased.
        let keepable = self.save.is_some()
            || sector
                .blocks()
                .filter(|&other| other != index && !self.done.has(other))
                .all(|other| self.is_erased(other, run));
        let (kept, skipped) = self.kept(&sector);
        self.done.add(index);
        if keepable && self.crcs[index] == GDB_CRC.checksum(data) {
            self.skipped.add(index);
            return Plan::Unchanged;
        }
        if keepable && self.is_erased(index, run) {
            return Plan::AlreadyErased { alone: kept == 0 };
        }
        self.rewritten.add(sector.first);
        if kept != 0 {
            return Plan::Rewrite {
                sector,
                kept,
                skipped,
            };
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
    /// Its sector was erased in this request, or it was dealt with: program the bytes
    /// written.
    Program,
    /// It holds the data already.
    Unchanged,
    /// It reads back erased: program it. `alone`: nothing else of its sector was dealt
    /// with, so if it turns out not to be erased, erasing the sector loses nothing.
    AlreadyErased { alone: bool },
    /// Erase its sector, then program it.
    Erase,
    /// Erase its sector keeping the blocks in `kept` (bits over the sector's blocks;
    /// `skipped` of them were left alone), then program it.
    Rewrite {
        sector: Sector,
        kept: u32,
        skipped: u32,
    },
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

    /// An erased byte's value.
    fn erased(&self) -> u8 {
        self.region.as_flash().map_or(0xFF, |flash| flash.erased)
    }

    /// `[first, end)` (offsets in the block) widened to whole write units.
    fn whole_units(&self, first: usize, end: usize) -> (usize, usize) {
        let unit = self.write_unit();
        let end = (end.div_ceil(unit) * unit).min(self.length as usize);
        (first - first % unit, end)
    }
}

pub struct FlashBuffer {
    block: Option<Block>,
    data: [u8; BUFFER_BYTES],
    /// Bytes of the block written since it was started: [first, end).
    dirty: Option<(usize, usize)>,
    /// The block was dealt with earlier in the pending request (writes out of address
    /// order): `data` started as the flash's content, see `program_again`.
    again: bool,
    pending: Option<Pending>,
    /// RAM regions (by start) the debugger wrote since the core last ran: they hold what
    /// a load put there, so no save area goes into them.
    written_rams: [Option<u32>; MAX_WRITTEN_RAMS],
    /// More RAM regions were written than are remembered: no save area at all.
    written_elsewhere: bool,
    /// Flash erased by this work outside a pending request (an erase too large to defer,
    /// a request finished before its data came), [start, end): writes there need no
    /// check. Forgotten when the work finishes.
    erased: [Option<(u64, u64)>; MAX_ERASED_SPANS],
    pub report: Report,
    pub crc_options: crc::Options,
}

impl FlashBuffer {
    pub const fn new() -> Self {
        Self {
            block: None,
            data: [0xFF; BUFFER_BYTES],
            dirty: None,
            again: false,
            pending: None,
            written_rams: [None; MAX_WRITTEN_RAMS],
            written_elsewhere: false,
            erased: [None; MAX_ERASED_SPANS],
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

    /// The debugger wrote `[address, address + length)`: the RAM regions it touches are
    /// kept out of the save area until the core runs again.
    pub fn note_write(&mut self, map: &MemoryMap, address: u32, length: u32) {
        let end = u64::from(address) + u64::from(length);
        for ram in map
            .regions()
            .filter(|region| region.kind == RegionKind::Ram)
        {
            if u64::from(address) >= ram.end() || end <= u64::from(ram.start) {
                continue;
            }
            if self.written_rams.contains(&Some(ram.start)) {
                continue;
            }
            match self.written_rams.iter_mut().find(|slot| slot.is_none()) {
                Some(slot) => *slot = Some(ram.start),
                None => self.written_elsewhere = true,
            }
        }
    }

    /// Ask for the sectors `[address, address + length)` touches to be erased. Pending
    /// work is finished first, unless the request joins the pending one (see `joins`).
    /// The erase itself waits for the data (see the module's comment), unless the range is
    /// too long or too varied to track.
    pub fn erase<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        in_flash(&chip.memory_map(), address, length)?;
        let (joined, join) = match self.joins(chip, address, length) {
            Some((next, join)) => (Some(next), join),
            None => {
                self.complete(memory, chip)?;
                (None, Join::Add)
            }
        };
        if length == 0 {
            return Ok(());
        }
        // Before the CRCs: a protected flash answers their reads with bus errors.
        chip.check_protection(memory, address)?;
        self.keep_large_sectors(memory, chip, address, length)?;
        let Some(mut pending) = joined.or_else(|| defer(chip, address, length)) else {
            chip.erase(memory, address, length)?;
            self.note_erased(u64::from(address), u64::from(address) + u64::from(length));
            return Ok(());
        };
        // One routine run for each stretch of equal blocks back to back (STM32F4: 16 KiB
        // blocks through its 16, 64 and 128 KiB sectors).
        let mut method = Method::Target;
        let runs = &pending.runs[..pending.run_count];
        let mut run = 0;
        while run < runs.len() {
            let (start, block, first) = (runs[run].start, runs[run].block, runs[run].first);
            let mut end = first;
            let mut at = u64::from(start);
            while run < runs.len() && runs[run].block == block && u64::from(runs[run].start) == at {
                end += runs[run].count * runs[run].blocks_per_sector();
                at += runs[run].count as u64 * u64::from(runs[run].size);
                run += 1;
            }
            let crcs = &mut pending.crcs[first..end];
            let taken = chip.block_crcs(memory, self.crc_options, start, block, crcs)?;
            if taken != Method::Target {
                method = taken;
            }
        }
        if let Some(earlier) = self.pending.take()
            && join == Join::Add
        {
            pending = earlier.join(pending);
            if let Some(Method::ReadBack(why)) = self.report.method {
                method = Method::ReadBack(why);
            }
        }
        // Room for all blocks of a large sector but the one that needs the erase.
        let needed = pending.runs[..pending.run_count]
            .iter()
            .map(|run| run.size - run.block)
            .max()
            .unwrap_or(0);
        if needed > 0 && !self.written_elsewhere {
            let map = chip.memory_map();
            let written = self.written_rams;
            pending.save = save_area(&map, chip.busy_ram(), &written, needed);
        }
        self.report.method = Some(method);
        self.pending = Some(pending);
        Ok(())
    }

    /// The request `[address, address + length)` as one to join the pending request, if
    /// it can: GDB asks for every erase of a load before its first write (gdb's
    /// target-memory.c, one request per run of touched sectors), so a load with a gap
    /// (code at the start, a table near the end) sends two. Only while no data came for
    /// the pending request (nothing of it was erased yet) and within its limits; a request
    /// over some of the same sectors gives one request over both in its place.
    fn joins<M: Memory>(
        &self,
        chip: &impl FlashDriver<M>,
        address: u32,
        length: u32,
    ) -> Option<(Pending, Join)> {
        let pending = self.pending.as_ref()?;
        if length == 0 || self.block.is_some() || !pending.done.is_empty() {
            return None;
        }
        let next = defer(chip, address, length)?;
        let apart = next.spans().all(|(start, end)| {
            pending
                .spans()
                .all(|(other, other_end)| end <= other || other_end <= start)
        });
        if !apart {
            return Some((union(chip, pending, &next)?, Join::Replace));
        }
        let room = pending.run_count + next.run_count <= MAX_RUNS
            && pending.count + next.count <= MAX_PENDING_BLOCKS;
        room.then_some((next, Join::Add))
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
            if crc[0] != crc::filled_crc(erased, length) {
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
        in_flash(&chip.memory_map(), address, data.len() as u32)?;
        let mut offset = 0;
        while offset < data.len() {
            let at = address.wrapping_add(offset as u32);
            let block = Block::of(&chip.memory_map(), at)?;
            if self.block.map(|buffered| buffered.start) != Some(block.start) {
                self.flush(memory, chip)?;
                self.start_block(memory, chip, block)?;
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

    /// Buffer `block`: the erased value, or the flash's content if the block was dealt
    /// with earlier in the pending request (`again`).
    fn start_block<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        block: Block,
    ) -> Result<(), Error> {
        let data = &mut self.data[..block.length as usize];
        let again = self.pending.as_ref().is_some_and(|pending| {
            pending
                .locate(block.start)
                .is_some_and(|(index, _)| pending.done.has(index))
        });
        if again {
            // The flash is read: no session may hold it.
            chip.end_session(memory)?;
            memory.read_bytes(block.start, data)?;
        } else {
            data.fill(block.erased());
        }
        self.block = Some(block);
        self.again = again;
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
        let again = core::mem::take(&mut self.again);
        let (Some(block), Some((first, end))) = (self.block.take(), self.dirty.take()) else {
            self.block = None;
            return Ok(());
        };
        if again {
            return self.program_again(memory, chip, &block, first, end);
        }
        let size = block.length as usize;
        let outside = self
            .pending
            .as_ref()
            .is_none_or(|pending| pending.locate(block.start).is_none());
        if outside {
            if !self.was_erased(block.start + first as u32, block.start + end as u32) {
                self.check_erased(memory, chip, &block, first, end)?;
            }
            // Programmed now: data written there again is checked.
            self.forget_erased(
                u64::from(block.start),
                block
                    .region
                    .end()
                    .min(u64::from(block.start) + u64::from(block.length)),
            );
        }
        let (plan, save) = match self.pending.as_mut() {
            Some(pending) => (pending.plan(block.start, &self.data[..size]), pending.save),
            None => (Plan::Program, None),
        };
        let (sector, sector_size) = block.sector();
        match plan {
            Plan::Program => self.program(memory, chip, &block, first, end, false),
            Plan::Unchanged => {
                self.report.unchanged += 1;
                Ok(())
            }
            Plan::AlreadyErased { alone } => self.program(memory, chip, &block, 0, size, alone),
            Plan::Erase => {
                chip.erase(memory, sector, sector_size)?;
                self.report.erased += 1;
                self.program(memory, chip, &block, 0, size, false)
            }
            Plan::Rewrite {
                sector,
                kept,
                skipped,
            } => {
                self.keep_through_erase(memory, chip, &sector, kept, skipped, save)?;
                self.program(memory, chip, &block, 0, size, false)
            }
            Plan::MassErase => {
                chip.mass_erase(memory, block.start)?;
                self.report.mass_erases += 1;
                self.program(memory, chip, &block, 0, size, false)
            }
        }
    }

    fn note_erased(&mut self, start: u64, end: u64) {
        let slot = self.erased.iter().position(Option::is_none).unwrap_or(0);
        self.erased[slot] = Some((start, end));
    }

    /// `[start, end)` is no longer erased: each span it cuts keeps its part after it (a
    /// load goes on upwards) and, if a slot is free, its part before it.
    fn forget_erased(&mut self, start: u64, end: u64) {
        for index in 0..MAX_ERASED_SPANS {
            let Some((from, to)) = self.erased[index] else {
                continue;
            };
            if end <= from || to <= start {
                continue;
            }
            let (before, after) = ((from, start.max(from)), (end.min(to), to));
            self.erased[index] = (after.0 < after.1).then_some(after);
            if before.0 < before.1
                && let Some(slot) = self.erased.iter().position(Option::is_none)
            {
                self.erased[slot] = Some(before);
            }
        }
    }

    /// `[start, end)` was erased by this work outside a pending request.
    fn was_erased(&self, start: u32, end: u32) -> bool {
        let (start, end) = (u64::from(start), u64::from(end));
        self.erased
            .iter()
            .flatten()
            .any(|&(from, to)| from <= start && end <= to)
    }

    /// A write outside any erase of this work: Err if a unit it programs holds data (the
    /// STM32F1 refuses to program it, others would program the AND of old and new).
    fn check_erased<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        block: &Block,
        first: usize,
        end: usize,
    ) -> Result<(), Error> {
        let unit = block.write_unit();
        let erased = block.erased();
        let holds_data = |unit: &[u8]| unit.iter().any(|&byte| byte != erased);
        let (first, end) = block.whole_units(first, end);
        let mut piece = [0u8; COPY_PIECE];
        // Before the reads: a protected flash answers them with bus errors.
        chip.check_protection(memory, block.start)?;
        chip.end_session(memory)?;
        for start in (first..end).step_by(COPY_PIECE) {
            let stop = (start + COPY_PIECE).min(end);
            let flash = &mut piece[..stop - start];
            memory.read_bytes(block.start + start as u32, flash)?;
            let mut units = flash.chunks(unit).zip(self.data[start..stop].chunks(unit));
            if let Some(n) = units.position(|(old, new)| holds_data(new) && holds_data(old)) {
                let address = block.start + (start + n * unit) as u32;
                return Err(Error::Chip(chips::Error::NotErased { address }));
            }
        }
        Ok(())
    }

    /// Program `data[first..end]` of a block dealt with earlier in the pending request;
    /// `data` holds the flash's content with the new writes over it. Units that change
    /// from the erased value are programmed; if any other unit changes (a unit cannot be
    /// programmed twice: an image's pieces met in it, or a block the CRC found unchanged
    /// is written again), its sector is erased, keeping what else of it was dealt with,
    /// and the whole block programmed.
    fn program_again<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        block: &Block,
        first: usize,
        end: usize,
    ) -> Result<(), Error> {
        let unit = block.write_unit();
        let erased = block.erased();
        let (first, end) = block.whole_units(first, end);
        let mut piece = [0u8; COPY_PIECE];
        let mut rewrite = false;
        let mut changes = false;
        chip.end_session(memory)?;
        for start in (first..end).step_by(COPY_PIECE) {
            let stop = (start + COPY_PIECE).min(end);
            let flash = &mut piece[..stop - start];
            memory.read_bytes(block.start + start as u32, flash)?;
            for (old, new) in flash.chunks(unit).zip(self.data[start..stop].chunks(unit)) {
                changes |= old != new;
                rewrite |= old != new && old.iter().any(|&byte| byte != erased);
            }
        }
        if !changes {
            return Ok(());
        }
        if rewrite {
            return self.rewrite_block(memory, chip, block);
        }
        for start in (first..end).step_by(COPY_PIECE) {
            let stop = (start + COPY_PIECE).min(end);
            let flash = &mut piece[..stop - start];
            chip.end_session(memory)?;
            memory.read_bytes(block.start + start as u32, flash)?;
            // Runs of units that change, each programmed at once.
            let mut run = None;
            for offset in (start..stop).step_by(unit).chain([stop]) {
                let relative = offset - start;
                let changed = offset < stop
                    && flash[relative..relative + unit] != self.data[offset..offset + unit];
                match (changed, run) {
                    (true, None) => run = Some(offset),
                    (false, Some(from)) => {
                        let at = block.start + from as u32;
                        chip.program(memory, at, &self.data[from..offset])?;
                        run = None;
                    }
                    _ => {}
                }
            }
        }
        self.report.programmed += 1;
        Ok(())
    }

    /// Erase the sector of `block` (a block of the pending request) keeping the other
    /// blocks of it dealt with, then program the whole block.
    fn rewrite_block<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        block: &Block,
    ) -> Result<(), Error> {
        // Not reached without: `start_block` found the block in the pending request.
        let not_pending = Error::PartialSector {
            start: block.start,
            size: block.length,
        };
        let pending = self.pending.as_mut().ok_or(not_pending)?;
        let (index, sector) = pending.locate(block.start).ok_or(not_pending)?;
        let bit = 1 << (index - sector.first);
        let (kept, skipped) = pending.kept(&sector);
        if pending.skipped.has(index) {
            pending.skipped.remove(index);
            self.report.unchanged -= 1;
        }
        pending.rewritten.add(sector.first);
        let save = pending.save;
        if kept & !bit == 0 {
            let (start, size) = block.sector();
            chip.erase(memory, start, size)?;
            self.report.erased += 1;
        } else {
            self.keep_through_erase(memory, chip, &sector, kept & !bit, skipped & !bit, save)?;
        }
        self.program(memory, chip, block, 0, block.length as usize, false)
    }

    /// Erase `sector` keeping its blocks in `kept` (bits over its blocks; `skipped` of
    /// them were counted unchanged): copied to the save area first, programmed back after.
    fn keep_through_erase<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        sector: &Sector,
        kept: u32,
        skipped: u32,
        save: Option<u32>,
    ) -> Result<(), Error> {
        let Some(save) = save else {
            // Not reached: without a save area `plan` keeps nothing that may need this.
            return Err(Error::PartialSector {
                start: sector.start,
                size: sector.size,
            });
        };
        let blocks = || {
            (0..sector.size / sector.block)
                .filter(move |bit| kept & (1 << bit) != 0)
                .enumerate()
                .map(move |(n, bit)| (bit, sector.start + bit * sector.block, n as u32))
        };
        // The blocks are read from the flash: no session may hold it.
        chip.end_session(memory)?;
        let mut piece = [0u8; COPY_PIECE];
        for (_, at, n) in blocks() {
            for offset in (0..sector.block).step_by(COPY_PIECE) {
                memory.read_bytes(at + offset, &mut piece)?;
                memory.write_bytes(save + n * sector.block + offset, &piece)?;
            }
        }
        chip.erase(memory, sector.start, sector.size)?;
        self.report.erased += 1;
        for (bit, at, n) in blocks() {
            for offset in (0..sector.block).step_by(COPY_PIECE) {
                memory.read_bytes(save + n * sector.block + offset, &mut piece)?;
                chip.program(memory, at + offset, &piece)?;
            }
            self.report.programmed += 1;
            if skipped & (1 << bit) != 0 {
                self.report.unchanged -= 1;
                // Counted once: programmed now, no longer left alone.
                if let Some(pending) = self.pending.as_mut() {
                    pending.skipped.remove(sector.first + bit as usize);
                }
            }
        }
        Ok(())
    }

    /// Program `data[first..end]` of `block`; whole write units, the edges padded with
    /// the erased value. `retry_erase`: the sector was only believed erased from its CRC,
    /// so on a not-erased error erase it and program again (only when nothing else of
    /// the sector was programmed or left alone).
    fn program<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
        block: &Block,
        first: usize,
        end: usize,
        retry_erase: bool,
    ) -> Result<(), Error> {
        let (first, end) = block.whole_units(first, end);
        let data = &self.data[first..end];
        let at = block.start + first as u32;
        match chip.program(memory, at, data) {
            Err(Error::Chip(chips::Error::NotErased { .. })) if retry_erase => {
                let (sector, sector_size) = block.sector();
                chip.erase(memory, sector, sector_size)?;
                self.report.erased += 1;
                if let Some(pending) = self.pending.as_mut()
                    && let Some((_, sector)) = pending.locate(block.start)
                {
                    pending.rewritten.add(sector.first);
                }
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
        let completed = self.complete(memory, chip);
        self.erased = [None; MAX_ERASED_SPANS];
        completed
    }

    /// As `finish`, keeping what was erased in mind (an erase request goes on with the
    /// work).
    fn complete<M: Memory>(
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
        if range.is_none() {
            // The core runs: what the debugger wrote to RAM is the program's now.
            self.written_rams = [None; MAX_WRITTEN_RAMS];
            self.written_elsewhere = false;
        }
        if self.block.is_none() && self.pending.is_none() && !chip.in_session() {
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

    /// Erase the sectors of the pending request that need it: those no data came for
    /// and that hold something, and those whose blocks without data hold something
    /// (keeping the blocks that did get theirs).
    fn settle<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut impl FlashDriver<M>,
    ) -> Result<(), Error> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        // With no data, every sector of the request ends up erased.
        if pending.done.is_empty() {
            for (start, end) in pending.spans() {
                self.note_erased(start, end);
            }
        }
        // One mass erase if the request got no data at all and it saves sector erases.
        if pending.done.is_empty() && pending.covers_mass_erase && pending.to_erase() > 1 {
            chip.mass_erase(memory, pending.runs[0].start)?;
            self.report.mass_erases += 1;
            return Ok(());
        }
        for sector in pending.sectors() {
            if pending.rewritten.has(sector.first) {
                continue;
            }
            let holds_data = sector
                .blocks()
                .any(|index| !pending.done.has(index) && !pending.is_erased(index, sector.run));
            if !holds_data {
                continue;
            }
            let (kept, skipped) = pending.kept(&sector);
            if kept == 0 {
                chip.erase(memory, sector.start, sector.size)?;
                self.report.erased += 1;
            } else {
                self.keep_through_erase(memory, chip, &sector, kept, skipped, pending.save)?;
            }
        }
        Ok(())
    }
}

/// How a request joins the pending one (`FlashBuffer::joins`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Join {
    /// Other sectors: added to it.
    Add,
    /// Some of the same sectors: one request over both takes its place.
    Replace,
}

/// One request over the sectors of `pending` and `next` (some shared): a deferred
/// request per stretch of them, joined; None if that is more than one can track.
fn union<M: Memory>(
    chip: &impl FlashDriver<M>,
    pending: &Pending,
    next: &Pending,
) -> Option<Pending> {
    let mut spans = [(0u64, 0u64); 2 * MAX_RUNS];
    let mut count = 0;
    for span in pending.spans().chain(next.spans()) {
        spans[count] = span;
        count += 1;
    }
    let spans = &mut spans[..count];
    spans.sort_unstable();
    let mut whole: Option<Pending> = None;
    let mut index = 0;
    while index < spans.len() {
        let (start, mut end) = spans[index];
        index += 1;
        while index < spans.len() && spans[index].0 <= end {
            end = end.max(spans[index].1);
            index += 1;
        }
        let part = defer(chip, start as u32, u32::try_from(end - start).ok()?)?;
        whole = Some(match whole {
            None => part,
            Some(whole)
                if whole.run_count + part.run_count <= MAX_RUNS
                    && whole.count + part.count <= MAX_PENDING_BLOCKS =>
            {
                whole.join(part)
            }
            Some(_) => return None,
        });
    }
    whole
}

/// Where a save area of `needed` bytes goes: the end of the largest RAM region that has
/// room, away from the driver's own RAM (`busy`) and from RAM regions the debugger wrote
/// since the core last ran (`written`, by start). The CRC routine's work area (the start
/// of the first RAM region) is not in use while blocks are saved.
fn save_area(
    map: &MemoryMap,
    busy: Option<(u32, u32)>,
    written: &[Option<u32>],
    needed: u32,
) -> Option<u32> {
    let overlaps = |area: u32, (start, length): (u32, u32)| {
        let (area, start) = (u64::from(area), u64::from(start));
        area < start + u64::from(length) && start < area + u64::from(needed)
    };
    map.regions()
        .filter(|region| region.kind == RegionKind::Ram && region.length >= needed)
        .filter(|region| !written.contains(&Some(region.start)))
        .filter_map(|region| {
            let area = (region.start + (region.length - needed)) & !3;
            let free = area >= region.start && !busy.is_some_and(|busy| overlaps(area, busy));
            free.then_some((region.length, area))
        })
        .max_by_key(|&(length, _)| length)
        .map(|(_, area)| area)
}

/// Ok if `[address, address + length)` is all flash of `map`, before anything of a
/// request is done: else the error of its first byte that is not (outside the flash, or
/// no flash driver).
fn in_flash(map: &MemoryMap, address: u32, length: u32) -> Result<(), Error> {
    let end = u64::from(address) + u64::from(length);
    let mut at = u64::from(address);
    while at < end {
        let outside =
            u32::try_from(at).map_err(|_| chips::Error::OutsideFlash { address: u32::MAX })?;
        at = Block::of(map, outside)?.region.end();
    }
    Ok(())
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

/// The pending request for this range: its sectors in at most [`MAX_RUNS`] runs of equal
/// size, in flash regions of a chip with a flash driver, and not too many blocks.
fn defer<M: Memory>(chip: &impl FlashDriver<M>, address: u32, length: u32) -> Option<Pending> {
    let map = chip.memory_map();
    let end = u64::from(address) + u64::from(length);
    let mut pending = Pending {
        runs: [Run::default(); MAX_RUNS],
        run_count: 0,
        count: 0,
        crcs: [0; MAX_PENDING_BLOCKS],
        done: Blocks::default(),
        skipped: Blocks::default(),
        rewritten: Blocks::default(),
        covers_mass_erase: false,
        erased_crcs: [0; MAX_RUNS],
        save: None,
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
        let per = size / block.length;
        let blocks = count * per as usize;
        if pending.run_count == MAX_RUNS
            || pending.count + blocks > MAX_PENDING_BLOCKS
            || per > MAX_SECTOR_BLOCKS
            || size % block.length != 0
            || u64::from(sector) != last_end
        {
            return None;
        }
        pending.runs[pending.run_count] = Run {
            start: sector,
            size,
            count,
            block: block.length,
            first: pending.count,
        };
        pending.erased_crcs[pending.run_count] = crc::filled_crc(erased, block.length);
        pending.run_count += 1;
        pending.count += blocks;
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
