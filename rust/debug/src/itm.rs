//! ITM packets as they arrive on SWO (ARMv7-M ARM D4.2 "Packet types"): software source
//! packets carry the bytes a program writes to a stimulus port; everything else
//! (synchronization, overflow, timestamps, extension and hardware source packets) is
//! skipped.

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
    /// Continuation bytes of a protocol packet (bit 7 set while more follow).
    Protocol,
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
        match self.state {
            State::Header => {
                self.header(byte);
                None
            }
            State::Synchronization => {
                if byte != 0 {
                    self.state = State::Header; // the 1 bit that ends it (D4.2.1)
                }
                None
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
                software.then_some((port, byte))
            }
            State::Protocol => {
                if byte & 0x80 == 0 {
                    self.state = State::Header;
                }
                None
            }
        }
    }

    fn header(&mut self, byte: u8) {
        let size = byte & 0b11;
        self.state = match (byte, size) {
            (0x00, _) => State::Synchronization,
            (0x70, _) => State::Header, // overflow, no payload (D4.2.3)
            // Protocol packets: timestamps and extensions continue while bit 7 is set.
            (_, 0) if byte & 0x80 != 0 => State::Protocol,
            (_, 0) => State::Header,
            // Source packets: payload 1, 2 or 4 bytes; bit 2 marks a hardware source.
            (_, _) => State::Source {
                port: byte >> 3,
                left: if size == 3 { 4 } else { size },
                software: byte & 0b100 == 0,
            },
        };
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
}
