//! The STM32H743 and STM32H750 (RM0433): a Cortex-M7 r1p1 with double-precision FPU and
//! L1 caches, the H7 flash interface (`flash`: one or two banks of 128 KB sectors,
//! 256-bit flash words, option bytes with RDP) and the DBGMCU at 0x5C00_1000.
//!
//! Memory map (RM0433 2.3.2 table 7; DS12110 figure "Memory map"): ITCM RAM at 0 (no
//! flash alias: the core boots from BOOT_ADD0 = 0x0800_0000), flash bank 1 at
//! 0x0800_0000 and bank 2 at 0x0810_0000 (H743), system memory 0x1FF0_0000 with the
//! unique ID (0x1FF1_E800) and flash size (0x1FF1_E880), DTCM RAM 0x2000_0000 (128 KB),
//! AXI SRAM 0x2400_0000 (512 KB), SRAM1-3 0x3000_0000 (288 KB), SRAM4 0x3800_0000
//! (64 KB). Peripherals in the windows of `PERIPHERAL_WINDOWS` (APB1/2, AHB1/2, APB3,
//! AHB3, APB4/AHB4, DBGMCU): the flash interface and DBGMCU modelled, every other
//! register plain storage (RCC included: its ready flags do not follow).
//!
//! Access ports (RM0433 60.4.8): AP0 the M7's AHB-AP, AP2 the APB-AP onto the debug APB
//! (IDR 0x54770002) where DBGMCU answers at 0xE00E_1000 too. Approximations: AP2 reaches
//! the same bus as AP0 (so the core and AP0 see 0xE00E_1000 as well; on silicon only the
//! debug APB does), and of the debug APB only DBGMCU is modelled (its ROM table, SWO,
//! TPIU and trace funnel are not); AP1 (the D2 AHB-AP of the dual-core parts) is absent.
//! DBGMCU_CR's low-power bits (DBGSLEEP_D1 ...) and clock enables (D1DBGCKEN, D3DBGCKEN)
//! are stored, and the debug port works whatever they say (the simulated core never
//! enters Stop or Standby; WFI sleeps and stays debuggable).
//!
//! The STM32H750 has its QUADSPI (`quadspi`, RM0433 23) with a W25Q64JV on bank 1 and the
//! flash memory-mapped at 0x9000_0000 (its 8 MB; the rest of the 256 MB window is a bus
//! error), as the boards that carry an H750 have it. The core executes from that window
//! while the QUADSPI is in memory-mapped mode; outside it, a core or debugger access
//! there is a bus error (the core locks up). After reset memory-mapped mode is off: a
//! program's start-up in internal flash enables it, as on the boards. The RCC and GPIO
//! set-up for the QUADSPI (clock enables, pins' alternate functions) is plain storage:
//! the QUADSPI works whether its clock is enabled or not.

pub mod flash;
pub mod quadspi;

#[cfg(test)]
mod tests;

use super::flash::Controller;
use super::stm32f1::offset_in;
use super::{CoreModel, FlashEffect, FlashError, Memory, Soc, Variant};
use crate::bus::{AccessPortIdentity, AccessPortKind, Identity};
use flash::{FLASH_INTERFACE_BASE, FLASH_INTERFACE_SIZE, FlashController, FlashTiming};
use quadspi::{MEMORY_MAPPED, QUADSPI_BASE, QUADSPI_SIZE, Quadspi};
use std::collections::HashMap;

