//! A remote_bitbang client: the pins of a probe at the other end of a byte stream
//! (OpenOCD's remote_bitbang protocol, with its SWD extension: OpenOCD
//! doc/manual/jtag/drivers/remote_bitbang.txt). bmp-sim is such a server.

use crate::Pins;

/// The link to the server is gone (final).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkLost;

/// A byte stream to the server.
pub trait ByteStream {
    fn write_all(&mut self, data: &[u8]) -> Result<(), LinkLost>;
    fn read_byte(&mut self) -> Result<u8, LinkLost>;
}

const BUFFER: usize = 256;

/// Pins over remote_bitbang. Writes are batched; a read flushes them and waits for the
/// answer. A lost link or a late answer reads as an undriven line (ones), which the
/// engines see as no response; the next operation tries the link again.
pub struct RemoteBitbang<S: ByteStream> {
    stream: S,
    clock: bool,
    swdio: bool,
    tdi: bool,
    pending: heapless::Vec<u8, BUFFER>,
}

impl<S: ByteStream> RemoteBitbang<S> {
    pub fn new(stream: S) -> Self {
        Self {
            stream,
            clock: false,
            swdio: true,
            tdi: true,
            pending: heapless::Vec::new(),
        }
    }

    fn send(&mut self, command: u8) {
        if self.pending.is_full() {
            self.flush();
        }
        let _ = self.pending.push(command); // room made above
    }

    /// Send what is batched. A failed write is dropped: the read that follows fails too.
    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let _ = self.stream.write_all(&self.pending);
        }
        self.pending.clear();
    }

    /// '0'..'7': TCK, TMS, TDI together (the SWD pins are the same two: SWCLK, SWDIO).
    fn write_pins(&mut self) {
        let value = u8::from(self.clock) << 2 | u8::from(self.swdio) << 1 | u8::from(self.tdi);
        self.send(b'0' + value);
    }

    /// Send a read command and wait for '0' or '1'.
    fn query(&mut self, command: u8) -> bool {
        self.send(command);
        self.flush();
        !matches!(self.stream.read_byte(), Ok(b'0'))
    }
}

impl<S: ByteStream> Pins for RemoteBitbang<S> {
    fn set_swclk(&mut self, high: bool) {
        if self.clock != high {
            self.clock = high;
            self.write_pins();
        }
    }

    fn set_swdio(&mut self, high: bool) {
        if self.swdio != high {
            self.swdio = high;
            self.write_pins();
        }
    }

    fn swdio_output(&mut self, enable: bool) {
        self.send(if enable { b'O' } else { b'o' });
    }

    fn read_swdio(&mut self) -> bool {
        self.query(b'c')
    }

    fn set_tdi(&mut self, high: bool) {
        if self.tdi != high {
            self.tdi = high;
            self.write_pins();
        }
    }

    fn read_tdo(&mut self) -> bool {
        self.query(b'R')
    }

    /// 'r' + 2·trst + srst, a 1 meaning asserted; TRST is not used.
    fn set_reset(&mut self, asserted: bool) {
        self.send(if asserted { b's' } else { b'r' });
        self.flush();
    }

    /// The protocol has no clock control: the server runs at its own pace.
    fn set_frequency(&mut self, hz: u32) -> u32 {
        hz
    }
}
