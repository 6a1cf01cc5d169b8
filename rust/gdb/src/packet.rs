//! RSP framing (GDB manual E.1 "Overview", E.11 "Interrupts", E.12 "Packet Acknowledgment"):
//! `$body#cc` with a modulo-256 checksum of the body as sent, `}` escapes (next byte XOR
//! 0x20), run-length encoding (`X*n`: X repeated n - 29 more times), 0x03 as an interrupt
//! outside a packet, and `+`/`-` acknowledgments.

use crate::hex;

/// What a received byte completed.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A packet with a good checksum: the decoded body.
    Packet(&'a [u8]),
    /// A packet whose body did not fit the buffer (checksum good): answer with an error.
    Oversized,
    /// A damaged packet: bad checksum or bad escape/run-length; ask again (`-`).
    Damaged,
    /// 0x03 between packets: stop the target.
    Interrupt,
    /// `+`: the last reply arrived.
    Ack,
    /// `-`: send the last reply again.
    Nak,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Body,
    Escape,
    Repeat,
    ChecksumHigh,
    ChecksumLow(u8),
}

/// Decodes a byte stream into packets, keeping at most `N` body bytes.
pub struct Decoder<const N: usize> {
    state: State,
    body: heapless::Vec<u8, N>,
    checksum: u8,
    overflow: bool,
    damaged: bool,
}

impl<const N: usize> Default for Decoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Decoder<N> {
    pub const fn new() -> Self {
        Self {
            state: State::Idle,
            body: heapless::Vec::new(),
            checksum: 0,
            overflow: false,
            damaged: false,
        }
    }

    /// Forget a partial packet (the client went away).
    pub fn reset(&mut self) {
        self.state = State::Idle;
    }

    /// Inside a packet: a byte stream that stops here leaves a truncated packet.
    pub fn in_packet(&self) -> bool {
        self.state != State::Idle
    }

    fn start(&mut self) {
        self.state = State::Body;
        self.body.clear();
        self.checksum = 0;
        self.overflow = false;
        self.damaged = false;
    }

    fn push(&mut self, byte: u8) {
        if self.body.push(byte).is_err() {
            self.overflow = true;
        }
    }

    pub fn feed(&mut self, byte: u8) -> Option<Event<'_>> {
        match self.state {
            State::Idle => match byte {
                b'$' => {
                    self.start();
                    None
                }
                0x03 => Some(Event::Interrupt),
                b'+' => Some(Event::Ack),
                b'-' => Some(Event::Nak),
                _ => None, // line noise between packets
            },
            // A `$` inside a packet: the packet before was cut short; start again.
            _ if byte == b'$' => {
                self.start();
                None
            }
            State::Body => {
                match byte {
                    b'#' => self.state = State::ChecksumHigh,
                    b'}' => self.state = State::Escape,
                    b'*' => self.state = State::Repeat,
                    _ => self.push(byte),
                }
                if byte != b'#' {
                    self.checksum = self.checksum.wrapping_add(byte);
                }
                None
            }
            State::Escape => {
                self.checksum = self.checksum.wrapping_add(byte);
                self.push(byte ^ 0x20);
                self.state = State::Body;
                None
            }
            State::Repeat => {
                self.checksum = self.checksum.wrapping_add(byte);
                self.repeat(byte);
                self.state = State::Body;
                None
            }
            State::ChecksumHigh => {
                match hex::digit(byte) {
                    Some(high) => self.state = State::ChecksumLow(high),
                    None => {
                        self.state = State::Idle;
                        return Some(Event::Damaged);
                    }
                }
                None
            }
            State::ChecksumLow(high) => {
                self.state = State::Idle;
                let good = hex::digit(byte).is_some_and(|low| high << 4 | low == self.checksum);
                Some(if !good || self.damaged {
                    Event::Damaged
                } else if self.overflow {
                    Event::Oversized
                } else {
                    Event::Packet(&self.body)
                })
            }
        }
    }

    /// `*n` repeats the byte before n - 29 more times (E.1); n is printable, not `#` or `$`.
    fn repeat(&mut self, count: u8) {
        let (Some(&byte), 29..=126) = (self.body.last(), count) else {
            self.damaged = true;
            return;
        };
        for _ in 0..count - 29 {
            self.push(byte);
        }
    }
}

