//! CMSIS-Pack debug sequences in the session (crate `sequence`): the engine as the
//! interpreter's [`sequence::Target`], and the failures of a run as a session error.
//!
//! Where the session runs them, in place of its built-in steps (docs/packs.md):
//! - scan: `DebugPortStart` replaces the sticky-error clear and power-up of
//!   `DebugPort::connect`; `DebugDeviceUnlock` runs after it, before the APs are read;
//! - attach: `DebugCoreStart` runs before the core is halted (the built-in halt stays:
//!   attaching means halting);
//! - reset: `ResetCatchSet` (with halt), `ResetSystem`, a wait for the halt, and
//!   `ResetCatchClear` replace the built-in SYSRESETREQ reset when the description has any
//!   of the three (the others then run as the standard defaults);
//! - detach: `DebugCoreStop` runs after the built-in detach;
//! - flash work: `FlashInit` before each erase, program or verify operation begins and
//!   `FlashUninit` after it ends (a flash algorithm's Init and UnInit inside them), with
//!   `__FlashOp`, `__FlashAddr`, `__FlashLen` set (see [`FlashSequences`]).

use crate::error::{Error, Feature};
use adi::registers::{DpRegister, dp};
use adi::{Clock, DebugPort, MemoryAp, MemoryPort, Transport};
use core::fmt;
use sequence::{Context, FlashOperation, MessageKind, Sequences, Target, Width};

/// Bytes of sequence messages kept until read (`target.sequence_log()`); older ones go.
pub const LOG_BYTES: usize = 512;

/// The messages of the sequences run (Message(), a while's timeout, Query's default).
pub type Log = heapless::String<LOG_BYTES>;

/// Why an access of a sequence failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Adi(adi::Error),
    /// Something this probe's wire cannot do (JTAG sequences on SWD, ADIv6 AP space).
    Unsupported(&'static str),
    /// An address beyond 32 bits.
    Address(u64),
}

impl From<adi::Error> for Access {
    fn from(error: adi::Error) -> Self {
        Access::Adi(error)
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Access::Adi(error) => error.fmt(f),
            Access::Unsupported(what) => write!(f, "{what} is not supported by this probe"),
            Access::Address(address) => write!(f, "address {address:#x} beyond 32 bits"),
        }
    }
}

/// A sequence run that failed, as the session reports it (the full text, with the name of
/// a nested sequence, goes to the log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The standard sequence the session ran ("ResetSystem").
    pub sequence: &'static str,
    /// Line and column in the loaded text (0: not known).
    pub line: u32,
    pub column: u32,
    pub what: Fault,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Access {
        function: &'static str,
        cause: Access,
    },
    /// Any other fault: its description.
    Other(&'static str),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "debug sequence {} failed", self.sequence)?;
        if self.line != 0 {
            write!(f, " (line {} column {})", self.line, self.column)?;
        }
        match self.what {
            Fault::Access { function, cause } => write!(f, ": {function}: {cause}"),
            Fault::Other(what) => write!(f, ": {what}"),
        }
    }
}

impl Failure {
    pub fn new(sequence: &'static str, error: &sequence::Error<Access>) -> Self {
        use sequence::Fault as F;
        let (line, column, what) = match error {
            sequence::Error::Run { at, fault, .. } => {
                let what = match fault {
                    F::Access { function, cause } => Fault::Access {
                        function,
                        cause: *cause,
                    },
                    F::WhileNeverEnds { .. } => {
                        Fault::Other("a while loop without a timeout never ended")
                    }
                    F::Message(_) => Fault::Other("it reported an error (see the log)"),
                    F::UnknownVariable(_) => Fault::Other("unknown variable (see the log)"),
                    F::UnknownSequence(_) => Fault::Other("unknown sequence (see the log)"),
                    F::ReadOnly(_) => Fault::Other("assignment to a read-only variable"),
                    F::Redeclared(_) => Fault::Other("a variable declared twice in one scope"),
                    F::TooManyVariables => Fault::Other("too many variables"),
                    F::CallsTooDeep => Fault::Other("Sequence() calls nested too deep"),
                    F::DivideByZero => Fault::Other("division by zero"),
                    F::BadArgument(what) => Fault::Other(what),
                };
                (at.line, at.column, what)
            }
            sequence::Error::Syntax { at, message, .. } => {
                (at.line, at.column, Fault::Other(message))
            }
            _ => (0, 0, Fault::Other("not found")),
        };
        Failure {
            sequence,
            line,
            column,
            what,
        }
    }
}

