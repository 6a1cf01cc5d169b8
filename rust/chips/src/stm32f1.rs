//! STM32F1 (RM0008; flash programming manual PM0075): identification, memory map, and the
//! flash program/erase controller (FPEC).

use crate::memory_map::{Flash, MemoryMap, Region};
use crate::stm32::{KEYS, KeyLock};
use crate::{Command, Error, Family, Identity, Part, Protection};
use adi::registers::MemoryMapped;
use adi::{Memory, poll_memory};
use core::fmt::Write;

/// What `option` takes.
const OPTION_ARGUMENTS: &str = "[erase]";

/// An erased flash half-word (RM0008 3.3.3).
const ERASED_HALF_WORD: u16 = 0xFFFF;

/// DBGMCU_IDCODE: DEV_ID in [11:0], REV_ID in [31:16] (RM0008 31.6.1).
const DBGMCU_IDCODE: u32 = 0xE004_2000;
/// Flash size in KB (RM0008 30.1, "Flash size register").
const FLASH_SIZE_REGISTER: u32 = 0x1FFF_F7E0;

const FLASH_BASE: u32 = 0x0800_0000;
const SRAM_BASE: u32 = 0x2000_0000;

// FPEC registers (RM0008 3.4)
const FLASH_KEYR: u32 = 0x4002_2004;
const FLASH_OPTKEYR: u32 = 0x4002_2008;
const FLASH_OBR: u32 = 0x4002_201C;
const FLASH_WRPR: u32 = 0x4002_2020;

/// The option bytes in the information block: RDP, USER, Data0, Data1, WRP0..WRP3, one
/// half-word each (PM0075 2.5).
const OPTION_BYTES_BASE: u32 = 0x1FFF_F800;
pub const OPTION_BYTE_COUNT: usize = 8;
/// RDP value that leaves the flash readable; any other, the erased 0xFF included, protects
/// it (PM0075 2.4.1).
const RDP_UNPROTECTED: u8 = 0xA5;

/// FLASH_CR's LOCK, cleared by the keys in FLASH_KEYR (RM0008 3.3.1).
const FPEC_LOCK: KeyLock = KeyLock {
    keyr: FLASH_KEYR,
    keys: KEYS,
    control: FlashCr::ADDRESS,
    bit: 1 << 7,
    set_when_unlocked: false,
    still_locked: Error::Locked,
};
/// FLASH_CR's OPTWRE, set by the same keys in FLASH_OPTKEYR (PM0075 2.5).
const OPTION_BYTES_LOCK: KeyLock = KeyLock {
    keyr: FLASH_OPTKEYR,
    keys: KEYS,
    control: FlashCr::ADDRESS,
    bit: 1 << 9,
    set_when_unlocked: true,
    still_locked: family_error(
        "option bytes still locked after the unlock sequence (OPTWRE clear)",
    ),
};

adi::register! {
    /// FLASH_AR (PM0075 3.4): the page a page erase works on.
    memory FlashAr @ 0x4002_2014 {
        pub u32, page, set_page: 31, 0;
    }
}

adi::register! {
    /// FLASH_SR (PM0075 3.4): BSY, and the flags of the last operation (write one to
    /// clear).
    memory FlashSr @ 0x4002_200C {
        pub bsy, _: 0;
        pub pgerr, set_pgerr: 2;
        pub wrprterr, set_wrprterr: 4;
        pub eop, set_eop: 5;
    }
}

impl FlashSr {
    /// Every flag, to clear them.
    fn flags() -> Self {
        let mut status = Self::default();
        status.set_eop(true);
        status.set_pgerr(true);
        status.set_wrprterr(true);
        status
    }
}

adi::register! {
    /// FLASH_CR (PM0075 3.5). OPTWRE is set by the FPEC after the OPTKEYR key sequence
    /// and writing 0 clears it, so every write during option byte work keeps it set.
    memory FlashCr @ 0x4002_2010 {
        pub pg, set_pg: 0;
        pub per, set_per: 1;
        pub mer, set_mer: 2;
        pub optpg, set_optpg: 4;
        pub opter, set_opter: 5;
        pub strt, set_strt: 6;
        pub lock, set_lock: 7;
        pub optwre, set_optwre: 9;
    }
}

impl FlashCr {
    /// Nothing set: the end of an operation.
    fn idle() -> Self {
        Self::default()
    }

    fn locked() -> Self {
        let mut control = Self::default();
        control.set_lock(true);
        control
    }

