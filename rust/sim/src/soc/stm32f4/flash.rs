//! The STM32F4 flash interface and option bytes (RM0090 section 3 for the F405/407,
//! RM0368/RM0383 section 3 for the F401/F411: the same registers).
//!
//! The array lives in the core's memory; this controller decides what an access means and
//! hands back a [`FlashEffect`] to apply when an operation ends.
//!
//! What is modelled:
//! - KEYR and OPTKEYR key sequences; a wrong key, or a key written while unlocked, answers
//!   a bus error and locks FLASH_CR until the next reset (RM0090 3.5.1).
//! - Programming with PG: the access width must equal PSIZE (x8, x16, x32), else PGPERR;
//!   PSIZE x64 needs the external VPP supply and is refused here with PGPERR too (on
//!   silicon it takes two consecutive words). Bits only go from 1 to 0, as on the array.
//!   A write to the array without PG, with PG and an erase bit, or while a programming
//!   error flag is still set, sets PGSERR and programs nothing (RM0090 3.9.4 "PGSERR").
//! - Sector erase (SER, SNB, STRT) over 16, 64 and 128 KB sectors; an SNB past the last
//!   sector sets PGSERR (an approximation: RM0090 does not say). Mass erase (MER, STRT).
//! - WRPERR for a program or erase of a sector whose nWRP bit is 0, and for any program
//!   or erase while read protection (RDP level 1) is in force: the simulator always has a
//!   debugger attached, and RM0090 3.6.3 forbids flash access then.
//! - Option bytes through OPTCR (OPTLOCK, OPTSTRT): the new value is programmed after
//!   the datasheet time and takes effect at the next reset. RDP level 1 to level 0
//!   mass-erases the flash first (RM0090 3.6.3 "Level 1 to level 0"); level 2 (0xCC) is
//!   final: OPTSTRT does nothing once it is loaded. Programming the options takes a 16 KB
//!   sector erase time (an approximation: the datasheet gives no figure).
//! - BSY for the datasheet's typical time of each operation (DS8626 table 40 "Flash
//!   memory programming", per PSIZE); EOP when it ends; error and EOP flags are
//!   write-1-to-clear. The debugger's reads of the array while BSY stall the bus.
//! - Not modelled: OPERR and RDERR, interrupts (EOPIE/ERRIE are stored), the OTP area
//!   (reads as erased, writes fault), ACR's caches (a plain register).

use crate::soc::flash::{Busy, Controller, KEYS, KeyLock, KeyWhileUnlocked, OPTION_KEYS};
pub use crate::soc::{FLASH_BASE, FlashEffect, FlashError};

pub const FLASH_INTERFACE_BASE: u32 = 0x4002_3C00;
pub const FLASH_INTERFACE_SIZE: u32 = 0x400;

/// Register offsets (RM0090 3.9).
pub const ACR: u32 = 0x00;
pub const KEYR: u32 = 0x04;
pub const OPTKEYR: u32 = 0x08;
pub const SR: u32 = 0x0C;
pub const CR: u32 = 0x10;
pub const OPTCR: u32 = 0x14;

/// FLASH_KEYR keys (RM0090 3.5.1) and FLASH_OPTKEYR keys (RM0090 3.6.2).
pub const KEY1: u32 = KEYS[0];
pub const KEY2: u32 = KEYS[1];
pub const OPTKEY1: u32 = OPTION_KEYS[0];
pub const OPTKEY2: u32 = OPTION_KEYS[1];

/// FLASH_SR bits (RM0090 3.9.4).
pub const SR_EOP: u32 = 1 << 0;
pub const SR_WRPERR: u32 = 1 << 4;
pub const SR_PGAERR: u32 = 1 << 5;
pub const SR_PGPERR: u32 = 1 << 6;
pub const SR_PGSERR: u32 = 1 << 7;
pub const SR_BSY: u32 = 1 << 16;
const SR_PROGRAM_ERRORS: u32 = SR_PGAERR | SR_PGPERR | SR_PGSERR;
const SR_CLEARABLE: u32 = SR_EOP | SR_WRPERR | SR_PROGRAM_ERRORS | 0b10;

