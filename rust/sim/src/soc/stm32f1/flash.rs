//! The flash program/erase controller (FPEC) and the option bytes (RM0008 3.3 and 3.4,
//! PM0075 "STM32F10xxx Flash memory microcontrollers" programming manual).
//!
//! The flash array itself lives in the core's memory; this controller decides what an
//! access means and hands back a [`FlashEffect`] to apply when an operation ends.
//!
//! What is modelled:
//! - KEYR/OPTKEYR key sequences; a wrong key answers a bus error and locks the FPEC until
//!   the next reset (PM0075 2.3.1 "Any wrong sequence locks up the FPEC and FLASH_CR
//!   register until the next reset ... a bus error is detected").
//! - Half-word programming with PG. A word write with PG programs its two half-words one
//!   after the other (2 x tPROG), as the AHB-to-flash interface splits a 32-bit access into
//!   half-words; a byte write is refused with a bus error and PGERR (programming is 16-bit
//!   only, PM0075 2.3.3).
//! - PGERR when the half-word is not erased (0xFFFF) unless the value written is 0x0000
//!   (PM0075 2.3.3 "... except if the value to be written is 0x0000"); WRPRTERR when the
//!   page is write-protected by the WRP option bytes loaded at the last reset.
//! - Page erase (PER, AR, STRT), mass erase (MER, STRT; it ignores WRP here), option byte
//!   erase and program (OPTWRE from OPTKEYR, OPTER/OPTPG); the option bytes reach OBR and
//!   WRPR at the next reset, as the option byte loader does (RM0008 3.4.3).
//! - Option byte programming as PM0075 2.5 describes it: the FPEC writes the complement of
//!   the low byte into the high byte; a byte not erased is skipped with a WRPRTERR
//!   warning; programming RDP to 0xA5 while read protection is in force (OBR.RDPRT)
//!   mass-erases the main flash first.
//! - BSY for the datasheet time of each operation; EOP when it ends; SR error and EOP
//!   flags write-1-to-clear. Reading or writing the array while BSY stalls the bus.
//! - Not modelled: read protection itself (RDP only shows in OBR.RDPRT), half-cycle and
//!   prefetch (ACR is a plain register), interrupts (EOPIE/ERRIE are stored).

use super::FlashTiming;
use crate::soc::flash::{Busy, Controller, KEYS, KeyLock, KeyWhileUnlocked};
pub use crate::soc::{FLASH_BASE, FlashEffect, FlashError};

pub const FPEC_BASE: u32 = 0x4002_2000;
pub const OPTION_BYTES_BASE: u32 = 0x1FFF_F800;
pub const OPTION_BYTE_COUNT: usize = 8;

/// FPEC register offsets (RM0008 3.4).
pub const ACR: u32 = 0x00;
pub const KEYR: u32 = 0x04;
pub const OPTKEYR: u32 = 0x08;
pub const SR: u32 = 0x0C;
pub const CR: u32 = 0x10;
pub const AR: u32 = 0x14;
pub const OBR: u32 = 0x1C;
pub const WRPR: u32 = 0x20;

/// FLASH_KEYR / FLASH_OPTKEYR keys (RM0008 3.3.1, PM0075 2.3.1).
pub const KEY1: u32 = KEYS[0];
pub const KEY2: u32 = KEYS[1];

/// FLASH_SR bits (RM0008 3.4.3 / PM0075 3.4).
pub const SR_BSY: u32 = 1 << 0;
pub const SR_PGERR: u32 = 1 << 2;
pub const SR_WRPRTERR: u32 = 1 << 4;
pub const SR_EOP: u32 = 1 << 5;
const SR_CLEARABLE: u32 = SR_PGERR | SR_WRPRTERR | SR_EOP;

/// FLASH_CR bits (PM0075 3.5).
pub const CR_PG: u32 = 1 << 0;
pub const CR_PER: u32 = 1 << 1;
pub const CR_MER: u32 = 1 << 2;
pub const CR_OPTPG: u32 = 1 << 4;
pub const CR_OPTER: u32 = 1 << 5;
pub const CR_STRT: u32 = 1 << 6;
pub const CR_LOCK: u32 = 1 << 7;
pub const CR_OPTWRE: u32 = 1 << 9;
pub const CR_ERRIE: u32 = 1 << 10;
pub const CR_EOPIE: u32 = 1 << 12;
const CR_STORED: u32 = CR_PG | CR_PER | CR_MER | CR_OPTPG | CR_OPTER | CR_ERRIE | CR_EOPIE;

