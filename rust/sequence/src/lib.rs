//! CMSIS-Pack debug sequences (Open-CMSIS-Pack spec, "Debug Access Sequences"): the
//! statements a device family pack gives for connecting, resetting and unlocking its chips,
//! run by the probe over a small [`Target`] trait (memory, AP, DP, pins, delay).
//!
//! The probe never sees the pack's XML. `tools/pack` turns a device's `<sequences>` and
//! `<debugvars>` into this text, which keeps the language's statements as they are and
//! writes the XML around them as keywords:
//!
//! ```text
//! debugvars {
//!   __var DbgMCU_CR = 0x7;
//! }
//! sequence DebugCoreStart "Cortex-M4" {      // the string: <sequence Pname=...>, optional
//!   block {
//!     Write32(0xE000EDF0, 0xA05F0001);
//!   }
//!   control if (__traceout & 1) while (Read32(0x40021000) & 2) timeout (1000) {
//!     block { DAP_Delay(10); }
//!   }
//! }
//! ```
//!
//! `control` takes `if`, `while` and `timeout` (µs) in that order, each optional; its body
//! holds `block`s and `control`s, a `block` holds statements, as in the pdsc schema.
//!
//! `block atomic` (pdsc schema, "block": `atomic`) runs its accesses as one batch
//! ([`Target::batch`]) with nothing in between: the statements are read once to collect
//! the accesses (none is made), the batch goes to the target, and the statements are read
//! again with the batch's results to set the variables and say the messages. What the
//! spec forbids in an atomic block is refused when the text is loaded: `Sequence()`,
//! `Query()`, `QueryValue()`, a value read in the block used in it (an access's argument,
//! a condition of `&&`, `||`, `?:`, or a variable it was assigned to), more than
//! [`MAX_ATOMIC_OPERATIONS`] accesses. The batch stops at its first failing access; the
//! error names that access's statement, or with `__errorcontrol` bit 0 set, it and the
//! accesses after it give 0 and `__Result` becomes -1.
//!
//! The text is checked whole when it is loaded ([`Sequences::load`]): syntax, function
//! names and their arguments. It is then interpreted as it is, with no tree built (no heap
//! on the probe): a sequence is found by name, and a `while` goes back to its condition.
//!
//! Semantics (the spec's, with pyOCD's extensions where DFPs rely on them): every value is
//! a u64 (arithmetic wraps; comparisons give 0 or 1; `&&`, `||` and `?:` evaluate only the
//! side they need); a `while` that reaches its timeout ends without an error (the spec
//! says so, and DFPs poll with it), reported as a warning through [`Target::message`]; a
//! `while` with no timeout is stopped with an error after [`MAX_UNTIMED_WHILE_MICROS`]; a
//! failing access aborts the sequence and its callers unless `__errorcontrol` bit 0 is set,
//! when it gives 0 and sets `__Result` to -1 (all ones); x / 0 is an error.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![allow(
    clippy::result_large_err,
    reason = "no heap to box errors into: an error is at most MAX_NAME + MAX_MESSAGE bytes"
)]

mod defaults;
mod lexer;
mod machine;

use core::fmt;
use core::ops::Range;

pub use defaults::STANDARD;

/// Bytes of sequence text kept (an STM32H7 DFP's sequences, comments dropped, are ~6 KB).
pub const TEXT_BYTES: usize = 12 * 1024;
/// Sequences in one description.
pub const MAX_SEQUENCES: usize = 64;
/// Debug variables of one description.
pub const MAX_DEBUGVARS: usize = 32;
/// Variables alive at once (all calls).
pub const MAX_VARIABLES: usize = 64;
/// Characters of a name kept in an error.
pub const MAX_NAME: usize = 32;
/// `control` elements nested (the spec allows 10).
pub const MAX_CONTROL_DEPTH: usize = 10;
/// `Sequence()` calls nested.
pub const MAX_CALL_DEPTH: usize = 8;
/// Parentheses and unary operators nested in one expression (each level is a few stack
/// frames on the probe; DFP expressions nest 3 or 4 deep).
pub const MAX_EXPRESSION_DEPTH: usize = 16;
/// Accesses of one atomic block (each a DAP command a probe would queue).
pub const MAX_ATOMIC_OPERATIONS: usize = 32;
/// A `while` with no timeout (timeout 0: none, per the spec) is stopped after this long.
pub const MAX_UNTIMED_WHILE_MICROS: u64 = 10_000_000;

