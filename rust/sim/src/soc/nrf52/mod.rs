//! The nRF52840 (nRF52840 Product Specification v1.7, "PS" below): a Cortex-M4F r0p1 with
//! 1 MB of flash at 0 in 4 KB pages, 256 KB of RAM, the FICR and UICR, the NVMC
//! (`nvmc`), APPROTECT and the CTRL-AP on AP1.
//!
//! Memory map (PS 4.2.3 "Memory map"): flash 0x0000_0000..0x000F_FFFF, FICR 0x1000_0000,
//! UICR 0x1000_1000 (both served as the "system memory" block), RAM 0x2000_0000..
//! 0x2003_FFFF, APB peripherals 0x4000_0000..0x4002_FFFF (the NVMC modelled, every other
//! register plain storage). Not mapped: the code RAM alias at 0x0080_0000 and the AHB
//! peripherals (GPIO) at 0x5000_0000.
//!
//! Approximations: this is a build-code C0 part, before "hardened" APPROTECT (PS v1.7
//! 4.4.1): UICR.APPROTECT.PALL = 0xFF leaves debug open, any other value closes the
//! AHB-AP at the next reset (power-on, nRST, SYSRESETREQ, CTRL-AP RESET); the
//! APPROTECT.DISABLE register of later builds is not there. JTAG: the real chip is SWD
//! only; the simulator still answers JTAG with an ARM JTAG-DP. The CTRL-AP's ERASEALL
//! erases flash and UICR (not RAM).

pub mod nvmc;

use super::flash::Controller;
use super::stm32f1::offset_in;
use super::{AccessPortAction, CoreModel, FlashEffect, FlashError, Memory, Soc, Variant};
use crate::bus::{AccessPortIdentity, AccessPortKind, Identity};
use nvmc::{NVMC_BASE, NVMC_SIZE, Nvmc};

/// FICR and UICR (PS 4.4, 4.5).
pub const FICR_BASE: u32 = 0x1000_0000;
pub const UICR_BASE: u32 = 0x1000_1000;
const UICR_SIZE: u32 = 0x1000;
const SRAM: Memory = Memory {
    base: 0x2000_0000,
    size: 256 * 1024,
};
/// APB peripherals (PS 4.2.3).
const PERIPHERALS: Memory = Memory {
    base: 0x4000_0000,
    size: 0x0003_0000,
};
/// The Cortex-M4F r0p1 (PS 5.3 "CPU"; ARM Cortex-M4 TRM 4.3.1).
const CPUID: u32 = 0x410F_C241;

/// FICR words (PS 4.4.2): CODEPAGESIZE 0x010, CODESIZE 0x014, DEVICEID 0x060/0x064,
/// INFO.PART 0x100, INFO.VARIANT 0x104 ("AAC0"), INFO.PACKAGE 0x108 (0x2004 QI),
/// INFO.RAM 0x10C (KB), INFO.FLASH 0x110 (KB). Unlisted words read erased.
const FICR_WORDS: [(u32, u32); 9] = [
    (0x010, nvmc::PAGE_SIZE),
    (0x014, nvmc::FLASH_SIZE / nvmc::PAGE_SIZE),
    (0x060, 0x1234_5678),
    (0x064, 0x9ABC_DEF0),
    (0x100, 0x0005_2840),
    (0x104, 0x4141_4330),
    (0x108, 0x0000_2004),
    (0x10C, 256),
    (0x110, 1024),
];

/// UICR.APPROTECT (PS 4.5.2.11): PALL [7:0], 0xFF disabled.
const UICR_APPROTECT: u32 = 0x208;
const APPROTECT_DISABLED: u32 = 0xFF;

/// The CTRL-AP on APSEL 1 (PS 4.5 "Debug and trace", CTRL-AP registers): RESET 0x000,
/// ERASEALL 0x004, ERASEALLSTATUS 0x008, APPROTECTSTATUS 0x00C, IDR 0x0FC.
pub const CTRL_AP: u8 = 1;
pub const CTRL_AP_RESET: u8 = 0x00;
pub const CTRL_AP_ERASEALL: u8 = 0x04;
pub const CTRL_AP_ERASEALLSTATUS: u8 = 0x08;
pub const CTRL_AP_APPROTECTSTATUS: u8 = 0x0C;
pub const CTRL_AP_IDR: u8 = 0xFC;
pub const CTRL_AP_IDR_VALUE: u32 = 0x0288_0000;
/// The AHB-AP of the nRF52840 (pyOCD's discovery log: "AHB-AP var1 rev2").
const AHB_AP_IDR: u32 = 0x2477_0011;

pub struct Nrf52 {
    variant: Variant,
    nvmc: Nvmc,
    /// APPROTECT as loaded at the last reset: the AHB-AP is closed.
    protected: bool,
    /// CTRL-AP RESET as written.
    reset_held: bool,
}

impl Nrf52 {
    pub fn new(variant: Variant) -> Self {
        let mut soc = Nrf52 {
            variant,
            nvmc: Nvmc::default(),
            protected: false,
            reset_held: false,
        };
        soc.load_protection();
        soc
    }

    /// UICR is read at every reset (PS 4.5 "UICR ... loaded at reset").
    fn load_protection(&mut self) {
        let pall = self.nvmc.uicr_word(UICR_APPROTECT) & 0xFF;
        self.protected = pall != APPROTECT_DISABLED;
    }

