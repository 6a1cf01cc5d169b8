//! The Cortex-M7's L1 cache registers in the SCB (ARMv7-M B4.8, Cortex-M7 TRM "L1 cache"),
//! and the FPU's feature registers MVFR0-MVFR2 (ARMv7-M B4.6).
//!
//! The identification registers describe the STM32H7's caches (16 KB instruction, 16 KB
//! data, 32-byte lines; RM0433 2.1). unicorn-engine has no caches: the core's loads,
//! stores and fetches always reach its memory. What is modelled is what the debugger's
//! writes look like from the core, the approximation being (`Caches`):
//! - while CCR.DC or CCR.IC is set, every line of cacheable memory counts as present (and
//!   dirty) in the caches: 0x0000_0000-0x3FFF_FFFF and 0x6000_0000-0x9FFF_FFFF (ARMv7-M
//!   B3.1 default memory map: Code, SRAM, external RAM) but the TCMs (the RAMs at
//!   0x0000_0000 and 0x2000_0000, Cortex-M7 TRM "TCM interfaces"); only RAM is modelled so
//!   (flash changes by its controller, peripherals and the TCMs reach the core at once);
//! - a debugger write to such a line is held "behind the cache" (the memory's new content,
//!   which the debugger's reads see) and the core keeps seeing the old content, until the
//!   line has been invalidated in the data cache (DCIMVAC, DCCIMVAC, or DCISW/DCCISW on
//!   all four ways of its set) if DC is set and in the instruction cache (ICIALLU,
//!   ICIMVAU) if IC is set, since the core last ran (it could refill the line), or until a
//!   reset or both CCR bits clear; the order in either direction works while halted;
//! - a clean (DCCMVAC, DCCMVAU, DCCSW, and the clean of DCCIMVAC, DCCISW) of a line held
//!   behind writes the core's (dirty) line over it: the debugger's write is lost, as on
//!   silicon when a debugger cleans after writing;
//! - the debugger's reads are not made stale: a read sees memory as the core left it (no
//!   clean needed), except for lines held behind;
//! - every maintenance operation is kept in `Caches::log` for tests.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::memory_map::{self, Emulator};
use super::system::System;
use crate::soc::CoreModel;

/// MVFR0..MVFR2 (ARMv7-M B4.6.2-B4.6.4).
pub const MVFR0: u32 = 0xE000_EF40;
pub const MVFR2: u32 = 0xE000_EF48;
/// CLIDR, CTR, CCSIDR (of the cache CSSELR selects), CSSELR (ARMv7-M B4.8.1).
pub const CLIDR: u32 = 0xE000_ED78;
pub const CTR: u32 = 0xE000_ED7C;
pub const CCSIDR: u32 = 0xE000_ED80;
pub const CSSELR: u32 = 0xE000_ED84;
/// The write-only maintenance operations ICIALLU 0xE000_EF50, ICIMVAU 0xE000_EF58,
/// DCIMVAC 0xE000_EF5C, DCISW, DCCMVAU, DCCMVAC, DCCSW, DCCIMVAC 0xE000_EF70, DCCISW,
/// BPIALL 0xE000_EF78 (ARMv7-M B4.8.2 table B4-3).
pub const MAINTENANCE_FIRST: u32 = 0xE000_EF50;
pub const MAINTENANCE_LAST: u32 = 0xE000_EF78;

/// CLIDR: separate level 1 instruction and data caches (Ctype1 0b011), LoUU and LoC 1.
const CACHE_LEVELS: u32 = 1 << 27 | 1 << 24 | 0b011;
/// CTR: format 0b100, CWG and ERG 8 words, DminLine and IminLine 8 words (32 bytes)
/// (Cortex-M7 TRM, "Cache Type Register" reset value).
const CACHE_TYPE: u32 = 0x8303_C003;
/// CCSIDR fields (ARMv7-M B4.8.3): WT 31, WB 30, RA 29, WA 28, NumSets-1 [27:13],
/// Associativity-1 [12:3], LineSize [2:0] = log2(words per line) - 2.
const fn cache_size_id(sets: u32, ways: u32) -> u32 {
    0xF << 28 | (sets - 1) << 13 | (ways - 1) << 3 | 1
}
/// 16 KB data cache: 4 ways of 128 sets of 32 bytes.
const DATA_CACHE: u32 = cache_size_id(128, 4);
/// 16 KB instruction cache: 2 ways of 256 sets of 32 bytes.
const INSTRUCTION_CACHE: u32 = cache_size_id(256, 2);

