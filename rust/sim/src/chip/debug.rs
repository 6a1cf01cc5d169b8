//! Core debug registers in the System Control Space (ARMv7-M C1.6) and the few SCB
//! registers a debugger uses (CPUID, AIRCR, DFSR).
//!
//! These registers live in the debug power domain: a system reset (nRST, SYSRESETREQ)
//! leaves them alone, only a power-on reset clears them (ARMv7-M C1.6.3 "DHCSR ... is not
//! reset on a Local reset"; C1.6.5 DEMCR likewise; C_HALT is the exception: a core reset
//! clears it).

/// Addresses (ARMv7-M table B3-4 and C1-5).
pub const CPUID: u32 = 0xE000_ED00;
pub const AIRCR: u32 = 0xE000_ED0C;
pub const DFSR: u32 = 0xE000_ED30;
pub const DHCSR: u32 = 0xE000_EDF0;
pub const DCRSR: u32 = 0xE000_EDF4;
pub const DCRDR: u32 = 0xE000_EDF8;
pub const DEMCR: u32 = 0xE000_EDFC;
/// DSCSR (ARMv8-M D1.2, Security Extension): SBRSELEN 0 and SBRSEL 1 stored, CDS 16 the
/// core's security state (the simulated Cortex-M33 stays Secure: 1).
pub const DSCSR: u32 = 0xE000_EE08;
pub const DSCSR_STORED: u32 = 0b11;
pub const DSCSR_CDS: u32 = 1 << 16;
/// ID_PFR1 (ARMv8-M D1.2): the Cortex-M33's with the Security Extension (Security [7:4]
/// 1, M-profile programmers' model [11:8] 2; Cortex-M33 TRM).
pub const ID_PFR1: u32 = 0xE000_ED44;
pub const ID_PFR1_M33: u32 = 0x0000_0210;
/// DAUTHCTRL (ARMv8-M D1.2): Secure software's debug authentication controls, not the
/// debugger's: RAZ/WI to a debugger without Secure debug.
pub const DAUTHCTRL: u32 = 0xE000_EE04;
/// DAUTHSTATUS (ARMv8-M D1.2): SNID [7:6], SID [5:4], NSNID [3:2], NSID [1:0], each 0b11
/// implemented and enabled, 0b10 implemented and disabled.
pub const DAUTHSTATUS: u32 = 0xE000_EFB8;
pub const DAUTHSTATUS_ALL_ENABLED: u32 = 0xFF;
pub const DAUTHSTATUS_NONSECURE_ONLY: u32 = 0xAF;
/// DHCSR.S_SDE (ARMv8-M C1.2): Secure debug enabled, as on a part whose secure debug is
/// open (the simulated Cortex-M33).
pub const DHCSR_S_SDE: u32 = 1 << 20;

/// DHCSR (ARMv7-M C1.6.3): DBGKEY [31:16] on writes; control bits; status bits on reads.
pub const DHCSR_KEY: u32 = 0xA05F << 16;
pub const C_DEBUGEN: u32 = 1 << 0;
pub const C_HALT: u32 = 1 << 1;
pub const C_STEP: u32 = 1 << 2;
pub const C_MASKINTS: u32 = 1 << 3;
pub const C_SNAPSTALL: u32 = 1 << 5;
pub const S_REGRDY: u32 = 1 << 16;
pub const S_HALT: u32 = 1 << 17;
pub const S_SLEEP: u32 = 1 << 18;
pub const S_LOCKUP: u32 = 1 << 19;
pub const S_RETIRE_ST: u32 = 1 << 24;
pub const S_RESET_ST: u32 = 1 << 25;
const CONTROL_BITS: u32 = C_DEBUGEN | C_HALT | C_STEP | C_MASKINTS | C_SNAPSTALL;

/// DCRSR (ARMv7-M C1.6.4): REGSEL [6:0], REGWnR 16.
pub const DCRSR_REGWNR: u32 = 1 << 16;
pub const DCRSR_REGSEL: u32 = 0x7F;

/// DEMCR (ARMv7-M C1.6.5): VC_CORERESET 0, VC_MMERR 4, VC_NOCPERR 5, VC_CHKERR 6,
/// VC_STATERR 7, VC_BUSERR 8, VC_INTERR 9, VC_HARDERR 10, MON_EN 16, MON_PEND 17,
/// MON_STEP 18, MON_REQ 19, TRCENA 24. All are stored; only VC_CORERESET acts here.
pub const VC_CORERESET: u32 = 1 << 0;
/// DEMCR.VC_NOCPERR: halt on a UsageFault for a coprocessor access (C1.6.5).
pub const VC_NOCPERR: u32 = 1 << 5;
/// CPACR (ARMv7-M B3.2.20): CP10 [21:20] (CP11 must match); 0b00 no access. Resets to 0.
pub const CPACR: u32 = 0xE000_ED88;
pub const CPACR_CP10: u32 = 0b11 << 20;
/// CFSR (B3.2.15): UFSR.NOCP, bit 19.
pub const CFSR: u32 = 0xE000_ED28;
pub const CFSR_NOCP: u32 = 1 << 19;
const DEMCR_STORED: u32 = 0x010F_07F1;
/// ARMv6-M DEMCR (ARMv6-M C1.6.5): VC_CORERESET 0, VC_HARDERR 10, DWTENA 24 only.
pub const ARMV6M_DEMCR_STORED: u32 = 0x0100_0401;

