//! STM32F4: F405/407 (RM0090), F401xB/C and F401xD/E (RM0368), F411xC/E (RM0383). One
//! flash interface at 0x4002_3C00 for all of them: sectors of 16, 64 and 128 KB, the
//! program/erase parallelism PSIZE, option bytes through FLASH_OPTCR, read protection.
//!
//! The driver programs and erases with PSIZE x32, which needs a supply of 2.7 to 3.6 V
//! (RM0090 3.5.2 table 8); on a board run at a lower voltage the controller answers
//! PGPERR, reported as such.

use crate::memory_map::{Flash, MemoryMap, Region};
use crate::stm32::{KEYS, KeyLock, OPTION_KEYS};
use crate::{Command, Error, Family, Identity, Part, Protection};
use adi::registers::MemoryMapped;
use adi::{Memory, poll_memory};
use core::fmt::Write;

/// What `option` takes.
const OPTION_ARGUMENTS: &str = "[erase]";

/// DBGMCU_IDCODE: DEV_ID in [11:0], REV_ID in [31:16] (RM0090 38.6.1).
const DBGMCU_IDCODE: u32 = 0xE004_2000;
/// The flash size in KB, the half-word at 0x1FFF_7A22 (RM0090 39.2): read as the upper
/// half of the word at 0x1FFF_7A20.
const FLASH_SIZE_WORD: u32 = 0x1FFF_7A20;
/// The option bytes as stored: USER and RDP, then nWRP (RM0090 3.6 table 16).
const OPTION_BYTES: u32 = 0x1FFF_C000;
const OPTION_BYTES_WRP: u32 = 0x1FFF_C008;

const FLASH_BASE: u32 = 0x0800_0000;
const SRAM_BASE: u32 = 0x2000_0000;
/// Core-coupled memory of the F405/407: 64 KB, data only (RM0090 2.3.1).
const CCM_BASE: u32 = 0x1000_0000;
const CCM_SIZE: u32 = 64 * 1024;

const K: u32 = 1024;
/// Sectors 0-3 are 16 KB, sector 4 is 64 KB, the rest 128 KB (RM0090 3.3 table 5).
const SMALL_SECTOR: u32 = 16 * K;
const SMALL_SECTORS: u32 = 4;
const MEDIUM_SECTOR: u32 = 64 * K;
const LARGE_SECTOR: u32 = 128 * K;

const FLASH_KEYR: u32 = 0x4002_3C04;
const FLASH_OPTKEYR: u32 = 0x4002_3C08;
/// FLASH_CR's LOCK (bit 31), cleared by the keys in FLASH_KEYR (RM0090 3.5.1).
const CONTROL_LOCK: KeyLock = KeyLock {
    keyr: FLASH_KEYR,
    keys: KEYS,
    control: FlashCr::ADDRESS,
    bit: 1 << 31,
    set_when_unlocked: false,
    still_locked: Error::Locked,
};
/// FLASH_OPTCR's OPTLOCK (bit 0), cleared by the keys in FLASH_OPTKEYR (RM0090 3.6.2).
const OPTIONS_LOCK: KeyLock = KeyLock {
    keyr: FLASH_OPTKEYR,
    keys: OPTION_KEYS,
    control: FlashOptcr::ADDRESS,
    bit: 1 << 0,
    set_when_unlocked: false,
    still_locked: Error::Family {
        message: "option bytes still locked after the unlock sequence (OPTLOCK set)",
        address: None,
    },
};

/// PSIZE x32 (RM0090 3.9.5): words program as one unit.
const PSIZE_X32: u8 = 0b10;
const WRITE_UNIT: u32 = 4;
const ERASED_WORD: u32 = 0xFFFF_FFFF;

/// RDP values (RM0090 3.7.3): 0xAA level 0, 0xCC level 2, anything else level 1.
const RDP_LEVEL_0: u8 = 0xAA;
const RDP_LEVEL_2: u8 = 0xCC;
/// FLASH_OPTCR as the factory ships it (RM0090 3.9.6 reset value 0x0FFF_AAED), without
/// OPTLOCK: every sector unprotected, RDP level 0, BOR off, software watchdog, no reset
/// on stop or standby.
const OPTCR_DEFAULT: u32 = 0x0FFF_AAEC;

