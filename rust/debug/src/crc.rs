//! CRC-32 of target memory, computed on the target's own core: a small Thumb routine
//! (routines/crc32.S) is loaded into SRAM and run there, so a 64 KiB flash costs a few
//! milliseconds of the target's time instead of reading it all over the wire. Used to skip
//! flash pages that already hold the image, and for GDB's qCRC (compare-sections).
//!
//! The routine borrows the start of SRAM and the core registers r0-r7, PC and xPSR; both
//! are saved before and restored after, so a halted program continues as it was. When the
//! routine cannot run (no SRAM region known, too small, core running or locked up) or does
//! not finish in time, the CRC is computed by reading the memory back instead, and
//! `Method::ReadBack` says why.

use adi::Memory;
use chips::{MemoryMap, RegionKind};
use cortexm::registers::{Dfsr, Dhcsr};
use cortexm::{Core, PC, XPSR, XPSR_THUMB, read_dhcsr, repeat_idempotent, write_dhcsr};

/// GDB's CRC-32 (libiberty's xcrc32): polynomial 0x04C11DB7, MSB first, initial value all
/// ones, no final XOR; the catalogue's CRC-32/MPEG-2.
pub const GDB_CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_MPEG_2);

/// routines/crc32.S assembled (arm-none-eabi-as -mcpu=cortex-m0 -mthumb; objcopy -O
/// binary); a test assembles the source again and compares.
pub const ROUTINE: [u8; 312] = [
    0x30, 0xa7, 0x1f, 0xcf, 0x3c, 0xa6, 0xb4, 0x42, 0x1e, 0xd0, 0x2c, 0x4f, 0x00, 0x25, 0xae, 0x05,
    0x76, 0x00, 0x00, 0xd3, 0x7e, 0x40, 0x76, 0x00, 0x00, 0xd3, 0x7e, 0x40, 0x76, 0x00, 0x00, 0xd3,
    0x7e, 0x40, 0x76, 0x00, 0x00, 0xd3, 0x7e, 0x40, 0x76, 0x00, 0x00, 0xd3, 0x7e, 0x40, 0x76, 0x00,
    0x00, 0xd3, 0x7e, 0x40, 0x76, 0x00, 0x00, 0xd3, 0x7e, 0x40, 0x76, 0x00, 0x00, 0xd3, 0x7e, 0x40,
    0x66, 0x51, 0x04, 0x35, 0xae, 0x0a, 0xe2, 0xd0, 0x47, 0x18, 0x03, 0x26, 0x05, 0x46, 0x0d, 0x43,
    0x35, 0x42, 0x05, 0xd1, 0x06, 0x46, 0xbe, 0x42, 0x1b, 0xd0, 0x20, 0xce, 0x01, 0x35, 0xfa, 0xd0,
    0x00, 0x25, 0xed, 0x43, 0xb8, 0x42, 0x0d, 0xd0, 0x23, 0xa6, 0xb4, 0x42, 0x14, 0xd0, 0x06, 0x78,
    0x36, 0x06, 0x75, 0x40, 0x2e, 0x0e, 0xb6, 0x00, 0xa6, 0x59, 0x2d, 0x02, 0x75, 0x40, 0x01, 0x30,
    0xb8, 0x42, 0xf4, 0xd1, 0x1d, 0x60, 0x04, 0x33, 0x01, 0x3a, 0xdd, 0xd1, 0x12, 0xa7, 0xff, 0xcf,
    0x00, 0xbe, 0x0b, 0x4d, 0x38, 0x46, 0xf5, 0xe7, 0x06, 0x78, 0x36, 0x06, 0x75, 0x40, 0x2e, 0x0f,
    0xb6, 0x00, 0xa6, 0x59, 0x2d, 0x01, 0x75, 0x40, 0x2e, 0x0f, 0xb6, 0x00, 0xa6, 0x59, 0x2d, 0x01,
    0x75, 0x40, 0x01, 0x30, 0xb8, 0x42, 0xef, 0xd1, 0xe4, 0xe7, 0xc0, 0x46, 0xb7, 0x1d, 0xc1, 0x04,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb7, 0x1d, 0xc1, 0x04,
    0x6e, 0x3b, 0x82, 0x09, 0xd9, 0x26, 0x43, 0x0d, 0xdc, 0x76, 0x04, 0x13, 0x6b, 0x6b, 0xc5, 0x17,
    0xb2, 0x4d, 0x86, 0x1a, 0x05, 0x50, 0x47, 0x1e, 0xb8, 0xed, 0x08, 0x26, 0x0f, 0xf0, 0xc9, 0x22,
    0xd6, 0xd6, 0x8a, 0x2f, 0x61, 0xcb, 0x4b, 0x2b, 0x64, 0x9b, 0x0c, 0x35, 0xd3, 0x86, 0xcd, 0x31,
    0x0a, 0xa0, 0x8e, 0x3c, 0xbd, 0xbd, 0x4f, 0x38,
];
/// Where the routine halts (the `bkpt #0` at `done`).
const ROUTINE_DONE: u32 = 0x90;
/// The routine's `erased_crc` word: the CRC of a block of 0xFF bytes, set for each run.
const ERASED_CRC_OFFSET: usize = 0xC0;
/// The routine's `arguments` (r0-r4) and `saved` (r0-r7, put back before its BKPT).
const ARGUMENTS_OFFSET: usize = 0xC4;
const SAVED_OFFSET: usize = 0xD8;
/// The routine's own 16-entry table (`nibbles`, 64 bytes, the routine's end).
const NIBBLES_OFFSET: u32 = 0xF8;
/// A run over at most this many bytes uses the 16-entry table; a longer one the 1 KiB
/// table the routine builds. The small table costs 5 instructions more a byte, the large
/// one 1 KiB more of the target's SRAM saved and restored (about 5.7 ms of wire at 4 MHz
/// SWCLK): even at the 8 MHz a reset STM32 runs from, the large one pays off only past
/// about 8 KiB of bytes that are not erased (erased words are scanned, not tabled).
///
/// A longer run is sampled first (the first word of up to `TABLE_SAMPLES` of its blocks,
/// spread over it): its share of samples that are not erased times its length is what it
/// likely holds, and with at most this many such bytes it uses the 16-entry table too
/// (e.g. an STM32H743's 128 KiB sector that holds a small firmware or nothing).
const SMALL_TABLE_MAX_BYTES: u64 = 16 * 1024;
/// The samples cost a word read each (4 SWD transactions, about 46 µs at 4 MHz SWCLK),
/// the large table's save and restore about 5.7 ms.
const TABLE_SAMPLES: usize = 8;
/// The 1 KiB table's work area: the routine without its 16 entries, one word free (so the
/// table's address is not that of `nibbles`, which selects the small table), the table.
const TABLE_OFFSET: u32 = NIBBLES_OFFSET + 4;
const TABLE_BYTES: u32 = 1024;
/// At most this many blocks in one run (the results, and the saved SRAM, stay small).
pub const MAX_BLOCKS: usize = 256;
/// Work area bytes saved and restored per piece.
const SAVE_PIECE: usize = 256;
/// The largest work area: routine, table and MAX_BLOCKS results.
const MAX_AREA: usize = (TABLE_OFFSET + TABLE_BYTES) as usize + 4 * MAX_BLOCKS;
/// Registers the routine changes: r0-r7, PC, xPSR. It puts r0-r7 back itself when it
/// reaches its end; the probe writes them back only when it did not.
const SAVED_REGISTERS: [usize; 10] = [0, 1, 2, 3, 4, 5, 6, 7, PC, XPSR];
/// The registers the probe restores after a run that reached its end.
const FINISHED_RESTORES: usize = 2;
/// Time allowed for the routine on the probe's clock: this many microseconds plus
/// `MICROS_PER_KIB` per KiB: 128 cycles a byte at the 8 MHz a reset STM32 runs from (the
/// routine takes 11), room for a host simulator slower than the chip (a debug build of
/// the tests takes 0.4 s for 64 KiB on a busy machine). Only a routine that hangs ever
/// waits this long.
const BASE_TIMEOUT_MICROS: u64 = 1_000_000;
const MICROS_PER_KIB: u64 = 16_000;

