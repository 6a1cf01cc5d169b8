//! STM32H742/H743/H750/H753 (RM0433): identification, memory map, the dual-bank flash
//! interface (128 KB sectors, 256-bit flash words), read protection, and DBGMCU so that
//! debugging survives the low-power modes.

use crate::memory_map::{Flash, MemoryMap, Region};
use crate::stm32::{KEYS, KeyLock, OPTION_KEYS};
use crate::{Command, Error, Family, Identity, Part, Protection};
use adi::registers::MemoryMapped;
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

/// The flash interface's key registers (RM0433 4.9.2, 4.9.3); bank 2's KEYR, CR, SR and
/// CCR are bank 1's plus 0x100 (RM0433 4.9).
const FLASH_KEYR: u32 = 0x5200_2004;
const FLASH_OPTKEYR: u32 = 0x5200_2008;
const BANK_REGISTERS: u32 = 0x100;

/// x64 parallelism: the fastest program and erase (DS12110 table 53), for a supply of
/// 1.8 V and more (RM0433 4.3.8).
const PSIZE_X64: u8 = 0b11;

const RDP_LEVEL_0: u8 = 0xAA;
const RDP_LEVEL_2: u8 = 0xCC;

adi::register! {
    /// FLASH_CR1 (RM0433 4.9.4); FLASH_CR2 is 0x100 up.
    memory FlashCr @ 0x5200_200C {
        pub lock, set_lock: 0;
        pub pg, set_pg: 1;
        pub ser, set_ser: 2;
        pub ber, set_ber: 3;
        pub u8, psize, set_psize: 5, 4;
        pub start, set_start: 7;
        pub u8, snb, set_snb: 10, 8;
    }
}

impl FlashCr {
    fn locked() -> Self {
        let mut control = Self::default();
        control.set_lock(true);
        control
    }

    /// Idle with the parallelism set: what the driver leaves after an operation.
    fn with_psize() -> Self {
        let mut control = Self::default();
        control.set_psize(PSIZE_X64);
        control
    }

    fn program() -> Self {
        let mut control = Self::with_psize();
        control.set_pg(true);
        control
    }

    /// Sector erase (SER, SNB), started (START) or not yet (RM0433 4.3.10).
    fn sector_erase(sector: u8, start: bool) -> Self {
        let mut control = Self::with_psize();
        control.set_ser(true);
        control.set_snb(sector);
        control.set_start(start);
        control
    }

    /// Bank erase (BER), started (START) or not yet.
    fn bank_erase(start: bool) -> Self {
        let mut control = Self::with_psize();
        control.set_ber(true);
        control.set_start(start);
        control
    }
}

adi::register! {
    /// FLASH_SR1 (RM0433 4.9.5): QW while an operation waits or runs; the error flags.
    memory FlashSr @ 0x5200_2010 {
        pub qw, _: 2;
        pub wrperr, _: 17;
        pub pgserr, _: 18;
        pub strberr, _: 19;
        pub incerr, _: 21;
        pub operr, _: 22;
        pub rdperr, _: 23;
        pub rdserr, _: 24;
        pub sneccerr, _: 25;
        pub dbeccerr, _: 26;
    }
}

impl FlashSr {
    /// WRPERR, PGSERR, STRBERR, INCERR, OPERR, RDPERR, RDSERR, SNECCERR, DBECCERR.
    fn failed(self) -> bool {
        self.wrperr()
            || self.pgserr()
            || self.strberr()
            || self.incerr()
            || self.operr()
            || self.rdperr()
            || self.rdserr()
            || self.sneccerr()
            || self.dbeccerr()
    }
}

adi::register! {
    /// FLASH_CCR1 (RM0433 4.9.6): a one clears the SR flag at the same position.
    memory FlashCcr @ 0x5200_2014 {
        pub u16, flags, set_flags: 27, 16;
    }
}

impl FlashCcr {
    fn all() -> Self {
        let mut clear = Self::default();
        clear.set_flags(0xFFF);
        clear
    }
}

adi::register! {
    /// FLASH_OPTCR (RM0433 4.9.7).
    memory FlashOptcr @ 0x5200_2018 {
        pub optlock, set_optlock: 0;
        pub optstart, set_optstart: 1;
    }
}

impl FlashOptcr {
    fn locked() -> Self {
        let mut control = Self::default();
        control.set_optlock(true);
        control
    }

    fn start() -> Self {
        let mut control = Self::default();
        control.set_optstart(true);
        control
    }
}

adi::register! {
    /// FLASH_OPTSR_CUR (RM0433 4.9.8): the option bytes in force; OPT_BUSY while they
    /// change.
    memory FlashOptsrCur @ 0x5200_201C {
        pub opt_busy, _: 0;
        pub u8, rdp, _: 15, 8;
    }
}

