//! ITM and TPIU: what the core writes to an ITM stimulus port leaves the chip on SWO.
//!
//! ITM (ARMv7-M ARM C1.7, D4.2): a write to stimulus port n (0xE000_0000 + 4n) while
//! ITM_TCR.ITMENA, ITM_TER bit n and DEMCR.TRCENA are set becomes a software source packet:
//! a header (n << 3 | size: 1, 2 or 3 for 1, 2 or 4 bytes) and the written bytes, little
//! endian. Reading a stimulus port gives 1 (FIFOREADY) while the ITM is enabled.
//!
//! TPIU (CoreSight TPIU, Cortex-M3 TRM 11): TPIU_SPPR selects the pin protocol (1
//! Manchester, 2 NRZ/UART), TPIU_ACPR the prescaler: the SWO bit rate is TRACECLKIN (the
//! core clock) / (ACPR + 1). Bytes leave one after another at that rate: an NRZ byte takes
//! 10 bit times (start, 8 data, stop), a Manchester byte 8 bit times plus a start bit per
//! packet. The bytes are kept with the virtual time at which their last bit has left, and
//! `take_swo` hands out those whose time has come, as a probe's SWO receiver would.
//!
//! Approximations: the formatter (TPIU_FFCR.EnFCont) is not modelled: the output is always
//! the bypass stream a probe sees on SWO (the formatter is for the parallel trace port);
//! no timestamps, synchronization or overflow packets (the FIFO never overflows: bytes queue
//! up to `MAX_QUEUED` and later ones are dropped); ITM_LAR is not enforced; the ITM's
//! privilege mask (ITM_TPR) is stored only.

use std::collections::VecDeque;

pub const ITM_STIMULUS_END: u32 = 0xE000_0080;
const ITM_TER: u32 = 0xE000_0E00;
const ITM_TPR: u32 = 0xE000_0E40;
const ITM_TCR: u32 = 0xE000_0E80;
/// ITM_TCR.ITMENA (ARMv7-M C1.7.6).
const TCR_ITMENA: u32 = 1 << 0;
/// DEMCR.TRCENA (ARMv7-M C1.6.5).
pub const DEMCR_TRCENA: u32 = 1 << 24;

const TPIU_CSPSR: u32 = 0xE004_0004;
const TPIU_ACPR: u32 = 0xE004_0010;
const TPIU_SPPR: u32 = 0xE004_00F0;
const TPIU_FFCR: u32 = 0xE004_0304;
/// TPIU_DEVID (Cortex-M3 TRM 11.2.1): bit 11 SWO NRZ and bit 10 SWO Manchester supported,
/// bit 9 clear (the parallel trace port exists), FIFO size 4 (bits 8:6 = 2), TRACECLKIN
/// asynchronous to the trace port clock (bit 5). OpenOCD's `tpiu enable` checks bits 10/11.
const TPIU_DEVID: u32 = 0xE004_0FC8;
const DEVID_VALUE: u32 = 0xCA0;
/// Reset values (Cortex-M3 TRM 11.2): port size 1, Manchester, formatter on.
const CSPSR_RESET: u32 = 1;
const SPPR_MANCHESTER: u32 = 1;
const SPPR_NRZ: u32 = 2;
const SPPR_RESET: u32 = SPPR_MANCHESTER;
const FFCR_RESET: u32 = 0x102;
/// SWO bytes waiting for a reader before new ones are dropped.
const MAX_QUEUED: usize = 1 << 16;

/// ITM and TPIU registers and the SWO line.
#[derive(Debug)]
pub struct Trace {
    control: u32,
    enables: u32,
    privilege: u32,
    port_size: u32,
    prescaler: u32,
    protocol: u32,
    formatter: u32,
    /// Bytes on the line and the time (ns) at which each has been sent.
    line: VecDeque<(u64, u8)>,
    /// When the line is free for the next byte.
    line_free_ns: u64,
}

impl Default for Trace {
    fn default() -> Self {
        Self {
            control: 0,
            enables: 0,
            privilege: 0,
            port_size: CSPSR_RESET,
            prescaler: 0,
            protocol: SPPR_RESET,
            formatter: FFCR_RESET,
            line: VecDeque::new(),
            line_free_ns: 0,
        }
    }
}

impl Trace {
    /// A stimulus-port write of `bytes` (1, 2 or 4) at `now_ns`; `demcr` gates it.
    pub fn stimulus(&mut self, port: u32, value: u32, bytes: u32, demcr: u32, now_ns: u64) {
        let enabled = demcr & DEMCR_TRCENA != 0
            && self.control & TCR_ITMENA != 0
            && self.enables & (1 << port) != 0;
        if !enabled {
            return;
        }
        let size = match bytes {
            1 => 1,
            2 => 2,
            _ => 3,
        };
        let header = (port << 3 | size) as u8;
        let payload = value.to_le_bytes();
        let packet = core::iter::once(header).chain(payload.into_iter().take(bytes as usize));
        let bit_ns = self.bit_ns();
        let (per_byte, per_packet) = match self.protocol {
            SPPR_NRZ => (10 * bit_ns, 0),
            _ => (8 * bit_ns, bit_ns),
        };
        let mut at = self.line_free_ns.max(now_ns) + per_packet;
        for byte in packet {
            if self.line.len() >= MAX_QUEUED {
                break;
            }
            at += per_byte;
            self.line.push_back((at, byte));
        }
        self.line_free_ns = at;
    }

