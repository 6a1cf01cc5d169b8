//! The probe: one debug session and the wire under it, shared by `target` and `bmp`
//! (design: one current target). Reached only through `with`, which refuses re-entry
//! (a Python callback run from inside a probe operation) instead of aliasing.

use crate::dap_server::{DapServer, Transport};
use crate::link::{self, NoWire, ProbeClock, Wire};
use crate::mpy::exception::Kind;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};
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
        Error::NoSuchTarget(_) | Error::Adi(adi::Error::Unaligned { .. }) => Kind::Value,
        Error::Adi(
            adi::Error::NoResponse | adi::Error::WaitTimeout { .. } | adi::Error::Protocol,
        ) => Kind::OS,
        _ => Kind::Runtime,
    }
}

/// Names of the targets a scan found: (driver, core).
pub type ScanList = [Option<(&'static str, &'static str)>; MAX_TARGETS];

const COMMAND_LINE_CAPACITY: usize = 256;

pub struct Probe {
    pub session: Session<Wire, ProbeClock>,
    /// Set when an operation failed, cleared by `target.check_error()`.
    error_flag: bool,
    /// Semihosting SYS_HEAPINFO answer: heap base, heap limit, stack base, stack limit.
    pub heap_info: [u32; 4],
    command_line: [u8; COMMAND_LINE_CAPACITY],
    command_line_length: usize,
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
}

const DAP_HAS_THE_WIRE: &str =
    "the CMSIS-DAP server (dap) is using the wire: call dap.deinit() first";
const GDB_HAS_THE_WIRE: &str = "the GDB server (bmp) is using the wire: call bmp.deinit() first";

impl Probe {
    const fn new() -> Self {
        Self {
            session: Session::new(),
            error_flag: false,
            heap_info: [0; 4],
            command_line: [0; COMMAND_LINE_CAPACITY],
            command_line_length: 0,
            spare: None,
            dap: None,
            gdb_active: false,
            jtag_chain: [None; wire::jtag::MAX_DEVICES],
            calibration: None,
        }
    }

    /// The wire's pins: back from the last scan, or opened now.
    #[cfg_attr(
        not(any(feature = "host", feature = "board-link")),
        allow(unreachable_code)
    )]
    fn pins(&mut self) -> Result<link::Backend, NoWire> {
        if let Some((wire, _clock)) = self.session.release() {
            return Ok(wire.into_pins());
        }
        match self.spare.take() {
            Some(pins) => Ok(pins),
            None => link::open_backend(),
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
        let result = self.session.scan(wire, ProbeClock::new()).map(|targets| {
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

    pub fn set_command_line(&mut self, text: &[u8]) -> Result<(), ()> {
        if text.len() > COMMAND_LINE_CAPACITY {
            return Err(());
        }
        self.command_line[..text.len()].copy_from_slice(text);
        self.command_line_length = text.len();
        Ok(())
    }

    /// For SYS_GET_CMDLINE (semihosting, served with the GDB server).
    #[allow(dead_code)]
    pub fn command_line(&self) -> &[u8] {
        &self.command_line[..self.command_line_length]
    }
}

fn pins_release_reset(pins: &mut link::Backend) {
    use ::wire::Pins;
    pins.set_reset(false);
}

/// The one probe, with a busy flag instead of a lock: a second caller (re-entry from a
/// callback, or another thread of the unix port) is refused, never blocked.
struct Shared {
    busy: AtomicBool,
    probe: UnsafeCell<Probe>,
}

// SAFETY: access to `probe` is guarded by `busy` (compare-exchange), so at most one
// `&mut Probe` exists at any time.
unsafe impl Sync for Shared {}

static PROBE: Shared = Shared {
    busy: AtomicBool::new(false),
    probe: UnsafeCell::new(Probe::new()),
};

/// Run `work` on the probe, unless a probe operation is already running.
pub fn with<R>(work: impl FnOnce(&mut Probe) -> Result<R, Failure>) -> Result<R, Failure> {
    if PROBE
        .busy
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        return Err(Failure::Busy);
    }
    // SAFETY: `busy` was false and is now ours: nobody else holds a reference.
    let probe = unsafe { &mut *PROBE.probe.get() };
    let result = work(probe);
    if result.is_err() {
        probe.error_flag = true;
    }
    PROBE.busy.store(false, Ordering::Release);
    result
}

/// Run `work` on the session.
pub fn session<R>(
    work: impl FnOnce(&mut Session<Wire, ProbeClock>) -> Result<R, debug::Error>,
) -> Result<R, Failure> {
    with(|probe| work(&mut probe.session).map_err(Failure::Session))
}
