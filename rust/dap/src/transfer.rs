//! DAP_Transfer and DAP_TransferBlock over one register link (SWD, or JTAG-DP scans):
//! WAIT retries, posted reads, value match, the final "check write" (CMSIS-DAP
//! DAP_Transfer, DAP_TransferBlock; ARM's reference firmware `DAP.c` for the details).
//!
//! Counting: a transfer is complete when its transaction was acknowledged OK and, for a
//! read, when its data is in the response. A posted read whose data could not be fetched is
//! not counted, so the reads among the counted transfers always match the data words sent.

use crate::buffer::{Fail, Request, Response};
use crate::command::transfer_request as bits;
use crate::wire::{Port, TransferError};

/// DP RDBUFF: the result of the last AP read (ADIv5.2 B2.2.8).
pub(crate) const RDBUFF: u8 = 0x0C;

/// Response value bits (CMSIS-DAP DAP_Transfer, "Transfer Response").
pub(crate) mod ack {
    pub const OK: u8 = 1;
    pub const WAIT: u8 = 2;
    pub const FAULT: u8 = 4;
    pub const NO_ACK: u8 = 7;
    pub const PROTOCOL_ERROR: u8 = 8;
    pub const MISMATCH: u8 = 0x10;
}

/// The response value for a failed transaction. A parity error reports bit 3 alone, as
/// ARM's reference firmware (`SW_DP.c`) does.
pub(crate) fn ack_code(error: TransferError) -> u8 {
    match error {
        TransferError::Wait => ack::WAIT,
        TransferError::Fault => ack::FAULT,
        TransferError::NoResponse => ack::NO_ACK,
        TransferError::Parity => ack::PROTOCOL_ERROR,
    }
}

/// One register transaction on the wire, plus what the transfer loops need around it.
pub(crate) trait Link {
    fn access(
        &mut self,
        port: Port,
        read: bool,
        address: u8,
        data: u32,
    ) -> Result<u32, TransferError>;
    /// A read on `port` returns the previous read's result: SWD AP reads (ADIv5.2 B4.2.3),
    /// every JTAG-DP read (ADIv5.2 B3.3.3: the result comes with the next scan).
    fn posted(&self, port: Port) -> bool;
    fn timestamp(&mut self) -> u32;
    fn take_abort(&mut self) -> bool;
}

/// DAP_TransferConfigure settings and the match mask (CMSIS-DAP DAP_TransferConfigure).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub wait_retries: u16,
    pub match_retries: u16,
    pub match_mask: u32,
    /// The Test Domain Timer is supported: honour the TD_TimeStamp bit.
    pub timestamps: bool,
}

impl Settings {
    pub(crate) fn new(timestamps: bool) -> Self {
        // ARM's reference firmware defaults (DAP_Setup): 100 WAIT retries, no match retry.
        Self {
            wait_retries: 100,
            match_retries: 0,
            match_mask: 0,
            timestamps,
        }
    }

    fn wants_timestamp(&self, kind: u8) -> bool {
        // TD_TimeStamp cannot be combined with the match bits (CMSIS-DAP DAP_Transfer).
        self.timestamps
            && kind & bits::TIMESTAMP != 0
            && kind & (bits::MATCH_VALUE | bits::MATCH_MASK) == 0
    }
}

/// Check a DAP_Transfer body (after the DAP index) and return the largest response it can
/// produce after the command ID: count, response value, then data and timestamps.
pub(crate) fn transfer_response_size(
    mut request: Request,
    settings: &Settings,
) -> Result<usize, Fail> {
    let count = request.u8()?;
    let mut size = 2;
    for _ in 0..count {
        let kind = request.u8()?;
        let read = kind & bits::READ != 0;
        let stamp = if settings.wants_timestamp(kind) { 4 } else { 0 };
        if read && kind & bits::MATCH_VALUE != 0 {
            request.u32()?;
        } else if read {
            size += 4 + stamp;
        } else {
            request.u32()?;
            size += stamp;
        }
    }
    Ok(size)
}

/// A posted read whose data has not arrived yet.
#[derive(Clone, Copy)]
struct Pending {
    port: Port,
    /// Response length before its timestamp, to take the timestamp back on failure.
    mark: usize,
}

/// The state of one DAP_Transfer run.
struct Run<'l, 'r, 'b, L> {
    link: &'l mut L,
    settings: &'l mut Settings,
    response: &'r mut Response<'b>,
    count: u8,
    value: u8,
    pending: Option<Pending>,
    check_write: bool,
}