/// How the CRC was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// By the routine on the target's core.
    Target,
    /// By reading the memory back over the wire, for this reason.
    ReadBack(Fallback),
}

/// Why the routine was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// No RAM region in the memory map, or smaller than the work area.
    NoFreeRam,
    /// The core is running; code is only run on a halted core.
    Running,
    /// The core is locked up (DHCSR.S_LOCKUP): running code there is unsafe.
    LockedUp,
    /// The routine did not reach its end in time; it was halted.
    Timeout,
    /// The routine halted somewhere else (a fault, a watchpoint).
    Stopped,
    /// Asked for (e.g. by `Session::set_crc_on_target(false)`).
    Disabled,
    /// The range is not all in the chip's memory map: a fault there would enter the
    /// program's handler, and the probe would wait out the routine's time.
    Unmapped,
}

impl core::fmt::Display for Method {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let why = match self {
            Method::Target => return write!(f, "on the target's core"),
            Method::ReadBack(Fallback::NoFreeRam) => "not enough free SRAM for the CRC routine",
            Method::ReadBack(Fallback::Running) => "the core is running",
            Method::ReadBack(Fallback::LockedUp) => "the core is locked up",
            Method::ReadBack(Fallback::Timeout) => "the CRC routine timed out and was halted",
            Method::ReadBack(Fallback::Stopped) => "the CRC routine stopped early",
            Method::ReadBack(Fallback::Disabled) => "the CRC routine is turned off",
            Method::ReadBack(Fallback::Unmapped) => "the range is not all in the memory map",
        };
        write!(f, "by reading back ({why})")
    }
}

