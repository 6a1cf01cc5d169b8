//! The debug port: register access with WAIT retry, SELECT caching, power-up and recovery.

use crate::deadline::{self, Deadline};
use crate::error::Error;
use crate::memory_ap::BlockAccess;
use crate::registers::DpRegister;
use crate::registers::dp::{self, Abort, CtrlStat, Select};
use crate::transport::{Clock, Port, TransferError, Transport};

/// How many times an idempotent access is run again after a transient error (FAULT, no
/// answer, parity), once the error has been recovered from. See [`DebugPort::may_retry`].
pub const TRANSIENT_RETRIES: u32 = 3;

/// A run of AP accesses that failed, and how many of its values are surely done (from the
/// start): a repeat may begin there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunError {
    pub error: Error,
    pub completed: usize,
}

impl RunError {
    /// For `map_err`: the error, with `completed` values done.
    pub fn at(completed: usize) -> impl FnOnce(Error) -> RunError {
        move |error| RunError { error, completed }
    }
}

/// How long to keep retrying.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// Retry a WAIT-ed transaction for this long (a flash page erase stalls for 20 ms).
    pub wait_micros: u64,
    /// Wait this long for the power-up acknowledgements.
    pub power_up_micros: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            wait_micros: 250_000,
            power_up_micros: 100_000,
        }
    }
}

/// A debug port over a transport. Owns the transport and the clock.
pub struct DebugPort<T: Transport, C: Clock> {
    transport: T,
    clock: C,
    timeouts: Timeouts,
    /// The SELECT value last written, if known (saves writes; ADIv5.2 B2.2.9).
    select: Option<u32>,
    /// Accesses run again after a transient error, since this port was made.
    retried: u32,
    /// The debug and system domains were powered up by [`DebugPort::connect`]: from then
    /// on, finding them down means the target lost power.
    connected: bool,
}

impl<T: Transport, C: Clock> DebugPort<T, C> {
    pub fn new(transport: T, clock: C) -> Self {
        Self {
            transport,
            clock,
            timeouts: Timeouts::default(),
            select: None,
            retried: 0,
            connected: false,
        }
    }

    /// How many accesses were run again after a transient error (FAULT, no answer, parity).
    pub fn retried(&self) -> u32 {
        self.retried
    }

    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    pub fn clock(&mut self) -> &mut C {
        &mut self.clock
    }

    pub fn now_micros(&mut self) -> u64 {
        self.clock.now_micros()
    }

    /// Give the transport back (for a different use of the wire).
    pub fn into_parts(self) -> (T, C) {
        (self.transport, self.clock)
    }

    /// Read DPIDR, clear sticky errors, power up the debug and system domains
    /// (ADIv5.2 B2.2.2: set CDBGPWRUPREQ and CSYSPWRUPREQ, wait for both ACKs).
    pub fn connect(&mut self) -> Result<u32, Error> {
        self.select = None;
        self.connected = false;
        let dpidr = self.read_dp(dp::DPIDR)?;
        self.write_dp_register(Abort::clear_sticky())?;
        self.write_dp_register(CtrlStat::power_up_request())?;
        let limit = self.timeouts.power_up_micros;
        deadline::poll(
            self,
            |port| port.clock.now_micros(),
            limit,
            Error::PowerUpTimeout,
            |port| {
                let ctrl_stat: CtrlStat = port.read_dp_register()?;
                Ok(ctrl_stat.powered_up().then_some(dpidr))
            },
        )?;
        self.connected = true;
        Ok(dpidr)
    }

    /// Connect with `start` (a CMSIS-Pack DebugPortStart sequence) in place of `connect`'s
    /// sticky-error clearing and power-up: DPIDR is read, `start` runs, and the debug and
    /// system domains must then be powered (CTRL/STAT CDBGPWRUPACK and CSYSPWRUPACK).
    pub fn connect_with<E: From<Error>>(
        &mut self,
        start: impl FnOnce(&mut Self) -> Result<(), E>,
    ) -> Result<u32, E> {
        self.select = None;
        self.connected = false;
        let dpidr = self.read_dp(dp::DPIDR)?;
        start(self)?;
        let ctrl_stat: CtrlStat = self.read_dp_register()?;
        if !ctrl_stat.powered_up() {
            return Err(Error::PowerUpTimeout.into());
        }
        self.connected = true;
        Ok(dpidr)
    }

