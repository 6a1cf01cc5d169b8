//! The chip half of the simulated target: a Cortex-M core running real Thumb code on
//! unicorn-engine, its debug components (ROM table, SCS debug registers, FPB, DWT, ITM and
//! TPIU with the SWO output) and the
//! dispatch of accesses, around one SoC (`crate::soc`: the family's identity, memories,
//! flash controller and RCC).
//!
//! [`Chip`] implements [`Bus`]: the debug port calls it with the AHB-AP's accesses and
//! with virtual time; accesses from the debugger and from the core reach the same memory
//! and registers. See `memory_map` for the address map, `core` for what the core model
//! approximates, `trace` for SWO's timing and what it leaves out, and `flash` for the flash
//! controller.

mod cache;
mod core;
mod debug;
mod dwt;
mod fpb;
mod loader;
mod memory_map;
mod multicore;
mod rom_table;
mod system;
mod trace;

#[cfg(test)]
mod tests;

use crate::bus::{AccessPortKind, Bus, BusError, Identity, Width};
use crate::soc::AccessPortAction;
use memory_map::{Emulator, Origin};
use std::path::Path;

pub use crate::soc::Variant;
pub use debug::CoreStatus;
pub use loader::Segment;
pub use multicore::MultiCore;
pub use rom_table::{M0PLUS_ROM_TABLE_ID, designer_id};
pub use system::PERIPHERAL_BASE;
pub use trace::SwoFormat;

/// Core clock in virtual time: 72 MHz, one instruction per cycle (an approximation: the
/// Cortex-M3 takes one to a dozen cycles per instruction, and flash wait states add more).
pub const CORE_HZ: u64 = 72_000_000;
/// Longest stretch of virtual time the core runs without the chip looking at the clock.
const SLICE_NS: u64 = 100_000;

/// A simulated chip (see the module documentation).
pub struct Chip {
    emulator: Emulator<'static>,
}

// SAFETY: unicorn-engine's handle is an `Rc`. Its other references are the hooks' `Weak`s
// (held inside the handle) and the short-lived `Rc`s unicorn makes while a hook runs; the
// chip never clones `emulator` nor lends it beyond a call. So every reference moves with
// the chip, and a chip moved to another thread (the probe behind its busy flag, used from
// a MicroPython thread) is not shared. The rest of the chip is Send by itself (checked
// below: `System`, the handle's data, holds the SoC as `Box<dyn Soc>` with `Soc: Send`).
unsafe impl Send for Chip {}

const _: () = {
    const fn is_send<T: Send>() {}
    is_send::<system::System>();
};

impl Chip {
    /// A chip just powered on, its flash erased; the core is reset (blank flash: it locks
    /// up on its first fetch, as a blank part does, until firmware is loaded).
    pub fn new(variant: Variant) -> Chip {
        Chip::with_soc(variant.soc())
    }

    /// A chip around this SoC (one core of a multi-core part: `MultiCore`).
    pub fn with_soc(soc: Box<dyn crate::soc::Soc>) -> Chip {
        // unicorn fails only on bad arguments or when out of memory: a bug, not an input.
        let emulator = core::create(soc).expect("unicorn-engine could not set up the core");
        let mut chip = Chip { emulator };
        core::reset_core(&mut chip.emulator);
        chip
    }

    /// The cache maintenance operations written so far (register address, value), by the
    /// debugger or the core; empty but on the Cortex-M7 (`cache`).
    pub fn cache_maintenance(&self) -> &[(u32, u32)] {
        &self.emulator.get_data().caches.log
    }

    pub fn variant(&self) -> Variant {
        self.emulator.get_data().variant()
    }

    /// Load an ELF file (PT_LOAD segments by physical address) or a raw binary (at
    /// 0x0800_0000) into flash and RAM, then reset the core so it starts the new code.
    pub fn load_firmware(&mut self, path: &Path) -> Result<(), String> {
        let image = std::fs::read(path).map_err(|error| format!("cannot read it: {error}"))?;
        self.load_image(&image)
    }

    /// `load_firmware` from bytes in memory.
    pub fn load_image(&mut self, image: &[u8]) -> Result<(), String> {
        let flash_base = self.emulator.get_data().soc.flash_base();
        for segment in loader::segments(image, flash_base)? {
            self.write_memory(segment.address, &segment.bytes)?;
        }
        core::reset_core(&mut self.emulator);
        Ok(())
    }

