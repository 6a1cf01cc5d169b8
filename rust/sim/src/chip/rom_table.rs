//! The ROM table and the CoreSight identification registers of the debug components.
//!
//! Every component occupies a 4 KB block whose last 48 bytes hold its identification:
//! PIDR4..PIDR7 at 0xFD0..0xFDC, PIDR0..PIDR3 at 0xFE0..0xFEC, CIDR0..CIDR3 at 0xFF0..0xFFC,
//! one byte per word (ADIv5.2 D1.2, "Component and Peripheral Identification Registers").

use crate::soc::{CoreModel, Soc};

pub const ROM_TABLE_BASE: u32 = 0xE00F_F000;
/// The Cortex-M7's processor ROM table, which AP0's BASE names (Cortex-M7 TRM, "ROM
/// table"); it points at the PPB ROM table at ROM_TABLE_BASE.
pub const PROCESSOR_ROM_TABLE_BASE: u32 = 0xE00F_E000;
pub const ITM_BASE: u32 = 0xE000_0000;
pub const DWT_BASE: u32 = 0xE000_1000;
pub const FPB_BASE: u32 = 0xE000_2000;
pub const SCS_BASE: u32 = 0xE000_E000;
pub const TPIU_BASE: u32 = 0xE004_0000;
pub const ETM_BASE: u32 = 0xE004_1000;

/// Where the identification registers start in a component's block.
const ID_REGISTERS: u32 = 0xFD0;
/// ROM table MEMTYPE (ADIv5.2 D3.4.4): bit 0 SYSMEM, a system memory is on this bus.
const MEMTYPE: u32 = 0xFCC;

/// CIDR of a ROM table (class 0x1), a CoreSight component (class 0x9) and a generic IP
/// component such as the Cortex-M3 SCS, DWT, FPB and ITM (class 0xE) (ADIv5.2 D1.2.1).
const CIDR_ROM_TABLE: u32 = 0xB105_100D;
const CIDR_CORESIGHT: u32 = 0xB105_900D;
const CIDR_GENERIC_IP: u32 = 0xB105_E00D;

/// A component's identification: PIDR4 in bits 39:32 down to PIDR0 in bits 7:0, and CIDR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ComponentId {
    pub peripheral_id: u64,
    pub component_id: u32,
}

/// ARM (JEP106 0x3B continuation 4) parts, Cortex-M3 r1p1 TRM table 10-2 / 11-1:
/// SCS 0x000, ITM 0x001, DWT 0x002, FPB 0x003, TPIU 0x923, ETM 0x924.
const SCS_ID: ComponentId = arm_component(0x000, 0x0, CIDR_GENERIC_IP);
const ITM_ID: ComponentId = arm_component(0x001, 0x3, CIDR_GENERIC_IP);
const DWT_ID: ComponentId = arm_component(0x002, 0x3, CIDR_GENERIC_IP);
const FPB_ID: ComponentId = arm_component(0x003, 0x2, CIDR_GENERIC_IP);
const TPIU_ID: ComponentId = arm_component(0x923, 0x0, CIDR_CORESIGHT);
const ETM_ID: ComponentId = arm_component(0x924, 0x2, CIDR_CORESIGHT);
/// Cortex-M4 r0p1 (Cortex-M4 TRM table 9-1 / 11-1): SCS 0x00C, TPIU 0x9A1, ETM 0x925;
/// ITM, DWT and FPB keep the M3's part numbers.
const M4_SCS_ID: ComponentId = arm_component(0x00C, 0x0, CIDR_GENERIC_IP);
const M4_TPIU_ID: ComponentId = arm_component(0x9A1, 0x0, CIDR_CORESIGHT);
const M4_ETM_ID: ComponentId = arm_component(0x925, 0x0, CIDR_CORESIGHT);
/// Cortex-M7 (Cortex-M7 TRM, "Peripheral identification"; OpenOCD arm_adi_v5.c part
/// names): PPB ROM table 0x4C7, FPB-M7 0x00E, ETM-M7 0x975; SCS 0x00C, DWT and ITM as on
/// the M4.
const M7_PPB_ROM_TABLE_ID: ComponentId = arm_component(0x4C7, 0x0, CIDR_ROM_TABLE);
const M7_FPB_ID: ComponentId = arm_component(0x00E, 0x0, CIDR_GENERIC_IP);
const M7_ETM_ID: ComponentId = arm_component(0x975, 0x0, CIDR_CORESIGHT);

