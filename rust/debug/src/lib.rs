//! The debug session: the targets found by a scan, the one attached, and everything done
//! to it: memory, flash (buffered per page), registers, run control, break and watch
//! points. The GDB server and the `target` Python module share one session.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod algorithm;
pub mod crc;
mod error;
mod flash;
pub mod itm;
pub mod rtt;
pub mod sequences;

use adi::registers::{
    ApRegister,
    ap::Idr,
    dp::{Abort, CtrlStat},
};
use adi::{
    Clock, ComponentKind, Deadline, DebugPort, Memory, MemoryAp, MemoryPort, RomTable, Transport,
};
use chips::{MemoryMap, Part};
use cortexm::{Core, CoreKind, REGISTER_COUNT};

pub use algo;
use algo::Algorithm;
use algorithm::Flashes;
pub use chips;
pub use cortexm::{
    Banked, HaltReason, TARGET_XML, TARGET_XML_FPU, TARGET_XML_NONSECURE, TARGET_XML_NONSECURE_FPU,
    TARGET_XML_SECURE, TARGET_XML_SECURE_FPU, WatchKind,
};
pub use error::{Error, Feature};
pub use flash::Report as FlashReport;
use flash::{FlashBuffer, FlashDriver};
pub use sequence;
pub use sequences::Failure as SequenceFailure;
use sequences::FlashSequences;

/// At most this many targets (MEM-APs with a Cortex-M behind them) are listed.
pub const MAX_TARGETS: usize = 4;
/// APs probed on a scan (ADIv5.2 allows 256; probe boards meet one or two).
const MAX_ACCESS_PORTS: u8 = 8;
/// How long a reset by debug sequences may take to halt at the reset vector.
const RESET_HALT_MICROS: u64 = 1_000_000;
/// Software breakpoints (BKPT written into RAM) at the same time.
const MAX_SOFTWARE_BREAKPOINTS: usize = 16;
/// How long a reconnect waits for a DP to answer again (on the session's clock); the
/// steps after it have their own limits.
const RECONNECT_MICROS: u64 = 500_000;
/// SWD line reset: at least 50 cycles with SWDIO high (ADIv5.2 B4.3.3).
const LINE_RESET_BITS: u32 = 56;
/// The SWJ-DP's JTAG-to-SWD select sequence, sent LSB first (ADIv5.2 B5.2.2).
const JTAG_TO_SWD: u16 = 0xE79E;

/// A target found by a scan.
#[derive(Clone, Copy, Debug)]
pub struct TargetInfo {
    pub dpidr: u32,
    pub cpuid: u32,
    pub core: CoreKind,
    pub chip: Part,
    /// The TARGETSEL of its DP on an SWD multi-drop wire (ADIv5.2 B4.3.4); None on a
    /// wire with one DP.
    pub target_select: Option<u32>,
    ap: MemoryAp,
}

impl TargetInfo {
    /// "STM32F1 medium density", as the scan list and `driver_name()` show it.
    pub fn driver_name(&self) -> &'static str {
        self.chip.name()
    }

    /// "M3", as `core_name()` shows it.
    pub fn core_name(&self) -> &'static str {
        self.core.name()
    }
}

/// Break and watch point types, numbered as GDB's Z packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakWatch {
    /// Z0: the session picks: BKPT in RAM, the FPB elsewhere.
    Software,
    /// Z1: an FPB comparator.
    Hardware,
    /// Z2, Z3, Z4: a DWT comparator.
    Watch(WatchKind),
}

impl BreakWatch {
    pub fn from_gdb(number: u32) -> Option<Self> {
        match number {
            0 => Some(BreakWatch::Software),
            1 => Some(BreakWatch::Hardware),
            2 => Some(BreakWatch::Watch(WatchKind::Write)),
            3 => Some(BreakWatch::Watch(WatchKind::Read)),
            4 => Some(BreakWatch::Watch(WatchKind::Access)),
            _ => None,
        }
    }
}

/// What a reset resets (Open-CMSIS-Pack spec, "Predefined Debug Access Sequences"):
/// gdb's `monitor reset [system|processor|hardware]`, `target.reset(halt, kind)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResetKind {
    /// The system but its debug logic, by software: AIRCR.SYSRESETREQ (ResetSystem).
    #[default]
    System,
    /// The core only: AIRCR.VECTRESET on ARMv7-M (ResetProcessor).
    Processor,
    /// The system through the nRESET line (ResetHardware, or ResetHardwareAssert and
    /// ResetHardwareDeassert).
    Hardware,
}

impl ResetKind {
    pub const NAMES: &'static [(&'static str, ResetKind)] = &[
        ("system", ResetKind::System),
        ("processor", ResetKind::Processor),
        ("hardware", ResetKind::Hardware),
    ];

    /// "system", "processor" or "hardware".
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|&(_, kind)| kind)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, kind)| *kind == self)
            .map_or("system", |(name, _)| name)
    }
}

/// The target lost power and the probe reconnected to it (`Session::reconnected`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reconnected {
    pub dpidr: u32,
}

impl core::fmt::Display for Reconnected {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "target power was lost; the probe reconnected (DPIDR {:#010x})",
            self.dpidr
        )
    }
}

/// Running, or halted and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaltStatus {
    Running,
    Halted(HaltReason),
}

struct Attached {
    index: usize,
    ap: MemoryAp,
    state: TargetState,
}

struct TargetState {
    core: Core,
    chip: Part,
    software_breakpoints: [Option<(u32, [u8; 2])>; MAX_SOFTWARE_BREAKPOINTS],
    flash: FlashBuffer,
    /// What the chip's driver keeps prepared between the erase and program calls of a load
    /// (chips::Session): ended at flash_done, before flash is read, the CRC routine runs,
    /// or anything else touches the core (`with_target`).
    session: chips::Session,
    /// The flash algorithm's calls on this target (loaded, initialised, a page running).
    runner: algo::runner::Runner,
}

pub struct Session<T: Transport, C: Clock> {
    port: Option<DebugPort<T, C>>,
    targets: [Option<TargetInfo>; MAX_TARGETS],
    attached: Option<Attached>,
    last_attached: Option<usize>,
    /// The multi-drop DP selected on the wire now (its TARGETSEL), if any.
    selected: Option<u32>,
    crc_options: crc::Options,
    /// The flash algorithm for the regions its FlashDevice covers (empty: none), and the
    /// RAM it runs in (None: the chip's first RAM region). Kept across attaches.
    algorithm: Algorithm,
    algorithm_ram: Option<(u32, u32)>,
    algorithm_slack_ms: u32,
    /// RTT of the attached target (settings survive detach and attach).
    pub rtt: rtt::Rtt,
    /// A device's CMSIS-Pack debug sequences and debugvars (empty: the built-in steps),
    /// the processor (`Pname`) they run for, and what they said. Kept across scans.
    sequences: sequence::Sequences,
    processor: heapless::String<{ sequence::MAX_NAME }>,
    sequence_log: sequences::Log,
    /// Flash work began (FlashInit ran, if the description has it) and flash_done has not
    /// yet ended it: the flash report when it began.
    flashing: Option<FlashReport>,
    /// The flash operation FlashInit ran for and FlashUninit has not (sequences.rs).
    flash_phase: Option<sequence::FlashOperation>,
    /// RecoverySupportStart ran before a resume; RecoverySupportStop runs at the halt.
    recovery_support: bool,
    /// SWO trace is on (`trace(true)`): TraceStart runs again after each reset.
    tracing: bool,
    /// An operation on the attached target failed: the next one checks the link first
    /// and, if the debug port stopped answering or lost power, reconnects (`reconnect`).
    link_suspect: bool,
    /// The last reconnect failed: the next operation reconnects without asking the DP.
    reconnect_failed: bool,
    /// Reconnects since the session began.
    reconnects: u32,
    /// A flash call of the work under way (`flashing`) failed: its error was reported.
    flash_failed: bool,
    /// The DPIDR of the last reconnect after a power loss since attach (`reconnected`).
    reconnected: Option<u32>,
    /// A reconnect not yet told to the user (`take_reconnected`).
    reconnect_untold: bool,
}

