//! The STM32H743/H750 flash interface (RM0433 section 4): one or two banks, each with its
//! own KEYR, CR, SR and CCR (bank 2's at +0x100), 128 KB sectors, and programming by
//! 256-bit flash words through a write buffer; option bytes through OPTKEYR/OPTCR/OPTSR.
//!
//! The array lives in the core's memory; this controller decides what an access means and
//! hands back a [`FlashEffect`] to apply when an operation ends.
//!
//! What is modelled:
//! - Per bank: KEYR's key sequence (a wrong key, or a key while unlocked, answers a bus
//!   error and locks CR until reset, RM0433 4.5.1), CR.LOCK.
//! - Programming (RM0433 4.3.9): with CR.PG set, 32-bit (or narrower) writes fill the
//!   bank's write buffer (SR.WBNE); the eighth word of a 32-byte aligned flash word starts
//!   programming it (SR.QW and BSY for the datasheet time of CR.PSIZE's parallelism).
//!   CR.FW programs a partly filled buffer (the bytes not written stay erased). A write to
//!   another flash word while the buffer holds one sets INCERR, a byte written twice
//!   STRBERR, a write without PG (or while locked, or while an error flag is still set)
//!   PGSERR; each of them empties the buffer (RM0433 4.7 "Error handling"). A write to a
//!   sector whose WPSN bit is 0, or any program or erase under RDP level 1 (the simulator
//!   always has a debugger attached, RM0433 4.5.3), sets WRPERR. Bits only go from 1 to 0.
//! - Sector erase (SER, SNB, START), bank erase (BER, START), mass erase of both banks
//!   (OPTCR.MER with both banks unlocked); QW and BSY while it runs, EOP when it ends. An
//!   SNB past the bank's last sector sets PGSERR (an approximation: RM0433 does not say).
//! - SR flags are cleared by writing 1 to CCR bits 16-27 (RM0433 4.9.6); SR itself is
//!   read-only.
//! - Option bytes: OPTKEYR unlocks OPTCR; OPTSR_PRG and WPSN_PRG take the new values,
//!   OPTCR.OPTSTART applies them (OPTSR_CUR.OPT_BUSY meanwhile; no datasheet figure:
//!   300 ms, as measured by ChromiumOS's EC driver). RDP level 1 to 0 mass-erases both
//!   banks first (RM0433 4.5.3); level 2 (0xCC) is final: OPTSTART then sets
//!   OPTCHANGEERR and changes nothing. New options take effect when OPT_BUSY clears.
//! - A debugger read of a bank while it programs or erases stalls the bus; the other bank
//!   stays readable. Under RDP level 1 or 2 the debugger's flash reads are bus errors.
//! - Not modelled: ECC (programming a flash word twice is not detected; SNECCERR and
//!   DBECCERR never set), the CRC unit, PCROP/secure areas (PRAR/SCAR stored only),
//!   OPERR/RDPERR/RDSERR, interrupts, bank swapping, BOOT_PRG.

use crate::soc::flash::{Busy, Controller, KEYS, KeyLock, KeyWhileUnlocked, OPTION_KEYS};
pub use crate::soc::{FLASH_BASE, FlashEffect, FlashError};

pub const FLASH_INTERFACE_BASE: u32 = 0x5200_2000;
pub const FLASH_INTERFACE_SIZE: u32 = 0x1000;
/// Bank 2's registers are bank 1's plus 0x100 (RM0433 4.9 register map).
pub const BANK_REGISTERS: u32 = 0x100;

/// Register offsets (RM0433 4.9).
pub const ACR: u32 = 0x00;
pub const KEYR: u32 = 0x04;
pub const OPTKEYR: u32 = 0x08;
pub const CR: u32 = 0x0C;
pub const SR: u32 = 0x10;
pub const CCR: u32 = 0x14;
pub const OPTCR: u32 = 0x18;
pub const OPTSR_CUR: u32 = 0x1C;
pub const OPTSR_PRG: u32 = 0x20;
pub const OPTCCR: u32 = 0x24;
pub const WPSN_CUR: u32 = 0x38;
pub const WPSN_PRG: u32 = 0x3C;

