//! Flash algorithms: position-independent code that a chip vendor ships to erase and
//! program its flash, loaded into the target's RAM and called there by the probe.
//!
//! Two forms come in, one [`Algorithm`] comes out:
//! - a CMSIS-Pack FLM file, an ELF (`flm`): PrgCode and PrgData, the FlashDevice
//!   description, and the entry points Init, UnInit, EraseSector, EraseChip, ProgramPage,
//!   Verify, BlankCheck as symbols (Open-CMSIS-Pack spec, "Flash Programming");
//! - a probe-rs target description's algorithm (`probe_rs`), its fields already decoded
//!   from the YAML by the host or the Python layer (the probe parses no YAML).
//!
//! `runner` places it in target RAM and calls it (see there).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod flm;
pub mod probe_rs;
pub mod runner;

use core::fmt;

/// The largest algorithm image (code, data and zero-initialised data) the probe keeps.
/// The algorithms of the STM32F1/F4, nRF52 and RP2040 are 0.3 to 4 KiB.
pub const MAX_IMAGE: usize = 16 * 1024;
/// Runs of equal sectors kept from a FlashDevice sector list (a list may hold 512
/// entries; the F4's three sizes are three runs).
pub const MAX_SECTOR_RUNS: usize = 8;
/// Bytes of the device name kept.
pub const MAX_NAME: usize = 48;

/// An algorithm's functions, named as in the FLM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Init,
    UnInit,
    EraseSector,
    EraseChip,
    ProgramPage,
    Verify,
    BlankCheck,
}

impl Function {
    pub fn name(self) -> &'static str {
        match self {
            Function::Init => "Init",
            Function::UnInit => "UnInit",
            Function::EraseSector => "EraseSector",
            Function::EraseChip => "EraseChip",
            Function::ProgramPage => "ProgramPage",
            Function::Verify => "Verify",
            Function::BlankCheck => "BlankCheck",
        }
    }

    pub const ALL: [Function; 7] = [
        Function::Init,
        Function::UnInit,
        Function::EraseSector,
        Function::EraseChip,
        Function::ProgramPage,
        Function::Verify,
        Function::BlankCheck,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    Adi(adi::Error),
    Core(cortexm::Error),
    /// The file or description is not a usable algorithm; says what is wrong.
    Malformed(&'static str),
    /// The image does not fit the probe's buffer.
    TooLarge {
        bytes: usize,
    },
    /// Image, page buffer and stack do not fit the RAM given for the algorithm.
    NoRoom {
        needed: u32,
        available: u32,
    },
    /// The function did not return in time; the core was halted.
    Timeout {
        function: Function,
        millis: u32,
        pc: u32,
    },
    /// The function returned an error code (r0).
    Failed {
        function: Function,
        code: u32,
        address: u32,
    },
    /// The core halted somewhere other than the return breakpoint (a fault, a lockup).
    Stopped {
        function: Function,
        pc: u32,
    },
    /// Verify found a difference at this address.
    VerifyFailed {
        address: u32,
    },
    /// The address range is not inside the algorithm's flash device.
    OutsideDevice {
        address: u32,
    },
    /// The core is running, or locked up: the algorithm runs only on a halted core.
    NotHalted,
}

impl From<adi::Error> for Error {
    fn from(error: adi::Error) -> Self {
        Error::Adi(error)
    }
}

impl From<cortexm::Error> for Error {
    fn from(error: cortexm::Error) -> Self {
        match error {
            cortexm::Error::Adi(error) => Error::Adi(error),
            other => Error::Core(other),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Adi(error) => error.fmt(f),
            Error::Core(error) => error.fmt(f),
            Error::Malformed(what) => write!(f, "not a usable flash algorithm: {what}"),
            Error::TooLarge { bytes } => write!(
                f,
                "flash algorithm too large: {bytes} bytes of code and data, the probe keeps at most {MAX_IMAGE}"
            ),
            Error::NoRoom { needed, available } => write!(
                f,
                "flash algorithm does not fit the target's RAM: it needs {needed} bytes (code, \
                 data, a page buffer, stack), {available} are given"
            ),
            Error::Timeout {
                function,
                millis,
                pc,
            } => write!(
                f,
                "flash algorithm {} did not return within {millis} ms; the core was halted \
                 at 0x{pc:08x}",
                function.name()
            ),
            Error::Failed {
                function,
                code,
                address,
            } => write!(
                f,
                "flash algorithm {} failed at 0x{address:08x} (returned {code})",
                function.name()
            ),
            Error::Stopped { function, pc } => write!(
                f,
                "flash algorithm {} stopped at 0x{pc:08x} instead of returning (a fault?); \
                 the core is halted",
                function.name()
            ),
            Error::VerifyFailed { address } => {
                write!(
                    f,
                    "flash algorithm Verify: flash differs at 0x{address:08x}"
                )
            }
            Error::OutsideDevice { address } => {
                write!(f, "0x{address:08x} is outside the flash algorithm's device")
            }
            Error::NotHalted => write!(
                f,
                "the core is running or locked up: halt it before running a flash algorithm"
            ),
        }
    }
}

/// One run of equal sectors: `size` bytes each from `offset` (from the device start) up
/// to the next run, or the end of the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectorRun {
    pub size: u32,
    pub offset: u32,
}

