//! The nRF52840 non-volatile memory controller (PS v1.7 4.3 "NVMC") with the UICR it
//! writes.
//!
//! What is modelled:
//! - CONFIG.WEN: 0 read-only, 1 write enabled, 2 erase enabled (PS 4.3.9.3). A flash or
//!   UICR write with WEN != 1 is a bus error here (the PS says writes are only allowed
//!   with WEN = 1; what silicon does otherwise is not documented). A write must be an
//!   aligned 32-bit word (PS 4.3.1: "only full 32-bit words ... a byte or half-word write
//!   ... hard fault"): a bus error otherwise. Writing only clears bits.
//! - ERASEPAGE (CONFIG = 2, a page-aligned flash address), ERASEALL (flash and UICR),
//!   ERASEUICR; an erase register written without WEN = 2, or ERASEPAGE with an address
//!   outside flash or not at a page start, does nothing.
//! - READY (and READYNEXT) read 0 while an operation runs. Times (PS 4.3 "Electrical
//!   specification", typical): word write 41 us, page erase 85 ms, ERASEALL 170 ms (the
//!   reference notes mark this last figure uncertain; OpenOCD allows 340 ms), UICR erase
//!   as a page. The debugger's accesses to the flash array stall (SWD WAIT) while busy,
//!   as do a write to an NVMC erase register or to flash while busy.
//! - The CTRL-AP's ERASEALL takes the same path (its ERASEALLSTATUS is "busy").
//! - Not modelled: ERASEPAGEPARTIAL (stored only), the instruction cache counters, the
//!   per-word write limit (nWRITE) before an erase.

use super::super::FlashEffect;
use super::super::FlashError;
use crate::soc::flash::{Busy, Controller};

pub const NVMC_BASE: u32 = 0x4001_E000;
pub const NVMC_SIZE: u32 = 0x1000;
pub const PAGE_SIZE: u32 = 4096;
pub const FLASH_SIZE: u32 = 1024 * 1024;
const UICR_WORDS: usize = 1024;

/// Register offsets (PS 4.3.9).
pub const READY: u32 = 0x400;
pub const READYNEXT: u32 = 0x408;
pub const CONFIG: u32 = 0x504;
pub const ERASEPAGE: u32 = 0x508;
pub const ERASEALL: u32 = 0x50C;
pub const ERASEUICR: u32 = 0x514;

/// CONFIG.WEN values.
pub const WEN_READ_ONLY: u32 = 0;
pub const WEN_WRITE: u32 = 1;
pub const WEN_ERASE: u32 = 2;

const NS_PER_US: u64 = 1_000;
const NS_PER_MS: u64 = 1_000_000;
pub const WRITE_WORD_NS: u64 = 41 * NS_PER_US;
pub const ERASE_PAGE_NS: u64 = 85 * NS_PER_MS;
pub const ERASE_ALL_NS: u64 = 170 * NS_PER_MS;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Work {
    Flash(FlashEffect),
    UicrWord {
        index: usize,
        value: u32,
    },
    EraseUicr,
    /// Flash and UICR (NVMC ERASEALL or CTRL-AP ERASEALL).
    EraseAll,
}

#[derive(Clone, Debug)]
pub struct Nvmc {
    config: u32,
    uicr: Vec<u32>,
    busy: Busy<Work>,
    /// An ERASEALL ended since [`Controller::take_chip_erased`] last asked.
    erased_all: bool,
}

impl Default for Nvmc {
    fn default() -> Self {
        Nvmc {
            config: WEN_READ_ONLY,
            uicr: vec![u32::MAX; UICR_WORDS],
            busy: Busy::default(),
            erased_all: false,
        }
    }
}

impl Nvmc {
    pub fn uicr_word(&self, offset: u32) -> u32 {
        self.uicr
            .get((offset / 4) as usize)
            .copied()
            .unwrap_or(u32::MAX)
    }

    pub fn read_register(&self, offset: u32) -> Option<u32> {
        match offset {
            READY | READYNEXT => Some(u32::from(!self.busy.is_busy())),
            CONFIG => Some(self.config),
            ERASEPAGE | ERASEALL | ERASEUICR => Some(0),
            _ => None,
        }
    }