/// Bytes of an error message kept in [`Fault::Message`].
pub const MAX_MESSAGE: usize = 48;
/// A name as kept in errors (longer ones cut).
pub type Name = heapless::String<MAX_NAME>;

fn name(text: &str) -> Name {
    let mut name = Name::new();
    for character in text.chars() {
        if name.push(character).is_err() {
            break;
        }
    }
    name
}

/// Access sizes of Read8..Read64 and Write8..Write64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    Byte,
    Half,
    Word,
    Double,
}

impl Width {
    pub fn bytes(self) -> u32 {
        match self {
            Width::Byte => 1,
            Width::Half => 2,
            Width::Word => 4,
            Width::Double => 8,
        }
    }
}

/// What `Message(type, ...)` says: 0 information, 1 warning, 2 error (which aborts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    Info,
    Warning,
    Error,
}

/// One debug access of a sequence: what [`Target::perform`] and [`Target::batch`] do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    ReadMemory {
        ap: u8,
        address: u64,
        width: Width,
    },
    WriteMemory {
        ap: u8,
        address: u64,
        width: Width,
        value: u64,
    },
    ReadAp {
        ap: u8,
        register: u8,
    },
    WriteAp {
        ap: u8,
        register: u8,
        value: u32,
    },
    ReadDp {
        register: u8,
    },
    WriteDp {
        register: u8,
        value: u32,
    },
    ReadAccessAp {
        dp: u8,
        address: u64,
    },
    WriteAccessAp {
        dp: u8,
        address: u64,
        value: u32,
    },
    Delay {
        micros: u32,
    },
    WriteAbort {
        value: u32,
    },
    SwjPins {
        output: u8,
        select: u8,
        wait_micros: u32,
    },
    SwjClock {
        hz: u32,
    },
    SwjSequence {
        count: u8,
        bits: u64,
    },
    JtagSequence {
        count: u8,
        tms: bool,
        tdi: u64,
    },
}

/// What the sequences act on: the debug port, its access ports and the target's memory
/// behind them, the probe's pins and its clock. The engine implements it over its debug
/// port (rust/debug); the tests over a model.
pub trait Target {
    /// Why an access failed (the engine's wire or ADI error).
    type Error: fmt::Debug + fmt::Display;

    /// Read8/16/32/64: one access of exactly that size through MEM-AP `ap`.
    fn read_memory(&mut self, ap: u8, address: u64, width: Width) -> Result<u64, Self::Error>;
    fn write_memory(
        &mut self,
        ap: u8,
        address: u64,
        width: Width,
        value: u64,
    ) -> Result<(), Self::Error>;
    /// ReadAP/WriteAP: register `register` (0x00-0xFC; bank in bits 7:4) of AP `ap` (APv1).
    fn read_ap(&mut self, ap: u8, register: u8) -> Result<u32, Self::Error>;
    fn write_ap(&mut self, ap: u8, register: u8, value: u32) -> Result<(), Self::Error>;
    /// ReadDP/WriteDP: DP register `register` (0x0-0xC).
    fn read_dp(&mut self, register: u8) -> Result<u32, Self::Error>;
    fn write_dp(&mut self, register: u8, value: u32) -> Result<(), Self::Error>;
    /// ReadAccessAP/WriteAccessAP: ADIv6 AP space at `address` through DP `dp`.
    fn read_access_ap(&mut self, dp: u8, address: u64) -> Result<u32, Self::Error>;
    fn write_access_ap(&mut self, dp: u8, address: u64, value: u32) -> Result<(), Self::Error>;
    /// DAP_SWJ_Pins: drive the `select`ed pins to `output` (bits: 0 SWCLK/TCK, 1 SWDIO/TMS,
    /// 2 TDI, 3 TDO, 5 nTRST, 7 nRESET), wait up to `wait_micros` for them to read so;
    /// the pins read back, or 0xFFFFFFFF where they cannot be read.
    fn swj_pins(&mut self, output: u8, select: u8, wait_micros: u32) -> Result<u32, Self::Error>;
    /// DAP_SWJ_Clock.
    fn swj_clock(&mut self, hz: u32) -> Result<(), Self::Error>;
    /// DAP_SWJ_Sequence: `count` (1-64) bits of `bits` on SWDIO/TMS, LSB first.
    fn swj_sequence(&mut self, count: u8, bits: u64) -> Result<(), Self::Error>;
    /// DAP_JTAG_Sequence: `count` (1-64) TCK cycles with TMS held, TDI from `tdi`; the TDO
    /// bits.
    fn jtag_sequence(&mut self, count: u8, tms: bool, tdi: u64) -> Result<u64, Self::Error>;
    /// DAP_WriteABORT.
    fn write_abort(&mut self, value: u32) -> Result<(), Self::Error>;
    /// DAP_Delay, and the wait of an idle `while`.
    fn delay_micros(&mut self, micros: u32);
    /// A monotonic clock for `while` timeouts.
    fn now_micros(&mut self) -> u64;
    /// `Message()`, a `while` timeout's warning, `Query()` answered with its default.
    fn message(&mut self, kind: MessageKind, text: &str);