    /// SWD multi-drop (ADIv5.2 B4.3.4): select the DP whose TARGETSEL is `target_select`
    /// (TINSTANCE [31:28], TARGETID [27:0]) on the line from now on, check that it is a
    /// DP version 2 whose DLPIDR names that instance, then connect as `connect` does.
    /// The wire must already speak SWD (e.g. `wire::swd::Swd::switch_through_dormant`).
    pub fn connect_target(&mut self, target_select: u32) -> Result<u32, Error> {
        if !self.transport.select_target(target_select) {
            return Err(Error::MultidropUnsupported);
        }
        self.select = None;
        let dpidr = self.read_dp(dp::DPIDR)?;
        self.write_dp_register(Abort::clear_sticky())?;
        // DLPIDR is DP register 0x4 in bank 3 (ADIv5.2 B2.2.5).
        self.write_dp(Select::ADDRESS, dp::BANK_DLPIDR)?;
        let dlpidr = self.read_dp(dp::CTRL_STAT)?;
        self.write_dp(Select::ADDRESS, 0)?;
        let version = dpidr >> 12 & 0xF;
        if version < 2 || dlpidr >> 28 != target_select >> 28 {
            return Err(Error::MultidropMismatch { dpidr, dlpidr });
        }
        self.connect()
    }

    pub fn read_dp_register<R: DpRegister>(&mut self) -> Result<R, Error> {
        self.read_dp(R::ADDRESS).map(R::from)
    }

    pub fn write_dp_register<R: DpRegister>(&mut self, value: R) -> Result<(), Error> {
        self.write_dp(R::ADDRESS, value.into())
    }

    /// A DP register read; run again after a transient error, except RDBUFF, whose value
    /// (the last posted AP read's) does not survive the recovery: the caller repeats the
    /// whole access instead.
    pub fn read_dp(&mut self, address: u8) -> Result<u32, Error> {
        let mut attempts = 0;
        loop {
            let result = self.retry(Port::Dp, address, |transport| {
                transport.read(Port::Dp, address)
            });
            match result {
                Err(error) if address != dp::RDBUFF && self.may_retry(&error, &mut attempts) => {}
                result => return result,
            }
        }
    }

    /// A DP register write (ABORT, CTRL/STAT, SELECT: writing the same value twice has the
    /// effect of once); run again after a transient error.
    pub fn write_dp(&mut self, address: u8, value: u32) -> Result<(), Error> {
        let mut attempts = 0;
        loop {
            if address == Select::ADDRESS {
                self.select = Some(value);
            }
            let result = self.retry(Port::Dp, address, |transport| {
                transport.write(Port::Dp, address, value)
            });
            match result {
                Err(error) if self.may_retry(&error, &mut attempts) => {}
                result => return result,
            }
        }
    }

    /// Read an AP register and wait for the result (posted read plus RDBUFF). Run again
    /// after a transient error unless `register` is DRW, whose reads move TAR on: a
    /// MEM-AP's runs are repeated by [`crate::MemoryAp`], TAR rewritten.
    pub fn read_ap(&mut self, ap: u8, register: u8) -> Result<u32, Error> {
        let mut attempts = 0;
        loop {
            let result = self
                .select_ap(ap, register)
                .and_then(|()| self.read_ap_posted(register))
                .and_then(|_| self.read_dp(dp::RDBUFF));
            match result {
                Err(error) if !moves_data(register) && self.may_retry(&error, &mut attempts) => {}
                result => return result,
            }
        }
    }

    /// Write an AP register, once: whether a second write has the effect of one depends
    /// on the AP (a MEM-AP's CSW or TAR: yes; a data register's bus store, or a vendor AP's
    /// command register such as an erase: not always), so the caller decides
    /// ([`crate::MemoryAp`] repeats its runs, CSW and TAR included).
    pub fn write_ap(&mut self, ap: u8, register: u8, value: u32) -> Result<(), Error> {
        self.select_ap(ap, register)?;
        let address = register & 0xC;
        self.retry(Port::Ap, register, |transport| {
            transport.write(Port::Ap, address, value)
        })
    }