/// Settings of the CRC runner.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub on_target: bool,
    /// Time allowed for the routine, in microseconds (None: the default, from the size).
    pub timeout_micros: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

impl Options {
    pub const fn new() -> Self {
        Self {
            on_target: true,
            timeout_micros: None,
        }
    }
}

/// GDB's CRC of `length` bytes of `byte` (an erased block's).
pub fn filled_crc(byte: u8, length: u32) -> u32 {
    let piece = [byte; 256];
    let mut digest = GDB_CRC.digest();
    let mut left = length as usize;
    while left > 0 {
        let part = left.min(piece.len());
        digest.update(&piece[..part]);
        left -= part;
    }
    digest.finalize()
}

/// The CRC of each of `crcs.len()` blocks of `block` bytes from `address`.
pub fn block_crcs<M: Memory>(
    memory: &mut M,
    core: &mut Core,
    map: &MemoryMap,
    options: Options,
    address: u32,
    block: u32,
    crcs: &mut [u32],
) -> Result<Method, crate::Error> {
    let method = if options.on_target {
        match on_target(memory, core, map, options, address, block, crcs)? {
            Ok(()) => return Ok(Method::Target),
            Err(fallback) => Method::ReadBack(fallback),
        }
    } else {
        Method::ReadBack(Fallback::Disabled)
    };
    read_back(memory, address, block, crcs)?;
    Ok(method)
}

fn read_back<M: Memory>(
    memory: &mut M,
    address: u32,
    block: u32,
    crcs: &mut [u32],
) -> Result<(), adi::Error> {
    let mut piece = [0u8; 1024];
    for (index, crc) in crcs.iter_mut().enumerate() {
        let mut digest = GDB_CRC.digest();
        let mut at = address.wrapping_add(block.wrapping_mul(index as u32));
        let mut left = block as usize;
        while left > 0 {
            let data = &mut piece[..left.min(1024)];
            memory.read_bytes(at, data)?;
            digest.update(data);
            at = at.wrapping_add(data.len() as u32);
            left -= data.len();
        }
        *crc = digest.finalize();
    }
    Ok(())
}

/// The work area's parts, by the table a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// The routine with its 16 entries, then the results.
    SmallTable,
    /// The routine without them, a free word, the 1 KiB table, then the results.
    LargeTable,
}

impl Layout {
    /// By the bytes a run likely holds that are not erased ([`likely_written`]).
    fn for_run(likely_written: u64) -> Self {
        if likely_written <= SMALL_TABLE_MAX_BYTES {
            Layout::SmallTable
        } else {
            Layout::LargeTable
        }
    }

    /// The routine's bytes written to the target.
    fn code(self) -> usize {
        match self {
            Layout::SmallTable => ROUTINE.len(),
            Layout::LargeTable => NIBBLES_OFFSET as usize,
        }
    }