impl<T: Transport, C: Clock> Default for Session<T, C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Transport, C: Clock> Session<T, C> {
    pub const fn new() -> Self {
        Self {
            port: None,
            targets: [None; MAX_TARGETS],
            attached: None,
            last_attached: None,
            selected: None,
            crc_options: crc::Options::new(),
            algorithm: Algorithm::new(),
            algorithm_ram: None,
            algorithm_slack_ms: algo::runner::DEFAULT_SLACK_MS,
            rtt: rtt::Rtt::new(),
            sequences: sequence::Sequences::new(),
            processor: heapless::String::new(),
            sequence_log: heapless::String::new(),
            flashing: None,
            flash_phase: None,
            recovery_support: false,
            tracing: false,
            link_suspect: false,
            reconnect_failed: false,
            reconnects: 0,
            flash_failed: false,
            reconnected: None,
            reconnect_untold: false,
        }
    }

    /// Connect the debug port on `transport` (already switched to SWD or JTAG and reset),
    /// list the Cortex-M targets behind its MEM-APs. Detaches a target attached before.
    pub fn scan(
        &mut self,
        transport: T,
        clock: C,
    ) -> Result<impl Iterator<Item = &TargetInfo>, Error> {
        self.forget();
        let mut port = DebugPort::new(transport, clock);
        let found = self.find_targets(&mut port);
        // The wire stays with the session even when the scan fails, so its next use gets
        // it back (release()) rather than opening the pins anew, which on the host probe
        // would be a new simulated target (found by the fault campaigns, docs/reliability.md).
        self.port = Some(port);
        match found {
            Ok(0) => Err(Error::NoTargets),
            Ok(_) => Ok(self.targets()),
            Err(error) => {
                self.targets = [None; MAX_TARGETS];
                Err(error)
            }
        }
    }

    /// Connect `port` and fill the target list from its MEM-APs; the number found. When
    /// no DP answers, the wire may be SWD multi-drop with its DPs dormant (the RP2040):
    /// wake them and select each TARGETSEL the families know in turn.
    fn find_targets(&mut self, port: &mut DebugPort<T, C>) -> Result<usize, Error> {
        self.selected = None;
        let error = match self.connect_port(port) {
            Ok(dpidr) => {
                if self.has_sequence("DebugDeviceUnlock") {
                    self.run_sequence(port, "DebugDeviceUnlock", 0)?;
                }
                return self.add_targets(port, dpidr, None, 0);
            }
            // A debug sequence's failure is the answer, not a reason to try multi-drop.
            Err(error @ Error::Sequence(_)) => return Err(error),
            Err(error) => error,
        };
        if !port.transport().wake_from_dormant() {
            return Err(error);
        }
        let mut count = 0;
        for target_select in chips::multidrop_targets() {
            self.selected = None;
            let Ok(dpidr) = port.connect_target(target_select) else {
                continue; // no DP of that TARGETSEL on this wire
            };
            self.selected = Some(target_select);
            count = self.add_targets(port, dpidr, Some(target_select), count)?;
        }
        if count == 0 {
            return Err(error);
        }
        Ok(count)
    }

    /// Connect the DP on the wire: the description's DebugPortSetup (the wire comes switched
    /// to SWD or JTAG; a description may do it its own way) and DebugPortStart, or the
    /// built-in power-up; its DPIDR.
    fn connect_port(&mut self, port: &mut DebugPort<T, C>) -> Result<u32, Error> {
        if self.has_sequence("DebugPortSetup") {
            self.run_sequence(port, "DebugPortSetup", 0)?;
        }
        if self.has_sequence("DebugPortStart") {
            port.connect_with(|port| self.run_sequence(port, "DebugPortStart", 0))
        } else {
            port.connect().map_err(Error::from)
        }
    }

    /// Add the Cortex-M targets behind the connected DP's MEM-APs to the list, which holds
    /// `count` already; the new count.
    fn add_targets(
        &mut self,
        port: &mut DebugPort<T, C>,
        dpidr: u32,
        target_select: Option<u32>,
        mut count: usize,
    ) -> Result<usize, Error> {
        for ap_number in 0..MAX_ACCESS_PORTS {
            let idr = port.read_ap(ap_number, Idr::ADDRESS)?;
            if idr == 0 {
                break; // no AP here (ADIv5.2 C1.2.1): APs are numbered from 0 up
            }
            let probed = match Self::probe_access_port(port, ap_number, dpidr) {
                // An AP that refuses its memory may be an nRF52 under APPROTECT: say so,
                // with the command that lifts it.
                #[cfg(feature = "nrf52")]
                Err(_) if chips::nrf52::protected(port).unwrap_or(false) => {
                    return Err(chips::nrf52::PROTECTED.into());
                }
                #[cfg(feature = "samd21")]
                Err(_)
                    if Self::on_memory_ap(port, ap_number, |memory| {
                        chips::samd21::secured(memory)
                    })
                    .unwrap_or(false) =>
                {
                    return Err(chips::samd21::PROTECTED.into());
                }
                probed => probed?,
            };
            if count < MAX_TARGETS
                && let Some(mut target) = probed
            {
                target.target_select = target_select;
                self.targets[count] = Some(target);
                count += 1;
            }
        }
        Ok(count)
    }

    /// Run `work` on the memory behind MEM-AP `ap_number`.
    #[cfg(feature = "samd21")]
    fn on_memory_ap<R>(
        port: &mut DebugPort<T, C>,
        ap_number: u8,
        work: impl FnOnce(&mut dyn Memory) -> Result<R, chips::Error>,
    ) -> Result<R, Error> {
        let mut ap = MemoryAp::open(port, ap_number)?;
        let mut memory = MemoryPort { port, ap: &mut ap };
        Ok(work(&mut memory)?)
    }

    /// A Cortex-M target behind this AP: a MEM-AP whose ROM table lists an SCS.
    fn probe_access_port(
        port: &mut DebugPort<T, C>,
        ap_number: u8,
        dpidr: u32,
    ) -> Result<Option<TargetInfo>, Error> {
        let Ok(mut ap) = MemoryAp::open(port, ap_number) else {
            return Ok(None);
        };
        let Some(base) = ap.rom_table_base(port)? else {
            return Ok(None);
        };
        let mut memory = MemoryPort { port, ap: &mut ap };
        let table = RomTable::walk(&mut memory, base)?;
        if table.find(ComponentKind::SystemControlSpace).is_none() {
            return Ok(None);
        }
        let cpuid = u32::from(memory.load::<cortexm::registers::Cpuid>()?);
        let top = table.components().next();
        let identity = chips::Identity {
            dpidr,
            cpuid,
            rom_designer: top.map_or(0, |component| component.designer),
            rom_part: top.map_or(0, |component| component.part),
        };
        let chip = Part::identify(&mut memory, identity)?;
        Ok(Some(TargetInfo {
            dpidr,
            cpuid,
            core: CoreKind::from_cpuid(cpuid),
            chip,
            target_select: None,
            ap,
        }))
    }

    /// Lift a protection that only a vendor access port can (the nRF52's CTRL-AP
    /// ERASEALL: flash and UICR erased), on the wire of the last scan, even one that
    /// failed; scan again afterwards.
    pub fn recover(&mut self) -> Result<(), Error> {
        let _ = self.detach();
        let port = self.port.as_mut().ok_or(Error::NotScanned)?;
        Self::recover_vendor(port)?;
        self.targets = [None; MAX_TARGETS];
        self.last_attached = None;
        Ok(())
    }