    /// After `error`, may the access that failed be run again? Only a transient error
    /// (FAULT: the sticky flags are cleared already; no answer or parity: the line is reset
    /// and DPIDR read already, ADIv5.2 B4.3.3), at most [`TRANSIENT_RETRIES`] times per
    /// access (`attempts` counts them), and only if the DP answers and, once connected,
    /// its debug and system domains are still powered up: a target that lost power was
    /// reset, and its state with it (ADIv5.2 B2.2.2). The caller must know that running the access again has the effect
    /// of running it once (see [`crate::MemoryAp`]'s rule for writes).
    pub fn may_retry(&mut self, error: &Error, attempts: &mut u32) -> bool {
        if !error.is_transient() || *attempts >= TRANSIENT_RETRIES {
            return false;
        }
        *attempts += 1;
        // Plain transactions, a few times: their failures end the retries, never start
        // new ones.
        let answered = (0..TRANSIENT_RETRIES).find_map(|_| {
            self.retry(Port::Dp, CtrlStat::ADDRESS, |transport| {
                transport.read(Port::Dp, CtrlStat::ADDRESS)
            })
            .ok()
        });
        let Some(ctrl_stat) = answered else {
            return false;
        };
        if self.connected && !CtrlStat::from(ctrl_stat).powered_up() {
            return false;
        }
        self.retried += 1;
        true
    }

    /// Write several values to one AP register of the selected bank (e.g. DRW with
    /// auto-increment), then complete the run with an RDBUFF read. On an error, the
    /// values surely stored: a posted write's bus error shows only in the next
    /// transaction's answer (ADIv5.2 B4.2.4), so a failure at transaction `k` leaves the
    /// first `k - 1` done.
    pub fn write_ap_repeated(
        &mut self,
        ap: u8,
        register: u8,
        values: &[u32],
    ) -> Result<(), RunError> {
        self.select_ap(ap, register).map_err(RunError::at(0))?;
        let address = register & 0xC;
        self.transport.set_burst(true);
        let written = values.iter().enumerate().try_for_each(|(index, &value)| {
            self.retry(Port::Ap, register, |transport| {
                transport.write(Port::Ap, address, value)
            })
            .map_err(RunError::at(index.saturating_sub(1)))
        });
        self.transport.set_burst(false);
        written?;
        self.read_dp(dp::RDBUFF)
            .map(|_| ())
            .map_err(RunError::at(values.len().saturating_sub(1)))
    }

    /// Read one AP register several times (e.g. DRW with auto-increment), pipelining the
    /// posted reads: each read returns the previous one's data, RDBUFF the last. On an
    /// error, the values surely read: a failure at transaction `k` loses the data of read
    /// `k - 1`, which it carried.
    pub fn read_ap_repeated(
        &mut self,
        ap: u8,
        register: u8,
        values: &mut [u32],
    ) -> Result<(), RunError> {
        if values.is_empty() {
            return Ok(());
        }
        self.select_ap(ap, register).map_err(RunError::at(0))?;
        self.transport.set_burst(true);
        let count = values.len();
        let (last, others) = values.split_last_mut().expect("not empty");
        let read = self
            .read_ap_posted(register)
            .map_err(RunError::at(0))
            .and_then(|_| {
                others
                    .iter_mut()
                    .enumerate()
                    .try_for_each(|(index, value)| {
                        *value = self.read_ap_posted(register).map_err(RunError::at(index))?;
                        Ok(())
                    })
            });
        self.transport.set_burst(false);
        read?;
        *last = self.read_dp(dp::RDBUFF).map_err(RunError::at(count - 1))?;
        Ok(())
    }

    /// Accesses to the four registers of one AP register bank from `first` (a MEM-AP's
    /// BD0-BD3), in order and back to back, completed by an RDBUFF read: a posted read's
    /// value comes with the next read, or with an RDBUFF read before a write and at the
    /// end (ADIv5.2 B4.2.5 "posted reads"); each read's value goes to the next slot of
    /// `reads`. Run once, not repeated after an error.
    pub fn access_ap_bank(
        &mut self,
        ap: u8,
        first: u8,
        accesses: &[BlockAccess],
        reads: &mut [u32],
    ) -> Result<(), Error> {
        self.select_ap(ap, first)?;
        let mut slots = reads.iter_mut();
        // The slot of the posted read whose value has not come yet.
        let mut pending: Option<&mut u32> = None;
        self.transport.set_burst(true);
        let mut result = Ok(());
        for access in accesses {
            let register = first + 4 * access.index();
            result = match *access {
                BlockAccess::Read(_) => self.read_ap_posted(register).map(|value| {
                    let slot = slots.next().expect("a slot a read");
                    if let Some(previous) = pending.replace(slot) {
                        *previous = value;
                    }
                }),
                BlockAccess::Write(_, value) => {
                    self.complete_posted_read(pending.take()).and_then(|()| {
                        self.retry(Port::Ap, register, |transport| {
                            transport.write(Port::Ap, register & 0xC, value)
                        })
                    })
                }
            };
            if result.is_err() {
                break;
            }
        }
        self.transport.set_burst(false);
        result?;
        match pending {
            Some(_) => self.complete_posted_read(pending),
            None => self.read_dp(dp::RDBUFF).map(|_| ()),
        }
    }

