//! What chip is behind a Cortex-M core: a registry of family drivers.
//!
//! A family is one module implementing [`Family`]: it identifies its parts (from the
//! DPIDR, CPUID, the ROM table's part number and its own ID registers), describes each
//! part as a [`Part`] (name, memory map with flash regions, mass erase range), erases and
//! programs its flash regions, reports protection and recovers from it, and brings its own
//! monitor commands as {name, handler, help} rows. [`FAMILIES`] lists them; anything no
//! family claims is a generic Cortex-M without flash ([`generic`]).
//!
//! Adding a family: its file, and one line in [`FAMILIES`] (docs/chips.md).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod generic;
#[cfg(test)]
mod left_out;
pub mod memory_map;
#[cfg(feature = "nrf52")]
pub mod nrf52;
#[cfg(feature = "rp2040")]
pub mod rp2040;
#[cfg(feature = "samd21")]
pub mod samd21;
#[cfg(any(feature = "stm32f1", feature = "stm32f4", feature = "stm32h7"))]
mod stm32;
#[cfg(feature = "stm32f1")]
pub mod stm32f1;
#[cfg(feature = "stm32f4")]
pub mod stm32f4;
#[cfg(feature = "stm32h7")]
pub mod stm32h7;
// The memory models of the family tests below and in nrf52.rs, samd21.rs and stm32h7.rs.
#[cfg(all(test, any(feature = "nrf52", feature = "samd21", feature = "stm32h7")))]
mod word_model;
// These tests cover every family.
#[cfg(all(
    test,
    feature = "stm32f1",
    feature = "stm32f4",
    feature = "stm32h7",
    feature = "nrf52",
    feature = "samd21",
    feature = "rp2040"
))]
mod tests;

use adi::Memory;
use core::fmt::{self, Write};
pub use memory_map::{MemoryMap, Region, RegionKind};

/// The families, asked in this order; the first that knows the chip drives it.
/// Each is a Cargo feature of this crate (all on by default).
pub static FAMILIES: &[&dyn Family] = &[
    #[cfg(feature = "stm32f1")]
    &stm32f1::STM32F1,
    #[cfg(feature = "stm32f4")]
    &stm32f4::STM32F4,
    #[cfg(feature = "stm32h7")]
    &stm32h7::STM32H7,
    #[cfg(feature = "nrf52")]
    &nrf52::NRF52,
    #[cfg(feature = "samd21")]
    &samd21::SAMD21,
    #[cfg(feature = "rp2040")]
    &rp2040::RP2040,
];

/// The families this build has, by feature name (for messages and `bmp.help()`).
pub const FAMILY_FEATURES: &[&str] = &[
    #[cfg(feature = "stm32f1")]
    "stm32f1",
    #[cfg(feature = "stm32f4")]
    "stm32f4",
    #[cfg(feature = "stm32h7")]
    "stm32h7",
    #[cfg(feature = "nrf52")]
    "nrf52",
    #[cfg(feature = "samd21")]
    "samd21",
    #[cfg(feature = "rp2040")]
    "rp2040",
];

/// Errors of the flash drivers, in a shape every family shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    Adi(adi::Error),
    /// The flash controller stayed locked after the unlock sequence.
    Locked,
    /// A location was not erased before programming (e.g. STM32F1 PGERR).
    NotErased {
        address: u32,
    },
    /// The page or sector is write protected (e.g. STM32 WRPRTERR/WRPERR).
    WriteProtected {
        address: u32,
    },
    /// The operation did not finish in time.
    Timeout {
        address: u32,
    },
    /// The address range is not inside the chip's flash.
    OutsideFlash {
        address: u32,
    },
    /// This chip has no flash driver.
    NoFlashDriver,
    /// The chip's flash is read protected: `what` (e.g. "RDP level 1"); the monitor
    /// command `command` lifts it, erasing the flash. Nothing was erased.
    Protected {
        what: &'static str,
        command: &'static str,
    },
    /// Protection that no debugger can lift (e.g. STM32 RDP level 2).
    PermanentlyProtected {
        what: &'static str,
    },
    /// A family command given arguments it does not take: its name and what it takes
    /// ("" for nothing).
    Usage {
        command: &'static str,
        arguments: &'static str,
    },
    /// Any other failure of a family, in the family's words, at an address if known.
    Family {
        message: &'static str,
        address: Option<u32>,
    },
}

