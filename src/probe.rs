//! The probe: one debug session and the wire under it, shared by `target` and `bmp`
//! (design: one current target). Reached only through `with`, which refuses re-entry
//! (a Python callback run from inside a probe operation) instead of aliasing.
#![forbid(unsafe_code)]

use crate::dap_server::{DapServer, Transport};
use crate::link::{self, NoWire, ProbeClock, Wire};
use crate::mpy::exception::Kind;
use crate::mpy::exclusive::{Deferred, Exclusive};
use debug::{MAX_TARGETS, Session};

/// Why a probe operation did not run or did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// Called from inside another probe operation.
    Busy,
    /// No wire on this board (or the wire backend could not be opened).
    NoWire(NoWire),
    /// The other server drives the wire (the text says which and what to do).
    WireInUse(&'static str),
    Session(debug::Error),
    /// nRST stayed low after the probe released it.
    ResetStuck,
    /// A file on the probe's filesystem could not be read (its errno).
    File(i32),
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Busy => {
                f.write_str("the probe is busy (called from inside a probe operation)")
            }
            Failure::NoWire(reason) => write!(f, "{reason}"),
            Failure::WireInUse(message) => f.write_str(message),
            Failure::Session(error) => write!(f, "{error}"),
            Failure::ResetStuck => f.write_str(
                "nRST stays low after the probe released it: the target or its wiring holds reset",
            ),
            Failure::File(errno) => {
                let what = match *errno {
                    2 => " (no such file)",
                    12 => " (not enough memory)",
                    13 => " (permission denied)",
                    21 => " (a directory)",
                    _ => "",
                };
                write!(f, "cannot read the file: errno {errno}{what}")
            }
        }
    }
}

impl From<debug::Error> for Failure {
    fn from(error: debug::Error) -> Self {
        Failure::Session(error)
    }
}

impl From<NoWire> for Failure {
    fn from(reason: NoWire) -> Self {
        Failure::NoWire(reason)
    }
}

/// Which Python exception a session error becomes.
pub fn exception_kind(error: &debug::Error) -> Kind {
    use debug::Error;
    match error {
        Error::NoSuchTarget(_)
        | Error::Adi(adi::Error::Unaligned { .. })
        | Error::AlgorithmPage(_)
        | Error::NoAlgorithmRam
        | Error::PartialSector { .. }
        | Error::Chip(chips::Error::Usage { .. })
        | Error::Core(cortexm::Error::WatchRange { .. })
        | Error::Algorithm(
            debug::algo::Error::Malformed(_)
            | debug::algo::Error::TooLarge { .. }
            | debug::algo::Error::NoRoom { .. },
        ) => Kind::Value,
        Error::Adi(
            adi::Error::NoResponse | adi::Error::WaitTimeout { .. } | adi::Error::Protocol,
        ) => Kind::OS,
        _ => Kind::Runtime,
    }
}

/// Names of the targets a scan found: (driver, core).
pub type ScanList = [Option<(&'static str, &'static str)>; MAX_TARGETS];

const COMMAND_LINE_CAPACITY: usize = 256;
/// nRST held this long by `hard_srst` (an STM32F1 needs 20 µs, DS5319 NRST pin).
const RESET_PULSE_MICROS: u32 = 10_000;
/// How long nRST may take to rise after the probe releases it (its pull-up against the
/// line's capacitance, a supervisor's delay) before it counts as held low.
const RESET_RELEASE_MICROS: u32 = 100_000;
const RESET_RELEASE_POLL_MICROS: u32 = 1_000;

pub struct Probe {
    pub session: Session<Wire, ProbeClock>,
    /// Set when an operation failed, cleared by `target.check_error()`.
    error_flag: bool,
    /// Semihosting SYS_HEAPINFO answer: heap base, heap limit, stack base, stack limit.
    pub heap_info: [u32; 4],
    command_line: heapless::Vec<u8, COMMAND_LINE_CAPACITY>,
    /// Pins not in use by a scan (kept so the simulated target lives on between scans).
    spare: Option<link::Backend>,
    /// The CMSIS-DAP server, when it has the wire.
    pub dap: Option<DapServer>,
    /// The GDB server is running (bmp.init()): the wire belongs to the session.
    pub gdb_active: bool,
    /// Devices of the last JTAG chain scan, nearest TDO first: (IDCODE, IR length).
    pub jtag_chain: [Option<(u32, u8)>; wire::jtag::MAX_DEVICES],
    /// The delay-loop calibration (dap.calibrate()), for pins that are bit-banged.
    pub calibration: Option<wire::clock::Calibration>,
    /// SWCLK/TCK in Hz, as the pins last took it (`monitor frequency`); None: the
    /// default. (Zero at start, as every field, so the static lands in .bss.)
    frequency: Option<core::num::NonZeroU32>,
}

