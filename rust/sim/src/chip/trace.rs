//! ITM and TPIU: what the core writes to an ITM stimulus port leaves the chip on SWO.
//!
//! ITM (ARMv7-M ARM C1.7, D4.2): a write to stimulus port n (0xE000_0000 + 4n) while
//! ITM_TCR.ITMENA, ITM_TER bit n and DEMCR.TRCENA are set becomes a software source packet:
//! a header (n << 3 | size: 1, 2 or 3 for 1, 2 or 4 bytes) and the written bytes, little
//! endian. Reading a stimulus port gives FIFOREADY (bit 0): the ITM is on and its FIFO has
//! room. A write while it has none is lost, and the next packet is preceded by an overflow
//! packet (0x70, D4.2.3). With ITM_TCR.TSENA each packet is followed by a local timestamp
//! (D4.2.4): the core clock cycles since the previous packet, divided by TSPrescale, as a
//! one-byte packet for 1..6 and otherwise a header 0xC0 and 7-bit groups (bit 7: more
//! follow), none when no time has passed. With ITM_TCR.SYNCENA a synchronization packet
//! (five 0x00 then 0x80, D4.2.1) goes before the first packet and then at most every
//! `SYNC_PERIOD_CYCLES`.
//!
//! TPIU (CoreSight TPIU, Cortex-M3 TRM 11): TPIU_SPPR selects the pin protocol (1
//! Manchester, 2 NRZ/UART), TPIU_ACPR the prescaler: the SWO bit rate is TRACECLKIN (the
//! core clock) / (ACPR + 1). Bytes leave one after another at that rate: an NRZ byte takes
//! 10 bit times (start, 8 data, stop), a Manchester byte 8 bit times plus a start bit per
//! packet. The bytes are kept with the virtual time at which their last bit has left, and
//! `take_swo` hands out those whose time has come, as a probe's SWO receiver would.
//!
//! With TPIU_FFCR.EnFCont (bit 1) the formatter wraps the stream in 16-byte frames
//! (CoreSight Architecture Specification, "Formatter and frame synchronization"): even
//! bytes hold data (bit 0 in the last byte's matching bit) or an ID change (bit 0 set,
//! the ID in bits 7:1; its aux bit set: the change takes effect after the next byte), odd
//! bytes data, byte 15 the aux bits. The ITM's stream carries ITM_TCR.TraceBusID. A full
//! synchronization packet (FF FF FF 7F) goes before the first frame and after every
//! TPIU_FSCR frames.
//!
//! Approximations: each frame starts with an ID change to the ITM's ID (14 data bytes a
//! frame, so a decoder can start at any frame); a frame that has not filled within
//! `FLUSH_NS` leaves padded with data of the null ID 0. The ITM FIFO is
//! `ITM_FIFO_BYTES` bytes of the line's backlog. Timestamps count from the previous packet
//! in the core's virtual time, which moves in slices while it runs (packets of one slice
//! share a time); a write of TPIU_ACPR or TPIU_SPPR makes the next frame start with a
//! synchronization, as when formatting starts (a receiver set up for the new rate finds
//! the frames at once; real parts wait for the TPIU_FSCR count); the global timestamps,
//! TPIU_FSCR's cycle count, DWT_CTRL.SYNCTAP and the TPIU's own synchronization of the
//! halted formatter are not modelled; ITM_LAR is not enforced; ITM_TPR is stored only.

use std::collections::VecDeque;

pub const ITM_STIMULUS_END: u32 = 0xE000_0080;
const ITM_TER: u32 = 0xE000_0E00;
const ITM_TPR: u32 = 0xE000_0E40;
const ITM_TCR: u32 = 0xE000_0E80;
/// ITM_TCR bits (ARMv7-M C1.7.6).
const TCR_ITMENA: u32 = 1 << 0;
const TCR_TSENA: u32 = 1 << 1;
const TCR_SYNCENA: u32 = 1 << 2;
const TCR_TSPRESCALE_SHIFT: u32 = 8;
const TCR_TRACEBUSID_SHIFT: u32 = 16;
/// DEMCR.TRCENA (ARMv7-M C1.6.5).
pub const DEMCR_TRCENA: u32 = 1 << 24;