impl From<adi::Error> for Error {
    fn from(error: adi::Error) -> Self {
        Error::Adi(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Adi(error) => error.fmt(f),
            Error::Locked => write!(f, "flash controller still locked after the unlock sequence"),
            Error::NotErased { address } => {
                write!(f, "flash at 0x{address:08x} not erased before programming")
            }
            Error::WriteProtected { address } => {
                write!(f, "flash at 0x{address:08x} is write protected")
            }
            Error::Timeout { address } => write!(f, "flash operation at 0x{address:08x} timed out"),
            Error::OutsideFlash { address } => write!(f, "0x{address:08x} is not in flash"),
            Error::NoFlashDriver => write!(
                f,
                "no flash driver for this chip (attached as a generic Cortex-M): \
                 flash cannot be written"
            ),
            Error::Protected { what, command } => write!(
                f,
                "the chip is read protected ({what}): 'monitor {command}' lifts it and erases \
                 the whole flash"
            ),
            Error::PermanentlyProtected { what } => write!(
                f,
                "the chip is protected for good ({what}): no debugger can read or write it"
            ),
            Error::Usage {
                command,
                arguments: "",
            } => write!(f, "{command} takes no arguments"),
            Error::Usage { command, arguments } => write!(f, "usage: {command} {arguments}"),
            Error::Family { message, address } => match address {
                Some(address) => write!(f, "{message} (at 0x{address:08x})"),
                None => f.write_str(message),
            },
        }
    }
}

/// What the debug port and core told us, for identification.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub dpidr: u32,
    pub cpuid: u32,
    /// JEP106 designer and part number of the top ROM table (ADIv5.2 D3.3; e.g. ST 0x020
    /// with DEV_ID on STM32s); 0 when unknown.
    pub rom_designer: u16,
    pub rom_part: u16,
}

impl Identity {
    /// CPUID.PARTNO (ARMv7-M B3.2.3): 0xC23 Cortex-M3, 0xC24 M4, 0xC27 M7, 0xC60 M0+.
    pub fn core_part(&self) -> u32 {
        (self.cpuid >> 4) & 0xFFF
    }
}

/// The chip's protection as its family reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// Flash readable and writable by the debugger.
    None,
    /// As [`Error::Protected`]: the command that lifts it (erasing the flash).
    ReadProtected {
        what: &'static str,
        command: &'static str,
    },
    /// As [`Error::PermanentlyProtected`].
    Permanent { what: &'static str },
}

impl Protection {
    /// Ok if the flash may be read and written, else the error that says how to unlock.
    pub fn check(self) -> Result<(), Error> {
        match self {
            Protection::None => Ok(()),
            Protection::ReadProtected { what, command } => Err(Error::Protected { what, command }),
            Protection::Permanent { what } => Err(Error::PermanentlyProtected { what }),
        }
    }
}

/// Runs a family command: the part, its memory, the arguments (trimmed), the output.
pub type CommandHandler = fn(&Part, &mut dyn Memory, &str, &mut dyn Write) -> Result<(), Error>;

/// A family's monitor command: name, arguments, handler and help, as one row (Black Magic
/// Probe's command tables). The handler gets the part, its memory, the arguments (trimmed)
/// and the output for the user.
#[derive(Clone, Copy)]
pub struct Command {
    pub name: &'static str,
    /// What may follow the name, as a usage line shows it ("[erase]"); "": nothing, and
    /// arguments are refused before the handler runs.
    pub arguments: &'static str,
    pub run: CommandHandler,
    pub help: &'static str,
}

/// A family's flash session: what its driver keeps prepared between the erase and program
/// calls of one load (the RP2040: its boot ROM loop running on the core, XIP off), held by
/// the debugger from the first such call to [`Part::end_session`]. That must come before
/// anything that needs the chip as it was: a read of its flash, the core run or stepped, a
/// reset, a detach. Every other family keeps nothing: `Closed`.
// One per attached target, in a no_std crate without a heap: its size is fine unboxed.
#[allow(clippy::large_enum_variant)]
#[derive(Default)]
pub enum Session {
    #[default]
    Closed,
    #[cfg(feature = "rp2040")]
    Rp2040(rp2040::Session),
}

impl Session {
    pub fn is_open(&self) -> bool {
        !matches!(self, Session::Closed)
    }
}

/// A chip family's driver. Stateless: whatever a part needs is in its [`Part`], and what
/// a load keeps prepared is in the [`Session`] its caller holds.
pub trait Family: Sync {
    /// The part behind this core if it is one of this family's; Ok(None) if not. Reads
    /// only registers that are harmless on other chips (the family checks the identity
    /// first).
    fn identify(
        &'static self,
        memory: &mut dyn Memory,
        identity: &Identity,
    ) -> Result<Option<Part>, Error>;

    /// Erase the pages or sectors of `region` that `[address, address + length)` touches.
    fn erase(
        &self,
        part: &Part,
        session: &mut Session,
        memory: &mut dyn Memory,
        region: &Region,
        address: u32,
        length: u32,
    ) -> Result<(), Error>;

