//! The ITM decoder (rust/debug/src/itm.rs, ARMv7-M D4.2).
//!
//! Two checks on each input: fed as a raw SWO stream, the decoder never panics, never gives
//! more bytes than it took and only ports 0-31; and read as a list of (port, size, data)
//! writes, encoded as software source packets with synchronization, overflow, timestamp
//! and hardware source packets between them (D4.2), it gives back exactly those bytes.
#![no_main]

use debug::itm::ItmDecoder;
use libfuzzer_sys::fuzz_target;

/// Packets that carry no stimulus data, put between the writes (D4.2.1-D4.2.5).
const NOISE: [&[u8]; 5] = [
    &[0x00, 0x00, 0x00, 0x00, 0x00, 0x80], // synchronization
    &[0x70],                               // overflow
    &[0xC0, 0x81, 0x02],                   // local timestamp with continuation bytes
    &[0x05, 0x20],                         // hardware source packet (event counter)
    &[0x94, 0x80, 0x01],                   // global timestamp 1 with a continuation
];

fn raw_stream(input: &[u8]) {
    let mut decoder = ItmDecoder::new();
    let mut out = 0;
    for &byte in input {
        if let Some((port, _)) = decoder.feed(byte) {
            assert!(port < 32, "stimulus port {port}");
            out += 1;
        }
    }
    assert!(out <= input.len());
}

fn round_trip(input: &[u8]) {
    let mut stream = Vec::new();
    let mut expected = Vec::new();
    let mut rest = input;
    while let Some((&control, tail)) = rest.split_first() {
        let port = control & 0x1F;
        let size = [1usize, 2, 4, 1][usize::from(control >> 5 & 3)];
        if tail.len() < size {
            break;
        }
        let (data, tail) = tail.split_at(size);
        rest = tail;
        if control & 0x80 != 0 {
            stream.extend_from_slice(NOISE[usize::from(data[0]) % NOISE.len()]);
        }
        let size_bits = match size {
            1 => 0b01,
            2 => 0b10,
            _ => 0b11,
        };
        stream.push(port << 3 | size_bits);
        stream.extend_from_slice(data);
        expected.extend(data.iter().map(|&byte| (port, byte)));
    }
    let mut decoder = ItmDecoder::new();
    let decoded: Vec<(u8, u8)> = stream
        .iter()
        .filter_map(|&byte| decoder.feed(byte))
        .collect();
    assert_eq!(decoded, expected, "stream {stream:02x?}");
}

fuzz_target!(|input: &[u8]| {
    raw_stream(input);
    round_trip(input);
});
