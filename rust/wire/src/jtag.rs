//! The JTAG engine (IEEE 1149.1): TAP state machine, IR and DR scans, chain scan with IR
//! length detection, and ARM JTAG-DP access (ADIv5.2 chapter B3) to one TAP of the chain.
//!
//! Clocking as OpenOCD's bitbang driver: TMS and TDI are set with TCK low, TDO is sampled
//! with TCK low, then TCK rises (the TAP samples TMS and TDI on the rising edge and changes
//! TDO on the falling edge).

use crate::{Ack, Pins, Port, TransferError};

/// Devices on a chain at most.
pub const MAX_DEVICES: usize = 8;

/// A device found by a chain scan, counted from TDO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    /// 0 for a device in BYPASS after reset (no IDCODE register).
    pub idcode: u32,
    pub ir_length: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JtagError {
    /// TDO stuck, or more devices than MAX_DEVICES.
    BadChain,
    /// The IR lengths given do not add up to the chain's.
    IrLengthMismatch,
    /// No ARM JTAG-DP on the chain.
    NoDebugPort,
}

/// One TCK cycle with TMS and TDI set while TCK is low; returns TDO sampled before the
/// rising edge. TCK is left high.
pub fn tck_cycle<P: Pins>(pins: &mut P, tms: bool, tdi: bool) -> bool {
    pins.tck_cycle(tms, tdi)
}

/// The TAP controller's position; we keep every TAP in Run-Test/Idle between scans.
pub struct Jtag<P: Pins> {
    pins: P,
}

impl<P: Pins> Jtag<P> {
    pub fn new(mut pins: P) -> Self {
        pins.set_swclk(false);
        pins.swdio_output(true);
        Self { pins }
    }

    pub fn pins(&mut self) -> &mut P {
        &mut self.pins
    }

    pub fn into_pins(self) -> P {
        self.pins
    }

    /// One TCK cycle; returns TDO as sampled before the rising edge.
    fn clock(&mut self, tms: bool, tdi: bool) -> bool {
        tck_cycle(&mut self.pins, tms, tdi)
    }

    /// TMS bits, LSB first (DAP_JTAG_Sequence and state moves).
    pub fn tms_sequence(&mut self, tms: u32, count: u32) {
        for index in 0..count {
            self.clock(tms >> index & 1 != 0, true);
        }
        self.pins.set_swclk(false);
    }

    /// Switch a SWJ-DP from SWD to JTAG (ADIv5.2 B5.2.2: at least 50 cycles with TMS
    /// high, the 16-bit sequence 0xE73C LSB first), then reset the TAPs.
    pub fn switch_from_swd(&mut self) {
        self.tms_sequence(u32::MAX, 32);
        self.tms_sequence(u32::MAX, 24);
        self.tms_sequence(0xE73C, 16);
        self.reset();
    }

    /// Five clocks with TMS high reach Test-Logic-Reset from any state (IEEE 1149.1
    /// 6.1.1), then one low to Run-Test/Idle. Every TAP selects IDCODE (or BYPASS).
    pub fn reset(&mut self) {
        self.tms_sequence(0b011111, 6);
    }

    /// Shift `count` bits through IR (`instruction`) or DR (`data`) from Run-Test/Idle and
    /// back; TDI from `input`, TDO into `output`, both LSB first.
    fn shift(&mut self, instruction: bool, input: &[u8], output: &mut [u8], count: usize) {
        // Run-Test/Idle -> Select-DR (-> Select-IR) -> Capture -> Shift
        if instruction {
            self.tms_sequence(0b0011, 4);
        } else {
            self.tms_sequence(0b001, 3);
        }
        output.iter_mut().for_each(|byte| *byte = 0);
        for index in 0..count {
            let tdi = input
                .get(index / 8)
                .is_some_and(|byte| byte >> (index % 8) & 1 != 0);
            let last = index + 1 == count;
            if self.clock(last, tdi)
                && let Some(byte) = output.get_mut(index / 8)
            {
                *byte |= 1 << (index % 8);
            }
        }
        // Exit1 -> Update -> Run-Test/Idle
        self.tms_sequence(0b01, 2);
    }

    pub fn shift_ir(&mut self, input: &[u8], output: &mut [u8], count: usize) {
        self.shift(true, input, output, count);
    }

    pub fn shift_dr(&mut self, input: &[u8], output: &mut [u8], count: usize) {
        self.shift(false, input, output, count);
    }