    /// One SWO bit in ns: TRACECLKIN / (ACPR + 1).
    fn bit_ns(&self) -> u64 {
        let baud = super::CORE_HZ / (u64::from(self.prescaler & 0x1FFF) + 1);
        1_000_000_000u64.div_ceil(baud)
    }

    /// Reading a stimulus port: FIFOREADY while the ITM is on.
    pub fn read_stimulus(&self) -> u32 {
        u32::from(self.control & TCR_ITMENA != 0)
    }

    pub fn read(&self, address: u32) -> u32 {
        match address {
            ITM_TER => self.enables,
            ITM_TPR => self.privilege,
            ITM_TCR => self.control,
            TPIU_CSPSR => self.port_size,
            TPIU_ACPR => self.prescaler,
            TPIU_SPPR => self.protocol,
            TPIU_FFCR => self.formatter,
            TPIU_DEVID => DEVID_VALUE,
            _ => 0,
        }
    }

    pub fn write(&mut self, address: u32, value: u32) {
        match address {
            ITM_TER => self.enables = value,
            ITM_TPR => self.privilege = value,
            ITM_TCR => self.control = value,
            TPIU_CSPSR => self.port_size = value,
            TPIU_ACPR => self.prescaler = value & 0x1FFF,
            TPIU_SPPR => self.protocol = value & 0b11,
            TPIU_FFCR => self.formatter = value,
            _ => {}
        }
    }

    /// SWO bytes whose last bit has left by `now_ns`, appended to `out`.
    pub fn take_swo(&mut self, now_ns: u64, out: &mut Vec<u8>) {
        while let Some(&(at, byte)) = self.line.front() {
            if at > now_ns {
                break;
            }
            out.push(byte);
            self.line.pop_front();
        }
    }

    /// The SWO bit rate now, in bits per second, and whether it is NRZ.
    pub fn swo_rate(&self) -> (u64, bool) {
        (
            super::CORE_HZ / (u64::from(self.prescaler) + 1),
            self.protocol == SPPR_NRZ,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(protocol: u32, prescaler: u32) -> Trace {
        let mut trace = Trace::default();
        trace.write(TPIU_SPPR, protocol);
        trace.write(TPIU_ACPR, prescaler);
        trace.write(ITM_TCR, TCR_ITMENA);
        trace.write(ITM_TER, 1 << 5);
        trace
    }

    #[test]
    fn a_stimulus_write_leaves_as_a_packet_at_the_baud_rate() {
        // 72 MHz / (35 + 1) = 2 Mbit/s: 500 ns a bit, 5 us an NRZ byte.
        let mut trace = enabled(SPPR_NRZ, 35);
        assert_eq!(trace.swo_rate(), (2_000_000, true));
        trace.stimulus(5, 0x6968, 2, DEMCR_TRCENA, 1_000);
        let mut out = Vec::new();
        trace.take_swo(1_000 + 4_999, &mut out);
        assert!(out.is_empty());
        trace.take_swo(1_000 + 10_000, &mut out);
        assert_eq!(out, [5 << 3 | 2, 0x68]);
        trace.take_swo(1_000 + 15_000, &mut out);
        assert_eq!(out, [5 << 3 | 2, 0x68, 0x69]);
        // The next packet waits for the line.
        trace.stimulus(5, 0x41, 1, DEMCR_TRCENA, 2_000);
        trace.take_swo(1_000 + 25_000, &mut out);
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn nothing_leaves_unless_enabled() {
        let mut trace = enabled(SPPR_NRZ, 0);
        trace.stimulus(5, 1, 1, 0, 0); // TRCENA clear
        trace.stimulus(4, 1, 1, DEMCR_TRCENA, 0); // port not enabled
        let mut out = Vec::new();
        trace.take_swo(u64::MAX, &mut out);
        assert!(out.is_empty());
        assert_eq!(Trace::default().read_stimulus(), 0);
    }

    #[test]
    fn manchester_bytes_take_eight_bit_times_after_a_start_bit() {
        let mut trace = enabled(SPPR_MANCHESTER, 71); // 1 Mbit/s
        trace.stimulus(5, 0xAABBCCDD, 4, DEMCR_TRCENA, 0);
        let mut out = Vec::new();
        trace.take_swo(9_000, &mut out);
        assert_eq!(out, [5 << 3 | 3]);
        trace.take_swo(41_000, &mut out);
        assert_eq!(out, [5 << 3 | 3, 0xDD, 0xCC, 0xBB, 0xAA]);
    }
}