const K: u32 = 1024;
const SYSTEM_MEMORY: Memory = Memory {
    base: 0x1FF0_0000,
    size: 128 * K,
};
/// The 96-bit unique ID and the flash size in KB (RM0433 61.1, 61.2).
const UNIQUE_ID: u32 = 0x1FF1_E800;
const FLASH_SIZE_WORD: u32 = 0x1FF1_E880;
const RAMS: [Memory; 5] = [
    Memory {
        base: 0x2000_0000,
        size: 128 * K,
    },
    Memory {
        base: 0x0000_0000,
        size: 64 * K,
    },
    Memory {
        base: 0x2400_0000,
        size: 512 * K,
    },
    Memory {
        base: 0x3000_0000,
        size: 288 * K,
    },
    Memory {
        base: 0x3800_0000,
        size: 64 * K,
    },
];
/// RM0433 table 8 "Register boundary addresses", grouped by bus.
const PERIPHERAL_WINDOWS: [Memory; 6] = [
    // APB1, APB2, AHB1
    Memory {
        base: 0x4000_0000,
        size: 0x8_0000,
    },
    // AHB2
    Memory {
        base: 0x4802_0000,
        size: 0x1_0000,
    },
    // APB3
    Memory {
        base: 0x5000_0000,
        size: 0x1_0000,
    },
    // AHB3: MDMA, DMA2D, JPEG, flash interface 0x5200_2000, FMC, QUADSPI, SDMMC1
    Memory {
        base: 0x5200_0000,
        size: 0x1_0000,
    },
    // APB4 and AHB4 (GPIO, RCC 0x5802_4400, PWR 0x5802_4800)
    Memory {
        base: 0x5800_0000,
        size: 0x3_0000,
    },
    // DBGMCU
    Memory {
        base: DBGMCU_BASE,
        size: 0x1000,
    },
];

/// DBGMCU (RM0433 60.5.8): IDCODE, CR, then the freeze registers; the same registers on
/// the debug APB at 0xE00E_1000 (RM0433 60.4.8 table "Debug APB memory map").
const DBGMCU_BASE: u32 = 0x5C00_1000;
const DBGMCU_DEBUG_APB: u32 = 0xE00E_1000;
/// AP2, the APB-AP onto the debug APB (RM0433 60.4.8; OpenOCD stm32h7x.cfg uses it).
const APB_AP: u8 = 2;
const APB_AP_IDENTITY: AccessPortIdentity = AccessPortIdentity {
    idr: 0x5477_0002,
    base: 0xE00E_0003,
};
const DBGMCU_IDCODE: u32 = 0x000;
const DBGMCU_CR: u32 = 0x004;
/// DBGMCU_CR: DBGSLEEP_D1 0, DBGSTOP_D1 1, DBGSTBY_D1 2, DBGSTOP_D3 7, DBGSTBY_D3 8,
/// TRACECLKEN 20, D1DBGCKEN 21, D3DBGCKEN 22, TRGOEN 28 (RM0433 60.5.8; CMSIS
/// stm32h743xx.h). Bits 3-5 (the dual-core parts' D2 bits) read as zero here.
const DBGMCU_CR_STORED: u32 = 0x1070_0187;
/// DEV_ID 0x450 (RM0433 60.5.8); REV_ID 0x2003 is revision V.
const DBGMCU_IDCODE_VALUE: u32 = 0x2003_6450;

/// The Cortex-M7 r1p1 (Cortex-M7 TRM 3.x, CPUID).
const CPUID: u32 = 0x411F_C271;

const US: u64 = 1_000;
const MS: u64 = 1_000_000;
/// DS12110 table 53 "Flash memory programming", typical values by parallelism x8, x16,
/// x32, x64: flash word program 290/180/130/100 us, 128 KB sector erase 2/1.8/1.1/1 s,
/// bank erase 13/8/6/5 s; option change: no figure (300 ms, see `flash`).
const TIMING: FlashTiming = FlashTiming {
    program_word_ns: [290 * US, 180 * US, 130 * US, 100 * US],
    sector_erase_ns: [2000 * MS, 1800 * MS, 1100 * MS, 1000 * MS],
    bank_erase_ns: [13000 * MS, 8000 * MS, 6000 * MS, 5000 * MS],
    option_change_ns: 300 * MS,
};

pub struct Stm32h7 {
    variant: Variant,
    flash: FlashController,
    /// DBGMCU_CR and the freeze registers: reset by power-on only (RM0433 60.5.8).
    debug_mcu: HashMap<u32, u32>,
    /// The H750's QUADSPI and its W25Q64JV.
    quadspi: Option<Quadspi>,
}

