//! Cortex-M core debug over a MEM-AP (ARMv7-M ARM part C1, ARMv6-M ARM part C1): halt,
//! step, resume, halt reason, the register file in GDB's M-profile order, FPB breakpoints
//! (revisions 1 and 2), DWT watchpoints, reset with vector catch.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod breakwatch;
pub mod cache;
pub mod registers;
mod target_description;
#[cfg(test)]
mod tests;

use adi::registers::MemoryMapped;
use adi::{BlockAccess, Memory, poll_memory};
use registers::*;

pub use breakwatch::{Breakpoints, WatchKind, Watchpoints};
pub use target_description::{
    TARGET_XML, TARGET_XML_FPU, TARGET_XML_NONSECURE, TARGET_XML_NONSECURE_FPU, TARGET_XML_SECURE,
    TARGET_XML_SECURE_FPU,
};

/// Registers in GDB's order for M-profile: r0-r12, sp, lr, pc, xpsr, msp, psp, primask,
/// basepri, faultmask, control (all 32 bits wide in the `g` packet, see TARGET_XML).
pub const REGISTER_COUNT: usize = 23;
pub const REGISTER_BYTES: usize = REGISTER_COUNT * 4;
/// With an FPU (TARGET_XML_FPU): d0-d15, 64 bits each, from GDB's number 23, then fpscr.
/// Only `p`/`P` move them; the `g` packet stops at REGISTER_COUNT.
pub const D0: usize = REGISTER_COUNT;
pub const DOUBLE_REGISTERS: usize = 16;
pub const FPSCR: usize = D0 + DOUBLE_REGISTERS;
/// An ARMv8-M mainline core's banked stack pointers, stack limits and (with Secure debug)
/// each security state's special registers follow (`Banked`):
/// from here with an FPU, from REGISTER_COUNT without.
pub const BANKED_AFTER_FPU: usize = FPSCR + 1;
/// The highest register number any core has (control_ns after an FPU).
pub const LAST_REGISTER: usize = BANKED_AFTER_FPU + Banked::SECURE.len() - 1;
pub const PC: usize = 15;
pub const XPSR: usize = 16;
/// xPSR.T (the EPSR's Thumb bit): an ARMv7-M core executes Thumb only; T = 0 faults on
/// the next instruction (ARMv7-M ARM B1.4.2 "The special-purpose program status registers").
/// Also the whole xPSR a routine the probe starts is given.
pub const XPSR_THUMB: u32 = 1 << 24;

/// How long a halt or a register transfer may take before the core is declared stuck.
const HALT_TIMEOUT_MICROS: u64 = 500_000;
const REGISTER_TIMEOUT_MICROS: u64 = 100_000;
const RESET_TIMEOUT_MICROS: u64 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    Adi(adi::Error),
    /// The core did not halt in time (stuck in a low-power mode without debug clock?).
    HaltTimeout,
    /// S_REGRDY did not come (ARMv7-M C1.6.3).
    RegisterTimeout,
    /// The core did not come out of reset.
    ResetTimeout,
    /// The operation needs a halted core.
    NotHalted,
    /// No register of that number.
    NoSuchRegister(usize),
    /// All comparators of the unit are in use.
    NoFreeComparator,
    /// All of the DWT's `count` comparators watch something already.
    NoFreeWatchpoint {
        count: usize,
    },
    /// A range of `length` bytes needs two adjacent comparators on the ARMv8-M DWT (the
    /// second one able to hold a limit) and no such pair is free.
    NoFreeWatchpointPair {
        length: u32,
    },
    /// A DWT comparator watches a power-of-two block aligned to its size, at most
    /// `largest` bytes (DWT_MASK, ARMv7-M C1.8.16, ARMv6-M C1.8.4).
    WatchRange {
        address: u32,
        length: u32,
        largest: u32,
    },
    /// The unit cannot do this (address out of the FPB's range, length not a power of two).
    Unsupported,
    /// Nothing set at that address.
    NotSet,
}

