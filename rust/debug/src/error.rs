//! Session errors; the Display text is what a user sees, so it says what to do, in words
//! that fit a gdb user and a Python user alike (a front end may add its own hint, as the
//! Python binding does with the calls to make).

use core::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    Adi(adi::Error),
    Core(cortexm::Error),
    Chip(chips::Error),
    /// The scan found no Cortex-M target.
    NoTargets,
    /// No scan has been done, or its wire was released.
    NotScanned,
    /// No target attached.
    NotAttached,
    AlreadyAttached,
    /// Attach by number: no such entry in the scan list (1-based).
    NoSuchTarget(usize),
    TooManyBreakpoints,
    Algorithm(algo::Error),
    /// The algorithm's ProgramPage block is larger than the flash buffer (16 KiB) or does
    /// not divide its sectors.
    AlgorithmPage(u32),
    /// No RAM region known to run a flash algorithm in: give one.
    NoAlgorithmRam,
    /// An RTT read or write asked for could not be served.
    Rtt(crate::rtt::Unserved),
    /// An erase request that covers only part of a flash sector larger than the flash
    /// buffer (STM32F4 64/128 KiB, STM32H7 128 KiB) whose rest holds data: the chip erases
    /// it whole and the rest could not be kept, so nothing was erased.
    PartialSector {
        start: u32,
        size: u32,
    },
    /// A CMSIS-Pack debug sequence failed (its full text is in the sequence log).
    Sequence(crate::SequenceFailure),
    /// The firmware was built without this subsystem (a board that leaves it out to fit).
    NotBuilt(Feature),
    /// A memory access refused on a part whose Secure debug is not permitted (its AHB5-AP's
    /// SPIDEN low: every transfer is Non-secure, ADIv5.2 C2.6.4): the address is Secure
    /// (or nothing answers there).
    NonSecureRefused {
        address: u32,
    },
    /// After the link was lost, the reconnect found another debug port (DPIDR) or core
    /// (CPUID) than the attached target's: nothing was done to it.
    DifferentTarget {
        what: &'static str,
        attached: u32,
        now: u32,
    },
    /// The target lost power during flash work (a load): the probe reconnected, and the
    /// work under way was dropped.
    FlashWorkDropped,
    /// A halt request or poll met a power loss and the probe reconnected (DPIDR given):
    /// the core was reset by it, and the reconnect halted it.
    PowerLost {
        dpidr: u32,
    },
}

/// A subsystem a build may leave out: a Cargo feature of this crate and of the root
/// package (docs/boards.md lists which board leaves out what).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// CMSIS-Pack debug sequences (the interpreter in crate `sequence`).
    Sequences,
    /// Flash algorithms (CMSIS-Pack FLM, probe-rs; the runner in crate `algo`).
    FlashAlgorithm,
}

impl Feature {
    /// The Cargo feature's name.
    pub const fn name(self) -> &'static str {
        match self {
            Feature::Sequences => "sequences",
            Feature::FlashAlgorithm => "flash-algorithm",
        }
    }

    /// Whether this build has it: a constant, so code behind a `false` is dropped.
    pub const fn built(self) -> bool {
        match self {
            Feature::Sequences => cfg!(feature = "sequences"),
            Feature::FlashAlgorithm => cfg!(feature = "flash-algorithm"),
        }
    }

    /// `Err(NotBuilt)` when this build lacks it.
    pub const fn require(self) -> Result<(), Error> {
        if self.built() {
            Ok(())
        } else {
            Err(Error::NotBuilt(self))
        }
    }

    fn what(self) -> &'static str {
        match self {
            Feature::Sequences => "CMSIS-Pack debug sequences",
            Feature::FlashAlgorithm => "flash algorithms (FLM, probe-rs)",
        }
    }
}

impl From<algo::Error> for Error {
    fn from(error: algo::Error) -> Self {
        match error {
            algo::Error::Adi(error) => Error::Adi(error),
            other => Error::Algorithm(other),
        }
    }
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

impl From<chips::Error> for Error {
    fn from(error: chips::Error) -> Self {
        match error {
            chips::Error::Adi(error) => Error::Adi(error),
            other => Error::Chip(other),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Adi(error) => error.fmt(f),
            Error::Core(error) => error.fmt(f),
            Error::Chip(error) => error.fmt(f),
            Error::NoTargets => write!(
                f,
                "no target found: check wiring and power, then scan again"
            ),
            Error::NotScanned => write!(f, "no scan yet: scan for targets first (SW-DP or JTAG)"),
            Error::NotAttached => write!(f, "no target attached: scan, then attach a target"),
            Error::AlreadyAttached => write!(f, "a target is attached: detach it first"),
            Error::NoSuchTarget(number) => {
                write!(
                    f,
                    "no target number {number} in the scan list (targets count from 1)"
                )
            }
            Error::TooManyBreakpoints => write!(f, "too many software breakpoints"),
            Error::Algorithm(error) => error.fmt(f),
            Error::AlgorithmPage(page) => write!(
                f,
                "flash algorithm page size {page} is not supported: pages of at most 16 KiB \
                 that divide each sector"
            ),
            Error::NoAlgorithmRam => write!(
                f,
                "no RAM known for the flash algorithm on this chip: give its RAM start and size"
            ),
            Error::Rtt(error) => error.fmt(f),
            Error::PartialSector { start, size } => write!(
                f,
                "the erase covers part of the {} KiB flash sector at {start:#010x} whose rest \
                 holds data: erasing would lose it, so nothing was erased; erase the whole \
                 sector ({start:#010x}, length {size:#x})",
                size / 1024
            ),
            Error::Sequence(failure) => failure.fmt(f),
            Error::NotBuilt(feature) => write!(
                f,
                "this firmware was built without {} (Cargo feature '{}'): use a build \
                 that has it (docs/boards.md)",
                feature.what(),
                feature.name()
            ),
            Error::NonSecureRefused { address } => write!(
                f,
                "bus error at {address:#010x}: Secure debug is not permitted on this part \
                 (SPIDEN low), so the debugger reaches Non-secure memory only and this \
                 address is Secure or unmapped"
            ),
            Error::DifferentTarget {
                what,
                attached,
                now,
            } => write!(
                f,
                "a different target answers now ({what} {now:#010x}, the attached target's \
                 {attached:#010x}): scan and attach again"
            ),
            Error::FlashWorkDropped => write!(
                f,
                "target power was lost during flash work; the probe reconnected and dropped \
                 the work under way: load again"
            ),
            Error::PowerLost { dpidr } => write!(
                f,
                "target power was lost: the core was reset; the probe reconnected (DPIDR \
                 {dpidr:#010x}) and halted it"
            ),
        }
    }
}
