//! The simulated wire with the simulator's virtual time as the probe's clock: each
//! transaction publishes the time, so timeouts (the chips', the algorithms') hold however
//! slowly the simulator runs on a busy host.

use adi::{Clock, Port, Swj, TransferError, Transport};
use sim::Sim;
use sim::chip::{Chip, Variant};
use std::cell::Cell;
use std::rc::Rc;
use wire::Pins;
use wire::swd::Swd;

pub struct Wire {
    pub swd: Swd<Sim<Chip>>,
    now_ns: Rc<Cell<u64>>,
}

impl Wire {
    fn tick<R>(&mut self, result: R) -> R {
        self.now_ns.set(self.swd.pins().now_ns());
        result
    }
}

impl Transport for Wire {
    fn read(&mut self, port: Port, address: u8) -> Result<u32, TransferError> {
        let result = self.swd.read(port, address);
        self.tick(result)
    }
    fn write(&mut self, port: Port, address: u8, value: u32) -> Result<(), TransferError> {
        let result = self.swd.write(port, address, value);
        self.tick(result)
    }
    fn resynchronise(&mut self) -> Result<(), TransferError> {
        let result = self.swd.resynchronise();
        self.tick(result)
    }
    fn set_burst(&mut self, on: bool) {
        self.swd.set_burst(on)
    }
    /// The pins for DAP_SWJ_* of debug sequences (the clock moves with the next transfer).
    fn swj(&mut self) -> Option<&mut dyn Swj> {
        Some(&mut self.swd)
    }
}

pub struct VirtualClock(Rc<Cell<u64>>);

impl Clock for VirtualClock {
    fn now_micros(&mut self) -> u64 {
        self.0.get() / 1000
    }
}

/// A simulated `variant` at SWCLK `frequency` (None: the simulator's default) on SWD.
pub fn wire(variant: Variant, frequency: Option<u32>) -> (Wire, VirtualClock) {
    let mut sim = Sim::new(Chip::new(variant));
    if let Some(frequency) = frequency {
        sim.set_frequency(frequency);
    }
    let mut swd = Swd::new(sim);
    swd.switch_from_jtag();
    let now_ns = Rc::new(Cell::new(0));
    let clock = VirtualClock(now_ns.clone());
    (Wire { swd, now_ns }, clock)
}

/// The virtual time now, in ns.
pub fn now_ns(wire: &mut Wire) -> u64 {
    wire.swd.pins().now_ns()
}