    /// Put bytes straight into flash or SRAM, bypassing the flash controller (a
    /// programmer's fixture, not a bus access).
    pub fn write_memory(&mut self, address: u32, bytes: &[u8]) -> Result<(), String> {
        let length =
            u32::try_from(bytes.len()).map_err(|_| "the image is too large".to_string())?;
        let address = self.storage_address(address, length).ok_or_else(|| {
            let soc = &self.emulator.get_data().soc;
            let rams: Vec<String> = soc
                .rams()
                .iter()
                .map(|ram| format!("0x{:08X}, {} KB", ram.base, ram.size / 1024))
                .collect();
            format!(
                "{length} bytes at 0x{address:08X} do not fit in flash (0x{:08X}, {} KB) or RAM ({})",
                soc.flash_base(),
                soc.flash_size() / 1024,
                rams.join("; ")
            )
        })?;
        memory_map::store(&mut self.emulator, address, bytes)
            .map_err(|error| format!("cannot write memory at 0x{address:08X}: {error:?}"))
    }

    /// The flash or RAM address where `length` bytes at `address` are stored, if they fit
    /// in one of them (the flash alias at 0 maps to 0x0800_0000).
    fn storage_address(&self, address: u32, length: u32) -> Option<u32> {
        let soc = &self.emulator.get_data().soc;
        let flash_size = soc.flash_size();
        let flash_base = soc.flash_base();
        let mut regions = vec![(flash_base, flash_base, flash_size)];
        if soc.flash_alias_at_zero() {
            regions.push((memory_map::FLASH_ALIAS_BASE, flash_base, flash_size));
        }
        regions.extend(soc.rams().iter().map(|ram| (ram.base, ram.base, ram.size)));
        regions.into_iter().find_map(|(base, target, size)| {
            let offset = address.checked_sub(base)?;
            (u64::from(offset) + u64::from(length) <= u64::from(size)).then_some(target + offset)
        })
    }

    /// SWO bytes (ITM packets through the TPIU) whose last bit has left the pin by now,
    /// appended to `out` (see `trace` for the timing).
    pub fn take_swo(&mut self, out: &mut Vec<u8>) {
        let system = self.emulator.get_data_mut();
        let now = system.now_ns;
        system.trace.take_swo(now, out);
    }

    /// [`Chip::take_swo`], each byte with the bit rate and protocol it was sent in.
    pub fn take_swo_sent(&mut self, out: &mut Vec<(u8, SwoFormat)>) {
        let system = self.emulator.get_data_mut();
        let now = system.now_ns;
        system.trace.take_swo_sent(now, out);
    }

    /// The SWO bit rate (TRACECLKIN / (TPIU_ACPR + 1)) and whether the TPIU sends NRZ
    /// (else Manchester).
    pub fn swo_rate(&self) -> (u64, bool) {
        self.emulator.get_data().trace.swo_rate()
    }

    /// Bytes the SoC's UART (USART1 on STM32F1) has sent whose last bit has left by now,
    /// appended to `out`, and the UART's line format (None when it is off or absent).
    pub fn take_uart(&mut self, out: &mut Vec<u8>) -> Option<crate::soc::usart::LineFormat> {
        let system = self.emulator.get_data_mut();
        let now = system.now_ns;
        system.soc.take_uart(now, out)
    }

    /// Bytes to the SoC's UART, sent in `format` from now: the count the line took.
    pub fn send_uart(&mut self, data: &[u8], format: crate::soc::usart::LineFormat) -> usize {
        let system = self.emulator.get_data_mut();
        let now = system.now_ns;
        system.soc.send_uart(data, format, now)
    }

    /// Read a word as the debugger would, but without side effects (no sticky bits
    /// cleared, no stall); None where the debugger would get a bus error.
    pub fn peek(&mut self, address: u32) -> Option<u32> {
        memory_map::read(&mut self.emulator, address, Width::Word, Origin::Inspect).ok()
    }

    /// Halted, sleeping, locked up, held in reset.
    pub fn core_status(&self) -> CoreStatus {
        self.emulator.get_data().core_status()
    }

    /// A core register by its DCRSR REGSEL number (0-12 r0-r12, 13 SP, 14 LR, 15 PC,
    /// 16 xPSR, 17 MSP, 18 PSP, 20 CONTROL/FAULTMASK/BASEPRI/PRIMASK), whatever the core
    /// is doing.
    pub fn core_register(&self, selector: u32) -> Option<u32> {
        core::read_core_register(&self.emulator, selector)
    }

    /// Set a core register by REGSEL number; false if there is no such register.
    pub fn set_core_register(&mut self, selector: u32, value: u32) -> bool {
        core::write_core_register(&mut self.emulator, selector, value)
    }

    /// Virtual time the chip has reached.
    /// What the flash did since the last call: its own time, and the pauses between its
    /// operations (benchmarks, `BMP_SIM_STATISTICS`).
    pub fn take_flash_activity(&mut self) -> crate::soc::flash::FlashActivity {
        self.emulator.get_data_mut().soc.take_flash_activity()
    }

    pub fn now_ns(&self) -> u64 {
        self.emulator.get_data().now_ns
    }
}