/// FLASH_CR bits (RM0090 3.9.5).
pub const CR_PG: u32 = 1 << 0;
pub const CR_SER: u32 = 1 << 1;
pub const CR_MER: u32 = 1 << 2;
pub const CR_SNB_SHIFT: u32 = 3;
pub const CR_SNB: u32 = 0xF << CR_SNB_SHIFT;
pub const CR_PSIZE_SHIFT: u32 = 8;
pub const CR_PSIZE: u32 = 0b11 << CR_PSIZE_SHIFT;
pub const CR_STRT: u32 = 1 << 16;
const CR_EOPIE: u32 = 1 << 24;
const CR_ERRIE: u32 = 1 << 25;
pub const CR_LOCK: u32 = 1 << 31;
const CR_STORED: u32 = CR_PG | CR_SER | CR_MER | CR_SNB | CR_PSIZE | CR_EOPIE | CR_ERRIE;

/// FLASH_OPTCR bits (RM0090 3.9.6): OPTLOCK 0, OPTSTRT 1, BOR_LEV [3:2], WDG_SW 5,
/// nRST_STOP 6, nRST_STDBY 7, RDP [15:8], nWRP [27:16].
pub const OPTCR_OPTLOCK: u32 = 1 << 0;
pub const OPTCR_OPTSTRT: u32 = 1 << 1;
const OPTCR_RDP_SHIFT: u32 = 8;
const OPTCR_NWRP_SHIFT: u32 = 16;
/// Option bytes as shipped (RM0090 3.9.6 reset value 0x0FFF_AAED without OPTLOCK): no
/// write protection, RDP level 0, BOR off, software watchdog, no reset on stop/standby.
const OPTIONS_AS_SHIPPED: u32 = 0x0FFF_AAEC;

/// RDP values (RM0090 3.6.3): 0xAA level 0, 0xCC level 2, anything else level 1.
pub const RDP_LEVEL_0: u8 = 0xAA;
pub const RDP_LEVEL_2: u8 = 0xCC;

/// Operation times in nanoseconds, indexed by PSIZE (x8, x16, x32, x64 as x32).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashTiming {
    pub program_ns: u64,
    pub erase_16k_ns: [u64; 4],
    pub erase_64k_ns: [u64; 4],
    pub erase_128k_ns: [u64; 4],
    pub mass_erase_ns: [u64; 4],
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Work {
    Array(FlashEffect),
    Options {
        value: u32,
        /// RDP level 1 to 0: the flash is mass-erased first.
        mass_erase: bool,
    },
}

#[derive(Clone, Debug)]
pub struct FlashController {
    timing: FlashTiming,
    /// Sector sizes in order from FLASH_BASE.
    sectors: &'static [u32],
    access_control: u32,
    status: u32,
    control: u32,
    key: KeyLock,
    option_key: KeyLock,
    /// FLASH_OPTCR as written (without OPTLOCK/OPTSTRT).
    option_control: u32,
    /// The option bytes in the array, and as loaded at the last reset.
    options: u32,
    loaded_options: u32,
    operation: Busy<Work>,
}

impl FlashController {
    pub fn new(timing: FlashTiming, sectors: &'static [u32]) -> Self {
        let mut controller = FlashController {
            timing,
            sectors,
            access_control: 0,
            status: 0,
            control: 0,
            key: KeyLock::new(KEYS, KeyWhileUnlocked::Fault),
            option_key: KeyLock::new(OPTION_KEYS, KeyWhileUnlocked::Fault),
            option_control: OPTIONS_AS_SHIPPED,
            options: OPTIONS_AS_SHIPPED,
            loaded_options: OPTIONS_AS_SHIPPED,
            operation: Busy::default(),
        };
        controller.reset();
        controller
    }

    pub fn flash_size(&self) -> u32 {
        self.sectors.iter().sum()
    }

