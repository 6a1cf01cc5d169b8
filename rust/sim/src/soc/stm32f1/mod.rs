//! The STM32F103 "blue pill" (medium and high density) and its CKS32F103 clone: a
//! Cortex-M3 with the F1 flash controller (FPEC, `flash`), enough RCC (`rcc`) and USART1
//! (`super::usart`, the target end of the probe's UART bridge).
//!
//! Memory map (RM0008 3.3 table 3): flash at 0x0800_0000 (aliased at 0), system memory
//! 0x1FFF_F000 with the flash size register, unique ID and option bytes, SRAM at
//! 0x2000_0000, peripherals 0x4000_0000..0x4002_FFFF (RCC, FPEC and USART1 at 0x4001_3800
//! modelled).

pub mod flash;
pub mod rcc;

use super::flash::Controller;
use super::usart::{LineFormat, USART_SIZE, Usart};
use super::{CoreModel, FlashEffect, FlashError, Memory, Soc, Variant};
use crate::bus::Identity;
use flash::{FPEC_BASE, FlashController, OPTION_BYTE_COUNT, OPTION_BYTES_BASE};
use rcc::{RCC_BASE, RCC_SIZE, Rcc};

/// Flash operation durations in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashTiming {
    pub program_half_word_ns: u64,
    pub page_erase_ns: u64,
    pub mass_erase_ns: u64,
}

/// DS5319 table "Flash memory characteristics": tPROG 52.5 us typical per half-word,
/// tERASE 20 ms typical per page, tME 20 ms typical.
const GENUINE_FLASH_TIMING: FlashTiming = FlashTiming {
    program_half_word_ns: 52_500,
    page_erase_ns: 20_000_000,
    mass_erase_ns: 20_000_000,
};

/// The clone programs and erases 8 times faster. The original probe's README measured
/// 18 KB/s on a genuine part and 66-73 KB/s on a CKS32. Per 1 KB page a genuine part spends
/// 20 ms erasing and 512 x 52.5 us = 26.9 ms programming, 46.9 ms in all; 18 KB/s is
/// 55.6 ms per KB, which leaves about 8.7 ms of wire traffic. With the same traffic and
/// flash operations 8 times shorter (5.9 ms) a KB takes 14.6 ms: 69 KB/s, in the measured
/// range. No datasheet figure is used: CKS does not publish one we could find.
const CLONE_FLASH_TIMING: FlashTiming = FlashTiming {
    program_half_word_ns: 52_500 / 8,
    page_erase_ns: 20_000_000 / 8,
    mass_erase_ns: 20_000_000 / 8,
};

/// System memory (the ST bootloader) and the device electronic signature (RM0008 30.1,
/// 30.2): flash size in KB as a half-word at 0x1FFF_F7E0, 96-bit unique ID at 0x1FFF_F7E8.
pub const SYSTEM_MEMORY_BASE: u32 = 0x1FFF_F000;
pub const FLASH_SIZE_REGISTER: u32 = 0x1FFF_F7E0;
pub const UNIQUE_ID: u32 = 0x1FFF_F7E8;
const OPTION_BYTES_END: u32 = OPTION_BYTES_BASE + 2 * OPTION_BYTE_COUNT as u32;
/// RM0008 table 3: APB1, APB2 and AHB up to 0x4002_FFFF.
const PERIPHERAL_SIZE: u32 = 0x0003_0000;
/// DBGMCU_CR bits that exist on the F103 (RM0008 31.16.3).
const DBGMCU_CR_STORED: u32 = 0x7E3F_FF27;
const SRAM_BASE: u32 = 0x2000_0000;
/// USART1 on APB2 (RM0008 table 3).
const USART1_BASE: u32 = 0x4001_3800;

pub struct Stm32f1 {
    variant: Variant,
    flash: FlashController,
    rcc: Rcc,
    usart1: Usart,
}

impl Stm32f1 {
    pub fn new(variant: Variant) -> Self {
        let mut soc = Stm32f1 {
            variant,
            flash: FlashController::new(GENUINE_FLASH_TIMING, 0, 0),
            rcc: Rcc::new(),
            usart1: Usart::new(crate::chip::CORE_HZ),
        };
        soc.flash =
            FlashController::new(soc.flash_timing(), soc.flash_size(), soc.flash_page_size());
        soc
    }

    fn is_clone(&self) -> bool {
        self.variant == Variant::Cks32f103c8
    }

    fn is_high_density(&self) -> bool {
        self.variant == Variant::Stm32f103rc
    }

    fn flash_size(&self) -> u32 {
        match self.variant {
            Variant::Stm32f103cb => 128 * 1024,
            Variant::Stm32f103rc => 256 * 1024,
            _ => 64 * 1024,
        }
    }

