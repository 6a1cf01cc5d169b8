//! The CMSIS-DAP server: the processor on the probe's pins, fed by OpenOCD's TCP framing
//! (`cmsis-dap backend tcp`) or by `dap.process()` calls.
#![forbid(unsafe_code)]

use crate::connection::{self, Closed, Slots};
use crate::link::Backend;
use crate::mpy::hal;
use crate::mpy::stream::Root;
use dap::pins::{PinWire, Timer};
use dap::tcp::{self, HEADER_LENGTH};
use dap::{Config, Dap, Queue, Strings};

/// Packet size over TCP (bulk-like; OpenOCD resizes its buffers to DAP_Info 0xFF).
pub const TCP_PACKET_SIZE: usize = 1024;
/// Packet size of `dap.process()`: the original's 64-byte HID reports.
pub const REPORT_PACKET_SIZE: usize = 64;
const PACKET_COUNT: usize = 4;

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
pub type ProbeSerial = crate::host::SimulatedSwo;
#[cfg(not(feature = "host"))]
pub type ProbeSerial = dap::pins::NoSerial;

#[cfg(feature = "host")]
fn probe_serial(pins: &mut Backend) -> ProbeSerial {
    crate::host::SimulatedSwo::new(pins)
}

#[cfg(not(feature = "host"))]
fn probe_serial(_pins: &mut Backend) -> ProbeSerial {
    dap::pins::NoSerial
}

pub type Processor = Dap<'static, PinWire<Backend, ProbeTimer, ProbeSerial>>;

/// Where the processor's requests come from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    /// `dap.process()` with 64-byte reports, as the original's HID.
    Calls,
}

pub struct DapServer {
    processor: Processor,
    transport: Transport,
    queue: Queue<TCP_PACKET_SIZE, PACKET_COUNT>,
    received: [u8; HEADER_LENGTH + TCP_PACKET_SIZE],
    received_length: usize,
    response: [u8; TCP_PACKET_SIZE],
}

fn config(transport: Transport) -> Config<'static> {
    let packet_size = match transport {
        Transport::Tcp => TCP_PACKET_SIZE,
        Transport::Calls => REPORT_PACKET_SIZE,
    };
    let mut config = Config::new(packet_size as u16);
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
        Self {
            processor,
            transport,
            queue: Queue::new(),
            received: [0; HEADER_LENGTH + TCP_PACKET_SIZE],
            received_length: 0,
            response: [0; TCP_PACKET_SIZE],
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

    /// One request from `dap.process()`: the response length (0: none).
    pub fn process(&mut self, request: &[u8], response: &mut [u8]) -> Result<usize, dap::Error> {
        self.processor.process(request, response)
    }

    /// One poll step of the TCP server: answer every complete request. False once the
    /// client has gone (the server then gives the wire back). A second client waits in the
    /// listen backlog until then (`connection::accept`).
    pub fn step(&mut self) -> bool {
        if self.transport != Transport::Tcp {
            return true;
        }
        while connection::has_client(SLOTS) {
            match connection::read(SLOTS, &mut self.received[self.received_length..]) {
                Ok(0) => return true,
                Ok(count) => self.received_length += count,
                Err(Closed::Hangup | Closed::Error(_)) => break,
            }
            if self.answer_complete_requests().is_err() {
                break;
            }
        }
        self.hang_up();
        false
    }

    fn hang_up(&mut self) {
        #[cfg(feature = "host")]
        crate::host::report_statistics(self.pins());
        connection::hang_up(SLOTS);
        self.received_length = 0;
        self.queue = Queue::new();
    }

    /// Answer the framed requests received so far; keep a partial one. A frame out of
    /// step (bad signature, type, length) ends the connection: nothing after it can be
    /// trusted.
    fn answer_complete_requests(&mut self) -> Result<(), ()> {
        let mut start = 0;
        while self.received_length - start >= HEADER_LENGTH {
            let frame = &self.received[start..self.received_length];
            let header = tcp::decode_header(frame, TCP_PACKET_SIZE as u16).map_err(|_| ())?;
            if header.packet_type != tcp::PacketType::Request {
                return Err(());
            }
            let length = HEADER_LENGTH + header.length as usize;
            if frame.len() < length {
                break;
            }
            let request = &self.received[start + HEADER_LENGTH..start + length];
            let mut failed = false;
            let result = self.queue.submit(
                &mut self.processor,
                request,
                &mut self.response,
                |response| {
                    // Header and payload in one write: one TCP segment per reply.
                    let mut frame = [0u8; HEADER_LENGTH + TCP_PACKET_SIZE];
                    frame[HEADER_LENGTH..HEADER_LENGTH + response.len()].copy_from_slice(response);
                    let length = tcp::frame_response(&mut frame, response.len()).unwrap_or(0);
                    failed |= connection::write(SLOTS, &frame[..length]).is_err();
                },
            );
            if result.is_err() || failed {
                return Err(());
            }
            start += length;
        }
        self.received.copy_within(start..self.received_length, 0);
        self.received_length -= start;
        Ok(())
    }
}