/// Timeouts on the probe's clock, above the datasheet maxima (DS8626 table 40: program
/// 100 us, 128 KB sector 4 s, mass erase 32 s at x8; option bytes include a mass erase
/// when read protection is lifted).
const PROGRAM_TIMEOUT_MICROS: u64 = 100_000;
const SECTOR_ERASE_TIMEOUT_MICROS: u64 = 6_000_000;
const MASS_ERASE_TIMEOUT_MICROS: u64 = 40_000_000;

adi::register! {
    /// FLASH_SR (RM0090 3.9.4): BSY and the flags of the last operation (write one to
    /// clear).
    memory FlashSr @ 0x4002_3C0C {
        pub eop, set_eop: 0;
        pub operr, set_operr: 1;
        pub wrperr, set_wrperr: 4;
        pub pgaerr, set_pgaerr: 5;
        pub pgperr, set_pgperr: 6;
        pub pgserr, set_pgserr: 7;
        pub rderr, set_rderr: 8;
        pub bsy, _: 16;
    }
}

impl FlashSr {
    /// Every flag, to clear them.
    fn flags() -> Self {
        Self::from(0x1F3)
    }

    /// The first error flag set, as the family reports it.
    fn error(self, address: u32) -> Result<(), Error> {
        let failed = |message| {
            Err(Error::Family {
                message,
                address: Some(address),
            })
        };
        if self.wrperr() {
            return Err(Error::WriteProtected { address });
        }
        if self.pgperr() {
            return failed(
                "flash programming parallelism error (PGPERR): x32 needs a 2.7-3.6 V supply",
            );
        }
        if self.pgaerr() {
            return failed("flash programming alignment error (PGAERR)");
        }
        if self.pgserr() {
            return failed("flash programming sequence error (PGSERR)");
        }
        if self.operr() {
            return failed("flash operation error (OPERR)");
        }
        if self.rderr() {
            return failed("flash read protection error (RDERR)");
        }
        Ok(())
    }
}

adi::register! {
    /// FLASH_CR (RM0090 3.9.5).
    memory FlashCr @ 0x4002_3C10 {
        pub pg, set_pg: 0;
        pub ser, set_ser: 1;
        pub mer, set_mer: 2;
        pub u8, snb, set_snb: 6, 3;
        pub u8, psize, set_psize: 9, 8;
        pub strt, set_strt: 16;
        pub lock, set_lock: 31;
    }
}

impl FlashCr {
    fn locked() -> Self {
        let mut control = Self::default();
        control.set_lock(true);
        control
    }

    fn with_psize() -> Self {
        let mut control = Self::default();
        control.set_psize(PSIZE_X32);
        control
    }

    fn program() -> Self {
        let mut control = Self::with_psize();
        control.set_pg(true);
        control
    }

    /// Sector erase (SER, SNB) started with STRT in the same write (RM0090 3.5.3).
    fn sector_erase(sector: u8) -> Self {
        let mut control = Self::with_psize();
        control.set_ser(true);
        control.set_snb(sector);
        control.set_strt(true);
        control
    }

    /// Mass erase (MER), started (STRT) or not yet.
    fn mass_erase(start: bool) -> Self {
        let mut control = Self::with_psize();
        control.set_mer(true);
        control.set_strt(start);
        control
    }
}

adi::register! {
    /// FLASH_OPTCR (RM0090 3.9.6): the option bytes as loaded, and how to change them.
    memory FlashOptcr @ 0x4002_3C14 {
        pub optlock, set_optlock: 0;
        pub optstrt, set_optstrt: 1;
        pub u8, user, _: 7, 2;
        pub u8, rdp, set_rdp: 15, 8;
        pub u16, nwrp, _: 27, 16;
    }
}

/// A line of the family: its DEV_ID, name, largest flash, SRAM, and whether it has CCM.
struct Line {
    device: u32,
    name: &'static str,
    max_flash_kb: u32,
    sram_kb: u32,
    ccm: bool,
}

