//! Debug and system registers of an ARMv7-M / ARMv6-M core (ARMv7-M ARM C1, B3.2), each a
//! typed bitfield tied to its address (`adi::register!`); arrays of comparators and
//! registers without fields we use are plain addresses.

use adi::register;

register! {
    /// CPUID (B3.2.3).
    memory Cpuid @ 0xE000_ED00 {
        pub u16, partno, _: 15, 4;
    }
}

register! {
    /// MVFR0 (B4.6.2): the FPU's features; reads as zero without an FPU. SIMD_registers 1
    /// means 16 double-word registers, Single_precision and Double_precision 2 their
    /// instructions.
    memory Mvfr0 @ 0xE000_EF40 {
        pub u8, simd_registers, _: 3, 0;
        pub u8, single_precision, _: 7, 4;
        pub u8, double_precision, _: 11, 8;
    }
}

register! {
    /// ID_PFR1 (ARMv8-M ARM D1.2): Security [7:4], non-zero with the Security Extension
    /// (the Cortex-M33's reads 0x210; an ARMv7-M core's 0x200).
    memory IdPfr1 @ 0xE000_ED44 {
        pub u8, security, _: 7, 4;
    }
}

register! {
    /// AIRCR (B3.2.6): writes need VECTKEY in [31:16].
    memory Aircr @ 0xE000_ED0C {
        pub vectreset, set_vectreset: 0;
        pub sysresetreq, set_sysresetreq: 2;
        pub u16, _, set_vectkey: 31, 16;
    }
}

impl Aircr {
    pub const VECTKEY: u16 = 0x05FA;

    /// Ask for a system reset (SYSRESETREQ), with the key.
    pub fn system_reset_request() -> Self {
        let mut aircr = Self::default();
        aircr.set_vectkey(Self::VECTKEY);
        aircr.set_sysresetreq(true);
        aircr
    }
}

register! {
    /// DFSR (C1.6.1): why the core halted; write one to clear.
    memory Dfsr @ 0xE000_ED30 {
        pub halted, _: 0;
        pub bkpt, _: 1;
        pub dwttrap, _: 2;
        pub vcatch, _: 3;
        pub external, _: 4;
    }
}

impl Dfsr {
    /// Every flag, to clear them all.
    pub fn all() -> Self {
        Self(0x1F)
    }
}

register! {
    /// DHCSR (C1.6.2): writes need DBGKEY in [31:16], which reads as status.
    memory Dhcsr @ 0xE000_EDF0 {
        pub c_debugen, set_c_debugen: 0;
        pub c_halt, set_c_halt: 1;
        pub c_step, set_c_step: 2;
        pub c_maskints, set_c_maskints: 3;
        pub s_regrdy, _: 16;
        pub s_halt, _: 17;
        pub s_sleep, _: 18;
        pub s_lockup, _: 19;
        /// ARMv8-M with the Security Extension (ARMv8-M ARM C1.2 DHCSR): Secure debug
        /// is allowed.
        pub s_sde, _: 20;
        pub s_reset_st, _: 25;
        pub u16, _, set_dbgkey: 31, 16;
    }
}

impl Dhcsr {
    pub const DBGKEY: u16 = 0xA05F;

    /// A write with the key and nothing set (debug disabled, the core runs free).
    pub fn keyed() -> Self {
        let mut dhcsr = Self::default();
        dhcsr.set_dbgkey(Self::DBGKEY);
        dhcsr
    }

    /// A write with the key and C_DEBUGEN, for `with` to add control bits to.
    pub fn debug() -> Self {
        let mut dhcsr = Self::keyed();
        dhcsr.set_c_debugen(true);
        dhcsr
    }
}

register! {
    /// DCRSR (C1.6.3): which core register DCRDR transfers, and the direction.
    memory Dcrsr @ 0xE000_EDF4 {
        pub u8, regsel, set_regsel: 6, 0;
        pub regwnr, set_regwnr: 16;
    }
}

/// DCRDR (C1.6.4): the value of a core register transfer.
pub const DCRDR: u32 = 0xE000_EDF8;

/// DHCSR, DCRSR, DCRDR and DEMCR are the four words of the 16-byte block at DHCSR's
/// address (C1.6): a MEM-AP reaches them all through its banked data registers with one
/// TAR value (ADIv5.2 C2.2.7, `adi::Memory::access_block`). Their indexes in the block:
pub const DEBUG_BLOCK: u32 = 0xE000_EDF0;
pub const DHCSR_WORD: u8 = 0;
pub const DCRSR_WORD: u8 = 1;
pub const DCRDR_WORD: u8 = 2;

register! {
    /// DEMCR (C1.6.5).
    memory Demcr @ 0xE000_EDFC {
        pub vc_corereset, set_vc_corereset: 0;
        pub vc_harderr, set_vc_harderr: 10;
        pub trcena, set_trcena: 24;
    }
}

/// A core register as DCRSR.REGSEL selects it (C1.6.3): a whole word (R0-R12, SP, LR,
/// DebugReturnAddress, xPSR, MSP, PSP: REGSEL 0-18; ARMv8-M's banked stack pointers and
/// limits 0x18-0x1F), or one byte of a word that packs CONTROL [31:24], FAULTMASK [23:16],
/// BASEPRI [15:8] and PRIMASK [7:0]: REGSEL 0x14 the current security state's, on ARMv8-M
/// with the Security Extension 0x22 the Secure and 0x23 the Non-secure ones (ARMv8-M ARM
/// D1.2 DCRSR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreRegister {
    Word(u8),
    Special { regsel: u8, special: Special },
}

