//! The CMSIS-DAP server: the processor on the probe's pins, fed by OpenOCD's TCP framing
//! (`cmsis-dap backend tcp`) or by `dap.process()` calls.
#![forbid(unsafe_code)]

use crate::connection::{self, Closed, Slots};
use crate::link::Backend;
use crate::mpy::exclusive::Exclusive;
use crate::mpy::hal;
use crate::mpy::stream::Root;
use core::sync::atomic::{AtomicU16, Ordering};
use dap::pins::{PinWire, Timer};
use dap::tcp::{self, HEADER_LENGTH};
use dap::{Config, Dap, Queue, Strings};

/// Packet size over TCP unless `dap.init(tcp=, packet_size=)` sets another (e.g. the
/// high-speed USB size, `dap::packet_size::HIGH_SPEED_BULK`, to try it with a real client).
pub const TCP_PACKET_SIZE: u16 = dap::packet_size::TCP;
/// Packet size of `dap.process()`: the original's 64-byte HID reports.
pub const REPORT_PACKET_SIZE: u16 = dap::packet_size::FULL_SPEED_HID;
/// The largest packet of any transport: the size of the server's buffers.
pub const MAX_PACKET_SIZE: usize = 1024;
/// DAP_Info 0xFE: requests a host may send before it reads a response. The TCP stream
/// (the socket's buffer) holds those in flight; the probe holds up to this many
/// DAP_QueueCommands packets itself (`Buffers::queue`: 8 × 1 KiB).
pub const PACKET_COUNT: usize = 8;

pub const SLOTS: Slots = Slots {
    listener: Root::BMP_ROOT_DAP_LISTENER,
    stream: Root::BMP_ROOT_DAP_STREAM,
};

const STRINGS: Strings<'static> = Strings {
    vendor: Some("bmp"),
    product: Some("bmp CMSIS-DAP"),
    serial: Some("0001"),
    target_vendor: None,
    target_name: None,
    board_vendor: None,
    board_name: None,
    firmware_version: Some(env!("CARGO_PKG_VERSION")),
};

/// MicroPython's clock for DAP_Delay and the Test Domain Timer (1 MHz).
pub struct ProbeTimer;

impl Timer for ProbeTimer {
    fn delay_us(&mut self, us: u32) {
        #[cfg(feature = "host")]
        std::thread::sleep(std::time::Duration::from_micros(u64::from(us)));
        #[cfg(not(feature = "host"))]
        hal::delay_us(us);
    }

    fn timestamp(&mut self) -> u32 {
        hal::ticks_us() as u32
    }
}

/// The SWO receiver (and UART bridge) beside the pins: on the host, the simulated target's;
/// boards have none yet.
#[cfg(feature = "host")]
pub type ProbeSerial = crate::host::SimulatedSerial;
#[cfg(not(feature = "host"))]
pub type ProbeSerial = dap::pins::NoSerial;

#[cfg(feature = "host")]
fn probe_serial(pins: &mut Backend) -> ProbeSerial {
    crate::host::SimulatedSerial::new(pins)
}

#[cfg(not(feature = "host"))]
fn probe_serial(_pins: &mut Backend) -> ProbeSerial {
    dap::pins::NoSerial
}

pub type Processor = Dap<'static, PinWire<Backend, ProbeTimer, ProbeSerial>>;

/// Where the processor's requests come from, and the packet size each one takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// OpenOCD's framing over TCP, with this packet size (64..=[`MAX_PACKET_SIZE`]).
    Tcp { packet_size: u16 },
    /// `dap.process()` with 64-byte reports, as the original's HID.
    Calls,
    /// A probe board's USB device (CMSIS-DAP v2 bulk or v1 HID) with this packet size.
    #[cfg_attr(not(feature = "board-gpio"), allow(dead_code))]
    Usb(u16),
}

impl Transport {
    /// DAP_Info 0xFF for this transport.
    pub fn packet_size(self) -> u16 {
        match self {
            Transport::Tcp { packet_size } => packet_size,
            Transport::Calls => REPORT_PACKET_SIZE,
            Transport::Usb(packet_size) => packet_size,
        }
    }

