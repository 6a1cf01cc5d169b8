//! The debug port: register access with WAIT retry, SELECT caching, power-up and recovery.

use crate::deadline::{self, Deadline};
use crate::error::Error;
use crate::registers::DpRegister;
use crate::registers::dp::{self, Abort, CtrlStat, Select};
use crate::transport::{Clock, Port, TransferError, Transport};

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
}

impl<T: Transport, C: Clock> DebugPort<T, C> {
    pub fn new(transport: T, clock: C) -> Self {
        Self {
            transport,
            clock,
            timeouts: Timeouts::default(),
            select: None,
        }
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
        )
    }

    pub fn read_dp_register<R: DpRegister>(&mut self) -> Result<R, Error> {
        self.read_dp(R::ADDRESS).map(R::from)
    }

    pub fn write_dp_register<R: DpRegister>(&mut self, value: R) -> Result<(), Error> {
        self.write_dp(R::ADDRESS, value.into())
    }

    pub fn read_dp(&mut self, address: u8) -> Result<u32, Error> {
        self.retry(Port::Dp, address, |transport| {
            transport.read(Port::Dp, address)
        })
    }

    pub fn write_dp(&mut self, address: u8, value: u32) -> Result<(), Error> {
        if address == Select::ADDRESS {
            self.select = Some(value);
        }
        self.retry(Port::Dp, address, |transport| {
            transport.write(Port::Dp, address, value)
        })
    }

    /// Read an AP register and wait for the result (posted read plus RDBUFF).
    pub fn read_ap(&mut self, ap: u8, register: u8) -> Result<u32, Error> {
        self.select_ap(ap, register)?;
        self.read_ap_posted(register)?;
        self.read_dp(dp::RDBUFF)
    }

    pub fn write_ap(&mut self, ap: u8, register: u8, value: u32) -> Result<(), Error> {
        self.select_ap(ap, register)?;
        let address = register & 0xC;
        self.retry(Port::Ap, register, |transport| {
            transport.write(Port::Ap, address, value)
        })
    }

    /// Write several values to one AP register of the selected bank (e.g. DRW with
    /// auto-increment), then check for a sticky error with a DP read.
    pub fn write_ap_repeated(&mut self, ap: u8, register: u8, values: &[u32]) -> Result<(), Error> {
        self.select_ap(ap, register)?;
        let address = register & 0xC;
        self.transport.set_burst(true);
        let written = values.iter().try_for_each(|&value| {
            self.retry(Port::Ap, register, |transport| {
                transport.write(Port::Ap, address, value)
            })
        });
        self.transport.set_burst(false);
        written?;
        self.read_dp(dp::RDBUFF).map(|_| ())
    }

    /// Read one AP register several times (e.g. DRW with auto-increment), pipelining the
    /// posted reads: each read returns the previous one's data, RDBUFF the last.
    pub fn read_ap_repeated(
        &mut self,
        ap: u8,
        register: u8,
        values: &mut [u32],
    ) -> Result<(), Error> {
        if values.is_empty() {
            return Ok(());
        }
        self.select_ap(ap, register)?;
        self.transport.set_burst(true);
        let (last, others) = values.split_last_mut().expect("not empty");
        let read = self.read_ap_posted(register).and_then(|_| {
            others.iter_mut().try_for_each(|value| {
                *value = self.read_ap_posted(register)?;
                Ok(())
            })
        });
        self.transport.set_burst(false);
        read?;
        *last = self.read_dp(dp::RDBUFF)?;
        Ok(())
    }

    /// After a run of AP accesses (completed by an RDBUFF read): did any of them set a
    /// sticky error? A posted access that fails only sets STICKYERR; the DP answers the
    /// RDBUFF read OK (ADIv5.2 B2.2.2, B4.2.5). Clears the flags and reports them.
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
                    let _ = self.transport.resynchronise();
                    return Err(Error::from_transport(error, port, address));
                }
            }
        }
    }

    /// Read which sticky flags are set, and clear them through ABORT (ADIv5.2 B2.2.1).
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
