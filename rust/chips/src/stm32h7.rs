//! STM32H742/H743/H750/H753 (RM0433): identification, memory map, the dual-bank flash
//! interface (128 KB sectors, 256-bit flash words), read protection, and DBGMCU so that
//! debugging survives the low-power modes.

use crate::memory_map::{Flash, MemoryMap, Region};
use crate::stm32::{KEYS, KeyLock, OPTION_KEYS};
use crate::{Command, Error, Family, Identity, Part, Protection};
use adi::{Memory, poll_memory};
use core::fmt::Write;

/// DBGMCU_IDCODE (RM0433 60.5.8): DEV_ID 0x450 in [11:0].
const DBGMCU_IDCODE: u32 = 0x5C00_1000;
const DEVICE_ID: u32 = 0x450;
/// DBGMCU_CR: DBGSLEEP_D1 0, DBGSTOP_D1 1, DBGSTBY_D1 2, D1DBGCKEN 21, D3DBGCKEN 22
/// (RM0433 60.5.8): the debug clocks stay on and the core stays debuggable in Sleep,
/// Stop and Standby.
const DBGMCU_CR: u32 = 0x5C00_1004;
const DBGMCU_LOW_POWER_DEBUG: u32 = 0b111 | 1 << 21 | 1 << 22;
/// Flash size in KB, a half-word (RM0433 61.2).
const FLASH_SIZE_REGISTER: u32 = 0x1FF1_E880;

const FLASH_BASE: u32 = 0x0800_0000;
/// Bank 2 starts 1 MB up (RM0433 4.3.4 table 16).
const BANK_SIZE: u32 = 0x10_0000;
const SECTOR_SIZE: u32 = 128 * 1024;
/// A 256-bit flash word: the program unit (RM0433 4.3.9).
const FLASH_WORD: usize = 32;

/// The flash interface; bank 2's KEYR, CR, SR, CCR are bank 1's plus 0x100 (RM0433 4.9).
const FLASH_INTERFACE: u32 = 0x5200_2000;
const BANK_REGISTERS: u32 = 0x100;
const KEYR: u32 = 0x04;
const OPTKEYR: u32 = 0x08;
const CR: u32 = 0x0C;
const SR: u32 = 0x10;
const CCR: u32 = 0x14;
const OPTCR: u32 = 0x18;
const OPTSR_CUR: u32 = 0x1C;
const OPTSR_PRG: u32 = 0x20;

/// FLASH_CR (RM0433 4.9.4): LOCK 0, PG 1, SER 2, BER 3, PSIZE [5:4], START 7, SNB [10:8].
const CR_LOCK: u32 = 1 << 0;
const CR_PG: u32 = 1 << 1;
const CR_SER: u32 = 1 << 2;
const CR_BER: u32 = 1 << 3;
/// x64 parallelism: the fastest program and erase (DS12110 table 53), for a supply of
/// 1.8 V and more (RM0433 4.3.8).
const CR_PSIZE_X64: u32 = 0b11 << 4;
const CR_START: u32 = 1 << 7;
const CR_SNB_SHIFT: u32 = 8;

/// FLASH_SR (RM0433 4.9.5): QW 2 while an operation waits or runs; the error flags.
const SR_QW: u32 = 1 << 2;
const SR_WRPERR: u32 = 1 << 17;
const SR_PGSERR: u32 = 1 << 18;
const SR_STRBERR: u32 = 1 << 19;
const SR_INCERR: u32 = 1 << 21;
const SR_OPERR: u32 = 1 << 22;
const SR_ERRORS: u32 = 0x07EE_0000;
/// CCR clears the SR flag at the same position, bits 16-27 (RM0433 4.9.6).
const CCR_ALL: u32 = 0x0FFF_0000;

/// FLASH_OPTCR (RM0433 4.9.7) and FLASH_OPTSR (4.9.8).
const OPTCR_OPTLOCK: u32 = 1 << 0;
const OPTCR_OPTSTART: u32 = 1 << 1;
const OPTSR_OPT_BUSY: u32 = 1 << 0;
const OPTSR_RDP_SHIFT: u32 = 8;
const OPTSR_RDP_MASK: u32 = 0xFF << OPTSR_RDP_SHIFT;
const RDP_LEVEL_0: u32 = 0xAA;
const RDP_LEVEL_2: u32 = 0xCC;

