//! The Raspberry Pi RP2040 (RP2040 datasheet): two Cortex-M0+ cores, each behind its own
//! SW-DP on one multi-drop wire (TARGETSEL 0x01002927 core 0, 0x11002927 core 1; a rescue
//! DP 0xF1002927 with no AP), sharing the 16 KB boot ROM at 0, 264 KB of SRAM at
//! 0x2000_0000 and the QSPI flash (a W25Q16JV, `soc::spi_flash`) read through XIP at
//! 0x1000_0000.
//!
//! One [`Rp2040`] is one core's view of the chip: `chip::MultiCore` builds two of them
//! around one [`Shared`] and puts them behind the multi-drop wire.
//!
//! Approximations:
//! - The boot ROM is written here (`rom`), not Raspberry Pi's: its header (magic, version,
//!   the function and data table pointers, `rom_table_lookup` as Thumb code, datasheet
//!   2.8.2/2.8.3), a reset handler that sleeps (WFI in a loop) on both cores (it does not
//!   load boot2 from flash nor start core 1 by the SIO FIFO), and the six flash functions
//!   in the function table by their codes ('IF', 'EX', 'RE', 'RP', 'FC', 'CX'). Those are
//!   host hooks, not Thumb code: each is `nop; bx lr`, and the simulator performs the
//!   function (byte by byte on the W25Q16JV's SPI bus: write enable, sector/block erase,
//!   page program, BUSY to its end) when a core reaches the `nop` (`qspi`); the core
//!   then waits at the `bx lr`, running (it halts, steps and answers the debugger as in
//!   the ROM's status poll loop, but its PC stays), until the flash's typical time for
//!   the operations has passed in virtual time (the datasheet's ROM polls the flash's
//!   status register, 2.8.3.1.3). The array changes when the call starts.
//!   flash_range_program's data must be in SRAM (else nothing is written). The data
//!   table is empty.
//! - XIP has no cache and no SSI XIP engine. The cores read and execute XIP from a copy
//!   of the flash array in unicorn memory (mapped read and execute into both cores),
//!   brought up to date whenever the array changes (a ROM function, an SSI instruction
//!   ending) and unicorn's translations of it dropped then: what a flash_flush_cache does
//!   on silicon happens after every change, so a core never sees stale XIP contents.
//!   The debugger reads the array itself. After flash_exit_xip the debugger's XIP reads
//!   are bus errors until flash_enter_cmd_xip; the cores go on reading the copy (on
//!   silicon their XIP fetches would fail). XIP writes are bus errors for the debugger
//!   and lock a core up (silicon writes them into the cache). Only the cached,
//!   allocating window 0x1000_0000 (the flash's 2 MB) is mapped, not its aliases.
//! - SRAM is one flat 264 KB block (no striping, no bank aliases at 0x2100_0000).
//! - reset_to_usb_boot ('UB', datasheet 2.8.3) resets the calling core at once
//!   (silicon goes through the watchdog and resets both cores; here the other core is
//!   not reset) into the ROM's USB boot mode: the core sleeps in the ROM as after any
//!   reset (flash is never run), and USBCTRL_REGS MAIN_CTRL reads CONTROLLER_EN (the
//!   ROM's USB device runs; no USB is simulated) until the next reset, which boots
//!   normally again. Its arguments (activity LED, interfaces) are not modelled.
//! - Peripherals: SYSINFO CHIP_ID and PLATFORM, SIO CPUID, the SSI's SR and DR0 and
//!   IO_QSPI GPIO_QSPI_SS_CTRL (`qspi`); other APB and SSI words hold what is written. AIRCR.SYSRESETREQ resets only the core that writes it (datasheet
//!   2.4.2.9: it is the core's own reset on the RP2040), and resets that core's view.

mod qspi;
mod rom;
#[cfg(test)]
mod tests;

use super::spi_flash;
use super::{CoreModel, FlashEffect, FlashError, Memory, Soc, Variant};
use crate::bus::{AccessPortIdentity, Identity, MultidropTarget};
use qspi::{Qspi, SSI_BASE, SSI_SIZE};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// SW-DP DPIDR: DPv2, MINDP, multi-drop (datasheet 2.3.4; chips.md 5.1).
pub const DPIDR: u32 = 0x0BC1_2477;
/// TARGETID: TPARTNO 0x1002, TDESIGNER 0x493 (Raspberry Pi).
pub const TARGET_ID: u32 = 0x0100_2927;
/// The DPs on the wire: core 0, core 1, rescue (TINSTANCE 0, 1, 0xF).
pub const TARGETS: [MultidropTarget; 3] = [
    MultidropTarget {
        target_id: TARGET_ID,
        instance: 0,
    },
    MultidropTarget {
        target_id: TARGET_ID,
        instance: 1,
    },
    MultidropTarget {
        target_id: TARGET_ID,
        instance: 0xF,
    },
];
/// The rescue DP's index in [`TARGETS`]: it has no access port.
pub const RESCUE: usize = 2;

