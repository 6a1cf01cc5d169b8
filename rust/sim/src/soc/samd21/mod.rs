//! The ATSAMD21G18A (SAM D21 datasheet DS40001882, "DS" below; section numbers of the
//! Atmel-42181 edition agree): a Cortex-M0+ r0p1 with 256 KB of flash at 0 in 64-byte
//! pages and 256-byte rows, 32 KB of SRAM, the DSU (`dsu`: identity, ROM table, chip
//! erase, the security bit's lock-out) and the NVMCTRL (`nvmctrl`).
//!
//! Memory map (DS 9.2 "Product mapping"): flash 0x0000_0000..0x0003_FFFF, the NVM
//! auxiliary space 0x0080_0000.. (user row 0x0080_4000, serial number words 0x0080_A00C,
//! 0x0080_A040..0x0080_A048; served as the "system memory" block), SRAM 0x2000_0000..
//! 0x2000_7FFF, peripheral bridges A, B, C 0x4000_0000..0x42FF_FFFF (DSU and NVMCTRL
//! modelled, every other register plain storage). The IOBUS (0x6000_0000) is not mapped.
//!
//! Approximations: no cold-plugging (the CPU is never parked by the DSU: STATUSA.CRSTEXT
//! stays 0), the PAC does not protect the DSU, CTRL.CRC and CTRL.MBIST do nothing, the
//! MTB is not in the ROM table. JTAG: the real chip is SWD only; the simulator still
//! answers JTAG with an ARM JTAG-DP.

pub mod dsu;
pub mod nvmctrl;

use super::flash::Controller;
use super::stm32f1::offset_in;
use super::{CoreModel, FlashEffect, FlashError, Memory, Soc, Variant};
use crate::bus::{AccessPortIdentity, Identity};
use dsu::{DSU_BASE, DSU_SIZE, Dsu};
use nvmctrl::{NVMCTRL_BASE, NVMCTRL_SIZE, Nvmctrl};

pub const SRAM: Memory = Memory {
    base: 0x2000_0000,
    size: 32 * 1024,
};
/// The NVM auxiliary space (DS 22.6.5 "NVM user configuration" and 10.3.3 "serial
/// number").
pub const AUXILIARY_BASE: u32 = 0x0080_0000;
const AUXILIARY_SIZE: u32 = 0x0001_0000;
pub const USER_ROW: u32 = 0x0080_4000;
/// The 128-bit serial number (DS 10.3.3): four words at these addresses.
pub const SERIAL_NUMBER: [u32; 4] = [0x0080_A00C, 0x0080_A040, 0x0080_A044, 0x0080_A048];
/// Bridges A, B and C (DS 9.2).
const PERIPHERALS: Memory = Memory {
    base: 0x4000_0000,
    size: 0x0300_0000,
};
/// Cortex-M0+ r0p1 (DS 11.1.2; ARM Cortex-M0+ TRM 4.3).
const CPUID: u32 = 0x410C_C601;
/// The AHB-AP (DS 13.13 / J-Link logs: IDR 0x04770031) and its BASE: the DSU's ROM table
/// at 0x4100_3000, format and present bits set.
const AHB_AP_IDR: u32 = 0x0477_0031;
const AHB_AP_BASE: u32 = dsu::ROM_TABLE_BASE | 0b11;

pub struct Samd21 {
    variant: Variant,
    dsu: Dsu,
    nvmctrl: Nvmctrl,
    /// The security bit as loaded at the last reset: the debugger reaches only the DSU's
    /// external range (DS 13.5.2 "Device Protected").
    protected: bool,
}

impl Samd21 {
    pub fn new(variant: Variant) -> Self {
        let nvmctrl = Nvmctrl::default();
        Samd21 {
            variant,
            dsu: Dsu::default(),
            protected: nvmctrl.security_bit(),
            nvmctrl,
        }
    }

    /// Made up, fixed, so runs repeat.
    fn serial_word(&self, index: usize) -> u32 {
        [0x5D21_0001, 0x4E4F_5753, 0x3832_3120, 0x0000_0018][index]
    }
}