impl Error {
    /// A wire error that may pass ([`adi::Error::is_transient`]).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Adi(error) if error.is_transient())
    }
}

/// Run a core-debug access again after a transient wire error (the wire is recovered by
/// then: sticky flags cleared, line reset), at most [`adi::TRANSIENT_RETRIES`] times. Only
/// for accesses whose repetition has the effect of one: a core register transfer through
/// DCRSR/DCRDR (ARMv7-M C1.6.3), a DHCSR write that sets a halted or running state (not a
/// step: a second step write would step again), a read.
pub fn repeat_idempotent<M, R, E: Into<Error> + Copy>(
    memory: &mut M,
    mut access: impl FnMut(&mut M) -> Result<R, E>,
) -> Result<R, E> {
    let mut attempts = 0;
    loop {
        match access(memory) {
            Err(error) if error.into().is_transient() && attempts < adi::TRANSIENT_RETRIES => {
                attempts += 1;
            }
            result => return result,
        }
    }
}

/// DHCSR read through the debug block ([`DEBUG_BLOCK`]): a poll writes TAR once, not at
/// each read. Read again after a transient wire error.
pub fn read_dhcsr<M: Memory>(memory: &mut M) -> Result<Dhcsr, adi::Error> {
    repeat_idempotent(memory, |memory| {
        let mut value = [0];
        memory.access_block(DEBUG_BLOCK, &[BlockAccess::Read(DHCSR_WORD)], &mut value)?;
        Ok(Dhcsr::from(value[0]))
    })
}

/// Write DHCSR through the debug block, once (a step must not be written twice).
pub fn write_dhcsr<M: Memory>(memory: &mut M, value: Dhcsr) -> Result<(), adi::Error> {
    let access = BlockAccess::Write(DHCSR_WORD, value.into());
    memory.access_block(DEBUG_BLOCK, &[access], &mut [])
}

impl From<adi::Error> for Error {
    fn from(error: adi::Error) -> Self {
        Error::Adi(error)
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Adi(error) => error.fmt(f),
            Error::HaltTimeout => write!(
                f,
                "timeout waiting for the core to halt; is it stuck in a low-power mode?"
            ),
            Error::RegisterTimeout => write!(f, "timeout on a core register transfer"),
            Error::ResetTimeout => write!(f, "timeout waiting for the target to leave reset"),
            Error::NotHalted => write!(f, "the core is running: halt it first"),
            Error::NoSuchRegister(number) => write!(f, "no register number {number}"),
            Error::NoFreeComparator => write!(f, "no free hardware comparator"),
            Error::NoFreeWatchpoint { count } => write!(
                f,
                "no free watchpoint: all {count} DWT comparators of this core are in use"
            ),
            Error::NoFreeWatchpointPair { length } => write!(
                f,
                "no free pair of DWT comparators for a {length}-byte watch: a range takes a \
                 comparator and the next one as its limit (ARMv8-M); delete a watchpoint"
            ),
            Error::WatchRange {
                address,
                length,
                largest,
            } => write!(
                f,
                "cannot watch {length} bytes at {address:#010x}: a DWT comparator watches a \
                 power-of-two length up to {largest} bytes at an address aligned to it"
            ),
            Error::Unsupported => write!(f, "not supported by this core"),
            Error::NotSet => write!(f, "nothing set there"),
        }
    }
}

/// The core's part, from CPUID.PARTNO (B3.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreKind {
    M0,
    M0Plus,
    M3,
    M4,
    M7,
    M23,
    M33,
    Unknown(u16),
}

impl CoreKind {
    pub fn from_cpuid(cpuid: u32) -> Self {
        match ((cpuid >> 4) & 0xFFF) as u16 {
            0xC20 => CoreKind::M0,
            0xC60 => CoreKind::M0Plus,
            0xC23 => CoreKind::M3,
            0xC24 => CoreKind::M4,
            0xC27 => CoreKind::M7,
            0xD20 => CoreKind::M23,
            0xD21 => CoreKind::M33,
            other => CoreKind::Unknown(other),
        }
    }

