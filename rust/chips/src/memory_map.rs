//! Memory maps: regions, and GDB's memory-map XML (GDB manual E.15 "Memory Map Format").

use core::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    Ram,
    /// Read-only memory (a boot ROM): readable, breakpoints through the FPB only.
    Rom,
    Flash(Flash),
}

/// How a flash region is erased and written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flash {
    /// The erase unit (page or sector), the same all through the region.
    pub block_size: u32,
    /// The smallest unit the controller programs, in bytes (a power of two); a unit that
    /// holds only the erased value need not be programmed.
    pub write_unit: u32,
    /// The value of every byte after an erase.
    pub erased: u8,
    /// The family's number for the controller or bank that drives this region.
    pub bank: u8,
}

impl Flash {
    /// Erased bytes read 0xFF: the common case.
    pub const fn new(block_size: u32, write_unit: u32) -> Self {
        Self {
            block_size,
            write_unit,
            erased: 0xFF,
            bank: 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub kind: RegionKind,
    pub start: u32,
    pub length: u32,
}

impl Region {
    pub const fn ram(start: u32, length: u32) -> Self {
        Self {
            kind: RegionKind::Ram,
            start,
            length,
        }
    }

    pub const fn rom(start: u32, length: u32) -> Self {
        Self {
            kind: RegionKind::Rom,
            start,
            length,
        }
    }

    pub const fn flash(start: u32, length: u32, flash: Flash) -> Self {
        Self {
            kind: RegionKind::Flash(flash),
            start,
            length,
        }
    }

    /// How it is erased and written, if it is flash.
    pub fn as_flash(&self) -> Option<Flash> {
        match self.kind {
            RegionKind::Flash(flash) => Some(flash),
            RegionKind::Ram | RegionKind::Rom => None,
        }
    }

    /// One past the last byte, as a u64 (a region may end at 4 GiB).
    pub fn end(&self) -> u64 {
        u64::from(self.start) + u64::from(self.length)
    }

    pub fn contains(&self, address: u32) -> bool {
        address >= self.start && address - self.start < self.length
    }
}

/// Enough for the families of issue 11 (an STM32H743 has two flash banks and seven RAMs).
pub const MAX_REGIONS: usize = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryMap {
    regions: [Option<Region>; MAX_REGIONS],
    /// A region did not fit: the map is incomplete and is not handed out as XML.
    overflowed: bool,
}

impl Default for MemoryMap {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryMap {
    pub const fn new() -> Self {
        Self {
            regions: [None; MAX_REGIONS],
            overflowed: false,
        }
    }

    /// Add a region. Past [`MAX_REGIONS`] the map is marked incomplete: `write_xml` then
    /// fails rather than describe the chip without it.
    pub fn with(mut self, region: Region) -> Self {
        match self.regions.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(region),
            None => self.overflowed = true,
        }
        self
    }

    pub fn is_complete(&self) -> bool {
        !self.overflowed
    }

    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.iter().flatten()
    }

    pub fn flash_at(&self, address: u32) -> Option<&Region> {
        self.regions()
            .find(|region| region.as_flash().is_some() && region.contains(address))
    }

    /// The memory map as GDB reads it with qXfer:memory-map:read.
    pub fn write_xml(&self, out: &mut impl Write) -> core::fmt::Result {
        if self.overflowed {
            return Err(core::fmt::Error);
        }
        out.write_str("<?xml version=\"1.0\"?>\n<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\" \"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n<memory-map>\n")?;
        for region in self.regions() {
            match region.kind {
                RegionKind::Ram => writeln!(
                    out,
                    "  <memory type=\"ram\" start=\"0x{:08x}\" length=\"0x{:x}\"/>",
                    region.start, region.length
                )?,
                RegionKind::Rom => writeln!(
                    out,
                    "  <memory type=\"rom\" start=\"0x{:08x}\" length=\"0x{:x}\"/>",
                    region.start, region.length
                )?,
                RegionKind::Flash(flash) => writeln!(
                    out,
                    "  <memory type=\"flash\" start=\"0x{:08x}\" length=\"0x{:x}\">\n    <property name=\"blocksize\">0x{:x}</property>\n  </memory>",
                    region.start, region.length, flash.block_size
                )?,
            }
        }
        out.write_str("</memory-map>\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ram(start: u32) -> Region {
        Region {
            kind: RegionKind::Ram,
            start,
            length: 0x1000,
        }
    }

    /// More than four regions are kept (the map used to drop the fifth silently).
    #[test]
    fn keeps_every_region_up_to_the_maximum() {
        let map = (0..MAX_REGIONS as u32).fold(MemoryMap::new(), |map, index| {
            map.with(ram(0x2000_0000 + 0x1_0000 * index))
        });
        assert_eq!(map.regions().count(), MAX_REGIONS);
        let mut xml = String::new();
        map.write_xml(&mut xml).unwrap();
        assert_eq!(xml.matches("<memory type=\"ram\"").count(), MAX_REGIONS);
        assert!(xml.contains("start=\"0x200b0000\""));
    }

    #[test]
    fn an_overflowing_map_is_refused_not_truncated() {
        let map = (0..=MAX_REGIONS as u32)
            .fold(MemoryMap::new(), |map, index| map.with(ram(0x1000 * index)));
        assert!(!map.is_complete());
        let mut xml = String::new();
        assert!(map.write_xml(&mut xml).is_err());
    }
}