/// Builds one reply packet `$...#cc` in a fixed buffer (kept for a resend on `-`).
pub struct Encoder<const N: usize> {
    buffer: heapless::Vec<u8, N>,
    checksum: u8,
    overflow: bool,
}

impl<const N: usize> Default for Encoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Encoder<N> {
    pub const fn new() -> Self {
        Self {
            buffer: heapless::Vec::new(),
            checksum: 0,
            overflow: false,
        }
    }

    /// Room for body bytes (worst case, before escapes) once `$` and `#cc` are counted.
    pub const fn capacity() -> usize {
        N - 4
    }

    pub fn start(&mut self) {
        self.buffer.clear();
        let _ = self.buffer.push(b'$'); // N is at least 4
        self.checksum = 0;
        self.overflow = false;
    }

    fn raw(&mut self, byte: u8) {
        // Keep 3 bytes for "#cc".
        if self.buffer.len() + 3 < N {
            let _ = self.buffer.push(byte); // room checked
            self.checksum = self.checksum.wrapping_add(byte);
        } else {
            self.overflow = true;
        }
    }

    /// A body byte, escaped if the framing would misread it (`$`, `#`, `}`, and `*`,
    /// which a client would read as run-length encoding).
    pub fn byte(&mut self, byte: u8) {
        if matches!(byte, b'$' | b'#' | b'}' | b'*') {
            self.raw(b'}');
            self.raw(byte ^ 0x20);
        } else {
            self.raw(byte);
        }
    }

    pub fn bytes(&mut self, data: &[u8]) {
        for &byte in data {
            self.byte(byte);
        }
    }

    pub fn text(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    pub fn hex_byte(&mut self, byte: u8) {
        self.raw(hex::DIGITS[usize::from(byte >> 4)]);
        self.raw(hex::DIGITS[usize::from(byte & 0xF)]);
    }

    pub fn hex_bytes(&mut self, data: &[u8]) {
        for &byte in data {
            self.hex_byte(byte);
        }
    }

    /// A number in hex without leading zeros (as in stop replies and qCRC).
    pub fn hex_number(&mut self, value: u32) {
        let digits = (32 - value.leading_zeros()).div_ceil(4).max(1);
        for index in (0..digits).rev() {
            self.raw(hex::DIGITS[(value >> (index * 4)) as usize & 0xF]);
        }
    }

    /// Close the packet; None if the body did not fit (a bug in the caller's sizing).
    pub fn finish(&mut self) -> Option<&[u8]> {
        if self.overflow {
            return None;
        }
        let checksum = self.checksum;
        let trailer = [
            b'#',
            hex::DIGITS[usize::from(checksum >> 4)],
            hex::DIGITS[usize::from(checksum & 0xF)],
        ];
        // `raw` keeps room for the trailer.
        self.buffer.extend_from_slice(&trailer).ok()?;
        Some(&self.buffer)
    }

    /// The last finished packet, to send again.
    pub fn last(&self) -> &[u8] {
        &self.buffer
    }
}

impl<const N: usize> core::fmt::Write for Encoder<N> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.text(text);
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `$body#cc`, as a client frames a packet.
    pub(crate) fn frame(body: &[u8]) -> Vec<u8> {
        let checksum = body.iter().fold(0u8, |sum, &byte| sum.wrapping_add(byte));
        let mut packet = vec![b'$'];
        packet.extend_from_slice(body);
        packet.extend_from_slice(format!("#{checksum:02x}").as_bytes());
        packet
    }

    fn events<const N: usize>(decoder: &mut Decoder<N>, input: &[u8]) -> Vec<String> {
        let mut seen = Vec::new();
        for &byte in input {
            if let Some(event) = decoder.feed(byte) {
                seen.push(match event {
                    Event::Packet(body) => format!("packet {}", String::from_utf8_lossy(body)),
                    other => format!("{other:?}"),
                });
            }
        }
        seen
    }