impl Soc for Samd21 {
    fn variant(&self) -> Variant {
        self.variant
    }

    fn core(&self) -> CoreModel {
        CoreModel::CortexM0Plus
    }

    fn cpuid(&self) -> u32 {
        CPUID
    }

    /// SW-DP DPIDR 0x0BC11477 (DPv1, MINDP; reference notes, J-Link logs).
    fn identity(&self) -> Identity {
        Identity {
            dpidr: 0x0BC1_1477,
            jtag_idcode: 0x4BA0_0477,
            boundary_scan_idcode: 0,
        }
    }

    /// The M0+ ROM table at 0xE00F_F000 (the DSU's table names the chip).
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

    fn flash_size(&self) -> u32 {
        nvmctrl::FLASH_SIZE
    }

    fn flash_base(&self) -> u32 {
        0
    }

    fn flash_alias_at_zero(&self) -> bool {
        false
    }

    /// With the security bit only the DSU's external range answers (DS 13.5.2, 13.11).
    fn debugger_may_access(&self, address: u32) -> bool {
        !self.protected || dsu::external_range(address)
    }

    fn access_port(&self) -> AccessPortIdentity {
        AccessPortIdentity {
            idr: AHB_AP_IDR,
            base: AHB_AP_BASE,
        }
    }

    fn rams(&self) -> Vec<Memory> {
        vec![SRAM]
    }

    fn system_memory(&self) -> Memory {
        Memory {
            base: AUXILIARY_BASE,
            size: AUXILIARY_SIZE,
        }
    }

    fn read_system_memory(&self, address: u32) -> u32 {
        if let Some(index) = SERIAL_NUMBER.iter().position(|&at| at == address) {
            return self.serial_word(index);
        }
        self.nvmctrl.read_auxiliary(address)
    }

    /// Writes to the user row fill the page buffer, as flash writes do.
    fn write_system_memory(
        &mut self,
        address: u32,
        bytes: u32,
        value: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        if !(USER_ROW..USER_ROW + nvmctrl::ROW_SIZE).contains(&address) {
            return Err(FlashError::Fault);
        }
        self.nvmctrl
            .write_page_buffer(address, bytes, value, now_ns)
    }

    fn peripherals(&self) -> Vec<Memory> {
        vec![PERIPHERALS]
    }

    fn read_register(&self, address: u32) -> Option<u32> {
        if let Some(offset) = offset_in(address, DSU_BASE, DSU_SIZE) {
            return Some(self.dsu.read(offset, self.protected));
        }
        let offset = offset_in(address, NVMCTRL_BASE, NVMCTRL_SIZE)?;
        self.nvmctrl.read_register(offset)
    }

    fn write_register(
        &mut self,
        address: u32,
        value: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        self.write_register_lanes(address, value, 0xF, now_ns)
    }

    fn write_register_lanes(
        &mut self,
        address: u32,
        value: u32,
        lanes: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        if let Some(offset) = offset_in(address, DSU_BASE, DSU_SIZE) {
            return Some(
                self.dsu
                    .write(offset, value, lanes, &mut self.nvmctrl, now_ns),
            );
        }
        let offset = offset_in(address, NVMCTRL_BASE, NVMCTRL_SIZE)?;
        self.nvmctrl.write_register(offset, value, lanes, now_ns)
    }

    /// A reset reloads the fuses: the security bit, BOOTPROT and LOCK (DS 22.6.5).
    fn reset(&mut self) -> Vec<FlashEffect> {
        let effect = self.nvmctrl.reset();
        self.dsu.reset();
        self.protected = self.nvmctrl.security_bit();
        effect.into_iter().collect()
    }

    fn flash(&self) -> Option<&dyn Controller> {
        Some(&self.nvmctrl)
    }

    fn flash_mut(&mut self) -> Option<&mut dyn Controller> {
        Some(&mut self.nvmctrl)
    }

    fn chip_erased(&mut self) {
        self.dsu.chip_erase_done();
    }
}

#[cfg(test)]
mod tests;