/// DEV_IDs (RM0090 38.6.1, RM0368 23.6.1, RM0383 23.6.1). The F405/407 SRAM is 112 KB
/// followed by SRAM2's 16 KB at 0x2001_C000: one run of 128 KB.
const LINES: [Line; 4] = [
    Line {
        device: 0x413,
        name: "STM32F405/407",
        max_flash_kb: 1024,
        sram_kb: 128,
        ccm: true,
    },
    Line {
        device: 0x423,
        name: "STM32F401xB/C",
        max_flash_kb: 256,
        sram_kb: 64,
        ccm: false,
    },
    Line {
        device: 0x433,
        name: "STM32F401xD/E",
        max_flash_kb: 512,
        sram_kb: 96,
        ccm: false,
    },
    Line {
        device: 0x431,
        name: "STM32F411xC/E",
        max_flash_kb: 512,
        sram_kb: 128,
        ccm: false,
    },
];

/// Revision A of the F40x reports the F2's DEV_ID 0x411 (ES0182 2.1.1); with a
/// Cortex-M4 it is an F405/407.
const F2_DEVICE: u32 = 0x411;
/// STMicroelectronics' JEP106 code (bank 0, 0x20), the designer in the top ROM table's
/// PIDR of every STM32F4 (RM0090 38.3.3 "ROM table").
const JEP106_ST: u16 = 0x020;
/// CPUID.PARTNO of the Cortex-M4 (ARMv7-M B3.2.3).
const CORTEX_M4: u32 = 0xC24;

/// The STM32F4 family driver.
pub struct Stm32F4;

pub static STM32F4: Stm32F4 = Stm32F4;

/// The flash regions: one per run of equal sectors.
fn memory_map(line: &Line, flash_size: u32) -> MemoryMap {
    let flash = |sector| Flash::new(sector, WRITE_UNIT);
    let small = flash_size.min(SMALL_SECTORS * SMALL_SECTOR);
    let medium = flash_size.saturating_sub(small).min(MEDIUM_SECTOR);
    let large = flash_size.saturating_sub(small + medium);
    let mut map = MemoryMap::new().with(Region::flash(FLASH_BASE, small, flash(SMALL_SECTOR)));
    if medium > 0 {
        map = map.with(Region::flash(
            FLASH_BASE + small,
            medium,
            flash(MEDIUM_SECTOR),
        ));
    }
    if large > 0 {
        map = map.with(Region::flash(
            FLASH_BASE + small + medium,
            large,
            flash(LARGE_SECTOR),
        ));
    }
    map = map.with(Region::ram(SRAM_BASE, line.sram_kb * K));
    if line.ccm {
        map = map.with(Region::ram(CCM_BASE, CCM_SIZE));
    }
    map
}

/// The sector number (SNB) of `address`.
fn sector_of(address: u32) -> u8 {
    let offset = address - FLASH_BASE;
    let small_end = SMALL_SECTORS * SMALL_SECTOR;
    let sector = if offset < small_end {
        offset / SMALL_SECTOR
    } else if offset < small_end + MEDIUM_SECTOR {
        SMALL_SECTORS
    } else {
        SMALL_SECTORS + 1 + (offset - small_end - MEDIUM_SECTOR) / LARGE_SECTOR
    };
    sector as u8
}