    /// The table's offset (the routine's r4).
    fn table(self) -> u32 {
        match self {
            Layout::SmallTable => NIBBLES_OFFSET,
            Layout::LargeTable => TABLE_OFFSET,
        }
    }

    fn results(self) -> u32 {
        match self {
            Layout::SmallTable => ROUTINE.len() as u32,
            Layout::LargeTable => TABLE_OFFSET + TABLE_BYTES,
        }
    }

    /// The work area's bytes for `blocks` results.
    fn size(self, blocks: usize) -> u32 {
        self.results() + 4 * blocks as u32
    }
}

/// How many of the `blocks` blocks' bytes from `address` are likely not erased: all of a
/// run up to SMALL_TABLE_MAX_BYTES (nothing read); of a longer one the share of its
/// sampled first words that are not erased (0xFFFF_FFFF). A guess: either table gives the
/// same CRCs, a wrong guess costs only time.
fn likely_written<M: Memory>(
    memory: &mut M,
    address: u32,
    block: u32,
    blocks: usize,
) -> Result<u64, adi::Error> {
    let length = u64::from(block) * blocks as u64;
    if length <= SMALL_TABLE_MAX_BYTES {
        return Ok(length);
    }
    let samples = blocks.min(TABLE_SAMPLES);
    let mut written = 0;
    for sample in 0..samples {
        let index = (sample * blocks / samples) as u32;
        let at = address.wrapping_add(block.wrapping_mul(index)) & !3;
        if memory.read_word(at)? != u32::MAX {
            written += 1;
        }
    }
    Ok(length * written / samples as u64)
}

/// Where the work area of `needed` bytes goes: the start of the first RAM region, or its
/// end if the memory to CRC is at the start; None if it does not fit beside it.
fn work_area(map: &MemoryMap, needed: u32, address: u32, length: u64) -> Option<u32> {
    let ram = map
        .regions()
        .find(|region| region.kind == RegionKind::Ram)
        .filter(|region| region.length >= needed && region.start % 4 == 0)?;
    let at_end = (ram.start + ram.length - needed) & !3;
    let overlaps = |area: u32| {
        let (area, needed) = (u64::from(area), u64::from(needed));
        u64::from(address) < area + needed && area < u64::from(address) + length
    };
    [ram.start, at_end]
        .into_iter()
        .find(|&area| !overlaps(area))
}

/// Whether the chip's memory map covers `[address, address + length)` (regions may
/// adjoin, e.g. the STM32F4's SRAM1 and SRAM2).
fn mapped(map: &MemoryMap, address: u32, length: u64) -> bool {
    let end = u64::from(address) + length;
    let mut at = u64::from(address);
    while at < end {
        let within = |region: &&chips::Region| u64::from(region.start) <= at && at < region.end();
        match map.regions().find(within) {
            Some(region) => at = region.end(),
            None => return false,
        }
    }
    true
}

/// Run the routine; the outer error is the wire's, the inner one a reason to read back.
fn on_target<M: Memory>(
    memory: &mut M,
    core: &mut Core,
    map: &MemoryMap,
    options: Options,
    address: u32,
    block: u32,
    crcs: &mut [u32],
) -> Result<Result<(), Fallback>, crate::Error> {
    if crcs.is_empty() || crcs.len() > MAX_BLOCKS {
        return Ok(Err(Fallback::NoFreeRam));
    }
    let length = u64::from(block) * crcs.len() as u64;
    if !mapped(map, address, length) {
        return Ok(Err(Fallback::Unmapped));
    }
    let layout = Layout::for_run(likely_written(memory, address, block, crcs.len())?);
    let used = layout.size(crcs.len());
    let Some(area) = work_area(map, used, address, length) else {
        return Ok(Err(Fallback::NoFreeRam));
    };
    let dhcsr = read_dhcsr(memory)?;
    if dhcsr.s_lockup() {
        return Ok(Err(Fallback::LockedUp));
    }
    if !dhcsr.s_halt() {
        return Ok(Err(Fallback::Running));
    }
    let mut saved_ram = [0u8; MAX_AREA];
    let saved_ram = &mut saved_ram[..used as usize];
    memory.read_bytes(area, saved_ram)?;
    let mut saved_registers = [0u32; SAVED_REGISTERS.len()];
    for (value, &number) in saved_registers.iter_mut().zip(&SAVED_REGISTERS) {
        *value = core.read_register(memory, number)?;
    }
    let outcome = run(
        memory,
        core,
        options,
        (area, layout),
        (address, block),
        &saved_registers,
        crcs,
    );
    // Put back what the routine borrowed, whatever happened (unless the wire is gone):
    // r0-r7 only if the routine did not reach its end, where it restored them itself.
    let all = SAVED_REGISTERS.len();
    let first = match outcome {
        Ok(Ok(())) => all - FINISHED_RESTORES,
        _ => 0,
    };
    let registers = (&saved_registers[first..], &SAVED_REGISTERS[first..]);
    let restored = restore(memory, core, area, saved_ram, registers);
    let outcome = outcome?;
    restored?;
    Ok(outcome)
}