const TPIU_CSPSR: u32 = 0xE004_0004;
const TPIU_ACPR: u32 = 0xE004_0010;
const TPIU_SPPR: u32 = 0xE004_00F0;
const TPIU_FFCR: u32 = 0xE004_0304;
const TPIU_FSCR: u32 = 0xE004_0308;
/// TPIU_DEVID (Cortex-M3 TRM 11.2.1): bit 11 SWO NRZ and bit 10 SWO Manchester supported,
/// bit 9 clear (the parallel trace port exists), FIFO size 4 (bits 8:6 = 2), TRACECLKIN
/// asynchronous to the trace port clock (bit 5). OpenOCD's `tpiu enable` checks bits 10/11.
const TPIU_DEVID: u32 = 0xE004_0FC8;
const DEVID_VALUE: u32 = 0xCA0;
/// Reset values (Cortex-M3 TRM 11.2): port size 1, Manchester, formatter on; a frame
/// synchronization every 64 frames.
const CSPSR_RESET: u32 = 1;
const SPPR_MANCHESTER: u32 = 1;
const SPPR_NRZ: u32 = 2;
const SPPR_RESET: u32 = SPPR_MANCHESTER;
const FFCR_RESET: u32 = 0x102;
const FFCR_ENFCONT: u32 = 1 << 1;
const FSCR_RESET: u32 = 0x40;

/// SWO bytes waiting for a reader before new ones are dropped.
const MAX_QUEUED: usize = 1 << 16;
/// Line backlog (bytes not yet sent) at which the ITM FIFO is full.
const ITM_FIFO_BYTES: usize = 16;
/// Packets (ARMv7-M D4.2).
const OVERFLOW_PACKET: u8 = 0x70;
const SYNCHRONIZATION_PACKET: [u8; 6] = [0, 0, 0, 0, 0, 0x80];
/// Local timestamp format 1 header: C (bit 7) set, TC = 0 (in sync with the data).
const TIMESTAMP_HEADER: u8 = 0xC0;
/// Longest timestamp delta: four 7-bit groups.
const MAX_TIMESTAMP: u64 = (1 << 28) - 1;
/// Core cycles between ITM synchronization packets: CYCCNT bit 24 (DWT_CTRL.SYNCTAP = 1).
const SYNC_PERIOD_CYCLES: u64 = 1 << 24;
/// Formatter frames: 16 bytes, the full synchronization packet, data bytes per frame here.
const FRAME_BYTES: usize = 16;
const FRAME_SYNCHRONIZATION: [u8; 4] = [0xFF, 0xFF, 0xFF, 0x7F];
const FRAME_DATA: usize = 14;
/// A partial frame leaves after this long.
const FLUSH_NS: u64 = 100_000;

/// How SWO bytes are sent: the bit rate and NRZ (else Manchester).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwoFormat {
    pub rate: u64,
    pub nrz: bool,
}

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
    frame_sync_period: u32,
    /// Bytes on the line: the time (ns) at which each has been sent, the byte, and the
    /// bit rate and protocol (NRZ?) it was sent with.
    line: VecDeque<(u64, u8, SwoFormat)>,
    /// When the line is free for the next byte.
    line_free_ns: u64,
    /// A stimulus write was lost: an overflow packet goes first.
    overflowed: bool,
    /// The time of the last packet, the reference of the next local timestamp.
    last_packet_ns: Option<u64>,
    /// When the next ITM synchronization packet is due (None: before the first packet).
    next_sync_ns: Option<u64>,
    /// Formatter: bytes of the frame being filled and when its first one came.
    frame_pending: Vec<u8>,
    frame_pending_since_ns: u64,
    /// Frames since the last frame synchronization (None: none sent yet).
    frames_since_sync: Option<u32>,
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
            frame_sync_period: FSCR_RESET,
            line: VecDeque::new(),
            line_free_ns: 0,
            overflowed: false,
            last_packet_ns: None,
            next_sync_ns: None,
            frame_pending: Vec::new(),
            frame_pending_since_ns: 0,
            frames_since_sync: None,
        }
    }
}

/// ns to core clock cycles.
fn cycles(ns: u64) -> u64 {
    (u128::from(ns) * u128::from(super::CORE_HZ) / 1_000_000_000) as u64
}

/// A local timestamp packet for `ticks` (ARMv7-M D4.2.4), none for 0.
fn timestamp_packet(ticks: u64, out: &mut Vec<u8>) {
    match ticks.min(MAX_TIMESTAMP) {
        0 => {}
        // Format 2: the value in bits 6:4 of a one-byte packet.
        small @ 1..=6 => out.push((small as u8) << 4),
        mut value => {
            out.push(TIMESTAMP_HEADER);
            loop {
                let group = (value & 0x7F) as u8;
                value >>= 7;
                if value == 0 {
                    out.push(group);
                    break;
                }
                out.push(group | 0x80);
            }
        }
    }
}