    /// Find the devices on the chain (nearest TDO first): after Test-Logic-Reset each DR
    /// holds a 32-bit IDCODE whose bit 0 is 1, or a 1-bit BYPASS of 0 (IEEE 1149.1 12.1.1).
    /// IR lengths come from `ir_lengths` (TDO first) if given, else from the IR capture
    /// pattern: every IR captures ...01, so each 1 after a 0 starts a new device.
    pub fn scan_chain(
        &mut self,
        ir_lengths: &[u8],
        devices: &mut [Device; MAX_DEVICES],
    ) -> Result<usize, JtagError> {
        self.reset();
        let ones = [0xFFu8; 4 * (MAX_DEVICES + 1)];
        let mut dr = [0u8; 4 * (MAX_DEVICES + 1)];
        self.shift_dr(&ones, &mut dr, 32 * (MAX_DEVICES + 1));
        let bit = |data: &[u8], index: usize| data[index / 8] >> (index % 8) & 1 != 0;
        let mut count = 0;
        let mut position = 0;
        while position < 32 * MAX_DEVICES {
            if bit(&dr, position) {
                let mut idcode = 0u32;
                for offset in 0..32 {
                    idcode |= u32::from(bit(&dr, position + offset)) << offset;
                }
                if idcode == u32::MAX {
                    break; // our own ones came back: end of chain
                }
                devices[count] = Device {
                    idcode,
                    ir_length: 0,
                };
                position += 32;
            } else {
                devices[count] = Device {
                    idcode: 0,
                    ir_length: 0,
                };
                position += 1;
            }
            count += 1;
            if count == MAX_DEVICES {
                return Err(JtagError::BadChain);
            }
        }
        if count == 0 {
            return Err(JtagError::BadChain);
        }
        self.assign_ir_lengths(ir_lengths, &mut devices[..count])?;
        self.reset();
        Ok(count)
    }

    fn assign_ir_lengths(&mut self, given: &[u8], devices: &mut [Device]) -> Result<(), JtagError> {
        if !given.is_empty() {
            if given.len() != devices.len() {
                return Err(JtagError::IrLengthMismatch);
            }
            for (device, &length) in devices.iter_mut().zip(given) {
                device.ir_length = length;
            }
            return Ok(());
        }
        // One IR scan of 256 ones then 256 zeros: out come the capture values (the chain's
        // L bits), then our ones; counting the ones after bit 256 gives L.
        let mut input = [0u8; 64];
        input[..32].fill(0xFF);
        let mut output = [0u8; 64];
        self.reset();
        self.shift_ir(&input, &mut output, 512);
        let bit = |index: usize| output[index / 8] >> (index % 8) & 1 != 0;
        let total = (256..512).take_while(|&index| bit(index)).count();
        if !(2..256).contains(&total) {
            return Err(JtagError::BadChain);
        }
        // Every capture value ends in 0b01 (IEEE 1149.1 7.1.1): a device starts at each 1
        // that follows a 0. Capture values with more ones need the lengths given.
        let mut starts = [0usize; MAX_DEVICES + 1];
        let mut found = 0;
        for index in (0..total).filter(|&index| bit(index) && (index == 0 || !bit(index - 1))) {
            if found == devices.len() {
                return Err(JtagError::IrLengthMismatch);
            }
            starts[found] = index;
            found += 1;
        }
        if found != devices.len() || starts[0] != 0 {
            return Err(JtagError::IrLengthMismatch);
        }
        starts[found] = total;
        for (index, device) in devices.iter_mut().enumerate() {
            device.ir_length = (starts[index + 1] - starts[index]) as u8;
        }
        Ok(())
    }
}

/// JTAG-DP instructions (ADIv5.2 B3.3.1, table B3-1), IR length 4.
pub mod instruction {
    pub const ABORT: u32 = 0b1000;
    pub const DPACC: u32 = 0b1010;
    pub const APACC: u32 = 0b1011;
    pub const IDCODE: u32 = 0b1110;
}

/// TCK cycles: the one primitive a JTAG scanner needs from a probe (bit-banged pins, or
/// a CMSIS-DAP processor's DAP_JTAG_Sequence).
pub trait Sequence {
    /// Clock `bits` TCK cycles with TMS held at `tms`, TDI from `tdi` (LSB first; at least
    /// `bits.div_ceil(8)` bytes), and TDO captured into `tdo` if given (LSB first, same
    /// size; bits past `bits` are zero). TDO is sampled before each rising TCK edge.
    fn sequence(&mut self, tms: bool, tdi: &[u8], bits: usize, tdo: Option<&mut [u8]>);
}