impl Stm32h7 {
    pub fn new(variant: Variant) -> Self {
        let flash = match variant {
            // One bank of one sector (RM0433 4.2 "128 Kbytes on STM32H750").
            Variant::Stm32h750vb => FlashController::new(TIMING, 1, 1),
            // Two banks of eight sectors.
            _ => FlashController::new(TIMING, 2, 8),
        };
        let quadspi = (variant == Variant::Stm32h750vb).then(Quadspi::default);
        Stm32h7 {
            variant,
            flash,
            debug_mcu: HashMap::new(),
            quadspi,
        }
    }

    /// The 96-bit unique ID: made up, fixed per variant so runs repeat.
    fn unique_id_word(&self, index: u32) -> u32 {
        [0x0028_0040, 0x3138_5111, 0x3532_3300 | self.variant as u32][index as usize % 3]
    }

    fn read_debug_mcu(&self, offset: u32) -> Option<u32> {
        match offset {
            DBGMCU_IDCODE => Some(DBGMCU_IDCODE_VALUE),
            _ => Some(self.debug_mcu.get(&offset).copied().unwrap_or(0)),
        }
    }

    /// The QUADSPI register at `address`, if the chip has one there.
    fn quadspi_at(&self, address: u32) -> Option<u32> {
        self.quadspi.as_ref()?;
        offset_in(address, QUADSPI_BASE, QUADSPI_SIZE)
    }

    fn write_debug_mcu(&mut self, offset: u32, value: u32) {
        match offset {
            DBGMCU_IDCODE => {}
            DBGMCU_CR => {
                self.debug_mcu.insert(offset, value & DBGMCU_CR_STORED);
            }
            _ => {
                self.debug_mcu.insert(offset, value);
            }
        }
    }
}

impl Soc for Stm32h7 {
    fn variant(&self) -> Variant {
        self.variant
    }

    fn core(&self) -> CoreModel {
        CoreModel::CortexM7
    }

    fn cpuid(&self) -> u32 {
        CPUID
    }

    /// SW-DP 0x6BA02477 (DPv2), JTAG-DP 0x6BA00477 (RM0433 60.4.3, 60.5.2), boundary
    /// scan TAP 0x06450041 (RM0433 60.4.3).
    fn identity(&self) -> Identity {
        Identity {
            dpidr: 0x6BA0_2477,
            jtag_idcode: 0x6BA0_0477,
            boundary_scan_idcode: 0x0645_0041,
        }
    }

    /// AP0 is the Cortex-M7's AHB-AP (IDR 0x84770001), BASE the processor ROM table at
    /// 0xE00F_E000 (RM0433 60.4.8; J-Link's dump of an STM32H753).
    fn access_port(&self) -> AccessPortIdentity {
        AccessPortIdentity {
            idr: 0x8477_0001,
            base: 0xE00F_E003,
        }
    }

    fn access_port_at(&self, index: u8) -> Option<AccessPortKind> {
        let identity = match index {
            0 => self.access_port(),
            APB_AP => APB_AP_IDENTITY,
            _ => return None,
        };
        Some(AccessPortKind::Memory {
            identity,
            enabled: true,
        })
    }

    /// The processor ROM table carries ST's code and the DEV_ID, as on the F1/F4 (Black
    /// Magic Probe identifies the H7 by part 0x450 there).
    fn rom_table_peripheral_id(&self) -> u64 {
        crate::chip::designer_id(0x0, 0x20, 0x450, 0)
    }

    fn dbgmcu_idcode(&self) -> u32 {
        DBGMCU_IDCODE_VALUE
    }

    fn dbgmcu_cr_mask(&self) -> u32 {
        DBGMCU_CR_STORED
    }

    fn dbgmcu_in_private_peripheral_bus(&self) -> bool {
        false
    }

    fn flash_alias_at_zero(&self) -> bool {
        false
    }

    fn flash_size(&self) -> u32 {
        self.flash.flash_size()
    }

    fn rams(&self) -> Vec<Memory> {
        RAMS.to_vec()
    }

    fn system_memory(&self) -> Memory {
        SYSTEM_MEMORY
    }

    fn read_system_memory(&self, address: u32) -> u32 {
        match address {
            UNIQUE_ID..0x1FF1_E80C => self.unique_id_word((address - UNIQUE_ID) / 4),
            FLASH_SIZE_WORD => 0xFFFF_0000 | (self.flash.capacity() / K),
            _ => 0,
        }
    }