    pub fn is_tcp(self) -> bool {
        matches!(self, Transport::Tcp { .. })
    }
}

/// The packet size `dap.init(tcp=...)` asked for; the next TCP client is served with it.
static TCP_PACKET: AtomicU16 = AtomicU16::new(TCP_PACKET_SIZE);

/// Set the TCP transport's packet size (`dap.init(packet_size=)`); false if it is outside
/// 64..=[`MAX_PACKET_SIZE`] (CMSIS-DAP DAP_Info: at least 64).
pub fn set_tcp_packet_size(size: usize) -> bool {
    if !(usize::from(REPORT_PACKET_SIZE)..=MAX_PACKET_SIZE).contains(&size) {
        return false;
    }
    TCP_PACKET.store(size as u16, Ordering::Relaxed);
    true
}

/// The TCP transport as `dap.init()` set it up.
pub fn tcp_transport() -> Transport {
    Transport::Tcp {
        packet_size: TCP_PACKET.load(Ordering::Relaxed),
    }
}

/// The TCP server's buffers, kept out of `DapServer` (and so out of the probe's static,
/// which is in `.data`): all zero, they go to `.bss` and cost no flash. 11 320 bytes on a
/// 32-bit board, 8 228 of them the queue of [`PACKET_COUNT`] packets.
struct Buffers {
    queue: Queue<MAX_PACKET_SIZE, PACKET_COUNT>,
    received: [u8; HEADER_LENGTH + MAX_PACKET_SIZE],
    received_length: usize,
    response: [u8; MAX_PACKET_SIZE],
    frame: [u8; HEADER_LENGTH + MAX_PACKET_SIZE],
}

static BUFFERS: Exclusive<Buffers> = Exclusive::new(Buffers {
    queue: Queue::new(),
    received: [0; HEADER_LENGTH + MAX_PACKET_SIZE],
    received_length: 0,
    response: [0; MAX_PACKET_SIZE],
    frame: [0; HEADER_LENGTH + MAX_PACKET_SIZE],
});

/// What a TCP client's requests looked like (reported with the wire's counters on the
/// host, BMP_SIM_STATISTICS=1).
#[derive(Clone, Copy, Default)]
struct Traffic {
    requests: u32,
    largest_request: usize,
    largest_response: usize,
    /// The most complete requests found waiting at once (requests in flight).
    most_waiting: usize,
}

/// BMP_DAP_LOG=FILE (host): one line per TCP request, for tools/bench_dap.py's breakdown
/// of where a client's time goes: the wall time it was taken and answered (µs since the
/// server started), the simulator's virtual time (ns) and SWCLK cycles before and after
/// it, the request and what was answered (hex; DAP_QueueCommands may answer later).
#[cfg(feature = "host")]
struct RequestLog {
    file: std::io::BufWriter<std::fs::File>,
    started: std::time::Instant,
}

#[cfg(feature = "host")]
impl RequestLog {
    fn open() -> Option<Self> {
        let path = std::env::var_os("BMP_DAP_LOG")?;
        // Appended to: each client's session after the last (tools/bench_dap.py empties it).
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()?;
        Some(RequestLog {
            file: std::io::BufWriter::new(file),
            started: std::time::Instant::now(),
        })
    }

    fn now_us(&self) -> u128 {
        self.started.elapsed().as_micros()
    }

    fn write(
        &mut self,
        taken_us: u128,
        before: Option<sim::Statistics>,
        after: Option<sim::Statistics>,
        request: &[u8],
        answers: &[u8],
    ) {
        use std::io::Write;
        let (before, after) = (before.unwrap_or_default(), after.unwrap_or_default());
        let hex = |bytes: &[u8]| {
            bytes
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
        };
        let _ = writeln!(
            self.file,
            "{} {} {} {} {} {} {} -{}",
            taken_us,
            self.started.elapsed().as_micros(),
            before.virtual_time_ns,
            after.virtual_time_ns,
            before.clock_cycles,
            after.clock_cycles,
            hex(request),
            hex(answers),
        );
    }
}

