//! The SW-DP at the wire (ADIv5.2 chapter B4), one SWCLK cycle at a time.
//!
//! Timing: the target samples SWDIO on the rising edge; what it drives for the next cycle
//! is set right after that edge, so the probe reads it while SWCLK is low (B4.2.1).
//!
//! Its ACK values and registers are its own on purpose, not the probe's `wire::Ack` or
//! `adi` registers: the simulator is an independent oracle for them.

use super::Context;
use super::debug_port::{DPIDR, RDBUFF, Refusal, TARGETSEL, Wire};
use super::faults::Injected;

/// SWD ACK values, sent LSB first (ADIv5.2 B4.2.1).
const ACK_OK: u32 = 0b001;
const ACK_WAIT: u32 = 0b010;
const ACK_FAULT: u32 = 0b100;

/// A line reset is at least 50 cycles with SWDIO high (ADIv5.2 B4.3.3).
pub const LINE_RESET_CYCLES: u32 = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Request {
    access_port: bool,
    read: bool,
    address: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Ok,
    Wait,
    Fault,
    /// The target does not drive the line at all.
    Silent,
    /// A TARGETSEL write: no DP drives the ACK, the data phase follows (ADIv5.2 B4.3.4).
    Unacknowledged,
}

/// Which DPs of a multi-drop wire listen (ADIv5.2 B4.3.4): all after a line reset, then
/// the one TARGETSEL names, or none (each DP ignores the line until the next line reset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Selection {
    All,
    One(usize),
    Nobody,
}

/// A packet after its request: `cycle` counts cycles since the park bit. With turnaround
/// T: T cycles of turnaround, 3 of ACK, then (read) 33 data cycles and T of turnaround,
/// or (write) T of turnaround and 33 data cycles (ADIv5.2 B4.2.2).
#[derive(Clone, Copy, Debug)]
struct Packet {
    request: Request,
    answer: Answer,
    turnaround: u32,
    /// Data phase present after WAIT/FAULT (overrun detection, B4.2.4).
    data_phase: bool,
    cycle: u32,
    /// Read: data and parity to send. Write: data and parity received so far.
    data: u64,
}

impl Packet {
    fn acknowledge_start(&self) -> u32 {
        self.turnaround + 1
    }

    fn data_start(&self) -> u32 {
        match self.request.read {
            true => self.turnaround + 4,
            false => 2 * self.turnaround + 4,
        }
    }

    fn has_data(&self) -> bool {
        matches!(self.answer, Answer::Ok | Answer::Unacknowledged) || self.data_phase
    }

    fn last_cycle(&self) -> u32 {
        if self.has_data() {
            2 * self.turnaround + 36
        } else {
            2 * self.turnaround + 3
        }
    }

    /// What the target drives during `cycle`.
    fn drive(&self, cycle: u32) -> Option<bool> {
        let acknowledge = self.acknowledge_start();
        if (acknowledge..acknowledge + 3).contains(&cycle) {
            let bits = match self.answer {
                Answer::Ok => ACK_OK,
                Answer::Wait => ACK_WAIT,
                Answer::Fault => ACK_FAULT,
                Answer::Silent | Answer::Unacknowledged => return None,
            };
            return Some(bits >> (cycle - acknowledge) & 1 != 0);
        }
        let start = self.data_start();
        if self.request.read && self.answer == Answer::Ok && (start..start + 33).contains(&cycle) {
            return Some(self.data >> (cycle - start) & 1 != 0);
        }
        None
    }

    /// Is `cycle` a write data bit the target takes?
    fn samples(&self, cycle: u32) -> Option<u32> {
        let start = self.data_start();
        let taken =
            !self.request.read && matches!(self.answer, Answer::Ok | Answer::Unacknowledged);
        (taken && (start..start + 33).contains(&cycle)).then(|| cycle - start)
    }
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Waiting for a start bit.
    Idle,
    Request {
        bits: u32,
        count: u32,
    },
    Packet(Packet),
}

#[derive(Clone, Debug)]
pub struct SwDp {
    phase: Phase,
    /// What the target drives in the current cycle.
    drive: Option<bool>,
    high_cycles: u32,
    /// After a line reset: a low cycle must come before a request.
    awaiting_low: bool,
    /// After a line reset only a DPIDR read is accepted, others get FAULT (RM0008 31.8.3).
    reset_state: bool,
    /// After a protocol error the target ignores the line until a line reset.
    lockout: bool,
    /// Multi-drop: which DP listens.
    selection: Selection,
}

impl Default for SwDp {
    fn default() -> Self {
        Self {
            phase: Phase::Idle,
            drive: None,
            high_cycles: 0,
            awaiting_low: true,
            reset_state: true,
            lockout: true,
            selection: Selection::All,
        }
    }
}

