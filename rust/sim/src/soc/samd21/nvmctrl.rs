//! The SAMD21 non-volatile memory controller (DS40001882 22 "NVMCTRL") with the NVM
//! user row it writes and the chip erase the DSU starts.
//!
//! What is modelled:
//! - The page buffer (DS 22.6.4.2): AHB writes of 16 or 32 bits to flash (or to the user
//!   row) fill it and latch ADDR (in 16-bit words); an 8-bit write is a bus error. With
//!   CTRLB.MANW = 0 (its reset value here, DS 22.8.2) the write that fills a page's
//!   last byte starts the page write itself (WP, or WAP for the user row). STATUS.LOAD says it holds data.
//! - Commands through CTRLA with CMDEX = 0xA5 in the same write, else STATUS.PROGE and
//!   INTFLAG.ERROR (DS 22.8.1): ER (row erase), WP (page write), EAR and WAP (the user
//!   row; refused with LOCKE while the security bit is set), LR and UR (region locks, until
//!   reset), SPRM and CPRM (STATUS.PRM), PBC (page buffer clear), SSB (security bit, in
//!   force from the next reset), INVALL (nothing to invalidate). Any other command, and
//!   the RWW EEPROM ones (the G18A has none), set PROGE; a command while busy sets PROGE.
//! - ER or WP on a locked region (LOCK bit 0) or inside the BOOTPROT area sets
//!   STATUS.LOCKE and does nothing (DS 22.6.5, 22.6.6).
//! - Programming only clears bits. INTFLAG.READY is 0 while an operation runs; the
//!   debugger's accesses to the array stall meanwhile (SWD WAIT). Times (DS "NVM
//!   characteristics", maxima, marked uncertain in the reference notes): page write
//!   2.5 ms, row erase 6 ms; DSU chip erase 240 ms (OpenOCD's comment).
//! - At reset the user row's BOOTPROT and LOCK fields are loaded, with the security bit.
//! - The DSU chip erase clears SRAM, erases the main array and clears the security bit;
//!   the user row stays (DS 13.7).
//! - Not modelled: the RWW EEPROM section, the cache and wait states (CTRLB stored),
//!   interrupts (INTENSET/INTENCLR stored), NVME.

use super::super::{FlashEffect, FlashError};
use super::{AUXILIARY_BASE, SRAM, USER_ROW};
use crate::soc::flash::{Busy, Controller};

pub const NVMCTRL_BASE: u32 = 0x4100_4000;
pub const NVMCTRL_SIZE: u32 = 0x400;
pub const FLASH_SIZE: u32 = 256 * 1024;
pub const PAGE_SIZE: u32 = 64;
pub const ROW_SIZE: u32 = 4 * PAGE_SIZE;
/// 16 lock regions (DS 22.6.5): 16 KB each on a 256 KB part.
const REGION_SIZE: u32 = FLASH_SIZE / 16;

/// Register offsets (DS 22.7).
pub const CTRLA: u32 = 0x00;
pub const CTRLB: u32 = 0x04;
pub const PARAM: u32 = 0x08;
pub const INTENCLR: u32 = 0x0C;
pub const INTENSET: u32 = 0x10;
pub const INTFLAG: u32 = 0x14;
pub const STATUS: u32 = 0x18;
pub const ADDR: u32 = 0x1C;
pub const LOCK: u32 = 0x20;
/// ADDR [21:0] (DS 22.8.8).
const ADDR_MASK: u32 = 0x003F_FFFF;

/// CTRLA.CMDEX (DS 22.8.1).
pub const CMDEX_KEY: u32 = 0xA5;
/// Commands (DS 22.8.1 table "Command set").
pub const CMD_ER: u32 = 0x02;
pub const CMD_WP: u32 = 0x04;
pub const CMD_EAR: u32 = 0x05;
pub const CMD_WAP: u32 = 0x06;
pub const CMD_LR: u32 = 0x40;
pub const CMD_UR: u32 = 0x41;
pub const CMD_SPRM: u32 = 0x42;
pub const CMD_CPRM: u32 = 0x43;
pub const CMD_PBC: u32 = 0x44;
pub const CMD_SSB: u32 = 0x45;
pub const CMD_INVALL: u32 = 0x46;

