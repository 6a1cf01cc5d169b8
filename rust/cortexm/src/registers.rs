//! Debug and system registers of an ARMv7-M / ARMv6-M core (ARMv7-M ARM C1, B3.2).

pub const CPUID: u32 = 0xE000_ED00;
pub const AIRCR: u32 = 0xE000_ED0C;
pub const DFSR: u32 = 0xE000_ED30;
pub const DHCSR: u32 = 0xE000_EDF0;
pub const DCRSR: u32 = 0xE000_EDF4;
pub const DCRDR: u32 = 0xE000_EDF8;
pub const DEMCR: u32 = 0xE000_EDFC;

// DHCSR (C1.6.2): writes need the key in [31:16].
pub const DHCSR_KEY: u32 = 0xA05F << 16;
pub const DHCSR_C_DEBUGEN: u32 = 1 << 0;
pub const DHCSR_C_HALT: u32 = 1 << 1;
pub const DHCSR_C_STEP: u32 = 1 << 2;
pub const DHCSR_C_MASKINTS: u32 = 1 << 3;
pub const DHCSR_S_REGRDY: u32 = 1 << 16;
pub const DHCSR_S_HALT: u32 = 1 << 17;
pub const DHCSR_S_SLEEP: u32 = 1 << 18;
pub const DHCSR_S_LOCKUP: u32 = 1 << 19;
pub const DHCSR_S_RESET_ST: u32 = 1 << 25;

// DCRSR (C1.6.3)
pub const DCRSR_REGWNR: u32 = 1 << 16;

// DEMCR (C1.6.5)
pub const DEMCR_VC_CORERESET: u32 = 1 << 0;
pub const DEMCR_VC_HARDERR: u32 = 1 << 10;
pub const DEMCR_TRCENA: u32 = 1 << 24;

// DFSR (C1.6.1), write one to clear
pub const DFSR_HALTED: u32 = 1 << 0;
pub const DFSR_BKPT: u32 = 1 << 1;
pub const DFSR_DWTTRAP: u32 = 1 << 2;
pub const DFSR_VCATCH: u32 = 1 << 3;
pub const DFSR_EXTERNAL: u32 = 1 << 4;
pub const DFSR_ALL: u32 = 0x1F;

// AIRCR (B3.2.6)
pub const AIRCR_VECTKEY: u32 = 0x05FA << 16;
pub const AIRCR_VECTRESET: u32 = 1 << 0;
pub const AIRCR_SYSRESETREQ: u32 = 1 << 2;

// Flash Patch and Breakpoint unit (C1.11)
pub const FP_CTRL: u32 = 0xE000_2000;
pub const FP_COMP0: u32 = 0xE000_2008;
pub const FP_CTRL_ENABLE: u32 = 1 << 0;
pub const FP_CTRL_KEY: u32 = 1 << 1;

// Data Watchpoint and Trace unit (C1.8)
pub const DWT_CTRL: u32 = 0xE000_1000;
pub const DWT_COMP0: u32 = 0xE000_1020;
pub const DWT_STRIDE: u32 = 0x10;
pub const DWT_MASK_OFFSET: u32 = 0x4;
pub const DWT_FUNCTION_OFFSET: u32 = 0x8;
pub const DWT_FUNCTION_MATCHED: u32 = 1 << 24;

/// The BKPT instruction (Thumb, A7.7.17) and the semihosting call BKPT 0xAB.
pub const THUMB_BKPT: u16 = 0xBE00;
pub const SEMIHOSTING_BKPT: u16 = 0xBEAB;