    /// One access by the methods above; its value (0 for a write).
    fn perform(&mut self, operation: &Operation) -> Result<u64, Self::Error> {
        use Operation as O;
        Ok(match *operation {
            O::ReadMemory { ap, address, width } => self.read_memory(ap, address, width)?,
            O::WriteMemory {
                ap,
                address,
                width,
                value,
            } => self.write_memory(ap, address, width, value).map(|()| 0)?,
            O::ReadAp { ap, register } => u64::from(self.read_ap(ap, register)?),
            O::WriteAp {
                ap,
                register,
                value,
            } => self.write_ap(ap, register, value).map(|()| 0)?,
            O::ReadDp { register } => u64::from(self.read_dp(register)?),
            O::WriteDp { register, value } => self.write_dp(register, value).map(|()| 0)?,
            O::ReadAccessAp { dp, address } => u64::from(self.read_access_ap(dp, address)?),
            O::WriteAccessAp { dp, address, value } => {
                self.write_access_ap(dp, address, value).map(|()| 0)?
            }
            O::Delay { micros } => {
                self.delay_micros(micros);
                0
            }
            O::WriteAbort { value } => self.write_abort(value).map(|()| 0)?,
            O::SwjPins {
                output,
                select,
                wait_micros,
            } => u64::from(self.swj_pins(output, select, wait_micros)?),
            O::SwjClock { hz } => self.swj_clock(hz).map(|()| 0)?,
            O::SwjSequence { count, bits } => self.swj_sequence(count, bits).map(|()| 0)?,
            O::JtagSequence { count, tms, tdi } => self.jtag_sequence(count, tms, tdi)?,
        })
    }

    /// An atomic block's accesses, in order, with nothing else between them; each one's
    /// value into `results` (as long as `operations`). Stops at the first that fails:
    /// its index and why. A probe that queues DAP commands sends them as one.
    fn batch(
        &mut self,
        operations: &[Operation],
        results: &mut [u64],
    ) -> Result<(), (usize, Self::Error)> {
        for (index, (operation, result)) in operations.iter().zip(results.iter_mut()).enumerate() {
            *result = self.perform(operation).map_err(|error| (index, error))?;
        }
        Ok(())
    }
}