    /// A register write; None for registers not modelled (plain storage).
    pub fn write_register(
        &mut self,
        offset: u32,
        value: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        let erase = self.config == WEN_ERASE;
        let work = match offset {
            CONFIG => {
                self.config = value & 0x3;
                return Some(Ok(()));
            }
            READY | READYNEXT => return Some(Ok(())),
            ERASEPAGE if erase && value < FLASH_SIZE && value.is_multiple_of(PAGE_SIZE) => (
                Work::Flash(FlashEffect::Erase {
                    address: value,
                    length: PAGE_SIZE,
                }),
                ERASE_PAGE_NS,
            ),
            ERASEALL if erase && value & 1 != 0 => (Work::EraseAll, ERASE_ALL_NS),
            ERASEUICR if erase && value & 1 != 0 => (Work::EraseUicr, ERASE_PAGE_NS),
            ERASEPAGE | ERASEALL | ERASEUICR => return Some(Ok(())),
            _ => return None,
        };
        Some(self.start(work.0, now_ns, work.1))
    }

    fn start(&mut self, work: Work, now_ns: u64, duration_ns: u64) -> Result<(), FlashError> {
        if self.busy.is_busy() {
            return Err(FlashError::Busy);
        }
        self.busy.start(work, duration_ns, now_ns);
        Ok(())
    }

    /// The CTRL-AP's ERASEALL: the same erase, CONFIG or not (PS 4.5 CTRL-AP).
    pub fn start_erase_all(&mut self, now_ns: u64) {
        // An operation in progress is cut short: what it changes is erased anyway.
        if let Some(work) = self.busy.take() {
            self.finish(work);
        }
        self.busy.start(Work::EraseAll, ERASE_ALL_NS, now_ns);
    }

    /// Is an ERASEALL running at `now_ns`?
    pub fn erasing_all(&self, now_ns: u64) -> bool {
        matches!(self.busy.until_ns(), Some(end) if end > now_ns)
    }

    fn check_write(&self, address: u32, bytes: u32) -> Result<(), FlashError> {
        if self.busy.is_busy() {
            return Err(FlashError::Busy);
        }
        if bytes != 4 || !address.is_multiple_of(4) || self.config != WEN_WRITE {
            return Err(FlashError::Fault);
        }
        Ok(())
    }

    pub fn write_uicr(
        &mut self,
        offset: u32,
        bytes: u32,
        value: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        self.check_write(offset, bytes)?;
        let index = (offset / 4) as usize;
        self.busy
            .start(Work::UicrWord { index, value }, WRITE_WORD_NS, now_ns);
        Ok(())
    }

    fn finish(&mut self, work: Work) -> Option<FlashEffect> {
        match work {
            Work::Flash(effect) => Some(effect),
            Work::UicrWord { index, value } => {
                if let Some(word) = self.uicr.get_mut(index) {
                    *word &= value;
                }
                None
            }
            Work::EraseUicr => {
                self.uicr.fill(u32::MAX);
                None
            }
            Work::EraseAll => {
                self.uicr.fill(u32::MAX);
                Some(FlashEffect::Erase {
                    address: 0,
                    length: FLASH_SIZE,
                })
            }
        }
    }

    /// A reset: CONFIG to read-only; an operation in progress is finished at once (the
    /// SoC reloads APPROTECT itself).
    pub fn reset(&mut self) -> Option<FlashEffect> {
        self.config = WEN_READ_ONLY;
        self.erased_all = false;
        let work = self.busy.take()?;
        self.finish(work)
    }
}

impl Controller for Nvmc {
    fn busy_until_ns(&self) -> Option<u64> {
        self.busy.until_ns()
    }

    fn take_activity(&mut self) -> crate::soc::flash::FlashActivity {
        self.busy.take_activity()
    }

    fn complete(&mut self, now_ns: u64) -> Option<FlashEffect> {
        let work = self.busy.take_due(now_ns)?;
        self.erased_all |= work == Work::EraseAll;
        self.finish(work)
    }

    /// An ERASEALL erases the UICR, APPROTECT with it (PS 4.4.1).
    fn take_chip_erased(&mut self) -> bool {
        core::mem::take(&mut self.erased_all)
    }

    /// A word write ANDs into the array (PS 4.3).
    fn write_array(
        &mut self,
        address: u32,
        bytes: u32,
        value: u32,
        _current: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        self.check_write(address, bytes)?;
        let effect = FlashEffect::Clear {
            address,
            bytes: value.to_le_bytes().to_vec(),
        };
        self.busy.start(Work::Flash(effect), WRITE_WORD_NS, now_ns);
        Ok(())
    }
}