/// DS12110 table 53 maxima at x64 with room: a flash word 200 us, a sector 2 s, a bank
/// 10 s; an option change with the mass erase of both banks of RDP regression, 30 s.
const PROGRAM_TIMEOUT_MICROS: u64 = 100_000;
const SECTOR_ERASE_TIMEOUT_MICROS: u64 = 5_000_000;
const BANK_ERASE_TIMEOUT_MICROS: u64 = 30_000_000;
const OPTION_TIMEOUT_MICROS: u64 = 30_000_000;

/// The command that lifts read protection.
const UNLOCK_COMMAND: &str = "unlock";

/// RAMs (RM0433 2.3.2 table 7): DTCM, ITCM, AXI SRAM, SRAM1-3, SRAM4.
const RAMS: [(u32, u32); 5] = [
    (0x2000_0000, 128 * 1024),
    (0x0000_0000, 64 * 1024),
    (0x2400_0000, 512 * 1024),
    (0x3000_0000, 288 * 1024),
    (0x3800_0000, 64 * 1024),
];

/// The STM32H7 (RM0433 parts) family driver.
pub struct Stm32H7;

pub static STM32H7: Stm32H7 = Stm32H7;

const fn sectors(bank: u8) -> Flash {
    Flash {
        bank,
        ..Flash::new(SECTOR_SIZE, FLASH_WORD as u32)
    }
}

fn register(bank: u8, offset: u32) -> u32 {
    FLASH_INTERFACE + u32::from(bank) * BANK_REGISTERS + offset
}

impl Family for Stm32H7 {
    /// An H74x/H75x if the core is a Cortex-M7 and DBGMCU_IDCODE says DEV_ID 0x450. Sets
    /// DBGMCU_CR's low-power debug bits and debug clocks.
    fn identify(
        &'static self,
        memory: &mut dyn Memory,
        identity: &Identity,
    ) -> Result<Option<Part>, Error> {
        if identity.core_part() != 0xC27 {
            return Ok(None);
        }
        let Ok(idcode) = memory.read_word(DBGMCU_IDCODE) else {
            return Ok(None);
        };
        if idcode & 0xFFF != DEVICE_ID {
            return Ok(None);
        }
        let control = memory.read_word(DBGMCU_CR)?;
        memory.write_word(DBGMCU_CR, control | DBGMCU_LOW_POWER_DEBUG)?;
        let flash_kb = match crate::read_word_if_readable(memory, FLASH_SIZE_REGISTER)? {
            Some(word) if word & 0xFFFF != 0 && word & 0xFFFF != 0xFFFF => word & 0xFFFF,
            _ => 2048,
        };
        let flash_size = flash_kb * 1024;
        let bank_1 = flash_size.min(BANK_SIZE);
        let mut memory_map = MemoryMap::new().with(Region::flash(FLASH_BASE, bank_1, sectors(0)));
        if flash_size > BANK_SIZE {
            let bank_2 = Region::flash(FLASH_BASE + BANK_SIZE, flash_size - BANK_SIZE, sectors(1));
            memory_map = memory_map.with(bank_2);
        }
        for (start, length) in RAMS {
            memory_map = memory_map.with(Region::ram(start, length));
        }
        let name = if flash_kb <= 128 {
            "STM32H750"
        } else {
            "STM32H74x/H75x"
        };
        Ok(Some(Part {
            family: self,
            name,
            memory_map,
            // Bank erases run in both banks at once: 5 s against 1 s a sector (DS12110).
            mass_erase: Some((FLASH_BASE, flash_size)),
            device: DEVICE_ID,
            variant: u32::from(flash_size > BANK_SIZE),
        }))
    }

    fn erase(
        &self,
        part: &Part,
        mut memory: &mut dyn Memory,
        region: &Region,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        check_protection(part, memory)?;
        let bank = region.as_flash().ok_or(Error::NoFlashDriver)?.bank;
        if address < region.start || u64::from(address) + u64::from(length) > region.end() {
            return Err(Error::OutsideFlash { address });
        }
        unlock(&mut memory, bank)?;
        let first = (address - region.start) / SECTOR_SIZE;
        let last = (address - region.start + length.max(1) - 1) / SECTOR_SIZE;
        for sector in first..=last {
            let sector_address = region.start + sector * SECTOR_SIZE;
            let control = CR_SER | CR_PSIZE_X64 | sector << CR_SNB_SHIFT;
            memory.write_word(register(bank, CR), control)?;
            memory.write_word(register(bank, CR), control | CR_START)?;
            let result = finish(
                &mut memory,
                bank,
                sector_address,
                SECTOR_ERASE_TIMEOUT_MICROS,
            );
            memory.write_word(register(bank, CR), CR_PSIZE_X64)?;
            result?;
        }
        Ok(())
    }