pub const ROM: Memory = Memory {
    base: 0,
    size: 16 * 1024,
};
/// SRAM0-3 striped (256 KB) and SRAM4/5 (4 KB each) in one block.
pub const SRAM: Memory = Memory {
    base: 0x2000_0000,
    size: 264 * 1024,
};
/// XIP, cached and allocating; the W25Q16JV's 2 MB.
pub const XIP: Memory = Memory {
    base: 0x1000_0000,
    size: spi_flash::SIZE,
};
const APB: Memory = Memory {
    base: 0x4000_0000,
    size: 0x0007_0000,
};
/// USBCTRL_REGS (datasheet 4.1.4): MAIN_CTRL CONTROLLER_EN (bit 0) while the ROM's USB
/// boot mode runs the device controller.
const USBCTRL_REGS: Memory = Memory {
    base: 0x5011_0000,
    size: 0x1000,
};
const USBCTRL_MAIN_CTRL: u32 = 0x5011_0040;
const MAIN_CTRL_CONTROLLER_EN: u32 = 1 << 0;
const SIO: Memory = Memory {
    base: 0xD000_0000,
    size: 0x1000,
};
/// SYSINFO CHIP_ID: REVISION 2 (B2), PART 2, MANUFACTURER 0x927 (datasheet 2.20.2).
pub const SYSINFO_CHIP_ID: u32 = 0x4000_0000;
pub const CHIP_ID: u32 = 0x2000_2927;
/// SYSINFO PLATFORM: ASIC (bit 1), not FPGA.
const SYSINFO_PLATFORM: u32 = 0x4000_0004;
const PLATFORM_ASIC: u32 = 1 << 1;
/// SIO CPUID: 0 on core 0, 1 on core 1 (datasheet 2.3.1.7).
pub const SIO_CPUID: u32 = 0xD000_0000;
const CPUID: u32 = 0x410C_C601;
/// Each core's AHB-AP and its ROM table at 0xE00F_F000.
const AHB_AP: AccessPortIdentity = AccessPortIdentity {
    idr: 0x0477_0031,
    base: 0xE00F_F003,
};

/// What the two cores share: the flash part, and SRAM's host memory, which both cores'
/// unicorn instances map (`Soc::shared_ram`).
pub struct Shared {
    qspi: Mutex<Qspi>,
    sram: SharedMemory,
    /// What the cores execute at XIP: a copy of the flash array.
    xip: SharedMemory,
    /// The flash array's generation (`SpiFlash::generation`) the XIP copy holds.
    xip_generation: AtomicU64,
    /// reset_to_usb_boot was called: the next reset enters USB boot mode.
    usb_boot_next: AtomicBool,
    /// In the ROM's USB boot mode since the last reset.
    usb_boot: AtomicBool,
}

impl Default for Shared {
    fn default() -> Self {
        let shared = Shared {
            qspi: Mutex::default(),
            sram: SharedMemory::new(SRAM.size as usize),
            xip: SharedMemory::new(XIP.size as usize),
            xip_generation: AtomicU64::new(u64::MAX),
            usb_boot_next: AtomicBool::new(false),
            usb_boot: AtomicBool::new(false),
        };
        shared.refresh_xip(&shared.lock_qspi());
        shared
    }
}

impl Shared {
    fn lock_qspi(&self) -> std::sync::MutexGuard<'_, Qspi> {
        self.qspi.lock().unwrap_or_else(|error| error.into_inner())
    }

    /// Copy the flash array to the cores' XIP memory if it changed since the last copy.
    fn refresh_xip(&self, qspi: &Qspi) {
        let generation = qspi.flash.generation();
        if self.xip_generation.swap(generation, Ordering::Relaxed) == generation {
            return;
        }
        let contents = qspi.flash.contents();
        // SAFETY: the block has XIP.size bytes, the array as many (`spi_flash::SIZE`); no
        // core runs while the simulator's own code does (cores run in turn on this thread,
        // and a ROM function is performed from the running core's hook).
        unsafe {
            std::ptr::copy_nonoverlapping(contents.as_ptr(), self.xip.pointer, self.xip.size);
        }
    }
}

