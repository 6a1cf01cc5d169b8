//! DAP_UART_* (CMSIS-DAP v2.1 "UART COM Commands"): the board's UART to the target, used by
//! the host through DAP commands (transport 2; there is no USB COM port transport). The
//! commands exist only on a board whose [`Board::has_uart`] says so (DAP_Info capability
//! bit 7); elsewhere they stay unimplemented (0xFF).
//!
//! Every request is checked whole before anything changes: a reserved or unsupported value
//! is an error reply and leaves the UART as it was.

use crate::buffer::{Fail, Request, Response};
use crate::dap::{DAP_ERROR, DAP_OK, Dap};
use crate::wire::{Parity, UartErrors, UartFault, UartFormat, Wire};
use heapless::Deque;

/// Receive and transmit buffer sizes (DAP_Info 0xFB, 0xFC).
pub const UART_RECEIVE_BUFFER_SIZE: usize = 512;
pub const UART_TRANSMIT_BUFFER_SIZE: usize = 512;

/// DAP_UART_Transport values.
const TRANSPORT_NONE: u8 = 0;
const TRANSPORT_DAP: u8 = 2;

/// DAP_UART_Control bits.
const CONTROL_RECEIVE_ENABLE: u8 = 1 << 0;
const CONTROL_RECEIVE_DISABLE: u8 = 1 << 1;
const CONTROL_RECEIVE_FLUSH: u8 = 1 << 2;
const CONTROL_TRANSMIT_ENABLE: u8 = 1 << 4;
const CONTROL_TRANSMIT_DISABLE: u8 = 1 << 5;
const CONTROL_TRANSMIT_FLUSH: u8 = 1 << 6;
const CONTROL_RESERVED: u8 = 1 << 3 | 1 << 7;

/// DAP_UART_Status / DAP_UART_Transfer status bits 0 and 4 (1..3 are [`UartErrors`]).
const STATUS_RECEIVE_ENABLED: u8 = 1 << 0;
const STATUS_TRANSMIT_ENABLED: u8 = 1 << 4;

/// The UART bridge's settings and buffers.
pub struct UartState {
    transport: u8,
    configured: bool,
    receiving: bool,
    transmitting: bool,
    errors: UartErrors,
    received: Deque<u8, UART_RECEIVE_BUFFER_SIZE>,
    to_send: Deque<u8, UART_TRANSMIT_BUFFER_SIZE>,
}

impl UartState {
    pub const fn new() -> Self {
        Self {
            transport: TRANSPORT_NONE,
            configured: false,
            receiving: false,
            transmitting: false,
            errors: UartErrors::empty(),
            received: Deque::new(),
            to_send: Deque::new(),
        }
    }

    fn over_dap(&self) -> bool {
        self.transport == TRANSPORT_DAP
    }

    /// Status bits; the error bits are reported once (CMSIS-DAP: "automatically cleared").
    fn take_status(&mut self) -> u8 {
        let mut status = self.errors.bits();
        self.errors = UartErrors::empty();
        if self.receiving {
            status |= STATUS_RECEIVE_ENABLED;
        }
        if self.transmitting {
            status |= STATUS_TRANSMIT_ENABLED;
        }
        status
    }
}

impl Default for UartState {
    fn default() -> Self {
        Self::new()
    }
}

/// DAP_UART_Configure control byte: bits 3..0 data bits (5, 6, 7, or 0 for 8), 5..4 parity
/// (0 none, 1 even, 2 odd), 7..6 stop bits (0 one, 1 two); anything else is a fault.
fn parse_format(control: u8) -> Result<UartFormat, UartFault> {
    let data_bits = match control & 0x0F {
        0 => Some(8),
        bits @ 5..=7 => Some(bits),
        _ => None,
    };
    let parity = match control >> 4 & 0b11 {
        0 => Some(Parity::None),
        1 => Some(Parity::Even),
        2 => Some(Parity::Odd),
        _ => None,
    };
    let stop_bits = match control >> 6 {
        0 => Some(1),
        1 => Some(2),
        _ => None,
    };
    let mut fault = UartFault::empty();
    fault.set(UartFault::DATA_BITS, data_bits.is_none());
    fault.set(UartFault::PARITY, parity.is_none());
    fault.set(UartFault::STOP_BITS, stop_bits.is_none());
    match (data_bits, parity, stop_bits) {
        (Some(data_bits), Some(parity), Some(stop_bits)) => Ok(UartFormat {
            data_bits,
            parity,
            stop_bits,
        }),
        _ => Err(fault),
    }
}