    /// RM0008 3.3.3 (table 5 and 6): 1 KB pages on medium density, 2 KB on high density.
    fn flash_page_size(&self) -> u32 {
        if self.is_high_density() { 2048 } else { 1024 }
    }

    fn sram_size(&self) -> u32 {
        if self.is_high_density() {
            48 * 1024
        } else {
            20 * 1024
        }
    }

    /// DBGMCU_IDCODE (RM0008 31.6.1): REV_ID in [31:16], DEV_ID in [11:0]. Medium density
    /// 0x410 revision 0x2003 ("revision Y, 1, 2, X"), high density 0x414 revision 0x1003.
    /// The CKS32 reports a genuine medium-density code: st-flash prints
    /// "F1 Medium-density device, id 0x20036410" for it (stlink issue #756).
    fn dbgmcu_idcode(&self) -> u32 {
        if self.is_high_density() {
            0x1003_6414
        } else {
            0x2003_6410
        }
    }

    /// CPUID (ARMv7-M B3.2.3, PM0056 4.4.1): a genuine STM32F1 is a Cortex-M3 r1p1,
    /// 0x411FC231. The clones that report DPIDR 0x2BA01477 carry a newer r2p1 core,
    /// 0x412FC231 (the same pair as GD32F103; Black Magic Probe tells these "clone parts
    /// with core rev 2" apart from genuine F1 by the revision, issue/PR #661).
    fn cpuid(&self) -> u32 {
        if self.is_clone() {
            0x412F_C231
        } else {
            0x411F_C231
        }
    }

    /// What the debug port reports.
    ///
    /// Genuine: SW-DP DPIDR 0x1BA01477 and JTAG-DP IDCODE 0x3BA00477 (RM0008 31.6.3 and
    /// 31.6.2); the boundary-scan TAP IDCODE is 0x16410041 on medium density and
    /// 0x06414041 on high density (RM0008 31.6.2).
    ///
    /// Clone: the CKS32F103/CS32F103 SW-DP answers 0x2BA01477, which tools written for
    /// genuine F1 reject as an unknown core ID (stlink PR #805 and #834, OpenOCD users see
    /// "UNEXPECTED idcode"). That is ARM's SW-DP of the r2 Cortex-M3, whose JTAG-DP IDCODE
    /// is 0x4BA00477 (as on STM32F2/F4, RM0033 32.6.2). The clone copies ST's
    /// medium-density boundary-scan IDCODE.
    fn identity(&self) -> Identity {
        match self.variant {
            Variant::Stm32f103rc => Identity {
                dpidr: 0x1BA0_1477,
                jtag_idcode: 0x3BA0_0477,
                boundary_scan_idcode: 0x0641_4041,
            },
            Variant::Cks32f103c8 => Identity {
                dpidr: 0x2BA0_1477,
                jtag_idcode: 0x4BA0_0477,
                boundary_scan_idcode: 0x1641_0041,
            },
            // Stm32f103c8, Stm32f103cb
            _ => Identity {
                dpidr: 0x1BA0_1477,
                jtag_idcode: 0x3BA0_0477,
                boundary_scan_idcode: 0x1641_0041,
            },
        }
    }

    fn flash_timing(&self) -> FlashTiming {
        if self.is_clone() {
            CLONE_FLASH_TIMING
        } else {
            GENUINE_FLASH_TIMING
        }
    }

    /// The 96-bit unique ID (RM0008 30.2): made up, fixed per variant so runs repeat.
    fn unique_id(&self) -> [u8; 12] {
        let last = self.variant as u8;
        [
            0x35, 0xFF, 0xD8, 0x05, 0x42, 0x4E, 0x39, 0x33, 0x28, 0x51, 0x17, last,
        ]
    }
}

impl Soc for Stm32f1 {
    fn variant(&self) -> Variant {
        self.variant
    }

    fn core(&self) -> CoreModel {
        CoreModel::CortexM3
    }

    fn cpuid(&self) -> u32 {
        Stm32f1::cpuid(self)
    }

    fn identity(&self) -> Identity {
        Stm32f1::identity(self)
    }

    /// Genuine STM32F1: designer ST (JEP106 0x20, no continuation) and the DBGMCU device
    /// ID as part number: ROM tables of real parts read "Manufacturer 020 Partno 410" with
    /// PIDR 0x00000A0410 (reported by users of Black Magic Probe, whose probe routes
    /// designer ST to its STM32F1 driver), and 0x414 on high density.
    ///
    /// CKS32/CS32F103: designer 0x555 (continuation 5, identity 0x55) and part 0x29B: Black
    /// Magic Probe PR #784 "STM32F1 clone with new AP_DESIGNER id" (0x555, PartNo 0x29B)
    /// and its stm32f1 driver's case "0x29b: CS clone".
    fn rom_table_peripheral_id(&self) -> u64 {
        use crate::chip::designer_id;
        match self.variant {
            Variant::Cks32f103c8 => designer_id(0x5, 0x55, 0x29B, 0),
            Variant::Stm32f103rc => designer_id(0x0, 0x20, 0x414, 0),
            _ => designer_id(0x0, 0x20, 0x410, 0),
        }
    }