    /// The nRF52's CTRL-AP ERASEALL, else a SAMD21's DSU chip erase (through AP0's
    /// external DSU range), as far as this build has those families.
    fn recover_vendor(port: &mut DebugPort<T, C>) -> Result<(), Error> {
        #[cfg(not(any(feature = "nrf52", feature = "samd21")))]
        let _ = port;
        #[cfg(feature = "nrf52")]
        if chips::nrf52::ctrl_ap(port)?.is_some() {
            return Ok(chips::nrf52::recover(port)?);
        }
        #[cfg(feature = "samd21")]
        return Self::on_memory_ap(port, 0, |memory| chips::samd21::recover(memory));
        #[cfg(not(feature = "samd21"))]
        Err(Error::Chip(chips::Error::Family {
            message: "recover: this build has no family that recovers this chip",
            address: None,
        }))
    }

    /// Drop the scan results (the wire is going to another use); detach first, then the
    /// description's DebugPortStop, if it has one, powers the debug port down.
    pub fn forget(&mut self) {
        let _ = self.detach();
        self.stop_port();
        self.targets = [None; MAX_TARGETS];
        self.last_attached = None;
        self.selected = None;
        self.port = None;
    }

    /// Give back the wire of the last scan, for another use (e.g. the CMSIS-DAP server).
    pub fn release(&mut self) -> Option<(T, C)> {
        let _ = self.detach();
        self.stop_port();
        let port = self.port.take();
        self.forget();
        port.map(DebugPort::into_parts)
    }

    /// The description's DebugPortStop on the wire of the last scan (its failure is in
    /// the sequence log: the wire goes on to its next use anyway).
    fn stop_port(&mut self) {
        if !self.has_sequence("DebugPortStop") {
            return;
        }
        if let Some(mut port) = self.port.take() {
            let _ = self.run_sequence(&mut port, "DebugPortStop", 0);
            self.port = Some(port);
        }
    }

    /// Run the CRC routine on the target (true, the default) or always read back; and the
    /// extra time it is allowed (None: the default). Kept across attaches.
    pub fn set_crc_options(&mut self, on_target: bool, timeout_micros: Option<u64>) {
        self.crc_options = crc::Options {
            on_target,
            timeout_micros,
        };
        if let Some(attached) = self.attached.as_mut() {
            attached.state.flash.crc_options = self.crc_options;
        }
    }

    /// The CRC routine's settings (see `set_crc_options`).
    pub fn crc_options(&self) -> crc::Options {
        self.crc_options
    }

    /// What the flash work and CRCs since attaching did (pages unchanged, erased,
    /// programmed; how the CRCs were taken).
    pub fn flash_report(&self) -> Option<FlashReport> {
        self.attached
            .as_ref()
            .map(|attached| attached.state.flash.report)
    }

    pub fn with_transport(&mut self, work: impl FnOnce(&mut T)) {
        if let Some(port) = self.port.as_mut() {
            work(port.transport());
        }
    }

    pub fn targets(&self) -> impl Iterator<Item = &TargetInfo> {
        self.targets.iter().flatten()
    }

    /// Attach to target `number` (1-based, as listed by the scan): identify its core,
    /// enable debug and halt it.
    pub fn attach(&mut self, number: usize) -> Result<(), Error> {
        if self.port.is_none() {
            return Err(Error::NotScanned);
        }
        let target = number
            .checked_sub(1)
            .and_then(|index| self.targets.get(index).copied().flatten())
            .ok_or(Error::NoSuchTarget(number))?;
        self.detach()?;
        let mut port = self.port.take().ok_or(Error::NotScanned)?;
        let started = self.start_target(&mut port, &target);
        let port = self.port.insert(port);
        started?;
        let mut ap = target.ap;
        ap.invalidate();
        let mut memory = MemoryPort { port, ap: &mut ap };
        let core = Core::attach(&mut memory)?;
        // What the family learns with the core halted (the RP2040's flash size).
        let chip = target.chip.attached(&mut memory)?;
        let mut flash = FlashBuffer::new();
        flash.crc_options = self.crc_options;
        let mut runner = algo::runner::Runner::new();
        runner.slack_ms = self.algorithm_slack_ms;
        let state = TargetState {
            core,
            chip,
            software_breakpoints: [None; MAX_SOFTWARE_BREAKPOINTS],
            flash,
            session: chips::Session::Closed,
            runner,
        };
        self.attached = Some(Attached {
            index: number - 1,
            ap,
            state,
        });
        self.flashing = None;
        self.flash_phase = None;
        self.recovery_support = false;
        self.link_suspect = false;
        self.reconnect_failed = false;
        self.reconnected = None;
        self.reconnect_untold = false;
        self.rtt.search_again();
        Ok(())
    }

    /// Select `target`'s DP on a multi-drop wire, then run the description's
    /// DebugCoreStart for it (before the built-in attach).
    fn start_target(
        &mut self,
        port: &mut DebugPort<T, C>,
        target: &TargetInfo,
    ) -> Result<(), Error> {
        if let Some(target_select) = target.target_select
            && self.selected != Some(target_select)
        {
            self.selected = None;
            port.connect_target(target_select)?;
            self.selected = Some(target_select);
        }
        if self.has_sequence("DebugCoreStart") {
            self.run_sequence(port, "DebugCoreStart", target.ap.number())?;
        }
        Ok(())
    }

    /// Remove breakpoints, finish flash writes, let the target run. No-op if not attached.
    pub fn detach(&mut self) -> Result<(), Error> {
        let Some(mut attached) = self.attached.take() else {
            return Ok(());
        };
        self.last_attached = Some(attached.index);
        let Some(port) = self.port.as_mut() else {
            return Ok(());
        };
        let mut memory = MemoryPort {
            port,
            ap: &mut attached.ap,
        };
        let state = &mut attached.state;
        let sequences =
            FlashSequences::wanted(&self.sequences, &self.processor).then_some(FlashSequences {
                description: &self.sequences,
                processor: &self.processor,
                log: &mut self.sequence_log,
                phase: &mut self.flash_phase,
            });
        let mut flashes = Flashes {
            chip: &state.chip,
            session: &mut state.session,
            core: &mut state.core,
            algorithm: &self.algorithm,
            runner: &mut state.runner,
            ram: self.algorithm_ram,
            sequences,
        };
        let flash = state.flash.finish(&mut memory, &mut flashes);
        let breakpoints = remove_software_breakpoints(&mut memory, state);
        state.core.detach(&mut memory)?;
        if self.has_sequence("DebugCoreStop") {
            let mut port = self.port.take().ok_or(Error::NotScanned)?;
            let stopped = self.run_sequence(&mut port, "DebugCoreStop", attached.ap.number());
            self.port = Some(port);
            stopped?;
        }
        flash.and(breakpoints)
    }

    /// Attach again to the target last detached from.
    pub fn reattach(&mut self) -> Result<(), Error> {
        if self.attached.is_some() {
            return Err(Error::AlreadyAttached);
        }
        let index = self.last_attached.ok_or(Error::NotAttached)?;
        self.attach(index + 1)
    }

    /// The number (1-based, as `attach()` takes it) of the attached target.
    pub fn attached_number(&self) -> Option<usize> {
        self.attached.as_ref().map(|attached| attached.index + 1)
    }

    pub fn attached(&self) -> Option<&TargetInfo> {
        self.attached
            .as_ref()
            .and_then(|attached| self.targets[attached.index].as_ref())
    }