impl SwDp {
    /// What the target drives on SWDIO now (None: released).
    pub fn drive(&self) -> Option<bool> {
        self.drive
    }

    /// Entered by the JTAG-to-SWD sequence (ADIv5.2 B5.2.2): a line reset must follow.
    pub fn selected() -> Self {
        Self::default()
    }

    /// The multi-drop DP whose registers the wire reaches (0 on a single-DP wire).
    pub fn selected_port(&self) -> usize {
        match self.selection {
            Selection::One(index) => index,
            _ => 0,
        }
    }

    /// One rising edge of SWCLK; `level` is SWDIO as the target sees it.
    pub fn rising_edge(&mut self, level: bool, context: &mut Context) {
        let driven = self.drive.is_some();
        self.drive = None;
        if level && !driven {
            self.high_cycles += 1;
            if self.high_cycles >= LINE_RESET_CYCLES {
                self.line_reset();
                return;
            }
        } else {
            self.high_cycles = 0;
        }
        self.phase = match self.phase {
            Phase::Idle => self.idle(level),
            Phase::Request { bits, count } => self.request(bits, count, level, context),
            Phase::Packet(packet) => self.packet(packet, level, context),
        };
    }

    fn line_reset(&mut self) {
        self.phase = Phase::Idle;
        self.awaiting_low = true;
        self.reset_state = true;
        self.lockout = false;
        self.selection = Selection::All;
    }

    fn idle(&mut self, level: bool) -> Phase {
        if !level {
            self.awaiting_low = false;
            return Phase::Idle;
        }
        if self.awaiting_low || self.lockout {
            return Phase::Idle;
        }
        Phase::Request { bits: 1, count: 1 }
    }

    fn request(&mut self, bits: u32, count: u32, level: bool, context: &mut Context) -> Phase {
        let bits = bits | u32::from(level) << count;
        if count + 1 < 8 {
            return Phase::Request {
                bits,
                count: count + 1,
            };
        }
        match parse_request(bits) {
            Some(request) => self.answer(request, context),
            None => {
                // Protocol error: no answer (ADIv5.2 B4.2.3).
                self.lockout = true;
                context.statistics.no_response += 1;
                Phase::Idle
            }
        }
    }

    fn answer(&mut self, request: Request, context: &mut Context) -> Phase {
        context.statistics.transactions += 1;
        let (answer, data) = self.decide(request, context);
        match answer {
            Answer::Ok | Answer::Unacknowledged => context.statistics.ok += 1,
            Answer::Wait => context.statistics.wait += 1,
            Answer::Fault => context.statistics.fault += 1,
            Answer::Silent => context.statistics.no_response += 1,
        }
        if matches!(answer, Answer::Wait | Answer::Fault) {
            context.debug.note_refusal();
        }
        let mut data = u64::from(data) | u64::from(data.count_ones() & 1) << 32;
        if request.read && answer == Answer::Ok && context.faults.draw_read_parity() {
            data ^= 1 << 32;
        }
        let packet = Packet {
            request,
            answer,
            turnaround: context.debug.turnaround(),
            data_phase: answer != Answer::Silent && context.debug.overrun_detection(),
            cycle: 0,
            data,
        };
        Phase::Packet(packet)
    }

    /// The ACK, and the data of a read.
    fn decide(&mut self, request: Request, context: &mut Context) -> (Answer, u32) {
        if !context.targets.is_empty() {
            let target_select =
                !request.access_port && !request.read && request.address == TARGETSEL;
            if target_select {
                return (Answer::Unacknowledged, 0);
            }
            // Several DPs answering at once would fight over the line: none is modelled
            // as answering (a host must write TARGETSEL after each line reset).
            let several = context.targets.len() > 1 && self.selection == Selection::All;
            if several || self.selection == Selection::Nobody {
                return (Answer::Silent, 0);
            }
        }
        let reads_identity = !request.access_port && request.read && request.address == DPIDR;
        if self.reset_state && !reads_identity {
            return (Answer::Fault, 0);
        }
        match context.faults.draw(request.access_port) {
            Injected::Nothing => {}
            Injected::PowerOff => {
                context.power_off = true;
                return (Answer::Silent, 0);
            }
            Injected::NoAnswer => return (Answer::Silent, 0),
            // Only what can wait for the AP gets WAIT: DPIDR and CTRL/STAT reads and
            // ABORT writes are always taken (ADIv5.2 B4.2.2).
            Injected::Wait if request.access_port || reads_buffer(request) => {
                return (Answer::Wait, 0);
            }
            Injected::Wait => {}
            Injected::Fault => {
                context.debug.set_sticky_error();
                return (Answer::Fault, 0);
            }
        }
        let result = match (request.access_port, request.read) {
            (true, read) => access_port(request, read, context),
            (false, true) => context
                .debug
                .read_register(Wire::Swd, request.address, context.bus),
            (false, false) => Ok(0),
        };
        match result {
            Ok(data) => {
                if reads_identity {
                    self.reset_state = false;
                }
                (Answer::Ok, data)
            }
            Err(Refusal::Wait) => (Answer::Wait, 0),
            Err(Refusal::Fault) => (Answer::Fault, 0),
        }
    }