pub const CTRLB_MANW: u32 = 1 << 7;
pub const INTFLAG_READY: u32 = 1 << 0;
pub const INTFLAG_ERROR: u32 = 1 << 1;
pub const STATUS_PRM: u32 = 1 << 0;
pub const STATUS_LOAD: u32 = 1 << 1;
pub const STATUS_PROGE: u32 = 1 << 2;
pub const STATUS_LOCKE: u32 = 1 << 3;
pub const STATUS_NVME: u32 = 1 << 4;
pub const STATUS_SB: u32 = 1 << 8;
const STATUS_ERRORS: u32 = STATUS_PROGE | STATUS_LOCKE | STATUS_NVME;

/// PARAM (DS 22.8.4): NVMP 4096 pages, PSZ 3 (64 bytes), RWWEEP 0.
const PARAM_VALUE: u32 = (3 << 16) | (FLASH_SIZE / PAGE_SIZE);

/// The user row as shipped (DS 22.6.5 "NVM User Row Mapping": BOOTPROT 7 and EEPROM 7,
/// none; BOD33 and watchdog defaults; LOCK all ones, unlocked); the bytes other than the
/// fields are the values commonly read from new parts [uncertain].
const USER_ROW_AS_SHIPPED: [u32; 2] = [0xD8E0_C7FF, 0xFFFF_FC5D];

const NS_PER_MS: u64 = 1_000_000;
pub const PAGE_WRITE_NS: u64 = 2_500_000;
pub const ROW_ERASE_NS: u64 = 6 * NS_PER_MS;
pub const CHIP_ERASE_NS: u64 = 240 * NS_PER_MS;

