//! More than one core on one multi-drop SWD wire (ADIv5.2 B4.3.4): one [`Chip`] per core,
//! each behind its own DP, plus DPs without an access port (the RP2040's rescue DP).
//!
//! The cores run in turn, each up to the same virtual time, on the calling thread; what
//! they share (the RP2040's SRAM and flash) their SoCs share (`soc::rp2040::Shared`).

use super::Chip;
use crate::bus::{AccessPortKind, Bus, BusError, Identity, MultidropTarget, Width};
use crate::soc::rp2040;
use std::sync::Arc;

pub struct MultiCore {
    /// Core `n` is behind `targets[n]`; targets past the cores have no access port.
    cores: Vec<Chip>,
    targets: Vec<MultidropTarget>,
    selected: usize,
}

impl MultiCore {
    /// The RP2040: cores 0 and 1 and the rescue DP.
    pub fn rp2040() -> MultiCore {
        let shared = Arc::new(rp2040::Shared::default());
        let cores = (0..2)
            .map(|index| Chip::with_soc(Box::new(rp2040::Rp2040::new(index, shared.clone()))))
            .collect();
        MultiCore {
            cores,
            targets: rp2040::TARGETS.to_vec(),
            selected: 0,
        }
    }

    /// Core `index` (for tests and tools).
    pub fn core(&mut self, index: usize) -> Option<&mut Chip> {
        self.cores.get_mut(index)
    }

    fn selected_core(&mut self) -> Result<&mut Chip, BusError> {
        self.cores.get_mut(self.selected).ok_or(BusError::Fault)
    }
}

impl Bus for MultiCore {
    fn read(&mut self, address: u32, width: Width) -> Result<u32, BusError> {
        self.selected_core()?.read(address, width)
    }

    fn write(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError> {
        self.selected_core()?.write(address, width, value)
    }

    fn stall_ends_ns(&self) -> Option<u64> {
        self.cores.get(self.selected)?.stall_ends_ns()
    }

    fn advance_to(&mut self, now_ns: u64) {
        for core in &mut self.cores {
            core.advance_to(now_ns);
        }
    }

    fn power_on_reset(&mut self) {
        for core in &mut self.cores {
            core.power_on_reset();
        }
    }

    fn set_reset(&mut self, asserted: bool) {
        for core in &mut self.cores {
            core.set_reset(asserted);
        }
    }

    fn identity(&self) -> Identity {
        self.cores[0].identity()
    }

    fn access_port(&self, index: u8) -> Option<AccessPortKind> {
        self.cores.get(self.selected)?.access_port(index)
    }

    fn read_access_port(&mut self, index: u8, register: u8) -> Result<u32, BusError> {
        self.selected_core()?.read_access_port(index, register)
    }

    fn write_access_port(&mut self, index: u8, register: u8, value: u32) -> Result<(), BusError> {
        self.selected_core()?
            .write_access_port(index, register, value)
    }

    fn multidrop_targets(&self) -> Vec<MultidropTarget> {
        self.targets.clone()
    }

    fn select_debug_port(&mut self, index: usize) {
        self.selected = index;
    }
}