    /// System memory is read-only.
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
        PERIPHERAL_WINDOWS.to_vec()
    }

    fn read_register(&self, address: u32) -> Option<u32> {
        let dbgmcu = offset_in(address, DBGMCU_BASE, 0x1000)
            .or_else(|| offset_in(address, DBGMCU_DEBUG_APB, 0x1000));
        if let Some(offset) = dbgmcu {
            return self.read_debug_mcu(offset);
        }
        if let (Some(offset), Some(quadspi)) = (self.quadspi_at(address), &self.quadspi) {
            return quadspi.read_register(offset);
        }
        let offset = offset_in(address, FLASH_INTERFACE_BASE, FLASH_INTERFACE_SIZE)?;
        self.flash.read_register(offset)
    }

    fn read_register_at(&mut self, address: u32, now_ns: u64) -> Option<u32> {
        let offset = self.quadspi_at(address)?;
        self.quadspi.as_mut()?.read_register_at(offset, now_ns)
    }

    fn write_register_lanes(
        &mut self,
        address: u32,
        value: u32,
        lanes: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        if let Some(offset) = self.quadspi_at(address) {
            let quadspi = self.quadspi.as_mut()?;
            quadspi.write_register(offset, value, lanes, now_ns);
            return Some(Ok(()));
        }
        self.write_register(address, value, now_ns)
    }

    fn external_memory(&self) -> Option<Memory> {
        self.quadspi.as_ref().map(|_| MEMORY_MAPPED)
    }

    fn external_memory_enabled(&self) -> bool {
        self.quadspi.as_ref().is_some_and(Quadspi::memory_mapped)
    }

    fn write_register(
        &mut self,
        address: u32,
        value: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        let dbgmcu = offset_in(address, DBGMCU_BASE, 0x1000)
            .or_else(|| offset_in(address, DBGMCU_DEBUG_APB, 0x1000));
        if let Some(offset) = dbgmcu {
            self.write_debug_mcu(offset, value);
            return Some(Ok(()));
        }
        if self.quadspi_at(address).is_some() {
            return self.write_register_lanes(address, value, 0xF, now_ns);
        }
        let offset = offset_in(address, FLASH_INTERFACE_BASE, FLASH_INTERFACE_SIZE)?;
        self.flash.write_register(offset, value, now_ns)
    }

    fn reset(&mut self) -> Vec<FlashEffect> {
        if let Some(quadspi) = &mut self.quadspi {
            quadspi.reset();
        }
        self.flash.reset()
    }

    fn flash(&self) -> Option<&dyn Controller> {
        Some(&self.flash)
    }

    fn flash_mut(&mut self) -> Option<&mut dyn Controller> {
        Some(&mut self.flash)
    }

    /// The internal flash's operation or the QSPI flash's, whichever ends first.
    fn flash_busy_until(&self) -> Option<u64> {
        let external = self.quadspi.as_ref().and_then(|q| q.flash.busy_until_ns());
        match (self.flash.busy_until_ns(), external) {
            (Some(internal), Some(external)) => Some(internal.min(external)),
            (internal, external) => internal.or(external),
        }
    }

    /// The internal flash's and the QSPI flash's together.
    fn take_flash_activity(&mut self) -> crate::soc::flash::FlashActivity {
        let internal = self.flash.take_activity();
        match &mut self.quadspi {
            Some(quadspi) => internal.merge(quadspi.flash.take_activity()),
            None => internal,
        }
    }

    /// The internal flash's operation, then the QSPI flash's (its changes reach the
    /// memory-mapped window).
    fn complete_flash(&mut self, now_ns: u64) -> Option<FlashEffect> {
        self.flash
            .complete(now_ns)
            .or_else(|| self.quadspi.as_mut()?.complete(now_ns))
    }

    /// A core store to the internal flash waits for its operation only: the QSPI flash
    /// keeps its own time.
    fn complete_flash_now(&mut self) -> Option<FlashEffect> {
        self.flash.complete(u64::MAX)
    }
}