    fn packet(&mut self, mut packet: Packet, level: bool, context: &mut Context) -> Phase {
        packet.cycle += 1;
        if let Some(index) = packet.samples(packet.cycle) {
            packet.data |= u64::from(level) << index;
        }
        if packet.cycle == packet.last_cycle() {
            if packet.samples(packet.cycle).is_some() {
                if packet.answer == Answer::Unacknowledged {
                    self.target_select(packet, context);
                } else {
                    finish_write(packet, context);
                }
            }
            return Phase::Idle;
        }
        self.drive = packet.drive(packet.cycle + 1);
        Phase::Packet(packet)
    }
}

impl SwDp {
    /// A TARGETSEL write's data (ADIv5.2 B2.2.12, B4.3.4): right after a line reset it
    /// selects the DP whose TINSTANCE and TARGETID match; the others (all of them on a
    /// mismatch or a parity error) stop listening until the next line reset.
    fn target_select(&mut self, packet: Packet, context: &mut Context) {
        if !self.reset_state {
            return;
        }
        let value = packet.data as u32;
        let parity_ok = (packet.data >> 32 & 1) as u32 == value.count_ones() & 1;
        let found = context
            .targets
            .iter()
            .position(|target| target.target_select() == value);
        self.selection = match found {
            Some(index) if parity_ok => Selection::One(index),
            _ => {
                self.lockout = true;
                Selection::Nobody
            }
        };
    }
}

fn reads_buffer(request: Request) -> bool {
    !request.access_port && request.read && request.address == RDBUFF
}

/// Start 1, APnDP, RnW, A[2:3], parity, stop 0, park 1 (ADIv5.2 B4.2.2).
fn parse_request(bits: u32) -> Option<Request> {
    let fields = bits >> 1 & 0xF;
    let parity = bits >> 5 & 1;
    let stop = bits >> 6 & 1;
    let park = bits >> 7 & 1;
    if bits & 1 != 1 || parity != fields.count_ones() & 1 || stop != 0 || park != 1 {
        return None;
    }
    Some(Request {
        access_port: fields & 1 != 0,
        read: fields & 2 != 0,
        address: ((fields >> 2 & 3) << 2) as u8,
    })
}

/// An AP request: reads return the previous AP read's data and start a new one (posted,
/// ADIv5.2 B4.2.5); writes wait for their data phase.
fn access_port(request: Request, read: bool, context: &mut Context) -> Result<u32, Refusal> {
    context.debug.access_port_ready(context.bus)?;
    if !read {
        return Ok(0);
    }
    let previous = context.debug.posted();
    context.debug.set_resend(previous);
    context
        .debug
        .start_access(context.bus, true, request.address, 0);
    Ok(previous)
}

/// The write data arrived: check parity (WDATAERR, B4.2.4), then do the write.
fn finish_write(packet: Packet, context: &mut Context) {
    let value = packet.data as u32;
    let parity = (packet.data >> 32 & 1) as u32;
    if parity != value.count_ones() & 1 {
        context.debug.set_write_data_error();
        return;
    }
    let request = packet.request;
    if request.access_port {
        context
            .debug
            .start_access(context.bus, false, request.address, value);
    } else {
        context
            .debug
            .write_register(Wire::Swd, request.address, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_dpidr_read() {
        // 0xA5: start, DP, read, A=0, parity 1, stop 0, park 1.
        let request = parse_request(0xA5).unwrap();
        assert!(!request.access_port && request.read && request.address == 0);
        assert_eq!(parse_request(0xA5 ^ 0x20), None, "bad parity");
        assert_eq!(parse_request(0xA5 | 0x40), None, "stop bit set");
        assert_eq!(parse_request(0xA5 & !0x80), None, "park bit clear");
    }

    #[test]
    fn rdbuff_address() {
        // 0xBD: DP read of RDBUFF (A=0b11), parity 1.
        let request = parse_request(0xBD).unwrap();
        assert_eq!(request.address, RDBUFF);
    }
}
