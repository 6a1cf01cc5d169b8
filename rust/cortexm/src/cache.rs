//! The Cortex-M7's L1 caches around the debugger's accesses. The debugger's AHB-AP
//! traffic enters through the core's AHB slave port, which the L1 caches do not snoop
//! (Cortex-M7 TRM, "AHB slave interface"): with the data cache on (CCR.DC) memory may lack
//! the core's write-back data and the core may hold stale copies of what the debugger
//! writes; with the instruction cache on (CCR.IC) the core may run old code. So, by
//! address (ARMv7-M B2.2.7, the maintenance registers of B4.8.2):
//! - before a read, the lines are cleaned (DCCMVAC): memory gets the core's data;
//! - before a write, cleaned and invalidated (DCCIMVAC): no dirty line can overwrite the
//!   new data later, and the core fetches it from memory;
//! - after a write, the instruction cache is invalidated (ICIALLU): code and breakpoints;
//! - after flash programming, the data cache is invalidated whole by set and way (DCISW)
//!   and the instruction cache too (flash changes under its cached lines).
//!
//! Ranges larger than the data cache are cleaned and invalidated by set and way instead of
//! line by line. Nothing is done while CCR.DC and CCR.IC are both clear (after reset).

use adi::{Memory, register};

register! {
    /// CCR (ARMv7-M B3.2.8): DC 16, IC 17 on a core with caches.
    memory Ccr @ 0xE000_ED14 {
        pub dc, _: 16;
        pub ic, _: 17;
    }
}

register! {
    /// CLIDR (B4.8.3): Ctype1 [2:0], 0b010 data, 0b011 separate, 0b100 unified.
    memory Clidr @ 0xE000_ED78 {
        pub u8, ctype1, _: 2, 0;
    }
}

register! {
    /// CTR (B4.8.4): DminLine [19:16], log2 of the smallest data line in words.
    memory Ctr @ 0xE000_ED7C {
        pub u8, dminline, _: 19, 16;
    }
}

register! {
    /// CCSIDR (B4.8.5) of the cache CSSELR selects: LineSize [2:0] (log2 words - 2),
    /// Associativity [12:3] and NumSets [27:13], each minus one.
    memory Ccsidr @ 0xE000_ED80 {
        pub u8, line_size, _: 2, 0;
        pub u16, associativity, _: 12, 3;
        pub u16, num_sets, _: 27, 13;
    }
}

/// CSSELR (B4.8.6): 0 selects the level 1 data cache.
const CSSELR: u32 = 0xE000_ED84;
/// The maintenance operations (B4.8.2 table B4-3): write-only, an address or a set/way.
pub const ICIALLU: u32 = 0xE000_EF50;
pub const DCISW: u32 = 0xE000_EF60;
pub const DCCMVAC: u32 = 0xE000_EF68;
pub const DCCIMVAC: u32 = 0xE000_EF70;
pub const DCCISW: u32 = 0xE000_EF74;

/// The level 1 data cache's geometry, read once at attach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caches {
    /// Bytes per data cache line (CTR.DminLine).
    line: u32,
    sets: u32,
    ways: u32,
    /// log2 of the line size: where the set number starts in a set/way operand.
    line_shift: u32,
}

impl Caches {
    /// The core's caches, if CLIDR says it has level 1 caches (a Cortex-M7 may be built
    /// without); call only on a core that has CLIDR (ARMv7-M with caches: the M7).
    pub fn probe<M: Memory>(memory: &mut M) -> Result<Option<Self>, adi::Error> {
        let levels: Clidr = memory.load()?;
        if levels.ctype1() == 0 {
            return Ok(None);
        }
        let line = 4u32 << memory.load::<Ctr>()?.dminline();
        memory.write_word(CSSELR, 0)?;
        let geometry: Ccsidr = memory.load()?;
        Ok(Some(Self {
            line,
            sets: u32::from(geometry.num_sets()) + 1,
            ways: u32::from(geometry.associativity()) + 1,
            line_shift: u32::from(geometry.line_size()) + 4,
        }))
    }