/// SWCLK until a client sets another (CMSIS-DAP's and OpenOCD's usual default is lower;
/// an STM32F1 takes up to 4 MHz on SWD, DS5319 table 63 "SWD timing" for the F103xB).
const DEFAULT_FREQUENCY: u32 = 4_000_000;

const DAP_HAS_THE_WIRE: &str =
    "the CMSIS-DAP server (dap) is using the wire: call dap.deinit() first";
const GDB_HAS_THE_WIRE: &str = "the GDB server (bmp) is using the wire: call bmp.deinit() first";

impl Probe {
    /// Inlined into `Deferred::get_or_init`, so the probe is built in its static.
    #[inline(always)]
    const fn new() -> Self {
        Self {
            session: Session::new(),
            error_flag: false,
            heap_info: [0; 4],
            command_line: heapless::Vec::new(),
            spare: None,
            dap: None,
            gdb_active: false,
            jtag_chain: [None; wire::jtag::MAX_DEVICES],
            calibration: None,
            frequency: None,
        }
    }

    /// The wire's pins: back from the last scan, or opened now.
    #[cfg_attr(
        not(any(feature = "host", feature = "board-link", feature = "board-gpio")),
        allow(unreachable_code)
    )]
    fn pins(&mut self) -> Result<link::Backend, NoWire> {
        if let Some((wire, _clock)) = self.session.release() {
            return Ok(wire.into_pins());
        }
        match self.spare.take() {
            Some(pins) => Ok(pins),
            None => {
                use ::wire::Pins;
                let mut pins = link::open_backend()?;
                if let Some(calibration) = self.calibration {
                    link::set_calibration(&mut pins, calibration);
                }
                self.frequency = core::num::NonZeroU32::new(pins.set_frequency(self.frequency()));
                Ok(pins)
            }
        }
    }

    pub fn frequency(&self) -> u32 {
        self.frequency.map_or(DEFAULT_FREQUENCY, |hz| hz.get())
    }

    /// Set SWCLK/TCK on the pins wherever they are now; the frequency in effect.
    pub fn set_frequency(&mut self, hz: u32) -> Result<u32, Failure> {
        use ::wire::Pins;
        let mut actual = None;
        self.session
            .with_transport(|wire| actual = Some(wire.pins().set_frequency(hz)));
        if actual.is_none() {
            if let Some(server) = self.dap.as_mut() {
                actual = Some(server.pins().set_frequency(hz));
            } else if let Some(pins) = self.spare.as_mut() {
                actual = Some(pins.set_frequency(hz));
            }
        }
        // Not opened yet: taken when the pins are.
        self.frequency = core::num::NonZeroU32::new(actual.unwrap_or(hz));
        Ok(self.frequency())
    }

    /// Keep a delay-loop calibration and apply it to the pins wherever they are now; the
    /// clock is then set again through it. Returns the frequency in effect.
    pub fn set_calibration(
        &mut self,
        calibration: wire::clock::Calibration,
    ) -> Result<u32, Failure> {
        self.calibration = Some(calibration);
        let mut applied = false;
        self.session.with_transport(|wire| {
            link::set_calibration(wire.pins(), calibration);
            applied = true;
        });
        if !applied {
            if let Some(server) = self.dap.as_mut() {
                link::set_calibration(server.pins(), calibration);
            } else if let Some(pins) = self.spare.as_mut() {
                link::set_calibration(pins, calibration);
            }
        }
        self.set_frequency(self.frequency())
    }

    /// Pulse nRST (`monitor hard_srst`): on the wire of the last scan, or the spare pins.
    pub fn pulse_reset(&mut self) -> Result<(), Failure> {
        use ::wire::Pins;
        if self.dap.is_some() {
            return Err(Failure::WireInUse(DAP_HAS_THE_WIRE));
        }
        let mut released = None;
        self.session
            .with_transport(|wire| released = Some(pulse(wire.pins())));
        let released = match released {
            Some(released) => released,
            None => {
                let mut pins = self.pins()?;
                let released = pulse(&mut pins);
                self.spare = Some(pins);
                released
            }
        };
        return if released {
            Ok(())
        } else {
            Err(Failure::ResetStuck)
        };

        /// Pulse nRST; false if the line is still low RESET_RELEASE_MICROS after release
        /// (a backend that cannot sense the pin reports it released).
        fn pulse(pins: &mut link::Backend) -> bool {
            pins.set_reset(true);
            link::delay_micros(RESET_PULSE_MICROS);
            pins.set_reset(false);
            let mut waited = 0;
            while pins.read_reset() {
                if waited >= RESET_RELEASE_MICROS {
                    return false;
                }
                link::delay_micros(RESET_RELEASE_POLL_MICROS);
                waited += RESET_RELEASE_POLL_MICROS;
            }
            true
        }
    }

    pub fn swdp_scan(&mut self, assert_reset: bool) -> Result<ScanList, Failure> {
        if self.dap.is_some() {
            return Err(Failure::WireInUse(DAP_HAS_THE_WIRE));
        }
        let pins = self.pins()?;
        let wire = Wire::swd(pins, assert_reset);
        self.scan(wire)
    }

    pub fn jtag_scan(
        &mut self,
        assert_reset: bool,
        ir_lengths: &[u8],
    ) -> Result<ScanList, Failure> {
        if self.dap.is_some() {
            return Err(Failure::WireInUse(DAP_HAS_THE_WIRE));
        }
        let pins = self.pins()?;
        self.jtag_chain = [None; wire::jtag::MAX_DEVICES];
        match Wire::jtag(pins, assert_reset, ir_lengths) {
            Ok(wire) => {
                for (slot, device) in self.jtag_chain.iter_mut().zip(wire.chain()) {
                    *slot = Some((device.idcode, device.ir_length));
                }
                self.scan(wire)
            }
            Err((reason, mut pins)) => {
                pins_release_reset(&mut pins);
                self.spare = Some(pins);
                Err(Failure::NoWire(reason))
            }
        }
    }

    fn scan(&mut self, wire: Wire) -> Result<ScanList, Failure> {
        let result = self
            .session
            .scan(wire, ProbeClock::target())
            .map(|targets| {
                let mut names: ScanList = [None; MAX_TARGETS];
                for (slot, target) in names.iter_mut().zip(targets) {
                    *slot = Some((target.driver_name(), target.core_name()));
                }
                names
            });
        // nRST was held only for the scan (connect under reset).
        self.session.with_transport(|wire| wire.release_reset());
        result.map_err(Failure::Session)
    }

    /// Give the wire to the CMSIS-DAP server (detaching any target), unless the GDB
    /// server has it. A server on another transport is rebuilt on the same pins.
    pub fn start_dap(&mut self, transport: Transport) -> Result<&mut DapServer, Failure> {
        if self.gdb_active {
            return Err(Failure::WireInUse(GDB_HAS_THE_WIRE));
        }
        let pins = match self.dap.take() {
            Some(server) if server.transport() == transport => return Ok(self.dap.insert(server)),
            Some(server) => server.into_pins(),
            None => self.pins()?,
        };
        Ok(self.dap.insert(DapServer::new(pins, transport)))
    }

    /// Work with the pins directly (dap.calibrate()): the CMSIS-DAP server's if it runs,
    /// else the wire's (a target attached through `target` is detached).
    pub fn with_pins<R>(
        &mut self,
        work: impl FnOnce(&mut link::Backend) -> R,
    ) -> Result<R, Failure> {
        if self.gdb_active {
            return Err(Failure::WireInUse(GDB_HAS_THE_WIRE));
        }
        if let Some(server) = self.dap.as_mut() {
            return Ok(work(server.pins()));
        }
        let mut pins = self.pins()?;
        let result = work(&mut pins);
        self.spare = Some(pins);
        Ok(result)
    }

    /// Take the wire back from the CMSIS-DAP server.
    pub fn stop_dap(&mut self) {
        if let Some(server) = self.dap.take() {
            self.spare = Some(server.into_pins());
        }
    }

    pub fn take_error_flag(&mut self) -> bool {
        core::mem::take(&mut self.error_flag)
    }

    /// Too long a line leaves the old one.
    pub fn set_command_line(&mut self, text: &[u8]) -> Result<(), ()> {
        self.command_line = heapless::Vec::from_slice(text)?;
        Ok(())
    }

    /// For SYS_GET_CMDLINE (semihosting, served by the GDB server).
    pub fn command_line(&self) -> &[u8] {
        &self.command_line
    }
}

