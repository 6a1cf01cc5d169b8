//! Flash Patch and Breakpoint unit, version 1 (ARMv7-M C1.11, Cortex-M3 TRM 8.4).
//!
//! Six instruction comparators and two literal comparators. An enabled instruction
//! comparator whose REPLACE field is not 0b00 is a breakpoint on the lower (0b01), upper
//! (0b10) or both (0b11) half-words of the word COMP names. Remapping (REPLACE 0b00 and
//! the literal comparators) is stored but not applied. With C_DEBUGEN clear a match is
//! ignored (a real core would escalate it to HardFault, which is not modelled).

/// Register offsets in the FPB block (ARMv7-M C1.11.3 .. C1.11.5).
pub const FP_CTRL: u32 = 0x000;
pub const FP_REMAP: u32 = 0x004;
pub const FP_COMP0: u32 = 0x008;

pub const CODE_COMPARATORS: usize = 6;
pub const LITERAL_COMPARATORS: usize = 2;
const COMPARATORS: usize = CODE_COMPARATORS + LITERAL_COMPARATORS;

/// FP_CTRL (ARMv7-M C1.11.3): ENABLE, KEY (a write without it is ignored), NUM_CODE
/// [7:4] and [14:12], NUM_LIT [11:8], REV [31:28] = 0 for version 1.
const CTRL_ENABLE: u32 = 1 << 0;
const CTRL_KEY: u32 = 1 << 1;
const CTRL_LAYOUT: u32 = ((CODE_COMPARATORS as u32 & 0xF) << 4)
    | ((CODE_COMPARATORS as u32 >> 4) << 12)
    | ((LITERAL_COMPARATORS as u32) << 8);

/// FP_COMPn (ARMv7-M C1.11.5): ENABLE, COMP [28:2], REPLACE [31:30].
const COMP_ENABLE: u32 = 1 << 0;
const COMP_ADDRESS: u32 = 0x1FFF_FFFC;
const COMP_STORED: u32 = 0xDFFF_FFFD;
/// FP_REMAP REMAP field [28:5].
const REMAP_STORED: u32 = 0x1FFF_FFE0;

#[derive(Clone, Debug, Default)]
pub struct Fpb {
    enabled: bool,
    remap: u32,
    comparators: [u32; COMPARATORS],
}

impl Fpb {
    pub fn read(&self, offset: u32) -> Option<u32> {
        match offset {
            FP_CTRL => Some(CTRL_LAYOUT | u32::from(self.enabled)),
            FP_REMAP => Some(self.remap),
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
            FP_REMAP => self.remap = value & REMAP_STORED,
            _ => match self.comparator_index(offset) {
                Some(index) => self.comparators[index] = value & COMP_STORED,
                None => return false,
            },
        }
        true
    }

    fn comparator_index(&self, offset: u32) -> Option<usize> {
        let index = (offset.checked_sub(FP_COMP0)? / 4) as usize;
        (offset.is_multiple_of(4) && index < COMPARATORS).then_some(index)
    }

    /// Does an instruction fetch at `address` hit an enabled breakpoint?
    pub fn breaks_at(&self, address: u32) -> bool {
        self.enabled
            && self.comparators[..CODE_COMPARATORS]
                .iter()
                .any(|&comparator| breaks(comparator, address))
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