/// One formatter frame of the stream `id` with 1..=`FRAME_DATA` data bytes (see the module
/// documentation): an ID change to `id`, the data, and for a short frame an ID change to
/// the null ID 0 and padding.
fn frame(id: u8, data: &[u8]) -> [u8; FRAME_BYTES] {
    // Slots 0..=14 hold (byte, is_id_change, delayed); slot 15 is the aux byte.
    let mut slots = [(0u8, false, false); FRAME_BYTES - 1];
    slots[0] = (id, true, false);
    let count = data.len().min(FRAME_DATA);
    if count == FRAME_DATA || count % 2 == 1 {
        // The last data byte lands on an odd slot: the null ID starts at the even one after.
        for (slot, &byte) in slots[1..].iter_mut().zip(&data[..count]) {
            *slot = (byte, false, false);
        }
        if count < FRAME_DATA {
            slots[count + 1] = (0, true, false);
        }
    } else {
        // The last data byte goes after a delayed change to the null ID.
        for (slot, &byte) in slots[1..count].iter_mut().zip(&data[..count - 1]) {
            *slot = (byte, false, false);
        }
        slots[count] = (0, true, true);
        slots[count + 1] = (data[count - 1], false, false);
    }
    let mut bytes = [0u8; FRAME_BYTES];
    for (index, &(value, id_change, delayed)) in slots.iter().enumerate() {
        if index % 2 == 1 {
            bytes[index] = value;
        } else if id_change {
            bytes[index] = value << 1 | 1;
            bytes[15] |= u8::from(delayed) << (index / 2);
        } else {
            bytes[index] = value & 0xFE;
            bytes[15] |= (value & 1) << (index / 2);
        }
    }
    bytes
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
        if self.backlog(now_ns) >= ITM_FIFO_BYTES {
            self.overflowed = true;
            return;
        }
        let mut packets = Vec::with_capacity(16);
        if self.control & TCR_SYNCENA != 0 && self.next_sync_ns.is_none_or(|due| now_ns >= due) {
            packets.extend_from_slice(&SYNCHRONIZATION_PACKET);
            self.next_sync_ns = Some(now_ns + SYNC_PERIOD_CYCLES * 1_000_000_000 / super::CORE_HZ);
        }
        if std::mem::take(&mut self.overflowed) {
            packets.push(OVERFLOW_PACKET);
        }
        let size = match bytes {
            1 => 1,
            2 => 2,
            _ => 3,
        };
        packets.push((port << 3 | size) as u8);
        packets.extend(value.to_le_bytes().into_iter().take(bytes as usize));
        if self.control & TCR_TSENA != 0
            && let Some(last) = self.last_packet_ns
        {
            let divider = 1u64 << (2 * ((self.control >> TCR_TSPRESCALE_SHIFT) & 0b11));
            timestamp_packet(cycles(now_ns.saturating_sub(last)) / divider, &mut packets);
        }
        self.last_packet_ns = Some(now_ns);
        self.pass_to_tpiu(&packets, now_ns);
    }

    /// Bytes on the line not yet sent at `now_ns`.
    fn backlog(&self, now_ns: u64) -> usize {
        self.line.iter().filter(|&&(at, _, _)| at > now_ns).count()
    }

    fn formatting(&self) -> bool {
        self.formatter & FFCR_ENFCONT != 0
    }

    /// The ITM's bytes into the TPIU: straight on the line, or into frames.
    fn pass_to_tpiu(&mut self, bytes: &[u8], now_ns: u64) {
        if !self.formatting() {
            self.send(bytes, now_ns);
            return;
        }
        self.flush_due(now_ns);
        if self.frame_pending.is_empty() {
            self.frame_pending_since_ns = now_ns;
        }
        self.frame_pending.extend_from_slice(bytes);
        while self.frame_pending.len() >= FRAME_DATA {
            let data: Vec<u8> = self.frame_pending.drain(..FRAME_DATA).collect();
            self.send_frame(&data, now_ns);
            self.frame_pending_since_ns = now_ns;
        }
    }

    /// A partial frame that has waited `FLUSH_NS` leaves, at that time.
    fn flush_due(&mut self, now_ns: u64) {
        let due = self.frame_pending_since_ns + FLUSH_NS;
        if !self.frame_pending.is_empty() && due <= now_ns {
            let data = std::mem::take(&mut self.frame_pending);
            self.send_frame(&data, due);
        }
    }

    fn send_frame(&mut self, data: &[u8], at_ns: u64) {
        let id = ((self.control >> TCR_TRACEBUSID_SHIFT) & 0x7F) as u8;
        let period = self.frame_sync_period;
        let sync = match self.frames_since_sync {
            None => true,
            Some(frames) => period != 0 && frames >= period,
        };
        if sync {
            self.send(&FRAME_SYNCHRONIZATION, at_ns);
            self.frames_since_sync = Some(0);
        }
        self.send(&frame(id, data), at_ns);
        self.frames_since_sync = self.frames_since_sync.map(|frames| frames + 1);
    }

    /// Bytes on the line from `now_ns`, one after another at the bit rate.
    fn send(&mut self, bytes: &[u8], now_ns: u64) {
        let bit_ns = self.bit_ns();
        let (per_byte, per_packet) = match self.protocol {
            SPPR_NRZ => (10 * bit_ns, 0),
            _ => (8 * bit_ns, bit_ns),
        };
        let mut at = self.line_free_ns.max(now_ns) + per_packet;
        let format = self.swo_format();
        for &byte in bytes {
            if self.line.len() >= MAX_QUEUED {
                break;
            }
            at += per_byte;
            self.line.push_back((at, byte, format));
        }
        self.line_free_ns = at;
    }

    /// One SWO bit in ns: TRACECLKIN / (ACPR + 1).
    fn bit_ns(&self) -> u64 {
        let baud = super::CORE_HZ / (u64::from(self.prescaler & 0x1FFF) + 1);
        1_000_000_000u64.div_ceil(baud)
    }

    /// Reading a stimulus port: FIFOREADY while the ITM is on and its FIFO has room.
    pub fn read_stimulus(&self, now_ns: u64) -> u32 {
        u32::from(self.control & TCR_ITMENA != 0 && self.backlog(now_ns) < ITM_FIFO_BYTES)
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
            TPIU_FSCR => self.frame_sync_period,
            TPIU_DEVID => DEVID_VALUE,
            _ => 0,
        }
    }

    pub fn write(&mut self, address: u32, value: u32) {
        match address {
            ITM_TER => self.enables = value,
            ITM_TPR => self.privilege = value,
            ITM_TCR => {
                if value & TCR_ITMENA == 0 {
                    // Off: the next start has no timestamp reference and synchronizes.
                    self.last_packet_ns = None;
                    self.next_sync_ns = None;
                }
                self.control = value;
            }
            TPIU_CSPSR => self.port_size = value,
            // A new rate or protocol: a receiver must find the frames again (see the
            // approximations).
            TPIU_ACPR => {
                self.prescaler = value & 0x1FFF;
                self.frames_since_sync = None;
            }
            TPIU_SPPR => {
                self.protocol = value & 0b11;
                self.frames_since_sync = None;
            }
            TPIU_FFCR => {
                if (value ^ self.formatter) & FFCR_ENFCONT != 0 {
                    // Formatting starts or stops: a new frame sequence, synchronized first.
                    self.frame_pending.clear();
                    self.frames_since_sync = None;
                }
                self.formatter = value;
            }
            TPIU_FSCR => self.frame_sync_period = value & 0xFFF,
            _ => {}
        }
    }

    /// SWO bytes whose last bit has left by `now_ns`, appended to `out`.
    pub fn take_swo(&mut self, now_ns: u64, out: &mut Vec<u8>) {
        let mut sent = Vec::new();
        self.take_swo_sent(now_ns, &mut sent);
        out.extend(sent.iter().map(|&(byte, _)| byte));
    }

    /// [`Trace::take_swo`], each byte with the rate and protocol it was sent in (a receiver
    /// set to another reads garbage).
    pub fn take_swo_sent(&mut self, now_ns: u64, out: &mut Vec<(u8, SwoFormat)>) {
        if self.formatting() {
            self.flush_due(now_ns);
        }
        while let Some(&(at, byte, format)) = self.line.front() {
            if at > now_ns {
                break;
            }
            out.push((byte, format));
            self.line.pop_front();
        }
    }

    fn swo_format(&self) -> SwoFormat {
        SwoFormat {
            rate: super::CORE_HZ / (u64::from(self.prescaler) + 1),
            nrz: self.protocol == SPPR_NRZ,
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
        trace.write(TPIU_FFCR, 0x100); // formatter off (bypass)
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
        assert_eq!(Trace::default().read_stimulus(0), 0);
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

    /// Undo a formatter frame: (ID, data byte) pairs in order (the decoder's side).
    fn deframe(frame: &[u8], id: &mut u8, out: &mut Vec<(u8, u8)>) {
        let aux = frame[15];
        let mut delayed = None;
        for (index, &byte) in frame[..15].iter().enumerate() {
            if index % 2 == 0 && byte & 1 == 1 {
                if aux >> (index / 2) & 1 == 1 {
                    delayed = Some(byte >> 1);
                } else {
                    *id = byte >> 1;
                }
                continue;
            }
            let data = if index % 2 == 0 {
                byte | (aux >> (index / 2) & 1)
            } else {
                byte
            };
            out.push((*id, data));
            if let Some(next) = delayed.take() {
                *id = next;
            }
        }
    }

    #[test]
    fn frames_carry_the_data_under_the_itm_id_whatever_their_length() {
        for count in 1..=FRAME_DATA {
            let data: Vec<u8> = (0..count as u8).map(|n| n.wrapping_mul(37) | 1).collect();
            let mut id = 0x55;
            let mut out = Vec::new();
            deframe(&frame(1, &data), &mut id, &mut out);
            let ours: Vec<u8> = out
                .iter()
                .filter(|&&(id, _)| id == 1)
                .map(|&(_, b)| b)
                .collect();
            assert_eq!(ours, data, "{count} bytes");
            // Padding belongs to the null ID.
            assert!(out.iter().all(|&(id, _)| id == 1 || id == 0));
        }
    }

    #[test]
    fn the_formatter_frames_the_stream_after_a_synchronization() {
        // Formatter on (reset value), TraceBusID 1.
        let mut trace = Trace::default();
        trace.write(TPIU_SPPR, SPPR_NRZ);
        trace.write(ITM_TCR, 1 << TCR_TRACEBUSID_SHIFT | TCR_ITMENA);
        trace.write(ITM_TER, 1);
        for (index, &byte) in b"formatted text!".iter().enumerate() {
            trace.stimulus(0, u32::from(byte), 1, DEMCR_TRCENA, index as u64 * 10_000);
        }
        // 30 ITM bytes: two full frames at once, the rest when the flush time has passed.
        let mut out = Vec::new();
        trace.take_swo(FLUSH_NS + 1_000_000, &mut out);
        assert_eq!(&out[..4], FRAME_SYNCHRONIZATION);
        assert_eq!(out.len(), 4 + 3 * FRAME_BYTES);
        let mut id = 0;
        let mut pairs = Vec::new();
        for frame in out[4..].chunks(FRAME_BYTES) {
            deframe(frame, &mut id, &mut pairs);
        }
        let itm: Vec<u8> = pairs
            .iter()
            .filter(|&&(id, _)| id == 1)
            .map(|&(_, b)| b)
            .collect();
        let expected: Vec<u8> = b"formatted text!".iter().flat_map(|&b| [0x01, b]).collect();
        assert_eq!(itm, expected);
    }

    #[test]
    fn timestamps_synchronization_and_overflow_packets() {
        let mut trace = enabled(SPPR_NRZ, 0); // 72 Mbit/s: the line is never the limit
        trace.write(ITM_TER, 1);
        trace.write(ITM_TCR, TCR_ITMENA | TCR_TSENA | TCR_SYNCENA);
        trace.stimulus(0, u32::from(b'a'), 1, DEMCR_TRCENA, 1_000);
        // 3 cycles later (41.7 ns): a one-byte timestamp; 1000 cycles later: 0xC0 E8 07.
        trace.stimulus(0, u32::from(b'b'), 1, DEMCR_TRCENA, 1_042);
        trace.stimulus(0, u32::from(b'c'), 1, DEMCR_TRCENA, 1_042 + 13_889);
        let mut out = Vec::new();
        trace.take_swo(u64::MAX, &mut out);
        assert_eq!(
            out,
            [
                0, 0, 0, 0, 0, 0x80, 0x01, b'a', // sync first, no reference for a timestamp
                0x01, b'b', 0x30, // 3 cycles: format 2
                0x01, b'c', 0xC0, 0xE8, 0x07 // 1000 cycles: format 1, 7-bit groups
            ]
        );
        // A full FIFO loses the write; the next packet says so first.
        let mut trace = enabled(SPPR_NRZ, 719); // 100 kbit/s: 100 us a byte
        trace.write(ITM_TER, 1);
        for _ in 0..ITM_FIFO_BYTES / 2 {
            trace.stimulus(0, u32::from(b'x'), 1, DEMCR_TRCENA, 0);
        }
        assert_eq!(trace.read_stimulus(0), 0);
        trace.stimulus(0, u32::from(b'y'), 1, DEMCR_TRCENA, 0);
        assert_eq!(trace.read_stimulus(10_000_000), 1);
        trace.stimulus(0, u32::from(b'z'), 1, DEMCR_TRCENA, 10_000_000);
        let mut out = Vec::new();
        trace.take_swo(u64::MAX, &mut out);
        assert_eq!(&out[out.len() - 3..], [OVERFLOW_PACKET, 0x01, b'z']);
        assert!(!out.contains(&b'y'));
    }
}