/// FLASH_CR bits (RM0433 4.9.4).
pub const CR_LOCK: u32 = 1 << 0;
pub const CR_PG: u32 = 1 << 1;
pub const CR_SER: u32 = 1 << 2;
pub const CR_BER: u32 = 1 << 3;
pub const CR_PSIZE_SHIFT: u32 = 4;
pub const CR_PSIZE: u32 = 0b11 << CR_PSIZE_SHIFT;
pub const CR_FW: u32 = 1 << 6;
pub const CR_START: u32 = 1 << 7;
pub const CR_SNB_SHIFT: u32 = 8;
pub const CR_SNB: u32 = 0x7 << CR_SNB_SHIFT;
/// CRC_EN and the interrupt enables 16-28 are stored.
const CR_STORED: u32 = CR_PG | CR_SER | CR_BER | CR_PSIZE | CR_SNB | 1 << 15 | 0x1FFF_0000;
/// Reset value: locked, PSIZE x64 (RM0433 4.9.4).
const CR_RESET: u32 = 0b11 << CR_PSIZE_SHIFT;

/// FLASH_SR bits (RM0433 4.9.5).
pub const SR_BSY: u32 = 1 << 0;
pub const SR_WBNE: u32 = 1 << 1;
pub const SR_QW: u32 = 1 << 2;
pub const SR_EOP: u32 = 1 << 16;
pub const SR_WRPERR: u32 = 1 << 17;
pub const SR_PGSERR: u32 = 1 << 18;
pub const SR_STRBERR: u32 = 1 << 19;
pub const SR_INCERR: u32 = 1 << 21;
/// The flags a program or erase error sets; OpenOCD's loader checks 0x07EE_0000.
pub const SR_ERRORS: u32 = 0x07EE_0000;
/// CCR bits 16-27 clear the SR flag at the same position (RM0433 4.9.6).
const CCR_CLEARS: u32 = 0x0FFF_0000;

/// FLASH_OPTCR bits (RM0433 4.9.7).
pub const OPTCR_OPTLOCK: u32 = 1 << 0;
pub const OPTCR_OPTSTART: u32 = 1 << 1;
pub const OPTCR_MER: u32 = 1 << 4;
const OPTCR_STORED: u32 = 1 << 30;
/// FLASH_OPTSR bits (RM0433 4.9.8): OPT_BUSY 0, RDP [15:8], OPTCHANGEERR 30.
pub const OPTSR_OPT_BUSY: u32 = 1 << 0;
pub const OPTSR_RDP_SHIFT: u32 = 8;
pub const OPTSR_OPTCHANGEERR: u32 = 1 << 30;
/// FLASH_OPTCCR.CLR_OPTCHANGEERR (RM0433 4.9.10).
const OPTCCR_CLR_OPTCHANGEERR: u32 = 1 << 30;
/// OPTSR as shipped: IWDG1_SW 4, NRST_STOP_D1 6, NRST_STBY_D1 7, RDP 0xAA (level 0),
/// FZ_IWDG_STOP 17, FZ_IWDG_SDBY 18 (RM0433 4.9.8 "factory value" of these fields).
const OPTSR_AS_SHIPPED: u32 = 1 << 4 | 1 << 6 | 1 << 7 | 0xAA << 8 | 1 << 17 | 1 << 18;
/// What OPTSR_PRG may change: everything but OPT_BUSY, OPTCHANGEERR, SWAP_BANK_OPT.
const OPTSR_WRITABLE: u32 = 0x3FFF_FFFC;

/// RDP values (RM0433 4.5.3): 0xAA level 0, 0xCC level 2, anything else level 1.
pub const RDP_LEVEL_0: u8 = 0xAA;
pub const RDP_LEVEL_2: u8 = 0xCC;

/// A 256-bit flash word: 32 bytes (RM0433 4.3.9).
pub const FLASH_WORD: u32 = 32;
pub const SECTOR_SIZE: u32 = 128 * 1024;

/// Operation times in nanoseconds, indexed by PSIZE (x8, x16, x32, x64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashTiming {
    pub program_word_ns: [u64; 4],
    pub sector_erase_ns: [u64; 4],
    pub bank_erase_ns: [u64; 4],
    pub option_change_ns: u64,
}

