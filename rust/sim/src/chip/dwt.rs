//! Data Watchpoint and Trace unit (ARMv7-M C1.8, Cortex-M3 TRM 8.3): four comparators
//! used as data address watchpoints, and the cycle counter.
//!
//! A comparator watches the 2^MASK-byte aligned block at COMP. FUNCTION 0b0101 watches
//! reads, 0b0110 writes, 0b0111 both (ARMv7-M table C1-14, "watchpoint on ... generate a
//! Debug event"). A hit sets FUNCTION.MATCHED, which a read of FUNCTION clears. The
//! other functions (PC sample, data value match, cycle match, trace) are stored only.
//!
//! ARMv6-M (ARMv6-M C1.7, DDI 0419C; Cortex-M0+ TRM 4.1, 7.1.3): two comparators, no
//! cycle counter, no profiling counters (CYCCNT and the counters read zero and ignore
//! writes; DWT_CTRL holds only NUMCOMP), PCSR as on ARMv7-M; DWT_FUNCTION holds only
//! FUNCTION [3:0] and MATCHED (no data value, cycle or trace fields); FUNCTION 0b0100
//! (PC match) and the reserved encodings are stored and never match.
//!
//! DWT_MASK: the Cortex-M3 implements MASK [3:0] (Cortex-M3 TRM r2p0 table 11-16: up to
//! 32 KB); the M0+, M4 and M7 all five bits of the field (their implemented largest mask
//! is not modelled).
//!
//! The comparators match only while DEMCR.TRCENA (ARMv6-M: DWTENA, the same bit 24) is
//! set (ARMv7-M C1.6.5, ARMv6-M C1.6.5); the core checks it.
//!
//! ARMv8-M (ARMv8-M ARM B13 and D1.2 DWT_FUNCTIONn; the Cortex-M33): no DWT_MASK (its
//! word is reserved: RAZ/WI). FUNCTION holds MATCH [3:0], ACTION [5:4] and DATAVSIZE
//! [11:10]: MATCH 0b0100 watches reads and writes, 0b0101 writes, 0b0110 reads, of the
//! 2^DATAVSIZE bytes at COMP (aligned down to that size); a comparator whose next one has
//! MATCH 0b0111 (data address limit) watches COMP up to the next one's COMP instead. A
//! match sets MATCHED (on the first comparator of a range); only ACTION 0b01 makes it a
//! debug event (halt). FUNCTION.ID [31:27] reads the Cortex-M33's (Cortex-M33 TRM: 0b01011,
//! 0b11010, 0b01010, 0b11110), so only comparators 1 and 3 can be a limit (0b11xxx); a
//! MATCH 0b0111 on 0 or 2 pairs with nothing. Approximations: the other MATCH values
//! (instruction address, data value, cycle counter) are stored only, and the range's
//! first comparator is not checked for DATAVSIZE 0.

use crate::soc::CoreModel;

/// Register offsets in the DWT block (ARMv7-M C1.8.7 ..).
pub const DWT_CTRL: u32 = 0x000;
pub const DWT_CYCCNT: u32 = 0x004;
pub const DWT_PCSR: u32 = 0x01C;
pub const DWT_COMP0: u32 = 0x020;
/// Comparator n has COMP at 0x20 + 16n, MASK at 0x24 + 16n, FUNCTION at 0x28 + 16n.
const COMPARATOR_STRIDE: u32 = 0x10;

pub const COMPARATORS: usize = 4;
pub const ARMV6M_COMPARATORS: usize = 2;

/// DWT_CTRL (ARMv7-M C1.8.7): NUMCOMP [31:28], CYCCNTENA bit 0; the rest is stored.
const CTRL_NUMCOMP_SHIFT: u32 = 28;
const CTRL_CYCCNTENA: u32 = 1 << 0;
const CTRL_STORED: u32 = 0x0FFF_FFFF;

