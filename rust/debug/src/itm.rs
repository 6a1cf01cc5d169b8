//! ITM packets as they arrive on SWO (ARMv7-M ARM D4.2 "Packet types"): software source
//! packets carry the bytes a program writes to a stimulus port; overflow packets, local
//! timestamps and synchronization packets are reported ([`Item`]); extension, global
//! timestamp and hardware source packets are skipped.
//!
//! [`SwoDecoder`] takes the SWO stream either as the TPIU's bypass output (plain ITM) or
//! formatted in 16-byte frames (TPIU_FFCR.EnFCont; CoreSight Architecture Specification,
//! "Formatter"): it switches to frames when it sees a full frame synchronization packet
//! (FF FF FF 7F) where an ITM packet would start (there 0xFF would be a hardware source
//! packet of DWT ID 31, which does not exist), and then passes the data of every trace
//! source ID but the null ID 0 and the reserved 0x70-0x7F to the ITM decoder.

// repr(u8): Header is tag 0 (not a niche value), so a decoder in a static is all zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum State {
    Header,
    /// Zero bytes of a synchronization packet, until its final 0x80.
    Synchronization,
    /// Payload bytes of a source packet.
    Source {
        port: u8,
        left: u8,
        software: bool,
    },
    /// Continuation bytes of a protocol packet (bit 7 set while more follow); a local
    /// timestamp's value so far (7 bits a byte, least significant first).
    Protocol {
        timestamp: Option<(u32, u8)>,
    },
}

/// What a byte of the ITM stream completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// A byte written to stimulus port `port`.
    Data { port: u8, byte: u8 },
    /// The ITM lost packets: its FIFO was full (D4.2.3).
    Overflow,
    /// A local timestamp: the timestamp clock ticks since the previous one (D4.2.4).
    Timestamp(u32),
    /// A synchronization packet ended (D4.2.1).
    Synchronization,
}

/// Decodes an SWO byte stream into (stimulus port, byte) pairs.
#[derive(Clone, Copy, Debug)]
pub struct ItmDecoder {
    state: State,
}

impl Default for ItmDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ItmDecoder {
    pub const fn new() -> Self {
        Self {
            state: State::Header,
        }
    }

    /// Take one byte; a data byte of stimulus port `port` when it completes one.
    pub fn feed(&mut self, byte: u8) -> Option<(u8, u8)> {
        match self.decode(byte) {
            Some(Item::Data { port, byte }) => Some((port, byte)),
            _ => None,
        }
    }

    /// Take one byte; what it completed, if anything.
    pub fn decode(&mut self, byte: u8) -> Option<Item> {
        match self.state {
            State::Header => self.header(byte),
            State::Synchronization => {
                if byte == 0 {
                    return None;
                }
                self.state = State::Header; // the 1 bit that ends it (D4.2.1)
                Some(Item::Synchronization)
            }
            State::Source {
                port,
                left,
                software,
            } => {
                self.state = match left {
                    1 => State::Header,
                    _ => State::Source {
                        port,
                        left: left - 1,
                        software,
                    },
                };
                software.then_some(Item::Data { port, byte })
            }
            State::Protocol { timestamp } => {
                let timestamp = timestamp.map(|(value, shift)| {
                    let bits = u32::from(byte & 0x7F).checked_shl(u32::from(shift));
                    (value | bits.unwrap_or(0), shift.saturating_add(7))
                });
                if byte & 0x80 != 0 {
                    self.state = State::Protocol { timestamp };
                    return None;
                }
                self.state = State::Header;
                timestamp.map(|(value, _)| Item::Timestamp(value))
            }
        }
    }

    fn header(&mut self, byte: u8) -> Option<Item> {
        let size = byte & 0b11;
        let (state, item) = match (byte, size) {
            (0x00, _) => (State::Synchronization, None),
            (0x70, _) => (State::Header, Some(Item::Overflow)), // no payload (D4.2.3)
            // Local timestamp format 1 (0b1TTT0000): 7-bit groups follow (D4.2.4).
            (_, 0) if byte & 0x8F == 0x80 => (
                State::Protocol {
                    timestamp: Some((0, 0)),
                },
                None,
            ),
            // Other protocol packets (extension, global timestamps) continue while bit 7
            // is set.
            (_, 0) if byte & 0x80 != 0 => (State::Protocol { timestamp: None }, None),
            // Local timestamp format 2 (0b0TTT0000, TTT 1..6): the value in the header.
            (_, 0) if byte & 0x0F == 0 && (1..=6).contains(&(byte >> 4)) => {
                (State::Header, Some(Item::Timestamp(u32::from(byte >> 4))))
            }
            (_, 0) => (State::Header, None),
            // Source packets: payload 1, 2 or 4 bytes; bit 2 marks a hardware source.
            (_, _) => (
                State::Source {
                    port: byte >> 3,
                    left: if size == 3 { 4 } else { size },
                    software: byte & 0b100 == 0,
                },
                None,
            ),
        };
        self.state = state;
        item
    }
}