/// Cortex-M0+ r0p1 (Cortex-M0+ TRM table 4-1 "Cortex-M0+ ROM table"): ROM table 0x4C0,
/// SCS 0x008, DWT 0x00A, BPU 0x00B. The M0+ has no ITM, TPIU or ETM.
pub const M0PLUS_ROM_TABLE_ID: ComponentId = ComponentId {
    peripheral_id: designer_id(0x4, 0x3B, 0x4C0, 0x0),
    component_id: CIDR_ROM_TABLE,
};
const M0PLUS_SCS_ID: ComponentId = arm_component(0x008, 0x0, CIDR_GENERIC_IP);
const M0PLUS_DWT_ID: ComponentId = arm_component(0x00A, 0x0, CIDR_GENERIC_IP);
const M0PLUS_BPU_ID: ComponentId = arm_component(0x00B, 0x0, CIDR_GENERIC_IP);

/// Cortex-M33 (Cortex-M33 TRM, "Debug" identification registers; OpenOCD, pyOCD and
/// probe-rs name its parts so): every debug component is a CoreSight class 0x9 component
/// of part 0xD21, told apart by DEVARCH.ARCHID (CoreSight architecture B2.3.4): SCS 0x2A04,
/// ITM 0x1A01, DWT 0x1A02, BPU 0x1A03, ETM 0x4A13; the TPIU has no DEVARCH.
const M33_ID: ComponentId = arm_component(0xD21, 0x4, CIDR_CORESIGHT);
/// DEVARCH (0xFBC): ARCHITECT ARM (0x23B) in [31:21], PRESENT [20], ARCHID [15:0].
const DEVARCH: u32 = 0xFBC;
const DEVARCH_ARM_PRESENT: u32 = 0x23B << 21 | 1 << 20;

/// PIDR for an ARM part: designer 0x43B is continuation code 4 (PIDR4[3:0]) and identity
/// 0x3B split over PIDR1[7:4] and PIDR2[2:0], with PIDR2[3] set for "JEP106 used".
const fn arm_component(part: u64, revision: u64, component_id: u32) -> ComponentId {
    ComponentId {
        peripheral_id: designer_id(0x4, 0x3B, part, revision),
        component_id,
    }
}

pub const fn designer_id(continuation: u64, identity: u64, part: u64, revision: u64) -> u64 {
    (continuation << 32)
        | (revision << 20)
        | (1 << 19)
        | ((identity >> 4) << 16)
        | ((identity & 0xF) << 12)
        | part
}

/// The ROM table's own PIDR names the chip, not the core: the SoC says what it is.
pub fn rom_table_id(soc: &dyn Soc) -> ComponentId {
    ComponentId {
        peripheral_id: soc.rom_table_peripheral_id(),
        component_id: CIDR_ROM_TABLE,
    }
}

/// The ARM components of a core: SCS, ITM, DWT, FPB, TPIU, ETM (None where the core has
/// none: the M0+'s ITM, TPIU and ETM; its BPU takes the FPB's place). The M7 has no TPIU
/// of its own (trace leaves through the SoC's); the simulator keeps the M4's at
/// 0xE004_0000 for SWO, unlisted in the M7's ROM tables.
fn core_components(core: CoreModel) -> [Option<ComponentId>; 6] {
    let [scs, itm, dwt, fpb, tpiu, etm] = match core {
        CoreModel::CortexM3 => [SCS_ID, ITM_ID, DWT_ID, FPB_ID, TPIU_ID, ETM_ID],
        CoreModel::CortexM4F => [M4_SCS_ID, ITM_ID, DWT_ID, FPB_ID, M4_TPIU_ID, M4_ETM_ID],
        CoreModel::CortexM7 => [M4_SCS_ID, ITM_ID, DWT_ID, M7_FPB_ID, M4_TPIU_ID, M7_ETM_ID],
        CoreModel::CortexM33 => [M33_ID; 6],
        CoreModel::CortexM0Plus => {
            return [
                Some(M0PLUS_SCS_ID),
                None,
                Some(M0PLUS_DWT_ID),
                Some(M0PLUS_BPU_ID),
                None,
                None,
            ];
        }
    };
    [scs, itm, dwt, fpb, tpiu, etm].map(Some)
}

/// A ROM table: where it is, its identification and the components it lists.
pub struct RomTable {
    pub base: u32,
    pub id: ComponentId,
    pub entries: &'static [u32],
}

