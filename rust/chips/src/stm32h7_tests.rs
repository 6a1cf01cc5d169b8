//! The STM32H7 driver against a small model of an H743 with 2 MB of flash (RM0433 4.9):
//! each bank's key sequence, CR, SR (QW for a number of reads) and CCR at bank 1's
//! addresses plus 0x100 for bank 2, sector and bank erase, flash words programmed while
//! CR.PG is set, a write-protected sector (WRPERR), and RDP through FLASH_OPTSR with the
//! level 1 to 0 regression erasing both banks. The model writes the array directly
//! (no 256-bit write buffer).

use super::*;
use crate::{Identity, Part, Protection, RegionKind};
use adi::Error as AdiError;

const INTERFACE: u32 = 0x5200_2000;
const KEYR: u32 = 0x04;
const CR: u32 = 0x0C;
const SR: u32 = 0x10;
const CCR: u32 = 0x14;
const CR_LOCK: u32 = 1 << 0;
const CR_PG: u32 = 1 << 1;
const CR_SER: u32 = 1 << 2;
const CR_BER: u32 = 1 << 3;
const CR_START: u32 = 1 << 7;
const SR_QW: u32 = 1 << 2;
const SR_WRPERR: u32 = 1 << 17;
const OPTKEYR: u32 = INTERFACE + 0x08;
const OPTCR: u32 = INTERFACE + 0x18;
const OPTSR_CUR: u32 = INTERFACE + 0x1C;
const OPTSR_PRG: u32 = INTERFACE + 0x20;
const BANK_BYTES: usize = 1024 * 1024;

/// A Cortex-M7 r1p1 (CPUID PARTNO 0xC27) behind the H7's SW-DP.
const H743: Identity = Identity {
    dpidr: 0x6BA0_2477,
    cpuid: 0x411F_C271,
    rom_designer: 0x020,
    rom_part: 0x450,
};

#[derive(Default)]
struct Bank {
    keys: usize,
    locked_out: bool,
    cr: u32,
    sr: u32,
    busy_reads: u32,
    /// Writes seen by this bank's CR, in order.
    cr_writes: Vec<u32>,
}

struct Model {
    flash: Vec<u8>,
    banks: [Bank; 2],
    dbgmcu_cr: u32,
    /// Status reads for which QW stays set after a start; `u32::MAX`: never clears.
    busy_for: u32,
    /// Sectors (bank, number) that refuse writes and erases.
    write_protected: Option<(usize, u32)>,
    option_keys: usize,
    rdp: u32,
    rdp_to_program: u32,
    now: u64,
}

impl Model {
    fn new() -> Self {
        Self {
            flash: vec![0xFF; 2 * BANK_BYTES],
            banks: Default::default(),
            dbgmcu_cr: 0,
            busy_for: 2,
            write_protected: None,
            option_keys: 0,
            rdp: 0xAA,
            rdp_to_program: 0xAA,
            now: 0,
        }
    }

    /// The bank and register offset of a flash interface address.
    fn bank_register(address: u32) -> Option<(usize, u32)> {
        let offset = address.checked_sub(INTERFACE)?;
        match offset {
            0x04 | 0x0C | 0x10 | 0x14 => Some((0, offset)),
            0x104 | 0x10C | 0x110 | 0x114 => Some((1, offset - 0x100)),
            _ => None,
        }
    }

    fn unlocked(&self, bank: usize) -> bool {
        self.banks[bank].keys == 2 && !self.banks[bank].locked_out
    }

    fn protected(&self, bank: usize, offset: usize) -> bool {
        self.write_protected == Some((bank, (offset % BANK_BYTES / SECTOR_SIZE as usize) as u32))
    }

    fn start(&mut self, bank: usize) {
        let control = self.banks[bank].cr;
        let sector = (control >> 8 & 7) as usize;
        let base = bank * BANK_BYTES;
        if control & CR_SER != 0 {
            let start = base + sector * SECTOR_SIZE as usize;
            if self.protected(bank, start) {
                self.banks[bank].sr |= SR_WRPERR;
            } else {
                self.flash[start..start + SECTOR_SIZE as usize].fill(0xFF);
            }
        } else if control & CR_BER != 0 {
            self.flash[base..base + BANK_BYTES].fill(0xFF);
        }
        self.banks[bank].busy_reads = self.busy_for;
    }