    /// Run `work` with the attached target's memory and state. A flash algorithm call
    /// still running (the last page of a write) is finished first, and the chip's flash
    /// session ended: the core is the program's again. After a failed operation the link
    /// is checked first (`check_link`).
    /// An operation that fails on a lost link that a reconnect then restores runs once
    /// more (`again_after_reconnect`).
    fn with_target<R>(
        &mut self,
        mut work: impl FnMut(&mut MemoryPort<'_, T, C>, &mut TargetState) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.check_link()?;
        let repeatable = self.flashing.is_none();
        let outcome = self.with_target_now(&mut work);
        self.again_after_reconnect(outcome, repeatable, |session| {
            session.with_target_now(&mut work)
        })
    }

    /// After `outcome` failed: the link is checked at once (`check_link`); if the probe
    /// reconnected (the target had lost power, before or during the operation) and the
    /// operation is `repeatable` (no flash work was under way), `again` runs once. Only
    /// for operations whose second run has the effect of one on a target just reset
    /// (memory and register access, run control), never for code run on the target (the
    /// CRC routine, a mass erase): those keep their error.
    fn again_after_reconnect<R>(
        &mut self,
        outcome: Result<R, Error>,
        repeatable: bool,
        again: impl FnOnce(&mut Self) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let Err(error) = outcome else {
            return outcome;
        };
        self.link_suspect = true;
        if !repeatable {
            return Err(error);
        }
        let reconnects = self.reconnects;
        if self.check_link().is_err() || self.reconnects == reconnects {
            return Err(error);
        }
        let outcome = again(self);
        self.link_suspect |= outcome.is_err();
        outcome
    }

    fn with_target_now<R>(
        &mut self,
        work: impl FnOnce(&mut MemoryPort<'_, T, C>, &mut TargetState) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let attached = self.attached.as_mut().ok_or(Error::NotAttached)?;
        let port = self.port.as_mut().ok_or(Error::NotScanned)?;
        let mut memory = MemoryPort {
            port,
            ap: &mut attached.ap,
        };
        let state = &mut attached.state;
        if Feature::FlashAlgorithm.built() && state.runner.is_active() {
            state
                .runner
                .finish(&mut memory, &mut state.core, &self.algorithm)?;
        }
        state.chip.end_session(&mut state.session, &mut memory)?;
        work(&mut memory, state)
    }

    /// Run `work` with the attached target's memory, flash buffer and flashes (the chip's
    /// driver, and the flash algorithm on its device); the link checked first, as in
    /// `with_target`.
    fn with_flash<R>(
        &mut self,
        work: impl FnOnce(
            &mut MemoryPort<'_, T, C>,
            &mut FlashBuffer,
            &mut Flashes<'_>,
        ) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.check_link()?;
        let outcome = self.with_flash_now(work);
        self.link_suspect |= outcome.is_err();
        outcome
    }

    /// As `with_flash`, for an operation that may run again after a reconnect
    /// (`again_after_reconnect`): a memory read, the first erase of a load.
    fn with_flash_repeatable<R>(
        &mut self,
        mut work: impl FnMut(
            &mut MemoryPort<'_, T, C>,
            &mut FlashBuffer,
            &mut Flashes<'_>,
        ) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.check_link()?;
        let repeatable = self.flashing.is_none();
        let outcome = self.with_flash_now(&mut work);
        self.again_after_reconnect(outcome, repeatable, |session| {
            session.with_flash_now(&mut work)
        })
    }

    fn with_flash_now<R>(
        &mut self,
        work: impl FnOnce(
            &mut MemoryPort<'_, T, C>,
            &mut FlashBuffer,
            &mut Flashes<'_>,
        ) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let attached = self.attached.as_mut().ok_or(Error::NotAttached)?;
        let port = self.port.as_mut().ok_or(Error::NotScanned)?;
        let mut memory = MemoryPort {
            port,
            ap: &mut attached.ap,
        };
        let state = &mut attached.state;
        let sequences =
            FlashSequences::wanted(&self.sequences, &self.processor).then_some(FlashSequences {
                description: &self.sequences,
                processor: &self.processor,
                log: &mut self.sequence_log,
                phase: &mut self.flash_phase,
            });
        let mut flashes = Flashes {
            chip: &state.chip,
            session: &mut state.session,
            core: &mut state.core,
            algorithm: &self.algorithm,
            runner: &mut state.runner,
            ram: self.algorithm_ram,
            sequences,
        };
        work(&mut memory, &mut state.flash, &mut flashes)
    }

    /// Before an operation that follows a failed one: if the debug port no longer answers,
    /// or its debug and system domains are down (the target lost power, ADIv5.2 B2.2.2),
    /// reconnect once. A port that answers powered up only has its sticky flags cleared.
    fn check_link(&mut self) -> Result<(), Error> {
        if !self.link_suspect || self.attached.is_none() {
            return Ok(());
        }
        let port = self.port.as_mut().ok_or(Error::NotScanned)?;
        if !self.reconnect_failed
            && let Ok(ctrl_stat) = port.read_dp_register::<CtrlStat>()
            && ctrl_stat.powered_up()
        {
            if ctrl_stat.sticky() {
                port.write_dp_register(Abort::clear_sticky()).ok();
            }
            self.link_suspect = false;
            return Ok(());
        }
        // A failed reconnect may have powered up a DP that is not the attached target's:
        // each operation tries again from the start until one succeeds.
        self.reconnect_failed = true;
        let dropped = self.flashing.is_some() && !self.flash_failed;
        self.reconnect()?;
        self.reconnect_failed = false;
        self.link_suspect = false;
        if dropped {
            return Err(Error::FlashWorkDropped);
        }
        Ok(())
    }

    /// Re-establish the link to the attached target after a power loss, as scan and
    /// attach did: the wire switched to SWD again (or the JTAG TAPs reset), the DP
    /// connected (its multi-drop TARGETSEL selected again), its DPIDR, the MEM-AP and the
    /// core's CPUID checked against the attached target's, the core halted (it runs from
    /// reset after power-up) with its break and watch points armed again. A load under
    /// way is dropped (its failure was already reported). A DP that does not answer is
    /// tried again for up to RECONNECT_MICROS.
    fn reconnect(&mut self) -> Result<(), Error> {
        let attached = self.attached.as_ref().ok_or(Error::NotAttached)?;
        let target = self.targets[attached.index].ok_or(Error::NotAttached)?;
        let mut port = self.port.take().ok_or(Error::NotScanned)?;
        // The target may still be powering up: no answer is tried again until the limit.
        let deadline = Deadline::new(port.now_micros(), RECONNECT_MICROS);
        let connected = loop {
            match self.connect_again(&mut port, &target) {
                Err(Error::Adi(adi::Error::NoResponse | adi::Error::Protocol))
                    if !deadline.passed(port.now_micros()) => {}
                outcome => break outcome,
            }
        };
        let port = self.port.insert(port);
        let dpidr = connected?;
        if dpidr != target.dpidr {
            return Err(Error::DifferentTarget {
                what: "DPIDR",
                attached: target.dpidr,
                now: dpidr,
            });
        }
        let attached = self.attached.as_mut().ok_or(Error::NotAttached)?;
        MemoryAp::open(port, target.ap.number())?;
        attached.ap.invalidate();
        let mut memory = MemoryPort {
            port,
            ap: &mut attached.ap,
        };
        let cpuid = u32::from(memory.load::<cortexm::registers::Cpuid>()?);
        if cpuid != target.cpuid {
            return Err(Error::DifferentTarget {
                what: "CPUID",
                attached: target.cpuid,
                now: cpuid,
            });
        }
        let state = &mut attached.state;
        let mut core = Core::attach(&mut memory)?;
        for address in state.core.breakpoints.addresses() {
            core.breakpoints.set(&mut memory, address)?;
        }
        for (kind, address, length) in state.core.watchpoints.armed() {
            core.watchpoints.set(&mut memory, kind, address, length)?;
        }
        state.core = core;
        // RAM lost its contents: software breakpoints and the flash work are gone.
        state.software_breakpoints = [None; MAX_SOFTWARE_BREAKPOINTS];
        let report = state.flash.report;
        state.flash = FlashBuffer::new();
        state.flash.crc_options = self.crc_options;
        state.flash.report = report;
        state.session = chips::Session::Closed;
        let slack_ms = state.runner.slack_ms;
        state.runner = algo::runner::Runner::new();
        state.runner.slack_ms = slack_ms;
        self.flashing = None;
        self.flash_phase = None;
        self.recovery_support = false;
        self.rtt.search_again();
        self.reconnected = Some(dpidr);
        self.reconnect_untold = true;
        self.reconnects += 1;
        Ok(())
    }

    /// The wire to SWD again (line reset, JTAG-to-SWD, ADIv5.2 B5.2.2: a DP powered up
    /// anew starts in JTAG; one already in SWD ignores it) or the TAPs reset, the DP
    /// connected as the scan did; on a multi-drop wire the dormant DPs woken and the
    /// target's TARGETSEL selected (B4.3.4, B5.3). The DPIDR that answers.
    fn connect_again(
        &mut self,
        port: &mut DebugPort<T, C>,
        target: &TargetInfo,
    ) -> Result<u32, Error> {
        self.selected = None;
        if let Some(target_select) = target.target_select {
            port.transport().wake_from_dormant();
            let dpidr = port.connect_target(target_select)?;
            self.selected = Some(target_select);
            return Ok(dpidr);
        }
        let transport = port.transport();
        if !transport.is_jtag()
            && !self.has_sequence("DebugPortSetup")
            && let Some(swj) = transport.swj()
        {
            swj.sequence(LINE_RESET_BITS, u64::MAX);
            swj.sequence(16, JTAG_TO_SWD.into());
        }
        // The line reset (or Test-Logic-Reset) and DPIDR read that must follow; connect
        // reads DPIDR again and says if nothing answers.
        port.transport().resynchronise().ok();
        self.connect_port(port)
    }

    /// The probe reconnected to the attached target since attach (its power was lost): what
    /// to tell the user (`monitor flash_report` does).
    pub fn reconnected(&self) -> Option<Reconnected> {
        self.reconnected.map(|dpidr| Reconnected { dpidr })
    }

    /// The reconnect since the last call (or attach), once: a front end tells its user at
    /// the next point it may (the GDB server on gdb's console).
    pub fn take_reconnected(&mut self) -> Option<Reconnected> {
        core::mem::take(&mut self.reconnect_untold)
            .then(|| self.reconnected())
            .flatten()
    }

    /// A halt request or poll (`call`) during which the probe reconnected after a power
    /// loss fails with `Error::PowerLost`: the core was reset and the reconnect halted it,
    /// which must not pass for a halt the program or the user asked for.
    fn reporting_power_loss<R>(
        &mut self,
        call: impl FnOnce(&mut Self) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let reconnects = self.reconnects;
        let outcome = call(self);
        match self.reconnected {
            Some(dpidr) if self.reconnects != reconnects => Err(Error::PowerLost { dpidr }),
            _ => outcome,
        }
    }

    pub fn memory_map(&self) -> Result<MemoryMap, Error> {
        let attached = self.attached.as_ref().ok_or(Error::NotAttached)?;
        Ok(algorithm::memory_map(&attached.state.chip, &self.algorithm))
    }

    /// Use a flash algorithm for the flash its FlashDevice describes: `load` fills it in
    /// (`algo::flm::load`, `algo::probe_rs::load`); `ram` is where it runs (None: the
    /// chip's first RAM region). Flash work under way is finished first. On an error no
    /// algorithm is left in use.
    pub fn set_flash_algorithm(
        &mut self,
        load: impl FnOnce(&mut Algorithm) -> Result<(), algo::Error>,
        ram: Option<(u32, u32)>,
    ) -> Result<(), Error> {
        Feature::FlashAlgorithm.require()?;
        if self.attached.is_some() {
            self.with_flash(|memory, flash, flashes| flash.finish(memory, flashes))?;
        }
        self.algorithm_ram = ram;
        let loaded = load(&mut self.algorithm)
            .map_err(Error::from)
            .and_then(|()| algorithm::check(&self.algorithm));
        let placed = loaded.and_then(|()| {
            let Some(attached) = self.attached.as_mut() else {
                return Ok(());
            };
            attached.state.runner.forget();
            let ram = ram
                .or_else(|| algorithm::default_ram(&attached.state.chip))
                .ok_or(Error::NoAlgorithmRam)?;
            algo::runner::Layout::new(&self.algorithm, ram.0, ram.1)?;
            Ok(())
        });
        if placed.is_err() {
            self.algorithm.clear();
        }
        placed
    }

    /// Stop using the flash algorithm (the chip's driver, if any, serves its flash again).
    pub fn clear_flash_algorithm(&mut self) -> Result<(), Error> {
        if self.attached.is_some() {
            self.with_flash(|memory, flash, flashes| flash.finish(memory, flashes))?;
        }
        self.algorithm.clear();
        Ok(())
    }

    /// The flash algorithm in use, if any.
    pub fn flash_algorithm(&self) -> Option<&Algorithm> {
        self.algorithm.is_loaded().then_some(&self.algorithm)
    }

    /// Time added to every algorithm call's timeout (the FlashDevice's), in ms.
    pub fn set_algorithm_slack(&mut self, millis: u32) {
        self.algorithm_slack_ms = millis;
        if let Some(attached) = self.attached.as_mut() {
            attached.state.runner.slack_ms = millis;
        }
    }

    /// Read memory; a Cortex-M7's data cache is cleaned over it first (`cortexm::cache`).
    pub fn read_memory(&mut self, address: u32, data: &mut [u8]) -> Result<(), Error> {
        self.with_flash_repeatable(|memory, flash, flashes| {
            let range = Some((address, data.len() as u32));
            flash.finish_before(memory, flashes, range)?;
            let caches = flashes.core.caches();
            Ok(cortexm::cache::read(caches, memory, address, data)?)
        })
        .map_err(|error| self.nonsecure_refusal(error))
    }

    /// Write memory; a Cortex-M7's caches are cleaned and invalidated around it.
    pub fn write_memory(&mut self, address: u32, data: &[u8]) -> Result<(), Error> {
        self.with_target(|memory, state| {
            let map = state.chip.memory_map();
            state.flash.note_write(&map, address, data.len() as u32);
            let caches = state.core.caches();
            Ok(cortexm::cache::write(caches, memory, address, data)?)
        })
        .map_err(|error| self.nonsecure_refusal(error))
    }

    /// A bus error through a MEM-AP that may only make Non-secure transfers says so.
    fn nonsecure_refusal(&self, error: Error) -> Error {
        match error {
            Error::Adi(adi::Error::Bus { address })
                if self.attached().is_some_and(|target| target.ap.nonsecure()) =>
            {
                Error::NonSecureRefused { address }
            }
            other => other,
        }
    }

    /// The attached target's memory transfers are Non-secure only (Secure debug not
    /// permitted: its AHB5-AP's SPIDEN is low).
    pub fn nonsecure_only(&self) -> bool {
        self.attached().is_some_and(|target| target.ap.nonsecure())
    }

    /// Erase the flash pages that `[address, address + length)` touches. The erase waits
    /// for the data that follows (`flash_write`, up to `flash_done`): pages that already
    /// hold it are left alone, pages that read back erased are not erased again, and a
    /// request covering the whole flash may become one mass erase (see flash.rs). The
    /// target must be halted for the CRC routine to run; otherwise the pages are read back.
    /// A request starting or ending inside a sector larger than the 16 KiB flash buffer
    /// (STM32F4 64/128 KiB) whose rest holds data is refused: [`Error::PartialSector`].
    pub fn flash_erase(&mut self, address: u32, length: u32) -> Result<(), Error> {
        // A load's first request checks the link first (one CTRL/STAT read): a target
        // that lost power since the last operation is reconnected before the load begins.
        if self.flashing.is_none() {
            self.link_suspect = true;
            self.check_link()?;
        }
        self.begin_flash()?;
        let erased =
            self.with_flash(|memory, flash, flashes| flash.erase(memory, flashes, address, length));
        self.flash_outcome(erased)
    }

    /// GDB's CRC-32 of `[address, address + length)` (qCRC), computed on the target's core
    /// when it is halted and has free SRAM, else by reading back; says which.
    pub fn crc32(&mut self, address: u32, length: u32) -> Result<(u32, crc::Method), Error> {
        self.with_flash(|memory, flash, flashes| {
            let range = Some((address, length));
            flash.finish_before(memory, flashes, range)?;
            let mut value = [0u32];
            let method =
                flashes.block_crcs(memory, flash.crc_options, address, length, &mut value)?;
            flash.report.method = Some(method);
            Ok((value[0], method))
        })
    }

    /// Write flash at any address and length; programmed a page at a time, the last page
    /// by `flash_done()`.
    pub fn flash_write(&mut self, address: u32, data: &[u8]) -> Result<(), Error> {
        self.begin_flash()?;
        let written =
            self.with_flash(|memory, flash, flashes| flash.write(memory, flashes, address, data));
        self.flash_outcome(written)
    }

    /// Program what is still buffered and lock the flash; a Cortex-M7's caches are
    /// invalidated (the flash changed under them). The operation under way ends with the
    /// description's FlashUninit (in the flash work, see sequences.rs); flash work begun
    /// since the last call then ends with its FlashEraseDone (pages were erased,
    /// `__FlashOp` 1), FlashProgramDone (pages were programmed, `__FlashOp` 2) and
    /// DebugCodeMemRemap (before the flash is read to verify it), those it has.
    pub fn flash_done(&mut self) -> Result<(), Error> {
        let finished = self.with_flash(|memory, flash, flashes| {
            flash.finish(memory, flashes)?;
            after_flash(flashes.core, memory)
        });
        self.flash_outcome(finished)?;
        let Some(before) = self.flashing.take() else {
            return Ok(());
        };
        let now = self.flash_report().unwrap_or_default();
        let erased = now.erased + now.mass_erases > before.erased + before.mass_erases;
        use sequence::FlashOperation as Op;
        let steps = [
            ("FlashEraseDone", erased, Op::ERASE),
            (
                "FlashProgramDone",
                now.programmed > before.programmed,
                Op::PROGRAM,
            ),
            ("DebugCodeMemRemap", true, 0),
        ];
        for (name, due, operation) in steps {
            if due && self.has_sequence(name) {
                let flash = Op {
                    operation,
                    ..Op::default()
                };
                self.run_on_attached_with(name, flash)?;
            }
        }
        Ok(())
    }

    /// Flash work begins (an erase or write after flash_done or attach): the flash report
    /// is kept to tell at flash_done what was erased and programmed.
    fn begin_flash(&mut self) -> Result<(), Error> {
        if self.flashing.is_none() {
            self.flash_failed = false;
            self.flashing = Some(self.flash_report().ok_or(Error::NotAttached)?);
        }
        Ok(())
    }

    /// A flash call's outcome: its error is the error of the flash work under way (a
    /// reconnect that drops that work then has nothing more to say).
    fn flash_outcome<R>(&mut self, outcome: Result<R, Error>) -> Result<R, Error> {
        if outcome.is_err() && self.flashing.is_some() {
            self.flash_failed = true;
        }
        outcome
    }

    /// Run the description's sequence `name` on the attached target's AP, a flash
    /// algorithm call still running finished first.
    fn run_on_attached(&mut self, name: &'static str) -> Result<(), Error> {
        self.run_on_attached_with(name, sequence::FlashOperation::default())
    }

    /// As `run_on_attached`, with the flash variables of `flash`.
    fn run_on_attached_with(
        &mut self,
        name: &'static str,
        flash: sequence::FlashOperation,
    ) -> Result<(), Error> {
        self.with_target(|_, _| Ok(()))?;
        let ap = self
            .attached
            .as_ref()
            .ok_or(Error::NotAttached)?
            .ap
            .number();
        let mut port = self.port.take().ok_or(Error::NotScanned)?;
        let outcome = sequences::run(
            &mut port,
            &self.sequences,
            &self.processor,
            &mut self.sequence_log,
            name,
            ap,
            flash,
            false,
        );
        self.port = Some(port);
        if let Some(attached) = self.attached.as_mut() {
            attached.ap.invalidate();
        }
        outcome
    }

    pub fn flash_mass_erase(&mut self) -> Result<(), Error> {
        self.with_flash(|memory, flash, flashes| {
            flash.finish(memory, flashes)?;
            flashes.chip.mass_erase(memory)?;
            after_flash(flashes.core, memory)
        })
    }

    /// The attached chip's own monitor commands (name, handler, help).
    pub fn chip_commands(&self) -> &'static [chips::Command] {
        self.attached
            .as_ref()
            .map_or(&[], |attached| attached.state.chip.commands())
    }

    /// Run the attached chip's command `name` (flash work is finished first); its output
    /// goes to `out`.
    pub fn chip_command(
        &mut self,
        name: &str,
        arguments: &str,
        out: &mut dyn core::fmt::Write,
    ) -> Result<(), Error> {
        self.with_chip(|part, memory| {
            part.command(memory, name, arguments, out)
                .unwrap_or(Err(chips::Error::Family {
                    message: "no such command for this chip (monitor help lists them)",
                    address: None,
                }))
        })
    }

    /// Work on the attached chip through its family driver, flash work finished first.
    pub fn with_chip<R>(
        &mut self,
        work: impl FnOnce(&Part, &mut dyn Memory) -> Result<R, chips::Error>,
    ) -> Result<R, Error> {
        self.flash_done()?;
        self.check_link()?;
        let outcome = self.with_target_now(|memory, state| Ok(work(&state.chip, memory)?));
        self.link_suspect |= outcome.is_err();
        outcome
    }

    pub fn read_registers(&mut self, values: &mut [u32; REGISTER_COUNT]) -> Result<(), Error> {
        self.with_target(|memory, state| Ok(state.core.read_registers(memory, values)?))
    }

    pub fn write_registers(&mut self, values: &[u32; REGISTER_COUNT]) -> Result<(), Error> {
        self.with_target(|memory, state| Ok(state.core.write_registers(memory, values)?))
    }

    pub fn read_register(&mut self, number: usize) -> Result<u32, Error> {
        self.with_target(|memory, state| Ok(state.core.read_register(memory, number)?))
    }

    pub fn write_register(&mut self, number: usize, value: u32) -> Result<(), Error> {
        self.with_target(|memory, state| Ok(state.core.write_register(memory, number, value)?))
    }

    /// Any register of the attached core's target description, 64 bits wide for the FPU's
    /// d0-d15 (`p`/`P`).
    pub fn read_register_wide(&mut self, number: usize) -> Result<u64, Error> {
        self.with_target(|memory, state| Ok(state.core.read_register_wide(memory, number)?))
    }

    pub fn write_register_wide(&mut self, number: usize, value: u64) -> Result<(), Error> {
        self.with_target(|memory, state| {
            Ok(state.core.write_register_wide(memory, number, value)?)
        })
    }

    /// The size in bytes of register `number` on the attached core (None: no such register,
    /// or not attached).
    pub fn register_size(&self, number: usize) -> Option<usize> {
        self.attached.as_ref()?.state.core.register_size(number)
    }

    /// The attached ARMv8-M mainline core's banked and stack-limit registers (`Banked`).
    pub fn banked_registers(&self) -> Option<Banked> {
        Some(self.attached.as_ref()?.state.core.banked())
    }

    /// GDB's target description of the attached core (TARGET_XML when not attached).
    pub fn target_description(&self) -> &'static str {
        self.attached.as_ref().map_or(TARGET_XML, |attached| {
            attached.state.core.target_description()
        })
    }