    /// ARMv8-M cores (baseline M23, mainline M33, M35P 0xD31, M55 0xD22, M85 0xD23).
    pub fn is_armv8m(self) -> bool {
        matches!(
            self,
            CoreKind::M23 | CoreKind::M33 | CoreKind::Unknown(0xD22 | 0xD23 | 0xD31)
        )
    }

    /// ARMv8-M mainline cores: stack limit registers, and the Security Extension as an
    /// option (M33, M35P, M55, M85; not the baseline M23).
    pub fn is_armv8m_mainline(self) -> bool {
        self.is_armv8m() && self != CoreKind::M23
    }

    /// Cores that may have an FPU (then MVFR0 says whether this one has).
    fn may_have_fpu(self) -> bool {
        matches!(self, CoreKind::M4 | CoreKind::M7 | CoreKind::M33)
    }

    pub fn name(self) -> &'static str {
        match self {
            CoreKind::M0 => "M0",
            CoreKind::M0Plus => "M0+",
            CoreKind::M3 => "M3",
            CoreKind::M4 => "M4",
            CoreKind::M7 => "M7",
            CoreKind::M23 => "M23",
            CoreKind::M33 => "M33",
            CoreKind::Unknown(_) => "Cortex-M",
        }
    }
}

/// Why the core halted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaltReason {
    /// A debugger asked (C_HALT), or an external debug request.
    Request,
    /// One instruction stepped.
    Step,
    /// A BKPT instruction or an FPB match at this address.
    Breakpoint { address: u32 },
    /// A DWT match; the access is done.
    Watchpoint { kind: WatchKind, address: u32 },
    /// BKPT 0xAB: a semihosting call, PC at the BKPT.
    Semihosting,
    /// Lockup, or a vector catch other than reset.
    Fault,
    /// Halted at the reset vector (VC_CORERESET).
    Reset,
}

/// An ARMv8-M mainline core's banked stack pointers and stack limits (ARMv8-M ARM D1.2
/// DCRSR: MSP_NS 0x18, PSP_NS 0x19, MSP_S 0x1A, PSP_S 0x1B, MSPLIM_S 0x1C, PSPLIM_S 0x1D,
/// MSPLIM_NS 0x1E, PSPLIM_NS 0x1F) and, with the Security Extension, each state's PRIMASK,
/// BASEPRI, FAULTMASK and CONTROL (packed in 0x22 Secure, 0x23 Non-secure) as GDB's
/// registers after the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Banked {
    /// Not ARMv8-M mainline: none.
    None,
    /// The Security Extension with Secure debug allowed (DHCSR.S_SDE): all sixteen, as
    /// org.gnu.gdb.arm.secext.
    Secure,
    /// No Security Extension, or only Non-secure debug: MSPLIM_NS and PSPLIM_NS; the
    /// Secure registers are not touched (the Non-secure special registers are the ones
    /// 0x14 reaches while the core is halted in Non-secure state).
    NonSecure,
}

const fn word(regsel: u8) -> CoreRegister {
    CoreRegister::Word(regsel)
}

const fn packed(regsel: u8, special: Special) -> CoreRegister {
    CoreRegister::Special { regsel, special }
}

impl Banked {
    const SECURE: [CoreRegister; 16] = [
        word(0x18),
        word(0x19),
        word(0x1A),
        word(0x1B),
        word(0x1C),
        word(0x1D),
        word(0x1E),
        word(0x1F),
        packed(Special::REGSEL_SECURE, Special::Primask),
        packed(Special::REGSEL_SECURE, Special::Basepri),
        packed(Special::REGSEL_SECURE, Special::Faultmask),
        packed(Special::REGSEL_SECURE, Special::Control),
        packed(Special::REGSEL_NONSECURE, Special::Primask),
        packed(Special::REGSEL_NONSECURE, Special::Basepri),
        packed(Special::REGSEL_NONSECURE, Special::Faultmask),
        packed(Special::REGSEL_NONSECURE, Special::Control),
    ];
    const NONSECURE: [CoreRegister; 2] = [word(0x1E), word(0x1F)];

