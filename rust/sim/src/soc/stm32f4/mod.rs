//! The STM32F4: F405/407 (RM0090), F401xB/C (RM0368) and F411xC/E (RM0383), a Cortex-M4F
//! r0p1 with the F4 flash interface (`flash`: sectors of 16, 64 and 128 KB, PSIZE, option
//! bytes with RDP).
//!
//! Memory map (RM0090 2.3 table 1; DS8626 figure "Memory map"): flash at 0x0800_0000
//! (aliased at 0), CCM RAM at 0x1000_0000 (F407 only), system memory 0x1FFF_0000 with the
//! OTP area, unique ID (0x1FFF_7A10), flash size (0x1FFF_7A22) and option bytes
//! (0x1FFF_C000), SRAM at 0x2000_0000 (SRAM1 and SRAM2 contiguous on the F407),
//! peripherals 0x4000_0000..0x4007_FFFF (APB1, APB2, AHB1; the flash interface modelled,
//! every other register plain storage, RCC included: its ready flags do not follow).
//! AHB2 (0x5000_0000), FSMC and the backup SRAM are not mapped.

pub mod flash;

use super::flash::Controller;
use super::stm32f1::offset_in;
use super::{CoreModel, FlashEffect, FlashError, Memory, Soc, Variant};
use crate::bus::Identity;
use flash::{FLASH_INTERFACE_BASE, FLASH_INTERFACE_SIZE, FlashController, FlashTiming};

const SYSTEM_MEMORY_BASE: u32 = 0x1FFF_0000;
const OTP_BASE: u32 = 0x1FFF_7800;
/// 16 OTP blocks of 32 bytes and 16 lock bytes (RM0090 3.8).
const OTP_END: u32 = 0x1FFF_7A10;
const UNIQUE_ID: u32 = 0x1FFF_7A10;
/// The flash size in KB is the upper half-word of this word (RM0090 39.2).
const FLASH_SIZE_WORD: u32 = 0x1FFF_7A20;
const OPTION_BYTES_BASE: u32 = 0x1FFF_C000;
const OPTION_BYTES_END: u32 = 0x1FFF_C010;
const SRAM_BASE: u32 = 0x2000_0000;
const CCM_RAM: Memory = Memory {
    base: 0x1000_0000,
    size: 64 * 1024,
};
/// APB1, APB2 and AHB1 (RM0090 table 1).
const PERIPHERAL_SIZE: u32 = 0x0008_0000;
/// DBGMCU_CR: DBG_SLEEP 0, DBG_STOP 1, DBG_STANDBY 2, TRACE_IOEN 5, TRACE_MODE [7:6]
/// (RM0090 38.16.3).
const DBGMCU_CR_STORED: u32 = 0xE7;
/// The Cortex-M4F r0p1 (PM0214 4.3.1).
const CPUID: u32 = 0x410F_C241;

/// Sector sizes (RM0090 table 5, RM0368 table 5, RM0383 table 4): four of 16 KB, one of
/// 64 KB, then 128 KB sectors.
const K: u32 = 1024;
const SECTORS_1M: [u32; 12] = [
    16 * K,
    16 * K,
    16 * K,
    16 * K,
    64 * K,
    128 * K,
    128 * K,
    128 * K,
    128 * K,
    128 * K,
    128 * K,
    128 * K,
];
const SECTORS_512K: [u32; 8] = [
    16 * K,
    16 * K,
    16 * K,
    16 * K,
    64 * K,
    128 * K,
    128 * K,
    128 * K,
];
const SECTORS_256K: [u32; 6] = [16 * K, 16 * K, 16 * K, 16 * K, 64 * K, 128 * K];

const MS: u64 = 1_000_000;
/// DS8626 table 40 "Flash memory programming" (F407), typical values by parallelism x8,
/// x16, x32 (x64 taken as x32): word program 16 us, sector erase 16 KB 400/300/250 ms,
/// 64 KB 1200/700/550 ms, 128 KB 2/1.3/1 s, mass erase 16/11/8 s.
const F407_TIMING: FlashTiming = FlashTiming {
    program_ns: 16_000,
    erase_16k_ns: [400 * MS, 300 * MS, 250 * MS, 250 * MS],
    erase_64k_ns: [1200 * MS, 700 * MS, 550 * MS, 550 * MS],
    erase_128k_ns: [2000 * MS, 1300 * MS, 1000 * MS, 1000 * MS],
    mass_erase_ns: [16000 * MS, 11000 * MS, 8000 * MS, 8000 * MS],
};
/// The F401/F411 datasheets (DS10086, DS10314 "Flash memory programming") give the same
/// program and sector times; mass erase of their smaller array takes half: 8/5.5/4 s.
const F4X1_TIMING: FlashTiming = FlashTiming {
    mass_erase_ns: [8000 * MS, 5500 * MS, 4000 * MS, 4000 * MS],
    ..F407_TIMING
};

pub struct Stm32f4 {
    variant: Variant,
    flash: FlashController,
}