    /// Program erased flash of `region`: `address` and `data.len()` are multiples of the
    /// region's write unit. Units holding only the erased value may be skipped.
    fn program(
        &self,
        part: &Part,
        session: &mut Session,
        memory: &mut dyn Memory,
        region: &Region,
        address: u32,
        data: &[u8],
    ) -> Result<(), Error>;

    /// Erase `part.mass_erase`'s range at once.
    fn mass_erase(
        &self,
        part: &Part,
        session: &mut Session,
        memory: &mut dyn Memory,
    ) -> Result<(), Error>;

    /// The flash session ends (also after a failure): the chip as before its first call.
    fn end_session(
        &self,
        _part: &Part,
        session: &mut Session,
        _memory: &mut dyn Memory,
    ) -> Result<(), Error> {
        *session = Session::Closed;
        Ok(())
    }

    /// Flash work is over: lock the controller again.
    fn done(&self, _part: &Part, _memory: &mut dyn Memory) -> Result<(), Error> {
        Ok(())
    }

    /// Read protection in force now.
    fn protection(&self, _part: &Part, _memory: &mut dyn Memory) -> Result<Protection, Error> {
        Ok(Protection::None)
    }

    /// Lift read protection, erasing what the chip erases then (the family's unlock
    /// command runs this). Takes effect as the family says (often at the next reset).
    fn recover(&self, _part: &Part, _memory: &mut dyn Memory) -> Result<(), Error> {
        Err(Error::NoFlashDriver)
    }

    /// Whether this driver writes its flash regions (false: the generic Cortex-M, whose
    /// map only says where flash usually is).
    fn drives_flash(&self) -> bool {
        true
    }

    /// The family's monitor commands.
    fn commands(&self) -> &'static [Command] {
        &[]
    }

    /// The part again once a debugger has attached and halted its core, for what a family
    /// can only learn then (the RP2040's flash size, from the QSPI part's JEDEC ID read
    /// through boot ROM calls); the part as identified by default.
    fn attached(&self, part: &Part, _memory: &mut dyn Memory) -> Result<Part, Error> {
        Ok(*part)
    }

    /// TARGETSEL values of the family's SWD multi-drop DPs (ADIv5.2 B4.3.4), which a scan
    /// tries when no DP answers a plain connect (e.g. the RP2040's two cores).
    fn multidrop_targets(&self) -> &'static [u32] {
        &[]
    }
}

/// Every family's multi-drop TARGETSEL values, in the order of [`FAMILIES`].
pub fn multidrop_targets() -> impl Iterator<Item = u32> {
    FAMILIES
        .iter()
        .flat_map(|family| family.multidrop_targets().iter().copied())
}

/// An identified chip: its family's driver and what the family found out.
#[derive(Clone, Copy)]
pub struct Part {
    pub family: &'static dyn Family,
    /// "STM32F1 medium density", as the scan list shows it.
    pub name: &'static str,
    /// RAM and flash; each flash region has one erase unit size (a family with sectors
    /// of several sizes lists one region per run of equal sectors).
    pub memory_map: MemoryMap,
    /// What `Family::mass_erase` erases (start, length), when the family has a mass erase
    /// at least as fast as erasing two pages: the flash buffer then uses it.
    pub mass_erase: Option<(u32, u32)>,
    /// The family's own identification (e.g. DBGMCU DEV_ID), for its driver.
    pub device: u32,
    /// The family's own variant bits (e.g. "a clone"), for its driver.
    pub variant: u32,
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("name", &self.name)
            .field("memory_map", &self.memory_map)
            .field("device", &self.device)
            .field("variant", &self.variant)
            .finish()
    }
}

impl PartialEq for Part {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.memory_map == other.memory_map
            && self.device == other.device
            && self.variant == other.variant
    }
}