/// A read of one of these registers on `core`; None if the address is not one of them
/// (or the core does not have it), `selection` being CSSELR.
pub fn read(core: CoreModel, address: u32, selection: u32) -> Option<u32> {
    if (MVFR0..=MVFR2).contains(&address) {
        return Some(core.media_and_fp_features()[((address - MVFR0) / 4) as usize]);
    }
    if core != CoreModel::CortexM7 {
        return None;
    }
    match address {
        CLIDR => Some(CACHE_LEVELS),
        CTR => Some(CACHE_TYPE),
        // CSSELR.InD (bit 0) selects the instruction cache.
        CCSIDR if selection & 1 != 0 => Some(INSTRUCTION_CACHE),
        CCSIDR => Some(DATA_CACHE),
        MAINTENANCE_FIRST..=MAINTENANCE_LAST => Some(0),
        _ => None,
    }
}

/// Writes that do nothing here: the identification registers. CSSELR is stored by the
/// caller, the maintenance operations go to `maintain`.
pub fn ignores_write(core: CoreModel, address: u32) -> bool {
    (MVFR0..=MVFR2).contains(&address)
        || core == CoreModel::CortexM7 && matches!(address, CLIDR | CTR | CCSIDR)
}

/// A maintenance operation's address on this core.
pub fn is_maintenance(core: CoreModel, address: u32) -> bool {
    core == CoreModel::CortexM7 && (MAINTENANCE_FIRST..=MAINTENANCE_LAST).contains(&address)
}

/// CCR (ARMv7-M B3.2.8): DC 16, IC 17.
pub const CCR: u32 = 0xE000_ED14;
const CCR_DC: u32 = 1 << 16;
const CCR_IC: u32 = 1 << 17;
/// The maintenance operations by name (B4.8.2 table B4-3).
const ICIALLU: u32 = 0xE000_EF50;
const ICIMVAU: u32 = 0xE000_EF58;
const DCIMVAC: u32 = 0xE000_EF5C;
const DCISW: u32 = 0xE000_EF60;
const DCCMVAU: u32 = 0xE000_EF64;
const DCCMVAC: u32 = 0xE000_EF68;
const DCCSW: u32 = 0xE000_EF6C;
const DCCIMVAC: u32 = 0xE000_EF70;
const DCCISW: u32 = 0xE000_EF74;
/// 32-byte lines; the data cache's 128 sets of 4 ways (set in [11:5], way in [31:30]).
const LINE: u32 = 32;
const DATA_SETS: u32 = 128;
const ALL_WAYS: u8 = 0b1111;
/// The TCMs' fixed bases (Cortex-M7 TRM): ITCM 0, DTCM 0x2000_0000.
const TCM_BASES: [u32; 2] = [0x0000_0000, 0x2000_0000];

/// What the debugger's writes leave behind the caches (see the module comment).
#[derive(Default)]
pub struct Caches {
    /// Lines invalidated in the data cache since the core last ran.
    data_lines: HashSet<u32>,
    /// Ways of each set invalidated by set/way since the core last ran.
    data_sets: HashMap<u32, u8>,
    /// ICIALLU since the core last ran, or the lines of ICIMVAU.
    instruction_all: bool,
    instruction_lines: HashSet<u32>,
    /// Lines the debugger wrote that the core does not see: the memory's content.
    behind: BTreeMap<u32, [u8; LINE as usize]>,
    /// Every maintenance operation (register address, value), in order.
    pub log: Vec<(u32, u32)>,
}

fn line_of(address: u32) -> u32 {
    address & !(LINE - 1)
}

fn set_of(line: u32) -> u32 {
    (line / LINE) % DATA_SETS
}

impl Caches {
    fn data_invalidated(&self, line: u32) -> bool {
        self.data_lines.contains(&line) || self.data_sets.get(&set_of(line)) == Some(&ALL_WAYS)
    }

    fn instruction_invalidated(&self, line: u32) -> bool {
        self.instruction_all || self.instruction_lines.contains(&line)
    }

    /// Whether a debugger write to `line` stays hidden from the core under `control`.
    fn hides(&self, control: u32, line: u32) -> bool {
        (control & CCR_DC != 0 && !self.data_invalidated(line))
            || (control & CCR_IC != 0 && !self.instruction_invalidated(line))
    }

