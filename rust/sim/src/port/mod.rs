//! The debug-port half of the simulator: the SWJ-DP at the pins (SW-DP, JTAG chain),
//! the AHB-AP, the virtual clock, fault injection, and the remote_bitbang server.
//!
//! A chip whose bus reports multi-drop targets (`Bus::multidrop_targets`) gets SW-DPs
//! version 2 on one wire instead (ADIv5.2 B4.3.4): dormant at power-on (`swj`), woken by
//! the selection alert, each with its own DP registers (TARGETID, DLPIDR), selected by a
//! TARGETSEL write after a line reset; only the selected DP drives SWDIO, and its AP
//! accesses go to the bus after `Bus::select_debug_port`.
//!
//! [`Sim`] puts a [`Bus`] (the chip half) behind the pins and implements [`wire::Pins`],
//! so a probe can use it in-process as its wire.

pub mod access_port;
pub mod clock;
pub mod debug_port;
pub mod faults;
pub mod jtag;
pub mod remote_bitbang;
pub mod swd;
pub mod swj;

#[cfg(test)]
mod adi_tests;
#[cfg(test)]
mod tests;

use crate::bus::{AccessPortKind, Bus, BusError, Identity, MultidropTarget, Width};
use clock::VirtualClock;
use debug_port::DebugPort;
use faults::FaultInjector;
use jtag::JtagChain;
use std::time::Instant;
use swd::SwDp;
use swj::{DormantWatcher, PortKind, SelectWatcher};

pub use clock::Statistics;
pub use faults::FaultConfig;
pub use swj::WireMode;

/// Let the chip run at least this often while the clock ticks without bus accesses.
const ADVANCE_INTERVAL_NS: u64 = 50_000;
/// Real-time pacing catches up with the wall clock by at most this much at a time.
pub const MAXIMUM_PACING_STEP_NS: u64 = 1_000_000;

impl<T: Bus + ?Sized> Bus for Box<T> {
    fn read(&mut self, address: u32, width: Width) -> Result<u32, BusError> {
        (**self).read(address, width)
    }
    fn write(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError> {
        (**self).write(address, width, value)
    }
    fn read_nonsecure(&mut self, address: u32, width: Width) -> Result<u32, BusError> {
        (**self).read_nonsecure(address, width)
    }
    fn write_nonsecure(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError> {
        (**self).write_nonsecure(address, width, value)
    }
    fn secure_debug_permitted(&self) -> Option<bool> {
        (**self).secure_debug_permitted()
    }
    fn advance_to(&mut self, now_ns: u64) {
        (**self).advance_to(now_ns)
    }
    fn stall_ends_ns(&self) -> Option<u64> {
        (**self).stall_ends_ns()
    }
    fn activity(&self) -> crate::bus::Activity {
        (**self).activity()
    }
    fn access_at(&mut self, now_ns: Option<u64>) {
        (**self).access_at(now_ns)
    }
    fn power_on_reset(&mut self) {
        (**self).power_on_reset()
    }
    fn set_reset(&mut self, asserted: bool) {
        (**self).set_reset(asserted)
    }
    fn identity(&self) -> Identity {
        (**self).identity()
    }
    fn access_port(&self, index: u8) -> Option<AccessPortKind> {
        (**self).access_port(index)
    }
    fn read_access_port(&mut self, index: u8, register: u8) -> Result<u32, BusError> {
        (**self).read_access_port(index, register)
    }
    fn write_access_port(&mut self, index: u8, register: u8, value: u32) -> Result<(), BusError> {
        (**self).write_access_port(index, register, value)
    }
    fn multidrop_targets(&self) -> Vec<MultidropTarget> {
        (**self).multidrop_targets()
    }
    fn select_debug_port(&mut self, index: usize) {
        (**self).select_debug_port(index)
    }
}

/// The bus as the port sees it: virtual time catches up before every access.
struct TimedBus<'a, B: Bus + ?Sized> {
    bus: &'a mut B,
    now_ns: u64,
    /// `Bus::access_at`: the port's time, for the accesses in between.
    port_now_ns: Option<u64>,
    advanced_ns: &'a mut u64,
    /// Re-anchored after emulating (see `Sim::exclude_emulation_time`).
    wall_clock: &'a mut Option<(Instant, u64)>,
}

impl<B: Bus + ?Sized> TimedBus<'_, B> {
    fn catch_up(&mut self) {
        if *self.advanced_ns < self.now_ns {
            self.bus.advance_to(self.now_ns);
            *self.advanced_ns = self.now_ns;
            if let Some((start, virtual_start)) = self.wall_clock.as_mut() {
                *start = Instant::now();
                *virtual_start = self.now_ns;
            }
        }
    }
}

