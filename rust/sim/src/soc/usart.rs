//! An STM32 USART in asynchronous mode (RM0008 27), the target end of the probe's UART
//! bridge (CMSIS-DAP UART commands on the host probe).
//!
//! Registers (RM0008 27.6): SR 0x00 (PE 0, FE 1, ORE 3, RXNE 5, TC 6, TXE 7), DR 0x04,
//! BRR 0x08, CR1 0x0C (RE 2, TE 3, PS 9, PCE 10, M 12, UE 13), CR2 0x10 (STOP 13:12),
//! CR3 0x14, GTPR 0x18. The bit rate is PCLK / BRR (16x oversampling: BRR is USARTDIV in
//! 12.4 fixed point, RM0008 27.3.4).
//!
//! Approximations: PCLK is the simulated core clock (72 MHz, what the test firmware sets
//! up; the RCC prescalers are not followed). The transmitter never holds the program up:
//! TXE and TC read 1 and a byte written to DR goes on the line at once, one frame time
//! after the previous one. The receiver keeps up to `RECEIVE_FIFO` bytes instead of the
//! one DR holds, because the simulated core's time advances in slices: bytes arriving
//! within one slice appear together (a byte arriving with the FIFO full sets ORE and is
//! lost). A byte sent in another format or at a rate more than 3% off is lost and sets FE
//! (the parity bit is not computed, so PE stays 0). No interrupts, DMA, LIN, IrDA,
//! smartcard, synchronous or hardware flow control.

use std::collections::VecDeque;

const SR: u32 = 0x00;
const DR: u32 = 0x04;
const BRR: u32 = 0x08;
const CR1: u32 = 0x0C;
const CR2: u32 = 0x10;
const CR3: u32 = 0x14;
const GTPR: u32 = 0x18;
pub const USART_SIZE: u32 = 0x400;

const SR_FE: u32 = 1 << 1;
const SR_ORE: u32 = 1 << 3;
const SR_RXNE: u32 = 1 << 5;
const SR_TC: u32 = 1 << 6;
const SR_TXE: u32 = 1 << 7;
/// SR reset value (RM0008 27.6.1): TXE and TC set.
const SR_RESET: u32 = SR_TXE | SR_TC;
const CR1_RE: u32 = 1 << 2;
const CR1_TE: u32 = 1 << 3;
const CR1_PS: u32 = 1 << 9;
const CR1_PCE: u32 = 1 << 10;
const CR1_M: u32 = 1 << 12;
const CR1_UE: u32 = 1 << 13;
const CR2_STOP_SHIFT: u32 = 12;

/// Bytes the receiver holds for the program (see the approximations).
const RECEIVE_FIFO: usize = 16;
/// Bytes on their way to the receiver before the sender must wait (a probe's UART FIFO).
const LINE_CAPACITY: usize = 64;
/// Bytes sent and not yet taken by the probe before later ones are dropped.
const MAX_SENT: usize = 1 << 16;

/// Parity of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parity {
    None,
    Even,
    Odd,
}

/// The line settings of one end: both ends must agree for a byte to get through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineFormat {
    pub baudrate: u32,
    /// Data bits, parity bit not counted (5..=9).
    pub data_bits: u8,
    pub parity: Parity,
    /// Stop bits in half bits (1, 2, 3 or 4: 0.5, 1, 1.5, 2).
    pub stop_half_bits: u8,
}

impl LineFormat {
    /// One frame (start bit, data, parity, stop bits) in ns.
    pub fn frame_ns(&self) -> u64 {
        let parity = u64::from(self.parity != Parity::None);
        let half_bits =
            2 * (1 + u64::from(self.data_bits) + parity) + u64::from(self.stop_half_bits);
        (half_bits * 1_000_000_000).div_ceil(2 * u64::from(self.baudrate.max(1)))
    }

    /// A receiver set to `self` reads a frame sent as `sent`: the same format, the rate
    /// within 3% (a UART samples mid-bit; OpenOCD asks the same of SWO receivers). A
    /// receiver needs only one stop bit, so more from the sender are fine.
    pub fn reads(&self, sent: &LineFormat) -> bool {
        let (ours, theirs) = (u64::from(self.baudrate), u64::from(sent.baudrate));
        self.data_bits == sent.data_bits
            && self.parity == sent.parity
            && ours.abs_diff(theirs) * 100 <= 3 * theirs
    }
}

/// One USART (see the module documentation).
#[derive(Debug)]
pub struct Usart {
    pclk_hz: u64,
    status: u32,
    baud_register: u32,
    control1: u32,
    control2: u32,
    control3: u32,
    guard_time: u32,
    /// Sent by the program: the time its last bit left, and the byte.
    sent: VecDeque<(u64, u8)>,
    transmit_free_ns: u64,
    /// On the way in from the probe: arrival time, byte, and whether its format matched.
    incoming: VecDeque<(u64, u8, bool)>,
    incoming_free_ns: u64,
    received: VecDeque<u8>,
}