/// The write buffer of a bank: one flash word being filled.
#[derive(Clone, Debug, PartialEq, Eq)]
struct WriteBuffer {
    /// The flash word's address (32-byte aligned).
    address: u32,
    bytes: [u8; FLASH_WORD as usize],
    /// Bit i: byte i written.
    written: u32,
}

#[derive(Clone, Debug)]
struct Bank {
    /// The bank's first byte.
    base: u32,
    sectors: u32,
    key: KeyLock,
    control: u32,
    status: u32,
    buffer: Option<WriteBuffer>,
    operation: Busy<FlashEffect>,
    /// WPSN_CUR and WPSN_PRG: bit i = 0 protects sector i.
    write_protection: u32,
    write_protection_program: u32,
}

impl Bank {
    fn new(base: u32, sectors: u32) -> Self {
        Bank {
            base,
            sectors,
            key: KeyLock::new(KEYS, KeyWhileUnlocked::Fault),
            control: CR_RESET,
            status: 0,
            buffer: None,
            operation: Busy::default(),
            write_protection: 0xFF,
            write_protection_program: 0xFF,
        }
    }

    fn size(&self) -> u32 {
        self.sectors * SECTOR_SIZE
    }

    fn contains(&self, address: u32) -> bool {
        address
            .checked_sub(self.base)
            .is_some_and(|offset| offset < self.size())
    }

    fn psize(&self) -> usize {
        ((self.control & CR_PSIZE) >> CR_PSIZE_SHIFT) as usize
    }

    fn sector_protected(&self, sector: u32) -> bool {
        self.write_protection >> sector & 1 == 0
    }

    fn reset(&mut self) -> Option<FlashEffect> {
        let effect = self.operation.take();
        self.key.reset();
        self.control = CR_RESET;
        self.status = 0;
        self.buffer = None;
        effect
    }

    fn read_control(&self) -> u32 {
        let locked = if self.key.is_unlocked() { 0 } else { CR_LOCK };
        let started = if self.operation.is_busy() {
            CR_START
        } else {
            0
        };
        self.control | locked | started
    }

    fn read_status(&self) -> u32 {
        let mut status = self.status;
        if self.operation.is_busy() {
            status |= SR_BSY | SR_QW;
        }
        if self.buffer.is_some() {
            status |= SR_WBNE;
        }
        status
    }