/// DWT_FUNCTIONn (ARMv7-M C1.8.17): FUNCTION [3:0], EMITRANGE 5, CYCMATCH 7,
/// DATAVMATCH 8, LNK1ENA 9, DATAVSIZE [11:10], DATAVADDR0 [15:12], DATAVADDR1 [19:16],
/// MATCHED 24 (read-only, cleared by a read).
const FUNCTION_MATCHED: u32 = 1 << 24;
const FUNCTION_STORED: u32 = 0x000F_FDAF;
pub const FUNCTION_WATCH_READ: u32 = 0b0101;
pub const FUNCTION_WATCH_WRITE: u32 = 0b0110;
pub const FUNCTION_WATCH_ACCESS: u32 = 0b0111;
/// DWT_MASKn.MASK [4:0] (ARMv7-M C1.8.16); the Cortex-M3 implements [3:0].
const MASK_STORED: u32 = 0x1F;
const CORTEX_M3_MASK_STORED: u32 = 0xF;
/// ARMv6-M DWT_FUNCTIONn: FUNCTION [3:0] only (and MATCHED).
const ARMV6M_FUNCTION_STORED: u32 = 0xF;
/// ARMv8-M DWT_FUNCTIONn: MATCH [3:0], ACTION [5:4], DATAVSIZE [11:10] (D1.2).
const V8_FUNCTION_STORED: u32 = 0x0000_0C3F;
const V8_MATCH: u32 = 0xF;
pub const V8_MATCH_ACCESS: u32 = 0b0100;
pub const V8_MATCH_WRITE: u32 = 0b0101;
pub const V8_MATCH_READ: u32 = 0b0110;
pub const V8_MATCH_LIMIT: u32 = 0b0111;
pub const V8_ACTION_DEBUG_EVENT: u32 = 0b01 << 4;
const V8_ACTION: u32 = 0b11 << 4;
pub const V8_DATAVSIZE_SHIFT: u32 = 10;
/// FUNCTION.ID [31:27] of the Cortex-M33's comparators, and its "Data Address Limit" bit.
const V8_ID_SHIFT: u32 = 27;
const V8_IDS: [u32; COMPARATORS] = [0b01011, 0b11010, 0b01010, 0b11110];
const V8_ID_DATA_ADDRESS_LIMIT: u32 = 0b10000;

#[derive(Clone, Copy, Debug, Default)]
struct Comparator {
    address: u32,
    mask: u32,
    function: u32,
    matched: bool,
}

impl Comparator {
    fn watches(&self, write: bool, armv8m: bool) -> bool {
        match (armv8m, self.function & 0xF) {
            (false, FUNCTION_WATCH_READ) | (true, V8_MATCH_READ) => !write,
            (false, FUNCTION_WATCH_WRITE) | (true, V8_MATCH_WRITE) => write,
            (false, FUNCTION_WATCH_ACCESS) | (true, V8_MATCH_ACCESS) => true,
            _ => false,
        }
    }

    /// A match is a debug event: every ARMv7-M watchpoint function, ARMv8-M ACTION 0b01.
    fn halts(&self, armv8m: bool) -> bool {
        !armv8m || self.function & V8_ACTION == V8_ACTION_DEBUG_EVENT
    }

