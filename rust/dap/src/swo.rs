//! DAP_SWO_* (CMSIS-DAP "SWO Commands"): trace data from the board's SWO input, buffered
//! here and read by the host with DAP_SWO_Data (transport 1; no streaming endpoint). The
//! commands exist only on a board whose [`Board::swo_modes`] has a mode (DAP_Info
//! capability bits 2 and 3); elsewhere they stay unimplemented (0xFF).

use crate::buffer::{Fail, Request, Response};
use crate::dap::{DAP_ERROR, DAP_OK, Dap};
use crate::wire::{SwoMode, Wire};

/// Bytes buffered between DAP_SWO_Data requests (DAP_Info 0xFD).
pub const SWO_BUFFER_SIZE: usize = 1024;

/// Trace status bits (DAP_SWO_Status).
const STATUS_ACTIVE: u8 = 1 << 0;
const STATUS_STREAM_ERROR: u8 = 1 << 6;
const STATUS_OVERRUN: u8 = 1 << 7;
/// DAP_SWO_Transport values.
const TRANSPORT_NONE: u8 = 0;
const TRANSPORT_DATA_COMMAND: u8 = 1;

/// The SWO capture's settings and buffer.
pub struct SwoState {
    transport: u8,
    mode: Option<SwoMode>,
    baudrate: u32,
    active: bool,
    stream_error: bool,
    overrun: bool,
    buffer: [u8; SWO_BUFFER_SIZE],
    start: usize,
    count: usize,
    /// Bytes captured since the start (DAP_SWO_ExtendedStatus index).
    index: u32,
}

impl SwoState {
    pub const fn new() -> Self {
        Self {
            transport: TRANSPORT_NONE,
            mode: None,
            baudrate: 0,
            active: false,
            stream_error: false,
            overrun: false,
            buffer: [0; SWO_BUFFER_SIZE],
            start: 0,
            count: 0,
            index: 0,
        }
    }

    fn status(&self) -> u8 {
        let mut status = 0;
        if self.active {
            status |= STATUS_ACTIVE;
        }
        if self.stream_error {
            status |= STATUS_STREAM_ERROR;
        }
        if self.overrun {
            status |= STATUS_OVERRUN;
        }
        status
    }

    fn push(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if self.count == SWO_BUFFER_SIZE {
                self.overrun = true;
                return;
            }
            self.buffer[(self.start + self.count) % SWO_BUFFER_SIZE] = byte;
            self.count += 1;
            self.index = self.index.wrapping_add(1);
        }
    }

    fn pop(&mut self) -> Option<u8> {
        (self.count > 0).then(|| {
            let byte = self.buffer[self.start];
            self.start = (self.start + 1) % SWO_BUFFER_SIZE;
            self.count -= 1;
            byte
        })
    }
}

impl Default for SwoState {
    fn default() -> Self {
        Self::new()
    }
}

impl<W: Wire> Dap<'_, W> {
    /// Take what the board has received while capture runs.
    fn swo_capture(&mut self) {
        let (true, Some(mode)) = (self.swo.active, self.swo.mode) else {
            return;
        };
        let mut piece = [0u8; 64];
        loop {
            let room = SWO_BUFFER_SIZE - self.swo.count;
            let want = piece.len().min(room.max(1));
            let (count, framing_error) =
                self.wire
                    .swo_read(mode, self.swo.baudrate, &mut piece[..want]);
            self.swo.stream_error |= framing_error;
            self.swo.push(&piece[..count.min(want)]);
            if count < want || self.swo.overrun {
                return;
            }
        }
    }

    pub(crate) fn swo_transport(
        &mut self,
        body: &mut Request,
        out: &mut Response,
    ) -> Result<(), Fail> {
        let transport = body.u8()?;
        let ok = !self.swo.active && matches!(transport, TRANSPORT_NONE | TRANSPORT_DATA_COMMAND);
        if ok {
            self.swo.transport = transport;
        }
        out.u8(if ok { DAP_OK } else { DAP_ERROR })
    }

    pub(crate) fn swo_mode(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let mode = match body.u8()? {
            0 => Some(None),
            1 => Some(Some(SwoMode::Uart)),
            2 => Some(Some(SwoMode::Manchester)),
            _ => None,
        };
        let supported = self.wire.swo_modes();
        let ok = match mode {
            _ if self.swo.active => false,
            Some(None) => true,
            Some(Some(mode)) => supported.contains(&Some(mode)),
            None => false,
        };
        if ok && let Some(mode) = mode {
            self.swo.mode = mode;
        }
        out.u8(if ok { DAP_OK } else { DAP_ERROR })
    }

    pub(crate) fn swo_baudrate(
        &mut self,
        body: &mut Request,
        out: &mut Response,
    ) -> Result<(), Fail> {
        let requested = body.u32()?;
        let actual = if self.swo.active {
            0
        } else {
            self.wire.swo_baudrate(requested)
        };
        if actual != 0 {
            self.swo.baudrate = actual;
        }
        out.u32(actual)
    }

    pub(crate) fn swo_control(
        &mut self,
        body: &mut Request,
        out: &mut Response,
    ) -> Result<(), Fail> {
        let ok = match body.u8()? {
            0 => {
                self.swo_capture();
                self.swo.active = false;
                true
            }
            1 if self.swo.mode.is_some() && self.swo.baudrate != 0 => {
                // Start flushes the buffer (CMSIS-DAP DAP_SWO_Control).
                self.swo.start = 0;
                self.swo.count = 0;
                self.swo.index = 0;
                self.swo.overrun = false;
                self.swo.stream_error = false;
                let mut stale = [0u8; 64];
                let mode = self.swo.mode.expect("checked");
                while self.wire.swo_read(mode, self.swo.baudrate, &mut stale).0 == stale.len() {}
                self.swo.active = true;
                true
            }
            _ => false,
        };
        out.u8(if ok { DAP_OK } else { DAP_ERROR })
    }

    pub(crate) fn swo_status(&mut self, out: &mut Response) -> Result<(), Fail> {
        self.swo_capture();
        out.u8(self.swo.status())?;
        out.u32(self.swo.count as u32)
    }

    pub(crate) fn swo_extended_status(
        &mut self,
        body: &mut Request,
        out: &mut Response,
    ) -> Result<(), Fail> {
        let control = body.u8()?;
        self.swo_capture();
        if control & 1 != 0 {
            out.u8(self.swo.status())?;
        }
        if control & 2 != 0 {
            out.u32(self.swo.count as u32)?;
        }
        if control & 4 != 0 {
            out.u32(self.swo.index)?;
            out.u32(self.wire.timestamp())?;
        }
        Ok(())
    }

    pub(crate) fn swo_data(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let maximum = usize::from(body.u16()?);
        self.swo_capture();
        let status = self.swo.status();
        out.u8(status)?;
        let count_at = out.reserve(2)?;
        let count = if self.swo.transport == TRANSPORT_DATA_COMMAND {
            maximum.min(self.swo.count).min(out.room())
        } else {
            0
        };
        for _ in 0..count {
            let byte = self.swo.pop().expect("counted");
            out.u8(byte)?;
        }
        out.patch(count_at, &(count as u16).to_le_bytes());
        // Reported once (CMSIS-DAP: the error bits clear when read by DAP_SWO_Data).
        self.swo.overrun = false;
        self.swo.stream_error = false;
        Ok(())
    }

    pub(crate) fn has_swo(&self) -> bool {
        self.wire.swo_modes().iter().any(Option::is_some)
    }
}