impl<P: Pins> Sequence for Jtag<P> {
    fn sequence(&mut self, tms: bool, tdi: &[u8], bits: usize, mut tdo: Option<&mut [u8]>) {
        if let Some(out) = tdo.as_deref_mut() {
            out.fill(0);
        }
        for index in 0..bits {
            let level = self.clock(tms, tdi[index / 8] >> (index % 8) & 1 != 0);
            if level && let Some(out) = tdo.as_deref_mut() {
                out[index / 8] |= 1 << (index % 8);
            }
        }
        self.pins.set_swclk(false);
    }
}

/// A scan chain as its devices' IR lengths, nearest TDO first (device 0's registers are
/// shifted out first; IEEE 1149.1, and CMSIS-DAP DAP_JTAG_Configure's order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chain {
    ir_lengths: heapless::Vec<u8, MAX_DEVICES>,
}

impl Chain {
    /// A chain of devices with these IR lengths: at most [`MAX_DEVICES`], each at least 1.
    pub fn new(ir_lengths: &[u8]) -> Option<Self> {
        if ir_lengths.contains(&0) {
            return None;
        }
        let ir_lengths = heapless::Vec::from_slice(ir_lengths).ok()?;
        Some(Self { ir_lengths })
    }

    pub fn contains(&self, index: u8) -> bool {
        usize::from(index) < self.ir_lengths.len()
    }

    fn len(&self) -> usize {
        self.ir_lengths.len()
    }
}

/// IR and DR scans to one device of a chain with the others in BYPASS, from
/// Run-Test/Idle back to Run-Test/Idle (IEEE 1149.1), and the JTAG-DP's DPACC/APACC/ABORT
/// scans on top (ADIv5.2 B3.3): the one JTAG-DP scanner of the probe, for its own engine
/// ([`JtagDp`]) and for the CMSIS-DAP processor.
pub struct Scanner<'a, S> {
    pub wire: &'a mut S,
    pub chain: &'a Chain,
    /// The device, which `chain` must contain.
    pub index: u8,
    /// Extra TCK cycles in Run-Test/Idle after each DR scan (DAP_TransferConfigure).
    pub idle_cycles: u8,
}

impl<S: Sequence> Scanner<'_, S> {
    fn tms(&mut self, tms: bool, cycles: usize) {
        let mut left = cycles;
        while left > 0 {
            let chunk = left.min(64);
            self.wire.sequence(tms, &[0xFF; 8], chunk, None);
            left -= chunk;
        }
    }

    /// Shift `bits` bits: `value` for the first 64, `fill` after; TMS high on the last bit
    /// if `exit`. Returns the first 64 bits of TDO.
    fn shift(&mut self, bits: usize, value: u64, fill: bool, exit: bool) -> u64 {
        let mut captured = 0u64;
        let mut done = 0;
        while done < bits {
            let chunk = (bits - done).min(64);
            let word = if done == 0 {
                value
            } else if fill {
                u64::MAX
            } else {
                0
            };
            let last = done + chunk == bits && exit;
            let body = if last { chunk - 1 } else { chunk };
            let mut tdo = [0u8; 8];
            let tdi = word.to_le_bytes();
            if body > 0 {
                self.wire.sequence(false, &tdi, body, Some(&mut tdo));
            }
            let mut value_out = u64::from_le_bytes(tdo);
            if last {
                let bit = [u8::from(word >> body & 1 != 0)];
                let mut out = [0u8];
                self.wire.sequence(true, &bit, 1, Some(&mut out));
                value_out |= u64::from(out[0] & 1) << body;
            }
            if done == 0 {
                captured = value_out;
            }
            done += chunk;
        }
        captured
    }

    /// Load `instruction` into the device's IR, BYPASS (all ones) into the others.
    pub fn ir(&mut self, instruction: u32) {
        let lengths = &self.chain.ir_lengths;
        let index = usize::from(self.index);
        let before: usize = lengths[..index].iter().map(|&l| usize::from(l)).sum();
        let own = usize::from(lengths[index]);
        let after: usize = lengths[index + 1..].iter().map(|&l| usize::from(l)).sum();
        // Run-Test/Idle -> Select-DR -> Select-IR -> Capture-IR -> Shift-IR
        self.tms(true, 2);
        self.tms(false, 2);
        self.shift(before, u64::MAX, true, false);
        self.shift(own, u64::from(instruction), false, after == 0);
        self.shift(after, u64::MAX, true, true);
        // Exit1-IR -> Update-IR -> Run-Test/Idle
        self.tms(true, 1);
        self.tms(false, 1);
    }

    /// Shift `bits` bits (up to 64) of `value` through the device's DR, the others in
    /// BYPASS (one bit each), and return what it captured.
    pub fn dr(&mut self, bits: usize, value: u64) -> u64 {
        let before = usize::from(self.index);
        let after = self.chain.len() - before - 1;
        // Run-Test/Idle -> Select-DR -> Capture-DR -> Shift-DR
        self.tms(true, 1);
        self.tms(false, 2);
        self.shift(before, u64::MAX, true, false);
        let captured = self.shift(bits, value, false, after == 0);
        self.shift(after, u64::MAX, true, true);
        // Exit1-DR -> Update-DR -> Run-Test/Idle, then idle cycles
        self.tms(true, 1);
        self.tms(false, 1 + usize::from(self.idle_cycles));
        captured & mask(bits)
    }

    /// A 35-bit DPACC, APACC or ABORT scan (B3.3.2), the instruction loaded: RnW in bit 0,
    /// A[3:2] in bits 2:1, data in bits 34:3. Returns the result of the *previous*
    /// transaction, once the ACK is OK/FAULT (WAIT: the request was not taken).
    pub fn dp_scan(&mut self, read: bool, address: u8, data: u32) -> Result<u32, TransferError> {
        let request = u64::from(read) | u64::from(address & 0x0C) >> 1 | u64::from(data) << 3;
        let captured = self.dr(35, request);
        Ack::check(Ack::from_jtag((captured & 0b111) as u32))?;
        Ok((captured >> 3) as u32)
    }
}