    fn enabled<M: Memory>(memory: &mut M) -> Result<Ccr, adi::Error> {
        memory.load()
    }

    /// Every line address of `[address, address + length)`.
    fn lines(&self, address: u32, length: usize) -> impl Iterator<Item = u32> {
        let first = address & !(self.line - 1);
        let end = u64::from(address) + length as u64;
        (u64::from(first)..end)
            .step_by(self.line as usize)
            .map(|line| line as u32)
    }

    /// Whether a range is better done on the whole cache by set and way.
    fn whole(&self, length: usize) -> bool {
        length as u64 > u64::from(self.line * self.sets * self.ways)
    }

    /// A set/way operation on every line of the data cache: set in [line_shift..], way in
    /// the top bits (B4.8.2 "set/way" operand).
    fn every_set_and_way<M: Memory>(
        &self,
        memory: &mut M,
        operation: u32,
    ) -> Result<(), adi::Error> {
        let way_shift = 32 - self.ways.next_power_of_two().trailing_zeros();
        for way in 0..self.ways {
            for set in 0..self.sets {
                let operand = (set << self.line_shift) | way.checked_shl(way_shift).unwrap_or(0);
                memory.write_word(operation, operand)?;
            }
        }
        Ok(())
    }

    fn by_line<M: Memory>(
        &self,
        memory: &mut M,
        operation: u32,
        address: u32,
        length: usize,
    ) -> Result<(), adi::Error> {
        for line in self.lines(address, length) {
            memory.write_word(operation, line)?;
        }
        Ok(())
    }

    /// Before the debugger reads `[address, address + length)`: memory gets the core's data.
    pub fn before_read<M: Memory>(
        &self,
        memory: &mut M,
        address: u32,
        length: usize,
    ) -> Result<(), adi::Error> {
        if !Self::enabled(memory)?.dc() || length == 0 {
            return Ok(());
        }
        if self.whole(length) {
            return self.every_set_and_way(memory, DCCISW);
        }
        self.by_line(memory, DCCMVAC, address, length)
    }

    /// Write `data` at `address` with the caches cleaned and invalidated around it.
    pub fn write<M: Memory>(
        &self,
        memory: &mut M,
        address: u32,
        data: &[u8],
    ) -> Result<(), adi::Error> {
        let control = Self::enabled(memory)?;
        if control.dc() && !data.is_empty() {
            if self.whole(data.len()) {
                self.every_set_and_way(memory, DCCISW)?;
            } else {
                self.by_line(memory, DCCIMVAC, address, data.len())?;
            }
        }
        memory.write_bytes(address, data)?;
        if control.ic() {
            memory.write_word(ICIALLU, 0)?;
        }
        Ok(())
    }

    /// After flash was programmed or erased: neither cache may keep the old contents.
    pub fn after_flash<M: Memory>(&self, memory: &mut M) -> Result<(), adi::Error> {
        let control = Self::enabled(memory)?;
        if control.dc() {
            self.every_set_and_way(memory, DCISW)?;
        }
        if control.ic() {
            memory.write_word(ICIALLU, 0)?;
        }
        Ok(())
    }
}

/// Read memory with the caches (if any) cleaned first.
pub fn read<M: Memory>(
    caches: Option<Caches>,
    memory: &mut M,
    address: u32,
    data: &mut [u8],
) -> Result<(), adi::Error> {
    if let Some(caches) = caches {
        caches.before_read(memory, address, data.len())?;
    }
    memory.read_bytes(address, data)
}

/// Write memory with the caches (if any) cleaned and invalidated around it.
pub fn write<M: Memory>(
    caches: Option<Caches>,
    memory: &mut M,
    address: u32,
    data: &[u8],
) -> Result<(), adi::Error> {
    match caches {
        Some(caches) => caches.write(memory, address, data),
        None => memory.write_bytes(address, data),
    }
}