/// The time at which `cycles` core cycles have passed since time 0, rounded up.
fn time_at(cycles: u64) -> u64 {
    (u128::from(cycles) * 1_000_000_000).div_ceil(u128::from(CORE_HZ)) as u64
}

/// Core cycles from time 0 to `time_ns`.
fn cycles_at(time_ns: u64) -> u64 {
    (u128::from(time_ns) * u128::from(CORE_HZ) / 1_000_000_000) as u64
}

/// The SRAM region of the Armv6-M/Armv7-M address map (ARMv7-M B3.1, table B3-1).
const SRAM_REGION: u32 = 0x2000_0000;
const SRAM_REGION_END: u32 = 0x4000_0000;

impl Bus for Chip {
    fn stall_ends_ns(&self) -> Option<u64> {
        self.emulator.get_data().soc.flash_busy_until()
    }

    fn activity(&self) -> crate::bus::Activity {
        crate::bus::Activity {
            routine_running: core::can_run(&self.emulator)
                && (SRAM_REGION..SRAM_REGION_END).contains(&core::program_counter(&self.emulator)),
            flash_busy: self.emulator.get_data().soc.flash_busy(),
        }
    }

    fn read(&mut self, address: u32, width: Width) -> Result<u32, BusError> {
        memory_map::read(&mut self.emulator, address, width, Origin::Debugger)
    }

    fn write(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError> {
        memory_map::write(&mut self.emulator, address, width, value, Origin::Debugger)
    }

    /// A Non-secure transfer: a bus error where the SoC's attribution says Secure.
    fn read_nonsecure(&mut self, address: u32, width: Width) -> Result<u32, BusError> {
        if self.emulator.get_data().soc.secure_at(address) {
            return Err(BusError::Fault);
        }
        self.read(address, width)
    }

    fn write_nonsecure(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError> {
        if self.emulator.get_data().soc.secure_at(address) {
            return Err(BusError::Fault);
        }
        self.write(address, width, value)
    }

    fn secure_debug_permitted(&self) -> Option<bool> {
        self.emulator.get_data().soc.secure_debug()
    }

    fn advance_to(&mut self, now_ns: u64) {
        loop {
            core::complete_flash(&mut self.emulator);
            let start = self.emulator.get_data().now_ns;
            if start >= now_ns {
                break;
            }
            let running = core::can_run(&self.emulator);
            let mut end = if running {
                now_ns.min(start + SLICE_NS)
            } else {
                now_ns
            };
            if let Some(busy_until) = self.emulator.get_data().soc.flash_busy_until() {
                end = end.min(busy_until.max(start + 1));
            }
            let budget = cycles_at(end) - cycles_at(start);
            if running && budget > 0 {
                let executed = core::run(&mut self.emulator, budget);
                // Stopped early by a flash operation it started: time moves on only as
                // far as the core got, and the next slice ends with the operation.
                if executed < budget && self.emulator.get_data().soc.flash_busy() {
                    end = time_at(cycles_at(start) + executed).clamp(start + 1, end);
                }
            }
            self.emulator.get_data_mut().now_ns = end;
        }
    }

    fn power_on_reset(&mut self) {
        self.emulator.get_data_mut().power_on_reset_debug();
    }

    fn set_reset(&mut self, asserted: bool) {
        let held = self.emulator.get_data().run.reset_held;
        if asserted && !held {
            core::reset_peripherals(&mut self.emulator);
            let system = self.emulator.get_data_mut();
            system.run.reset_held = true;
            system.run.halted = false;
            system.run.sleeping = false;
            system.run.locked_up = false;
            system.debug.reset_since_read = true;
        } else if !asserted && held {
            self.emulator.get_data_mut().run.reset_held = false;
            core::reset_core(&mut self.emulator);
        }
    }

    fn identity(&self) -> Identity {
        self.emulator.get_data().soc.identity()
    }

    fn access_port(&self, index: u8) -> Option<AccessPortKind> {
        self.emulator.get_data().soc.access_port_at(index)
    }

    fn read_access_port(&mut self, index: u8, register: u8) -> Result<u32, BusError> {
        let system = self.emulator.get_data_mut();
        let now = system.now_ns;
        Ok(system.soc.read_access_port(index, register, now))
    }

    /// The SoC's own AP may start an operation (CTRL-AP ERASEALL, finished by
    /// `advance_to` like any flash operation) or hold the chip in reset.
    fn write_access_port(&mut self, index: u8, register: u8, value: u32) -> Result<(), BusError> {
        let system = self.emulator.get_data_mut();
        let now = system.now_ns;
        match system.soc.write_access_port(index, register, value, now) {
            AccessPortAction::Nothing => {}
            AccessPortAction::HoldReset(asserted) => self.set_reset(asserted),
        }
        Ok(())
    }
}