    /// The watched block, inclusive: 2^MASK bytes (ARMv7-M), 2^DATAVSIZE (ARMv8-M).
    fn range(&self, armv8m: bool) -> (u32, u32) {
        let bits = if armv8m {
            self.function >> V8_DATAVSIZE_SHIFT & 0b11
        } else {
            self.mask
        };
        let size_mask = if bits >= 32 {
            u32::MAX
        } else {
            (1u32 << bits) - 1
        };
        let start = self.address & !size_mask;
        (start, start | size_mask)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Dwt {
    control: u32,
    cycle_count: u32,
    comparators: [Comparator; COMPARATORS],
    /// How many comparators exist (4 on ARMv7-M, 2 on the Cortex-M0+).
    count: usize,
    /// ARMv6-M: no cycle counter, DWT_CTRL read-only.
    armv6m: bool,
    /// ARMv8-M: FUNCTION's MATCH/ACTION/DATAVSIZE layout, no DWT_MASK.
    armv8m: bool,
    /// The FUNCTION and MASK bits this core implements.
    function_stored: u32,
    mask_stored: u32,
}

/// Which DWT register an offset names.
enum Register {
    Control,
    CycleCount,
    ProgramCounterSample,
    Comparator(usize),
    Mask(usize),
    Function(usize),
    /// CPICNT, EXCCNT, SLEEPCNT, LSUCNT, FOLDCNT: not counted, read zero.
    Counter,
}

fn decode(offset: u32) -> Option<Register> {
    if !offset.is_multiple_of(4) {
        return None;
    }
    match offset {
        DWT_CTRL => Some(Register::Control),
        DWT_CYCCNT => Some(Register::CycleCount),
        0x008..=0x018 => Some(Register::Counter),
        DWT_PCSR => Some(Register::ProgramCounterSample),
        _ => {
            let relative = offset.checked_sub(DWT_COMP0)?;
            let index = (relative / COMPARATOR_STRIDE) as usize;
            if index >= COMPARATORS {
                return None;
            }
            match relative % COMPARATOR_STRIDE {
                0x0 => Some(Register::Comparator(index)),
                0x4 => Some(Register::Mask(index)),
                0x8 => Some(Register::Function(index)),
                _ => None,
            }
        }
    }
}

impl Dwt {
    pub fn new(core: CoreModel) -> Self {
        let armv6m = core.is_armv6m();
        Dwt {
            count: if armv6m {
                ARMV6M_COMPARATORS
            } else {
                COMPARATORS
            },
            armv6m,
            armv8m: core.is_armv8m(),
            function_stored: match (armv6m, core.is_armv8m()) {
                (true, _) => ARMV6M_FUNCTION_STORED,
                (_, true) => V8_FUNCTION_STORED,
                _ => FUNCTION_STORED,
            },
            mask_stored: if core == CoreModel::CortexM3 {
                CORTEX_M3_MASK_STORED
            } else {
                MASK_STORED
            },
            ..Dwt::default()
        }
    }

    /// `offset`'s register, None past this core's comparators.
    fn register(&self, offset: u32) -> Option<Register> {
        match decode(offset)? {
            Register::Comparator(index) | Register::Mask(index) | Register::Function(index)
                if index >= self.count =>
            {
                None
            }
            Register::CycleCount | Register::Counter if self.armv6m => Some(Register::Counter),
            register => Some(register),
        }
    }

    /// Read a register; `clear` applies read side effects (MATCHED clears). `program_counter`
    /// is what PCSR samples (0xFFFF_FFFF when halted, ARMv7-M C1.8.11).
    pub fn read(&mut self, offset: u32, clear: bool, program_counter: u32) -> Option<u32> {
        let value = match self.register(offset)? {
            Register::Control => (self.count as u32) << CTRL_NUMCOMP_SHIFT | self.control,
            Register::CycleCount => self.cycle_count,
            Register::ProgramCounterSample => program_counter,
            Register::Counter => 0,
            Register::Comparator(index) => self.comparators[index].address,
            Register::Mask(_) if self.armv8m => 0,
            Register::Mask(index) => self.comparators[index].mask,
            Register::Function(index) => {
                let comparator = &mut self.comparators[index];
                let matched = if comparator.matched {
                    FUNCTION_MATCHED
                } else {
                    0
                };
                if clear {
                    comparator.matched = false;
                }
                let id = if self.armv8m {
                    V8_IDS[index] << V8_ID_SHIFT
                } else {
                    0
                };
                comparator.function | matched | id
            }
        };
        Some(value)
    }

    /// A register write; false if `offset` is no DWT register.
    pub fn write(&mut self, offset: u32, value: u32) -> bool {
        match self.register(offset) {
            Some(Register::Control) if self.armv6m => {}
            Some(Register::Control) => self.control = value & CTRL_STORED,
            Some(Register::CycleCount) => self.cycle_count = value,
            Some(Register::ProgramCounterSample | Register::Counter) => {}
            Some(Register::Comparator(index)) => self.comparators[index].address = value,
            Some(Register::Mask(_)) if self.armv8m => {}
            Some(Register::Mask(index)) => self.comparators[index].mask = value & self.mask_stored,
            Some(Register::Function(index)) => {
                self.comparators[index].function = value & self.function_stored
            }
            None => return false,
        }
        true
    }

    /// Comparator `index`'s watched range, inclusive: its block, or on ARMv8-M up to the
    /// next comparator's COMP when that one is a data address limit (MATCH 0b0111).
    fn range(&self, index: usize) -> (u32, u32) {
        let comparator = &self.comparators[index];
        let limit = self.comparators[..self.count]
            .get(index + 1)
            .filter(|next| self.armv8m && next.function & V8_MATCH == V8_MATCH_LIMIT)
            .filter(|_| V8_IDS[index + 1] & V8_ID_DATA_ADDRESS_LIMIT != 0);
        match limit {
            Some(limit) => (comparator.address, limit.address),
            None => comparator.range(self.armv8m),
        }
    }

    fn watching(&self, index: usize) -> bool {
        let comparator = &self.comparators[index];
        comparator.watches(false, self.armv8m) || comparator.watches(true, self.armv8m)
    }

    /// The address blocks watched now (inclusive ranges), for the core's access hooks.
    pub fn watched_ranges(&self) -> Vec<(u32, u32)> {
        (0..self.count)
            .filter(|&index| self.watching(index))
            .map(|index| self.range(index))
            .collect()
    }

    /// A data access by the core: MATCHED is set on every comparator it matches; true if
    /// one of them makes it a debug event.
    pub fn access(&mut self, address: u32, size: u32, write: bool) -> bool {
        let last = address.wrapping_add(size.max(1) - 1);
        let mut halt = false;
        for index in 0..self.count {
            let (start, end) = self.range(index);
            let comparator = &mut self.comparators[index];
            if comparator.watches(write, self.armv8m) && address <= end && last >= start {
                comparator.matched = true;
                halt |= comparator.halts(self.armv8m);
            }
        }
        halt
    }

    /// Count cycles when CYCCNTENA is set.
    pub fn count_cycles(&mut self, cycles: u64) {
        if self.control & CTRL_CYCCNTENA != 0 {
            self.cycle_count = self.cycle_count.wrapping_add(cycles as u32);
        }
    }
}