pub struct DapServer {
    processor: Processor,
    transport: Transport,
    traffic: Traffic,
    #[cfg(feature = "host")]
    log: Option<RequestLog>,
    /// Length of a USB response (in `Buffers::response`) the IN endpoint has not taken yet.
    #[cfg_attr(not(feature = "board-gpio"), allow(dead_code))]
    unsent: usize,
}

fn config(transport: Transport) -> Config<'static> {
    let mut config = Config::new(transport.packet_size());
    config.packet_count = PACKET_COUNT as u8;
    config.strings = STRINGS;
    config.timestamp_hz = Some(1_000_000);
    config
}

impl DapServer {
    pub fn new(mut pins: Backend, transport: Transport) -> Self {
        let serial = probe_serial(&mut pins);
        let processor = Dap::new(
            PinWire::with_serial(pins, ProbeTimer, serial),
            config(transport),
        )
        .expect("valid configuration");
        if transport.is_tcp() {
            BUFFERS.with(|buffers| {
                buffers.received_length = 0;
                buffers.queue = Queue::new();
            });
        }
        Self {
            processor,
            transport,
            traffic: Traffic::default(),
            #[cfg(feature = "host")]
            log: RequestLog::open(),
            unsent: 0,
        }
    }

    pub fn transport(&self) -> Transport {
        self.transport
    }

    pub fn pins(&mut self) -> &mut Backend {
        self.processor.wire().pins()
    }

    /// Give the pins back (dap.deinit()).
    pub fn into_pins(self) -> Backend {
        self.processor.into_wire().into_parts().0
    }