/// The full frame synchronization packet, in the order its bytes arrive.
const FRAME_SYNCHRONIZATION: [u8; 4] = [0xFF, 0xFF, 0xFF, 0x7F];
const FRAME_BYTES: usize = 16;
/// Trace source IDs that carry no source's data: null, and the reserved range.
const NULL_ID: u8 = 0x00;
const RESERVED_IDS: core::ops::RangeInclusive<u8> = 0x70..=0x7F;

/// The SWO stream to ITM [`Item`]s, deframing the TPIU's formatter output once a frame
/// synchronization shows it is on (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub struct SwoDecoder {
    itm: ItmDecoder,
    /// Bytes of a frame synchronization packet matched so far.
    synchronization: u8,
    framed: bool,
    frame: [u8; FRAME_BYTES],
    filled: u8,
    /// The trace source ID in effect.
    id: u8,
}

impl Default for SwoDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SwoDecoder {
    pub const fn new() -> Self {
        Self {
            itm: ItmDecoder::new(),
            synchronization: 0,
            framed: false,
            frame: [0; FRAME_BYTES],
            filled: 0,
            id: NULL_ID,
        }
    }

    /// The stream arrives in formatter frames.
    pub fn framed(&self) -> bool {
        self.framed
    }

    /// Take one SWO byte; `out` gets what it completed (a frame's last byte completes up to
    /// 15 data bytes).
    pub fn feed(&mut self, byte: u8, out: &mut impl FnMut(Item)) {
        // A synchronization packet starts where a packet (plain) or a frame (framed) would.
        let at_start = if self.framed {
            self.filled == 0
        } else {
            self.itm.state == State::Header
        };
        let matched = usize::from(self.synchronization);
        if (matched > 0 || at_start) && byte == FRAME_SYNCHRONIZATION[matched] {
            self.synchronization += 1;
            if usize::from(self.synchronization) == FRAME_SYNCHRONIZATION.len() {
                self.synchronization = 0;
                self.framed = true;
                self.filled = 0;
            }
            return;
        }
        // Not a synchronization after all: what was held back is data.
        self.synchronization = 0;
        for &held in &FRAME_SYNCHRONIZATION[..matched] {
            self.take(held, out);
        }
        self.take(byte, out);
    }

    fn take(&mut self, byte: u8, out: &mut impl FnMut(Item)) {
        if !self.framed {
            if let Some(item) = self.itm.decode(byte) {
                out(item);
            }
            return;
        }
        self.frame[usize::from(self.filled)] = byte;
        self.filled += 1;
        if usize::from(self.filled) == FRAME_BYTES {
            self.filled = 0;
            self.deframe(out);
        }
    }