    #[test]
    fn a_good_packet_is_decoded() {
        let mut decoder = Decoder::<64>::new();
        assert_eq!(
            events(&mut decoder, &frame(b"qSupported")),
            ["packet qSupported"]
        );
        assert_eq!(events(&mut decoder, b"$?#3f"), ["packet ?"]);
    }

    #[test]
    fn a_bad_checksum_is_damaged_and_the_next_packet_still_decodes() {
        let mut decoder = Decoder::<64>::new();
        assert_eq!(events(&mut decoder, b"$?#40"), ["Damaged"]);
        assert_eq!(events(&mut decoder, b"$?#zz"), ["Damaged"]);
        assert_eq!(events(&mut decoder, b"$g#67"), ["packet g"]);
    }

    #[test]
    fn a_truncated_packet_is_dropped_at_the_next_start() {
        let mut decoder = Decoder::<64>::new();
        let mut input = b"$m2000".to_vec();
        input.extend(frame(b"g"));
        assert_eq!(events(&mut decoder, &input), ["packet g"]);
        assert!(!decoder.in_packet());
        assert_eq!(events(&mut decoder, b"$m20"), Vec::<String>::new());
        assert!(decoder.in_packet());
    }

    #[test]
    fn escapes_are_decoded_and_counted_in_the_checksum() {
        let mut decoder = Decoder::<64>::new();
        // X with data bytes '#', '$', '}' and 0x03 escaped.
        let body = [
            b'X',
            b'}',
            b'#' ^ 0x20,
            b'}',
            b'$' ^ 0x20,
            b'}',
            b'}' ^ 0x20,
            0x03,
        ];
        let mut seen = Vec::new();
        for byte in frame(&body) {
            if let Some(Event::Packet(decoded)) = decoder.feed(byte) {
                seen = decoded.to_vec();
            }
        }
        assert_eq!(seen, [b'X', b'#', b'$', b'}', 0x03]);
    }

    #[test]
    fn run_length_encoding_is_expanded() {
        let mut decoder = Decoder::<64>::new();
        // "0* " is '0' and 32 - 29 = 3 more: "0000".
        assert_eq!(events(&mut decoder, &frame(b"m0* ,4")), ["packet m0000,4"]);
        // A count with nothing before it is damage.
        assert_eq!(events(&mut decoder, &frame(b"* ")), ["Damaged"]);
    }

    #[test]
    fn an_oversized_packet_is_reported_not_truncated() {
        let mut decoder = Decoder::<8>::new();
        assert_eq!(
            events(&mut decoder, &frame(b"M20000000,4:01020304")),
            ["Oversized"]
        );
        assert_eq!(events(&mut decoder, &frame(b"?")), ["packet ?"]);
    }

    #[test]
    fn acks_and_interrupts_between_packets() {
        let mut decoder = Decoder::<8>::new();
        assert_eq!(
            events(&mut decoder, b"+-\x03x"),
            ["Ack", "Nak", "Interrupt"]
        );
    }

    #[test]
    fn the_encoder_escapes_and_sums() {
        let mut encoder = Encoder::<32>::new();
        encoder.start();
        encoder.bytes(b"a#b*");
        assert_eq!(encoder.finish().unwrap(), &frame(b"a}\x03b}\x0a")[..]);
        encoder.start();
        encoder.hex_number(0x5);
        encoder.hex_number(0x2000_0000);
        assert_eq!(encoder.finish().unwrap(), &frame(b"520000000")[..]);
        // What the encoder writes, the decoder reads back.
        let mut decoder = Decoder::<32>::new();
        encoder.start();
        encoder.bytes(&[0x23, 0x24, 0x7d, 0x2a, 0x00, 0xff]);
        let packet = encoder.finish().unwrap().to_vec();
        let mut decoded = Vec::new();
        for byte in packet {
            if let Some(Event::Packet(body)) = decoder.feed(byte) {
                decoded = body.to_vec();
            }
        }
        assert_eq!(decoded, [0x23, 0x24, 0x7d, 0x2a, 0x00, 0xff]);
    }

    #[test]
    fn the_encoder_refuses_to_overflow() {
        let mut encoder = Encoder::<8>::new();
        encoder.start();
        encoder.text("0123456789");
        assert!(encoder.finish().is_none());
    }
}