/// FLASH_ACR reset value: LATENCY 0, HLFCYA 0, PRFTBE 1, PRFTBS 1 (RM0008 3.4.1).
const ACR_RESET: u32 = 0x30;

/// Option bytes as shipped (RM0008 table 7 / PM0075 2.5): RDP 0xA5 (no read protection),
/// every other byte 0xFF; each half-word holds the byte and its complement.
const OPTION_BYTES_AS_SHIPPED: [u16; OPTION_BYTE_COUNT] = [
    0x5AA5, 0x00FF, 0x00FF, 0x00FF, 0x00FF, 0x00FF, 0x00FF, 0x00FF,
];
/// RDP value that leaves the flash readable (PM0075 2.4.1 "Read protection").
const RDP_UNPROTECTED: u8 = 0xA5;
/// FLASH_OBR.RDPRT: read protection loaded at the last reset (RM0008 3.4.3).
const OBR_RDPRT: u32 = 1 << 1;
/// Every WRP bit protects 4 KB; the last bit protects the rest (PM0075 2.4.2).
const WRP_BLOCK: u32 = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Work {
    Array(FlashEffect),
    EraseOptions,
    ProgramOption {
        index: usize,
        value: u8,
        /// Lifting read protection: the main flash is mass-erased first (PM0075 2.5).
        mass_erase: bool,
    },
}

#[derive(Clone, Debug)]
pub struct FlashController {
    timing: FlashTiming,
    flash_size: u32,
    page_size: u32,
    access_control: u32,
    status: u32,
    control: u32,
    address: u32,
    key: KeyLock,
    option_key_first_written: bool,
    operation: Busy<Work>,
    option_bytes: [u16; OPTION_BYTE_COUNT],
    loaded_option_register: u32,
    loaded_write_protection: u32,
}

impl FlashController {
    pub fn new(timing: FlashTiming, flash_size: u32, page_size: u32) -> Self {
        let mut controller = FlashController {
            timing,
            flash_size,
            page_size,
            access_control: ACR_RESET,
            status: 0,
            control: CR_LOCK,
            address: 0,
            key: KeyLock::new(KEYS, KeyWhileUnlocked::Ignored),
            option_key_first_written: false,
            operation: Busy::default(),
            option_bytes: OPTION_BYTES_AS_SHIPPED,
            loaded_option_register: 0,
            loaded_write_protection: 0,
        };
        controller.load_option_bytes();
        controller
    }

    /// A system reset: registers to reset values, LOCK set, the option bytes reloaded. An
    /// operation in progress is finished at once (its effect is returned) rather than
    /// left half-done.
    pub fn reset(&mut self) -> Option<FlashEffect> {
        let effect = self.complete_now();
        self.access_control = ACR_RESET;
        self.status = 0;
        self.control = CR_LOCK;
        self.address = 0;
        self.key.reset();
        self.option_key_first_written = false;
        self.load_option_bytes();
        effect
    }

    /// The option byte loader (RM0008 3.4.3 "OBR" and "WRPR").
    fn load_option_bytes(&mut self) {
        let mut error = false;
        let mut byte = |index: usize| {
            let half = self.option_bytes[index];
            let (low, high) = (half as u8, (half >> 8) as u8);
            if low != !high {
                error = true;
                return 0xFF;
            }
            low
        };
        let read_protected = byte(0) != RDP_UNPROTECTED;
        let user = byte(1) as u32;
        let data0 = byte(2) as u32;
        let data1 = byte(3) as u32;
        let protection = (4..8).fold(0u32, |word, index| {
            word | (byte(index) as u32) << (8 * (index - 4))
        });
        self.loaded_write_protection = protection;
        self.loaded_option_register =
            (error as u32) | (read_protected as u32) << 1 | user << 2 | data0 << 10 | data1 << 18;
    }

    pub fn busy(&self) -> bool {
        self.operation.is_busy()
    }

    pub fn is_unlocked(&self) -> bool {
        self.key.is_unlocked()
    }

    /// Finish an operation now, whatever the time (a core access that must wait).
    pub fn complete_now(&mut self) -> Option<FlashEffect> {
        let work = self.operation.take()?;
        self.finish(work)
    }