    /// Ask the core to halt. `Error::PowerLost` if the target lost power (the probe
    /// reconnected and halted the core).
    pub fn halt_request(&mut self) -> Result<(), Error> {
        self.reporting_power_loss(|session| {
            session.with_target(|memory, state| Ok(state.core.halt_request(memory)?))
        })
    }

    /// Running or halted; at the halt after a resume, the description's
    /// RecoverySupportStop if RecoverySupportStart ran before it. `Error::PowerLost` if
    /// the target lost power (the probe reconnected and halted the core).
    pub fn halt_poll(&mut self) -> Result<HaltStatus, Error> {
        let status = self.reporting_power_loss(|session| {
            session.with_target(|memory, state| {
                Ok(match state.core.poll(memory)? {
                    None => HaltStatus::Running,
                    Some(reason) => HaltStatus::Halted(reason),
                })
            })
        })?;
        if status != HaltStatus::Running && core::mem::take(&mut self.recovery_support) {
            self.run_on_attached("RecoverySupportStop")?;
        }
        Ok(status)
    }

    /// Run or step; the description's RecoverySupportStart first, if it has one (spec:
    /// "executed before step or run command").
    pub fn resume(&mut self, step: bool) -> Result<(), Error> {
        self.with_flash(|memory, flash, flashes| flash.finish_before(memory, flashes, None))?;
        if self.has_sequence("RecoverySupportStart") {
            self.run_on_attached("RecoverySupportStart")?;
            self.recovery_support = self.has_sequence("RecoverySupportStop");
        }
        self.with_target(|memory, state| Ok(state.core.resume(memory, step)?))
    }