/// The predefined variables a connection starts with (spec, "Pre-defined Debug Access
/// Variables"). `__dp`, `__ap`, `__apid` come from the device's `<debug>` element.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context {
    pub dp: u64,
    pub ap: u64,
    pub apid: u64,
    /// Bits 15:0 1 JTAG, 2 SWD, 3 cJTAG; bit 16 SWJ-DP; bit 17 through dormant.
    pub protocol: u64,
    /// Bits 7:0 1 debug, 2 flash; bits 15:8 reset kind; bit 16 under reset; bit 17 pre-reset.
    pub connection: u64,
    pub traceout: u64,
    pub traceclockin: u64,
    pub traceclockout: u64,
    /// The flash operation the sequence runs in (spec, "Pre-defined Debug Access
    /// Variables": `__FlashOp`, `__FlashAddr`, `__FlashLen`, `__FlashArg`); all 0 outside
    /// one.
    pub flash: FlashOperation,
}

/// `__FlashOp` (0 none, 1 erase, 2 program, 3 verify: the codes of an FLM's `Init`),
/// `__FlashAddr` (where the operation starts), `__FlashLen` (its length) and `__FlashArg`
/// (the `<flashinfo>` block's `arg`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlashOperation {
    pub operation: u64,
    pub address: u64,
    pub length: u64,
    pub argument: u64,
}

impl FlashOperation {
    pub const ERASE: u64 = 1;
    pub const PROGRAM: u64 = 2;
    pub const VERIFY: u64 = 3;
}

/// Where in the text something went wrong: 1-based line and column (bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub line: u32,
    pub column: u32,
}

/// What went wrong while a sequence ran.
#[derive(Debug, PartialEq, Eq)]
pub enum Fault<E> {
    /// A target access failed and `__errorcontrol` bit 0 was clear.
    Access {
        function: &'static str,
        cause: E,
    },
    /// No variable, debugvar or predefined variable of this name.
    UnknownVariable(Name),
    /// A predefined variable other than `__dp`, `__ap`, `__apid`, `__errorcontrol`,
    /// `__Result`, or a debugvar, assigned.
    ReadOnly(Name),
    /// `__var` of a name that this scope already declared.
    Redeclared(Name),
    /// `Sequence("name")` of a sequence neither the description nor the standard has.
    UnknownSequence(Name),
    TooManyVariables,
    CallsTooDeep,
    DivideByZero,
    /// A `while` with no timeout ran this long.
    WhileNeverEnds {
        micros: u64,
    },
    /// `Message(2, ...)`: the sequence reported an error (the text, cut to 48 bytes).
    Message(heapless::String<MAX_MESSAGE>),
    /// An argument out of its range (DAP_SWJ_Sequence with 0 or over 64 bits...).
    BadArgument(&'static str),
}

/// An error of the sequence text or of a run.
#[derive(Debug, PartialEq, Eq)]
pub enum Error<E> {
    /// The text is not the sequence language: where, and what was expected.
    Syntax {
        at: Location,
        message: &'static str,
        /// The name in question (an unknown function's), if any.
        name: Option<Name>,
    },
    /// More sequences, debugvars or text than the probe keeps.
    TooLarge(&'static str),
    /// Two sequences with the same name and processor.
    Duplicate(Name),
    /// No sequence of this name to run (the caller runs its built-in behaviour instead).
    NoSuchSequence(Name),
    /// A run stopped: in which sequence, at which statement, why.
    Run {
        sequence: Name,
        at: Location,
        fault: Fault<E>,
    },
    /// A debugvar override names a variable the description does not declare.
    NoSuchDebugvar(Name),
}

impl<E> Error<E> {
    /// A check-time error (no target involved) as an error of any target's runs.
    pub fn convert<F>(self, map: impl FnOnce(E) -> F) -> Error<F> {
        match self {
            Error::Syntax { at, message, name } => Error::Syntax { at, message, name },
            Error::TooLarge(what) => Error::TooLarge(what),
            Error::Duplicate(name) => Error::Duplicate(name),
            Error::NoSuchSequence(name) => Error::NoSuchSequence(name),
            Error::NoSuchDebugvar(name) => Error::NoSuchDebugvar(name),
            Error::Run {
                sequence,
                at,
                fault,
            } => Error::Run {
                sequence,
                at,
                fault: match fault {
                    Fault::Access { function, cause } => Fault::Access {
                        function,
                        cause: map(cause),
                    },
                    Fault::UnknownVariable(name) => Fault::UnknownVariable(name),
                    Fault::ReadOnly(name) => Fault::ReadOnly(name),
                    Fault::Redeclared(name) => Fault::Redeclared(name),
                    Fault::UnknownSequence(name) => Fault::UnknownSequence(name),
                    Fault::TooManyVariables => Fault::TooManyVariables,
                    Fault::CallsTooDeep => Fault::CallsTooDeep,
                    Fault::DivideByZero => Fault::DivideByZero,
                    Fault::WhileNeverEnds { micros } => Fault::WhileNeverEnds { micros },
                    Fault::Message(text) => Fault::Message(text),
                    Fault::BadArgument(what) => Fault::BadArgument(what),
                },
            },
        }
    }
}

impl<E: fmt::Display> fmt::Display for Fault<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Access { function, cause } => write!(f, "{function} failed: {cause}"),
            Fault::UnknownVariable(name) => write!(f, "unknown variable {name}"),
            Fault::ReadOnly(name) => write!(f, "{name} is read-only"),
            Fault::Redeclared(name) => write!(f, "{name} declared twice in one scope"),
            Fault::UnknownSequence(name) => write!(f, "no sequence {name}"),
            Fault::TooManyVariables => {
                write!(f, "more than {MAX_VARIABLES} variables alive")
            }
            Fault::CallsTooDeep => write!(f, "Sequence() calls nested over {MAX_CALL_DEPTH}"),
            Fault::DivideByZero => write!(f, "division by zero"),
            Fault::WhileNeverEnds { micros } => write!(
                f,
                "while loop without a timeout still true after {} ms",
                micros / 1000
            ),
            Fault::Message(text) => write!(f, "error message: {text}"),
            Fault::BadArgument(what) => write!(f, "bad argument: {what}"),
        }
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Syntax { at, message, name } => {
                write!(
                    f,
                    "sequence syntax error at line {} column {}: {message}",
                    at.line, at.column
                )?;
                match name {
                    Some(name) => write!(f, " {name}"),
                    None => Ok(()),
                }
            }
            Error::TooLarge(what) => write!(f, "sequences too large for the probe: {what}"),
            Error::Duplicate(name) => write!(f, "sequence {name} defined twice"),
            Error::NoSuchSequence(name) => write!(f, "no sequence {name}"),
            Error::NoSuchDebugvar(name) => write!(f, "no debugvar {name} in the description"),
            Error::Run {
                sequence,
                at,
                fault,
            } => write!(
                f,
                "sequence {sequence} (line {} column {}): {fault}",
                at.line, at.column
            ),
        }
    }
}