    fn finish(&mut self, work: Work) -> Option<FlashEffect> {
        self.status |= SR_EOP;
        match work {
            Work::Array(effect) => Some(effect),
            Work::EraseOptions => {
                self.option_bytes = [0xFFFF; OPTION_BYTE_COUNT];
                None
            }
            Work::ProgramOption {
                index,
                value,
                mass_erase,
            } => {
                self.option_bytes[index] = u16::from(value) | u16::from(!value) << 8;
                mass_erase.then_some(FlashEffect::Erase {
                    address: FLASH_BASE,
                    length: self.flash_size,
                })
            }
        }
    }

    fn start(&mut self, work: Work, duration_ns: u64, now_ns: u64) {
        self.operation.start(work, duration_ns, now_ns);
    }

    /// A register as software reads it (no read side effects in the FPEC).
    pub fn read_register(&self, offset: u32) -> Option<u32> {
        let value = match offset {
            ACR => self.access_control,
            KEYR | OPTKEYR => 0,
            SR => self.status | if self.busy() { SR_BSY } else { 0 },
            CR => self.read_control(),
            AR => self.address,
            OBR => self.loaded_option_register,
            WRPR => self.loaded_write_protection,
            0x18 => 0,
            _ => return None,
        };
        Some(value)
    }

    fn read_control(&self) -> u32 {
        let locked = if self.is_unlocked() { 0 } else { CR_LOCK };
        let started = if self.busy() { CR_STRT } else { 0 };
        (self.control & !CR_LOCK) | locked | started
    }

    pub fn write_register(
        &mut self,
        offset: u32,
        value: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        match offset {
            ACR => self.access_control = value & 0x3F,
            KEYR => return self.key.write(value),
            OPTKEYR => return self.write_option_key(value),
            SR => self.status &= !(value & SR_CLEARABLE),
            CR => self.write_control(value, now_ns),
            AR => {
                if self.is_unlocked() {
                    self.address = value;
                }
            }
            OBR | WRPR | 0x18 => {}
            _ => return Err(FlashError::Fault),
        }
        Ok(())
    }

    /// OPTKEYR takes the same keys once the FPEC is unlocked and then sets OPTWRE
    /// (PM0075 2.5.1); a wrong key locks the FPEC like a wrong KEYR key.
    fn write_option_key(&mut self, value: u32) -> Result<(), FlashError> {
        if !self.is_unlocked() {
            return Err(FlashError::Fault);
        }
        match (self.option_key_first_written, value) {
            (false, KEY1) => self.option_key_first_written = true,
            (true, KEY2) => {
                self.option_key_first_written = false;
                self.control |= CR_OPTWRE;
            }
            _ => {
                self.option_key_first_written = false;
                self.control &= !CR_OPTWRE;
                self.key.lock_until_reset();
                return Err(FlashError::Fault);
            }
        }
        Ok(())
    }

    fn write_control(&mut self, value: u32, now_ns: u64) {
        if !self.is_unlocked() {
            return;
        }
        if value & CR_LOCK != 0 {
            self.key.lock();
            self.control &= !(CR_OPTWRE | CR_STORED);
            return;
        }
        let option_write_enabled = self.control & CR_OPTWRE != 0 && value & CR_OPTWRE != 0;
        self.control = (value & CR_STORED) | if option_write_enabled { CR_OPTWRE } else { 0 };
        if value & CR_STRT != 0 && !self.busy() {
            self.start_erase(now_ns);
        }
    }

    fn start_erase(&mut self, now_ns: u64) {
        let timing = self.timing;
        if self.control & CR_MER != 0 {
            let effect = FlashEffect::Erase {
                address: FLASH_BASE,
                length: self.flash_size,
            };
            self.start(Work::Array(effect), timing.mass_erase_ns, now_ns);
        } else if self.control & CR_PER != 0 {
            self.start_page_erase(now_ns);
        } else if self.control & CR_OPTER != 0 && self.control & CR_OPTWRE != 0 {
            self.start(Work::EraseOptions, timing.page_erase_ns, now_ns);
        }
    }