impl<B: Bus + ?Sized> Bus for TimedBus<'_, B> {
    fn read(&mut self, address: u32, width: Width) -> Result<u32, BusError> {
        self.catch_up();
        self.bus.read(address, width)
    }
    fn write(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError> {
        self.catch_up();
        self.bus.write(address, width, value)
    }
    fn read_nonsecure(&mut self, address: u32, width: Width) -> Result<u32, BusError> {
        self.catch_up();
        self.bus.read_nonsecure(address, width)
    }
    fn write_nonsecure(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError> {
        self.catch_up();
        self.bus.write_nonsecure(address, width, value)
    }
    fn secure_debug_permitted(&self) -> Option<bool> {
        self.bus.secure_debug_permitted()
    }
    fn advance_to(&mut self, now_ns: u64) {
        self.bus.advance_to(now_ns)
    }
    fn stall_ends_ns(&self) -> Option<u64> {
        self.bus.stall_ends_ns()
    }
    fn access_at(&mut self, now_ns: Option<u64>) {
        if let Some(port_now) = self.port_now_ns.take() {
            self.now_ns = port_now;
        }
        if let Some(at) = now_ns
            && *self.advanced_ns <= at
            && at < self.now_ns
        {
            self.port_now_ns = Some(self.now_ns);
            self.now_ns = at;
        }
    }
    fn power_on_reset(&mut self) {
        self.bus.power_on_reset()
    }
    fn set_reset(&mut self, asserted: bool) {
        self.bus.set_reset(asserted)
    }
    fn identity(&self) -> Identity {
        self.bus.identity()
    }
    fn access_port(&self, index: u8) -> Option<AccessPortKind> {
        self.bus.access_port(index)
    }
    fn read_access_port(&mut self, index: u8, register: u8) -> Result<u32, BusError> {
        self.catch_up();
        self.bus.read_access_port(index, register)
    }
    fn write_access_port(&mut self, index: u8, register: u8, value: u32) -> Result<(), BusError> {
        self.catch_up();
        self.bus.write_access_port(index, register, value)
    }
    fn multidrop_targets(&self) -> Vec<MultidropTarget> {
        self.bus.multidrop_targets()
    }
    fn select_debug_port(&mut self, index: usize) {
        self.bus.select_debug_port(index)
    }
}

/// What the protocol machines work with during one clock edge.
pub struct Context<'a> {
    pub bus: &'a mut dyn Bus,
    pub debug: &'a mut DebugPort,
    /// The DPs of a multi-drop wire (empty: one SWJ-DP).
    pub targets: &'a [MultidropTarget],
    pub faults: &'a mut FaultInjector,
    pub statistics: &'a mut Statistics,
    /// Set by an injected power failure; the port acts on it after the edge.
    pub power_off: bool,
}

/// Everything on the target side of the connector that a power cycle resets.
#[derive(Clone, Debug, Default)]
struct Powered {
    kind: PortKind,
    mode: WireMode,
    watcher: SelectWatcher,
    dormant: DormantWatcher,
    swd: SwDp,
    jtag: JtagChain,
    /// One DP, or one per multi-drop target (`targets`).
    debug: Vec<DebugPort>,
    targets: Vec<MultidropTarget>,
}

impl Powered {
    /// Power-on state for the DPs `bus` reports.
    fn for_bus(bus: &dyn Bus) -> Self {
        let targets = bus.multidrop_targets();
        let kind = if targets.is_empty() {
            PortKind::SerialWireJtag
        } else {
            PortKind::MultidropSerialWire
        };
        let debug = if targets.is_empty() {
            vec![DebugPort::default()]
        } else {
            targets
                .iter()
                .map(|&target| DebugPort::multidrop(target))
                .collect()
        };
        Powered {
            kind,
            mode: kind.power_on_mode(),
            debug,
            targets,
            ..Powered::default()
        }
    }
}

/// The levels the probe drives.
#[derive(Clone, Copy, Debug)]
struct Probe {
    clock: bool,
    swdio: bool,
    swdio_output: bool,
    tdi: bool,
    reset: bool,
    test_reset: bool,
}

impl Default for Probe {
    fn default() -> Self {
        Self {
            clock: false,
            swdio: true,
            swdio_output: true,
            tdi: true,
            reset: false,
            test_reset: false,
        }
    }
}

/// The simulated target at its debug connector.
pub struct Sim<B: Bus> {
    bus: B,
    state: Powered,
    probe: Probe,
    clock: VirtualClock,
    statistics: Statistics,
    faults: FaultInjector,
    advanced_ns: u64,
    powered: bool,
    /// When an injected power failure ends.
    power_returns_ns: Option<u64>,
    /// Real-time pacing: virtual time never lags behind the wall clock since this moment.
    wall_clock: Option<(Instant, u64)>,
}