    /// The value of the last posted read, if one is waiting, from RDBUFF.
    fn complete_posted_read(&mut self, slot: Option<&mut u32>) -> Result<(), Error> {
        if let Some(slot) = slot {
            *slot = self.read_dp(dp::RDBUFF)?;
        }
        Ok(())
    }

    /// After a run of AP accesses (completed by an RDBUFF read): did any of them set a
    /// sticky error? A posted access that fails only sets STICKYERR; the DP answers the
    /// RDBUFF read OK (ADIv5.2 B2.2.2, B4.2.5). Clears the flags (STICKYERR, STICKYORUN,
    /// STICKYCMP, WDATAERR through ABORT, B2.2.1) and reports them.
    pub fn check_sticky_errors(&mut self) -> Result<(), Error> {
        let ctrl_stat: CtrlStat = self.read_dp_register()?;
        if ctrl_stat.sticky() {
            self.write_dp_register(Abort::clear_sticky())?;
            return Err(Error::Fault {
                ctrl_stat: ctrl_stat.into(),
            });
        }
        Ok(())
    }

    fn read_ap_posted(&mut self, register: u8) -> Result<u32, Error> {
        let address = register & 0xC;
        self.retry(Port::Ap, register, |transport| {
            transport.read(Port::Ap, address)
        })
    }

    /// SELECT: APSEL in [31:24], APBANKSEL in [7:4] (ADIv5.2 B2.2.9).
    fn select_ap(&mut self, ap: u8, register: u8) -> Result<(), Error> {
        let mut select = Select::default();
        select.set_apsel(ap);
        select.set_apbanksel(register >> 4);
        let select = u32::from(select);
        if self.select != Some(select) {
            self.write_dp(Select::ADDRESS, select)?;
        }
        Ok(())
    }

    /// Run one transaction, retrying on WAIT until the timeout, and recover from errors so
    /// the next transaction starts clean.
    fn retry<R>(
        &mut self,
        port: Port,
        address: u8,
        mut transaction: impl FnMut(&mut T) -> Result<R, TransferError>,
    ) -> Result<R, Error> {
        let deadline = Deadline::new(self.clock.now_micros(), self.timeouts.wait_micros);
        loop {
            match transaction(&mut self.transport) {
                Ok(value) => return Ok(value),
                Err(TransferError::Wait) => {
                    if deadline.passed(self.clock.now_micros()) {
                        // DAPABORT cancels the stalled transaction (ADIv5.2 B2.2.1).
                        let _ = self.transport.write(
                            Port::Dp,
                            Abort::ADDRESS,
                            Abort::dap_abort().into(),
                        );
                        return Err(Error::WaitTimeout { port, address });
                    }
                }
                Err(TransferError::Fault) => return Err(self.recover_from_fault()),
                Err(error @ (TransferError::NoResponse | TransferError::Parity)) => {
                    self.select = None;
                    // A line reset must be followed by a DPIDR read that works (ADIv5.2
                    // B4.3.3): a few tries, for a line that is only noisy.
                    for _ in 0..TRANSIENT_RETRIES {
                        if self.transport.resynchronise().is_ok() {
                            break;
                        }
                    }
                    return Err(Error::from_transport(error, port, address));
                }
            }
        }
    }

    /// Read which sticky flags are set, and clear them through ABORT: STKERRCLR,
    /// ORUNERRCLR, WDERRCLR, STKCMPCLR (ADIv5.2 B2.2.1). A FAULT answer means a sticky flag
    /// was set, by this access or an earlier posted one (B4.2.4).
    fn recover_from_fault(&mut self) -> Error {
        let ctrl_stat = self
            .transport
            .read(Port::Dp, CtrlStat::ADDRESS)
            .unwrap_or(0);
        let _ = self
            .transport
            .write(Port::Dp, Abort::ADDRESS, Abort::clear_sticky().into());
        Error::Fault { ctrl_stat }
    }
}

/// DRW (ADIv5.2 C2.6.4): a read through it advances TAR (auto-increment), so it cannot
/// simply be repeated.
fn moves_data(register: u8) -> bool {
    register == crate::registers::ap::DRW
}