adi::register! {
    /// FLASH_OPTSR_PRG (RM0433 4.9.9): the option bytes to program.
    memory FlashOptsrPrg @ 0x5200_2020 {
        pub u8, rdp, set_rdp: 15, 8;
    }
}

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

/// A bank's copy of a bank 1 register (`R`, or `address` for the key register).
fn banked(bank: u8, address: u32) -> u32 {
    address + u32::from(bank) * BANK_REGISTERS
}

fn store<R: MemoryMapped + Into<u32>>(
    memory: &mut dyn Memory,
    bank: u8,
    value: R,
) -> Result<(), Error> {
    Ok(memory.write_word(banked(bank, R::ADDRESS), value.into())?)
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
        _: &mut crate::Session,
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
            let number = sector as u8;
            store(memory, bank, FlashCr::sector_erase(number, false))?;
            store(memory, bank, FlashCr::sector_erase(number, true))?;
            let result = finish(
                &mut memory,
                bank,
                sector_address,
                SECTOR_ERASE_TIMEOUT_MICROS,
            );
            store(memory, bank, FlashCr::with_psize())?;
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
        _: &mut crate::Session,
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
        store(memory, bank, FlashCr::program())?;
        let result = program_runs(&mut memory, bank, address, data);
        store(memory, bank, FlashCr::with_psize())?;
        result
    }

    /// A bank erase in each bank, both running at once (RM0433 4.3.10).
    fn mass_erase(
        &self,
        part: &Part,
        _: &mut crate::Session,
        mut memory: &mut dyn Memory,
    ) -> Result<(), Error> {
        check_protection(part, memory)?;
        let banks: &[u8] = if part.variant != 0 { &[0, 1] } else { &[0] };
        for &bank in banks {
            unlock(&mut memory, bank)?;
            store(memory, bank, FlashCr::bank_erase(false))?;
            store(memory, bank, FlashCr::bank_erase(true))?;
        }
        let mut result = Ok(());
        for &bank in banks {
            let start = FLASH_BASE + u32::from(bank) * BANK_SIZE;
            let finished = finish(&mut memory, bank, start, BANK_ERASE_TIMEOUT_MICROS);
            store(memory, bank, FlashCr::with_psize())?;
            result = result.and(finished);
        }
        result
    }

    fn done(&self, part: &Part, memory: &mut dyn Memory) -> Result<(), Error> {
        let banks: &[u8] = if part.variant != 0 { &[0, 1] } else { &[0] };
        for &bank in banks {
            store(memory, bank, FlashCr::locked())?;
        }
        Ok(())
    }

    /// RDP in FLASH_OPTSR_CUR (RM0433 4.5.3): 0xAA level 0, 0xCC level 2, else level 1.
    fn protection(&self, _: &Part, memory: &mut dyn Memory) -> Result<Protection, Error> {
        let options = FlashOptsrCur::from(memory.read_word(FlashOptsrCur::ADDRESS)?);
        Ok(match options.rdp() {
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
            keyr: FLASH_OPTKEYR,
            keys: OPTION_KEYS,
            control: FlashOptcr::ADDRESS,
            bit: FlashOptcr::locked().into(),
            set_when_unlocked: false,
            still_locked: Error::Locked,
        }
        .unlock(&mut *memory)?;
        let mut options: FlashOptsrPrg = (&mut memory).load()?;
        options.set_rdp(RDP_LEVEL_0);
        (&mut memory).store(options)?;
        (&mut memory).store(FlashOptcr::start())?;
        let waited = poll_memory(
            &mut memory,
            OPTION_TIMEOUT_MICROS,
            Error::Timeout {
                address: FLASH_BASE,
            },
            |memory| {
                let status: FlashOptsrCur = memory.load()?;
                Ok((!status.opt_busy()).then_some(()))
            },
        );
        (&mut memory).store(FlashOptcr::locked())?;
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
        keyr: banked(bank, FLASH_KEYR),
        keys: KEYS,
        control: banked(bank, FlashCr::ADDRESS),
        bit: FlashCr::locked().into(),
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
        let status = FlashSr::from(memory.read_word(banked(bank, FlashSr::ADDRESS))?);
        Ok((!status.qw()).then_some(status))
    })?;
    if !status.failed() {
        return Ok(());
    }
    memory.write_word(banked(bank, FlashCcr::ADDRESS), FlashCcr::all().into())?;
    let message = match status {
        _ if status.wrperr() => return Err(Error::WriteProtected { address }),
        _ if status.pgserr() => "flash programming sequence error (PGSERR)",
        _ if status.strberr() => "flash word written twice (STRBERR)",
        _ if status.incerr() => "flash word written out of order (INCERR)",
        _ if status.operr() => "flash operation error (OPERR)",
        _ => "flash error (RDPERR, RDSERR or ECC)",
    };
    Err(Error::Family {
        message,
        address: Some(address),
    })
}

#[cfg(test)]
#[path = "stm32h7_tests.rs"]
mod tests;