/// A transfer that stopped the run; its response value is already recorded.
struct Stop;

/// Retry a transaction while it answers WAIT (CMSIS-DAP DAP_TransferConfigure: "WAIT
/// Retry"), unless the host aborted.
fn with_retry<L: Link>(
    link: &mut L,
    retries: u16,
    port: Port,
    read: bool,
    address: u8,
    data: u32,
) -> Result<u32, TransferError> {
    let mut left = retries;
    loop {
        match link.access(port, read, address, data) {
            Err(TransferError::Wait) if left > 0 && !link.take_abort() => left -= 1,
            result => return result,
        }
    }
}

/// Run a DAP_Transfer body (after the DAP index; checked by [`transfer_response_size`])
/// and write count, response value and data after the command ID.
pub(crate) fn transfer<L: Link>(
    link: &mut L,
    settings: &mut Settings,
    request: &mut Request,
    response: &mut Response,
) -> Result<(), Fail> {
    let head = response.reserve(2)?;
    let count = request.u8()?;
    link.take_abort();
    let mut run = Run {
        link,
        settings,
        response,
        count: 0,
        value: 0,
        pending: None,
        check_write: false,
    };
    for _ in 0..count {
        let kind = request.u8()?;
        let data = if kind & bits::READ == 0 || kind & bits::MATCH_VALUE != 0 {
            request.u32()?
        } else {
            0
        };
        if run.one(kind, data).is_err() || run.link.take_abort() {
            break;
        }
    }
    if run.value & !ack::OK == 0 {
        // Best effort: an error here is already in `value`.
        let _ = run.finish();
    }
    let (count, value) = (run.count, run.value);
    response.patch(head, &[count, value]);
    Ok(())
}

impl<L: Link> Run<'_, '_, '_, L> {
    fn transact(&mut self, port: Port, read: bool, address: u8, data: u32) -> Result<u32, Stop> {
        let retries = self.settings.wait_retries;
        match with_retry(self.link, retries, port, read, address, data) {
            Ok(value) => {
                self.value = ack::OK;
                Ok(value)
            }
            Err(error) => {
                self.value = ack_code(error);
                Err(Stop)
            }
        }
    }

    fn put(&mut self, word: u32) {
        // Room was checked before the run (transfer_response_size).
        let _ = self.response.u32(word);
    }

    fn stamp(&mut self, wanted: bool) {
        if wanted {
            let now = self.link.timestamp();
            self.put(now);
        }
    }

    /// One transfer request.
    fn one(&mut self, kind: u8, data: u32) -> Result<(), Stop> {
        let port = if kind & bits::AP != 0 {
            Port::Ap
        } else {
            Port::Dp
        };
        let address = kind & bits::ADDRESS;
        let stamp = self.settings.wants_timestamp(kind);
        if kind & bits::READ == 0 {
            self.fetch_pending()?;
            if kind & bits::MATCH_MASK != 0 {
                self.settings.match_mask = data;
                self.value = ack::OK;
            } else {
                self.transact(port, false, address, data)?;
                self.stamp(stamp);
                self.check_write = true;
            }
        } else {
            self.check_write = false;
            if kind & bits::MATCH_VALUE != 0 {
                self.fetch_pending()?;
                self.match_read(port, address, data)?;
            } else {
                self.read(port, address, stamp)?;
                return Ok(());
            }
        }
        self.count += 1;
        Ok(())
    }

    /// A plain read: chained onto a pending posted read of the same port, posted, or direct.
    fn read(&mut self, port: Port, address: u8, stamp: bool) -> Result<(), Stop> {
        let posted = self.link.posted(port);
        match self.pending {
            Some(pending) if posted && pending.port == port => {
                // This transaction returns the pending data and posts the new read.
                match self.transact(port, true, address, 0) {
                    Ok(previous) => {
                        self.put(previous);
                        self.count += 1;
                    }
                    Err(stop) => {
                        self.pending = None;
                        self.response.truncate(pending.mark);
                        return Err(stop);
                    }
                }
            }
            _ => {
                self.fetch_pending()?;
                if !posted {
                    let value = self.transact(port, true, address, 0)?;
                    self.stamp(stamp);
                    self.put(value);
                    self.count += 1;
                    return Ok(());
                }
                self.transact(port, true, address, 0)?;
            }
        }
        let mark = self.response.len();
        self.stamp(stamp);
        self.pending = Some(Pending { port, mark });
        Ok(())
    }

    /// Fetch the data of a pending posted read from RDBUFF.
    fn fetch_pending(&mut self) -> Result<(), Stop> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        match self.transact(Port::Dp, true, RDBUFF, 0) {
            Ok(value) => {
                self.put(value);
                self.count += 1;
                Ok(())
            }
            Err(stop) => {
                self.response.truncate(pending.mark);
                Err(stop)
            }
        }
    }

    /// Read until `(value & match_mask) == expected`, at most match-retry + 1 times
    /// (CMSIS-DAP DAP_Transfer "Value Match"). No data goes into the response.
    fn match_read(&mut self, port: Port, address: u8, expected: u32) -> Result<(), Stop> {
        if self.link.posted(port) {
            self.transact(port, true, address, 0)?;
        }
        let mut left = self.settings.match_retries;
        loop {
            let value = self.transact(port, true, address, 0)?;
            if value & self.settings.match_mask == expected {
                return Ok(());
            }
            if left == 0 || self.link.take_abort() {
                self.value |= ack::MISMATCH;
                return Err(Stop);
            }
            left -= 1;
        }
    }

    /// After the last request: the last posted read's data, or a RDBUFF read that reports
    /// an error of the last write in this response (ARM's reference firmware: "check
    /// write").
    fn finish(&mut self) -> Result<(), Stop> {
        if self.pending.is_some() {
            self.fetch_pending()
        } else if self.check_write {
            self.transact(Port::Dp, true, RDBUFF, 0).map(|_| ())
        } else {
            Ok(())
        }
    }
}