    /// A system reset: registers to reset values, the option bytes reloaded. An operation
    /// in progress is finished at once (its effect returned).
    pub fn reset(&mut self) -> Option<FlashEffect> {
        let effect = self.complete_now();
        self.access_control = 0;
        self.status = 0;
        self.control = 0;
        self.key.reset();
        self.option_key.reset();
        self.loaded_options = self.options;
        self.option_control = self.options;
        effect
    }

    /// RDP as loaded at the last reset.
    pub fn read_protection(&self) -> u8 {
        (self.loaded_options >> OPTCR_RDP_SHIFT) as u8
    }

    /// The option bytes' first and second words as read at 0x1FFF_C000 and 0x1FFF_C008:
    /// USER and RDP in [15:0], nWRP in [11:0] (RM0090 3.6 table 16).
    pub fn option_words(&self) -> [u32; 2] {
        [
            self.options & 0xFFFF,
            self.options >> OPTCR_NWRP_SHIFT & 0xFFF,
        ]
    }

    fn busy(&self) -> bool {
        self.operation.is_busy()
    }

    fn unlocked(&self) -> bool {
        self.key.is_unlocked()
    }

    pub fn complete_now(&mut self) -> Option<FlashEffect> {
        let work = self.operation.take()?;
        self.finish(work)
    }

    fn finish(&mut self, work: Work) -> Option<FlashEffect> {
        self.status |= SR_EOP;
        match work {
            Work::Array(effect) => Some(effect),
            Work::Options { value, mass_erase } => {
                self.options = value;
                mass_erase.then(|| FlashEffect::Erase {
                    address: FLASH_BASE,
                    length: self.flash_size(),
                })
            }
        }
    }

    fn start(&mut self, work: Work, duration_ns: u64, now_ns: u64) {
        self.operation.start(work, duration_ns, now_ns);
    }

    fn psize(&self) -> usize {
        ((self.control & CR_PSIZE) >> CR_PSIZE_SHIFT) as usize
    }

    pub fn read_register(&self, offset: u32) -> Option<u32> {
        let value = match offset {
            ACR => self.access_control,
            KEYR | OPTKEYR => 0,
            SR => self.status | if self.busy() { SR_BSY } else { 0 },
            CR => {
                let locked = if self.unlocked() { 0 } else { CR_LOCK };
                let started = if self.busy() { CR_STRT } else { 0 };
                self.control | locked | started
            }
            OPTCR => {
                let locked = if self.option_key.is_unlocked() {
                    0
                } else {
                    OPTCR_OPTLOCK
                };
                let started = if self.busy() { OPTCR_OPTSTRT } else { 0 };
                self.option_control | locked | started
            }
            _ => 0,
        };
        Some(value)
    }

    pub fn write_register(
        &mut self,
        offset: u32,
        value: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        match offset {
            ACR => self.access_control = value & 0x1F0F,
            KEYR => return self.key.write(value),
            OPTKEYR => return self.option_key.write(value),
            SR => self.status &= !(value & SR_CLEARABLE),
            CR => self.write_control(value, now_ns),
            OPTCR => self.write_option_control(value, now_ns),
            _ => {}
        }
        Ok(())
    }

    fn write_control(&mut self, value: u32, now_ns: u64) {
        if !self.unlocked() || self.busy() {
            return;
        }
        if value & CR_LOCK != 0 {
            self.key.lock();
            self.control = value & CR_STORED;
            return;
        }
        self.control = value & CR_STORED;
        if value & CR_STRT != 0 {
            self.start_erase(now_ns);
        }
    }

