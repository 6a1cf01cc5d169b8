//! Hardware breakpoints (FPB, ARMv7-M C1.11) and watchpoints (DWT: ARMv7-M C1.8, and the
//! ARMv8-M DWT, ARMv8-M ARM B13/D1.2, whose DWT_FUNCTION encodes the match differently).

use crate::Error;
use crate::registers::*;
use adi::Memory;

const MAX_BREAKPOINTS: usize = 8;
const MAX_WATCHPOINTS: usize = 4;

/// The Flash Patch and Breakpoint unit's instruction comparators.
pub struct Breakpoints {
    revision: u32,
    count: usize,
    addresses: [Option<u32>; MAX_BREAKPOINTS],
}

impl Breakpoints {
    /// Read FP_CTRL's comparator count and revision, and enable the unit (C1.11.3).
    pub(crate) fn probe<M: Memory>(memory: &mut M) -> Result<Self, Error> {
        let control: FpCtrl = memory.load()?;
        memory.store(FpCtrl::enabled())?;
        Ok(Self {
            revision: u32::from(control.rev()),
            count: control.num_code().min(MAX_BREAKPOINTS),
            addresses: [None; MAX_BREAKPOINTS],
        })
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// The addresses breakpoints are set at (to arm them again on a core that lost them).
    pub fn addresses(&self) -> impl Iterator<Item = u32> + '_ {
        self.addresses[..self.count].iter().flatten().copied()
    }

    /// FP_COMP value for `address`. Revision 1 (C1.11.5): bits [28:2] of the address, a
    /// REPLACE field choosing the half-word, code region only. Revision 2: the address.
    fn comparator_value(&self, address: u32) -> Result<u32, Error> {
        if self.revision == 0 {
            if address >= 0x2000_0000 {
                return Err(Error::Unsupported);
            }
            let replace = if address & 2 == 0 { 1 << 30 } else { 2 << 30 };
            Ok(replace | (address & 0x1FFF_FFFC) | 1)
        } else {
            Ok((address & !1) | 1)
        }
    }

    pub fn set<M: Memory>(&mut self, memory: &mut M, address: u32) -> Result<(), Error> {
        if self.addresses[..self.count].contains(&Some(address)) {
            return Ok(());
        }
        let value = self.comparator_value(address)?;
        let slot = self.addresses[..self.count]
            .iter()
            .position(Option::is_none)
            .ok_or(Error::NoFreeComparator)?;
        memory.write_word(FP_COMP0 + 4 * slot as u32, value)?;
        self.addresses[slot] = Some(address);
        Ok(())
    }

    pub fn clear<M: Memory>(&mut self, memory: &mut M, address: u32) -> Result<(), Error> {
        let slot = self.addresses[..self.count]
            .iter()
            .position(|&a| a == Some(address))
            .ok_or(Error::NotSet)?;
        memory.write_word(FP_COMP0 + 4 * slot as u32, 0)?;
        self.addresses[slot] = None;
        Ok(())
    }

    pub(crate) fn clear_all<M: Memory>(&mut self, memory: &mut M) -> Result<(), Error> {
        for slot in 0..self.count {
            if self.addresses[slot].take().is_some() {
                memory.write_word(FP_COMP0 + 4 * slot as u32, 0)?;
            }
        }
        Ok(())
    }
}

/// What access a watchpoint catches (GDB Z2, Z3, Z4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchKind {
    Write,
    Read,
    Access,
}

impl WatchKind {
    /// DWT_FUNCTION values for ARMv7-M data address comparison (C1.8.17): FUNCTION [3:0],
    /// the size in DWT_MASK.
    fn function(self) -> u32 {
        match self {
            WatchKind::Read => 5,
            WatchKind::Write => 6,
            WatchKind::Access => 7,
        }
    }