/// The standard sequences' names (Open-CMSIS-Pack spec, "Predefined Debug Access
/// Sequences"): a failure names one of them, or "requested" for another run by name.
const STANDARD_NAMES: &[&str] = &[
    "DebugPortSetup",
    "DebugPortStart",
    "DebugPortStop",
    "DebugDeviceUnlock",
    "DebugCoreStart",
    "DebugCoreStop",
    "DebugCodeMemRemap",
    "ResetSystem",
    "ResetProcessor",
    "ResetHardware",
    "ResetHardwareAssert",
    "ResetHardwareDeassert",
    "ResetCatchSet",
    "ResetCatchClear",
    "TraceStart",
    "TraceStop",
    "TraceCapture",
    "TraceFlush",
    "RecoverySupportStart",
    "RecoverySupportStop",
    "RecoveryAcknowledge",
];

/// `name` as a static label for a [`Failure`].
pub fn label(name: &str) -> &'static str {
    STANDARD_NAMES
        .iter()
        .find(|&&known| known == name)
        .copied()
        .unwrap_or("requested")
}

/// Append `text` and a newline to the log, dropping the oldest lines when it is full.
pub fn log(log: &mut Log, text: &str) {
    let mut end = text.len().min(LOG_BYTES - 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = &text[..end];
    while log.len() + text.len() + 1 > LOG_BYTES {
        let cut = log.find('\n').map_or(log.len(), |at| at + 1);
        let rest: Log = log
            .get(cut..)
            .unwrap_or_default()
            .try_into()
            .unwrap_or_default();
        *log = rest;
    }
    let _ = log.push_str(text);
    let _ = log.push('\n');
}

/// The engine as a sequence's target: the debug port of the scan, its MEM-APs (one kept
/// open), the wire's pins, the probe's clock.
pub struct Engine<'a, T: Transport, C: Clock> {
    pub port: &'a mut DebugPort<T, C>,
    pub log: &'a mut Log,
    ap: Option<MemoryAp>,
}

impl<'a, T: Transport, C: Clock> Engine<'a, T, C> {
    pub fn new(port: &'a mut DebugPort<T, C>, log: &'a mut Log) -> Self {
        Self {
            port,
            log,
            ap: None,
        }
    }

    /// `__protocol` (SWD or JTAG, through an SWJ-DP) and `__connection` (a debug
    /// connection; resets by SYSRESETREQ) for a run on AP `ap`.
    pub fn context(&mut self, ap: u8) -> Context {
        const JTAG: u64 = 1;
        const SWD: u64 = 2;
        const SWJ_DP: u64 = 1 << 16;
        const DEBUG: u64 = 1;
        const SYSRESETREQ: u64 = 2 << 8;
        let wire = if self.port.transport().is_jtag() {
            JTAG
        } else {
            SWD
        };
        Context {
            ap: u64::from(ap),
            protocol: wire | SWJ_DP,
            connection: DEBUG | SYSRESETREQ,
            ..Context::default()
        }
    }

    fn memory_ap(&mut self, number: u8) -> Result<&mut MemoryAp, Access> {
        if self.ap.as_ref().is_none_or(|ap| ap.number() != number) {
            self.ap = Some(MemoryAp::open(self.port, number)?);
        }
        Ok(self.ap.as_mut().expect("opened above"))
    }

    fn address(address: u64) -> Result<u32, Access> {
        u32::try_from(address).map_err(|_| Access::Address(address))
    }
}

