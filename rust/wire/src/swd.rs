//! The SWD bit engine (ADIv5.2 chapter B4): packets, turnaround, line reset and the
//! JTAG-to-SWD switch, over the pins.
//!
//! Clocking follows the common bit-banging convention (also OpenOCD's remote_bitbang): the
//! probe sets SWDIO while SWCLK is low and raises SWCLK, the target samples on the rising
//! edge; the target drives SWDIO after a rising edge and the probe samples it while SWCLK is
//! low, before the next rising edge.

use crate::{Ack, Pins, Port, TransferError};

/// JTAG-to-SWD select sequence, sent LSB first (ADIv5.2 B5.2.2).
const JTAG_TO_SWD: u16 = 0xE79E;
/// JTAG-to-dormant select sequence, 31 bits LSB first (ADIv5.2 B5.3.2).
const JTAG_TO_DORMANT: u32 = 0x33BB_BBBA;
/// The selection alert that wakes a dormant DP, LSB first (ADIv5.2 B5.3.4).
const SELECTION_ALERT: u128 = 0x19BC_0EA2_E3DD_AFE9_8685_2D95_6209_F392;
/// The SWD activation code after the alert and four low cycles (ADIv5.2 B5.3.4).
const SWD_ACTIVATION_CODE: u32 = 0x1A;
/// DP register address of TARGETSEL, a write-only SW-DP version 2 register (B2.2.12).
const TARGETSEL: u8 = 0xC;

/// The SWD engine. Owns the pins while the wire speaks SWD.
pub struct Swd<P: Pins> {
    pins: P,
    /// Turnaround length in clock cycles (DLCR.TURNROUND + 1; 1 after reset).
    turnaround: u32,
    /// Idle cycles (SWDIO low) after each packet.
    idle_cycles: u32,
    /// A data phase also after WAIT and FAULT (CTRL/STAT.ORUNDETECT, ADIv5.2 B4.2.3).
    data_phase: bool,
    /// In a burst: a packet answered OK is followed at once by the next one, without idle
    /// cycles (ADIv5.2 B4.1: after a packet the host may start the next one immediately;
    /// idle cycles are needed only before the clock stops).
    burst: bool,
    /// Multi-drop: the TARGETSEL value written after every line reset (B4.3.4).
    target_select: Option<u32>,
}

impl<P: Pins> Swd<P> {
    pub fn new(mut pins: P) -> Self {
        pins.swdio_output(true);
        pins.set_swclk(false);
        Self {
            pins,
            turnaround: 1,
            idle_cycles: 2,
            data_phase: false,
            burst: false,
            target_select: None,
        }
    }

    pub fn pins(&mut self) -> &mut P {
        &mut self.pins
    }

    pub fn into_pins(self) -> P {
        self.pins
    }

    pub fn set_idle_cycles(&mut self, cycles: u32) {
        self.idle_cycles = cycles;
    }

    /// Start or end a burst of packets (see `burst`); the caller ends it before its last
    /// packet, so that packet has its idle cycles.
    pub fn set_burst(&mut self, on: bool) {
        self.burst = on;
    }

    pub fn set_data_phase(&mut self, always: bool) {
        self.data_phase = always;
    }

    pub fn set_turnaround(&mut self, cycles: u32) {
        self.turnaround = cycles.clamp(1, 4);
    }

    /// Clock out `count` bits (up to 32) of `bits`, LSB first, driving SWDIO.
    pub fn write_bits(&mut self, bits: u32, count: u32) {
        self.pins.write_swd_bits(bits, count);
    }

    /// Clock in `count` bits (up to 32), LSB first, with SWDIO released.
    pub fn read_bits(&mut self, count: u32) -> u32 {
        self.pins.read_swd_bits(count)
    }

    /// Any bit sequence, LSB first from `data` (DAP_SWJ_Sequence).
    pub fn sequence(&mut self, data: &[u8], count: usize) {
        self.pins.swdio_output(true);
        for index in 0..count {
            let bit = data
                .get(index / 8)
                .is_some_and(|byte| byte >> (index % 8) & 1 != 0);
            self.write_bits(u32::from(bit), 1);
        }
    }

    /// Line reset: at least 50 cycles with SWDIO high, then two idle cycles (B4.3.3).
    pub fn line_reset(&mut self) {
        self.pins.swdio_output(true);
        self.write_bits(u32::MAX, 32);
        self.write_bits(u32::MAX, 24);
        self.write_bits(0, 2);
    }

    /// Switch a SWJ-DP from JTAG to SWD and reset the line (B5.2.2), ready to read DPIDR.
    pub fn switch_from_jtag(&mut self) {
        self.line_reset();
        self.write_bits(u32::from(JTAG_TO_SWD), 16);
        self.line_reset();
    }

