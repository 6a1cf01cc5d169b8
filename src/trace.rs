//! bmp.tracebuf() and bmp.traceswo(): text from the target, shown on the console (or
//! through bmp.disp_fun()), polled from bmp_loop().
//!
//! tracebuf: a ring buffer in target memory that the program writes and the probe empties.
//! The descriptor is four addresses: of a variable holding the buffer's address, the
//! buffer's size, and of the head and tail indexes (32-bit words). The program writes at
//! head and advances it; the probe shows [tail, head) and sets tail = head.
//!
//! traceswo: ITM software packets from an SWO byte stream (a UART at the SWO baud rate),
//! plain or in TPIU formatter frames (debug::itm::SwoDecoder finds out); the data of the
//! chosen stimulus ports is shown, and a lost-data mark where the ITM reports an overflow.
#![forbid(unsafe_code)]

use crate::gdb_server::display;
use crate::mpy::stream::{self, Root};
use crate::mpy::{Obj, hal};
use crate::probe::Probe;
use debug::itm::{Item, SwoDecoder};

/// tracebuf reads the target at most this often.
const TRACEBUF_PERIOD_MS: u32 = 20;
/// Bytes read from the target per piece.
const PIECE: usize = 256;

#[derive(Clone, Copy, Debug)]
pub struct TraceBuffer {
    pub buffer_variable: u32,
    pub size: u32,
    pub head_address: u32,
    pub tail_address: u32,
}

pub struct Trace {
    pub buffer: Option<TraceBuffer>,
    pub buffer_enabled: bool,
    last_read_ms: u32,
    /// Stimulus ports shown (bit n: port n); 0 when traceswo is off.
    pub swo_channels: u32,
    decoder: SwoDecoder,
}

/// Shown where the ITM reports an overflow (ARMv7-M D4.2.3): packets were lost there.
const OVERFLOW_MARK: &[u8] = b"[itm overflow: data lost]";

/// Decoded text on its way to the console.
type ShownText = heapless::Vec<u8, 256>;

/// Add `bytes` to `text`, showing what it holds first when they do not fit.
fn append(text: &mut ShownText, bytes: &[u8]) {
    if text.extend_from_slice(bytes).is_err() {
        display(text);
        text.clear();
        let _ = text.extend_from_slice(bytes);
    }
}

impl Trace {
    pub const fn new() -> Self {
        Self {
            buffer: None,
            buffer_enabled: false,
            last_read_ms: 0,
            swo_channels: 0,
            decoder: SwoDecoder::new(),
        }
    }

    pub fn poll(&mut self, probe: &mut Probe) {
        if self.buffer_enabled {
            self.poll_buffer(probe);
        }
        if self.swo_channels != 0 {
            self.poll_swo(probe);
        }
    }

    pub fn start_swo(&mut self, channels: u32) {
        self.swo_channels = channels;
        self.decoder = SwoDecoder::new();
    }

    fn poll_buffer(&mut self, probe: &mut Probe) {
        let now = hal::ticks_ms() as u32;
        if now.wrapping_sub(self.last_read_ms) < TRACEBUF_PERIOD_MS {
            return;
        }
        self.last_read_ms = now;
        let Some(descriptor) = self.buffer else {
            return;
        };
        if probe.session.attached().is_none() {
            return;
        }
        if drain(probe, descriptor).is_err() {
            self.buffer_enabled = false;
            display(b"\r\nbmp: tracebuf: reading the target failed; tracebuf is off\r\n");
        }
    }

    fn poll_swo(&mut self, probe: &mut Probe) {
        let stream = swo_stream();
        if !stream.is_set() {
            self.poll_own_swo(probe);
            return;
        }
        let mut input = [0u8; 256];
        let count = stream::read(stream, &mut input);
        if count <= 0 {
            return;
        }
        self.show_swo(&input[..count as usize]);
    }

    /// The probe's own SWO input: on the host, the simulated target's SWO pin.
    #[cfg(feature = "host")]
    fn poll_own_swo(&mut self, probe: &mut Probe) {
        let mut bytes = None;
        probe
            .session
            .with_transport(|wire| bytes = crate::host::take_swo(wire.pins()));
        for piece in bytes.unwrap_or_default().chunks(256) {
            self.show_swo(piece);
        }
    }

    /// Boards have no SWO input yet (bmp.traceswo refuses to start without uart=).
    #[cfg(not(feature = "host"))]
    fn poll_own_swo(&mut self, _probe: &mut Probe) {}

    /// Decode SWO bytes (at most 256) and show the chosen ports' data.
    fn show_swo(&mut self, input: &[u8]) {
        let mut text = ShownText::new();
        let channels = self.swo_channels;
        for &byte in input {
            self.decoder.feed(byte, &mut |item| match item {
                Item::Data { port, byte } if channels & (1 << port) != 0 => {
                    append(&mut text, &[byte]);
                }
                Item::Overflow => append(&mut text, OVERFLOW_MARK),
                _ => {}
            });
        }
        if !text.is_empty() {
            display(&text);
        }
    }
}

pub fn swo_stream() -> Obj {
    stream::root(Root::BMP_ROOT_SWO_STREAM)
}

pub fn set_swo_stream(stream: Obj) {
    stream::set_root(Root::BMP_ROOT_SWO_STREAM, stream);
}

fn read_word(probe: &mut Probe, address: u32) -> Result<u32, debug::Error> {
    let mut bytes = [0u8; 4];
    probe.session.read_memory(address, &mut bytes)?;
    Ok(u32::from_le_bytes(bytes))
}

/// Show [tail, head) of the ring buffer and set tail = head. Indexes outside the buffer
/// are left alone (the program may be between writes, or not started yet).
fn drain(probe: &mut Probe, descriptor: TraceBuffer) -> Result<(), debug::Error> {
    let base = read_word(probe, descriptor.buffer_variable)?;
    let head = read_word(probe, descriptor.head_address)?;
    let tail = read_word(probe, descriptor.tail_address)?;
    if head >= descriptor.size || tail >= descriptor.size || head == tail {
        return Ok(());
    }
    let (first, second) = if head > tail {
        ((tail, head), None)
    } else {
        ((tail, descriptor.size), Some((0, head)))
    };
    for (start, end) in core::iter::once(first).chain(second) {
        let mut at = start;
        while at < end {
            let mut piece = [0u8; PIECE];
            let length = ((end - at) as usize).min(PIECE);
            probe
                .session
                .read_memory(base.wrapping_add(at), &mut piece[..length])?;
            display(&piece[..length]);
            at += length as u32;
        }
    }
    probe
        .session
        .write_memory(descriptor.tail_address, &head.to_le_bytes())
}