fn restore<M: Memory>(
    memory: &mut M,
    core: &mut Core,
    area: u32,
    saved_ram: &[u8],
    (values, numbers): (&[u32], &[usize]),
) -> Result<(), crate::Error> {
    // The routine may still run if the wire failed while it did: stop it first (halt with
    // C_MASKINTS kept, then unmask while halted, ARMv7-M C1.6.2).
    let mut halting = Dhcsr::debug();
    halting.set_c_halt(true);
    halting.set_c_maskints(true);
    repeat_idempotent(memory, |memory| write_dhcsr(memory, halting))?;
    core.halt(memory)?;
    for (offset, piece) in saved_ram.chunks(SAVE_PIECE).enumerate() {
        memory.write_bytes(area + (offset * SAVE_PIECE) as u32, piece)?;
    }
    for (&value, &number) in values.iter().zip(numbers) {
        core.write_register(memory, number, value)?;
    }
    repeat_idempotent(memory, |memory| memory.store(Dfsr::all()))?;
    Ok(())
}

fn run<M: Memory>(
    memory: &mut M,
    core: &mut Core,
    options: Options,
    (area, layout): (u32, Layout),
    (address, block): (u32, u32),
    saved_registers: &[u32; SAVED_REGISTERS.len()],
    crcs: &mut [u32],
) -> Result<Result<(), Fallback>, crate::Error> {
    let arguments = [
        address,
        block,
        crcs.len() as u32,
        area + layout.results(),
        area + layout.table(),
    ];
    let mut routine = ROUTINE;
    let mut patch = |offset: usize, words: &[u32]| {
        for (index, word) in words.iter().enumerate() {
            let at = offset + 4 * index;
            routine[at..at + 4].copy_from_slice(&word.to_le_bytes());
        }
    };
    patch(ERASED_CRC_OFFSET, &[filled_crc(0xFF, block)]);
    patch(ARGUMENTS_OFFSET, &arguments);
    patch(SAVED_OFFSET, &saved_registers[..8]);
    // One block write: the routine, its arguments and the core's r0-r7.
    memory.write_bytes(area, &routine[..layout.code()])?;
    core.write_register(memory, PC, area)?;
    core.write_register(memory, XPSR, XPSR_THUMB)?;
    repeat_idempotent(memory, |memory| memory.store(Dfsr::all()))?;
    // Interrupts stay masked: C_MASKINTS is changed only while halted (ARMv7-M C1.6.2).
    let control = |halt: bool, maskints: bool| {
        let mut dhcsr = Dhcsr::debug();
        dhcsr.set_c_halt(halt);
        dhcsr.set_c_maskints(maskints);
        dhcsr
    };
    repeat_idempotent(memory, |memory| write_dhcsr(memory, control(true, true)))?;
    repeat_idempotent(memory, |memory| write_dhcsr(memory, control(false, true)))?;
    let bytes = u64::from(block) * crcs.len() as u64;
    let timeout = options
        .timeout_micros
        .unwrap_or(BASE_TIMEOUT_MICROS + bytes * MICROS_PER_KIB / 1024);
    let finished = match adi::poll_memory(memory, timeout, None::<adi::Error>, |memory| {
        // A lockup (a bus error reading the memory) ends it too: it will not halt.
        let dhcsr = read_dhcsr(memory).map_err(Some)?;
        Ok((dhcsr.s_halt() || dhcsr.s_lockup()).then_some(()))
    }) {
        Ok(()) => true,
        Err(None) => false,
        Err(Some(error)) => return Err(error.into()),
    };
    // Halted either way, interrupts unmasked again (while halted).
    repeat_idempotent(memory, |memory| write_dhcsr(memory, control(true, true)))?;
    if !finished {
        core.halt(memory)?;
        repeat_idempotent(memory, |memory| write_dhcsr(memory, control(true, false)))?;
        return Ok(Err(Fallback::Timeout));
    }
    repeat_idempotent(memory, |memory| write_dhcsr(memory, control(true, false)))?;
    if core.read_register(memory, PC)? != area + ROUTINE_DONE {
        return Ok(Err(Fallback::Stopped));
    }
    memory.read_words(area + layout.results(), crcs)?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chips::Region;

    #[test]
    fn only_ranges_the_memory_map_covers_are_mapped() {
        let map = MemoryMap::new()
            .with(Region::ram(0x2000_0000, 0x1_C000))
            .with(Region::ram(0x2001_C000, 0x4000))
            .with(Region::rom(0xFFFF_F000, 0x1000));
        assert!(mapped(&map, 0x2000_0000, 0x2_0000), "two adjoining regions");
        assert!(mapped(&map, 0x2001_BFF0, 0x20));
        assert!(
            mapped(&map, 0xFFFF_FFF0, 0x10),
            "to the top of the address space"
        );
        assert!(
            !mapped(&map, 0x2000_0000, 0x2_0001),
            "one byte past the last region"
        );
        assert!(!mapped(&map, 0x1FFF_FFFF, 2), "one byte before the first");
        assert!(!mapped(&map, 0xFFFF_FFF0, 0x11), "past the address space");
        assert!(!mapped(&map, 0x0800_0000, 4));
    }

    #[test]
    fn gdb_crc_is_libiberty_xcrc32() {
        // xcrc32("123456789", 9, 0xffffffff) as GDB computes it.
        assert_eq!(GDB_CRC.checksum(b"123456789"), 0x0376_E6E7);
    }

    /// The bytes above are the committed source, assembled (needs arm-none-eabi-as, which
    /// tools/prereqs installs).
    #[test]
    fn routine_is_the_assembled_source() {
        let source = concat!(env!("CARGO_MANIFEST_DIR"), "/src/routines/crc32.S");
        let out = std::env::temp_dir().join(format!("bmp-crc32-{}", std::process::id()));
        let object = out.with_extension("o");
        let binary = out.with_extension("bin");
        let assembled = std::process::Command::new("arm-none-eabi-as")
            .args(["-mcpu=cortex-m0", "-mthumb", source, "-o"])
            .arg(&object)
            .status()
            .expect("arm-none-eabi-as runs");
        assert!(assembled.success());
        let copied = std::process::Command::new("arm-none-eabi-objcopy")
            .args(["-O", "binary"])
            .arg(&object)
            .arg(&binary)
            .status()
            .expect("arm-none-eabi-objcopy runs");
        assert!(copied.success());
        let bytes = std::fs::read(&binary).unwrap();
        let _ = std::fs::remove_file(&object);
        let _ = std::fs::remove_file(&binary);
        assert_eq!(bytes, ROUTINE);
        assert_eq!(
            &ROUTINE[ROUTINE_DONE as usize..ROUTINE_DONE as usize + 2],
            &[0x00, 0xbe]
        );
        assert_eq!(
            &ROUTINE[ERASED_CRC_OFFSET..ERASED_CRC_OFFSET + 4],
            &[0xFF; 4]
        );
        assert_eq!(ARGUMENTS_OFFSET, ERASED_CRC_OFFSET + 4);
        assert_eq!(SAVED_OFFSET, ARGUMENTS_OFFSET + 5 * 4);
        assert_eq!(NIBBLES_OFFSET as usize, SAVED_OFFSET + 8 * 4);
        assert!(
            ROUTINE[ARGUMENTS_OFFSET..NIBBLES_OFFSET as usize]
                .iter()
                .all(|&b| b == 0)
        );
        assert_eq!(ROUTINE.len() as u32, NIBBLES_OFFSET + 64);
    }

    /// The routine's 16 entries are the CRC's own table of nibbles.
    #[test]
    fn routine_nibbles_are_the_polynomials() {
        let nibbles = &ROUTINE[NIBBLES_OFFSET as usize..];
        for (index, entry) in nibbles.chunks(4).enumerate() {
            let mut value = (index as u32) << 28;
            for _ in 0..4 {
                value = (value << 1) ^ if value >> 31 == 1 { 0x04C1_1DB7 } else { 0 };
            }
            assert_eq!(entry, value.to_le_bytes(), "entry {index}");
        }
    }

    #[test]
    fn short_runs_save_only_the_routine_and_results() {
        assert_eq!(Layout::for_run(16 * 1024), Layout::SmallTable);
        assert_eq!(Layout::for_run(16 * 1024 + 1), Layout::LargeTable);
        assert_eq!(Layout::SmallTable.size(3), 324);
        assert_eq!(Layout::LargeTable.size(3), 0xFC + 1024 + 12);
        assert_ne!(Layout::LargeTable.table(), NIBBLES_OFFSET);
    }

    /// Words from 0x0800_0000, erased (0xFFFFFFFF) where not set; counts its reads.
    struct Flash {
        words: Vec<u32>,
        reads: usize,
    }

    impl Memory for Flash {
        fn read_words(&mut self, address: u32, words: &mut [u32]) -> Result<(), adi::Error> {
            for (index, word) in words.iter_mut().enumerate() {
                let at = (address - 0x0800_0000) as usize / 4 + index;
                *word = self.words.get(at).copied().unwrap_or(u32::MAX);
                self.reads += 1;
            }
            Ok(())
        }
        fn write_words(&mut self, address: u32, _: &[u32]) -> Result<(), adi::Error> {
            Err(adi::Error::Bus { address })
        }
        fn write_halves(&mut self, address: u32, _: &[u16]) -> Result<(), adi::Error> {
            Err(adi::Error::Bus { address })
        }
        fn read_bytes(&mut self, address: u32, _: &mut [u8]) -> Result<(), adi::Error> {
            Err(adi::Error::Bus { address })
        }
        fn write_bytes(&mut self, address: u32, _: &[u8]) -> Result<(), adi::Error> {
            Err(adi::Error::Bus { address })
        }
        fn now_micros(&mut self) -> u64 {
            0
        }
    }

    /// A run over more than 16 KiB takes the 16-entry table when its sampled blocks are
    /// mostly erased (an H743 sector with a small firmware in its first block), the 1 KiB
    /// one when they hold data; short runs read nothing.
    #[test]
    fn long_runs_choose_the_table_by_what_they_likely_hold() {
        const KIB: u32 = 1024;
        let mut flash = Flash {
            words: vec![0x4770_4770; 600], // 2.4 KB of code at the start
            reads: 0,
        };
        let layout = |flash: &mut Flash, block: u32, blocks: usize| {
            let written = likely_written(flash, 0x0800_0000, block, blocks).unwrap();
            Layout::for_run(written)
        };
        assert_eq!(layout(&mut flash, 16 * KIB, 1), Layout::SmallTable);
        assert_eq!(flash.reads, 0);
        assert_eq!(layout(&mut flash, 16 * KIB, 8), Layout::SmallTable);
        assert_eq!(flash.reads, TABLE_SAMPLES);
        assert_eq!(layout(&mut flash, 32 * KIB, 1), Layout::LargeTable);
        flash.words = vec![0x1234_5678; 64 * KIB as usize / 4];
        assert_eq!(layout(&mut flash, 16 * KIB, 8), Layout::LargeTable);
        // 64 blocks of 1 KiB, sampled at 0, 8, ... 56 KiB: 16 KiB of data at the start is
        // 2 of 8 samples (16 KiB likely), 17 KiB 3 of 8 (24 KiB likely).
        flash.words.truncate(16 * KIB as usize / 4);
        assert_eq!(layout(&mut flash, KIB, 64), Layout::SmallTable);
        flash.words = vec![0x1234_5678; 17 * KIB as usize / 4];
        assert_eq!(layout(&mut flash, KIB, 64), Layout::LargeTable);
    }
}