    /// SWO trace starts (`on`) or stops: the description's TraceStart, before the probe
    /// takes the SWO stream, or TraceStop, after it stops; nothing without one or before
    /// a scan. While it is on, every reset is followed by TraceStart again (`reset_kind`).
    pub fn trace(&mut self, on: bool) -> Result<(), Error> {
        self.tracing = on;
        let name = if on { "TraceStart" } else { "TraceStop" };
        if !self.has_sequence(name) || self.port.is_none() {
            return Ok(());
        }
        if self.attached.is_some() {
            return self.run_on_attached(name);
        }
        let mut port = self.port.take().ok_or(Error::NotScanned)?;
        let outcome = self.run_sequence(&mut port, name, 0);
        self.port = Some(port);
        outcome
    }

    /// Reset the target through the core (SYSRESETREQ), or by the description's debug
    /// sequences if it has ResetSystem, ResetCatchSet or ResetCatchClear; `halt` stops it
    /// at the reset vector.
    pub fn reset(&mut self, halt: bool) -> Result<(), Error> {
        self.reset_kind(ResetKind::System, halt)
    }

    /// Reset as `kind` says. A system reset is the built-in one unless the description
    /// has ResetSystem, ResetCatchSet or ResetCatchClear; a processor or hardware reset
    /// always goes through the sequences (ResetCatchSet with `halt`, ResetProcessor or
    /// ResetHardware, the wait for the halt, ResetCatchClear): the description's, or the
    /// spec's defaults (VECTRESET; nRESET low 50 ms, then high).
    pub fn reset_kind(&mut self, kind: ResetKind, halt: bool) -> Result<(), Error> {
        if kind != ResetKind::System {
            // Processor and hardware resets are sequences only.
            Feature::Sequences.require()?;
        }
        self.with_flash(|memory, flash, flashes| flash.finish_before(memory, flashes, None))?;
        let by_sequences = kind != ResetKind::System
            || ["ResetSystem", "ResetCatchSet", "ResetCatchClear"]
                .iter()
                .any(|name| self.has_sequence(name));
        self.with_target(|memory, state| {
            // A reset wipes RAM breakpoints' meaning; forget them, keep hardware ones.
            state.software_breakpoints = [None; MAX_SOFTWARE_BREAKPOINTS];
            if by_sequences {
                state.core.note_reset(halt);
                Ok(())
            } else {
                Ok(state.core.reset(memory, halt)?)
            }
        })?;
        if by_sequences {
            self.reset_by_sequences(kind, halt)?;
        }
        // Secure debug may be allowed or not after the reset (ARMv8-M DHCSR.S_SDE): the
        // registers offered follow it (gdb reads the new description at its next attach).
        self.with_target(|memory, state| Ok(state.core.refresh_secure_debug(memory)?))?;
        // The program sets its control block up again, maybe elsewhere.
        self.rtt.search_again();
        // Spec, "Predefined Debug Access Sequences", TraceStart: executed "after the
        // initial target connection as well as after a system-wide reset" (and the Reset
        // flow: "Trace enabled?" -> TraceStart after every kind).
        if self.tracing && self.has_sequence("TraceStart") {
            self.run_on_attached("TraceStart")?;
        }
        Ok(())
    }