    /// The registers, in GDB's order.
    pub fn registers(self) -> &'static [CoreRegister] {
        match self {
            Banked::None => &[],
            Banked::Secure => &Self::SECURE,
            Banked::NonSecure => &Self::NONSECURE,
        }
    }
}

/// State of one attached core. Holds no wire: each call gets the memory it works through.
pub struct Core {
    kind: CoreKind,
    cpuid: u32,
    stepping: bool,
    /// reset(halt) set a reset vector catch: the next VCATCH halt is that reset.
    catching_reset: bool,
    /// An FPU of 16 double-word registers (MVFR0, B4.6.2): d0-d15 and fpscr for GDB.
    fpu: bool,
    /// The M7's L1 caches, maintained around the debugger's accesses (`cache`).
    caches: Option<cache::Caches>,
    /// ARMv8-M mainline: which banked and stack-limit registers GDB gets.
    banked: Banked,
    /// ARMv8-M mainline with the Security Extension (ID_PFR1.Security): `banked` follows
    /// DHCSR.S_SDE, read again after each reset (`refresh_secure_debug`).
    security: bool,
    pub breakpoints: Breakpoints,
    pub watchpoints: Watchpoints,
}

impl Core {
    /// Identify the core, enable debug, and halt it (C1.6.2).
    pub fn attach<M: Memory>(memory: &mut M) -> Result<Self, Error> {
        let cpuid = memory.read_word(Cpuid::ADDRESS)?;
        let kind = CoreKind::from_cpuid(cpuid);
        // MVFR0 is only read where the architecture has it (ARMv7-M with the FP extension,
        // ARMv8-M mainline): an M0+ or M3 may answer a bus error there.
        let fpu = kind.may_have_fpu() && {
            let features: Mvfr0 = memory.load()?;
            features.simd_registers() == 1 && features.single_precision() != 0
        };
        let caches = match kind {
            CoreKind::M7 => cache::Caches::probe(memory)?,
            _ => None,
        };
        let security = Self::probe_security(memory, kind)?;
        let banked = Self::banked_for(memory, kind, security)?;
        let breakpoints = Breakpoints::probe(memory)?;
        let watchpoints = Watchpoints::probe(memory, kind.is_armv8m())?;
        let mut demcr: Demcr = memory.load()?;
        demcr.set_trcena(true);
        memory.store(demcr)?;
        let mut core = Self {
            kind,
            cpuid,
            stepping: false,
            catching_reset: false,
            fpu,
            caches,
            banked,
            security,
            breakpoints,
            watchpoints,
        };
        core.halt(memory)?;
        Ok(core)
    }

    /// ARMv8-M mainline: the Security Extension from ID_PFR1.Security (ARMv8-M ARM D1.2
    /// ID_PFR1 [7:4]).
    fn probe_security<M: Memory>(memory: &mut M, kind: CoreKind) -> Result<bool, Error> {
        Ok(kind.is_armv8m_mainline() && memory.load::<IdPfr1>()?.security() != 0)
    }

    /// The registers GDB gets: with the Security Extension, whether Secure debug is
    /// allowed now (DHCSR.S_SDE, ARMv8-M ARM C1.2).
    fn banked_for<M: Memory>(
        memory: &mut M,
        kind: CoreKind,
        security: bool,
    ) -> Result<Banked, Error> {
        Ok(if !kind.is_armv8m_mainline() {
            Banked::None
        } else if security && memory.load::<Dhcsr>()?.s_sde() {
            Banked::Secure
        } else {
            Banked::NonSecure
        })
    }

