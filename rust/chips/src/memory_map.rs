//! Memory maps: regions, and GDB's memory-map XML (GDB manual E.15 "Memory Map Format").

use core::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    Ram,
    /// Flash erased in blocks of `block_size` bytes.
    Flash {
        block_size: u32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub kind: RegionKind,
    pub start: u32,
    pub length: u32,
}

impl Region {
    pub fn contains(&self, address: u32) -> bool {
        address >= self.start && address - self.start < self.length
    }
}

const MAX_REGIONS: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryMap {
    regions: [Option<Region>; MAX_REGIONS],
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
        }
    }

    pub fn with(mut self, region: Region) -> Self {
        if let Some(slot) = self.regions.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(region);
        }
        self
    }

    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.iter().flatten()
    }

    pub fn flash_at(&self, address: u32) -> Option<&Region> {
        self.regions().find(|region| {
            matches!(region.kind, RegionKind::Flash { .. }) && region.contains(address)
        })
    }

    /// The memory map as GDB reads it with qXfer:memory-map:read.
    pub fn write_xml(&self, out: &mut impl Write) -> core::fmt::Result {
        out.write_str("<?xml version=\"1.0\"?>\n<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\" \"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n<memory-map>\n")?;
        for region in self.regions() {
            match region.kind {
                RegionKind::Ram => writeln!(
                    out,
                    "  <memory type=\"ram\" start=\"0x{:08x}\" length=\"0x{:x}\"/>",
                    region.start, region.length
                )?,
                RegionKind::Flash { block_size } => writeln!(
                    out,
                    "  <memory type=\"flash\" start=\"0x{:08x}\" length=\"0x{:x}\">\n    <property name=\"blocksize\">0x{:x}</property>\n  </memory>",
                    region.start, region.length, block_size
                )?,
            }
        }
        out.write_str("</memory-map>\n")
    }
}