/// A word the chip may refuse to give (a size register a secured part hides): None when
/// the bus refuses it. A wire failure is an error, so a part is never identified from a
/// guess after a fault on the wire (it would get a short memory map).
#[cfg(any(
    feature = "stm32f1",
    feature = "stm32f4",
    feature = "stm32h7",
    feature = "samd21"
))]
pub(crate) fn read_word_if_readable(
    memory: &mut dyn Memory,
    address: u32,
) -> Result<Option<u32>, Error> {
    match memory.read_word(address) {
        Ok(word) => Ok(Some(word)),
        Err(adi::Error::Bus { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

impl Part {
    /// Ask every family in [`FAMILIES`]; a generic Cortex-M if none knows the chip.
    pub fn identify(memory: &mut dyn Memory, identity: Identity) -> Result<Self, Error> {
        for family in FAMILIES {
            if let Some(part) = family.identify(memory, &identity)? {
                return Ok(part);
            }
        }
        Ok(generic::part())
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn memory_map(&self) -> MemoryMap {
        self.memory_map
    }

    /// A family driver writes flash (not the generic Cortex-M).
    pub fn has_flash_driver(&self) -> bool {
        self.memory_map
            .regions()
            .any(|region| region.as_flash().is_some())
    }

    /// The flash region holding `address`.
    pub fn flash_at(&self, address: u32) -> Result<Region, Error> {
        if !self.has_flash_driver() {
            return Err(Error::NoFlashDriver);
        }
        match self.memory_map.flash_at(address) {
            Some(region) => Ok(*region),
            None if self.has_flash_driver() => Err(Error::OutsideFlash { address }),
            None => Err(Error::NoFlashDriver),
        }
    }

    /// Erase what `[address, address + length)` touches, region by region, in a flash
    /// session of its own.
    pub fn erase(&self, memory: &mut dyn Memory, address: u32, length: u32) -> Result<(), Error> {
        self.in_own_session(memory, |session, memory| {
            self.erase_in(session, memory, address, length)
        })
    }

    /// As `erase`, in `session` (opened if closed, left open).
    pub fn erase_in(
        &self,
        session: &mut Session,
        memory: &mut dyn Memory,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        let end = u64::from(address) + u64::from(length);
        let mut at = address;
        while u64::from(at) < end {
            let region = self.flash_at(at)?;
            let region_end = u64::from(region.start) + u64::from(region.length);
            let piece = (end.min(region_end) - u64::from(at)) as u32;
            self.family
                .erase(self, session, memory, &region, at, piece)?;
            at = at.wrapping_add(piece);
            if at == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Program `data` at `address` (erased flash, inside one region, whole write units),
    /// in a flash session of its own.
    pub fn program(&self, memory: &mut dyn Memory, address: u32, data: &[u8]) -> Result<(), Error> {
        self.in_own_session(memory, |session, memory| {
            self.program_in(session, memory, address, data)
        })
    }

    /// As `program`, in `session` (opened if closed, left open).
    pub fn program_in(
        &self,
        session: &mut Session,
        memory: &mut dyn Memory,
        address: u32,
        data: &[u8],
    ) -> Result<(), Error> {
        let region = self.flash_at(address)?;
        let end = u64::from(address) + data.len() as u64;
        if end > u64::from(region.start) + u64::from(region.length) {
            return Err(Error::OutsideFlash {
                address: region.start.wrapping_add(region.length),
            });
        }
        self.family
            .program(self, session, memory, &region, address, data)
    }

    /// The mass erase, in a flash session of its own.
    pub fn mass_erase(&self, memory: &mut dyn Memory) -> Result<(), Error> {
        self.in_own_session(memory, |session, memory| {
            self.mass_erase_in(session, memory)
        })
    }

    /// As `mass_erase`, in `session` (opened if closed, left open).
    pub fn mass_erase_in(
        &self,
        session: &mut Session,
        memory: &mut dyn Memory,
    ) -> Result<(), Error> {
        if !self.has_flash_driver() {
            return Err(Error::NoFlashDriver);
        }
        self.family.mass_erase(self, session, memory)
    }

    /// End `session` if open (also after a failure): the chip as before it.
    pub fn end_session(&self, session: &mut Session, memory: &mut dyn Memory) -> Result<(), Error> {
        if !session.is_open() {
            return Ok(());
        }
        self.family.end_session(self, session, memory)
    }

    /// `work` in a flash session of its own, ended after it whatever the outcome.
    fn in_own_session(
        &self,
        memory: &mut dyn Memory,
        work: impl FnOnce(&mut Session, &mut dyn Memory) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut session = Session::Closed;
        let worked = work(&mut session, memory);
        let ended = self.end_session(&mut session, memory);
        worked.and(ended)
    }

    /// The part as its family sees it with the core halted (`Family::attached`).
    pub fn attached(&self, memory: &mut dyn Memory) -> Result<Part, Error> {
        self.family.attached(self, memory)
    }

    pub fn done(&self, memory: &mut dyn Memory) -> Result<(), Error> {
        self.family.done(self, memory)
    }

    pub fn protection(&self, memory: &mut dyn Memory) -> Result<Protection, Error> {
        self.family.protection(self, memory)
    }

    pub fn commands(&self) -> &'static [Command] {
        self.family.commands()
    }

    /// Run the family's command `name`; None if it has none of that name.
    pub fn command(
        &self,
        memory: &mut dyn Memory,
        name: &str,
        arguments: &str,
        out: &mut dyn Write,
    ) -> Option<Result<(), Error>> {
        let command = self
            .commands()
            .iter()
            .find(|command| command.name == name)?;
        let arguments = arguments.trim();
        if command.arguments.is_empty() && !arguments.is_empty() {
            return Some(Err(Error::Usage {
                command: command.name,
                arguments: "",
            }));
        }
        Some((command.run)(self, memory, arguments, out))
    }
}