    /// ResetCatchSet (with `halt`), the reset of `kind`, the wait for the halt,
    /// ResetCatchClear: the description's, or the standard ones where it has none. A
    /// hardware reset is ResetHardware, or ResetHardwareAssert and ResetHardwareDeassert
    /// when the description has either but no ResetHardware.
    fn reset_by_sequences(&mut self, kind: ResetKind, halt: bool) -> Result<(), Error> {
        let resets: &[&str] = match kind {
            ResetKind::System => &["ResetSystem"],
            ResetKind::Processor => &["ResetProcessor"],
            ResetKind::Hardware
                if !self.has_sequence("ResetHardware")
                    && (self.has_sequence("ResetHardwareAssert")
                        || self.has_sequence("ResetHardwareDeassert")) =>
            {
                &["ResetHardwareAssert", "ResetHardwareDeassert"]
            }
            ResetKind::Hardware => &["ResetHardware"],
        };
        let attached = self.attached.as_mut().ok_or(Error::NotAttached)?;
        let ap = attached.ap.number();
        let mut port = self.port.take().ok_or(Error::NotScanned)?;
        let mut steps = || -> Result<(), Error> {
            if halt {
                self.run_standard(&mut port, "ResetCatchSet", ap)?;
            }
            for reset in resets {
                self.run_standard(&mut port, reset, ap)?;
            }
            if halt {
                let attached = self.attached.as_mut().ok_or(Error::NotAttached)?;
                attached.ap.invalidate();
                let mut memory = MemoryPort {
                    port: &mut port,
                    ap: &mut attached.ap,
                };
                adi::poll_memory(
                    &mut memory,
                    RESET_HALT_MICROS,
                    Error::Core(cortexm::Error::ResetTimeout),
                    |memory| {
                        let halted = memory
                            .load::<cortexm::registers::Dhcsr>()
                            .is_ok_and(|dhcsr| dhcsr.s_halt());
                        Ok(halted.then_some(()))
                    },
                )?;
                self.run_standard(&mut port, "ResetCatchClear", ap)?;
            }
            Ok(())
        };
        let outcome = steps();
        self.port = Some(port);
        if let Some(attached) = self.attached.as_mut() {
            attached.ap.invalidate();
        }
        outcome
    }

    /// Use a CMSIS-Pack device's debug sequences and debugvars (`tools/pack`'s text, put in
    /// place by `fill`; see crate `sequence`) for processor `processor` ("" when the device
    /// has one); they replace built-in steps (see sequences.rs). On an error none are kept.
    pub fn load_sequences(
        &mut self,
        processor: &str,
        fill: impl FnOnce(&mut heapless::Vec<u8, { sequence::TEXT_BYTES }>) -> bool,
    ) -> Result<(), sequence::Error<core::convert::Infallible>> {
        self.processor.clear();
        let _ = self
            .processor
            .push_str(&processor[..processor.len().min(sequence::MAX_NAME)]);
        self.sequences.load_with(fill)
    }

    /// Back to the built-in steps.
    pub fn clear_sequences(&mut self) {
        self.sequences.clear();
    }

    /// The loaded debug sequences and debugvars.
    pub fn sequences(&self) -> &sequence::Sequences {
        &self.sequences
    }

    /// Override debugvars (`name = value;` statements; all or none applied).
    pub fn set_debugvars(
        &mut self,
        overrides: &str,
    ) -> Result<(), sequence::Error<core::convert::Infallible>> {
        self.sequences.set_debugvars(overrides)
    }

    /// What the sequences said since the last call (messages, timeouts, errors), emptied.
    pub fn take_sequence_log(&mut self) -> sequences::Log {
        core::mem::take(&mut self.sequence_log)
    }