impl Family for Stm32F4 {
    fn identify(
        &'static self,
        memory: &mut dyn Memory,
        identity: &Identity,
    ) -> Result<Option<Part>, Error> {
        if identity.core_part() != CORTEX_M4 || identity.rom_designer != JEP106_ST {
            return Ok(None);
        }
        let mut device = match memory.read_word(DBGMCU_IDCODE) {
            Ok(idcode) => idcode & 0xFFF,
            Err(adi::Error::Bus { .. }) => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        if device == F2_DEVICE {
            device = 0x413;
        }
        let Some(line) = LINES.iter().find(|line| line.device == device) else {
            return Ok(None);
        };
        let size_word = crate::read_word_if_readable(memory, FLASH_SIZE_WORD)?;
        let flash_kb = match size_word.map(|word| word >> 16) {
            Some(kb) if kb != 0 && kb != 0xFFFF && kb <= line.max_flash_kb => kb,
            _ => line.max_flash_kb,
        };
        let flash_size = flash_kb * K;
        Ok(Some(Part {
            family: self,
            name: line.name,
            memory_map: memory_map(line, flash_size),
            mass_erase: Some((FLASH_BASE, flash_size)),
            device,
            variant: 0,
        }))
    }

    fn erase(
        &self,
        part: &Part,
        _: &mut crate::Session,
        mut memory: &mut dyn Memory,
        region: &Region,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        self.protection(part, memory)?.check()?;
        let sector_size = region.as_flash().ok_or(Error::NoFlashDriver)?.block_size;
        let memory = &mut memory;
        start(memory, address)?;
        let first = address - (address - region.start) % sector_size;
        let end = (u64::from(address) + u64::from(length)).min(region.end());
        let mut sector = first;
        while u64::from(sector) < end {
            memory.store(FlashCr::sector_erase(sector_of(sector)))?;
            let result = finish(memory, sector, SECTOR_ERASE_TIMEOUT_MICROS);
            memory.store(FlashCr::default())?;
            result?;
            sector += sector_size;
        }
        Ok(())
    }

    fn program(
        &self,
        part: &Part,
        _: &mut crate::Session,
        mut memory: &mut dyn Memory,
        region: &Region,
        address: u32,
        data: &[u8],
    ) -> Result<(), Error> {
        self.protection(part, memory)?.check()?;
        if !address.is_multiple_of(WRITE_UNIT) || !data.len().is_multiple_of(WRITE_UNIT as usize) {
            return Err(Error::Adi(adi::Error::Unaligned { address }));
        }
        if !region.contains(address) || u64::from(address) + data.len() as u64 > region.end() {
            return Err(Error::OutsideFlash { address });
        }
        let memory = &mut memory;
        start(memory, address)?;
        memory.store(FlashCr::program())?;
        let result = program_words(memory, address, data);
        memory.store(FlashCr::default())?;
        result
    }

    fn mass_erase(
        &self,
        part: &Part,
        _: &mut crate::Session,
        mut memory: &mut dyn Memory,
    ) -> Result<(), Error> {
        self.protection(part, memory)?.check()?;
        let memory = &mut memory;
        start(memory, FLASH_BASE)?;
        memory.store(FlashCr::mass_erase(false))?;
        memory.store(FlashCr::mass_erase(true))?;
        let result = finish(memory, FLASH_BASE, MASS_ERASE_TIMEOUT_MICROS);
        memory.store(FlashCr::default())?;
        result
    }

    fn done(&self, _: &Part, mut memory: &mut dyn Memory) -> Result<(), Error> {
        (&mut memory).store(FlashCr::locked())?;
        Ok(())
    }

    /// RDP as FLASH_OPTCR shows it (RM0090 3.7.3).
    fn protection(&self, _: &Part, mut memory: &mut dyn Memory) -> Result<Protection, Error> {
        let options: FlashOptcr = (&mut memory).load()?;
        Ok(match options.rdp() {
            RDP_LEVEL_0 => Protection::None,
            RDP_LEVEL_2 => Protection::Permanent {
                what: "RDP level 2",
            },
            _ => Protection::ReadProtected {
                what: "RDP level 1",
                command: "option erase",
            },
        })
    }

    /// The option bytes back to the factory's: from RDP level 1 this mass-erases the flash
    /// (RM0090 3.7.3 "Level 1 to level 0"). They apply at the next reset.
    fn recover(&self, _: &Part, mut memory: &mut dyn Memory) -> Result<(), Error> {
        write_options(&mut memory, OPTCR_DEFAULT)
    }

    fn commands(&self) -> &'static [Command] {
        &[Command {
            name: "option",

            arguments: OPTION_ARGUMENTS,
            run: option_command,
            help: "Show the option bytes; 'option erase' restores the factory's (RDP level 0, \
                   no write protection; from level 1 this erases the flash), applied at reset",
        }]
    }
}

/// The key sequence (RM0090 3.5.1), only while locked: a key written while unlocked, or a
/// wrong one, locks FLASH_CR until reset.
fn unlock<M: Memory>(memory: &mut M) -> Result<(), Error> {
    CONTROL_LOCK.unlock(memory)
}

/// Wait for BSY to clear, then report and clear the error flags (RM0090 3.9.4).
fn finish<M: Memory>(memory: &mut M, address: u32, timeout: u64) -> Result<(), Error> {
    let status = poll_memory(memory, timeout, Error::Timeout { address }, |memory| {
        let status: FlashSr = memory.load()?;
        Ok((!status.bsy()).then_some(status))
    })?;
    memory.store(FlashSr::flags())?;
    status.error(address)
}

/// Unlocked, idle, no flags left from before.
fn start<M: Memory>(memory: &mut M, address: u32) -> Result<(), Error> {
    unlock(memory)?;
    finish(memory, address, MASS_ERASE_TIMEOUT_MICROS)
}

