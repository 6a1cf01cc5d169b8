//! Where RTT goes on the probe: bmp.rtt(). The engine (debug::rtt) finds the control block
//! and moves the bytes; this module gives it an output and an input, polled from bmp_loop():
//!
//! - a callback (`fun=`): called with a bytearray of up-channel bytes, as disp_fun is;
//! - a stream (`stream=`) or a TCP server (`tcp=`): up-channel bytes are written to it and
//!   what it sends goes to the down channel;
//! - otherwise the console, or bmp.disp_fun() if one is registered.
//!
//! A stream or client that does not take the bytes never makes the probe wait: a
//! non-blocking channel drops them, a blocking one keeps them in the target (debug::rtt).
#![forbid(unsafe_code)]

use crate::connection::{self, Closed, Slots};
use crate::gdb_server::display;
use crate::link::ProbeClock;
use crate::mpy::call;
use crate::mpy::stream::{self, Root};
use crate::probe::Probe;
use adi::Clock;
use debug::rtt::RttIo;

pub const SLOTS: Slots = Slots {
    listener: Root::BMP_ROOT_RTT_LISTENER,
    stream: Root::BMP_ROOT_RTT_STREAM,
};

pub struct RttOutput {
    clock: Option<ProbeClock>,
}

impl RttOutput {
    pub const fn new() -> Self {
        Self { clock: None }
    }

    /// One step: take a waiting TCP client, then one RTT poll if it is due.
    pub fn poll(&mut self, probe: &mut Probe) {
        if !probe.session.rtt.config.enabled {
            return;
        }
        // A new client gets what the target writes from now on.
        let _ = connection::accept(SLOTS);
        let now = self.clock.get_or_insert_with(ProbeClock::new).now_micros();
        probe.session.rtt_poll(now, &mut Io);
    }
}

struct Io;

impl RttIo for Io {
    fn up(&mut self, _channel: u8, data: &[u8]) -> usize {
        let function = stream::root(Root::BMP_ROOT_RTT_FUN);
        if function.is_set() {
            call::display(function, data);
            return data.len();
        }
        if !connection::is_open(SLOTS) {
            display(data);
            return data.len();
        }
        let client = stream::root(SLOTS.stream);
        if !client.is_set() {
            return 0; // a TCP server without a client: nobody reads
        }
        let written = stream::write_some(client, data);
        if written < 0 {
            connection::hang_up(SLOTS);
            return 0;
        }
        written as usize
    }

    fn down(&mut self, _channel: u8, buffer: &mut [u8]) -> usize {
        match connection::read(SLOTS, buffer) {
            Ok(count) => count,
            Err(Closed::Hangup | Closed::Error(_)) => {
                connection::hang_up(SLOTS);
                0
            }
        }
    }
}