    fn read(&mut self, address: u32) -> Result<u32, AdiError> {
        self.now += 10;
        if let Some(offset) = address.checked_sub(FLASH_BASE)
            && (offset as usize) < self.flash.len()
        {
            let at = offset as usize;
            return Ok(u32::from_le_bytes(
                self.flash[at..at + 4].try_into().unwrap(),
            ));
        }
        if let Some((bank, offset)) = Self::bank_register(address) {
            let unlocked = self.unlocked(bank);
            let bank = &mut self.banks[bank];
            return Ok(match offset {
                CR => bank.cr & !CR_LOCK | if unlocked { 0 } else { CR_LOCK },
                SR if bank.busy_reads > 0 => {
                    if bank.busy_reads != u32::MAX {
                        bank.busy_reads -= 1;
                    }
                    bank.sr | SR_QW
                }
                SR => bank.sr,
                _ => 0,
            });
        }
        Ok(match address {
            DBGMCU_IDCODE => 0x1003_6450,
            DBGMCU_CR => self.dbgmcu_cr,
            FLASH_SIZE_REGISTER => 2048,
            OPTCR => u32::from(self.option_keys < 2),
            OPTSR_CUR => self.rdp << 8,
            OPTSR_PRG => self.rdp_to_program << 8,
            _ => return Err(AdiError::Bus { address }),
        })
    }

    fn write(&mut self, address: u32, value: u32) -> Result<(), AdiError> {
        self.now += 10;
        if let Some(offset) = address.checked_sub(FLASH_BASE)
            && (offset as usize) < self.flash.len()
        {
            let at = offset as usize;
            let bank = at / BANK_BYTES;
            if self.banks[bank].cr & CR_PG == 0 || !self.unlocked(bank) {
                return Err(AdiError::Bus { address });
            }
            if self.protected(bank, at) {
                self.banks[bank].sr |= SR_WRPERR;
            } else {
                self.flash[at..at + 4].copy_from_slice(&value.to_le_bytes());
            }
            self.banks[bank].busy_reads = self.busy_for;
            return Ok(());
        }
        if let Some((index, offset)) = Self::bank_register(address) {
            let unlocked = self.unlocked(index);
            let bank = &mut self.banks[index];
            match offset {
                KEYR if unlocked || bank.locked_out || value != KEYS[bank.keys] => {
                    bank.locked_out = true;
                }
                KEYR => bank.keys += 1,
                CR => {
                    bank.cr_writes.push(value);
                    if value & CR_LOCK != 0 {
                        bank.keys = 0;
                        bank.cr = 0;
                    } else if unlocked {
                        bank.cr = value;
                        if value & CR_START != 0 {
                            self.start(index);
                        }
                    }
                }
                CCR => bank.sr &= !value,
                _ => return Err(AdiError::Bus { address }),
            }
            return Ok(());
        }
        match address {
            DBGMCU_CR => self.dbgmcu_cr = value,
            OPTKEYR if self.option_keys < 2 && value == OPTION_KEYS[self.option_keys] => {
                self.option_keys += 1;
            }
            OPTCR if value & 1 != 0 => self.option_keys = 0,
            OPTCR if value & 2 != 0 && self.option_keys == 2 => {
                if self.rdp != 0xAA && self.rdp_to_program == 0xAA {
                    self.flash.fill(0xFF); // RM0433 4.5.3: level 1 to 0 erases
                }
                self.rdp = self.rdp_to_program;
            }
            OPTSR_PRG if self.option_keys == 2 => self.rdp_to_program = value >> 8 & 0xFF,
            _ => return Err(AdiError::Bus { address }),
        }
        Ok(())
    }
}

crate::word_model::memory_by_words!(Model);

fn h743(model: &mut Model) -> Part {
    let part = Part::identify(model, H743).unwrap();
    assert_eq!(part.name(), "STM32H74x/H75x");
    part
}

#[test]
fn identified_with_both_banks_and_low_power_debug_on() {
    let mut model = Model::new();
    let part = h743(&mut model);
    assert_eq!(model.dbgmcu_cr, DBGMCU_LOW_POWER_DEBUG);
    let flash: Vec<_> = part
        .memory_map()
        .regions()
        .filter(|region| matches!(region.kind, RegionKind::Flash(_)))
        .map(|region| (region.start, region.length))
        .collect();
    assert_eq!(
        flash,
        [(FLASH_BASE, BANK_SIZE), (FLASH_BASE + BANK_SIZE, BANK_SIZE)]
    );
    assert_eq!(part.mass_erase, Some((FLASH_BASE, 2 * BANK_SIZE)));
}