    /// Run the description's sequence `name` (or the standard one) now, on the attached
    /// target's AP (AP 0 if none is attached): e.g. TraceStart. The attached target's
    /// state (flash work, a running algorithm call) is settled first.
    pub fn run_named_sequence(&mut self, name: &str) -> Result<(), Error> {
        Feature::Sequences.require()?;
        let ap = match self.attached.as_ref() {
            Some(attached) => attached.ap.number(),
            None => 0,
        };
        if self.attached.is_some() {
            self.flash_done()?;
            self.with_target(|_, _| Ok(()))?;
        }
        let mut port = self.port.take().ok_or(Error::NotScanned)?;
        let outcome = self.run_standard(&mut port, name, ap);
        self.port = Some(port);
        if let Some(attached) = self.attached.as_mut() {
            attached.ap.invalidate();
        }
        outcome
    }

    fn has_sequence(&self, name: &str) -> bool {
        Feature::Sequences.built() && self.sequences.has(name, &self.processor)
    }

    /// Run the description's sequence `name` on `port` with `__ap` = `ap`.
    fn run_sequence(
        &mut self,
        port: &mut DebugPort<T, C>,
        name: &'static str,
        ap: u8,
    ) -> Result<(), Error> {
        self.run_on(port, name, ap, false)
    }

    /// As `run_sequence`, the standard sequence where the description has none.
    fn run_standard(
        &mut self,
        port: &mut DebugPort<T, C>,
        name: &str,
        ap: u8,
    ) -> Result<(), Error> {
        self.run_on(port, name, ap, true)
    }

    fn run_on(
        &mut self,
        port: &mut DebugPort<T, C>,
        name: &str,
        ap: u8,
        or_standard: bool,
    ) -> Result<(), Error> {
        let flash = sequence::FlashOperation::default();
        sequences::run(
            port,
            &self.sequences,
            &self.processor,
            &mut self.sequence_log,
            name,
            ap,
            flash,
            or_standard,
        )
    }

    /// One RTT poll of the attached target, if RTT is on and the interval has passed
    /// (`now_us` from any free-running clock). The target keeps running. Returns the bytes
    /// moved; nothing happens without an attached target.
    pub fn rtt_poll(&mut self, now_us: u64, io: &mut dyn rtt::RttIo) -> usize {
        let (Some(attached), Some(port)) = (self.attached.as_mut(), self.port.as_mut()) else {
            return 0;
        };
        if !self.rtt.due(now_us) {
            return 0;
        }
        let map = attached.state.chip.memory_map();
        let mut memory = MemoryPort {
            port,
            ap: &mut attached.ap,
        };
        self.rtt.poll(&mut memory, &map, now_us, io)
    }

    /// Up to `buffer.len()` bytes that up channel `channel` of the attached target's RTT
    /// block holds now (found first, with RTT's settings: address, ident, RAM range); the
    /// rest stays in the target. The target keeps running; polling need not be on.
    pub fn rtt_read(&mut self, channel: u8, buffer: &mut [u8]) -> Result<usize, Error> {
        let Session {
            attached,
            port,
            rtt,
            ..
        } = self;
        let attached = attached.as_mut().ok_or(Error::NotAttached)?;
        let port = port.as_mut().ok_or(Error::NotScanned)?;
        let map = attached.state.chip.memory_map();
        let mut memory = MemoryPort {
            port,
            ap: &mut attached.ap,
        };
        rtt.read_channel(&mut memory, &map, channel, buffer)
            .map_err(rtt_error)
    }

    /// Write `data` to down channel `channel` of the attached target's RTT block, as much as
    /// fits now; the count written.
    pub fn rtt_write(&mut self, channel: u8, data: &[u8]) -> Result<usize, Error> {
        let Session {
            attached,
            port,
            rtt,
            ..
        } = self;
        let attached = attached.as_mut().ok_or(Error::NotAttached)?;
        let port = port.as_mut().ok_or(Error::NotScanned)?;
        let map = attached.state.chip.memory_map();
        let mut memory = MemoryPort {
            port,
            ap: &mut attached.ap,
        };
        rtt.write_channel(&mut memory, &map, channel, data)
            .map_err(rtt_error)
    }

    pub fn set_breakwatch(
        &mut self,
        kind: BreakWatch,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        self.with_target(|memory, state| match kind {
            BreakWatch::Software if is_ram(&state.chip, address) => {
                set_software_breakpoint(memory, state, address)
            }
            BreakWatch::Software | BreakWatch::Hardware => {
                Ok(state.core.breakpoints.set(memory, address)?)
            }
            BreakWatch::Watch(watch) => {
                Ok(state.core.watchpoints.set(memory, watch, address, length)?)
            }
        })
    }

    pub fn clear_breakwatch(
        &mut self,
        kind: BreakWatch,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        self.with_target(|memory, state| match kind {
            BreakWatch::Software if is_ram(&state.chip, address) => {
                clear_software_breakpoint(memory, state, address)
            }
            BreakWatch::Software | BreakWatch::Hardware => {
                Ok(state.core.breakpoints.clear(memory, address)?)
            }
            BreakWatch::Watch(watch) => Ok(state
                .core
                .watchpoints
                .clear(memory, watch, address, length)?),
        })
    }
}

fn is_ram(chip: &Part, address: u32) -> bool {
    let map = chip.memory_map();
    let in_flash = map.flash_at(address).is_some();
    // Without a memory map, only the SRAM region of the ARMv7-M map (B3.1) is RAM.
    let in_ram = map
        .regions()
        .any(|region| region.kind == chips::RegionKind::Ram && region.contains(address))
        || (map.regions().next().is_none() && (0x2000_0000..0x4000_0000).contains(&address));
    in_ram && !in_flash
}

/// The caches after the flash changed (`cortexm::cache::Caches::after_flash`).
fn after_flash<M: Memory>(core: &Core, memory: &mut M) -> Result<(), Error> {
    match core.caches() {
        Some(caches) => Ok(caches.after_flash(memory)?),
        None => Ok(()),
    }
}

/// A BKPT instruction written over the code (ARMv7-M A7.7.17), the original kept; a
/// Cortex-M7's caches cleaned and invalidated around it.
fn set_software_breakpoint<M: Memory>(
    memory: &mut M,
    state: &mut TargetState,
    address: u32,
) -> Result<(), Error> {
    if state
        .software_breakpoints
        .iter()
        .flatten()
        .any(|&(at, _)| at == address)
    {
        return Ok(());
    }
    let slot = state
        .software_breakpoints
        .iter()
        .position(Option::is_none)
        .ok_or(Error::TooManyBreakpoints)?;
    let mut original = [0u8; 2];
    let caches = state.core.caches();
    cortexm::cache::read(caches, memory, address & !1, &mut original)?;
    let bkpt = cortexm::registers::THUMB_BKPT.to_le_bytes();
    cortexm::cache::write(caches, memory, address & !1, &bkpt)?;
    state.software_breakpoints[slot] = Some((address, original));
    Ok(())
}

fn clear_software_breakpoint<M: Memory>(
    memory: &mut M,
    state: &mut TargetState,
    address: u32,
) -> Result<(), Error> {
    let slot = state
        .software_breakpoints
        .iter()
        .position(|entry| matches!(entry, Some((at, _)) if *at == address))
        .ok_or(Error::Core(cortexm::Error::NotSet))?;
    let (at, original) = state.software_breakpoints[slot]
        .take()
        .expect("found above");
    cortexm::cache::write(state.core.caches(), memory, at & !1, &original)?;
    Ok(())
}

fn remove_software_breakpoints<M: Memory>(
    memory: &mut M,
    state: &mut TargetState,
) -> Result<(), Error> {
    let caches = state.core.caches();
    for entry in state.software_breakpoints.iter_mut() {
        if let Some((at, original)) = entry.take() {
            cortexm::cache::write(caches, memory, at & !1, &original)?;
        }
    }
    Ok(())
}

/// A wire error stays a wire error (its own advice); the rest are RTT's.
fn rtt_error(error: rtt::Unserved) -> Error {
    match error {
        rtt::Unserved::Wire(error) => Error::Adi(error),
        other => Error::Rtt(other),
    }
}