    fn program() -> Self {
        let mut control = Self::default();
        control.set_pg(true);
        control
    }

    /// Page erase (PER), started (STRT) or not yet.
    fn page_erase(start: bool) -> Self {
        let mut control = Self::default();
        control.set_per(true);
        control.set_strt(start);
        control
    }

    /// Mass erase (MER), started (STRT) or not yet.
    fn mass_erase(start: bool) -> Self {
        let mut control = Self::default();
        control.set_mer(true);
        control.set_strt(start);
        control
    }

    /// Option byte work: OPTWRE kept set.
    fn options() -> Self {
        let mut control = Self::default();
        control.set_optwre(true);
        control
    }

    /// Option byte erase (OPTER), started (STRT) or not yet.
    fn option_erase(start: bool) -> Self {
        let mut control = Self::options();
        control.set_opter(true);
        control.set_strt(start);
        control
    }

    fn option_program() -> Self {
        let mut control = Self::options();
        control.set_optpg(true);
        control
    }
}

/// FLASH_OBR bits (PM0075 3.7).
const OBR_OPTERR: u32 = 1 << 0;
const OBR_RDPRT: u32 = 1 << 1;

/// Longest erase is 40 ms (DS5319 table "Flash memory characteristics"); leave room.
const ERASE_TIMEOUT_MICROS: u64 = 500_000;
const PROGRAM_TIMEOUT_MICROS: u64 = 100_000;

/// Cortex-M3 r1p1, as on every genuine STM32F1 (PM0056 4.3.1).
const GENUINE_CPUID: u32 = 0x411F_C231;
/// SW-DP v2 DPIDR reported by the CKS32/CS32F103 clones (OpenOCD users see it as an
/// "UNEXPECTED idcode" against stm32f1x.cfg's 0x1ba01477).
const CLONE_DPIDR: u32 = 0x2BA0_1477;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Density {
    Low,
    Medium,
    High,
    ExtraLarge,
    Connectivity,
    ValueLine,
}

impl Density {
    /// The density line of DBGMCU_IDCODE.DEV_ID (RM0008 31.6.1), with its largest flash
    /// in KB, page size and SRAM in KB.
    fn from_device(device: u32) -> Option<(Self, u32, u32, u32)> {
        Some(match device {
            0x412 => (Density::Low, 32, 1024, 10),
            0x410 => (Density::Medium, 128, 1024, 20),
            0x414 => (Density::High, 512, 2048, 64),
            0x430 => (Density::ExtraLarge, 1024, 2048, 96),
            0x418 => (Density::Connectivity, 256, 2048, 64),
            0x420 | 0x428 => (Density::ValueLine, 128, 1024, 8),
            _ => return None,
        })
    }

    fn name(self, clone: bool) -> &'static str {
        match (clone, self) {
            (false, Density::Low) => "STM32F1 low density",
            (false, Density::Medium) => "STM32F1 medium density",
            (false, Density::High) => "STM32F1 high density",
            (false, Density::ExtraLarge) => "STM32F1 XL density",
            (false, Density::Connectivity) => "STM32F1 connectivity line",
            (false, Density::ValueLine) => "STM32F1 value line",
            (true, Density::Medium) => "STM32F1 (clone) medium density",
            (true, Density::High) => "STM32F1 (clone) high density",
            (true, _) => "STM32F1 (clone)",
        }
    }
}

/// `Part::variant` bit: a CKS32/CS32 clone.
pub const VARIANT_CLONE: u32 = 1 << 0;
/// MER erases bank 1: the whole flash but on XL density, whose second bank has its own
/// registers (RM0008 3.3.3).
const BANK_SIZE: u32 = 512 * 1024;

/// The option bytes as stored, and as the option byte loader took them at the last reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionBytes {
    /// The half-words at 0x1FFF_F800: RDP, USER, Data0, Data1, WRP0..WRP3, each the byte in
    /// bits [7:0] and its complement in [15:8] (PM0075 2.5); 0xFFFF when erased.
    pub raw: [u16; OPTION_BYTE_COUNT],
    /// FLASH_OBR: OPTERR, RDPRT, USER, Data0, Data1 as loaded at the last reset (PM0075 3.7).
    pub obr: u32,
    /// FLASH_WRPR: WRP3..WRP0 as loaded at the last reset; a 0 bit protects (PM0075 3.8).
    pub wrpr: u32,
}

