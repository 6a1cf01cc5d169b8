//! Everything the chip knows besides the core's registers and memories: the state the
//! emulator hooks and the debugger's bus accesses share (unicorn-engine hands it to every
//! hook as the emulator's data).

use super::debug::{CoreDebug, CoreStatus, ResetRequest};
use super::dwt::Dwt;
use super::fpb::Fpb;
use crate::soc::{Memory, Soc, Variant};
use std::collections::HashMap;
use unicorn_engine::UcHookId;

/// Peripheral space (the SoC says how far it goes). Registers the SoC models (RCC, the
/// flash controller) go to it; any other peripheral register holds what was written and
/// does nothing, so a program that sets up GPIO or a timer runs on.
pub const PERIPHERAL_BASE: u32 = 0x4000_0000;

/// Why the core stopped running inside one slice of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Its share of cycles is used up.
    Budget,
    /// It entered Debug state.
    Halt,
    /// A fault it cannot take (exceptions are not modelled): lockup.
    Lockup,
    /// It started a flash operation: the slice ends so its end is seen in time.
    FlashStarted,
    /// It asked for a reset (AIRCR).
    Reset(ResetRequest),
}

#[derive(Clone, Debug, Default)]
pub struct RunState {
    pub halted: bool,
    pub sleeping: bool,
    pub locked_up: bool,
    pub reset_held: bool,
    /// Instructions the core may start in this slice, and has started.
    pub budget: u64,
    pub executed: u64,
    pub stop: Option<Stop>,
    /// A watchpoint hit: halt before the next instruction.
    pub halt_pending: bool,
    /// The simulator itself makes the halted core execute one instruction (a banked
    /// register move, `core`): the debug hooks stand aside.
    pub internal: bool,
}

pub struct System {
    /// The family's part of the chip: identity, memory map, flash controller, RCC.
    pub soc: Box<dyn Soc>,
    pub now_ns: u64,
    pub debug: CoreDebug,
    pub run: RunState,
    pub fpb: Fpb,
    pub dwt: Dwt,
    /// Plain peripheral registers by word address (only the words written; the others
    /// read as zero).
    pub peripherals: HashMap<u32, u32>,
    /// System Control Space registers that are only stored (NVIC, SysTick, SCB others).
    pub system_control: HashMap<u32, u32>,
    /// DBGMCU_CR (RM0008 31.16.3, RM0090 38.16.3: reset by power-on reset only).
    pub debug_mcu_control: u32,
    /// DBGMCU_APB1_FZ and APB2_FZ where the SoC has them (RM0090 38.16.4, 38.16.5).
    pub debug_mcu_freeze: [u32; 2],
    /// Core writes into the flash array: the bytes to put back after the store, as the
    /// array changes only when the controller finishes programming.
    pub flash_restores: Vec<(u32, Vec<u8>)>,
    /// The DWT comparators changed: the core's access hooks must follow.
    pub watchpoints_changed: bool,
    pub watch_hooks: Vec<UcHookId>,
    /// ITM and TPIU: the SWO output.
    pub trace: super::trace::Trace,
    /// `Soc::code_generation` when unicorn's translations were last dropped.
    pub code_generation_seen: u64,
    /// The Cortex-M7's caches as the debugger's writes meet them (`cache`).
    pub caches: super::cache::Caches,
    /// The SoC's external memory (`Soc::external_memory`), kept here: the core checks
    /// every fetch against it.
    pub external: Option<Memory>,
}

impl System {
    /// The debug domain's power-on reset (ARMv7-M C1.6: DHCSR, DEMCR, the FPB and DWT are
    /// reset by a power-on reset, not by a system reset; RM0008 31.16.3: DBGMCU_CR too).
    pub fn power_on_reset_debug(&mut self) {
        self.fpb = Fpb::for_core(self.soc.core());
        self.dwt = Dwt::new(self.soc.core());
        self.debug = CoreDebug::default();
        self.watchpoints_changed = true;
        self.debug_mcu_control = 0;
    }

    pub fn new(soc: Box<dyn Soc>) -> Self {
        let fpb = Fpb::for_core(soc.core());
        let dwt = Dwt::new(soc.core());
        let external = soc.external_memory();
        System {
            soc,
            now_ns: 0,
            debug: CoreDebug::default(),
            run: RunState::default(),
            fpb,
            dwt,
            peripherals: HashMap::new(),
            system_control: HashMap::new(),
            debug_mcu_control: 0,
            debug_mcu_freeze: [0; 2],
            flash_restores: Vec::new(),
            watchpoints_changed: true,
            watch_hooks: Vec::new(),
            trace: super::trace::Trace::default(),
            code_generation_seen: 0,
            caches: super::cache::Caches::default(),
            external,
        }
    }

    pub fn core_status(&self) -> CoreStatus {
        CoreStatus {
            halted: self.run.halted,
            sleeping: self.run.sleeping,
            locked_up: self.run.locked_up,
            in_reset: self.run.reset_held,
        }
    }

    /// Enter Debug state with DFSR `reason`; a halt also ends sleep and lockup
    /// (ARMv7-M B1.5.15: a debug halt exits Lockup).
    pub fn halt(&mut self, reason: u32) {
        self.run.halted = true;
        self.run.sleeping = false;
        self.run.locked_up = false;
        self.run.halt_pending = false;
        self.debug.note_halt(reason);
    }

    /// A peripheral reset (nRST or SYSRESETREQ): the plain registers to zero. The SoC is
    /// reset by the caller (its flash controller may change memory).
    pub fn reset_peripherals(&mut self) {
        self.peripherals.clear();
        self.system_control.clear();
    }

    pub fn variant(&self) -> Variant {
        self.soc.variant()
    }
}