impl Usart {
    pub fn new(pclk_hz: u64) -> Self {
        Self {
            pclk_hz,
            status: SR_RESET,
            baud_register: 0,
            control1: 0,
            control2: 0,
            control3: 0,
            guard_time: 0,
            sent: VecDeque::new(),
            transmit_free_ns: 0,
            incoming: VecDeque::new(),
            incoming_free_ns: 0,
            received: VecDeque::new(),
        }
    }

    /// Reset values (RCC reset or system reset); bytes on the line are lost.
    pub fn reset(&mut self) {
        *self = Self::new(self.pclk_hz);
    }

    /// The format the program has set, if the USART is enabled (UE) with a rate.
    pub fn format(&self) -> Option<LineFormat> {
        if self.control1 & CR1_UE == 0 || self.baud_register == 0 {
            return None;
        }
        let word_bits = if self.control1 & CR1_M != 0 { 9 } else { 8 };
        let parity = match (self.control1 & CR1_PCE != 0, self.control1 & CR1_PS != 0) {
            (false, _) => Parity::None,
            (true, false) => Parity::Even,
            (true, true) => Parity::Odd,
        };
        let stop_half_bits = match (self.control2 >> CR2_STOP_SHIFT) & 0b11 {
            0b00 => 2,
            0b01 => 1,
            0b10 => 4,
            _ => 3,
        };
        Some(LineFormat {
            baudrate: (self.pclk_hz / u64::from(self.baud_register)) as u32,
            // The parity bit takes the word's last bit (RM0008 27.3.9).
            data_bits: word_bits - u8::from(parity != Parity::None),
            parity,
            stop_half_bits,
        })
    }

    /// A register without side effects (the debugger's inspection).
    pub fn read(&self, offset: u32) -> u32 {
        match offset {
            SR => self.status | if self.received.is_empty() { 0 } else { SR_RXNE },
            DR => self.received.front().copied().map_or(0, u32::from),
            BRR => self.baud_register,
            CR1 => self.control1,
            CR2 => self.control2,
            CR3 => self.control3,
            GTPR => self.guard_time,
            _ => 0,
        }
    }

    /// A read by the core or the debugger at `now_ns`: bytes that have arrived are in, and
    /// reading DR takes one and clears ORE and FE (RM0008 27.6.1: a read of SR, then DR).
    pub fn read_at(&mut self, offset: u32, now_ns: u64) -> u32 {
        self.receive_until(now_ns);
        let value = self.read(offset);
        if offset == DR {
            self.received.pop_front();
            self.status &= !(SR_ORE | SR_FE);
        }
        value
    }

    pub fn write(&mut self, offset: u32, value: u32, now_ns: u64) {
        match offset {
            // rc_w0 bits (RXNE, TC) clear on writing 0; the others are read-only.
            SR if value & SR_RXNE == 0 => self.received.clear(),
            DR => self.transmit(value as u8, now_ns),
            BRR => self.baud_register = value & 0xFFFF,
            CR1 => self.control1 = value & 0x3FFF,
            CR2 => self.control2 = value & 0x7F7F,
            CR3 => self.control3 = value & 0x07FF,
            GTPR => self.guard_time = value & 0xFFFF,
            _ => {}
        }
    }

    fn transmit(&mut self, byte: u8, now_ns: u64) {
        let enabled = self.control1 & (CR1_UE | CR1_TE) == CR1_UE | CR1_TE;
        let Some(format) = self.format().filter(|_| enabled) else {
            return;
        };
        if self.sent.len() >= MAX_SENT {
            return;
        }
        let done = self.transmit_free_ns.max(now_ns) + format.frame_ns();
        self.transmit_free_ns = done;
        self.sent.push_back((done, byte));
    }

    /// Bytes the program sent whose last bit has left by `now_ns`, with the format they
    /// were sent in (the program may change it between bytes; the latest is reported).
    pub fn take_sent(&mut self, now_ns: u64, out: &mut Vec<u8>) -> Option<LineFormat> {
        while let Some(&(done, byte)) = self.sent.front() {
            if done > now_ns {
                break;
            }
            out.push(byte);
            self.sent.pop_front();
        }
        self.format()
    }

    /// Bytes from the probe, sent in `format` from `now_ns`: as many as the line takes
    /// (`LINE_CAPACITY` in flight); the count.
    pub fn send_in(&mut self, data: &[u8], format: LineFormat, now_ns: u64) -> usize {
        self.receive_until(now_ns);
        let room = LINE_CAPACITY.saturating_sub(self.incoming.len());
        let readable = self.format().is_some_and(|ours| ours.reads(&format));
        for &byte in &data[..data.len().min(room)] {
            let arrival = self.incoming_free_ns.max(now_ns) + format.frame_ns();
            self.incoming_free_ns = arrival;
            self.incoming.push_back((arrival, byte, readable));
        }
        data.len().min(room)
    }