    /// The core runs (resume, step): it may fill any line again.
    pub fn core_runs(&mut self) {
        self.data_lines.clear();
        self.data_sets.clear();
        self.instruction_all = false;
        self.instruction_lines.clear();
    }

    /// Lines held behind that `set` (a set/way operand) covers.
    fn lines_of_set(&self, set: u32) -> Vec<u32> {
        self.behind
            .keys()
            .copied()
            .filter(|&line| set_of(line) == set)
            .collect()
    }
}

fn control(system: &System) -> u32 {
    system.system_control.get(&CCR).copied().unwrap_or(0)
}

/// Whether a debugger access to `address` meets the caches.
fn cached(system: &System, address: u32) -> bool {
    system.soc.core() == CoreModel::CortexM7
        && control(system) & (CCR_DC | CCR_IC) != 0
        && matches!(address, 0x0000_0000..0x4000_0000 | 0x6000_0000..0xA000_0000)
        && !system.soc.rams().iter().any(|ram| {
            TCM_BASES.contains(&ram.base) && (ram.base..ram.base + ram.size).contains(&address)
        })
}

/// A debugger write to RAM: true if the core does not see it yet (held behind).
pub fn debugger_write(uc: &mut Emulator, address: u32, bytes: &[u8]) -> bool {
    let system = uc.get_data();
    let line = line_of(address);
    let held = system.caches.behind.contains_key(&line);
    let hidden = cached(system, address) && system.caches.hides(control(system), line);
    if !held && !hidden {
        return false;
    }
    let mut content = [0u8; LINE as usize];
    if !held && uc.mem_read(u64::from(line), &mut content).is_err() {
        return false;
    }
    let caches = &mut uc.get_data_mut().caches;
    let content = caches.behind.entry(line).or_insert(content);
    let offset = (address - line) as usize;
    content[offset..offset + bytes.len()].copy_from_slice(bytes);
    true
}

/// A debugger read of RAM held behind the caches: memory's content.
pub fn debugger_read(system: &System, address: u32, length: usize) -> Option<[u8; 4]> {
    let content = system.caches.behind.get(&line_of(address))?;
    let offset = (address - line_of(address)) as usize;
    let mut bytes = [0u8; 4];
    bytes[..length].copy_from_slice(&content[offset..offset + length]);
    Some(bytes)
}

/// A maintenance operation written (by the debugger or the core) on the Cortex-M7.
pub fn maintain(uc: &mut Emulator, address: u32, value: u32) {
    let caches = &mut uc.get_data_mut().caches;
    caches.log.push((address, value));
    let line = line_of(value);
    let set = (value >> 5) % DATA_SETS;
    let way = 1u8 << (value >> 30);
    match address {
        ICIALLU => caches.instruction_all = true,
        ICIMVAU => {
            caches.instruction_lines.insert(line);
        }
        DCIMVAC => {
            caches.data_lines.insert(line);
        }
        DCCMVAU | DCCMVAC => {
            caches.behind.remove(&line);
        }
        DCCIMVAC => {
            caches.behind.remove(&line);
            caches.data_lines.insert(line);
        }
        DCISW | DCCSW | DCCISW => {
            if address != DCISW {
                for line in caches.lines_of_set(set) {
                    caches.behind.remove(&line);
                }
            }
            if address != DCCSW {
                *caches.data_sets.entry(set).or_insert(0) |= way;
            }
        }
        _ => {}
    }
    settle(uc);
}

/// Lines held behind that the core may now see reach its memory.
pub fn settle(uc: &mut Emulator) {
    let system = uc.get_data();
    let control = control(system);
    let visible: Vec<u32> = system
        .caches
        .behind
        .keys()
        .copied()
        .filter(|&line| !system.caches.hides(control, line))
        .collect();
    for line in visible {
        if let Some(content) = uc.get_data_mut().caches.behind.remove(&line) {
            let _ = memory_map::store(uc, line, &content);
        }
    }
}

/// A core reset: the caches are off and invalid, the core sees memory.
pub fn reset(uc: &mut Emulator) {
    let caches = std::mem::take(&mut uc.get_data_mut().caches);
    for (line, content) in caches.behind {
        let _ = memory_map::store(uc, line, &content);
    }
    uc.get_data_mut().caches.log = caches.log;
}