    fn dbgmcu_idcode(&self) -> u32 {
        Stm32f1::dbgmcu_idcode(self)
    }

    fn dbgmcu_cr_mask(&self) -> u32 {
        DBGMCU_CR_STORED
    }

    fn flash_size(&self) -> u32 {
        Stm32f1::flash_size(self)
    }

    fn rams(&self) -> Vec<Memory> {
        vec![Memory {
            base: SRAM_BASE,
            size: self.sram_size(),
        }]
    }

    fn system_memory(&self) -> Memory {
        Memory {
            base: SYSTEM_MEMORY_BASE,
            size: OPTION_BYTES_END - SYSTEM_MEMORY_BASE,
        }
    }

    fn read_system_memory(&self, address: u32) -> u32 {
        match address {
            FLASH_SIZE_REGISTER => 0xFFFF_0000 | (self.flash_size() / 1024),
            UNIQUE_ID..=0x1FFF_F7F0 => {
                let start = (address - UNIQUE_ID) as usize;
                let id = self.unique_id();
                u32::from_le_bytes(id[start..start + 4].try_into().unwrap_or([0; 4]))
            }
            OPTION_BYTES_BASE.. => {
                let index = ((address - OPTION_BYTES_BASE) / 2) as usize;
                let low = self.flash.option_byte(index).unwrap_or(0xFFFF);
                let high = self.flash.option_byte(index + 1).unwrap_or(0xFFFF);
                u32::from(low) | u32::from(high) << 16
            }
            _ => 0,
        }
    }

    fn write_system_memory(
        &mut self,
        address: u32,
        bytes: u32,
        value: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        if address < OPTION_BYTES_BASE {
            return Err(FlashError::Fault);
        }
        let index = ((address - OPTION_BYTES_BASE) / 2) as usize;
        self.flash.write_option_byte(index, bytes, value, now_ns)
    }

    fn peripherals(&self) -> Vec<Memory> {
        vec![Memory {
            base: crate::chip::PERIPHERAL_BASE,
            size: PERIPHERAL_SIZE,
        }]
    }

    fn read_register(&self, address: u32) -> Option<u32> {
        if let Some(offset) = offset_in(address, RCC_BASE, RCC_SIZE) {
            return Some(self.rcc.read(offset));
        }
        if let Some(offset) = offset_in(address, USART1_BASE, USART_SIZE) {
            return Some(self.usart1.read(offset));
        }
        let offset = offset_in(address, FPEC_BASE, 0x400)?;
        Some(self.flash.read_register(offset).unwrap_or(0))
    }

    fn write_register(
        &mut self,
        address: u32,
        value: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        if let Some(offset) = offset_in(address, RCC_BASE, RCC_SIZE) {
            self.rcc.write(offset, value);
            return Some(Ok(()));
        }
        if let Some(offset) = offset_in(address, USART1_BASE, USART_SIZE) {
            self.usart1.write(offset, value, now_ns);
            return Some(Ok(()));
        }
        let offset = offset_in(address, FPEC_BASE, 0x400)?;
        Some(self.flash.write_register(offset, value, now_ns))
    }

    fn read_register_at(&mut self, address: u32, now_ns: u64) -> Option<u32> {
        let offset = offset_in(address, USART1_BASE, USART_SIZE)?;
        Some(self.usart1.read_at(offset, now_ns))
    }

    fn take_uart(&mut self, now_ns: u64, out: &mut Vec<u8>) -> Option<LineFormat> {
        self.usart1.take_sent(now_ns, out)
    }

    fn send_uart(&mut self, data: &[u8], format: LineFormat, now_ns: u64) -> usize {
        self.usart1.send_in(data, format, now_ns)
    }

    fn reset(&mut self) -> Vec<FlashEffect> {
        self.rcc.reset();
        self.usart1.reset();
        self.flash.reset().into_iter().collect()
    }

    fn flash(&self) -> Option<&dyn Controller> {
        Some(&self.flash)
    }

    fn flash_mut(&mut self) -> Option<&mut dyn Controller> {
        Some(&mut self.flash)
    }
}

pub(crate) fn offset_in(address: u32, base: u32, size: u32) -> Option<u32> {
    let offset = address.checked_sub(base)?;
    (offset < size).then_some(offset)
}