    /// Move the bytes that have arrived by `now_ns` into the receiver.
    fn receive_until(&mut self, now_ns: u64) {
        let listening = self.control1 & (CR1_UE | CR1_RE) == CR1_UE | CR1_RE;
        while let Some(&(arrival, byte, readable)) = self.incoming.front() {
            if arrival > now_ns {
                break;
            }
            self.incoming.pop_front();
            if !listening {
                continue;
            }
            if !readable {
                self.status |= SR_FE;
            } else if self.received.len() >= RECEIVE_FIFO {
                self.status |= SR_ORE;
            } else {
                self.received.push_back(byte);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PCLK: u64 = 72_000_000;
    /// 115200 baud: 72 MHz / 625 (BRR 0x271).
    const BRR_115200: u32 = 625;

    fn enabled() -> Usart {
        let mut usart = Usart::new(PCLK);
        usart.write(BRR, BRR_115200, 0);
        usart.write(CR1, CR1_UE | CR1_TE | CR1_RE, 0);
        usart
    }

    fn line_8n1() -> LineFormat {
        LineFormat {
            baudrate: 115_200,
            data_bits: 8,
            parity: Parity::None,
            stop_half_bits: 2,
        }
    }

    #[test]
    fn the_format_follows_the_registers() {
        let mut usart = enabled();
        assert_eq!(usart.format(), Some(line_8n1()));
        // 8 bits with even parity: M = 1 (9-bit word), PCE; two stop bits.
        usart.write(CR1, CR1_UE | CR1_M | CR1_PCE, 0);
        usart.write(CR2, 0b10 << CR2_STOP_SHIFT, 0);
        let format = usart.format().unwrap();
        assert_eq!(
            (format.data_bits, format.parity, format.stop_half_bits),
            (8, Parity::Even, 4)
        );
        usart.write(CR1, 0, 0);
        assert_eq!(usart.format(), None);
    }

    #[test]
    fn sent_bytes_leave_one_frame_time_apart() {
        // 8N1 at 115200: 10 bits, 86.806 us.
        let mut usart = enabled();
        assert_eq!(line_8n1().frame_ns(), 86_806);
        usart.write(DR, u32::from(b'h'), 1_000);
        usart.write(DR, u32::from(b'i'), 1_000);
        let mut out = Vec::new();
        usart.take_sent(1_000 + 86_805, &mut out);
        assert!(out.is_empty());
        usart.take_sent(1_000 + 86_806, &mut out);
        assert_eq!(out, b"h");
        usart.take_sent(1_000 + 2 * 86_806, &mut out);
        assert_eq!(out, b"hi");
        // TE off: nothing is sent.
        usart.write(CR1, CR1_UE | CR1_RE, 0);
        usart.write(DR, u32::from(b'x'), 0);
        assert_eq!(usart.sent.len(), 0);
    }

    #[test]
    fn received_bytes_arrive_at_the_rate_and_dr_hands_them_out() {
        let mut usart = enabled();
        assert_eq!(usart.send_in(b"ok", line_8n1(), 0), 2);
        assert_eq!(usart.read_at(SR, 86_805) & SR_RXNE, 0);
        assert_ne!(usart.read_at(SR, 86_806) & SR_RXNE, 0);
        assert_eq!(usart.read_at(DR, 86_806), u32::from(b'o'));
        assert_eq!(usart.read_at(SR, 86_806) & SR_RXNE, 0);
        assert_eq!(usart.read_at(DR, 200_000), u32::from(b'k'));
    }

    #[test]
    fn a_full_receiver_overruns_and_a_wrong_rate_is_a_framing_error() {
        let mut usart = enabled();
        let data = [0x55u8; 20];
        assert_eq!(usart.send_in(&data, line_8n1(), 0), 20);
        let status = usart.read_at(SR, u64::MAX);
        assert_ne!(status & SR_ORE, 0);
        assert_eq!(usart.received.len(), RECEIVE_FIFO);
        usart.read_at(DR, u64::MAX); // clears ORE
        let slow = LineFormat {
            baudrate: 9600,
            ..line_8n1()
        };
        usart.received.clear();
        usart.send_in(b"?", slow, 0);
        let status = usart.read_at(SR, u64::MAX);
        assert_ne!(status & SR_FE, 0);
        assert_eq!(status & SR_RXNE, 0);
        // The line holds at most LINE_CAPACITY bytes in flight.
        let mut usart = enabled();
        assert_eq!(usart.send_in(&[0; 100], line_8n1(), 0), LINE_CAPACITY);
    }
}
