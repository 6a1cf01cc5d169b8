//! The SAMD21 Device Service Unit (DS40001882 13 "DSU"): device identification, the chip
//! erase, the protection status, and the CoreSight ROM table that the AHB-AP's BASE names.
//!
//! Registers (DS 13.13): CTRL 0x00 (SWRST 0, CRC 2, MBIST 3, CE 4), STATUSA 0x01 (DONE 0,
//! CRSTEXT 1, BERR 2, FAIL 3, PERR 4; write one to clear), STATUSB 0x02 (PROT 0, DBGPRES
//! 1, HPE 4; read-only), ADDR 0x04, LENGTH 0x08, DATA 0x0C, DCC0/1 0x10/0x14, DID 0x18.
//! The debugger sees the same registers again at +0x100, the external range (DS 13.11:
//! the only range it may access while the device is protected). The ROM table is the
//! block's second half, 0x1000..0x1FFF.
//!
//! CE starts a chip erase (`Nvmctrl::start_chip_erase`); STATUSA.DONE is set when it
//! ends. Under protection a write of anything but CE to CTRL, or any access to the
//! internal range, sets STATUSA.PERR (DS 13.5.2) — here the bus error the SoC gives the
//! debugger outside the external range is all that happens.

use super::super::FlashError;
use super::nvmctrl::Nvmctrl;
use crate::chip::designer_id;

pub const DSU_BASE: u32 = 0x4100_2000;
pub const DSU_SIZE: u32 = 0x2000;
const EXTERNAL_OFFSET: u32 = 0x100;
pub const ROM_TABLE_BASE: u32 = DSU_BASE + 0x1000;

/// Register offsets (DS 13.13).
const CONTROL_STATUS: u32 = 0x00;
pub const ADDR: u32 = 0x04;
pub const LENGTH: u32 = 0x08;
pub const DATA: u32 = 0x0C;
pub const DID: u32 = 0x18;

pub const CTRL_CE: u32 = 1 << 4;
pub const STATUSA_DONE: u32 = 1 << 0;
const STATUSA_BITS: u32 = 0x1F;
pub const STATUSB_PROT: u32 = 1 << 0;
const STATUSB_DBGPRES: u32 = 1 << 1;
const STATUSB_HPE: u32 = 1 << 4;

/// DID of the ATSAMD21G18A (DS 13.13.11 and 10.3.1 "Device selection"): PROCESSOR 1
/// (Cortex-M0+), FAMILY 0 (D), SERIES 1 (21), DIE 0, REVISION 3 (D), DEVSEL 0x05 (G18A).
pub const DEVICE_ID: u32 = 0x1001_0305;

/// The ROM table (DS 13.13.13 ..): ENTRY0 at 0x1000 points at the Cortex-M0+ ROM table
/// (0xE00F_F000, an offset that wraps), END at 0x1008, MEMTYPE at 0x1FCC (system memory
/// present), identification registers from 0x1FD0: designer Atmel (JEP106 0x1F), part
/// 0xCD0, a class 1 ROM table.
const ROM_ENTRY0: u32 = 0xE00F_F000u32.wrapping_sub(ROM_TABLE_BASE) | 0b11;
const ROM_TABLE_PERIPHERAL_ID: u64 = designer_id(0x0, 0x1F, 0xCD0, 0x0);
const ROM_TABLE_COMPONENT_ID: u32 = 0xB105_100D;

/// Is `address` in the external range (the debugger's copy of the registers) or the ROM
/// table?
pub fn external_range(address: u32) -> bool {
    (DSU_BASE + EXTERNAL_OFFSET..DSU_BASE + DSU_SIZE).contains(&address)
}

#[derive(Clone, Debug, Default)]
pub struct Dsu {
    status_a: u32,
    address: u32,
    length: u32,
    data: u32,
    debug_communication: [u32; 2],
}

impl Dsu {
    /// The word at `offset` in the DSU's 8 KB.
    pub fn read(&self, offset: u32, protected: bool) -> u32 {
        if offset >= 0x1000 {
            return read_rom_table(offset - 0x1000);
        }
        match offset % EXTERNAL_OFFSET {
            CONTROL_STATUS => {
                let status_b =
                    STATUSB_DBGPRES | STATUSB_HPE | if protected { STATUSB_PROT } else { 0 };
                self.status_a << 8 | status_b << 16
            }
            ADDR => self.address,
            LENGTH => self.length,
            DATA => self.data,
            0x10 => self.debug_communication[0],
            0x14 => self.debug_communication[1],
            DID => DEVICE_ID,
            _ => 0,
        }
    }

    /// A write of the byte lanes `lanes` of the word at `offset`.
    pub fn write(
        &mut self,
        offset: u32,
        value: u32,
        lanes: u32,
        nvmctrl: &mut Nvmctrl,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        if offset >= 0x1000 {
            return Ok(());
        }
        match offset % EXTERNAL_OFFSET {
            CONTROL_STATUS => {
                if lanes & 0b10 != 0 {
                    self.status_a &= !(value >> 8 & STATUSA_BITS);
                }
                if lanes & 0b1 != 0 && value & CTRL_CE != 0 {
                    self.status_a &= !STATUSA_DONE;
                    nvmctrl.start_chip_erase(now_ns);
                }
            }
            ADDR => self.address = value,
            LENGTH => self.length = value,
            DATA => self.data = value,
            0x10 => self.debug_communication[0] = value,
            0x14 => self.debug_communication[1] = value,
            _ => {}
        }
        Ok(())
    }

    pub fn chip_erase_done(&mut self) {
        self.status_a |= STATUSA_DONE;
    }

    /// A system reset leaves the DSU's status (it is in the debug domain, DS 13.3.2) but
    /// the debug communication channels.
    pub fn reset(&mut self) {
        self.debug_communication = [0; 2];
    }
}

fn read_rom_table(offset: u32) -> u32 {
    const MEMTYPE: u32 = 0xFCC;
    match offset {
        0x000 => ROM_ENTRY0,
        MEMTYPE => 1,
        0xFD0..=0xFFC => {
            let index = (offset - 0xFD0) / 4;
            let byte = match index {
                0..=3 => (ROM_TABLE_PERIPHERAL_ID >> (32 + 8 * index)) as u32,
                4..=7 => (ROM_TABLE_PERIPHERAL_ID >> (8 * (index - 4))) as u32,
                _ => ROM_TABLE_COMPONENT_ID >> (8 * (index - 8)),
            };
            byte & 0xFF
        }
        _ => 0,
    }
}