impl<B: Bus> Sim<B> {
    pub fn new(bus: B) -> Self {
        let state = Powered::for_bus(&bus);
        Self {
            bus,
            state,
            probe: Probe::default(),
            clock: VirtualClock::default(),
            statistics: Statistics::default(),
            faults: FaultInjector::default(),
            advanced_ns: 0,
            powered: true,
            power_returns_ns: None,
            wall_clock: None,
        }
    }

    pub fn bus(&self) -> &B {
        &self.bus
    }

    pub fn bus_mut(&mut self) -> &mut B {
        &mut self.bus
    }

    pub fn into_bus(self) -> B {
        self.bus
    }

    /// Counters and virtual time.
    pub fn statistics(&self) -> Statistics {
        Statistics {
            virtual_time_ns: self.clock.now_ns(),
            ..self.statistics
        }
    }

    pub fn now_ns(&self) -> u64 {
        self.clock.now_ns()
    }

    pub fn frequency(&self) -> u32 {
        self.clock.frequency()
    }

    /// The protocol the SWJ-DP speaks now.
    pub fn mode(&self) -> WireMode {
        self.state.mode
    }

    pub fn set_faults(&mut self, config: FaultConfig) {
        self.faults = FaultInjector::new(config);
        let held = self.reset_held();
        if self.powered {
            self.bus.set_reset(held);
        }
    }

    /// The chip's nRST: low while the probe drives it low, or while the target holds it
    /// (fault `reset_stuck`).
    fn reset_held(&self) -> bool {
        self.probe.reset || self.faults.config().reset_stuck
    }

    pub fn faults(&self) -> FaultConfig {
        self.faults.config()
    }

    pub fn powered(&self) -> bool {
        self.powered
    }

    /// Target power. Off: nothing answers, the chip is held in reset. On: a power-on
    /// reset of the debug port (JTAG selected, registers at their reset values) and of
    /// the core's debug registers (`Bus::power_on_reset`: DHCSR, DEMCR, FPB, DWT). An
    /// approximation: RAM keeps its contents.
    pub fn set_power(&mut self, on: bool) {
        self.power_returns_ns = None;
        if on == self.powered {
            return;
        }
        self.powered = on;
        if on {
            self.bus.power_on_reset();
        }
        self.state = Powered::for_bus(&self.bus);
        self.state.jtag.set_test_reset(self.probe.test_reset);
        self.bus.set_reset(!on || self.reset_held());
    }

    /// Let virtual time pass with the clock stopped (a probe's sleep).
    pub fn idle(&mut self, nanoseconds: u64) {
        self.clock.advance(nanoseconds);
        self.pace();
        self.check_power();
        self.catch_up();
    }

    /// Real-time pacing for interactive use: virtual time also follows the wall clock, so
    /// the target runs while the probe is quiet (its next pin activity catches up). Off by
    /// default: then time passes only with SWCLK edges and sleeps, deterministically.
    pub fn set_real_time(&mut self, enabled: bool) {
        self.wall_clock = enabled.then(|| (Instant::now(), self.clock.now_ns()));
    }

    /// Follow the wall clock, at most [`MAXIMUM_PACING_STEP_NS`] at a time. The emulated
    /// core runs slower than 72 MHz on the host, so a backlog it cannot work off is dropped
    /// (the wall clock is re-anchored) rather than growing without end and stalling the wire.
    fn pace(&mut self) {
        let Some((start, virtual_start)) = self.wall_clock.as_mut() else {
            return;
        };
        let wall = *virtual_start + start.elapsed().as_nanos() as u64;
        let now = self.clock.now_ns();
        if wall <= now {
            return;
        }
        let step = (wall - now).min(MAXIMUM_PACING_STEP_NS);
        self.clock.advance(step);
        if wall - now > step {
            *start = Instant::now();
            *virtual_start = self.clock.now_ns();
        }
    }

    /// nTRST: holds the TAPs in Test-Logic-Reset while asserted.
    pub fn set_test_reset(&mut self, asserted: bool) {
        self.probe.test_reset = asserted;
        self.state.jtag.set_test_reset(asserted);
    }

    fn catch_up(&mut self) {
        let now = self.clock.now_ns();
        if self.advanced_ns < now {
            self.bus.advance_to(now);
            self.advanced_ns = now;
            self.exclude_emulation_time();
        }
    }

    /// With real-time pacing, the wall time spent emulating is not time the target should
    /// have run: re-anchor after emulating, so only the probe's quiet time (its client's
    /// sleeps) moves virtual time on, and emulation cannot feed itself.
    fn exclude_emulation_time(&mut self) {
        if let Some((start, virtual_start)) = self.wall_clock.as_mut() {
            *start = Instant::now();
            *virtual_start = self.clock.now_ns();
        }
    }