/// ROM table entries (ADIv5.2 D3.4.3): the offset of each component from the table,
/// bit 0 "present", bit 1 "32-bit format"; a zero entry ends the table. The Cortex-M3
/// order (Cortex-M3 TRM 11.2 "ROM table"): SCS, DWT, FPB, ITM, TPIU, ETM.
const ENTRIES: [u32; 6] = [SCS_BASE, DWT_BASE, FPB_BASE, ITM_BASE, TPIU_BASE, ETM_BASE];
/// The Cortex-M7 processor ROM table lists the PPB ROM table and the ETM; the PPB ROM
/// table lists SCS, DWT, FPB and ITM (Cortex-M7 TRM, "ROM table").
const M7_PROCESSOR_ENTRIES: [u32; 2] = [ROM_TABLE_BASE, ETM_BASE];
const M7_PPB_ENTRIES: [u32; 4] = [SCS_BASE, DWT_BASE, FPB_BASE, ITM_BASE];
/// The Cortex-M0+ ROM table lists SCS, DWT and BPU (Cortex-M0+ TRM table 4-1).
const M0PLUS_ENTRIES: [u32; 3] = [SCS_BASE, DWT_BASE, FPB_BASE];

/// The ROM tables of a chip; the first is the one AP0's BASE names, whose
/// identification is the SoC's.
pub fn rom_tables(soc: &dyn Soc) -> Vec<RomTable> {
    match soc.core() {
        CoreModel::CortexM7 => vec![
            RomTable {
                base: PROCESSOR_ROM_TABLE_BASE,
                id: rom_table_id(soc),
                entries: &M7_PROCESSOR_ENTRIES,
            },
            RomTable {
                base: ROM_TABLE_BASE,
                id: M7_PPB_ROM_TABLE_ID,
                entries: &M7_PPB_ENTRIES,
            },
        ],
        CoreModel::CortexM0Plus => vec![RomTable {
            base: ROM_TABLE_BASE,
            id: rom_table_id(soc),
            entries: &M0PLUS_ENTRIES,
        }],
        _ => vec![RomTable {
            base: ROM_TABLE_BASE,
            id: rom_table_id(soc),
            entries: &ENTRIES,
        }],
    }
}

/// The ROM table whose block holds `address`.
pub fn rom_table_at(soc: &dyn Soc, address: u32) -> Option<RomTable> {
    rom_tables(soc)
        .into_iter()
        .find(|table| table.base == address & !0xFFF)
}

/// The identification registers of the debug component whose block holds `address`.
pub fn component_id(soc: &dyn Soc, address: u32) -> Option<ComponentId> {
    if let Some(table) = rom_table_at(soc, address) {
        return Some(table.id);
    }
    let [scs, itm, dwt, fpb, tpiu, etm] = core_components(soc.core());
    match address & !0xFFF {
        SCS_BASE => scs,
        ITM_BASE => itm,
        DWT_BASE => dwt,
        FPB_BASE => fpb,
        TPIU_BASE => tpiu,
        ETM_BASE => etm,
        _ => None,
    }
}

/// DEVARCH of the component whose block holds `address` (ARMv8-M's CoreSight components),
/// if `offset` is DEVARCH's.
pub fn device_architecture(core: CoreModel, address: u32, offset: u32) -> Option<u32> {
    if core != CoreModel::CortexM33 || offset != DEVARCH {
        return None;
    }
    let architecture = match address & !0xFFF {
        SCS_BASE => 0x2A04,
        ITM_BASE => 0x1A01,
        DWT_BASE => 0x1A02,
        FPB_BASE => 0x1A03,
        ETM_BASE => 0x4A13,
        _ => return Some(0),
    };
    Some(DEVARCH_ARM_PRESENT | architecture)
}

/// Read an identification register (offset 0xFD0..=0xFFC in the block), or None.
pub fn read_id_register(id: ComponentId, offset: u32) -> Option<u32> {
    if !(ID_REGISTERS..0x1000).contains(&offset) || !offset.is_multiple_of(4) {
        return None;
    }
    let index = (offset - ID_REGISTERS) / 4;
    let byte = match index {
        // PIDR4..PIDR7
        0..=3 => (id.peripheral_id >> (32 + 8 * index)) as u32,
        // PIDR0..PIDR3
        4..=7 => (id.peripheral_id >> (8 * (index - 4))) as u32,
        // CIDR0..CIDR3
        _ => id.component_id >> (8 * (index - 8)),
    };
    Some(byte & 0xFF)
}

/// A word of a ROM table's block (offset 0..0x1000).
pub fn read_rom_table(table: &RomTable, offset: u32) -> u32 {
    if let Some(value) = read_id_register(table.id, offset) {
        return value;
    }
    if offset == MEMTYPE {
        return 1;
    }
    let index = (offset / 4) as usize;
    match table.entries.get(index) {
        Some(base) if offset.is_multiple_of(4) => base.wrapping_sub(table.base) | 0b11,
        _ => 0,
    }
}