    fn read_ficr(&self, offset: u32) -> u32 {
        FICR_WORDS
            .iter()
            .find(|(at, _)| *at == offset)
            .map_or(u32::MAX, |(_, value)| *value)
    }
}

impl Soc for Nrf52 {
    fn variant(&self) -> Variant {
        self.variant
    }

    fn core(&self) -> CoreModel {
        CoreModel::CortexM4F
    }

    fn cpuid(&self) -> u32 {
        CPUID
    }

    /// SW-DP 0x2BA01477 (PS 4.5 "DAP"; nrf52.cfg's expected id).
    fn identity(&self) -> Identity {
        Identity {
            dpidr: 0x2BA0_1477,
            jtag_idcode: 0x4BA0_0477,
            boundary_scan_idcode: 0,
        }
    }

    /// Designer Nordic (JEP106 bank 3, 0x44: continuation 2) and part 0x008, as pyOCD's
    /// discovery log of an nRF52840 shows the ROM table at 0xE00F_F000.
    fn rom_table_peripheral_id(&self) -> u64 {
        crate::chip::designer_id(0x2, 0x44, 0x008, 0)
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

    fn flash_size(&self) -> u32 {
        nvmc::FLASH_SIZE
    }

    fn flash_base(&self) -> u32 {
        0
    }

    fn flash_alias_at_zero(&self) -> bool {
        false
    }

    /// APPROTECT closes the AHB-AP entirely (PS 4.4.1 "access port protection").
    fn debugger_may_access(&self, _address: u32) -> bool {
        !self.protected
    }

    fn access_port(&self) -> AccessPortIdentity {
        AccessPortIdentity {
            idr: AHB_AP_IDR,
            base: AccessPortIdentity::CORTEX_M3.base,
        }
    }

    fn access_port_at(&self, index: u8) -> Option<AccessPortKind> {
        match index {
            0 => Some(AccessPortKind::Memory {
                identity: self.access_port(),
                enabled: !self.protected,
            }),
            CTRL_AP => Some(AccessPortKind::Own),
            _ => None,
        }
    }

    fn read_access_port(&mut self, index: u8, register: u8, now_ns: u64) -> u32 {
        if index != CTRL_AP {
            return 0;
        }
        match register {
            CTRL_AP_RESET => u32::from(self.reset_held),
            CTRL_AP_ERASEALL => 0,
            CTRL_AP_ERASEALLSTATUS => u32::from(self.nvmc.erasing_all(now_ns)),
            CTRL_AP_APPROTECTSTATUS => u32::from(!self.protected),
            CTRL_AP_IDR => CTRL_AP_IDR_VALUE,
            _ => 0,
        }
    }

    /// ERASEALL works whatever APPROTECT says (PS 4.4.1: "the CTRL-AP ... ERASEALL ...
    /// is the only way to regain access"); RESET holds the chip in reset.
    fn write_access_port(
        &mut self,
        index: u8,
        register: u8,
        value: u32,
        now_ns: u64,
    ) -> AccessPortAction {
        if index != CTRL_AP {
            return AccessPortAction::Nothing;
        }
        match register {
            CTRL_AP_RESET => {
                self.reset_held = value & 1 != 0;
                AccessPortAction::HoldReset(self.reset_held)
            }
            CTRL_AP_ERASEALL if value & 1 != 0 => {
                self.nvmc.start_erase_all(now_ns);
                AccessPortAction::Nothing
            }
            _ => AccessPortAction::Nothing,
        }
    }

    fn rams(&self) -> Vec<Memory> {
        vec![SRAM]
    }

    fn system_memory(&self) -> Memory {
        Memory {
            base: FICR_BASE,
            size: UICR_BASE + UICR_SIZE - FICR_BASE,
        }
    }

    fn read_system_memory(&self, address: u32) -> u32 {
        if address >= UICR_BASE {
            self.nvmc.uicr_word(address - UICR_BASE)
        } else {
            self.read_ficr(address - FICR_BASE)
        }
    }

    /// The FICR is read-only (a bus error); the UICR is written through the NVMC.
    fn write_system_memory(
        &mut self,
        address: u32,
        bytes: u32,
        value: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        if address < UICR_BASE {
            return Err(FlashError::Fault);
        }
        self.nvmc
            .write_uicr(address - UICR_BASE, bytes, value, now_ns)
    }

    fn peripherals(&self) -> Vec<Memory> {
        vec![PERIPHERALS]
    }

    fn read_register(&self, address: u32) -> Option<u32> {
        let offset = offset_in(address, NVMC_BASE, NVMC_SIZE)?;
        self.nvmc.read_register(offset)
    }

    fn write_register(
        &mut self,
        address: u32,
        value: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        let offset = offset_in(address, NVMC_BASE, NVMC_SIZE)?;
        self.nvmc.write_register(offset, value, now_ns)
    }

    /// Every reset reloads APPROTECT from the UICR.
    fn reset(&mut self) -> Vec<FlashEffect> {
        let effect = self.nvmc.reset();
        self.load_protection();
        effect.into_iter().collect()
    }

    fn flash(&self) -> Option<&dyn Controller> {
        Some(&self.nvmc)
    }

    fn flash_mut(&mut self) -> Option<&mut dyn Controller> {
        Some(&mut self.nvmc)
    }

    /// An ERASEALL ends the protection: the UICR is erased (PS 4.4.1).
    fn chip_erased(&mut self) {
        self.load_protection();
    }
}

#[cfg(test)]
mod tests;