/// A sequence of the text: name, processor (`Pname`, empty: any), the offset of its body.
#[derive(Clone, Debug)]
struct Entry {
    name: Range<u32>,
    processor: Range<u32>,
    body: u32,
}

/// A debug variable: its name in the text and its value.
#[derive(Clone, Debug)]
struct Debugvar {
    name: Range<u32>,
    value: u64,
}

/// A device's sequences and debug variables, as loaded from `tools/pack`'s text.
#[derive(Default)]
pub struct Sequences {
    /// UTF-8 (checked when loaded).
    text: heapless::Vec<u8, TEXT_BYTES>,
    entries: heapless::Vec<Entry, MAX_SEQUENCES>,
    debugvars: heapless::Vec<Debugvar, MAX_DEBUGVARS>,
}

fn slice<'a>(text: &'a str, range: &Range<u32>) -> &'a str {
    text.get(range.start as usize..range.end as usize)
        .unwrap_or_default()
}

impl Sequences {
    pub const fn new() -> Self {
        Self {
            text: heapless::Vec::new(),
            entries: heapless::Vec::new(),
            debugvars: heapless::Vec::new(),
        }
    }

    /// Check `text` whole and keep it: its sequences and its debugvars (their statements
    /// run now). On an error nothing is kept.
    pub fn load(&mut self, text: &str) -> Result<(), Error<core::convert::Infallible>> {
        self.load_with(|buffer| buffer.extend_from_slice(text.as_bytes()).is_ok())
    }