    /// ARMv8-M DWT_FUNCTION (ARMv8-M ARM D1.2 DWT_FUNCTIONn): MATCH [3:0] data address
    /// 0b0100 read or write, 0b0101 write, 0b0110 read; ACTION [5:4] 0b01 a debug event;
    /// DATAVSIZE [11:10] log2 of the watched size (1, 2 or 4 bytes at an aligned COMP).
    fn armv8m_function(self, length: u32) -> u32 {
        let match_kind = match self {
            WatchKind::Access => DWT_V8_MATCH_ACCESS,
            WatchKind::Write => DWT_V8_MATCH_WRITE,
            WatchKind::Read => DWT_V8_MATCH_READ,
        };
        match_kind | DWT_V8_ACTION_DEBUG_EVENT | length.trailing_zeros() << DWT_V8_DATAVSIZE_SHIFT
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Watch {
    kind: WatchKind,
    address: u32,
    length: u32,
    /// An ARMv8-M address range: the next comparator holds its limit.
    ranged: bool,
}

/// The DWT's comparators, used as data watchpoints. ARMv7-M (C1.8) and ARMv6-M (C1.7,
/// DDI 0419C) share one layout: COMPn, MASKn, FUNCTIONn 5/6/7 for read/write/access.
pub struct Watchpoints {
    count: usize,
    /// The ARMv8-M DWT (DEVARCH ARCHID 0x1A02): MATCH/ACTION/DATAVSIZE, no DWT_MASK.
    armv8m: bool,
    /// The largest block one comparator watches, in bytes (0 without comparators).
    largest: u32,
    /// ARMv8-M: the comparators whose FUNCTION.ID says they can hold a data address
    /// limit (bit n for comparator n; the Cortex-M33's 1 and 3).
    limit_capable: u8,
    watches: [Option<Watch>; MAX_WATCHPOINTS],
    /// Comparators holding the limit of the range the one before them watches.
    limits: u8,
}

/// DWT_MASKn.MASK is [4:0]; how much of it the core implements is IMPLEMENTATION DEFINED:
/// write all ones and read back the largest (ARMv7-M C1.8.16).
const DWT_MASK_ALL: u32 = 0x1F;

/// The largest mask comparator 0 takes, as a length in bytes; MASK0 is left clear.
fn largest_mask<M: Memory>(memory: &mut M) -> Result<u32, Error> {
    let mask = DWT_COMP0 + DWT_MASK_OFFSET;
    memory.write_word(mask, DWT_MASK_ALL)?;
    let bits = memory.read_word(mask)? & DWT_MASK_ALL;
    memory.write_word(mask, 0)?;
    Ok(1 << bits.min(31))
}

fn comparator(slot: usize) -> u32 {
    DWT_COMP0 + DWT_STRIDE * slot as u32
}

fn function(slot: usize) -> u32 {
    comparator(slot) + DWT_FUNCTION_OFFSET
}

/// ARMv8-M: which comparators can be a range's limit (FUNCTION.ID, D1.2 DWT_FUNCTIONn).
fn limit_capable<M: Memory>(memory: &mut M, count: usize) -> Result<u8, Error> {
    let mut capable = 0;
    for slot in 0..count {
        let id = memory.read_word(function(slot))? >> DWT_V8_ID_SHIFT;
        if id & DWT_V8_ID_DATA_ADDRESS_LIMIT != 0 {
            capable |= 1 << slot;
        }
    }
    Ok(capable)
}

impl Watchpoints {
    /// DWT_CTRL.NUMCOMP in [31:28] (C1.8.7); on an ARMv8-M core (`armv8m`: CPUID says so),
    /// DWT_DEVARCH tells the ARMv8-M DWT (ARCHID 0x1A02, ARCHVER 1) from an older one.
    pub(crate) fn probe<M: Memory>(memory: &mut M, armv8m: bool) -> Result<Self, Error> {
        let count = usize::from(memory.load::<DwtCtrl>()?.numcomp());
        let armv8m = armv8m && {
            let architecture: DwtDevarch = memory.load()?;
            architecture.present() && architecture.archid() == DwtDevarch::ARMV8M_DWT
        };
        let count = count.min(MAX_WATCHPOINTS);
        let largest = match (count, armv8m) {
            (0, _) => 0,
            (_, true) => DWT_V8_LARGEST,
            (_, false) => largest_mask(memory)?,
        };
        let limit_capable = if armv8m {
            limit_capable(memory, count)?
        } else {
            0
        };
        Ok(Self {
            count,
            armv8m,
            largest,
            limit_capable,
            watches: [None; MAX_WATCHPOINTS],
            limits: 0,
        })
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// The watchpoints set: kind, address, length (to arm them again on a core that lost
    /// them).
    pub fn armed(&self) -> impl Iterator<Item = (WatchKind, u32, u32)> + '_ {
        self.watches[..self.count]
            .iter()
            .flatten()
            .map(|watch| (watch.kind, watch.address, watch.length))
    }

    /// The largest length one comparator covers, in bytes.
    pub fn largest(&self) -> u32 {
        self.largest
    }

    /// The DWT is the ARMv8-M one.
    pub fn is_armv8m(&self) -> bool {
        self.armv8m
    }

    /// ARMv8-M with a comparator able to hold a limit: any range fits a pair.
    pub fn has_ranges(&self) -> bool {
        self.limit_capable != 0
    }

    fn free(&self, slot: usize) -> bool {
        self.watches[slot].is_none() && self.limits & (1 << slot) == 0
    }

    /// Watch `length` bytes at `address`. One comparator takes a power of two with the
    /// address aligned to it (DWT_MASK ignores the low MASK bits of the address, C1.8.16;
    /// on the ARMv8-M DWT 1, 2 or 4 bytes by DATAVSIZE). Anything else, on an ARMv8-M DWT
    /// whose comparators can hold a limit, takes a pair (ARMv8-M ARM B13.1 "Data Address
    /// Range"): comparator n with the first address and DATAVSIZE 0, n + 1 with MATCH
    /// 0b0111 and the last address (inclusive).
    pub fn set<M: Memory>(
        &mut self,
        memory: &mut M,
        kind: WatchKind,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        let single =
            length.is_power_of_two() && address.is_multiple_of(length) && length <= self.largest;
        let last = address.checked_add(length.wrapping_sub(1));
        if !single && (!self.has_ranges() || length == 0 || last.is_none()) {
            return Err(Error::WatchRange {
                address,
                length,
                largest: self.largest,
            });
        }
        let watch = Watch {
            kind,
            address,
            length,
            ranged: !single,
        };
        if self.watches[..self.count].contains(&Some(watch)) {
            return Ok(());
        }
        if single {
            let slot = (0..self.count)
                .find(|&slot| self.free(slot))
                .ok_or(Error::NoFreeWatchpoint { count: self.count })?;
            memory.write_word(comparator(slot), address)?;
            if self.armv8m {
                memory.write_word(function(slot), kind.armv8m_function(length))?;
            } else {
                memory.write_word(comparator(slot) + DWT_MASK_OFFSET, length.trailing_zeros())?;
                memory.write_word(function(slot), kind.function())?;
            }
            self.watches[slot] = Some(watch);
            return Ok(());
        }
        let slot = (0..self.count.saturating_sub(1))
            .find(|&slot| {
                self.limit_capable & (1 << (slot + 1)) != 0
                    && self.free(slot)
                    && self.free(slot + 1)
            })
            .ok_or(Error::NoFreeWatchpointPair { length })?;
        // The limit first, so the range is whole when its first comparator starts matching.
        memory.write_word(comparator(slot + 1), last.unwrap_or(address))?;
        memory.write_word(function(slot + 1), DWT_V8_MATCH_LIMIT)?;
        memory.write_word(comparator(slot), address)?;
        memory.write_word(function(slot), kind.armv8m_function(1))?;
        self.watches[slot] = Some(watch);
        self.limits |= 1 << (slot + 1);
        Ok(())
    }

    /// Turn off comparator `slot` and, for a range, its limit.
    fn release<M: Memory>(&mut self, memory: &mut M, slot: usize) -> Result<(), Error> {
        let Some(watch) = self.watches[slot].take() else {
            return Ok(());
        };
        memory.write_word(function(slot), 0)?;
        if watch.ranged {
            memory.write_word(function(slot + 1), 0)?;
            self.limits &= !(1 << (slot + 1));
        }
        Ok(())
    }

    pub fn clear<M: Memory>(
        &mut self,
        memory: &mut M,
        kind: WatchKind,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        let slot = self.watches[..self.count]
            .iter()
            .position(|w| {
                w.is_some_and(|w| w.kind == kind && w.address == address && w.length == length)
            })
            .ok_or(Error::NotSet)?;
        self.release(memory, slot)
    }

    pub(crate) fn clear_all<M: Memory>(&mut self, memory: &mut M) -> Result<(), Error> {
        for slot in 0..self.count {
            self.release(memory, slot)?;
        }
        Ok(())
    }

    /// The watchpoint whose FUNCTION.MATCHED is set (reading clears it, C1.8.17); for a
    /// range, on either comparator of the pair.
    pub(crate) fn matched<M: Memory>(
        &mut self,
        memory: &mut M,
    ) -> Result<Option<(WatchKind, u32)>, Error> {
        for slot in 0..self.count {
            let Some(watch) = self.watches[slot] else {
                continue;
            };
            let mut value = memory.read_word(function(slot))?;
            if watch.ranged {
                value |= memory.read_word(function(slot + 1))?;
            }
            if value & DWT_FUNCTION_MATCHED != 0 {
                return Ok(Some((watch.kind, watch.address)));
            }
        }
        Ok(None)
    }
}