/// Host memory mapped into more than one unicorn instance (`mem_map_ptr`); the cores run
/// one after the other on one thread, never at once.
struct SharedMemory {
    pointer: *mut u8,
    size: usize,
}

// SAFETY: the block is only reached through unicorn, by one core at a time (`MultiCore`
// runs them in turn on the thread that owns it); the pointer itself is just an address.
unsafe impl Send for SharedMemory {}
unsafe impl Sync for SharedMemory {}

impl SharedMemory {
    fn new(size: usize) -> Self {
        let pointer = Box::into_raw(vec![0u8; size].into_boxed_slice()).cast::<u8>();
        SharedMemory { pointer, size }
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        // SAFETY: made by `new` from a boxed slice of `size` bytes, freed once here. The
        // unicorn instances that map it hold the `Arc<Shared>` in their SoC and unmap it
        // without reading when they close.
        unsafe {
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                self.pointer,
                self.size,
            )));
        }
    }
}

/// One core's view of the RP2040.
pub struct Rp2040 {
    core_index: u32,
    shared: Arc<Shared>,
    /// This core called reset_to_usb_boot: the chip resets.
    reset_requested: bool,
    /// This core is in a ROM flash function until the flash is done.
    rom_busy_until: Option<u64>,
}

impl Rp2040 {
    pub fn new(core_index: u32, shared: Arc<Shared>) -> Self {
        Rp2040 {
            core_index,
            shared,
            reset_requested: false,
            rom_busy_until: None,
        }
    }

    fn qspi(&self) -> std::sync::MutexGuard<'_, Qspi> {
        self.shared.lock_qspi()
    }

    /// Work on the QSPI side, then bring the cores' XIP copy up to date.
    fn with_qspi<R>(&self, work: impl FnOnce(&mut Qspi) -> R) -> R {
        let mut qspi = self.qspi();
        let result = work(&mut qspi);
        self.shared.refresh_xip(&qspi);
        result
    }

    /// `length` bytes of SRAM at `address`, None outside it.
    fn read_sram(&self, address: u32, length: usize) -> Option<Vec<u8>> {
        let offset = address.checked_sub(SRAM.base)? as usize;
        if offset.checked_add(length)? > self.shared.sram.size {
            return None;
        }
        // SAFETY: inside the block (checked above); no core runs during a host call
        // (it is made from the running core's own instruction hook, on this thread).
        let bytes =
            unsafe { std::slice::from_raw_parts(self.shared.sram.pointer.add(offset), length) };
        Some(bytes.to_vec())
    }
}

impl Soc for Rp2040 {
    fn variant(&self) -> Variant {
        Variant::Rp2040
    }

    fn core(&self) -> CoreModel {
        CoreModel::CortexM0Plus
    }

    fn cpuid(&self) -> u32 {
        CPUID
    }

    fn identity(&self) -> Identity {
        Identity {
            dpidr: DPIDR,
            jtag_idcode: 0,
            boundary_scan_idcode: 0,
        }
    }

    fn rom_table_peripheral_id(&self) -> u64 {
        crate::chip::M0PLUS_ROM_TABLE_ID.peripheral_id
    }

    fn dbgmcu_idcode(&self) -> u32 {
        0
    }

    fn dbgmcu_cr_mask(&self) -> u32 {
        0
    }

    fn dbgmcu_in_private_peripheral_bus(&self) -> bool {
        false
    }

    /// The boot ROM stands where the simulator keeps a flash array: unicorn memory the
    /// cores execute, holding the vector table; every write to it is a bus error.
    fn flash_size(&self) -> u32 {
        ROM.size
    }

    fn flash_base(&self) -> u32 {
        ROM.base
    }

    fn flash_alias_at_zero(&self) -> bool {
        false
    }

    fn initial_flash(&self) -> Option<Vec<u8>> {
        Some(rom::image())
    }

    fn shared_ram(&self) -> Option<*mut u8> {
        Some(self.shared.sram.pointer)
    }

    fn access_port(&self) -> AccessPortIdentity {
        AHB_AP
    }

    fn rams(&self) -> Vec<Memory> {
        vec![SRAM]
    }

    fn system_memory(&self) -> Memory {
        XIP
    }

    fn read_system_memory(&self, address: u32) -> u32 {
        self.qspi().read_xip(address - XIP.base)
    }