impl<T: Transport, C: Clock> Target for Engine<'_, T, C> {
    type Error = Access;

    /// Words and bytes go as accesses of their size; a half-word read is the word holding
    /// it (the MEM-AP code has no half-word read), a double word two words.
    fn read_memory(&mut self, ap: u8, address: u64, width: Width) -> Result<u64, Access> {
        let address = Self::address(address)?;
        self.memory_ap(ap)?;
        let (memory, port) = (self.ap.as_mut().expect("opened"), &mut *self.port);
        Ok(match width {
            Width::Byte => {
                let mut byte = [0];
                memory.read_bytes(port, address, &mut byte)?;
                u64::from(byte[0])
            }
            Width::Half => {
                let mut word = [0];
                memory.read_words(port, address & !3, &mut word)?;
                u64::from(word[0] >> (8 * (address & 2)) & 0xFFFF)
            }
            Width::Word => {
                let mut word = [0];
                memory.read_words(port, address, &mut word)?;
                u64::from(word[0])
            }
            Width::Double => {
                let mut words = [0; 2];
                memory.read_words(port, address, &mut words)?;
                u64::from(words[0]) | u64::from(words[1]) << 32
            }
        })
    }

    fn write_memory(
        &mut self,
        ap: u8,
        address: u64,
        width: Width,
        value: u64,
    ) -> Result<(), Access> {
        let address = Self::address(address)?;
        self.memory_ap(ap)?;
        let (memory, port) = (self.ap.as_mut().expect("opened"), &mut *self.port);
        match width {
            Width::Byte => memory.write_bytes(port, address, &[value as u8])?,
            Width::Half => memory.write_halves(port, address, &[value as u16])?,
            Width::Word => memory.write_words(port, address, &[value as u32])?,
            Width::Double => {
                memory.write_words(port, address, &[value as u32, (value >> 32) as u32])?
            }
        }
        Ok(())
    }

    fn read_ap(&mut self, ap: u8, register: u8) -> Result<u32, Access> {
        self.ap = None; // the MEM-AP's cached CSW and TAR may change
        Ok(self.port.read_ap(ap, register)?)
    }

    fn write_ap(&mut self, ap: u8, register: u8, value: u32) -> Result<(), Access> {
        self.ap = None;
        Ok(self.port.write_ap(ap, register, value)?)
    }

    fn read_dp(&mut self, register: u8) -> Result<u32, Access> {
        Ok(self.port.read_dp(register)?)
    }

    fn write_dp(&mut self, register: u8, value: u32) -> Result<(), Access> {
        Ok(self.port.write_dp(register, value)?)
    }

    fn read_access_ap(&mut self, _: u8, _: u64) -> Result<u32, Access> {
        Err(Access::Unsupported("ReadAccessAP (ADIv6)"))
    }

    fn write_access_ap(&mut self, _: u8, _: u64, _: u32) -> Result<(), Access> {
        Err(Access::Unsupported("WriteAccessAP (ADIv6)"))
    }

    fn swj_pins(&mut self, output: u8, select: u8, wait_micros: u32) -> Result<u32, Access> {
        let swj = self
            .port
            .transport()
            .swj()
            .ok_or(Access::Unsupported("DAP_SWJ_Pins"))?;
        let mut pins = swj.pins(output, select);
        // Wait for the selected pins to read as driven, up to `wait_micros`.
        let started = self.port.now_micros();
        while (pins ^ output) & select != 0
            && self.port.now_micros().saturating_sub(started) < u64::from(wait_micros)
        {
            self.delay_micros(100);
            let swj = self.port.transport().swj().expect("checked above");
            pins = swj.pins(output, 0);
        }
        Ok(u32::from(pins))
    }

    fn swj_clock(&mut self, hz: u32) -> Result<(), Access> {
        let swj = self
            .port
            .transport()
            .swj()
            .ok_or(Access::Unsupported("DAP_SWJ_Clock"))?;
        swj.clock(hz);
        Ok(())
    }

    fn swj_sequence(&mut self, count: u8, bits: u64) -> Result<(), Access> {
        let swj = self
            .port
            .transport()
            .swj()
            .ok_or(Access::Unsupported("DAP_SWJ_Sequence"))?;
        swj.sequence(u32::from(count), bits);
        Ok(())
    }

    fn jtag_sequence(&mut self, count: u8, tms: bool, tdi: u64) -> Result<u64, Access> {
        self.port
            .transport()
            .swj()
            .and_then(|swj| swj.jtag_sequence(u32::from(count), tms, tdi))
            .ok_or(Access::Unsupported("DAP_JTAG_Sequence on SWD"))
    }

    fn write_abort(&mut self, value: u32) -> Result<(), Access> {
        Ok(self.port.write_dp(dp::Abort::ADDRESS, value)?)
    }

    /// The engine has a clock but no sleep: it reads DP CTRL/STAT until the time has
    /// passed (on the simulator, wire activity is what moves its clock on).
    fn delay_micros(&mut self, micros: u32) {
        let until = self.port.now_micros() + u64::from(micros);
        while self.port.now_micros() < until {
            let _ = self.port.read_dp(dp::CTRL_STAT);
        }
    }

    fn now_micros(&mut self) -> u64 {
        self.port.now_micros()
    }

    fn message(&mut self, kind: MessageKind, text: &str) {
        let mut line = heapless::String::<160>::new();
        let prefix = match kind {
            MessageKind::Info => "",
            MessageKind::Warning => "warning: ",
            MessageKind::Error => "error: ",
        };
        let _ = fmt::Write::write_fmt(&mut line, format_args!("{prefix}{text}"));
        log(self.log, &line);
    }
}