    /// A programming error: the flag, and the write buffer emptied.
    fn program_error(&mut self, flag: u32) {
        self.status |= flag;
        self.buffer = None;
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct OptionChange {
    options: u32,
    write_protection: [u32; 2],
    /// RDP level 1 to 0: both banks are mass-erased first.
    mass_erase: bool,
}

#[derive(Clone, Debug)]
pub struct FlashController {
    timing: FlashTiming,
    banks: Vec<Bank>,
    access_control: u32,
    option_key: KeyLock,
    option_control: u32,
    /// OPTSR_CUR (without OPT_BUSY) and OPTSR_PRG.
    options: u32,
    options_program: u32,
    option_change: Busy<OptionChange>,
    /// The effects of a mass erase whose time has come, handed out one per call.
    pending_effects: Vec<FlashEffect>,
}

impl FlashController {
    /// `banks` banks of `sectors_per_bank` 128 KB sectors, bank 1 at FLASH_BASE and bank 2
    /// at FLASH_BASE + 1 MB (RM0433 4.3.4 table 16).
    pub fn new(timing: FlashTiming, banks: u32, sectors_per_bank: u32) -> Self {
        let banks = (0..banks)
            .map(|index| Bank::new(FLASH_BASE + index * 0x10_0000, sectors_per_bank))
            .collect();
        FlashController {
            timing,
            banks,
            access_control: 0x37,
            option_key: KeyLock::new(OPTION_KEYS, KeyWhileUnlocked::Fault),
            option_control: 0,
            options: OPTSR_AS_SHIPPED,
            options_program: OPTSR_AS_SHIPPED,
            option_change: Busy::default(),
            pending_effects: Vec::new(),
        }
    }

    /// Flash size in bytes: bank 2 starts 1 MB up even when bank 1 is smaller, so this is
    /// the span the array is mapped over.
    pub fn flash_size(&self) -> u32 {
        let last = self.banks.last().expect("a flash has a bank");
        last.base + last.size() - FLASH_BASE
    }

    /// The flash as the flash-size register reports it, in bytes.
    pub fn capacity(&self) -> u32 {
        self.banks.iter().map(Bank::size).sum()
    }

    pub fn read_protection(&self) -> u8 {
        (self.options >> OPTSR_RDP_SHIFT) as u8
    }

    /// A system reset: registers to reset values; operations in progress finish at once.
    pub fn reset(&mut self) -> Vec<FlashEffect> {
        let mut effects = std::mem::take(&mut self.pending_effects);
        if let Some(change) = self.option_change.take() {
            effects.extend(self.apply_options(change));
        }
        effects.extend(self.banks.iter_mut().filter_map(Bank::reset));
        self.access_control = 0x37;
        self.option_key.reset();
        self.option_control = 0;
        self.options_program = self.options;
        effects
    }

    pub fn complete_now(&mut self) -> Option<FlashEffect> {
        self.complete_when(|_| true)
    }

    /// Finish the operations `due` picks, one effect per call.
    fn complete_when(&mut self, due: impl Fn(u64) -> bool) -> Option<FlashEffect> {
        if let Some(effect) = self.pending_effects.pop() {
            return Some(effect);
        }
        if self.option_change.until_ns().is_some_and(&due) {
            let change = self.option_change.take()?;
            self.pending_effects = self.apply_options(change);
            if let Some(effect) = self.pending_effects.pop() {
                return Some(effect);
            }
        }
        for bank in &mut self.banks {
            if bank.operation.until_ns().is_some_and(&due) {
                bank.status |= SR_EOP;
                return bank.operation.take();
            }
        }
        None
    }

    fn apply_options(&mut self, change: OptionChange) -> Vec<FlashEffect> {
        self.options = change.options;
        for (bank, protection) in self.banks.iter_mut().zip(change.write_protection) {
            bank.write_protection = protection;
            bank.status |= SR_EOP;
        }
        if change.mass_erase {
            self.bank_erasures()
        } else {
            Vec::new()
        }
    }

    fn bank_erasures(&self) -> Vec<FlashEffect> {
        self.banks
            .iter()
            .map(|bank| FlashEffect::Erase {
                address: bank.base,
                length: bank.size(),
            })
            .collect()
    }

    /// The bank whose registers `offset` names, and the offset in bank 1's terms.
    fn bank_register(&self, offset: u32) -> (usize, u32) {
        let bank = (offset / BANK_REGISTERS) as usize;
        (bank, offset % BANK_REGISTERS)
    }

    /// A register read; None where bank 2's registers are on a single-bank part.
    pub fn read_register(&self, offset: u32) -> Option<u32> {
        let (index, register) = self.bank_register(offset);
        let bank = self.banks.get(index)?;
        let value = match register {
            ACR => self.access_control,
            KEYR | OPTKEYR => 0,
            CR => bank.read_control(),
            SR => bank.read_status(),
            CCR | OPTCCR => 0,
            OPTCR => {
                let locked = if self.option_key.is_unlocked() {
                    0
                } else {
                    OPTCR_OPTLOCK
                };
                self.option_control | locked
            }
            OPTSR_CUR => {
                let busy = if self.option_change.is_busy() {
                    OPTSR_OPT_BUSY
                } else {
                    0
                };
                self.options | busy
            }
            OPTSR_PRG => self.options_program,
            WPSN_CUR => bank.write_protection,
            WPSN_PRG => bank.write_protection_program,
            _ => return None,
        };
        Some(value)
    }

    /// A register write; None where the offset is plain storage (PRAR, SCAR, BOOT, CRC).
    pub fn write_register(
        &mut self,
        offset: u32,
        value: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        let (index, register) = self.bank_register(offset);
        if index >= self.banks.len() {
            return None;
        }
        match register {
            ACR => self.access_control = value & 0x3F,
            KEYR => return Some(self.banks[index].key.write(value)),
            OPTKEYR => return Some(self.option_key.write(value)),
            CR => self.write_control(index, value, now_ns),
            SR | OPTSR_CUR | WPSN_CUR => {}
            CCR => self.banks[index].status &= !(value & CCR_CLEARS),
            OPTCR => self.write_option_control(value, now_ns),
            OPTSR_PRG => {
                if self.option_key.is_unlocked() {
                    self.options_program = value & OPTSR_WRITABLE;
                }
            }
            OPTCCR => {
                if value & OPTCCR_CLR_OPTCHANGEERR != 0 {
                    self.options &= !OPTSR_OPTCHANGEERR;
                }
            }
            WPSN_PRG => {
                if self.option_key.is_unlocked() {
                    self.banks[index].write_protection_program = value & 0xFF;
                }
            }
            _ => return None,
        }
        Some(Ok(()))
    }

    fn write_control(&mut self, index: usize, value: u32, now_ns: u64) {
        let read_protected = self.read_protected();
        let timing = self.timing;
        let bank = &mut self.banks[index];
        if !bank.key.is_unlocked() {
            return;
        }
        if value & CR_LOCK != 0 {
            bank.key.lock();
            bank.control = value & CR_STORED;
            return;
        }
        if bank.operation.is_busy() {
            return;
        }
        bank.control = value & CR_STORED;
        if value & CR_FW != 0
            && let Some(buffer) = bank.buffer.take()
        {
            program(bank, buffer, read_protected, timing, now_ns);
        }
        if value & CR_START != 0 {
            start_erase(bank, read_protected, timing, now_ns);
        }
    }

    fn write_option_control(&mut self, value: u32, now_ns: u64) {
        if !self.option_key.is_unlocked() || self.option_change.is_busy() {
            return;
        }
        self.option_control = value & OPTCR_STORED;
        if value & OPTCR_OPTLOCK != 0 {
            self.option_key.lock();
            return;
        }
        if value & OPTCR_MER != 0 {
            self.start_mass_erase(now_ns);
        }
        if value & OPTCR_OPTSTART != 0 {
            self.start_option_change(now_ns);
        }
    }

    /// OPTCR.MER: both banks, which must be unlocked (RM0433 4.3.10).
    fn start_mass_erase(&mut self, now_ns: u64) {
        let idle = self.banks.iter().all(|bank| !bank.operation.is_busy());
        if !idle || !self.banks.iter().all(|bank| bank.key.is_unlocked()) {
            return;
        }
        let protected = self.read_protected()
            || self
                .banks
                .iter()
                .any(|bank| (0..bank.sectors).any(|sector| bank.sector_protected(sector)));
        let timing = self.timing;
        for bank in &mut self.banks {
            if protected {
                bank.status |= SR_WRPERR;
                continue;
            }
            let effect = FlashEffect::Erase {
                address: bank.base,
                length: bank.size(),
            };
            bank.operation
                .start(effect, timing.bank_erase_ns[bank.psize()], now_ns);
        }
    }

    fn start_option_change(&mut self, now_ns: u64) {
        if self.read_protection() == RDP_LEVEL_2 {
            self.options |= OPTSR_OPTCHANGEERR;
            return;
        }
        let new_level = (self.options_program >> OPTSR_RDP_SHIFT) as u8;
        let mass_erase = self.read_protected() && new_level == RDP_LEVEL_0;
        let mut duration = self.timing.option_change_ns;
        if mass_erase {
            duration += self.timing.bank_erase_ns[3];
        }
        let mut write_protection = [0xFF; 2];
        for (slot, bank) in write_protection.iter_mut().zip(&self.banks) {
            *slot = bank.write_protection_program;
        }
        let change = OptionChange {
            options: self.options_program | (self.options & OPTSR_OPTCHANGEERR),
            write_protection,
            mass_erase,
        };
        self.option_change.start(change, duration, now_ns);
    }
}

impl Controller for FlashController {
    fn busy_until_ns(&self) -> Option<u64> {
        let banks = self
            .banks
            .iter()
            .filter_map(|bank| bank.operation.until_ns());
        banks.chain(self.option_change.until_ns()).min()
    }

    /// Must a read or fetch at `address` wait?
    fn busy_at(&self, address: u32) -> bool {
        self.option_change.is_busy()
            || self
                .banks
                .iter()
                .any(|bank| bank.contains(address) && bank.operation.is_busy())
    }

    /// What both banks did since the last call (benchmarks); they may work at once.
    fn take_activity(&mut self) -> crate::soc::flash::FlashActivity {
        self.banks
            .iter_mut()
            .map(|bank| bank.operation.take_activity())
            .fold(Default::default(), crate::soc::flash::FlashActivity::merge)
    }

    fn complete(&mut self, now_ns: u64) -> Option<FlashEffect> {
        self.complete_when(|busy_until| busy_until <= now_ns)
    }

    /// A write of `bytes` at `address` in the array; `current` holds the bytes from
    /// `address` on now, little-endian.
    fn write_array(
        &mut self,
        address: u32,
        bytes: u32,
        value: u32,
        current: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        let read_protected = self.read_protected();
        let timing = self.timing;
        let Some(bank) = self.banks.iter_mut().find(|bank| bank.contains(address)) else {
            return Err(FlashError::Fault);
        };
        if bank.operation.is_busy() || self.option_change.is_busy() {
            return Err(FlashError::Busy);
        }
        let programming = bank.control & (CR_PG | CR_SER | CR_BER) == CR_PG;
        if !bank.key.is_unlocked() || !programming || bank.status & SR_ERRORS != 0 {
            bank.program_error(SR_PGSERR);
            return Ok(());
        }
        let word = address & !(FLASH_WORD - 1);
        let mut buffer = match bank.buffer.take() {
            Some(buffer) if buffer.address != word => {
                bank.program_error(SR_INCERR);
                return Ok(());
            }
            Some(buffer) => buffer,
            None => WriteBuffer {
                address: word,
                bytes: [0xFF; FLASH_WORD as usize],
                written: 0,
            },
        };
        let first = (address - word) as usize;
        let current = current.to_le_bytes();
        let written = value.to_le_bytes();
        for (index, (new, old)) in written.iter().zip(current).take(bytes as usize).enumerate() {
            let byte = first + index;
            if buffer.written & 1 << byte != 0 {
                bank.program_error(SR_STRBERR);
                return Ok(());
            }
            buffer.written |= 1 << byte;
            // Bits only go from 1 to 0.
            buffer.bytes[byte] = new & old;
        }
        if buffer.written == u32::MAX {
            program(bank, buffer, read_protected, timing, now_ns);
        } else {
            bank.buffer = Some(buffer);
        }
        Ok(())
    }

    fn read_protected(&self) -> bool {
        self.read_protection() != RDP_LEVEL_0
    }
}

/// Program a flash word from the buffer (full, or forced by CR.FW).
fn program(
    bank: &mut Bank,
    buffer: WriteBuffer,
    read_protected: bool,
    timing: FlashTiming,
    now_ns: u64,
) {
    let sector = (buffer.address - bank.base) / SECTOR_SIZE;
    if read_protected || bank.sector_protected(sector) {
        bank.program_error(SR_WRPERR);
        return;
    }
    let effect = FlashEffect::Program {
        address: buffer.address,
        bytes: buffer.bytes.to_vec(),
    };
    bank.operation
        .start(effect, timing.program_word_ns[bank.psize()], now_ns);
}

/// CR.START: a sector erase (SER, SNB) or a bank erase (BER).
fn start_erase(bank: &mut Bank, read_protected: bool, timing: FlashTiming, now_ns: u64) {
    let psize = bank.psize();
    if bank.control & CR_BER != 0 {
        if read_protected || (0..bank.sectors).any(|sector| bank.sector_protected(sector)) {
            bank.status |= SR_WRPERR;
            return;
        }
        let effect = FlashEffect::Erase {
            address: bank.base,
            length: bank.size(),
        };
        bank.operation
            .start(effect, timing.bank_erase_ns[psize], now_ns);
    } else if bank.control & CR_SER != 0 {
        let sector = (bank.control & CR_SNB) >> CR_SNB_SHIFT;
        if sector >= bank.sectors {
            bank.status |= SR_PGSERR;
            return;
        }
        if read_protected || bank.sector_protected(sector) {
            bank.status |= SR_WRPERR;
            return;
        }
        let effect = FlashEffect::Erase {
            address: bank.base + sector * SECTOR_SIZE,
            length: SECTOR_SIZE,
        };
        bank.operation
            .start(effect, timing.sector_erase_ns[psize], now_ns);
    }
}