fn mask(bits: usize) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    }
}

/// An ARM JTAG-DP on a chain, the other devices held in BYPASS.
pub struct JtagDp<P: Pins> {
    jtag: Jtag<P>,
    devices: heapless::Vec<Device, MAX_DEVICES>,
    chain: Chain,
    index: u8,
    /// The instruction in the DP's IR, if known (saves IR scans).
    instruction: Option<u32>,
}

impl<P: Pins> JtagDp<P> {
    /// Scan the chain and pick the first ARM JTAG-DP (IDCODE designer ARM, part 0xBA0x).
    pub fn open(mut jtag: Jtag<P>, ir_lengths: &[u8]) -> Result<Self, (JtagError, P)> {
        let mut found = [Device {
            idcode: 0,
            ir_length: 0,
        }; MAX_DEVICES];
        let count = match jtag.scan_chain(ir_lengths, &mut found) {
            Ok(count) => count,
            Err(error) => return Err((error, jtag.into_pins())),
        };
        let devices = &found[..count];
        let is_debug_port =
            |device: &Device| device.idcode & 0x0FF0_0FFF == 0x0BA0_0477 && device.ir_length == 4;
        let lengths = devices.iter().map(|device| device.ir_length);
        let chain = Chain {
            ir_lengths: lengths.collect(),
        };
        match devices.iter().position(is_debug_port) {
            Some(index) => Ok(Self {
                jtag,
                devices: devices.iter().copied().collect(),
                chain,
                index: index as u8,
                instruction: None,
            }),
            None => Err((JtagError::NoDebugPort, jtag.into_pins())),
        }
    }

    pub fn devices(&self) -> &[Device] {
        &self.devices
    }

    /// IDCODE of the debug port's TAP.
    pub fn idcode(&self) -> u32 {
        self.devices[usize::from(self.index)].idcode
    }

    pub fn into_pins(self) -> P {
        self.jtag.into_pins()
    }

    pub fn pins(&mut self) -> &mut P {
        self.jtag.pins()
    }

    /// Load `instruction` into the DP's IR (BYPASS into the others) unless it is there,
    /// and scan its DR.
    fn access(
        &mut self,
        instruction: u32,
        read: bool,
        address: u8,
        value: u32,
    ) -> Result<u32, TransferError> {
        let mut scanner = Scanner {
            wire: &mut self.jtag,
            chain: &self.chain,
            index: self.index,
            idle_cycles: 0,
        };
        if self.instruction != Some(instruction) {
            scanner.ir(instruction);
            self.instruction = Some(instruction);
        }
        scanner.dp_scan(read, address, value)
    }

    /// One DPACC or APACC scan (B3.3.2). Returns the result of the *previous*
    /// transaction, once the ACK is OK/FAULT (WAIT: the request was not taken).
    pub fn scan(
        &mut self,
        port: Port,
        read: bool,
        address: u8,
        value: u32,
    ) -> Result<u32, TransferError> {
        let instruction = match port {
            Port::Dp => instruction::DPACC,
            Port::Ap => instruction::APACC,
        };
        self.access(instruction, read, address, value)
    }

    /// Write ABORT through its own instruction (B3.2.1); its ACK means nothing.
    pub fn write_abort(&mut self, value: u32) {
        let _ = self.access(instruction::ABORT, false, 0x0, value);
    }

    /// Test-Logic-Reset, then back to the DP.
    pub fn reset(&mut self) {
        self.jtag.reset();
        self.instruction = None;
    }
}