    /// One request that came on USB: answer it, holding the answer until the IN endpoint
    /// takes it (`flush_usb`). A request the processor cannot answer gets nothing.
    #[cfg(feature = "board-gpio")]
    pub fn answer_usb(&mut self, request: &[u8]) {
        let room = usize::from(self.transport.packet_size()).min(MAX_PACKET_SIZE);
        let processor = &mut self.processor;
        self.unsent = BUFFERS
            .with(|buffers| {
                processor
                    .process(request, &mut buffers.response[..room])
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        self.flush_usb();
    }

    /// Send a held USB answer; true once none is held.
    #[cfg(feature = "board-gpio")]
    pub fn flush_usb(&mut self) -> bool {
        let unsent = self.unsent;
        if unsent > 0
            && BUFFERS
                .with(|buffers| hal::board_usb_dap::transmit(&buffers.response[..unsent]))
                .unwrap_or(false)
        {
            self.unsent = 0;
        }
        self.unsent == 0
    }

    /// One request from `dap.process()`: the response length (0: none).
    pub fn process(&mut self, request: &[u8], response: &mut [u8]) -> Result<usize, dap::Error> {
        self.processor.process(request, response)
    }

    /// One poll step of the TCP server: answer every complete request. False once the
    /// client has gone (the server then gives the wire back). A second client waits in the
    /// listen backlog until then (`connection::accept`).
    pub fn step(&mut self) -> bool {
        if !self.transport.is_tcp() {
            return true;
        }
        let served = BUFFERS.with(|buffers| self.serve(buffers)).unwrap_or(false);
        if !served {
            self.hang_up();
        }
        served
    }

    /// Read and answer until nothing more is there (true) or the client has gone.
    fn serve(&mut self, buffers: &mut Buffers) -> bool {
        while connection::has_client(SLOTS) {
            match connection::read(SLOTS, &mut buffers.received[buffers.received_length..]) {
                Ok(0) => return true,
                Ok(count) => buffers.received_length += count,
                Err(Closed::Hangup | Closed::Error(_)) => break,
            }
            if self.answer_complete_requests(buffers).is_err() {
                break;
            }
        }
        buffers.received_length = 0;
        buffers.queue = Queue::new();
        false
    }

    fn hang_up(&mut self) {
        #[cfg(feature = "host")]
        {
            // The log is complete before the counters say the session is over.
            if let Some(log) = self.log.as_mut() {
                use std::io::Write;
                let _ = log.file.flush();
            }
            crate::host::report_statistics(self.pins());
            if std::env::var("BMP_SIM_STATISTICS").is_ok_and(|value| value == "1") {
                use core::sync::atomic::AtomicU32;
                // Idle waits a socket ended since the last report (woken by a request).
                static WAKEUPS: AtomicU32 = AtomicU32::new(0);
                let wakeups = crate::mpy::stream::socket_wakeups();
                let woken = wakeups.wrapping_sub(WAKEUPS.swap(wakeups, Ordering::Relaxed));
                let traffic = self.traffic;
                eprintln!(
                    "bmp dap: packet_size={} packet_count={} requests={} largest_request={} largest_response={} most_waiting={} woken={}",
                    self.transport.packet_size(),
                    PACKET_COUNT,
                    traffic.requests,
                    traffic.largest_request,
                    traffic.largest_response,
                    traffic.most_waiting,
                    woken,
                );
            }
        }
        self.traffic = Traffic::default();
        connection::hang_up(SLOTS);
    }

    /// Answer the framed requests received so far; keep a partial one. A frame out of
    /// step (bad signature, type, length beyond the packet size) ends the connection:
    /// nothing after it can be trusted.
    fn answer_complete_requests(&mut self, buffers: &mut Buffers) -> Result<(), ()> {
        let packet_size = self.transport.packet_size();
        let Buffers {
            queue,
            received,
            received_length,
            response,
            frame,
        } = buffers;
        let waiting = complete_frames(&received[..*received_length], packet_size);
        self.traffic.most_waiting = self.traffic.most_waiting.max(waiting);
        let mut start = 0;
        while *received_length - start >= HEADER_LENGTH {
            let header = tcp::decode_header(&received[start..*received_length], packet_size)
                .map_err(|_| ())?;
            if header.packet_type != tcp::PacketType::Request {
                return Err(());
            }
            let length = HEADER_LENGTH + header.length as usize;
            if *received_length - start < length {
                break;
            }
            let request = &received[start + HEADER_LENGTH..start + length];
            self.traffic.requests += 1;
            self.traffic.largest_request = self.traffic.largest_request.max(request.len());
            let mut failed = false;
            let mut largest_response = self.traffic.largest_response;
            #[cfg(feature = "host")]
            let (logging, mut answers) = (self.log.is_some(), Vec::new());
            #[cfg(feature = "host")]
            let (taken_us, before) = match self.log.as_ref() {
                Some(log) => (
                    log.now_us(),
                    crate::host::simulated_clock(self.processor.wire().pins()),
                ),
                None => (0, None),
            };
            let result = queue.submit(
                &mut self.processor,
                request,
                &mut response[..usize::from(packet_size)],
                |answer| {
                    largest_response = largest_response.max(answer.len());
                    #[cfg(feature = "host")]
                    if logging {
                        answers.extend_from_slice(answer);
                    }
                    // Header and payload in one write: one TCP segment per reply.
                    frame[HEADER_LENGTH..HEADER_LENGTH + answer.len()].copy_from_slice(answer);
                    let length = tcp::frame_response(frame, answer.len()).unwrap_or(0);
                    failed |= connection::write(SLOTS, &frame[..length]).is_err();
                },
            );
            self.traffic.largest_response = largest_response;
            #[cfg(feature = "host")]
            if logging {
                let after = crate::host::simulated_clock(self.processor.wire().pins());
                if let Some(log) = self.log.as_mut() {
                    log.write(taken_us, before, after, request, &answers);
                }
            }
            if result.is_err() || failed {
                return Err(());
            }
            start += length;
        }
        received.copy_within(start..*received_length, 0);
        *received_length -= start;
        Ok(())
    }
}

/// How many complete request frames `bytes` holds (for the in-flight count).
fn complete_frames(bytes: &[u8], packet_size: u16) -> usize {
    let mut count = 0;
    let mut rest = bytes;
    while let Ok(header) = tcp::decode_header(rest, packet_size) {
        let length = HEADER_LENGTH + usize::from(header.length);
        if rest.len() < length {
            break;
        }
        count += 1;
        rest = &rest[length..];
    }
    count
}