    /// A complete frame: even bytes are data (bit 0 in the aux byte) or ID changes (bit 0
    /// set; aux bit set: after the next byte), odd bytes data, byte 15 the aux bits.
    fn deframe(&mut self, out: &mut impl FnMut(Item)) {
        let aux = self.frame[FRAME_BYTES - 1];
        let mut delayed = None;
        for index in 0..FRAME_BYTES - 1 {
            let byte = self.frame[index];
            let aux_bit = aux >> (index / 2) & 1;
            if index % 2 == 0 && byte & 1 == 1 {
                if aux_bit == 1 {
                    delayed = Some(byte >> 1);
                } else {
                    self.id = byte >> 1;
                }
                continue;
            }
            let data = if index % 2 == 0 { byte | aux_bit } else { byte };
            if self.id != NULL_ID
                && !RESERVED_IDS.contains(&self.id)
                && let Some(item) = self.itm.decode(data)
            {
                out(item);
            }
            if let Some(id) = delayed.take() {
                self.id = id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &[u8]) -> Vec<(u8, u8)> {
        let mut decoder = ItmDecoder::new();
        input
            .iter()
            .filter_map(|&byte| decoder.feed(byte))
            .collect()
    }

    #[test]
    fn software_packets_of_each_size() {
        // Port 0 one byte 'h', port 1 two bytes "ij", port 31 four bytes "klmn".
        let input = [0x01, b'h', 0x0A, b'i', b'j', 0xFB, b'k', b'l', b'm', b'n'];
        assert_eq!(
            decode(&input),
            [
                (0, b'h'),
                (1, b'i'),
                (1, b'j'),
                (31, b'k'),
                (31, b'l'),
                (31, b'm'),
                (31, b'n')
            ]
        );
    }

    #[test]
    fn everything_else_is_skipped() {
        let input = [
            0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // synchronization
            0x70, // overflow
            0xC0, 0x81, 0x02, // local timestamp with continuation
            0x10, // local timestamp, one byte
            0x05, 0x20, // hardware source (DWT event counter), one byte
            0x01, b'x',
        ];
        assert_eq!(decode(&input), [(0, b'x')]);
    }

    fn items(input: &[u8]) -> Vec<Item> {
        let mut decoder = ItmDecoder::new();
        input
            .iter()
            .filter_map(|&byte| decoder.decode(byte))
            .collect()
    }

    #[test]
    fn timestamps_overflow_and_synchronization_are_reported() {
        let input = [
            0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // synchronization
            0x70, // overflow
            0xC0, 0xE8, 0x07, // local timestamp 1000 (format 1)
            0x30, // local timestamp 3 (format 2)
            0x94, 0x80, 0x01, // global timestamp: skipped
            0x01, b'x',
        ];
        assert_eq!(
            items(&input),
            [
                Item::Synchronization,
                Item::Overflow,
                Item::Timestamp(1000),
                Item::Timestamp(3),
                Item::Data {
                    port: 0,
                    byte: b'x'
                }
            ]
        );
    }

    fn swo(input: &[u8]) -> (Vec<(u8, u8)>, bool) {
        let mut decoder = SwoDecoder::new();
        let mut data = Vec::new();
        for &byte in input {
            decoder.feed(byte, &mut |item| {
                if let Item::Data { port, byte } = item {
                    data.push((port, byte));
                }
            });
        }
        (data, decoder.framed())
    }

    /// A frame of ID `id` holding `data` (14 bytes at most; even slots keep bit 0 in the
    /// aux byte), then null-ID changes and padding.
    fn frame(id: u8, data: &[u8]) -> [u8; 16] {
        let mut slots: Vec<(u8, bool)> = vec![(id, true)];
        slots.extend(data.iter().map(|&byte| (byte, false)));
        let mut frame = [0u8; 16];
        while slots.len() < 15 {
            if slots.len().is_multiple_of(2) {
                slots.push((0, true));
            } else {
                slots.push((0, false));
            }
        }
        for (index, &(value, id_change)) in slots.iter().enumerate() {
            if index % 2 == 1 {
                frame[index] = value;
            } else if id_change {
                frame[index] = value << 1 | 1;
            } else {
                frame[index] = value & 0xFE;
                frame[15] |= (value & 1) << (index / 2);
            }
        }
        frame
    }

    #[test]
    fn plain_itm_passes_through_even_with_sync_bytes_in_a_payload() {
        // A 4-byte write of 0x7FFFFFFF: FF FF FF 7F inside a packet is data.
        let input = [0x03, 0xFF, 0xFF, 0xFF, 0x7F, 0x01, b'k'];
        let (data, framed) = swo(&input);
        assert!(!framed);
        assert_eq!(
            data,
            [(0, 0xFF), (0, 0xFF), (0, 0xFF), (0, 0x7F), (0, b'k')]
        );
    }

    #[test]
    fn formatter_frames_are_unwrapped_after_a_synchronization() {
        let mut input = vec![0x01, b'a']; // plain, before the formatter starts
        input.extend([0xFF, 0xFF, 0xFF, 0x7F]);
        // ID 1: "hi" on port 0 and a packet header whose byte comes in the next frame, then
        // a byte on port 1; the null-ID padding is not data.
        input.extend(frame(1, &[0x01, b'h', 0x01, b'i', 0x01]));
        input.extend([0xFF, 0xFF, 0xFF, 0x7F]); // synchronization between frames
        input.extend(frame(1, &[b'!', 0x09, b'2']));
        let (data, framed) = swo(&input);
        assert!(framed);
        assert_eq!(
            data,
            [(0, b'a'), (0, b'h'), (0, b'i'), (0, b'!'), (1, b'2')]
        );
    }
}