    fn start_erase(&mut self, now_ns: u64) {
        let psize = self.psize();
        if self.control & CR_MER != 0 {
            if self.read_protected() || self.loaded_options >> OPTCR_NWRP_SHIFT & 0xFFF != 0xFFF {
                self.status |= SR_WRPERR;
                return;
            }
            let effect = FlashEffect::Erase {
                address: FLASH_BASE,
                length: self.flash_size(),
            };
            let duration = self.timing.mass_erase_ns[psize];
            self.start(Work::Array(effect), duration, now_ns);
        } else if self.control & CR_SER != 0 {
            let sector = ((self.control & CR_SNB) >> CR_SNB_SHIFT) as usize;
            let Some(&size) = self.sectors.get(sector) else {
                self.status |= SR_PGSERR;
                return;
            };
            if self.sector_protected(sector) {
                self.status |= SR_WRPERR;
                return;
            }
            let address = FLASH_BASE + self.sectors[..sector].iter().sum::<u32>();
            let duration = match size {
                0x4000 => self.timing.erase_16k_ns[psize],
                0x1_0000 => self.timing.erase_64k_ns[psize],
                _ => self.timing.erase_128k_ns[psize],
            };
            let effect = FlashEffect::Erase {
                address,
                length: size,
            };
            self.start(Work::Array(effect), duration, now_ns);
        }
    }

    fn sector_protected(&self, sector: usize) -> bool {
        self.read_protected() || self.loaded_options >> (OPTCR_NWRP_SHIFT + sector as u32) & 1 == 0
    }

    fn sector_of(&self, offset: u32) -> Option<usize> {
        let mut start = 0;
        for (index, size) in self.sectors.iter().enumerate() {
            if offset < start + size {
                return Some(index);
            }
            start += size;
        }
        None
    }

    fn write_option_control(&mut self, value: u32, now_ns: u64) {
        if !self.option_key.is_unlocked() || self.busy() {
            return;
        }
        self.option_control = value & !(OPTCR_OPTLOCK | OPTCR_OPTSTRT);
        if value & OPTCR_OPTLOCK != 0 {
            self.option_key.lock();
            return;
        }
        if value & OPTCR_OPTSTRT == 0 || self.read_protection() == RDP_LEVEL_2 {
            return;
        }
        let new_rdp = (self.option_control >> OPTCR_RDP_SHIFT) as u8;
        let mass_erase = self.read_protected() && new_rdp == RDP_LEVEL_0;
        let psize = self.psize();
        let mut duration = self.timing.erase_16k_ns[psize];
        if mass_erase {
            duration += self.timing.mass_erase_ns[psize];
        }
        let work = Work::Options {
            value: self.option_control,
            mass_erase,
        };
        self.start(work, duration, now_ns);
    }
}

impl Controller for FlashController {
    fn busy_until_ns(&self) -> Option<u64> {
        self.operation.until_ns()
    }

    /// What the controller did since the last call (benchmarks).
    fn take_activity(&mut self) -> crate::soc::flash::FlashActivity {
        self.operation.take_activity()
    }

    fn complete(&mut self, now_ns: u64) -> Option<FlashEffect> {
        let work = self.operation.take_due(now_ns)?;
        self.finish(work)
    }

    /// A write of `bytes` at `address` in the array; `current` holds the bytes there now.
    fn write_array(
        &mut self,
        address: u32,
        bytes: u32,
        value: u32,
        current: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        if self.busy() {
            return Err(FlashError::Busy);
        }
        let programming = self.control & (CR_PG | CR_SER | CR_MER) == CR_PG;
        if !self.unlocked() || !programming || self.status & SR_PROGRAM_ERRORS != 0 {
            self.status |= SR_PGSERR;
            return Ok(());
        }
        let psize_bytes = 1u32 << self.psize();
        if bytes != psize_bytes {
            self.status |= SR_PGPERR;
            return Ok(());
        }
        if !address.is_multiple_of(bytes) {
            self.status |= SR_PGAERR;
            return Ok(());
        }
        let offset = address - FLASH_BASE;
        let Some(sector) = self.sector_of(offset) else {
            return Err(FlashError::Fault);
        };
        if self.sector_protected(sector) {
            self.status |= SR_WRPERR;
            return Ok(());
        }
        let programmed = (value & current).to_le_bytes();
        let effect = FlashEffect::Program {
            address,
            bytes: programmed[..bytes as usize].to_vec(),
        };
        self.start(Work::Array(effect), self.timing.program_ns, now_ns);
        Ok(())
    }

    fn read_protected(&self) -> bool {
        self.read_protection() != RDP_LEVEL_0
    }
}