/// What the algorithm says about its flash (the FLM's FlashDevice, probe-rs's
/// flash_properties).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlashDevice {
    pub name: heapless::String<MAX_NAME>,
    pub start: u32,
    pub size: u32,
    /// ProgramPage's block: the largest size one call programs.
    pub page_size: u32,
    pub erased: u8,
    pub program_timeout_ms: u32,
    pub erase_timeout_ms: u32,
    pub sectors: heapless::Vec<SectorRun, MAX_SECTOR_RUNS>,
}

impl FlashDevice {
    pub const fn new() -> Self {
        Self {
            name: heapless::String::new(),
            start: 0,
            size: 0,
            page_size: 0,
            erased: 0xFF,
            program_timeout_ms: 0,
            erase_timeout_ms: 0,
            sectors: heapless::Vec::new(),
        }
    }

    /// One past the last byte.
    pub fn end(&self) -> u64 {
        u64::from(self.start) + u64::from(self.size)
    }

    pub fn contains(&self, address: u32, length: u32) -> bool {
        address >= self.start && u64::from(address) + u64::from(length) <= self.end()
    }

    /// The sector holding `address`: (start, size).
    pub fn sector_at(&self, address: u32) -> Option<(u32, u32)> {
        if !self.contains(address, 1) {
            return None;
        }
        let offset = address - self.start;
        let run = self.sectors.iter().rev().find(|run| run.offset <= offset)?;
        let start = run.offset + (offset - run.offset) / run.size * run.size;
        Some((self.start + start, run.size))
    }

    /// Each run as (start address, length, sector size).
    pub fn runs(&self) -> impl Iterator<Item = (u32, u32, u32)> + '_ {
        self.sectors.iter().enumerate().map(|(index, run)| {
            let end = self
                .sectors
                .get(index + 1)
                .map_or(self.size, |next| next.offset);
            (self.start + run.offset, end - run.offset, run.size)
        })
    }

    /// Check what the runner relies on: a page size, sectors in order that tile the
    /// device in whole sectors.
    fn check(&self) -> Result<(), Error> {
        if self.size == 0 || self.end() > 1 << 32 {
            return Err(Error::Malformed("the device size is 0 or passes 4 GiB"));
        }
        if self.page_size == 0 || self.page_size > self.size {
            return Err(Error::Malformed(
                "the page size is 0 or larger than the device",
            ));
        }
        if self.sectors.first().is_none_or(|first| first.offset != 0) {
            return Err(Error::Malformed(
                "the sector list does not start at offset 0",
            ));
        }
        for (index, run) in self.sectors.iter().enumerate() {
            let end = self
                .sectors
                .get(index + 1)
                .map_or(self.size, |next| next.offset);
            if run.size == 0 || end <= run.offset || !(end - run.offset).is_multiple_of(run.size) {
                return Err(Error::Malformed(
                    "the sector list is out of order or does not tile the device",
                ));
            }
        }
        Ok(())
    }
}

impl Default for FlashDevice {
    fn default() -> Self {
        Self::new()
    }
}

/// The entry points, as offsets into the image with the Thumb bit as the file gives it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entries {
    pub init: Option<u32>,
    pub uninit: Option<u32>,
    pub erase_sector: u32,
    pub erase_chip: Option<u32>,
    pub program_page: u32,
    pub verify: Option<u32>,
    pub blank_check: Option<u32>,
}

impl Entries {
    pub fn get(&self, function: Function) -> Option<u32> {
        match function {
            Function::Init => self.init,
            Function::UnInit => self.uninit,
            Function::EraseSector => Some(self.erase_sector),
            Function::EraseChip => self.erase_chip,
            Function::ProgramPage => Some(self.program_page),
            Function::Verify => self.verify,
            Function::BlankCheck => self.blank_check,
        }
    }
}

/// A loaded algorithm: its image as it goes into target RAM (code, initialised data,
/// zeroed data), where its data starts (R9, the static base, under RWPI), its entry
/// points and its flash device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Algorithm {
    pub image: heapless::Vec<u8, MAX_IMAGE>,
    pub entries: Entries,
    /// Offset of the data in the image.
    pub static_base: u32,
    pub device: FlashDevice,
}

impl Default for Algorithm {
    fn default() -> Self {
        Self::new()
    }
}

impl Algorithm {
    pub const fn new() -> Self {
        Self {
            image: heapless::Vec::new(),
            entries: Entries {
                init: None,
                uninit: None,
                erase_sector: 0,
                erase_chip: None,
                program_page: 0,
                verify: None,
                blank_check: None,
            },
            static_base: 0,
            device: FlashDevice::new(),
        }
    }

    /// Empty: nothing loaded.
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    pub fn is_loaded(&self) -> bool {
        !self.image.is_empty()
    }