/// DFSR (ARMv7-M C1.6.1): write 1 to clear.
pub const DFSR_HALTED: u32 = 1 << 0;
pub const DFSR_BKPT: u32 = 1 << 1;
pub const DFSR_DWTTRAP: u32 = 1 << 2;
pub const DFSR_VCATCH: u32 = 1 << 3;
/// EXTERNAL (bit 4, EDBGRQ) is never set: nothing drives EDBGRQ on this chip.
const DFSR_BITS: u32 = 0x1F;

/// AIRCR (ARMv7-M B3.2.6): VECTKEY 0x05FA on writes, reads VECTKEYSTAT 0xFA05;
/// PRIGROUP [10:8], SYSRESETREQ 2, VECTCLRACTIVE 1, VECTRESET 0.
pub const AIRCR_KEY: u32 = 0x05FA << 16;
const AIRCR_KEY_STATUS: u32 = 0xFA05 << 16;
pub const SYSRESETREQ: u32 = 1 << 2;
/// VECTRESET does not exist on ARMv6-M (ARMv6-M B3.2.6: reserved).
pub const VECTRESET: u32 = 1 << 0;
const PRIGROUP: u32 = 0x700;

/// What a DHCSR write asks of the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunRequest {
    Nothing,
    Halt,
    Resume,
    Step,
}

/// What an AIRCR write asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetRequest {
    /// SYSRESETREQ: the whole chip but the debug logic.
    System,
    /// VECTRESET: the core only.
    Core,
}

#[derive(Clone, Debug, Default)]
pub struct CoreDebug {
    /// DHCSR control bits.
    pub control: u32,
    /// DCRDR.
    pub data: u32,
    /// DEMCR.
    pub monitor_control: u32,
    /// DFSR.
    pub fault_status: u32,
    /// AIRCR.PRIGROUP.
    priority_group: u32,
    /// DHCSR.S_RESET_ST and S_RETIRE_ST, cleared by a read.
    pub reset_since_read: bool,
    pub retired_since_read: bool,
}

/// The core's state as DHCSR reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreStatus {
    pub halted: bool,
    pub sleeping: bool,
    pub locked_up: bool,
    pub in_reset: bool,
}

impl CoreDebug {
    pub fn enabled(&self) -> bool {
        self.control & C_DEBUGEN != 0
    }

    /// DEMCR.TRCENA (ARMv6-M: DWTENA): the DWT works only while it is set (C1.6.5).
    pub fn dwt_enabled(&self) -> bool {
        self.monitor_control & super::trace::DEMCR_TRCENA != 0
    }

    pub fn catches_reset(&self) -> bool {
        self.enabled() && self.monitor_control & VC_CORERESET != 0
    }

    /// DHCSR as read; `clear` clears the sticky bits as a real read does.
    pub fn read_halting_status(&mut self, status: CoreStatus, clear: bool) -> u32 {
        let flag = |condition: bool, bit: u32| if condition { bit } else { 0 };
        let value = self.control
            | flag(status.halted, S_REGRDY | S_HALT)
            | flag(status.sleeping && !status.halted, S_SLEEP)
            | flag(status.locked_up, S_LOCKUP)
            | flag(self.retired_since_read, S_RETIRE_ST)
            | flag(self.reset_since_read || status.in_reset, S_RESET_ST);
        if clear {
            self.retired_since_read = false;
            self.reset_since_read = false;
        }
        value
    }

    /// A DHCSR write (from the debugger). Without the key nothing changes. Clearing
    /// C_DEBUGEN clears the other control bits and lets a halted core go (C1.6.3).
    pub fn write_halting_control(&mut self, value: u32, halted: bool) -> RunRequest {
        if value & 0xFFFF_0000 != DHCSR_KEY {
            return RunRequest::Nothing;
        }
        let mut control = value & CONTROL_BITS;
        if control & C_DEBUGEN == 0 {
            control = 0;
        }
        // C_MASKINTS changes only while halted (C1.6.3).
        if !halted {
            control = (control & !C_MASKINTS) | (self.control & C_MASKINTS);
        }
        self.control = control;
        match (halted, control & C_HALT != 0, control & C_STEP != 0) {
            (false, true, _) => RunRequest::Halt,
            (true, false, true) => RunRequest::Step,
            (true, false, false) => RunRequest::Resume,
            _ => RunRequest::Nothing,
        }
    }

    pub fn write_monitor_control(&mut self, value: u32) {
        self.monitor_control = value & DEMCR_STORED;
    }

    pub fn clear_fault_status(&mut self, value: u32) {
        self.fault_status &= !(value & DFSR_BITS);
    }

    pub fn read_interrupt_control(&self) -> u32 {
        AIRCR_KEY_STATUS | self.priority_group
    }

    /// An AIRCR write; without the key nothing changes (B3.2.6).
    pub fn write_interrupt_control(&mut self, value: u32) -> Option<ResetRequest> {
        if value & 0xFFFF_0000 != AIRCR_KEY {
            return None;
        }
        self.priority_group = value & PRIGROUP;
        if value & SYSRESETREQ != 0 {
            Some(ResetRequest::System)
        } else if value & VECTRESET != 0 {
            Some(ResetRequest::Core)
        } else {
            None
        }
    }

    /// Enter Debug state for `reason` (DFSR bits).
    pub fn note_halt(&mut self, reason: u32) {
        self.fault_status |= reason;
        self.control |= C_HALT;
    }

    /// A core reset clears C_HALT only; the rest is kept (power-on reset domain).
    pub fn core_reset(&mut self) {
        self.control &= !C_HALT;
        self.reset_since_read = true;
    }
}
