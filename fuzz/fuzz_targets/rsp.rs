//! RSP framing and dispatch: the GDB server against the model target (rust/gdb/src/model.rs).
//!
//! Input: one control byte, then the byte stream a client sends. The control byte seeds the
//! choices a real session makes around the stream: how it is cut into reads, when the probe
//! polls, and how a resumed target stops (breakpoint, watchpoint, fault, semihosting call
//! with r0/r1 taken from the stream). Checked: no panic, no hang (libFuzzer's -timeout), every
//! reply framed with a good checksum and no longer than PACKET_SIZE.
#![no_main]

use gdb::model::{Model, Probe, RAM};
use gdb::packet::{Decoder, Event};
use gdb::{HaltReason, PACKET_SIZE, Server, WatchKind};
use libfuzzer_sys::fuzz_target;

/// The choices, from a xorshift32 seeded by the control byte.
struct Choices(u32);

impl Choices {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }

    fn below(&mut self, bound: u32) -> u32 {
        self.next() % bound
    }
}

fn halt_reason(choices: &mut Choices, target: &mut Model, word: u32) -> HaltReason {
    match choices.below(7) {
        0 => HaltReason::Request,
        1 => HaltReason::Step,
        2 => HaltReason::Breakpoint { address: word },
        3 => HaltReason::Watchpoint {
            kind: WatchKind::Write,
            address: word,
        },
        4 => HaltReason::Fault,
        5 => HaltReason::Reset,
        _ => {
            // A semihosting call: an operation from the list or any number, a parameter
            // block in RAM or anywhere.
            target.registers[0] = if word & 1 == 0 {
                word >> 1 & 0x3F
            } else {
                word
            };
            target.registers[1] = if word & 2 == 0 {
                RAM + (word >> 8 & 0xFFF)
            } else {
                word
            };
            HaltReason::Semihosting
        }
    }
}

/// Every reply the server sent: framed, checksummed, within the packet size.
fn check_replies(decoder: &mut Decoder<{ PACKET_SIZE * 2 }>, probe: &mut Probe) {
    for byte in probe.sent.drain(..) {
        match decoder.feed(byte) {
            Some(Event::Packet(body)) => assert!(
                body.len() <= PACKET_SIZE,
                "a reply of {} bytes, more than PACKET_SIZE",
                body.len()
            ),
            Some(Event::Damaged) | Some(Event::Oversized) => panic!("a damaged reply"),
            _ => {}
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, stream)) = input.split_first() else {
        return;
    };
    let mut choices = Choices((u32::from(control) * 0x0101_0101) | 1);
    let mut server = Box::new(Server::new());
    let mut target = Model::new();
    let mut probe = Probe::default();
    let mut replies = Box::new(Decoder::<{ PACKET_SIZE * 2 }>::new());
    server.connected();
    let mut rest = stream;
    while !rest.is_empty() {
        let length = (1 + choices.below(96) as usize).min(rest.len());
        let (chunk, next) = rest.split_at(length);
        rest = next;
        server.receive(&mut target, &mut probe, chunk);
        if target.running && choices.below(3) == 0 {
            let word = chunk
                .iter()
                .fold(0u32, |word, &byte| word << 8 | u32::from(byte));
            let reason = halt_reason(&mut choices, &mut target, word);
            target.halts.push_back(reason);
        }
        server.poll(&mut target, &mut probe);
        check_replies(&mut replies, &mut probe);
    }
    for _ in 0..4 {
        server.poll(&mut target, &mut probe);
    }
    check_replies(&mut replies, &mut probe);
    server.disconnected();
});