    /// Flash words go to the bank's write buffer eight 32-bit words at a time; the eighth
    /// starts programming, and a write to the bank while it programs stalls the bus (SWD
    /// WAIT) until it is done. So a run of flash words goes back to back, the next one's
    /// transfer waiting on the bus instead of a status poll, and SR is read once a run.
    /// Erased flash words are skipped.
    fn program(
        &self,
        part: &Part,
        mut memory: &mut dyn Memory,
        region: &Region,
        address: u32,
        data: &[u8],
    ) -> Result<(), Error> {
        check_protection(part, memory)?;
        let bank = region.as_flash().ok_or(Error::NoFlashDriver)?.bank;
        if !address.is_multiple_of(FLASH_WORD as u32) || !data.len().is_multiple_of(FLASH_WORD) {
            return Err(Error::Adi(adi::Error::Unaligned { address }));
        }
        if address < region.start || u64::from(address) + data.len() as u64 > region.end() {
            return Err(Error::OutsideFlash { address });
        }
        unlock(&mut memory, bank)?;
        memory.write_word(register(bank, CR), CR_PG | CR_PSIZE_X64)?;
        let result = program_runs(&mut memory, bank, address, data);
        memory.write_word(register(bank, CR), CR_PSIZE_X64)?;
        result
    }

    /// A bank erase in each bank, both running at once (RM0433 4.3.10).
    fn mass_erase(&self, part: &Part, mut memory: &mut dyn Memory) -> Result<(), Error> {
        check_protection(part, memory)?;
        let banks: &[u8] = if part.variant != 0 { &[0, 1] } else { &[0] };
        for &bank in banks {
            unlock(&mut memory, bank)?;
            memory.write_word(register(bank, CR), CR_BER | CR_PSIZE_X64)?;
            memory.write_word(register(bank, CR), CR_BER | CR_PSIZE_X64 | CR_START)?;
        }
        let mut result = Ok(());
        for &bank in banks {
            let start = FLASH_BASE + u32::from(bank) * BANK_SIZE;
            let finished = finish(&mut memory, bank, start, BANK_ERASE_TIMEOUT_MICROS);
            memory.write_word(register(bank, CR), CR_PSIZE_X64)?;
            result = result.and(finished);
        }
        result
    }

    fn done(&self, part: &Part, memory: &mut dyn Memory) -> Result<(), Error> {
        let banks: &[u8] = if part.variant != 0 { &[0, 1] } else { &[0] };
        for &bank in banks {
            memory.write_word(register(bank, CR), CR_LOCK)?;
        }
        Ok(())
    }

    /// RDP in FLASH_OPTSR_CUR (RM0433 4.5.3): 0xAA level 0, 0xCC level 2, else level 1.
    fn protection(&self, _: &Part, memory: &mut dyn Memory) -> Result<Protection, Error> {
        let options = memory.read_word(FLASH_INTERFACE + OPTSR_CUR)?;
        Ok(match (options & OPTSR_RDP_MASK) >> OPTSR_RDP_SHIFT {
            RDP_LEVEL_0 => Protection::None,
            RDP_LEVEL_2 => Protection::Permanent {
                what: "RDP level 2",
            },
            _ => Protection::ReadProtected {
                what: "RDP level 1",
                command: UNLOCK_COMMAND,
            },
        })
    }

    /// RDP back to level 0 through the option bytes: both banks are mass-erased first
    /// (RM0433 4.5.3 "Level 1 to level 0"); effective when OPT_BUSY clears.
    fn recover(&self, part: &Part, mut memory: &mut dyn Memory) -> Result<(), Error> {
        if let Protection::Permanent { what } = self.protection(part, memory)? {
            return Err(Error::PermanentlyProtected { what });
        }
        KeyLock {
            keyr: FLASH_INTERFACE + OPTKEYR,
            keys: OPTION_KEYS,
            control: FLASH_INTERFACE + OPTCR,
            bit: OPTCR_OPTLOCK,
            set_when_unlocked: false,
            still_locked: Error::Locked,
        }
        .unlock(&mut *memory)?;
        let options = memory.read_word(FLASH_INTERFACE + OPTSR_PRG)?;
        let level_0 = options & !OPTSR_RDP_MASK | RDP_LEVEL_0 << OPTSR_RDP_SHIFT;
        memory.write_word(FLASH_INTERFACE + OPTSR_PRG, level_0)?;
        memory.write_word(FLASH_INTERFACE + OPTCR, OPTCR_OPTSTART)?;
        let waited = poll_memory(
            &mut memory,
            OPTION_TIMEOUT_MICROS,
            Error::Timeout {
                address: FLASH_BASE,
            },
            |memory| {
                let status = memory.read_word(FLASH_INTERFACE + OPTSR_CUR)?;
                Ok((status & OPTSR_OPT_BUSY == 0).then_some(()))
            },
        );
        memory.write_word(FLASH_INTERFACE + OPTCR, OPTCR_OPTLOCK)?;
        waited
    }

