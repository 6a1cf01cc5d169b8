//! Data Watchpoint and Trace unit (ARMv7-M C1.8, Cortex-M3 TRM 8.3): four comparators
//! used as data address watchpoints, and the cycle counter.
//!
//! A comparator watches the 2^MASK-byte aligned block at COMP. FUNCTION 0b0101 watches
//! reads, 0b0110 writes, 0b0111 both (ARMv7-M table C1-14, "watchpoint on ... generate a
//! Debug event"). A hit sets FUNCTION.MATCHED, which a read of FUNCTION clears. The
//! other functions (PC sample, data value match, cycle match, trace) are stored only.
//!
//! ARMv6-M (ARMv6-M C1.8, Cortex-M0+ TRM 4.1): two comparators, no cycle counter, no
//! profiling counters (CYCCNT and the counters read zero and ignore writes; DWT_CTRL
//! holds only NUMCOMP), PCSR as on ARMv7-M.

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
/// DWT_MASKn: up to 2^31 bytes on this core (the field is [4:0]).
const MASK_STORED: u32 = 0x1F;

#[derive(Clone, Copy, Debug, Default)]
struct Comparator {
    address: u32,
    mask: u32,
    function: u32,
    matched: bool,
}

impl Comparator {
    fn watches(&self, write: bool) -> bool {
        match self.function & 0xF {
            FUNCTION_WATCH_READ => !write,
            FUNCTION_WATCH_WRITE => write,
            FUNCTION_WATCH_ACCESS => true,
            _ => false,
        }
    }

    /// The watched block, inclusive.
    fn range(&self) -> (u32, u32) {
        let size_mask = if self.mask >= 32 {
            u32::MAX
        } else {
            (1u32 << self.mask) - 1
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
                comparator.function | matched
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
            Some(Register::Mask(index)) => self.comparators[index].mask = value & MASK_STORED,
            Some(Register::Function(index)) => {
                self.comparators[index].function = value & FUNCTION_STORED
            }
            None => return false,
        }
        true
    }

    /// The address blocks watched now (inclusive ranges), for the core's access hooks.
    pub fn watched_ranges(&self) -> Vec<(u32, u32)> {
        self.comparators
            .iter()
            .filter(|comparator| comparator.watches(false) || comparator.watches(true))
            .map(Comparator::range)
            .collect()
    }

    /// A data access by the core; true if a watchpoint matched (MATCHED is set).
    pub fn access(&mut self, address: u32, size: u32, write: bool) -> bool {
        let last = address.wrapping_add(size.max(1) - 1);
        let mut hit = false;
        for comparator in self.comparators.iter_mut() {
            let (start, end) = comparator.range();
            if comparator.watches(write) && address <= end && last >= start {
                comparator.matched = true;
                hit = true;
            }
        }
        hit
    }

    /// Count cycles when CYCCNTENA is set.
    pub fn count_cycles(&mut self, cycles: u64) {
        if self.control & CTRL_CYCCNTENA != 0 {
            self.cycle_count = self.cycle_count.wrapping_add(cycles as u32);
        }
    }
}