    fn debugger_may_access(&self, address: u32) -> bool {
        !(XIP.base..XIP.base + XIP.size).contains(&address) || self.qspi().xip_on()
    }

    fn is_host_function(&self, address: u32) -> bool {
        rom::function_at(address).is_some()
    }

    fn call_host_function(&mut self, address: u32, arguments: [u32; 4], now_ns: u64) {
        let Some(function) = rom::function_at(address) else {
            return;
        };
        if function == qspi::RomFunction::ResetToUsbBoot {
            self.shared.usb_boot_next.store(true, Ordering::Relaxed);
            self.reset_requested = true;
            return;
        }
        // An operation starts when the one before it (from an abandoned call) ends.
        let start = self.rom_busy_until.map_or(now_ns, |busy| busy.max(now_ns));
        let sram = |at, length| self.read_sram(at, length);
        let done = self.with_qspi(|qspi| qspi.call(function, arguments, sram, start));
        self.rom_busy_until = (done > now_ns).then_some(done);
    }

    /// The core waits in the ROM (its status register poll) while the flash is busy.
    fn core_waits_at(&self, pc: u32) -> bool {
        self.rom_busy_until.is_some() && rom::waits_at(pc)
    }

    fn flash_busy_until(&self) -> Option<u64> {
        self.rom_busy_until
    }

    /// The ROM's flash operation ends (its effect was made when it started).
    fn complete_flash(&mut self, now_ns: u64) -> Option<FlashEffect> {
        if self.rom_busy_until.is_some_and(|busy| busy <= now_ns) {
            self.rom_busy_until = None;
        }
        None
    }

    /// Nothing a core does ends the wait early (the ROM is not written).
    fn complete_flash_now(&mut self) -> Option<FlashEffect> {
        None
    }

    fn take_reset_request(&mut self) -> bool {
        std::mem::take(&mut self.reset_requested)
    }

    fn executable_system_memory(&self) -> Option<*mut u8> {
        Some(self.shared.xip.pointer)
    }

    fn code_generation(&self) -> u64 {
        self.shared.xip_generation.load(Ordering::Relaxed)
    }

    fn write_system_memory(
        &mut self,
        _address: u32,
        _bytes: u32,
        _value: u32,
        _now_ns: u64,
    ) -> Result<(), FlashError> {
        Err(FlashError::Fault)
    }

    fn peripherals(&self) -> Vec<Memory> {
        vec![
            APB,
            SIO,
            Memory {
                base: SSI_BASE,
                size: SSI_SIZE,
            },
            USBCTRL_REGS,
        ]
    }

    fn read_register(&self, address: u32) -> Option<u32> {
        match address {
            SYSINFO_CHIP_ID => Some(CHIP_ID),
            SYSINFO_PLATFORM => Some(PLATFORM_ASIC),
            SIO_CPUID => Some(self.core_index),
            USBCTRL_MAIN_CTRL if self.shared.usb_boot.load(Ordering::Relaxed) => {
                Some(MAIN_CTRL_CONTROLLER_EN)
            }
            _ => self.qspi().read_register(address),
        }
    }

    fn read_register_at(&mut self, address: u32, _now_ns: u64) -> Option<u32> {
        self.with_qspi(|qspi| qspi.read_register_at(address))
    }

    fn write_register(
        &mut self,
        address: u32,
        value: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        if let Some(done) = self.with_qspi(|qspi| qspi.write_register(address, value, now_ns)) {
            return Some(Ok(done));
        }
        // SYSINFO and SIO CPUID are read-only.
        self.read_register(address).map(|_| Ok(()))
    }

    /// The boot ROM stands where the simulator keeps a flash array: no flash controller
    /// (`Soc::flash` None), so the array reads as idle and writes to it are faults.
    /// USB boot mode if reset_to_usb_boot asked for it, else a normal boot.
    fn reset(&mut self) -> Vec<FlashEffect> {
        // The core leaves the ROM; the flash itself finished its work when it started.
        self.rom_busy_until = None;
        let usb_boot = self.shared.usb_boot_next.swap(false, Ordering::Relaxed);
        self.shared.usb_boot.store(usb_boot, Ordering::Relaxed);
        Vec::new()
    }

    /// The QSPI flash's operations, at the W25Q16JV's typical times (`spi_flash`).
    fn take_flash_activity(&mut self) -> crate::soc::flash::FlashActivity {
        self.qspi().flash.take_activity()
    }
}