    /// Read DHCSR.S_SDE again (Secure software or a reset may open or close Secure
    /// debug): true if the registers GDB gets changed, so its description did too.
    pub fn refresh_secure_debug<M: Memory>(&mut self, memory: &mut M) -> Result<bool, Error> {
        let banked = Self::banked_for(memory, self.kind, self.security)?;
        Ok(core::mem::replace(&mut self.banked, banked) != banked)
    }

    /// Which banked and stack-limit registers the core offers GDB.
    pub fn banked(&self) -> Banked {
        self.banked
    }

    /// GDB's number of the first banked register (`Banked`).
    fn banked_base(&self) -> usize {
        if self.fpu {
            BANKED_AFTER_FPU
        } else {
            REGISTER_COUNT
        }
    }

    /// GDB's banked register `number`, if it is one.
    fn banked_register(&self, number: usize) -> Option<CoreRegister> {
        let index = number.checked_sub(self.banked_base())?;
        self.banked.registers().get(index).copied()
    }

    /// Remove break and watch points, stop catching vectors, let the core run free.
    pub fn detach<M: Memory>(&mut self, memory: &mut M) -> Result<(), Error> {
        self.breakpoints.clear_all(memory)?;
        self.watchpoints.clear_all(memory)?;
        let mut demcr: Demcr = memory.load()?;
        demcr.set_vc_corereset(false);
        demcr.set_vc_harderr(false);
        memory.store(demcr)?;
        memory.store(Dfsr::all())?;
        memory.store(Dhcsr::keyed())?;
        Ok(())
    }

    pub fn kind(&self) -> CoreKind {
        self.kind
    }

    pub fn cpuid(&self) -> u32 {
        self.cpuid
    }

    /// The core's L1 caches (a Cortex-M7's), for `cache::read`/`cache::write`.
    pub fn caches(&self) -> Option<cache::Caches> {
        self.caches
    }

    /// Whether the core has an FPU with 16 double-word registers (MVFR0).
    pub fn has_fpu(&self) -> bool {
        self.fpu
    }