    /// Bring every DP on the wire to SWD through the dormant state (ADIv5.2 B5.3): a
    /// SWJ-DP in JTAG goes dormant on the JTAG-to-dormant sequence; then eight ones, the
    /// selection alert, four low cycles and the SWD activation code wake the dormant ones
    /// (a DP already speaking SWD sees line resets and garbage it ignores until the
    /// final line reset).
    pub fn switch_through_dormant(&mut self) {
        self.pins.swdio_output(true);
        self.write_bits(0xFF, 8);
        self.write_bits(JTAG_TO_DORMANT, 31);
        self.write_bits(0xFF, 8);
        for word in 0..4 {
            self.write_bits((SELECTION_ALERT >> (32 * word)) as u32, 32);
        }
        self.write_bits(SWD_ACTIVATION_CODE << 4, 12);
        self.line_reset();
    }

    /// Multi-drop: write `target_select` to TARGETSEL after every line reset from now on
    /// (None: a single DP, no TARGETSEL).
    pub fn set_target_select(&mut self, target_select: Option<u32>) {
        self.target_select = target_select;
    }

    /// Line reset, then TARGETSEL if a target is chosen (ADIv5.2 B4.3.4); a DPIDR read
    /// must follow.
    pub fn reset_and_select(&mut self) {
        self.line_reset();
        if let Some(value) = self.target_select {
            self.write_target_select(value);
        }
    }

    /// A TARGETSEL write: no DP drives the ACK (all are listening, only the one named
    /// takes the data), so the ACK phase is clocked with the line released and not read.
    fn write_target_select(&mut self, value: u32) {
        let request = self.request(Port::Dp, false, TARGETSEL);
        self.pins.swdio_output(true);
        self.write_bits(request, 8);
        self.pins.swdio_output(false);
        self.read_bits(self.turnaround + 3 + self.turnaround);
        self.pins.swdio_output(true);
        self.write_bits(value, 32);
        self.write_bits(value.count_ones() & 1, 1);
        self.finish();
    }

    fn turnaround_to_target(&mut self) {
        self.pins.swdio_output(false);
        self.read_bits(self.turnaround);
    }

    fn turnaround_to_probe(&mut self) {
        self.read_bits(self.turnaround);
        self.pins.swdio_output(true);
    }

    /// Start, APnDP, RnW, A[2:3], parity, stop, park (B4.2.2).
    fn request(&mut self, port: Port, read: bool, address: u8) -> u32 {
        let access_port = port == Port::Ap;
        let fields =
            u32::from(access_port) | u32::from(read) << 1 | u32::from(address >> 2 & 3) << 2;
        let parity = fields.count_ones() & 1;
        1 | fields << 1 | parity << 5 | 1 << 7
    }

    fn finish(&mut self) {
        self.write_bits(0, self.idle_cycles);
    }

    /// Send a request and read its ACK; on anything but OK, hand the line back.
    fn start(&mut self, port: Port, read: bool, address: u8) -> Result<(), TransferError> {
        let request = self.request(port, read, address);
        self.pins.swdio_output(true);
        self.write_bits(request, 8);
        self.turnaround_to_target();
        let ack = Ack::from_swd(self.read_bits(3));
        if ack == Some(Ack::Ok) {
            return Ok(());
        }
        let answered = ack.is_some();
        if self.data_phase && answered && read {
            self.read_bits(32);
            self.read_bits(1);
        }
        self.turnaround_to_probe();
        if self.data_phase && answered && !read {
            self.write_bits(0, 32);
            self.write_bits(0, 1);
        }
        self.finish();
        Ack::check(ack)
    }

    /// One read transaction (B4.2.2, figure B4-3).
    pub fn read(&mut self, port: Port, address: u8) -> Result<u32, TransferError> {
        self.start(port, true, address)?;
        let data = self.read_bits(32);
        let parity = self.read_bits(1);
        self.turnaround_to_probe();
        if !self.burst {
            self.finish();
        }
        if data.count_ones() & 1 != parity {
            return Err(TransferError::Parity);
        }
        Ok(data)
    }

    /// One write transaction (B4.2.2, figure B4-4).
    pub fn write(&mut self, port: Port, address: u8, value: u32) -> Result<(), TransferError> {
        self.start(port, false, address)?;
        self.turnaround_to_probe();
        self.write_bits(value, 32);
        self.write_bits(value.count_ones() & 1, 1);
        if !self.burst {
            self.finish();
        }
        Ok(())
    }
}
