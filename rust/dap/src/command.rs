//! Command IDs (CMSIS-DAP DAP.h, "Command IDs") and the length of a request in a byte
//! stream.

use crate::buffer::{Fail, Request};
use num_enum::TryFromPrimitive;

/// A CMSIS-DAP command ID; `Command::try_from(id)` fails with [`UnknownCommand`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, TryFromPrimitive)]
#[num_enum(error_type(name = UnknownCommand, constructor = UnknownCommand))]
#[repr(u8)]
pub enum Command {
    Info = 0x00,
    HostStatus = 0x01,
    Connect = 0x02,
    Disconnect = 0x03,
    TransferConfigure = 0x04,
    Transfer = 0x05,
    TransferBlock = 0x06,
    TransferAbort = 0x07,
    WriteAbort = 0x08,
    Delay = 0x09,
    ResetTarget = 0x0A,
    SwjPins = 0x10,
    SwjClock = 0x11,
    SwjSequence = 0x12,
    SwdConfigure = 0x13,
    JtagSequence = 0x14,
    JtagConfigure = 0x15,
    JtagIdcode = 0x16,
    SwoTransport = 0x17,
    SwoMode = 0x18,
    SwoBaudrate = 0x19,
    SwoControl = 0x1A,
    SwoStatus = 0x1B,
    SwoData = 0x1C,
    SwdSequence = 0x1D,
    SwoExtendedStatus = 0x1E,
    UartTransport = 0x1F,
    UartConfigure = 0x20,
    UartTransfer = 0x21,
    UartControl = 0x22,
    UartStatus = 0x23,
    QueueCommands = 0x7E,
    ExecuteCommands = 0x7F,
}

/// The reply to an unimplemented command, in place of the echoed ID (CMSIS-DAP "Commands":
/// "Commands that are not implemented reply with 0xFF").
pub const ID_INVALID: u8 = 0xFF;

/// Not a command ID of CMSIS-DAP v2.1 (vendor commands 0x80..=0x9F included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownCommand(pub u8);

/// DAP_Transfer request bits (CMSIS-DAP DAP_Transfer, "Transfer Request").
pub(crate) mod transfer_request {
    pub const AP: u8 = 1 << 0;
    pub const READ: u8 = 1 << 1;
    pub const ADDRESS: u8 = 0b1100;
    pub const MATCH_VALUE: u8 = 1 << 4;
    pub const MATCH_MASK: u8 = 1 << 5;
    pub const TIMESTAMP: u8 = 1 << 7;
}

/// Bits of a DAP_SWJ_Sequence count byte; 0 means 256 (CMSIS-DAP DAP_SWJ_Sequence).
pub(crate) fn swj_sequence_bits(count: u8) -> usize {
    if count == 0 { 256 } else { usize::from(count) }
}

/// Bits of an SWD/JTAG sequence info byte: bits 5..0, 0 means 64 (CMSIS-DAP
/// DAP_SWD_Sequence, DAP_JTAG_Sequence).
pub(crate) fn sequence_bits(info: u8) -> usize {
    match info & 0x3F {
        0 => 64,
        bits => usize::from(bits),
    }
}

/// The length in bytes of the one request at the start of `bytes`, command ID included.
///
/// `None` while `bytes` is too short to tell, or to hold the whole request: a transport that
/// reassembles a request from USB packets (a bulk request that is an exact multiple of the
/// endpoint size has no short packet to end it) reads on until this is `Some`. Unknown and
/// vendor commands count as one byte, as in ARM's reference firmware (`DAP.c`).
pub fn request_length(bytes: &[u8]) -> Option<usize> {
    let length = parse_length(bytes, false).ok()?;
    (length <= bytes.len()).then_some(length)
}

/// Parse one request; nested atomic commands count as unknown (one byte).
pub(crate) fn parse_length(bytes: &[u8], nested: bool) -> Result<usize, Fail> {
    let mut request = Request::new(bytes);
    let id = request.u8()?;
    let body = match Command::try_from(id) {
        Ok(Command::QueueCommands | Command::ExecuteCommands) if nested => 0,
        Ok(command) => body_length(command, &mut request)?,
        Err(_) => 0,
    };
    Ok(1 + body)
}

/// Skip the body of `command` in `request` and return its length.
fn body_length(command: Command, request: &mut Request) -> Result<usize, Fail> {
    use Command::*;
    let start = request.consumed();
    let fixed = match command {
        Disconnect | TransferAbort | ResetTarget | SwoStatus | UartStatus => 0,
        Info | Connect | SwdConfigure | JtagIdcode | SwoTransport | SwoMode | SwoControl
        | SwoExtendedStatus | UartTransport | UartControl => 1,
        HostStatus | Delay | SwoData => 2,
        SwoBaudrate | SwjClock => 4,
        TransferConfigure | WriteAbort | UartConfigure => 5,
        SwjPins => 6,
        SwjSequence => {
            let bits = swj_sequence_bits(request.u8()?);
            1 + bits.div_ceil(8)
        }
        JtagConfigure => 1 + usize::from(request.u8()?),
        Transfer => return skip_transfers(request).map(|()| request.consumed() - start),
        TransferBlock => {
            request.u8()?;
            let count = usize::from(request.u16()?);
            let kind = request.u8()?;
            let data = if kind & transfer_request::READ == 0 {
                4 * count
            } else {
                0
            };
            4 + data
        }
        UartTransfer => {
            request.u16()?;
            4 + usize::from(request.u16()?)
        }
        SwdSequence => return skip_sequences(request, true).map(|()| request.consumed() - start),
        JtagSequence => {
            return skip_sequences(request, false).map(|()| request.consumed() - start);
        }
        QueueCommands | ExecuteCommands => {
            let count = request.u8()?;
            for _ in 0..count {
                let length = parse_length(request.rest(), true)?;
                request.bytes(length)?;
            }
            return Ok(request.consumed() - start);
        }
    };
    Ok(fixed)
}

/// Skip the transfers of a DAP_Transfer body (DAP index, count, requests).
fn skip_transfers(request: &mut Request) -> Result<(), Fail> {
    request.u8()?;
    let count = request.u8()?;
    for _ in 0..count {
        let kind = request.u8()?;
        let read = kind & transfer_request::READ != 0;
        if !read || kind & transfer_request::MATCH_VALUE != 0 {
            request.u32()?;
        }
    }
    Ok(())
}

/// Skip the sequences of a DAP_SWD_Sequence (`swd`) or DAP_JTAG_Sequence body. SWD input
/// sequences (bit 7) carry no data; every JTAG sequence carries TDI data.
fn skip_sequences(request: &mut Request, swd: bool) -> Result<(), Fail> {
    let count = request.u8()?;
    for _ in 0..count {
        let info = request.u8()?;
        let input = swd && info & 0x80 != 0;
        if !input {
            request.bytes(sequence_bits(info).div_ceil(8))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_converts_back_to_itself() {
        let known: Vec<u8> = (0..=u8::MAX)
            .filter(|&id| Command::try_from(id).is_ok_and(|command| command as u8 == id))
            .collect();
        assert_eq!(known.len(), 33);
        assert_eq!(Command::try_from(0x24), Err(UnknownCommand(0x24)));
        assert_eq!(Command::try_from(0x7F), Ok(Command::ExecuteCommands));
    }
}