    /// GDB's target description of this core (with the vfp feature if it has an FPU).
    pub fn target_description(&self) -> &'static str {
        match (self.banked, self.fpu) {
            (Banked::None, false) => TARGET_XML,
            (Banked::None, true) => TARGET_XML_FPU,
            (Banked::Secure, false) => TARGET_XML_SECURE,
            (Banked::Secure, true) => TARGET_XML_SECURE_FPU,
            (Banked::NonSecure, false) => TARGET_XML_NONSECURE,
            (Banked::NonSecure, true) => TARGET_XML_NONSECURE_FPU,
        }
    }

    /// The size in bytes of GDB's register `number` on this core, None if it has none.
    pub fn register_size(&self, number: usize) -> Option<usize> {
        match number {
            0..REGISTER_COUNT => Some(4),
            D0..FPSCR if self.fpu => Some(8),
            FPSCR if self.fpu => Some(4),
            _ => self.banked_register(number).map(|_| 4),
        }
    }

    pub fn halt_request<M: Memory>(&mut self, memory: &mut M) -> Result<(), Error> {
        let mut dhcsr = Dhcsr::debug();
        dhcsr.set_c_halt(true);
        repeat_idempotent(memory, |memory| write_dhcsr(memory, dhcsr))?;
        Ok(())
    }

    /// Request a halt and wait for it; works out of WFI/WFE (C_HALT wakes a sleeping core).
    pub fn halt<M: Memory>(&mut self, memory: &mut M) -> Result<(), Error> {
        self.halt_request(memory)?;
        poll_memory(memory, HALT_TIMEOUT_MICROS, Error::HaltTimeout, |memory| {
            Ok(read_dhcsr(memory)?.s_halt().then_some(()))
        })
    }

    pub fn is_halted<M: Memory>(&mut self, memory: &mut M) -> Result<bool, Error> {
        Ok(read_dhcsr(memory)?.s_halt())
    }

    /// Resume, or step one instruction with interrupts masked (C1.6.2).
    /// xPSR.T is set first if it is clear (a core halted in lockup, or registers written by
    /// a debugger, may have it clear): the core would fault at once otherwise.
    pub fn resume<M: Memory>(&mut self, memory: &mut M, step: bool) -> Result<(), Error> {
        let xpsr = self.read_register(memory, XPSR)?;
        if xpsr & XPSR_THUMB == 0 {
            self.write_register(memory, XPSR, xpsr | XPSR_THUMB)?;
        }
        memory.store(Dfsr::all())?;
        self.stepping = step;
        let mut dhcsr = Dhcsr::debug();
        dhcsr.set_c_step(step);
        dhcsr.set_c_maskints(step);
        write_dhcsr(memory, dhcsr)?;
        Ok(())
    }

    /// None while running; the reason once halted (DFSR, C1.6.1). Reading clears it.
    pub fn poll<M: Memory>(&mut self, memory: &mut M) -> Result<Option<HaltReason>, Error> {
        let dhcsr = read_dhcsr(memory)?;
        if !dhcsr.s_halt() {
            return Ok(None);
        }
        let dfsr: Dfsr = memory.load()?;
        memory.store(dfsr)?;
        let reason = self.reason(memory, dfsr, dhcsr)?;
        self.stepping = false;
        self.catching_reset = false;
        Ok(Some(reason))
    }

    fn reason<M: Memory>(
        &mut self,
        memory: &mut M,
        dfsr: Dfsr,
        dhcsr: Dhcsr,
    ) -> Result<HaltReason, Error> {
        if dfsr.dwttrap()
            && let Some((kind, address)) = self.watchpoints.matched(memory)?
        {
            return Ok(HaltReason::Watchpoint { kind, address });
        }
        if dfsr.bkpt() {
            let pc = self.read_register(memory, PC)?;
            let mut instruction = [0u8; 2];
            memory.read_bytes(pc & !1, &mut instruction)?;
            if u16::from_le_bytes(instruction) == SEMIHOSTING_BKPT {
                return Ok(HaltReason::Semihosting);
            }
            return Ok(HaltReason::Breakpoint { address: pc });
        }
        if dfsr.vcatch() {
            let demcr: Demcr = memory.load()?;
            // Our reset(halt) catches the reset vector; any other catch is a fault vector.
            let reset = self.catching_reset || (demcr.vc_corereset() && dhcsr.s_reset_st());
            return Ok(if reset {
                HaltReason::Reset
            } else {
                HaltReason::Fault
            });
        }
        if dhcsr.s_lockup() {
            return Ok(HaltReason::Fault);
        }
        if self.stepping && dfsr.halted() {
            return Ok(HaltReason::Step);
        }
        Ok(HaltReason::Request)
    }

    /// A 32-bit register: the integer and special registers, and FPSCR with an FPU.
    fn core_register(&self, number: usize) -> Result<CoreRegister, Error> {
        match number {
            FPSCR if self.fpu => Ok(CoreRegister::Word(REGSEL_FPSCR)),
            _ => CoreRegister::from_gdb(number)
                .or_else(|| self.banked_register(number))
                .ok_or(Error::NoSuchRegister(number)),
        }
    }

    /// The REGSELs of d`number - D0`'s halves: S(2n) is its low word, S(2n+1) its high
    /// word (ARMv7-M A2.5.2 "FP register file"); None if `number` is not a d register.
    fn double_halves(&self, number: usize) -> Option<(u8, u8)> {
        let index = number
            .checked_sub(D0)
            .filter(|&index| self.fpu && index < DOUBLE_REGISTERS)?;
        let low = REGSEL_S0 + 2 * index as u8;
        Some((low, low + 1))
    }

    fn wait_register_ready<M: Memory>(memory: &mut M) -> Result<(), Error> {
        poll_memory(
            memory,
            REGISTER_TIMEOUT_MICROS,
            Error::RegisterTimeout,
            |memory| {
                let dhcsr = read_dhcsr(memory)?;
                if !dhcsr.s_halt() {
                    return Err(Error::NotHalted);
                }
                Ok(dhcsr.s_regrdy().then_some(()))
            },
        )
    }

    /// Transfer REGSEL `regsel` to DCRDR and read it (C1.6.3) in one block access: DCRSR
    /// written, DHCSR read, DCRDR read. DCRDR's value holds if that DHCSR read showed
    /// S_REGRDY (read before it); if not, DHCSR is polled and DCRDR read again. The whole
    /// transfer again after a transient wire error.
    fn read_core_register<M: Memory>(memory: &mut M, regsel: u8) -> Result<u32, Error> {
        let mut dcrsr = Dcrsr::default();
        dcrsr.set_regsel(regsel);
        let accesses = [
            BlockAccess::Write(DCRSR_WORD, dcrsr.into()),
            BlockAccess::Read(DHCSR_WORD),
            BlockAccess::Read(DCRDR_WORD),
        ];
        repeat_idempotent(memory, |memory| {
            let mut reads = [0; 2];
            memory.access_block(DEBUG_BLOCK, &accesses, &mut reads)?;
            if Self::transfer_done(Dhcsr::from(reads[0]))? {
                return Ok(reads[1]);
            }
            Self::wait_register_ready(memory)?;
            Ok(memory.read_word(DCRDR)?)
        })
    }

    /// DCRDR, then DCRSR with REGWnR (C1.6.3), then DHCSR read in one block access; DHCSR
    /// polled until S_REGRDY if that read did not show it. Again after a transient wire
    /// error: the register gets the same value.
    fn write_core_register<M: Memory>(memory: &mut M, regsel: u8, value: u32) -> Result<(), Error> {
        let mut dcrsr = Dcrsr::default();
        dcrsr.set_regsel(regsel);
        dcrsr.set_regwnr(true);
        let accesses = [
            BlockAccess::Write(DCRDR_WORD, value),
            BlockAccess::Write(DCRSR_WORD, dcrsr.into()),
            BlockAccess::Read(DHCSR_WORD),
        ];
        repeat_idempotent(memory, |memory| {
            let mut dhcsr = [0];
            memory.access_block(DEBUG_BLOCK, &accesses, &mut dhcsr)?;
            if Self::transfer_done(Dhcsr::from(dhcsr[0]))? {
                return Ok(());
            }
            Self::wait_register_ready(memory)
        })
    }

    /// Has the register transfer completed (S_REGRDY, C1.6.2)? Only meaningful in Debug
    /// state: NotHalted without S_HALT.
    fn transfer_done(dhcsr: Dhcsr) -> Result<bool, Error> {
        if !dhcsr.s_halt() {
            return Err(Error::NotHalted);
        }
        Ok(dhcsr.s_regrdy())
    }

    pub fn read_register<M: Memory>(
        &mut self,
        memory: &mut M,
        number: usize,
    ) -> Result<u32, Error> {
        let register = self.core_register(number)?;
        let value = Self::read_core_register(memory, register.regsel())?;
        Ok(match register {
            CoreRegister::Special { special, .. } => (value >> special.shift()) & 0xFF,
            CoreRegister::Word(_) => value,
        })
    }

    pub fn write_register<M: Memory>(
        &mut self,
        memory: &mut M,
        number: usize,
        value: u32,
    ) -> Result<(), Error> {
        let register = self.core_register(number)?;
        let value = match register {
            CoreRegister::Special { regsel, special } => {
                let shift = special.shift();
                let packed = Self::read_core_register(memory, regsel)?;
                (packed & !(0xFF << shift)) | ((value & 0xFF) << shift)
            }
            CoreRegister::Word(_) => value,
        };
        Self::write_core_register(memory, register.regsel(), value)
    }

    /// Any register of the target description (64 bits for d0-d15), for `p`/`P`.
    pub fn read_register_wide<M: Memory>(
        &mut self,
        memory: &mut M,
        number: usize,
    ) -> Result<u64, Error> {
        let Some((low, high)) = self.double_halves(number) else {
            return Ok(self.read_register(memory, number)?.into());
        };
        let low = Self::read_core_register(memory, low)?;
        let high = Self::read_core_register(memory, high)?;
        Ok(u64::from(high) << 32 | u64::from(low))
    }

    pub fn write_register_wide<M: Memory>(
        &mut self,
        memory: &mut M,
        number: usize,
        value: u64,
    ) -> Result<(), Error> {
        let Some((low, high)) = self.double_halves(number) else {
            let word = u32::try_from(value).map_err(|_| Error::Unsupported)?;
            return self.write_register(memory, number, word);
        };
        Self::write_core_register(memory, low, value as u32)?;
        Self::write_core_register(memory, high, (value >> 32) as u32)
    }

    /// All registers in GDB's order.
    pub fn read_registers<M: Memory>(
        &mut self,
        memory: &mut M,
        values: &mut [u32; REGISTER_COUNT],
    ) -> Result<(), Error> {
        let (words, specials) = values.split_at_mut(REGISTER_COUNT - Special::ALL.len());
        for (regsel, value) in words.iter_mut().enumerate() {
            *value = Self::read_core_register(memory, regsel as u8)?;
        }
        let packed = Self::read_core_register(memory, Special::REGSEL)?;
        for (special, value) in Special::ALL.iter().zip(specials) {
            *value = (packed >> special.shift()) & 0xFF;
        }
        Ok(())
    }

    pub fn write_registers<M: Memory>(
        &mut self,
        memory: &mut M,
        values: &[u32; REGISTER_COUNT],
    ) -> Result<(), Error> {
        let (words, specials) = values.split_at(REGISTER_COUNT - Special::ALL.len());
        for (regsel, &value) in words.iter().enumerate() {
            Self::write_core_register(memory, regsel as u8, value)?;
        }
        let packed = Special::ALL
            .iter()
            .zip(specials)
            .fold(0, |packed, (special, &value)| {
                packed | ((value & 0xFF) << special.shift())
            });
        Self::write_core_register(memory, Special::REGSEL, packed)
    }

    /// A reset made outside this driver (a CMSIS-Pack ResetSystem sequence): a step under
    /// way is forgotten; with `halt` (the reset vector caught) the next halt is the reset's.
    pub fn note_reset(&mut self, halt: bool) {
        self.stepping = false;
        self.catching_reset = halt;
    }

    /// Reset the system through AIRCR.SYSRESETREQ (B3.2.6); with `halt`, catch the reset
    /// vector (DEMCR.VC_CORERESET) so the core stops before its first instruction.
    pub fn reset<M: Memory>(&mut self, memory: &mut M, halt: bool) -> Result<(), Error> {
        let mut demcr: Demcr = memory.load()?;
        demcr.set_vc_corereset(halt);
        memory.store(demcr)?;
        memory.load::<Dhcsr>()?; // clears the sticky S_RESET_ST
        memory.store(Dfsr::all())?;
        // The write may not be acknowledged while the system resets.
        let _ = memory.store(Aircr::system_reset_request());
        self.stepping = false;
        self.catching_reset = halt;
        let mut was_reset = false;
        poll_memory(
            memory,
            RESET_TIMEOUT_MICROS,
            Error::ResetTimeout,
            |memory| {
                // Reads may fail while the system resets: poll on.
                let Ok(dhcsr) = memory.load::<Dhcsr>() else {
                    return Ok(None);
                };
                // S_RESET_ST clears when read: remember it.
                was_reset |= dhcsr.s_reset_st();
                Ok((was_reset && (!halt || dhcsr.s_halt())).then_some(()))
            },
        )?;
        if halt {
            demcr.set_vc_corereset(false);
            memory.store(demcr)?;
        }
        Ok(())
    }
}