/// Word programming with PG and PSIZE x32 (RM0090 3.5.4). Runs of words go back to back
/// through the MEM-AP (the bus stalls while one programs); erased words are skipped.
fn program_words<M: Memory>(memory: &mut M, address: u32, data: &[u8]) -> Result<(), Error> {
    let mut words = [0u32; 256];
    let mut offset = 0;
    while offset < data.len() {
        let mut count = 0;
        let mut end = offset;
        while end < data.len() && count < words.len() {
            let word = u32::from_le_bytes([data[end], data[end + 1], data[end + 2], data[end + 3]]);
            if word == ERASED_WORD {
                break;
            }
            words[count] = word;
            count += 1;
            end += 4;
        }
        if count > 0 {
            let at = address + offset as u32;
            memory.write_words(at, &words[..count])?;
            finish(memory, at, PROGRAM_TIMEOUT_MICROS)?;
            offset = end;
        } else {
            offset += 4;
        }
    }
    Ok(())
}

/// Program FLASH_OPTCR with `value` (RM0090 3.6.2: OPTKEYR keys, the new value, OPTSTRT,
/// wait for BSY); OPTLOCK set again afterwards, whatever happened.
fn write_options<M: Memory>(memory: &mut M, value: u32) -> Result<(), Error> {
    let result = OPTIONS_LOCK.unlock(memory).and_then(|()| {
        finish(memory, OPTION_BYTES, MASS_ERASE_TIMEOUT_MICROS)?;
        let mut options = FlashOptcr::from(value);
        memory.store(options)?;
        options.set_optstrt(true);
        memory.store(options)?;
        finish(memory, OPTION_BYTES, MASS_ERASE_TIMEOUT_MICROS)
    });
    let mut locked: FlashOptcr = memory.load()?;
    locked.set_optlock(true);
    locked.set_optstrt(false);
    memory.store(locked)?;
    result
}

/// `monitor option [erase]`: show FLASH_OPTCR and the stored option bytes, after
/// restoring the factory's if asked.
fn option_command(
    part: &Part,
    mut memory: &mut dyn Memory,
    arguments: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match arguments {
        "" => {}
        "erase" => {
            part.family.recover(part, memory)?;
            let _ = writeln!(
                out,
                "Option bytes restored (RDP level 0); they apply at the next reset \
                 (monitor reset)"
            );
        }
        _ => {
            return Err(Error::Usage {
                command: "option",
                arguments: OPTION_ARGUMENTS,
            });
        }
    }
    let memory = &mut memory;
    let options: FlashOptcr = memory.load()?;
    let level = match options.rdp() {
        RDP_LEVEL_0 => "level 0",
        RDP_LEVEL_2 => "level 2",
        _ => "level 1",
    };
    let _ = writeln!(
        out,
        "FLASH_OPTCR 0x{:08X}: RDP 0x{:02X} ({level}), nWRP 0x{:03X}, USER 0x{:02X}",
        u32::from(options),
        options.rdp(),
        options.nwrp(),
        options.user() << 2
    );
    let stored = [
        memory.read_word(OPTION_BYTES)?,
        memory.read_word(OPTION_BYTES_WRP)?,
    ];
    let _ = writeln!(
        out,
        "0x{OPTION_BYTES:08X}: 0x{:08X} 0x{OPTION_BYTES_WRP:08X}: 0x{:08X}",
        stored[0], stored[1]
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sector_numbers_follow_the_16_64_128_layout() {
        let at = |offset| sector_of(FLASH_BASE + offset);
        assert_eq!([at(0), at(0x3FFF), at(0x4000), at(0xC000)], [0, 0, 1, 3]);
        assert_eq!([at(0x1_0000), at(0x1_FFFF), at(0x2_0000)], [4, 4, 5]);
        assert_eq!([at(0x4_0000), at(0xE_0000), at(0xF_FFFF)], [6, 11, 11]);
    }

    #[test]
    fn a_small_part_has_no_large_sectors() {
        let map = memory_map(&LINES[1], 128 * K);
        let flash: Vec<_> = map
            .regions()
            .filter_map(|region| Some((region.start, region.as_flash()?.block_size)))
            .collect();
        assert_eq!(
            flash,
            [(FLASH_BASE, SMALL_SECTOR), (0x0801_0000, MEDIUM_SECTOR)]
        );
    }
}