impl OptionBytes {
    /// Option byte `index` if it and its complement agree (neither erased nor corrupt).
    pub fn byte(&self, index: usize) -> Option<u8> {
        let [low, high] = self.raw.get(index)?.to_le_bytes();
        (low == !high).then_some(low)
    }

    /// Read protection in force since the last reset (OBR.RDPRT).
    pub fn read_protected(&self) -> bool {
        self.obr & OBR_RDPRT != 0
    }

    /// An option byte and its complement did not match at the last reset (OBR.OPTERR).
    pub fn load_error(&self) -> bool {
        self.obr & OBR_OPTERR != 0
    }
}

/// The STM32F1 family driver.
pub struct Stm32F1;

pub static STM32F1: Stm32F1 = Stm32F1;

/// Erased bytes read 0xFF; the FPEC programs half-words (RM0008 3.3.3).
const fn flash(page_size: u32) -> Flash {
    Flash::new(page_size, 2)
}

impl Family for Stm32F1 {
    /// An STM32F1 if the core is a Cortex-M3 and DBGMCU_IDCODE names an F1 device.
    fn identify(
        &'static self,
        memory: &mut dyn Memory,
        identity: &Identity,
    ) -> Result<Option<Part>, Error> {
        if identity.core_part() != 0xC23 {
            return Ok(None);
        }
        let device = memory.read_word(DBGMCU_IDCODE)? & 0xFFF;
        let Some((density, default_flash_kb, page_size, ram_kb)) = Density::from_device(device)
        else {
            return Ok(None);
        };
        let flash_kb = match crate::read_word_if_readable(memory, FLASH_SIZE_REGISTER & !3)? {
            Some(word) if word & 0xFFFF != 0 && word & 0xFFFF != 0xFFFF => word & 0xFFFF,
            _ => default_flash_kb,
        };
        // SRAM size is not readable: high density parts with 256 KB flash (RC) have 48 KB
        // (DS5792 table 2); other sizes per density line.
        let ram_kb = if density == Density::High && flash_kb <= 256 {
            48
        } else {
            ram_kb
        };
        let clone = identity.dpidr == CLONE_DPIDR || identity.cpuid != GENUINE_CPUID;
        let flash_size = flash_kb * 1024;
        Ok(Some(Part {
            family: self,
            name: density.name(clone),
            memory_map: MemoryMap::new()
                .with(Region::flash(FLASH_BASE, flash_size, flash(page_size)))
                .with(Region::ram(SRAM_BASE, ram_kb * 1024)),
            // MER takes 20 ms like one page (DS5319 "Flash memory characteristics":
            // tERASE 20 ms, tME 20 ms).
            mass_erase: Some((FLASH_BASE, flash_size.min(BANK_SIZE))),
            device,
            variant: if clone { VARIANT_CLONE } else { 0 },
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
        erase(&mut memory, region, address, length)
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
        program(&mut memory, region, address, data)
    }

    fn mass_erase(
        &self,
        part: &Part,
        _: &mut crate::Session,
        mut memory: &mut dyn Memory,
    ) -> Result<(), Error> {
        self.protection(part, memory)?.check()?;
        mass_erase(&mut memory)
    }

    /// Read protection as loaded at the last reset (FLASH_OBR.RDPRT, PM0075 3.7).
    fn protection(&self, _: &Part, mut memory: &mut dyn Memory) -> Result<Protection, Error> {
        Ok(if read_protected(&mut memory)? {
            Protection::ReadProtected {
                what: "RDP: read protection",
                command: "option erase",
            }
        } else {
            Protection::None
        })
    }

    /// Erase the option bytes leaving RDP unprotected: mass-erases the flash of a
    /// protected chip (PM0075 2.5); applies at the next reset.
    fn recover(&self, _: &Part, mut memory: &mut dyn Memory) -> Result<(), Error> {
        erase_option_bytes(&mut memory)
    }

    fn done(&self, _: &Part, mut memory: &mut dyn Memory) -> Result<(), Error> {
        lock(&mut memory)
    }

    fn commands(&self) -> &'static [Command] {
        &[Command {
            name: "option",

            arguments: OPTION_ARGUMENTS,
            run: option_command,
            help: "Show the option bytes; 'option erase' erases them (RDP stays 0xA5: unprotected)",
        }]
    }
}

fn check_range(region: &Region, address: u32, length: u32) -> Result<(), Error> {
    if !region.contains(address) || u64::from(address) + u64::from(length) > region.end() {
        return Err(Error::OutsideFlash { address });
    }
    Ok(())
}

/// The key sequence (RM0008 3.3.1); a wrong one locks the FPEC until reset.
fn unlock<M: Memory>(memory: &mut M) -> Result<(), Error> {
    FPEC_LOCK.unlock(memory)
}

pub fn lock<M: Memory>(memory: &mut M) -> Result<(), Error> {
    memory.store(FlashCr::locked())?;
    Ok(())
}

/// Wait for BSY to clear, then report and clear the error flags (RM0008 3.4.2).
fn finish<M: Memory>(memory: &mut M, address: u32, timeout: u64) -> Result<(), Error> {
    let status = poll_memory(memory, timeout, Error::Timeout { address }, |memory| {
        let status: FlashSr = memory.load()?;
        Ok((!status.bsy()).then_some(status))
    })?;
    store_state(memory, FlashSr::flags())?;
    if status.wrprterr() {
        return Err(Error::WriteProtected { address });
    }
    if status.pgerr() {
        return Err(Error::NotErased { address });
    }
    Ok(())
}

fn start<M: Memory>(memory: &mut M, address: u32) -> Result<(), Error> {
    unlock(memory)?;
    finish(memory, address, ERASE_TIMEOUT_MICROS)
}

/// Erase every page of `region` that `[address, address + length)` touches (RM0008 3.3.3
/// "Page Erase": PER, AR, STRT, wait for BSY).
pub fn erase<M: Memory>(
    memory: &mut M,
    region: &Region,
    address: u32,
    length: u32,
) -> Result<(), Error> {
    check_range(region, address, length)?;
    let page_size = region.as_flash().ok_or(Error::NoFlashDriver)?.block_size;
    start(memory, address)?;
    let first = address - (address - region.start) % page_size;
    let end = u64::from(address) + u64::from(length);
    let mut page = first;
    while u64::from(page) < end {
        store_state(memory, FlashCr::page_erase(false))?;
        store_state(memory, FlashAr::from(page))?;
        start_operation(memory, FlashCr::page_erase(true))?;
        let result = finish(memory, page, ERASE_TIMEOUT_MICROS);
        store_state(memory, FlashCr::idle())?;
        result?;
        page += page_size;
    }
    Ok(())
}

/// Mass erase (RM0008 3.3.3 "Mass Erase": MER, STRT).
pub fn mass_erase<M: Memory>(memory: &mut M) -> Result<(), Error> {
    start(memory, FLASH_BASE)?;
    store_state(memory, FlashCr::mass_erase(false))?;
    start_operation(memory, FlashCr::mass_erase(true))?;
    let result = finish(memory, FLASH_BASE, ERASE_TIMEOUT_MICROS);
    store_state(memory, FlashCr::idle())?;
    result
}

/// Half-word programming (RM0008 3.3.3 "Main Flash memory programming"). The half-words
/// go back to back through the MEM-AP; while one programs, the bus stalls and the probe
/// retries on WAIT, so transfer and programming overlap. Erased half-words (0xFFFF) are
/// skipped: programming them would change nothing. An odd last byte is padded with 0xFF.
pub fn program<M: Memory>(
    memory: &mut M,
    region: &Region,
    address: u32,
    data: &[u8],
) -> Result<(), Error> {
    if !address.is_multiple_of(2) {
        return Err(Error::Adi(adi::Error::Unaligned { address }));
    }
    check_range(region, address, data.len() as u32)?;
    start(memory, address)?;
    store_state(memory, FlashCr::program())?;
    let result = program_halves(memory, address, data);
    store_state(memory, FlashCr::idle())?;
    result
}

fn program_halves<M: Memory>(memory: &mut M, address: u32, data: &[u8]) -> Result<(), Error> {
    let mut halves = [0u16; 256];
    let mut offset = 0;
    while offset < data.len() {
        // A run of half-words to program, up to the next erased one.
        let mut count = 0;
        let mut end = offset;
        while end < data.len() && count < halves.len() {
            let low = data[end];
            let high = data.get(end + 1).copied().unwrap_or(0xFF);
            let half = u16::from_le_bytes([low, high]);
            if half == ERASED_HALF_WORD {
                break;
            }
            halves[count] = half;
            count += 1;
            end += 2;
        }
        if count > 0 {
            let at = address + offset as u32;
            write_halves_resuming(memory, at, &halves[..count])?;
            finish(memory, at, PROGRAM_TIMEOUT_MICROS)?;
            offset = end;
        } else {
            offset += 2;
        }
    }
    Ok(())
}

/// Names of the option bytes in their order at 0x1FFF_F800 (PM0075 2.5).
const OPTION_BYTE_NAMES: [&str; OPTION_BYTE_COUNT] = [
    "RDP", "USER", "Data0", "Data1", "WRP0", "WRP1", "WRP2", "WRP3",
];

/// `monitor option [erase]`: show the option bytes, after erasing them if asked.
fn option_command(
    _: &Part,
    mut memory: &mut dyn Memory,
    arguments: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match arguments {
        "" => {}
        "erase" => erase_option_bytes(&mut memory)?,
        _ => {
            return Err(Error::Usage {
                command: "option",
                arguments: OPTION_ARGUMENTS,
            });
        }
    }
    let options = read_option_bytes(&mut memory)?;
    for (index, (name, raw)) in OPTION_BYTE_NAMES.iter().zip(options.raw).enumerate() {
        let _ = writeln!(
            out,
            "0x{:08X}: {name:5} 0x{raw:04X}",
            OPTION_BYTES_BASE as usize + 2 * index
        );
    }
    let _ = writeln!(
        out,
        "FLASH_OBR 0x{:08X}, FLASH_WRPR 0x{:08X}",
        options.obr, options.wrpr
    );
    Ok(())
}

const fn family_error(message: &'static str) -> Error {
    Error::Family {
        message,
        address: None,
    }
}

fn read_protected<M: Memory>(memory: &mut M) -> Result<bool, Error> {
    Ok(memory.read_word(FLASH_OBR)? & OBR_RDPRT != 0)
}

/// The option bytes and the FLASH_OBR / FLASH_WRPR registers.
pub fn read_option_bytes<M: Memory>(memory: &mut M) -> Result<OptionBytes, Error> {
    let mut words = [0u32; OPTION_BYTE_COUNT / 2];
    memory.read_words(OPTION_BYTES_BASE, &mut words)?;
    let mut raw = [0u16; OPTION_BYTE_COUNT];
    for (index, word) in words.iter().enumerate() {
        raw[2 * index] = *word as u16;
        raw[2 * index + 1] = (*word >> 16) as u16;
    }
    Ok(OptionBytes {
        raw,
        obr: memory.read_word(FLASH_OBR)?,
        wrpr: memory.read_word(FLASH_WRPR)?,
    })
}

/// Erase the option bytes (PM0075 2.5, erase procedure: OPTER, STRT, wait for BSY), then program RDP
/// to 0xA5: an erased RDP would turn read protection on at the next reset (PM0075
/// 2.4.1). The other bytes stay erased (0xFFFF), free for `write_option_byte`. On a
/// read-protected chip programming RDP mass-erases the main flash first (PM0075 2.5).
/// The FPEC is locked again afterwards, whatever happened.
pub fn erase_option_bytes<M: Memory>(memory: &mut M) -> Result<(), Error> {
    let result = erase_then_unprotect(memory);
    let locked = lock(memory);
    result.and(locked)
}

fn erase_then_unprotect<M: Memory>(memory: &mut M) -> Result<(), Error> {
    unlock_option_bytes(memory)?;
    memory.store(FlashCr::option_erase(false))?;
    memory.store(FlashCr::option_erase(true))?;
    let result = finish(memory, OPTION_BYTES_BASE, ERASE_TIMEOUT_MICROS);
    memory.store(FlashCr::options())?;
    result?;
    program_option_byte(memory, 0, RDP_UNPROTECTED)
}

/// Program option byte `index` (0 RDP, 1 USER, 2 Data0, 3 Data1, 4..=7 WRP0..WRP3) with
/// `value`; the FPEC writes the complement (PM0075 2.5). The byte must be erased
/// (`erase_option_bytes` first). The FPEC is locked again afterwards.
pub fn write_option_byte<M: Memory>(memory: &mut M, index: usize, value: u8) -> Result<(), Error> {
    if index >= OPTION_BYTE_COUNT {
        return Err(family_error(
            "no such option byte: they are numbered 0 (RDP) to 7 (WRP3)",
        ));
    }
    let result =
        unlock_option_bytes(memory).and_then(|()| program_option_byte(memory, index, value));
    let locked = lock(memory);
    result.and(locked)
}

/// Unlock the FPEC, then the option bytes: the same keys in OPTKEYR set OPTWRE
/// (PM0075 2.5).
fn unlock_option_bytes<M: Memory>(memory: &mut M) -> Result<(), Error> {
    start(memory, OPTION_BYTES_BASE)?;
    OPTION_BYTES_LOCK.unlock(memory)
}

/// OPTPG and a half-word write; the FPEC checks the byte is erased and answers
/// WRPRTERR if not (PM0075 2.5). Lifting read protection includes a mass erase, hence
/// the erase timeout.
fn program_option_byte<M: Memory>(memory: &mut M, index: usize, value: u8) -> Result<(), Error> {
    let address = OPTION_BYTES_BASE + 2 * index as u32;
    memory.store(FlashCr::option_program())?;
    let result = memory
        .write_halves(address, &[u16::from(value)])
        .map_err(Error::from)
        .and_then(|()| finish(memory, address, ERASE_TIMEOUT_MICROS));
    memory.store(FlashCr::options())?;
    result.map_err(|error| match error {
        Error::WriteProtected { address } => Error::Family {
            message: "option byte not erased: erase the option bytes first",
            address: Some(address),
        },
        other => other,
    })
}

/// Write a register whose write sets a state or clears flags (FLASH_CR without STRT: PG,
/// PER, MER, none; FLASH_AR; FLASH_SR's write-one-to-clear flags, RM0008 3.4): written
/// again after a transient wire error, as a second write has the effect of one. Never for
/// the keys (a second sequence would be a wrong one) or STRT ([`start_operation`]).
fn store_state<M: Memory, R: MemoryMapped>(memory: &mut M, value: R) -> Result<(), Error> {
    let mut attempts = 0;
    loop {
        match memory.store(value) {
            Err(error) if error.is_transient() && attempts < adi::TRANSIENT_RETRIES => {
                attempts += 1;
            }
            result => return Ok(result?),
        }
    }
}

/// Set STRT (an erase). After a transient wire error, FLASH_SR tells whether the operation
/// started (BSY, or EOP once done: the flags were cleared before); only if neither is set
/// is STRT written again, so an erase never starts twice (RM0008 3.3.3).
fn start_operation<M: Memory>(memory: &mut M, control: FlashCr) -> Result<(), Error> {
    let mut attempts = 0;
    loop {
        let error = match memory.store(control) {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        if !error.is_transient() || attempts >= adi::TRANSIENT_RETRIES {
            return Err(Error::Adi(error));
        }
        attempts += 1;
        let status: FlashSr = memory.load()?;
        if status.bsy() || status.eop() {
            return Ok(());
        }
    }
}

/// Program `halves` from `address` (PG set). After a wire error that may be transient
/// ([`adi::Error::is_transient`]) the flash is read back and programming goes on from the
/// first half-word that still reads erased: a half-word is never programmed twice (over
/// one not erased it would fail with PGERR, RM0008 3.3.3), so going on is safe whichever
/// store the error hid. A half-word that reads neither as wanted nor erased ends it with
/// the error; so do [`adi::TRANSIENT_RETRIES`] failures in a row without progress.
fn write_halves_resuming<M: Memory>(
    memory: &mut M,
    address: u32,
    halves: &[u16],
) -> Result<(), Error> {
    let mut done = 0;
    let mut attempts = 0;
    while done < halves.len() {
        let at = address + 2 * done as u32;
        let error = match memory.write_halves(at, &halves[done..]) {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        if !error.is_transient() || attempts >= adi::TRANSIENT_RETRIES {
            return Err(Error::Adi(error));
        }
        attempts += 1;
        let programmed =
            programmed_prefix(memory, at, &halves[done..])?.ok_or(Error::Adi(error))?;
        if programmed > 0 {
            attempts = 0;
        }
        done += programmed;
    }
    Ok(())
}

/// How many of `halves` from `address` the flash already holds, up to the first that still
/// reads erased; None if one reads as something else.
fn programmed_prefix<M: Memory>(
    memory: &mut M,
    address: u32,
    halves: &[u16],
) -> Result<Option<usize>, Error> {
    let mut bytes = [0u8; 64];
    let mut index = 0;
    while index < halves.len() {
        let count = (halves.len() - index).min(bytes.len() / 2);
        let read = &mut bytes[..2 * count];
        memory.read_bytes(address + 2 * index as u32, read)?;
        for (offset, pair) in read.chunks_exact(2).enumerate() {
            let value = u16::from_le_bytes([pair[0], pair[1]]);
            if value == ERASED_HALF_WORD {
                return Ok(Some(index + offset));
            }
            if value != halves[index + offset] {
                return Ok(None);
            }
        }
        index += count;
    }
    Ok(Some(halves.len()))
}