fn pins_release_reset(pins: &mut link::Backend) {
    use ::wire::Pins;
    pins.set_reset(false);
}

/// Made on first use, so the static is zeros in .bss: built here by `Probe::new()` it would
/// be 40 KB of .data, an initial image in flash (Deferred).
static PROBE: Exclusive<Deferred<Probe>> = Exclusive::new(Deferred::new());

/// The probe, made on first use; one function, so the generic `with` callers do not each
/// carry a copy of `Probe::new()`.
#[inline(never)]
fn made(probe: &mut Deferred<Probe>) -> &mut Probe {
    probe.get_or_init(Probe::new)
}

/// Run `work` on the probe, unless a probe operation is already running.
pub fn with<R>(work: impl FnOnce(&mut Probe) -> Result<R, Failure>) -> Result<R, Failure> {
    PROBE
        .with(|probe| {
            let probe = made(probe);
            let result = work(probe);
            if result.is_err() {
                probe.error_flag = true;
            }
            result
        })
        .unwrap_or(Err(Failure::Busy))
}

/// Run `work` on the session.
pub fn session<R>(
    work: impl FnOnce(&mut Session<Wire, ProbeClock>) -> Result<R, debug::Error>,
) -> Result<R, Failure> {
    with(|probe| work(&mut probe.session).map_err(Failure::Session))
}
