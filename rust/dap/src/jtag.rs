//! JTAG-DP access built from raw TCK sequences: the chain set by DAP_JTAG_Configure, IR and
//! DR scans with the other devices in BYPASS, DPACC/APACC transactions (ADIv5.2 B3.3).
//!
//! Devices are numbered from TDO: device 0's registers are shifted out first, so the first
//! bits shifted in end up in it (IEEE 1149.1; CMSIS-DAP DAP_JTAG_Configure, as ARM's
//! reference firmware and OpenOCD's TAP order).

use crate::transfer::Link;
use crate::wire::{Board, Jtag, Port, TransferError};
use ::wire::Ack;

/// Devices DAP_JTAG_Configure accepts.
pub const MAX_DEVICES: usize = 8;

/// JTAG-DP instructions (ADIv5.2 B3.3.1, table B3-1), 4-bit IR.
pub(crate) mod instruction {
    pub const ABORT: u32 = 0b1000;
    pub const DPACC: u32 = 0b1010;
    pub const APACC: u32 = 0b1011;
    pub const IDCODE: u32 = 0b1110;
}

/// The scan chain from DAP_JTAG_Configure.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Chain {
    count: u8,
    ir_lengths: [u8; MAX_DEVICES],
}

impl Chain {
    /// A chain of devices with these IR lengths (each at least 1), counted from TDO.
    pub(crate) fn new(ir_lengths: &[u8]) -> Option<Self> {
        if ir_lengths.len() > MAX_DEVICES || ir_lengths.contains(&0) {
            return None;
        }
        let mut chain = Self {
            count: ir_lengths.len() as u8,
            ir_lengths: [0; MAX_DEVICES],
        };
        chain.ir_lengths[..ir_lengths.len()].copy_from_slice(ir_lengths);
        Some(chain)
    }

    pub(crate) fn contains(&self, index: u8) -> bool {
        index < self.count
    }

    fn lengths(&self) -> &[u8] {
        &self.ir_lengths[..usize::from(self.count)]
    }
}

/// IR and DR scans to one device of the chain, from Run-Test/Idle back to Run-Test/Idle.
pub(crate) struct Scanner<'w, W> {
    pub wire: &'w mut W,
    pub chain: Chain,
    pub index: u8,
    /// Extra TCK cycles in Run-Test/Idle after each DR scan (DAP_TransferConfigure).
    pub idle_cycles: u8,
}

impl<W: Jtag> Scanner<'_, W> {
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
    pub(crate) fn ir(&mut self, instruction: u32) {
        let lengths = self.chain.lengths();
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

    /// Shift `bits` bits of `value` through the device's DR (the others in BYPASS) and
    /// return what it captured.
    pub(crate) fn dr(&mut self, bits: usize, value: u64) -> u64 {
        let before = usize::from(self.index);
        let after = usize::from(self.chain.count - self.index - 1);
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
}

fn mask(bits: usize) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    }
}

/// DPACC/APACC transactions to one device; remembers the IR to skip IR scans.
pub(crate) struct JtagLink<'w, W> {
    pub scanner: Scanner<'w, W>,
    pub ir: Option<u32>,
}

impl<'w, W: Jtag> JtagLink<'w, W> {
    pub(crate) fn new(scanner: Scanner<'w, W>) -> Self {
        Self { scanner, ir: None }
    }

    pub(crate) fn select(&mut self, instruction: u32) {
        if self.ir != Some(instruction) {
            self.scanner.ir(instruction);
            self.ir = Some(instruction);
        }
    }

    /// A 35-bit DPACC/APACC or ABORT scan (ADIv5.2 B3.3.2): RnW, A[3:2], data in; ACK and
    /// the previous read result out.
    pub(crate) fn scan(
        &mut self,
        read: bool,
        address: u8,
        data: u32,
    ) -> Result<u32, TransferError> {
        let request = u64::from(read) | u64::from(address & 0x0C) >> 1 | u64::from(data) << 3;
        let captured = self.scanner.dr(35, request);
        Ack::check(Ack::from_jtag((captured & 0b111) as u32))?;
        Ok((captured >> 3) as u32)
    }
}

impl<W: Jtag + Board> Link for JtagLink<'_, W> {
    fn access(
        &mut self,
        port: Port,
        read: bool,
        address: u8,
        data: u32,
    ) -> Result<u32, TransferError> {
        self.select(match port {
            Port::Dp => instruction::DPACC,
            Port::Ap => instruction::APACC,
        });
        self.scan(read, address, data)
    }

    fn posted(&self, _port: Port) -> bool {
        true
    }

    fn timestamp(&mut self) -> u32 {
        self.scanner.wire.timestamp()
    }

    fn take_abort(&mut self) -> bool {
        self.scanner.wire.take_abort()
    }
}
