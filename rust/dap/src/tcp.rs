//! OpenOCD's `cmsis-dap backend tcp` framing (OpenOCD `src/jtag/drivers/cmsis_dap_tcp.c`):
//! an 8-byte little-endian header before each CMSIS-DAP packet. No socket code here.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | u32 | signature 0x00504144, "DAP\0" |
//! | 4 | u16 | payload length, header not counted |
//! | 6 | u8 | type: 1 request, 2 response |
//! | 7 | u8 | reserved, 0 |

/// "DAP\0" read as a little-endian u32.
pub const SIGNATURE: u32 = 0x0050_4144;
pub const HEADER_LENGTH: usize = 8;
/// OpenOCD's default port for the backend.
pub const DEFAULT_PORT: u16 = 4441;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketType {
    Request = 1,
    Response = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub packet_type: PacketType,
    /// Payload bytes after the header.
    pub length: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Fewer than 8 bytes.
    Short,
    /// Not "DAP\0": not a CMSIS-DAP TCP stream, or out of step with it.
    Signature,
    /// A type other than 1 or 2.
    Type(u8),
    /// A payload of 0 bytes or more than the packet size.
    Length(u16),
}

/// Decode a header; `max_length` is the largest payload accepted (the DAP packet size).
/// The reserved byte is ignored.
pub fn decode_header(bytes: &[u8], max_length: u16) -> Result<Header, FrameError> {
    let header: &[u8; HEADER_LENGTH] = bytes
        .get(..HEADER_LENGTH)
        .and_then(|slice| slice.try_into().ok())
        .ok_or(FrameError::Short)?;
    let signature = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    if signature != SIGNATURE {
        return Err(FrameError::Signature);
    }
    let length = u16::from_le_bytes([header[4], header[5]]);
    let packet_type = match header[6] {
        1 => PacketType::Request,
        2 => PacketType::Response,
        other => return Err(FrameError::Type(other)),
    };
    if length == 0 || length > max_length {
        return Err(FrameError::Length(length));
    }
    Ok(Header {
        packet_type,
        length,
    })
}

/// Encode a header.
pub fn encode_header(header: Header) -> [u8; HEADER_LENGTH] {
    let mut bytes = [0u8; HEADER_LENGTH];
    bytes[..4].copy_from_slice(&SIGNATURE.to_le_bytes());
    bytes[4..6].copy_from_slice(&header.length.to_le_bytes());
    bytes[6] = header.packet_type as u8;
    bytes
}

/// Put a response header before a payload already written at `frame[8..8 + length]`
/// (e.g. by [`Dap::process`](crate::Dap::process) into `&mut frame[8..]`); returns the
/// frame length.
pub fn frame_response(frame: &mut [u8], length: usize) -> Result<usize, FrameError> {
    let total = HEADER_LENGTH + length;
    let payload = u16::try_from(length).map_err(|_| FrameError::Length(u16::MAX))?;
    if frame.len() < total {
        return Err(FrameError::Short);
    }
    frame[..HEADER_LENGTH].copy_from_slice(&encode_header(Header {
        packet_type: PacketType::Response,
        length: payload,
    }));
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let header = Header {
            packet_type: PacketType::Request,
            length: 6,
        };
        let bytes = encode_header(header);
        assert_eq!(bytes, [0x44, 0x41, 0x50, 0x00, 6, 0, 1, 0]);
        assert_eq!(decode_header(&bytes, 1024), Ok(header));
    }

    #[test]
    fn bad_headers() {
        assert_eq!(
            decode_header(&[0x44, 0x41, 0x50, 0], 64),
            Err(FrameError::Short)
        );
        let good = [0x44, 0x41, 0x50, 0x00, 6, 0, 1, 0];
        let mut bad = good;
        bad[3] = 1;
        assert_eq!(decode_header(&bad, 64), Err(FrameError::Signature));
        bad = good;
        bad[6] = 3;
        assert_eq!(decode_header(&bad, 64), Err(FrameError::Type(3)));
        bad = good;
        bad[4] = 65;
        assert_eq!(decode_header(&bad, 64), Err(FrameError::Length(65)));
        bad = good;
        bad[4] = 0;
        assert_eq!(decode_header(&bad, 64), Err(FrameError::Length(0)));
    }

    #[test]
    fn frames_a_response() {
        let mut frame = [0u8; 16];
        frame[8..10].copy_from_slice(&[0x00, 0x00]);
        assert_eq!(frame_response(&mut frame, 2), Ok(10));
        assert_eq!(&frame[..10], &[0x44, 0x41, 0x50, 0, 2, 0, 2, 0, 0, 0]);
        assert_eq!(frame_response(&mut frame, 9), Err(FrameError::Short));
    }
}
