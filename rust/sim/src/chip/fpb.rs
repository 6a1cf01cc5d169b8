//! Flash Patch and Breakpoint unit (ARMv7-M C1.11).
//!
//! Version 1 (Cortex-M3/M4, Cortex-M3 TRM 8.4): six instruction comparators and two
//! literal comparators. An enabled instruction comparator whose REPLACE field is not 0b00
//! is a breakpoint on the lower (0b01), upper (0b10) or both (0b11) half-words of the word
//! COMP names, in the code region below 0x2000_0000. Remapping (REPLACE 0b00 and the
//! literal comparators) is stored but not applied.
//!
//! Version 2 (Cortex-M7, FP_CTRL.REV 1; ARMv7-M C1.11.5 "FPB version 2"): eight
//! instruction comparators, no literal ones, no remapping; FP_COMPn holds BE (bit 0) and
//! BPADDR [31:1], a breakpoint on the half-word at BPADDR anywhere in the address space.
//!
//! The Cortex-M0+'s Breakpoint Unit (ARMv6-M C1.8, Cortex-M0+ TRM 4.1) is version 1's
//! registers with four instruction comparators, no literal ones and no FP_REMAP.
//!
//! With C_DEBUGEN clear a match is ignored (a real core would escalate it to HardFault,
//! which is not modelled).

/// Register offsets in the FPB block (ARMv7-M C1.11.3 .. C1.11.5).
pub const FP_CTRL: u32 = 0x000;
pub const FP_REMAP: u32 = 0x004;
pub const FP_COMP0: u32 = 0x008;

pub const CODE_COMPARATORS: usize = 6;
pub const LITERAL_COMPARATORS: usize = 2;
/// The Cortex-M7's FPB (Cortex-M7 TRM 3.x "FPB"): eight breakpoints.
pub const VERSION_2_CODE_COMPARATORS: usize = 8;
/// The Cortex-M0+'s BPU: four breakpoints.
pub const BPU_CODE_COMPARATORS: usize = 4;
const COMPARATORS: usize = 8;

/// FP_CTRL (ARMv7-M C1.11.3): ENABLE, KEY (a write without it is ignored), NUM_CODE
/// [7:4] and [14:12], NUM_LIT [11:8], REV [31:28] = 0 for version 1, 1 for version 2.
const CTRL_ENABLE: u32 = 1 << 0;
const CTRL_KEY: u32 = 1 << 1;
const CTRL_REV_SHIFT: u32 = 28;

const fn control_layout(code: usize, literal: usize, version: u32) -> u32 {
    ((code as u32 & 0xF) << 4)
        | ((code as u32 >> 4) << 12)
        | ((literal as u32) << 8)
        | ((version - 1) << CTRL_REV_SHIFT)
}

/// FP_COMPn (ARMv7-M C1.11.5): ENABLE, COMP [28:2], REPLACE [31:30].
const COMP_ENABLE: u32 = 1 << 0;
const COMP_ADDRESS: u32 = 0x1FFF_FFFC;
const COMP_STORED: u32 = 0xDFFF_FFFD;
/// FP_REMAP REMAP field [28:5].
const REMAP_STORED: u32 = 0x1FFF_FFE0;
/// Version 2 FP_COMPn: BPADDR [31:1] and BE [0].
const VERSION_2_ADDRESS: u32 = 0xFFFF_FFFE;

#[derive(Clone, Debug)]
pub struct Fpb {
    version: u32,
    code_comparators: usize,
    literal_comparators: usize,
    enabled: bool,
    remap: u32,
    comparators: [u32; COMPARATORS],
}

impl Default for Fpb {
    fn default() -> Self {
        Fpb {
            version: 1,
            code_comparators: CODE_COMPARATORS,
            literal_comparators: LITERAL_COMPARATORS,
            enabled: false,
            remap: 0,
            comparators: [0; COMPARATORS],
        }
    }
}

impl Fpb {
    /// The FPB of `core`: version 2 on the Cortex-M7 and the M33's BPU, version 1 otherwise.
    pub fn for_core(core: crate::soc::CoreModel) -> Self {
        match core {
            crate::soc::CoreModel::CortexM7 | crate::soc::CoreModel::CortexM33 => Fpb {
                version: 2,
                code_comparators: VERSION_2_CODE_COMPARATORS,
                literal_comparators: 0,
                ..Fpb::default()
            },
            crate::soc::CoreModel::CortexM0Plus => Fpb {
                code_comparators: BPU_CODE_COMPARATORS,
                literal_comparators: 0,
                ..Fpb::default()
            },
            _ => Fpb::default(),
        }
    }

    pub fn read(&self, offset: u32) -> Option<u32> {
        match offset {
            FP_CTRL => Some(
                control_layout(
                    self.code_comparators,
                    self.literal_comparators,
                    self.version,
                ) | u32::from(self.enabled),
            ),
            FP_REMAP if self.has_remap() => Some(self.remap),
            _ => self
                .comparator_index(offset)
                .map(|index| self.comparators[index]),
        }
    }

    /// A register write; false if `offset` is no FPB register.
    pub fn write(&mut self, offset: u32, value: u32) -> bool {
        match offset {
            FP_CTRL => {
                if value & CTRL_KEY != 0 {
                    self.enabled = value & CTRL_ENABLE != 0;
                }
            }
            FP_REMAP if self.has_remap() => self.remap = value & REMAP_STORED,
            _ => match self.comparator_index(offset) {
                Some(index) if self.version == 2 => self.comparators[index] = value,
                Some(index) => self.comparators[index] = value & COMP_STORED,
                None => return false,
            },
        }
        true
    }

    /// FP_REMAP: version 1 with literal comparators (not the BPU).
    fn has_remap(&self) -> bool {
        self.version == 1 && self.literal_comparators > 0
    }

    fn comparator_index(&self, offset: u32) -> Option<usize> {
        let index = (offset.checked_sub(FP_COMP0)? / 4) as usize;
        let count = self.code_comparators + self.literal_comparators;
        (offset.is_multiple_of(4) && index < count).then_some(index)
    }

    /// Does an instruction fetch at `address` hit an enabled breakpoint?
    pub fn breaks_at(&self, address: u32) -> bool {
        let comparators = &self.comparators[..self.code_comparators];
        self.enabled
            && match self.version {
                2 => comparators.iter().any(|&comparator| {
                    comparator & COMP_ENABLE != 0
                        && comparator & VERSION_2_ADDRESS == address & VERSION_2_ADDRESS
                }),
                _ => comparators
                    .iter()
                    .any(|&comparator| breaks(comparator, address)),
            }
    }
}

fn breaks(comparator: u32, address: u32) -> bool {
    if comparator & COMP_ENABLE == 0 || address >= 0x2000_0000 {
        return false;
    }
    if address & COMP_ADDRESS != comparator & COMP_ADDRESS {
        return false;
    }
    let upper = address & 2 != 0;
    match comparator >> 30 {
        0b01 => !upper,
        0b10 => upper,
        0b11 => true,
        _ => false,
    }
}