fn flag(condition: bool, bit: u32) -> u32 {
    if condition { bit } else { 0 }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Work {
    Array(FlashEffect),
    EraseUserRow,
    WriteUserRow { offset: usize, bytes: Vec<u8> },
    ChipErase,
}

#[derive(Clone, Debug)]
pub struct Nvmctrl {
    control_b: u32,
    interrupt_enable: u32,
    error_flag: bool,
    status: u32,
    /// ADDR: a 16-bit word address.
    address: u32,
    lock: u32,
    page_buffer: [u8; PAGE_SIZE as usize],
    /// The auxiliary row holding the user row (its first page).
    user_row: [u8; ROW_SIZE as usize],
    security_bit: bool,
    /// BOOTPROT as loaded at the last reset, in bytes from 0.
    boot_protected: u32,
    busy: Busy<Work>,
    /// A chip erase ended since [`Controller::take_chip_erased`] last asked.
    chip_erased: bool,
}

impl Default for Nvmctrl {
    fn default() -> Self {
        let mut user_row = [0xFF; ROW_SIZE as usize];
        user_row[..4].copy_from_slice(&USER_ROW_AS_SHIPPED[0].to_le_bytes());
        user_row[4..8].copy_from_slice(&USER_ROW_AS_SHIPPED[1].to_le_bytes());
        let mut nvmctrl = Nvmctrl {
            control_b: 0,
            interrupt_enable: 0,
            error_flag: false,
            status: 0,
            address: 0,
            lock: 0xFFFF,
            page_buffer: [0xFF; PAGE_SIZE as usize],
            user_row,
            security_bit: false,
            boot_protected: 0,
            busy: Busy::default(),
            chip_erased: false,
        };
        nvmctrl.load_fuses();
        nvmctrl
    }
}

impl Nvmctrl {
    pub fn security_bit(&self) -> bool {
        self.security_bit
    }

    fn user_word(&self, index: usize) -> u32 {
        let bytes = &self.user_row[index * 4..index * 4 + 4];
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    /// BOOTPROT [2:0] of the user row: 7 none, else 2^(7 - code) rows from 0; LOCK
    /// [63:48] (DS 22.6.5 table "Boot Loader Size").
    fn load_fuses(&mut self) {
        let code = self.user_word(0) & 0x7;
        self.boot_protected = if code == 7 {
            0
        } else {
            (1 << (7 - code)) * ROW_SIZE
        };
        self.lock = self.user_word(1) >> 16;
    }

    pub fn read_auxiliary(&self, address: u32) -> u32 {
        match address.checked_sub(USER_ROW) {
            Some(offset) if offset < ROW_SIZE => self.user_word((offset / 4) as usize),
            _ => u32::MAX,
        }
    }

    pub fn read_register(&self, offset: u32) -> Option<u32> {
        let value = match offset {
            CTRLA => 0,
            CTRLB => self.control_b,
            PARAM => PARAM_VALUE,
            INTENCLR | INTENSET => self.interrupt_enable,
            INTFLAG => {
                flag(!self.busy.is_busy(), INTFLAG_READY) | flag(self.error_flag, INTFLAG_ERROR)
            }
            STATUS => self.status | flag(self.security_bit, STATUS_SB),
            ADDR => self.address,
            LOCK => self.lock,
            _ => return None,
        };
        Some(value)
    }

    pub fn write_register(
        &mut self,
        offset: u32,
        value: u32,
        lanes: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        match offset {
            CTRLA if lanes & 0b11 != 0 => self.command(value & 0x7F, value >> 8 & 0xFF, now_ns),
            CTRLB => self.control_b = value & 0x0007_039E,
            INTENCLR => self.interrupt_enable &= !(value & 0x3),
            INTENSET => self.interrupt_enable |= value & 0x3,
            INTFLAG if value & INTFLAG_ERROR != 0 => self.error_flag = false,
            STATUS => self.status &= !(value & STATUS_ERRORS),
            ADDR => self.address = value & ADDR_MASK,
            CTRLA | INTFLAG | PARAM | LOCK => {}
            _ => return None,
        }
        Some(Ok(()))
    }

    fn fail(&mut self, status: u32) {
        self.status |= status;
        self.error_flag = true;
    }

    fn byte_address(&self) -> u32 {
        self.address << 1
    }

    /// Is the main-array byte `address` locked (region lock or BOOTPROT)?
    fn locked(&self, address: u32) -> bool {
        let region = address / REGION_SIZE;
        address < self.boot_protected || self.lock >> region & 1 == 0
    }

    /// EAR and WAP address the auxiliary space: ADDR [21:0] holds only the offset in it
    /// (0x0080_4000 >> 1 written by a host loses bit 22).
    fn auxiliary_address(&self) -> u32 {
        AUXILIARY_BASE | self.byte_address()
    }

    fn in_user_row(&self) -> bool {
        (USER_ROW..USER_ROW + ROW_SIZE).contains(&self.auxiliary_address())
    }

    fn command(&mut self, command: u32, key: u32, now_ns: u64) {
        if key != CMDEX_KEY || self.busy.is_busy() {
            self.fail(STATUS_PROGE);
            return;
        }
        let address = self.byte_address();
        match command {
            CMD_ER if address < FLASH_SIZE => {
                let row = address & !(ROW_SIZE - 1);
                self.start_array(
                    FlashEffect::Erase {
                        address: row,
                        length: ROW_SIZE,
                    },
                    now_ns,
                    ROW_ERASE_NS,
                );
            }
            CMD_WP if address < FLASH_SIZE => self.write_page(now_ns),
            CMD_EAR | CMD_WAP if self.security_bit => self.fail(STATUS_LOCKE),
            CMD_EAR if self.in_user_row() => {
                self.busy.start(Work::EraseUserRow, ROW_ERASE_NS, now_ns)
            }
            CMD_WAP if self.in_user_row() => {
                let offset = ((self.auxiliary_address() - USER_ROW) & !(PAGE_SIZE - 1)) as usize;
                let bytes = self.take_page_buffer();
                self.busy
                    .start(Work::WriteUserRow { offset, bytes }, PAGE_WRITE_NS, now_ns);
            }
            CMD_LR | CMD_UR if address < FLASH_SIZE => {
                let bit = 1 << (address / REGION_SIZE);
                if command == CMD_LR {
                    self.lock &= !bit;
                } else {
                    self.lock |= bit;
                }
            }
            CMD_SPRM => self.status |= STATUS_PRM,
            CMD_CPRM => self.status &= !STATUS_PRM,
            CMD_PBC => {
                self.take_page_buffer();
            }
            CMD_SSB => self.security_bit = true,
            CMD_INVALL => {}
            _ => self.fail(STATUS_PROGE),
        }
    }

    /// An array operation, unless its row is locked.
    fn start_array(&mut self, effect: FlashEffect, now_ns: u64, duration_ns: u64) {
        if self.locked(self.byte_address()) {
            self.fail(STATUS_LOCKE);
            return;
        }
        self.busy.start(Work::Array(effect), duration_ns, now_ns);
    }

    fn take_page_buffer(&mut self) -> Vec<u8> {
        let bytes = self.page_buffer.to_vec();
        self.page_buffer = [0xFF; PAGE_SIZE as usize];
        self.status &= !STATUS_LOAD;
        bytes
    }

    fn write_page(&mut self, now_ns: u64) {
        if self.locked(self.byte_address()) {
            self.fail(STATUS_LOCKE);
            return;
        }
        let page = self.byte_address() & !(PAGE_SIZE - 1);
        let bytes = self.take_page_buffer();
        self.start_array(
            FlashEffect::Clear {
                address: page,
                bytes,
            },
            now_ns,
            PAGE_WRITE_NS,
        );
    }

    /// An AHB write into the page buffer (a flash or user-row address).
    pub fn write_page_buffer(
        &mut self,
        address: u32,
        bytes: u32,
        value: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        if self.busy.is_busy() {
            return Err(FlashError::Busy);
        }
        if bytes == 1 {
            return Err(FlashError::Fault);
        }
        let offset = (address % PAGE_SIZE) as usize;
        let data = value.to_le_bytes();
        self.page_buffer[offset..offset + bytes as usize].copy_from_slice(&data[..bytes as usize]);
        self.address = address >> 1 & ADDR_MASK;
        self.status |= STATUS_LOAD;
        let fills_page = offset + bytes as usize == PAGE_SIZE as usize;
        if fills_page && self.control_b & CTRLB_MANW == 0 {
            // The automatic write is WP in the main array, WAP in the auxiliary space.
            let command = if address < FLASH_SIZE {
                CMD_WP
            } else {
                CMD_WAP
            };
            self.command(command, CMDEX_KEY, now_ns);
        }
        Ok(())
    }

    /// CTRL.CE of the DSU (DS 13.7).
    pub fn start_chip_erase(&mut self, now_ns: u64) {
        // An operation in progress is cut short: the array it changes is erased anyway.
        if let Some(work) = self.busy.take() {
            self.finish(work);
        }
        self.busy.start(Work::ChipErase, CHIP_ERASE_NS, now_ns);
    }

    fn finish(&mut self, work: Work) -> Option<FlashEffect> {
        match work {
            Work::Array(effect) => Some(effect),
            Work::EraseUserRow => {
                self.user_row = [0xFF; ROW_SIZE as usize];
                None
            }
            Work::WriteUserRow { offset, bytes } => {
                for (old, new) in self.user_row[offset..].iter_mut().zip(bytes) {
                    *old &= new;
                }
                None
            }
            Work::ChipErase => {
                self.security_bit = false;
                self.take_page_buffer();
                Some(FlashEffect::Several(vec![
                    FlashEffect::Zero {
                        address: SRAM.base,
                        length: SRAM.size,
                    },
                    FlashEffect::Erase {
                        address: 0,
                        length: FLASH_SIZE,
                    },
                ]))
            }
        }
    }

    /// A reset: registers to reset values, the fuses reloaded; an operation in progress
    /// is finished at once.
    pub fn reset(&mut self) -> Option<FlashEffect> {
        let effect = self.busy.take().and_then(|work| self.finish(work));
        self.control_b = 0;
        self.interrupt_enable = 0;
        self.error_flag = false;
        self.status = 0;
        self.address = 0;
        self.page_buffer = [0xFF; PAGE_SIZE as usize];
        self.chip_erased = false;
        self.load_fuses();
        effect
    }
}

impl Controller for Nvmctrl {
    fn busy_until_ns(&self) -> Option<u64> {
        self.busy.until_ns()
    }

    fn take_activity(&mut self) -> crate::soc::flash::FlashActivity {
        self.busy.take_activity()
    }

    /// Finish what is due: its effect on memory.
    fn complete(&mut self, now_ns: u64) -> Option<FlashEffect> {
        let work = self.busy.take_due(now_ns)?;
        self.chip_erased |= work == Work::ChipErase;
        self.finish(work)
    }

    fn take_chip_erased(&mut self) -> bool {
        core::mem::take(&mut self.chip_erased)
    }

    /// Writes go to the page buffer (DS 22.6.4).
    fn write_array(
        &mut self,
        address: u32,
        bytes: u32,
        value: u32,
        _current: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        self.write_page_buffer(address, bytes, value, now_ns)
    }
}
