//! ROM table walk (ADIv5.2 D3.4): find the CoreSight components behind a MEM-AP.

use crate::error::Error;
use crate::memory_ap::Memory;

/// What a component is, by its peripheral ID (ARM part numbers of the Cortex-M3/M4 TRMs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComponentKind {
    RomTable,
    SystemControlSpace,
    DataWatchpointTrace,
    FlashPatchBreakpoint,
    InstrumentationTrace,
    TracePortInterface,
    EmbeddedTrace,
    Other,
}

/// One component: its base address, class (CIDR1[7:4]) and identity (PIDR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Component {
    pub address: u32,
    pub class: u8,
    /// PIDR part number, bits [11:0].
    pub part: u16,
    /// JEP106 designer code (continuation << 8 | identity): 0x43B is ARM.
    pub designer: u16,
    pub kind: ComponentKind,
}

/// Up to this many components are kept; enough for a Cortex-M system.
pub const MAX_COMPONENTS: usize = 16;
const MAX_DEPTH: usize = 3;
/// Entries per table (ADIv5.2 D3.4.2: a class 0x1 table ends at offset 0xEFC).
const MAX_ENTRIES: u32 = 960;

pub struct RomTable {
    components: heapless::Vec<Component, MAX_COMPONENTS>,
}

impl RomTable {
    /// Walk the table at `base` and any tables it points to.
    pub fn walk<M: Memory>(memory: &mut M, base: u32) -> Result<Self, Error> {
        let mut table = Self {
            components: heapless::Vec::new(),
        };
        table.walk_table(memory, base, 0)?;
        Ok(table)
    }

    pub fn components(&self) -> impl Iterator<Item = &Component> {
        self.components.iter()
    }

    pub fn find(&self, kind: ComponentKind) -> Option<&Component> {
        self.components().find(|component| component.kind == kind)
    }

    fn walk_table<M: Memory>(
        &mut self,
        memory: &mut M,
        base: u32,
        depth: usize,
    ) -> Result<(), Error> {
        let table = identify(memory, base)?;
        self.push(table);
        if table.kind != ComponentKind::RomTable || depth >= MAX_DEPTH {
            return Ok(());
        }
        for index in 0..MAX_ENTRIES {
            let entry = memory.read_word(base + 4 * index)?;
            if entry == 0 {
                break; // end marker
            }
            if entry & 1 == 0 {
                continue; // not present
            }
            let address = base.wrapping_add(entry & 0xFFFF_F000);
            self.walk_table(memory, address, depth + 1)?;
        }
        Ok(())
    }

    /// Keep `component`; past [`MAX_COMPONENTS`] the rest are dropped.
    fn push(&mut self, component: Component) {
        let _ = self.components.push(component);
    }
}

/// Read CIDR and PIDR at the top of a component's 4 KB block (ADIv5.2 D3.3).
fn identify<M: Memory>(memory: &mut M, address: u32) -> Result<Component, Error> {
    let mut ids = [0u32; 12];
    memory.read_words(address + 0xFD0, &mut ids)?;
    // 0xFD0 PIDR4 .. 0xFDC PIDR7, 0xFE0 PIDR0 .. 0xFEC PIDR3, 0xFF0 CIDR0 .. 0xFFC CIDR3
    let byte = |index: usize| (ids[index] & 0xFF) as u16;
    let class = ((ids[9] >> 4) & 0xF) as u8;
    let part = byte(4) | ((byte(5) & 0xF) << 8);
    let identity = ((byte(5) >> 4) & 0xF) | ((byte(6) & 0x7) << 4);
    let continuation = byte(0) & 0xF;
    let designer = (continuation << 8) | identity;
    let kind = match class {
        CORESIGHT_CLASS => architecture_kind(memory.read_word(address + DEVARCH)?),
        _ => kind_of(class, designer, part),
    };
    Ok(Component {
        address,
        class,
        part,
        designer,
        kind,
    })
}