    /// As [`Sequences::load`], the text's bytes put in place by `fill` (false: they do not
    /// fit), e.g. copied in pieces from a Python string.
    pub fn load_with(
        &mut self,
        fill: impl FnOnce(&mut heapless::Vec<u8, TEXT_BYTES>) -> bool,
    ) -> Result<(), Error<core::convert::Infallible>> {
        self.clear();
        let loaded = if fill(&mut self.text) {
            self.index()
        } else {
            Err(Error::TooLarge("over 12 KiB of text"))
        };
        if loaded.is_err() {
            self.clear();
        }
        loaded
    }

    fn index(&mut self) -> Result<(), Error<core::convert::Infallible>> {
        let text = core::str::from_utf8(&self.text).map_err(|error| {
            let (line, column) = lexer::line_column(
                core::str::from_utf8(&self.text[..error.valid_up_to()]).unwrap_or_default(),
                error.valid_up_to(),
            );
            Error::Syntax {
                at: Location { line, column },
                message: "not UTF-8 text",
                name: None,
            }
        })?;
        let (entries, debugvars) = machine::index(text)?;
        self.entries = entries;
        self.debugvars = debugvars;
        Ok(())
    }

    /// The text (checked UTF-8 when loaded).
    fn text(&self) -> &str {
        core::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// Forget the sequences and debugvars.
    pub fn clear(&mut self) {
        self.text.clear();
        self.entries.clear();
        self.debugvars.clear();
    }

    pub fn is_loaded(&self) -> bool {
        !self.entries.is_empty() || !self.debugvars.is_empty()
    }

    /// Override debugvars: `text` holds assignments (`name = expr;`) to variables the
    /// description declares, as a user's `.dbgconf` does. All or none are applied.
    pub fn set_debugvars(&mut self, text: &str) -> Result<(), Error<core::convert::Infallible>> {
        let mut values = self.debugvars.clone();
        machine::assign_debugvars(self.text(), text, &mut values)?;
        self.debugvars = values;
        Ok(())
    }

    /// The debug variables and their values now.
    pub fn debugvars(&self) -> impl Iterator<Item = (&str, u64)> {
        self.debugvars
            .iter()
            .map(|var| (slice(self.text(), &var.name), var.value))
    }

    /// The names (and processors, empty for any) of the sequences the description has.
    pub fn names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|entry| {
            (
                slice(self.text(), &entry.name),
                slice(self.text(), &entry.processor),
            )
        })
    }

    /// Does the description have sequence `name` (for `processor`, or for any processor)?
    pub fn has(&self, name: &str, processor: &str) -> bool {
        self.find(name, processor).is_some()
    }

    fn find(&self, name: &str, processor: &str) -> Option<usize> {
        let mut any = None;
        for entry in &self.entries {
            if slice(self.text(), &entry.name) != name {
                continue;
            }
            let entry_processor = slice(self.text(), &entry.processor);
            if entry_processor.is_empty() {
                any = Some(entry.body as usize);
            } else if entry_processor == processor {
                return Some(entry.body as usize);
            }
        }
        any
    }

    /// Run sequence `name` of the description (for `processor`; "" if the device has one)
    /// on `target`. [`Error::NoSuchSequence`] if the description does not have it: the
    /// caller does its built-in steps. A `Sequence()` call inside goes to the description's
    /// sequence, or else to the standard one ([`STANDARD`]).
    pub fn run<T: Target>(
        &self,
        name: &str,
        processor: &str,
        target: &mut T,
        context: &Context,
    ) -> Result<(), Error<T::Error>> {
        if self.find(name, processor).is_none() {
            return Err(Error::NoSuchSequence(crate::name(name)));
        }
        machine::run(self, name, processor, target, context)
    }

    /// Run sequence `name` of the description, or else the standard one ([`STANDARD`]);
    /// [`Error::NoSuchSequence`] if neither has it.
    pub fn run_or_standard<T: Target>(
        &self,
        name: &str,
        processor: &str,
        target: &mut T,
        context: &Context,
    ) -> Result<(), Error<T::Error>> {
        machine::run(self, name, processor, target, context)
    }
}
