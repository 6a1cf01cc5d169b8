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
}

/// The DWT's comparators, used as data watchpoints. ARMv7-M (C1.8) and ARMv6-M (C1.7,
/// DDI 0419C) share one layout: COMPn, MASKn, FUNCTIONn 5/6/7 for read/write/access.
pub struct Watchpoints {
    count: usize,
    /// The ARMv8-M DWT (DEVARCH ARCHID 0x1A02): MATCH/ACTION/DATAVSIZE, no DWT_MASK.
    armv8m: bool,
    /// The largest block one comparator watches, in bytes (0 without comparators).
    largest: u32,
    watches: [Option<Watch>; MAX_WATCHPOINTS],
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
        Ok(Self {
            count,
            armv8m,
            largest,
            watches: [None; MAX_WATCHPOINTS],
        })
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// The largest length one watchpoint covers, in bytes.
    pub fn largest(&self) -> u32 {
        self.largest
    }

    /// The DWT is the ARMv8-M one.
    pub fn is_armv8m(&self) -> bool {
        self.armv8m
    }

    /// Watch `length` bytes at `address`: a power of two, the address aligned to it
    /// (DWT_MASK ignores the low MASK bits of the address, C1.8.16); on the ARMv8-M DWT
    /// 1, 2 or 4 bytes (DATAVSIZE; larger ranges need a pair of linked comparators,
    /// which is not done here).
    pub fn set<M: Memory>(
        &mut self,
        memory: &mut M,
        kind: WatchKind,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        if !length.is_power_of_two() || !address.is_multiple_of(length) || length > self.largest {
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
        };
        if self.watches[..self.count].contains(&Some(watch)) {
            return Ok(());
        }
        let slot = self.watches[..self.count]
            .iter()
            .position(Option::is_none)
            .ok_or(Error::NoFreeWatchpoint { count: self.count })?;
        let base = DWT_COMP0 + DWT_STRIDE * slot as u32;
        memory.write_word(base, address)?;
        if self.armv8m {
            memory.write_word(base + DWT_FUNCTION_OFFSET, kind.armv8m_function(length))?;
        } else {
            memory.write_word(base + DWT_MASK_OFFSET, length.trailing_zeros())?;
            memory.write_word(base + DWT_FUNCTION_OFFSET, kind.function())?;
        }
        self.watches[slot] = Some(watch);
        Ok(())
    }

    pub fn clear<M: Memory>(
        &mut self,
        memory: &mut M,
        kind: WatchKind,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        let watch = Some(Watch {
            kind,
            address,
            length,
        });
        let slot = self.watches[..self.count]
            .iter()
            .position(|&w| w == watch)
            .ok_or(Error::NotSet)?;
        memory.write_word(
            DWT_COMP0 + DWT_STRIDE * slot as u32 + DWT_FUNCTION_OFFSET,
            0,
        )?;
        self.watches[slot] = None;
        Ok(())
    }

    pub(crate) fn clear_all<M: Memory>(&mut self, memory: &mut M) -> Result<(), Error> {
        for slot in 0..self.count {
            if self.watches[slot].take().is_some() {
                memory.write_word(
                    DWT_COMP0 + DWT_STRIDE * slot as u32 + DWT_FUNCTION_OFFSET,
                    0,
                )?;
            }
        }
        Ok(())
    }

    /// The watchpoint whose FUNCTION.MATCHED is set (reading clears it, C1.8.17).
    pub(crate) fn matched<M: Memory>(
        &mut self,
        memory: &mut M,
    ) -> Result<Option<(WatchKind, u32)>, Error> {
        for slot in 0..self.count {
            let Some(watch) = self.watches[slot] else {
                continue;
            };
            let function =
                memory.read_word(DWT_COMP0 + DWT_STRIDE * slot as u32 + DWT_FUNCTION_OFFSET)?;
            if function & DWT_FUNCTION_MATCHED != 0 {
                return Ok(Some((watch.kind, watch.address)));
            }
        }
        Ok(None)
    }
}