const ARM: u16 = 0x43B;
/// A CoreSight component (CIDR1.CLASS 0x9) says what it is in DEVARCH (CoreSight
/// architecture B2.3.4: ARCHITECT [31:21], PRESENT [20], ARCHID [15:0]); ARMv8-M's debug
/// components (e.g. every Cortex-M33 one is part 0xD21) are told apart only so.
const CORESIGHT_CLASS: u8 = 0x9;
const DEVARCH: u32 = 0xFBC;
const DEVARCH_ARM_PRESENT: u32 = 0x23B << 21 | 1 << 20;
const DEVARCH_ARCHITECT_PRESENT: u32 = 0xFFF0_0000;

/// ARM's architecture IDs (ARMv8-M D1.2 and the CoreSight architecture): SCS 0x2A04 (ARMv8-M
/// system control), ITM 0x1A01, DWT 0x1A02, FPB/BPU 0x1A03, ETM 0x4A13.
fn architecture_kind(devarch: u32) -> ComponentKind {
    if devarch & DEVARCH_ARCHITECT_PRESENT != DEVARCH_ARM_PRESENT {
        return ComponentKind::Other;
    }
    match devarch & 0xFFFF {
        0x2A04 => ComponentKind::SystemControlSpace,
        0x1A01 => ComponentKind::InstrumentationTrace,
        0x1A02 => ComponentKind::DataWatchpointTrace,
        0x1A03 => ComponentKind::FlashPatchBreakpoint,
        0x4A13 => ComponentKind::EmbeddedTrace,
        _ => ComponentKind::Other,
    }
}

fn kind_of(class: u8, designer: u16, part: u16) -> ComponentKind {
    if class == 0x1 {
        return ComponentKind::RomTable;
    }
    if designer != ARM {
        return ComponentKind::Other;
    }
    // ARM part numbers: SCS 0x000 (M3), 0x008 (M0/M0+), 0x00C (M4/M7); ITM 0x001; DWT
    // 0x002, 0x00A (M0/M0+); FPB 0x003, BPU 0x00B (M0/M0+), FPB-M7 0x00E (Cortex-M0+ TRM
    // table 4-1, Cortex-M7 TRM "FPB"; OpenOCD arm_adi_v5.c part names).
    match part {
        0x000 | 0x008 | 0x00C => ComponentKind::SystemControlSpace,
        0x001 => ComponentKind::InstrumentationTrace,
        0x002 | 0x00A => ComponentKind::DataWatchpointTrace,
        0x003 | 0x00B | 0x00E => ComponentKind::FlashPatchBreakpoint,
        0x923 | 0x9A1 => ComponentKind::TracePortInterface,
        0x924 | 0x925 => ComponentKind::EmbeddedTrace,
        _ => ComponentKind::Other,
    }
}

#[cfg(test)]
mod part_tests {
    use super::*;

    #[test]
    fn cortex_m0_plus_and_m7_parts_are_known() {
        let kind = |part| kind_of(0xE, ARM, part);
        assert_eq!(kind(0x008), ComponentKind::SystemControlSpace, "M0+ SCS");
        assert_eq!(kind(0x00A), ComponentKind::DataWatchpointTrace, "M0+ DWT");
        assert_eq!(kind(0x00B), ComponentKind::FlashPatchBreakpoint, "M0+ BPU");
        assert_eq!(kind(0x00E), ComponentKind::FlashPatchBreakpoint, "FPB-M7");
        assert_eq!(kind(0x001), ComponentKind::InstrumentationTrace);
        assert_eq!(
            kind_of(0xE, 0x244, 0x008),
            ComponentKind::Other,
            "not ARM's"
        );
    }

    #[test]
    fn armv8m_components_are_known_by_devarch() {
        let kind = architecture_kind;
        assert_eq!(kind(0x4770_2A04), ComponentKind::SystemControlSpace);
        assert_eq!(kind(0x4770_1A02), ComponentKind::DataWatchpointTrace);
        assert_eq!(kind(0x4770_1A03), ComponentKind::FlashPatchBreakpoint);
        assert_eq!(kind(0x4770_1A01), ComponentKind::InstrumentationTrace);
        assert_eq!(kind(0x4760_2A04), ComponentKind::Other, "PRESENT clear");
        assert_eq!(kind(0x0010_2A04), ComponentKind::Other, "not ARM's");
    }
}