impl<W: Wire> Dap<'_, W> {
    pub(crate) fn has_uart(&self) -> bool {
        self.wire.has_uart()
    }

    /// Move bytes between the board and the buffers: received ones in (while receiving),
    /// buffered ones out (while transmitting).
    fn uart_exchange(&mut self) {
        let uart = &mut self.uart;
        if uart.receiving {
            let mut piece = [0u8; 64];
            loop {
                let (count, errors) = self.wire.uart_read(&mut piece);
                uart.errors |= errors;
                for &byte in &piece[..count.min(piece.len())] {
                    if uart.received.push_back(byte).is_err() {
                        uart.errors |= UartErrors::DATA_LOST;
                    }
                }
                if count < piece.len() {
                    break;
                }
            }
        }
        if uart.transmitting {
            while !uart.to_send.is_empty() {
                let mut piece = [0u8; 64];
                let length = uart.to_send.len().min(piece.len());
                for (slot, &byte) in piece.iter_mut().zip(uart.to_send.iter()) {
                    *slot = byte;
                }
                let taken = self.wire.uart_write(&piece[..length]).min(length);
                for _ in 0..taken {
                    uart.to_send.pop_front();
                }
                if taken < length {
                    break;
                }
            }
        }
    }

    pub(crate) fn uart_transport(
        &mut self,
        body: &mut Request,
        out: &mut Response,
    ) -> Result<(), Fail> {
        let transport = body.u8()?;
        // 1 (USB COM port) is not offered; a change starts over: configure again.
        let ok = matches!(transport, TRANSPORT_NONE | TRANSPORT_DAP);
        if ok && transport != self.uart.transport {
            self.uart = UartState::new();
            self.uart.transport = transport;
        }
        out.u8(if ok { DAP_OK } else { DAP_ERROR })
    }

    pub(crate) fn uart_configure(
        &mut self,
        body: &mut Request,
        out: &mut Response,
    ) -> Result<(), Fail> {
        let control = body.u8()?;
        let requested = body.u32()?;
        let result = match parse_format(control) {
            _ if !self.uart.over_dap() => Err(UartFault::all()),
            Ok(format) if requested != 0 => self.wire.uart_configure(format, requested),
            Ok(_) => Ok(0),
            Err(fault) => Err(fault),
        };
        let (status, actual) = match result {
            Ok(actual) => (0, actual),
            Err(fault) => (fault.bits(), 0),
        };
        if self.uart.over_dap() {
            // A refused configuration leaves the UART unconfigured: enable needs a good one.
            self.uart.configured = status == 0 && actual != 0;
        }
        out.u8(status)?;
        out.u32(actual)
    }

    pub(crate) fn uart_control(
        &mut self,
        body: &mut Request,
        out: &mut Response,
    ) -> Result<(), Fail> {
        let control = body.u8()?;
        let enables = control & (CONTROL_RECEIVE_ENABLE | CONTROL_TRANSMIT_ENABLE) != 0;
        let ok = self.uart.over_dap()
            && control & CONTROL_RESERVED == 0
            && (!enables || self.uart.configured);
        if ok {
            self.uart_exchange();
            let uart = &mut self.uart;
            // Disable wins over enable; enable flushes that buffer (CMSIS-DAP
            // DAP_UART_Control).
            if control & CONTROL_RECEIVE_DISABLE != 0 {
                uart.receiving = false;
            } else if control & CONTROL_RECEIVE_ENABLE != 0 {
                uart.receiving = true;
                uart.received.clear();
            }
            if control & CONTROL_RECEIVE_FLUSH != 0 {
                uart.received.clear();
            }
            if control & CONTROL_TRANSMIT_DISABLE != 0 {
                uart.transmitting = false;
            } else if control & CONTROL_TRANSMIT_ENABLE != 0 {
                uart.transmitting = true;
                uart.to_send.clear();
            }
            if control & CONTROL_TRANSMIT_FLUSH != 0 {
                uart.to_send.clear();
            }
            if control & CONTROL_RECEIVE_ENABLE != 0 && uart.receiving {
                // Start clean: what arrived before receive was enabled is not wanted.
                let mut stale = [0u8; 64];
                while self.wire.uart_read(&mut stale).0 == stale.len() {}
                self.uart.errors = UartErrors::empty();
            }
        }
        out.u8(if ok { DAP_OK } else { DAP_ERROR })
    }

    pub(crate) fn uart_status(&mut self, out: &mut Response) -> Result<(), Fail> {
        out.ensure(9)?;
        self.uart_exchange();
        let status = self.uart.take_status();
        out.u8(status)?;
        out.u32(self.uart.received.len() as u32)?;
        out.u32(self.uart.to_send.len() as u32)
    }

    pub(crate) fn uart_transfer(
        &mut self,
        body: &mut Request,
        out: &mut Response,
    ) -> Result<(), Fail> {
        let receive_maximum = usize::from(body.u16()?);
        let transmit_count = usize::from(body.u16()?);
        let data = body.bytes(transmit_count)?;
        out.ensure(5)?;
        self.uart_exchange();
        let uart = &mut self.uart;
        let accepted = if uart.over_dap() && uart.transmitting {
            let room = uart.to_send.capacity() - uart.to_send.len();
            for &byte in &data[..data.len().min(room)] {
                let _ = uart.to_send.push_back(byte);
            }
            data.len().min(room)
        } else {
            0
        };
        let count = if uart.over_dap() {
            receive_maximum.min(uart.received.len()).min(out.room() - 5)
        } else {
            0
        };
        // The bytes just queued go out now, so that Tx Count is what the line has taken.
        self.uart_exchange();
        let status = self.uart.take_status();
        out.u8(status)?;
        out.u16(accepted as u16)?;
        out.u16(count as u16)?;
        for _ in 0..count {
            let byte = self.uart.received.pop_front().expect("counted");
            out.u8(byte)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_control_byte_maps_to_a_format_or_names_the_faults() {
        assert_eq!(
            parse_format(0x00),
            Ok(UartFormat {
                data_bits: 8,
                parity: Parity::None,
                stop_bits: 1
            })
        );
        assert_eq!(
            parse_format(0x07 | 2 << 4 | 1 << 6),
            Ok(UartFormat {
                data_bits: 7,
                parity: Parity::Odd,
                stop_bits: 2
            })
        );
        assert_eq!(parse_format(0x08), Err(UartFault::DATA_BITS));
        assert_eq!(parse_format(3 << 4), Err(UartFault::PARITY));
        assert_eq!(
            parse_format(2 << 6 | 0x04),
            Err(UartFault::STOP_BITS | UartFault::DATA_BITS)
        );
    }
}
