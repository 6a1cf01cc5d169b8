//! A remote_bitbang server: OpenOCD's remote_bitbang protocol with its SWD extension
//! (OpenOCD doc/manual/jtag/drivers/remote_bitbang.txt), serving one TCP client at a time
//! and driving a [`Target`]'s pins.
//!
//! One ASCII character per request: B/b LED on/off; R read TDO; Q quit; '0'..'7' write
//! TCK, TMS, TDI ('0' + 4·tck + 2·tms + tdi); 'r'..'u' reset ('r' + 2·trst + srst, where
//! "a value of 1 here means to assert the reset", per that document); O/o SWDIO output
//! enable on/off; c read SWDIO; 'd'..'g' SWD write ('d' + 2·swclk + swdio); Z/z sleep 1 ms
//! / 1 µs. Reads are answered with '0' or '1'.

use super::Sim;
use crate::bus::Bus;
use std::io::{self, Read, Write};
use std::net::TcpListener;

/// What the server drives: the pins, plus the signals and delays the protocol has and the
/// Pins trait does not.
pub trait Target: wire::Pins {
    /// Let `nanoseconds` pass (Z/z).
    fn sleep(&mut self, nanoseconds: u64);
    /// nTRST (t/u).
    fn set_test_reset(&mut self, asserted: bool);
    /// The LED (B/b).
    fn set_led(&mut self, _on: bool) {}
}

impl<B: Bus> Target for Sim<B> {
    /// Virtual time passes; the server never sleeps for real.
    fn sleep(&mut self, nanoseconds: u64) {
        self.idle(nanoseconds);
    }

    fn set_test_reset(&mut self, asserted: bool) {
        Sim::set_test_reset(self, asserted);
    }
}

/// Why a client's session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The client sent Q.
    Quit,
    /// The client closed the connection.
    Closed,
}

const CHUNK: usize = 4096;

/// Serve one client until it quits or disconnects. Replies to the requests of one chunk
/// of input are sent together, before waiting for more input.
pub fn serve_client<T: Target + ?Sized, S: Read + Write>(
    target: &mut T,
    mut stream: S,
) -> io::Result<Ending> {
    let mut input = [0u8; CHUNK];
    let mut replies = Vec::with_capacity(CHUNK);
    loop {
        let length = match stream.read(&mut input) {
            Ok(0) => return Ok(Ending::Closed),
            Ok(length) => length,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        let mut quit = false;
        for &request in &input[..length] {
            match execute(target, request) {
                Step::Reply(level) => replies.push(if level { b'1' } else { b'0' }),
                Step::Quit => {
                    quit = true;
                    break;
                }
                Step::Done => {}
            }
        }
        if !replies.is_empty() {
            stream.write_all(&replies)?;
            stream.flush()?;
            replies.clear();
        }
        if quit {
            return Ok(Ending::Quit);
        }
    }
}

/// Accept clients one after the other, forever. A client's I/O error ends only that
/// client's session (reported through `on_error`).
pub fn serve<T: Target + ?Sized>(
    listener: &TcpListener,
    target: &mut T,
    mut on_error: impl FnMut(io::Error),
) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept()?;
        stream.set_nodelay(true)?;
        if let Err(error) = serve_client(target, stream) {
            on_error(error);
        }
    }
}

enum Step {
    Done,
    Reply(bool),
    Quit,
}

fn execute<T: Target + ?Sized>(target: &mut T, request: u8) -> Step {
    match request {
        b'B' => target.set_led(true),
        b'b' => target.set_led(false),
        b'R' => return Step::Reply(target.read_tdo()),
        b'Q' => return Step::Quit,
        b'0'..=b'7' => {
            let bits = request - b'0';
            // TMS and TDI settle before the clock edge they are sampled on.
            target.set_tdi(bits & 1 != 0);
            target.set_swdio(bits & 2 != 0);
            target.set_swclk(bits & 4 != 0);
        }
        b'r'..=b'u' => {
            let bits = request - b'r';
            target.set_test_reset(bits & 2 != 0);
            target.set_reset(bits & 1 != 0);
        }
        b'O' => target.swdio_output(true),
        b'o' => target.swdio_output(false),
        b'c' => return Step::Reply(target.read_swdio()),
        b'd'..=b'g' => {
            let bits = request - b'd';
            target.set_swdio(bits & 1 != 0);
            target.set_swclk(bits & 2 != 0);
        }
        b'Z' => target.sleep(1_000_000),
        b'z' => target.sleep(1_000),
        // Anything else (line ends from a hand-typed session) is ignored.
        _ => {}
    }
    Step::Done
}