/// The packed special registers, numbered by their byte in REGSEL 0x14 (0x22, 0x23).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    Primask = 0,
    Basepri = 1,
    Faultmask = 2,
    Control = 3,
}

impl Special {
    /// REGSEL of the packed special registers of the current security state.
    pub const REGSEL: u8 = 0x14;
    /// ARMv8-M with the Security Extension: the Secure and the Non-secure ones.
    pub const REGSEL_SECURE: u8 = 0x22;
    pub const REGSEL_NONSECURE: u8 = 0x23;
    /// In GDB's order (its target description numbers them 19 to 22).
    pub const ALL: [Special; 4] = [
        Special::Primask,
        Special::Basepri,
        Special::Faultmask,
        Special::Control,
    ];

    pub fn shift(self) -> u32 {
        8 * self as u32
    }
}

/// FPSCR's REGSEL, and S0's (S0-S31 at 0x40-0x5F), with an FPU (C1.6.3).
pub const REGSEL_FPSCR: u8 = 0x21;
pub const REGSEL_S0: u8 = 0x40;

impl CoreRegister {
    /// Registers REGSEL 0 to 18 are GDB's 0 to 18.
    const WORDS: usize = 19;

    /// GDB's register `number` (the order of `TARGET_XML`).
    pub fn from_gdb(number: usize) -> Option<Self> {
        match number {
            0..Self::WORDS => Some(CoreRegister::Word(number as u8)),
            _ => Special::ALL
                .get(number - Self::WORDS)
                .map(|&special| CoreRegister::Special {
                    regsel: Special::REGSEL,
                    special,
                }),
        }
    }

    pub fn regsel(self) -> u8 {
        match self {
            CoreRegister::Word(regsel) => regsel,
            CoreRegister::Special { regsel, .. } => regsel,
        }
    }
}

register! {
    /// FP_CTRL (C1.11.3): writes need KEY set.
    memory FpCtrl @ 0xE000_2000 {
        pub enable, set_enable: 0;
        pub key, set_key: 1;
        pub u8, num_code_low, _: 7, 4;
        pub u8, num_code_high, _: 14, 12;
        pub u8, rev, _: 31, 28;
    }
}

impl FpCtrl {
    /// Code comparators: NUM_CODE's high bits [14:12] over its low bits [7:4].
    pub fn num_code(&self) -> usize {
        usize::from(self.num_code_high()) << 4 | usize::from(self.num_code_low())
    }

    /// Enable the unit (with the key).
    pub fn enabled() -> Self {
        let mut control = Self::default();
        control.set_key(true);
        control.set_enable(true);
        control
    }
}

/// FP_COMPn, 4 bytes apart (C1.11.5).
pub const FP_COMP0: u32 = 0xE000_2008;

register! {
    /// DWT_CTRL (C1.8.7).
    memory DwtCtrl @ 0xE000_1000 {
        pub u8, numcomp, _: 31, 28;
    }
}

/// DWT comparator n: COMPn, MASKn, FUNCTIONn at 0x10 strides (C1.8.14-17).
pub const DWT_COMP0: u32 = 0xE000_1020;
pub const DWT_STRIDE: u32 = 0x10;
pub const DWT_MASK_OFFSET: u32 = 0x4;
pub const DWT_FUNCTION_OFFSET: u32 = 0x8;
/// DWT_FUNCTIONn.MATCHED (C1.8.17; the same bit on ARMv8-M), cleared by the read.
pub const DWT_FUNCTION_MATCHED: u32 = 1 << 24;
/// ARMv8-M DWT_FUNCTIONn (ARMv8-M ARM D1.2): MATCH [3:0] for data addresses, ACTION [5:4]
/// 0b01 a debug event, DATAVSIZE [11:10]; the largest single-comparator watch, 4 bytes.
pub const DWT_V8_MATCH_ACCESS: u32 = 0b0100;
pub const DWT_V8_MATCH_WRITE: u32 = 0b0101;
pub const DWT_V8_MATCH_READ: u32 = 0b0110;
pub const DWT_V8_ACTION_DEBUG_EVENT: u32 = 0b01 << 4;
pub const DWT_V8_DATAVSIZE_SHIFT: u32 = 10;
pub const DWT_V8_LARGEST: u32 = 4;
/// MATCH 0b0111: this comparator holds the inclusive limit of the data address range the
/// comparator before it starts (ARMv8-M ARM B13.1 "Data Address Range" match).
pub const DWT_V8_MATCH_LIMIT: u32 = 0b0111;
/// DWT_FUNCTIONn.ID [31:27] (ARMv8-M ARM D1.2): what the comparator can match; bit 4 of
/// the field is "Data Address Limit" (0b11xxx), which the second of a pair needs.
pub const DWT_V8_ID_SHIFT: u32 = 27;
pub const DWT_V8_ID_DATA_ADDRESS_LIMIT: u32 = 0b10000;

register! {
    /// DWT_DEVARCH (ARMv8-M ARM D1.2, CoreSight DEVARCH at 0xFBC): ARCHITECT [31:21],
    /// PRESENT 20, REVISION [19:16], ARCHID [15:0]; RAZ on an ARMv7-M DWT.
    memory DwtDevarch @ 0xE000_1FBC {
        pub present, _: 20;
        pub u16, archid, _: 15, 0;
    }
}

impl DwtDevarch {
    /// ARCHID of the ARMv8-M DWT.
    pub const ARMV8M_DWT: u16 = 0x1A02;
}

/// The BKPT instruction (Thumb, A7.7.17) and the semihosting call BKPT 0xAB.
pub const THUMB_BKPT: u16 = 0xBE00;
pub const SEMIHOSTING_BKPT: u16 = 0xBEAB;