    /// Entry points inside the code and a sane device; called once the fields are in.
    fn check(&self) -> Result<(), Error> {
        self.device.check()?;
        let length = self.image.len() as u32;
        for function in Function::ALL {
            if let Some(entry) = self.entries.get(function)
                && (entry & !1) >= length
            {
                return Err(Error::Malformed("an entry point is outside the code"));
            }
        }
        if self.static_base > length {
            return Err(Error::Malformed("the data section is outside the image"));
        }
        Ok(())
    }
}

/// Where a file's bytes come from: memory, or a buffer read a piece at a time (a Python
/// object, a file), so a 100 KB FLM with debug information needs no 100 KB of probe RAM.
pub trait Source {
    fn len(&self) -> usize;
    /// Fill `out` from `offset`; false if that passes the end.
    fn read_at(&mut self, offset: usize, out: &mut [u8]) -> bool;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Source for &[u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn read_at(&mut self, offset: usize, out: &mut [u8]) -> bool {
        match offset
            .checked_add(out.len())
            .and_then(|end| self.get(offset..end))
        {
            Some(bytes) => {
                out.copy_from_slice(bytes);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The STM32F4's 1 MB: 4 x 16 KB, 64 KB, 7 x 128 KB (RM0090 table 5).
    fn f4() -> FlashDevice {
        let mut device = FlashDevice::new();
        device.start = 0x0800_0000;
        device.size = 0x10_0000;
        device.page_size = 1024;
        for (size, offset) in [(0x4000, 0), (0x1_0000, 0x1_0000), (0x2_0000, 0x2_0000)] {
            device.sectors.push(SectorRun { size, offset }).unwrap();
        }
        device
    }

    #[test]
    fn sectors_are_found_in_their_runs() {
        let device = f4();
        device.check().unwrap();
        assert_eq!(device.sector_at(0x0800_0000), Some((0x0800_0000, 0x4000)));
        assert_eq!(device.sector_at(0x0800_7FFF), Some((0x0800_4000, 0x4000)));
        assert_eq!(device.sector_at(0x0801_0000), Some((0x0801_0000, 0x1_0000)));
        assert_eq!(device.sector_at(0x080F_FFFF), Some((0x080E_0000, 0x2_0000)));
        assert_eq!(device.sector_at(0x0810_0000), None);
        assert_eq!(device.sector_at(0x07FF_FFFF), None);
        let runs: Vec<_> = device.runs().collect();
        assert_eq!(
            runs,
            [
                (0x0800_0000, 0x1_0000, 0x4000),
                (0x0801_0000, 0x1_0000, 0x1_0000),
                (0x0802_0000, 0xE_0000, 0x2_0000)
            ]
        );
    }

    #[test]
    fn a_device_that_does_not_tile_is_refused() {
        let mut device = f4();
        device.size = 0x10_0001;
        assert!(device.check().is_err());
        let mut device = f4();
        device.sectors[1].offset = 0x8000; // 16 KB sectors stop halfway
        device.sectors[2].offset = 0x1_8000;
        assert!(device.check().is_err());
        let mut device = f4();
        device.page_size = 0;
        assert!(device.check().is_err());
        let mut device = f4();
        device.sectors.clear();
        assert!(device.check().is_err());
        let mut device = f4();
        device.start = 0xFFFF_0000;
        assert!(device.check().is_err());
    }

    #[test]
    fn the_layout_puts_two_buffers_where_they_fit() {
        let mut algorithm = Algorithm::new();
        algorithm.image.resize(0x130, 0).unwrap();
        algorithm.device = f4();
        let layout = runner::Layout::new(&algorithm, 0x2000_0000, 0x5000).unwrap();
        assert_eq!(layout.stub, 0x2000_0000);
        assert_eq!(layout.image, 0x2000_0008);
        assert_eq!(layout.buffers, [0x2000_0138, 0x2000_0538]);
        assert_eq!((layout.buffer_count, layout.stack_top), (2, 0x2000_5000));
        // The page loop after the buffers (44 bytes, two status words), then its slots of
        // a page and two words, as many as fit above the stack, at most 8.
        let page_loop = layout.page_loop.unwrap();
        assert_eq!(
            (page_loop.code, page_loop.status, page_loop.slots),
            (0x2000_0938, 0x2000_0964, 0x2000_0970)
        );
        assert_eq!((page_loop.slot_size, page_loop.slot_count), (0x408, 8));
        let layout = runner::Layout::new(&algorithm, 0x2000_0000, 0x1800).unwrap();
        let page_loop = layout.page_loop.unwrap();
        // (0x1800 - 256 of stack - 0x970) / 0x408 slots.
        assert_eq!(page_loop.slot_count, 3);
        // No room for two slots: ProgramPage by calls.
        let layout = runner::Layout::new(&algorithm, 0x2000_0000, 0x1000).unwrap();
        assert_eq!((layout.buffer_count, layout.page_loop), (2, None));
        // Room for one buffer and the stack only.
        let layout = runner::Layout::new(&algorithm, 0x2000_0000, 0x700).unwrap();
        assert_eq!((layout.buffer_count, layout.page_loop), (1, None));
        assert_eq!(
            runner::Layout::new(&algorithm, 0x2000_0000, 0x400),
            Err(Error::NoRoom {
                needed: 0x538 + 256,
                available: 0x400
            })
        );
    }
}