    fn check_power(&mut self) {
        if let Some(time) = self.power_returns_ns
            && self.clock.now_ns() >= time
        {
            self.set_power(true);
        }
    }

    /// SWDIO as the target samples it: the probe's level if it drives, else the target's,
    /// else the pull-up.
    fn line(&self) -> bool {
        if self.probe.swdio_output {
            return self.probe.swdio;
        }
        self.target_swdio().unwrap_or(true)
    }

    fn target_swdio(&self) -> Option<bool> {
        match (self.powered, self.state.mode) {
            (true, WireMode::Swd) => self.state.swd.drive(),
            _ => None,
        }
    }

    fn rising_edge(&mut self) {
        self.clock.tick();
        self.statistics.clock_cycles += 1;
        self.pace();
        self.check_power();
        if !self.powered {
            return;
        }
        let line = self.line();
        let driven = self.target_swdio().is_some() && !self.probe.swdio_output;
        let power_off = if self.state.mode == WireMode::Dormant {
            if self.state.dormant.clock(line) {
                self.select(WireMode::Swd);
            }
            false
        } else {
            let (kind, mode) = (self.state.kind, self.state.mode);
            if let Some(mode) = self.state.watcher.clock_for(line && !driven, kind, mode) {
                self.select(mode);
            }
            self.clock_protocol(line)
        };
        if power_off {
            self.power_fail();
        }
        if self.clock.now_ns() - self.advanced_ns >= ADVANCE_INTERVAL_NS {
            self.catch_up();
        }
    }

    fn select(&mut self, mode: WireMode) {
        self.state.mode = mode;
        self.state.swd = SwDp::selected();
        self.state.dormant = DormantWatcher::default();
        if mode == WireMode::Jtag {
            self.state.jtag = JtagChain::default();
        }
    }

    /// Clock the SW-DP or the JTAG chain; true if an injected power failure happened.
    fn clock_protocol(&mut self, line: bool) -> bool {
        if self.faults.windowed() {
            self.faults.set_activity(self.bus.activity());
        }
        let mut bus = TimedBus {
            bus: &mut self.bus,
            now_ns: self.clock.now_ns(),
            port_now_ns: None,
            advanced_ns: &mut self.advanced_ns,
            wall_clock: &mut self.wall_clock,
        };
        let selected = self.state.swd.selected_port();
        bus.select_debug_port(selected);
        let mut context = Context {
            bus: &mut bus,
            debug: &mut self.state.debug[selected],
            targets: &self.state.targets,
            faults: &mut self.faults,
            statistics: &mut self.statistics,
            power_off: false,
        };
        match self.state.mode {
            WireMode::Swd => self.state.swd.rising_edge(line, &mut context),
            WireMode::Jtag => self
                .state
                .jtag
                .rising_edge(line, self.probe.tdi, &mut context),
            WireMode::Dormant => {}
        }
        context.power_off
    }

    fn power_fail(&mut self) {
        self.set_power(false);
        let duration = self.faults.config().power_off_ns;
        self.power_returns_ns = Some(self.clock.now_ns() + duration);
    }
}

impl<B: Bus> wire::Pins for Sim<B> {
    /// A rising edge clocks the SW-DP or the TAPs and one period of virtual time passes.
    fn set_swclk(&mut self, high: bool) {
        if high == self.probe.clock {
            return;
        }
        self.probe.clock = high;
        if high {
            self.rising_edge();
        } else if self.powered && self.state.mode == WireMode::Jtag {
            self.state.jtag.falling_edge();
        }
    }

    fn set_swdio(&mut self, high: bool) {
        self.probe.swdio = high;
    }

    fn swdio_output(&mut self, enable: bool) {
        self.probe.swdio_output = enable;
    }

    fn read_swdio(&mut self) -> bool {
        self.line()
    }

    fn set_tdi(&mut self, high: bool) {
        self.probe.tdi = high;
    }

    /// TDO floats outside the Shift states and with the power off: the probe reads ones.
    fn read_tdo(&mut self) -> bool {
        match (self.powered, self.state.mode) {
            (true, WireMode::Jtag) => self.state.jtag.tdo().unwrap_or(true),
            _ => true,
        }
    }

    fn set_reset(&mut self, asserted: bool) {
        self.probe.reset = asserted;
        if self.powered {
            self.catch_up();
            self.bus.set_reset(self.reset_held());
        }
    }

    fn read_reset(&mut self) -> bool {
        self.reset_held()
    }

    fn set_frequency(&mut self, hz: u32) -> u32 {
        self.clock.set_frequency(hz)
    }
}