impl Stm32f4 {
    pub fn new(variant: Variant) -> Self {
        let flash = match variant {
            Variant::Stm32f401cc => FlashController::new(F4X1_TIMING, &SECTORS_256K),
            Variant::Stm32f411ce => FlashController::new(F4X1_TIMING, &SECTORS_512K),
            _ => FlashController::new(F407_TIMING, &SECTORS_1M),
        };
        Stm32f4 { variant, flash }
    }

    /// DEV_ID (DBGMCU_IDCODE [11:0], RM0090 38.6.1): 0x413 F405/407, 0x423 F401xB/C,
    /// 0x431 F411xC/E.
    fn device_id(&self) -> u32 {
        match self.variant {
            Variant::Stm32f401cc => 0x423,
            Variant::Stm32f411ce => 0x431,
            _ => 0x413,
        }
    }

    fn sram_size(&self) -> u32 {
        match self.variant {
            Variant::Stm32f401cc => 64 * K,
            // F407: SRAM1 112 KB and SRAM2 16 KB, contiguous; F411: 128 KB.
            _ => 128 * K,
        }
    }

    /// The 96-bit unique ID: made up, fixed per variant so runs repeat.
    fn unique_id_word(&self, index: u32) -> u32 {
        [0x0033_0021, 0x3436_5111, 0x3431_3800 | self.variant as u32][index as usize % 3]
    }
}

impl Soc for Stm32f4 {
    fn variant(&self) -> Variant {
        self.variant
    }

    fn core(&self) -> CoreModel {
        CoreModel::CortexM4F
    }

    fn cpuid(&self) -> u32 {
        CPUID
    }

    /// SW-DP 0x2BA01477 and JTAG-DP 0x4BA00477 (RM0090 38.6.2, 38.8.3), boundary-scan TAP
    /// 0x0641_3041 on the F407 (RM0090 38.6.2); the F401/F411 TAPs carry their DEV_ID the
    /// same way.
    fn identity(&self) -> Identity {
        Identity {
            dpidr: 0x2BA0_1477,
            jtag_idcode: 0x4BA0_0477,
            boundary_scan_idcode: 0x0600_0041 | self.device_id() << 12,
        }
    }

    /// Designer ST (JEP106 0x20) and the DEV_ID as part number, as on the F1.
    fn rom_table_peripheral_id(&self) -> u64 {
        crate::chip::designer_id(0x0, 0x20, u64::from(self.device_id()), 0)
    }

    /// REV_ID 0x1007 ("revision 1") on the F407, 0x1000 (A) on the F401/F411.
    fn dbgmcu_idcode(&self) -> u32 {
        let revision = if self.device_id() == 0x413 {
            0x1007
        } else {
            0x1000
        };
        revision << 16 | self.device_id()
    }

    fn dbgmcu_cr_mask(&self) -> u32 {
        DBGMCU_CR_STORED
    }

    fn dbgmcu_freeze_registers(&self) -> bool {
        true
    }

    fn flash_size(&self) -> u32 {
        self.flash.flash_size()
    }

    fn rams(&self) -> Vec<Memory> {
        let sram = Memory {
            base: SRAM_BASE,
            size: self.sram_size(),
        };
        if self.device_id() == 0x413 {
            vec![sram, CCM_RAM]
        } else {
            vec![sram]
        }
    }

    fn system_memory(&self) -> Memory {
        Memory {
            base: SYSTEM_MEMORY_BASE,
            size: OPTION_BYTES_END - SYSTEM_MEMORY_BASE,
        }
    }

    fn read_system_memory(&self, address: u32) -> u32 {
        match address {
            OTP_BASE..OTP_END => u32::MAX,
            UNIQUE_ID..FLASH_SIZE_WORD => self.unique_id_word((address - UNIQUE_ID) / 4),
            FLASH_SIZE_WORD => (self.flash_size() / K) << 16 | 0xFFFF,
            OPTION_BYTES_BASE..OPTION_BYTES_END => {
                let words = self.flash.option_words();
                match address - OPTION_BYTES_BASE {
                    0 => words[0],
                    8 => words[1],
                    _ => u32::MAX,
                }
            }
            _ => 0,
        }
    }

    /// System memory and option bytes are written only through the flash interface;
    /// OTP programming is not modelled.
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
        vec![Memory {
            base: crate::chip::PERIPHERAL_BASE,
            size: PERIPHERAL_SIZE,
        }]
    }

    fn read_register(&self, address: u32) -> Option<u32> {
        let offset = offset_in(address, FLASH_INTERFACE_BASE, FLASH_INTERFACE_SIZE)?;
        self.flash.read_register(offset)
    }

    fn write_register(
        &mut self,
        address: u32,
        value: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        let offset = offset_in(address, FLASH_INTERFACE_BASE, FLASH_INTERFACE_SIZE)?;
        Some(self.flash.write_register(offset, value, now_ns))
    }

    fn reset(&mut self) -> Vec<FlashEffect> {
        self.flash.reset().into_iter().collect()
    }

    fn flash(&self) -> Option<&dyn Controller> {
        Some(&self.flash)
    }

    fn flash_mut(&mut self) -> Option<&mut dyn Controller> {
        Some(&mut self.flash)
    }
}

#[cfg(test)]
mod tests;