/// Check a DAP_TransferBlock body (after the DAP index) and return the largest response it
/// can produce after the command ID: count, response value, then data.
pub(crate) fn block_response_size(mut request: Request) -> Result<usize, Fail> {
    let count = usize::from(request.u16()?);
    let kind = request.u8()?;
    if kind & bits::READ != 0 {
        return Ok(3 + 4 * count);
    }
    request.bytes(4 * count)?;
    Ok(3)
}

/// Run a DAP_TransferBlock body (after the DAP index; checked by [`block_response_size`]).
pub(crate) fn transfer_block<L: Link>(
    link: &mut L,
    settings: &Settings,
    request: &mut Request,
    response: &mut Response,
) -> Result<(), Fail> {
    let head = response.reserve(3)?;
    let count = request.u16()?;
    let kind = request.u8()?;
    let port = if kind & bits::AP != 0 {
        Port::Ap
    } else {
        Port::Dp
    };
    let address = kind & bits::ADDRESS;
    link.take_abort();
    let mut block = Block {
        link,
        retries: settings.wait_retries,
        done: 0,
        value: 0,
    };
    if count > 0 {
        if kind & bits::READ != 0 {
            let _ = block.reads(port, address, count, response);
        } else {
            let _ = block.writes(port, address, count, request);
        }
    }
    let [low, high] = block.done.to_le_bytes();
    response.patch(head, &[low, high, block.value]);
    Ok(())
}

struct Block<'l, L> {
    link: &'l mut L,
    retries: u16,
    done: u16,
    value: u8,
}

impl<L: Link> Block<'_, L> {
    fn transact(&mut self, port: Port, read: bool, address: u8, data: u32) -> Result<u32, Stop> {
        match with_retry(self.link, self.retries, port, read, address, data) {
            Ok(value) => {
                self.value = ack::OK;
                Ok(value)
            }
            Err(error) => {
                self.value = ack_code(error);
                Err(Stop)
            }
        }
    }

    /// Pipelined reads: post the first, each read returns the previous one, RDBUFF the last.
    fn reads(
        &mut self,
        port: Port,
        address: u8,
        count: u16,
        out: &mut Response,
    ) -> Result<(), Stop> {
        let posted = self.link.posted(port);
        if posted {
            self.transact(port, true, address, 0)?;
        }
        for index in 0..count {
            let value = if posted && index + 1 == count {
                self.transact(Port::Dp, true, RDBUFF, 0)?
            } else {
                self.transact(port, true, address, 0)?
            };
            let _ = out.u32(value);
            self.done += 1;
            if self.link.take_abort() {
                break;
            }
        }
        Ok(())
    }

    fn writes(
        &mut self,
        port: Port,
        address: u8,
        count: u16,
        request: &mut Request,
    ) -> Result<(), Stop> {
        for _ in 0..count {
            let data = request.u32().map_err(|_| Stop)?;
            self.transact(port, false, address, data)?;
            self.done += 1;
            if self.link.take_abort() {
                return Ok(());
            }
        }
        self.transact(Port::Dp, true, RDBUFF, 0).map(|_| ())
    }
}