    fn start_page_erase(&mut self, now_ns: u64) {
        let Some(offset) = self.array_offset(self.address) else {
            // An address outside the array erases nothing.
            self.status |= SR_EOP;
            return;
        };
        if self.is_write_protected(offset) {
            self.status |= SR_WRPRTERR;
            return;
        }
        let page = offset - offset % self.page_size;
        let effect = FlashEffect::Erase {
            address: FLASH_BASE + page,
            length: self.page_size,
        };
        self.start(Work::Array(effect), self.timing.page_erase_ns, now_ns);
    }

    /// Offset in the array of an address in the array or in its alias at 0.
    fn array_offset(&self, address: u32) -> Option<u32> {
        let offset = if address >= FLASH_BASE {
            address - FLASH_BASE
        } else {
            address
        };
        (offset < self.flash_size).then_some(offset)
    }

    fn is_write_protected(&self, offset: u32) -> bool {
        let bit = (offset / WRP_BLOCK).min(31);
        self.loaded_write_protection & (1 << bit) == 0
    }

    /// An option byte as read at 0x1FFF_F800 + 2 * index.
    pub fn option_byte(&self, index: usize) -> Option<u16> {
        self.option_bytes.get(index).copied()
    }

    /// A half-word write to the option bytes: programs the low byte, the FPEC adds the
    /// complement ("The LSB value is automatically complemented into the MSB", PM0075 2.5).
    /// A byte not erased is skipped and WRPRTERR is set (PM0075 2.5: "If not, the program
    /// operation is skipped and a warning is issued by the WRPRTERR bit").
    pub fn write_option_byte(
        &mut self,
        index: usize,
        bytes: u32,
        value: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        if self.busy() {
            return Err(FlashError::Busy);
        }
        if self.control & CR_OPTPG == 0 || self.control & CR_OPTWRE == 0 || !self.is_unlocked() {
            return Err(FlashError::Fault);
        }
        if bytes != 2 || index >= OPTION_BYTE_COUNT {
            self.status |= SR_PGERR;
            return Err(FlashError::Fault);
        }
        if self.option_bytes[index] != 0xFFFF {
            self.status |= SR_WRPRTERR;
            return Ok(());
        }
        let value = value as u8;
        // "When the Flash memory read protection option is changed from protected to
        // unprotected, a Mass Erase of the main Flash memory is performed before
        // reprogramming the read protection option" (PM0075 2.5).
        let mass_erase =
            index == 0 && value == RDP_UNPROTECTED && self.loaded_option_register & OBR_RDPRT != 0;
        let mut duration = self.timing.program_half_word_ns;
        if mass_erase {
            duration += self.timing.mass_erase_ns;
        }
        let work = Work::ProgramOption {
            index,
            value,
            mass_erase,
        };
        self.start(work, duration, now_ns);
        Ok(())
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

    /// Finish the operation whose time has come; its effect on the array, if any.
    fn complete(&mut self, now_ns: u64) -> Option<FlashEffect> {
        let work = self.operation.take_due(now_ns)?;
        self.finish(work)
    }

    /// A write to the flash array at `address` (in 0x0800_0000..). `current` holds the
    /// half-words there now, low first (the second is used by word writes).
    fn write_array(
        &mut self,
        address: u32,
        bytes: u32,
        value: u32,
        current: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        let current = [current as u16, (current >> 16) as u16];
        if self.busy() {
            return Err(FlashError::Busy);
        }
        if self.control & CR_PG == 0 || !self.is_unlocked() {
            return Err(FlashError::Fault);
        }
        if bytes == 1 || !address.is_multiple_of(2) {
            self.status |= SR_PGERR;
            return Err(FlashError::Fault);
        }
        let offset = self.array_offset(address).ok_or(FlashError::Fault)?;
        if self.is_write_protected(offset) {
            self.status |= SR_WRPRTERR;
            return Ok(());
        }
        let halves = (bytes / 2) as usize;
        let programmable = |index: usize| {
            let wanted = (value >> (16 * index)) as u16;
            current[index] == 0xFFFF || wanted == 0
        };
        if !(0..halves).all(programmable) {
            self.status |= SR_PGERR;
            return Ok(());
        }
        let effect = FlashEffect::Program {
            address: FLASH_BASE + offset,
            bytes: value.to_le_bytes()[..bytes as usize].to_vec(),
        };
        let duration = self.timing.program_half_word_ns * halves as u64;
        self.start(Work::Array(effect), duration, now_ns);
        Ok(())
    }
}