/// Run sequence `name` of `description` for `processor` on `port` (`__ap` = `ap`, the
/// flash variables from `flash`), or else the standard one if `or_standard`. A failure
/// goes to the log in full and comes back as [`Error::Sequence`].
#[allow(clippy::too_many_arguments)]
pub fn run<T: Transport, C: Clock>(
    port: &mut DebugPort<T, C>,
    description: &Sequences,
    processor: &str,
    log_text: &mut Log,
    name: &str,
    ap: u8,
    flash: FlashOperation,
    or_standard: bool,
) -> Result<(), Error> {
    // Every sequence runs here: without the feature the interpreter is not linked.
    Feature::Sequences.require()?;
    let mut engine = Engine::new(port, log_text);
    let context = Context {
        flash,
        ..engine.context(ap)
    };
    let outcome = if or_standard {
        description.run_or_standard(name, processor, &mut engine, &context)
    } else {
        description.run(name, processor, &mut engine, &context)
    };
    outcome.map_err(|error| {
        let mut text = heapless::String::<192>::new();
        let _ = fmt::Write::write_fmt(&mut text, format_args!("{error}"));
        log(log_text, &text);
        Error::Sequence(Failure::new(label(name), &error))
    })
}

/// A description's FlashInit and FlashUninit, run from inside the flash work (spec,
/// "Predefined Debug Access Sequences": FlashInit "before starting a flash operation",
/// FlashUninit "after a flash operation finished"). An operation is one phase of erasing,
/// programming or verifying, as a flash algorithm's `Init(address, clock, 1|2|3)` begins
/// it: `__FlashOp` is that code, `__FlashAddr` and `__FlashLen` the range of the phase's
/// first call (a sector erase, a block programmed), `__FlashArg` 0 (the probe takes no
/// `<flashinfo>` blocks).
pub struct FlashSequences<'a> {
    pub description: &'a Sequences,
    pub processor: &'a str,
    pub log: &'a mut Log,
    /// The operation under way (FlashInit ran for it, FlashUninit has not).
    pub phase: &'a mut Option<FlashOperation>,
}

impl FlashSequences<'_> {
    /// Whether the description has either sequence (else the flash work runs as without
    /// a description).
    pub fn wanted(description: &Sequences, processor: &str) -> bool {
        Feature::Sequences.built()
            && ["FlashInit", "FlashUninit"]
                .iter()
                .any(|name| description.has(name, processor))
    }
}

/// Memory that can run a sequence on its own wire: the session's MemoryPort.
pub trait SequencePort {
    /// Run `name` with the flash variables of `flash`, if the description has it.
    fn run_flash_sequence(
        &mut self,
        sequences: &mut FlashSequences<'_>,
        name: &'static str,
        flash: FlashOperation,
    ) -> Result<(), Error>;
}

impl<T: Transport, C: Clock> SequencePort for MemoryPort<'_, T, C> {
    fn run_flash_sequence(
        &mut self,
        sequences: &mut FlashSequences<'_>,
        name: &'static str,
        flash: FlashOperation,
    ) -> Result<(), Error> {
        if !sequences.description.has(name, sequences.processor) {
            return Ok(());
        }
        let ap = self.ap.number();
        let outcome = run(
            self.port,
            sequences.description,
            sequences.processor,
            sequences.log,
            name,
            ap,
            flash,
            false,
        );
        // The sequence may have changed the MEM-AP's CSW and TAR.
        self.ap.invalidate();
        outcome
    }
}