/// Bank 2's work goes through bank 2's registers (0x100 up), sector by sector; `done`
/// locks both banks.
#[test]
fn erase_and_program_in_bank_2_through_its_own_registers() {
    let mut model = Model::new();
    let part = h743(&mut model);
    let sector_3 = FLASH_BASE + BANK_SIZE + 3 * SECTOR_SIZE;
    let at = 3 * SECTOR_SIZE as usize + BANK_BYTES;
    model.flash[at..at + 2 * SECTOR_SIZE as usize].fill(0);
    part.erase(&mut model, sector_3 + 4, SECTOR_SIZE).unwrap();
    assert!(
        model.flash[at..at + 2 * SECTOR_SIZE as usize]
            .iter()
            .all(|&byte| byte == 0xFF)
    );
    let data: Vec<u8> = (0..64).map(|index| index as u8).collect();
    part.program(&mut model, sector_3, &data).unwrap();
    assert_eq!(model.flash[at..at + 64], data[..]);
    assert!(model.banks[0].cr_writes.is_empty(), "bank 1 untouched");
    let x64 = 0b11 << 4;
    let erase_3 = CR_SER | x64 | 3 << 8;
    let erase_4 = CR_SER | x64 | 4 << 8;
    assert_eq!(
        model.banks[1].cr_writes[..5],
        [
            erase_3,
            erase_3 | CR_START,
            x64,
            erase_4,
            erase_4 | CR_START
        ]
    );
    assert!(model.banks[1].cr_writes.ends_with(&[CR_PG | x64, x64]));
    part.done(&mut model).unwrap();
    assert!(!model.unlocked(0) && !model.unlocked(1));
}

#[test]
fn a_write_protected_sector_is_reported_and_its_flags_cleared() {
    let mut model = Model::new();
    let part = h743(&mut model);
    model.write_protected = Some((0, 1));
    let sector_1 = FLASH_BASE + SECTOR_SIZE;
    assert_eq!(
        part.program(&mut model, sector_1, &[0; 32]),
        Err(Error::WriteProtected { address: sector_1 })
    );
    assert_eq!(model.banks[0].sr, 0, "CCR cleared WRPERR");
    assert!(
        model.flash[SECTOR_SIZE as usize..][..32]
            .iter()
            .all(|&byte| byte == 0xFF)
    );
}

#[test]
fn a_bank_that_stays_busy_times_out() {
    let mut model = Model::new();
    let part = h743(&mut model);
    model.busy_for = u32::MAX;
    assert_eq!(
        part.erase(&mut model, FLASH_BASE, 4),
        Err(Error::Timeout {
            address: FLASH_BASE
        })
    );
    assert!(model.now > SECTOR_ERASE_TIMEOUT_MICROS);
}

/// RDP level 1 is named with its command; `unlock` takes it to level 0 through the option
/// bytes (the regression erases the flash) and locks the options again.
#[test]
fn read_protection_and_unlock() {
    let mut model = Model::new();
    let part = h743(&mut model);
    assert_eq!(part.protection(&mut model).unwrap(), Protection::None);
    model.rdp = 0xBB;
    model.rdp_to_program = 0xBB;
    model.flash[..4].fill(0);
    assert_eq!(
        part.protection(&mut model).unwrap(),
        Protection::ReadProtected {
            what: "RDP level 1",
            command: UNLOCK_COMMAND,
        }
    );
    assert!(part.erase(&mut model, FLASH_BASE, 4).is_err());
    let mut out = String::new();
    part.command(&mut model, UNLOCK_COMMAND, "", &mut out)
        .unwrap()
        .unwrap();
    assert!(out.contains("RDP level 0"), "{out}");
    assert_eq!((model.rdp, model.option_keys), (0xAA, 0));
    assert_eq!(model.flash[..4], [0xFF; 4]);
    model.rdp = 0xCC;
    assert!(matches!(
        part.protection(&mut model).unwrap(),
        Protection::Permanent { .. }
    ));
}