    fn commands(&self) -> &'static [Command] {
        &[Command {
            name: UNLOCK_COMMAND,

            arguments: "",
            run: unlock_command,
            help: "Lift read protection (RDP level 1 to 0): erases both flash banks",
        }]
    }
}

fn unlock_command(
    part: &Part,
    memory: &mut dyn Memory,
    _arguments: &str,
    output: &mut dyn Write,
) -> Result<(), Error> {
    // Level 0 to level 0 erases nothing (RM0433 4.5.3): say so rather than claim it did.
    if part.family.protection(part, memory)? == Protection::None {
        let _ = writeln!(
            output,
            "RDP is level 0 already: nothing to unlock, nothing erased"
        );
        return Ok(());
    }
    part.family.recover(part, memory)?;
    let _ = writeln!(output, "RDP level 0: the flash is erased and readable");
    Ok(())
}

fn check_protection(part: &Part, memory: &mut dyn Memory) -> Result<(), Error> {
    part.family.protection(part, memory)?.check()
}

/// The bank's key sequence, only while it is locked (a key while unlocked locks it until
/// reset, RM0433 4.5.1).
fn unlock<M: Memory>(memory: &mut M, bank: u8) -> Result<(), Error> {
    KeyLock {
        keyr: register(bank, KEYR),
        keys: KEYS,
        control: register(bank, CR),
        bit: CR_LOCK,
        set_when_unlocked: false,
        still_locked: Error::Locked,
    }
    .unlock(memory)
}

/// Runs of flash words that are not erased, up to 1 KiB each (a MEM-AP auto-increment
/// block), each written back to back and then checked (`finish`).
fn program_runs<M: Memory>(
    memory: &mut M,
    bank: u8,
    address: u32,
    data: &[u8],
) -> Result<(), Error> {
    const WORDS_PER_FLASH_WORD: usize = FLASH_WORD / 4;
    let mut words = [0u32; 256];
    let mut units = data.chunks(FLASH_WORD).enumerate().peekable();
    while let Some(&(first, _)) = units.peek() {
        let mut count = 0;
        while count < words.len() {
            match units.peek() {
                Some((_, unit)) if !unit.iter().all(|&byte| byte == 0xFF) => {
                    for (slot, bytes) in words[count..].iter_mut().zip(unit.chunks(4)) {
                        *slot = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                    }
                    count += WORDS_PER_FLASH_WORD;
                    units.next();
                }
                _ => break,
            }
        }
        if count == 0 {
            units.next();
            continue;
        }
        let at = address + (first * FLASH_WORD) as u32;
        memory.write_words(at, &words[..count])?;
        finish(memory, bank, at, PROGRAM_TIMEOUT_MICROS)?;
    }
    Ok(())
}

/// Wait for QW to clear, then report and clear the error flags (RM0433 4.7).
fn finish<M: Memory>(memory: &mut M, bank: u8, address: u32, timeout: u64) -> Result<(), Error> {
    let status = poll_memory(memory, timeout, Error::Timeout { address }, |memory| {
        let status = memory.read_word(register(bank, SR))?;
        Ok((status & SR_QW == 0).then_some(status))
    })?;
    if status & SR_ERRORS == 0 {
        return Ok(());
    }
    memory.write_word(register(bank, CCR), CCR_ALL)?;
    let message = match status {
        _ if status & SR_WRPERR != 0 => return Err(Error::WriteProtected { address }),
        _ if status & SR_PGSERR != 0 => "flash programming sequence error (PGSERR)",
        _ if status & SR_STRBERR != 0 => "flash word written twice (STRBERR)",
        _ if status & SR_INCERR != 0 => "flash word written out of order (INCERR)",
        _ if status & SR_OPERR != 0 => "flash operation error (OPERR)",
        _ => "flash error (RDPERR, RDSERR or ECC)",
    };
    Err(Error::Family {
        message,
        address: Some(address),
    })
}
