//! Bit-level tests of the debug port through its pins, with a RAM test double for the chip
//! and a small bit-banging SWD/JTAG driver of our own.

use super::access_port::{AHB_AP_BASE, AHB_AP_IDR, BASE, BD0, CFG, CSW, DRW, IDR, TAR};
use super::debug_port::*;
use super::{FaultConfig, Sim, WireMode};
use crate::bus::{Bus, BusError, Identity, MultidropTarget, Width};
use wire::{Pins, Port};

pub const RAM_BASE: u32 = 0x2000_0000;
const RAM_SIZE: usize = 64 * 1024;
const GENUINE: Identity = Identity {
    dpidr: 0x1BA0_1477,
    jtag_idcode: 0x3BA0_0477,
    boundary_scan_idcode: 0x1641_0041,
};

/// The chip as RAM at 0x2000_0000; everything else is a bus error. Stalls until
/// `stall_until_ns` of virtual time.
pub struct RamBus {
    pub memory: Vec<u8>,
    pub stall_until_ns: u64,
    pub now_ns: u64,
    pub reset: bool,
    /// Virtual time of each completed access.
    pub access_times: Vec<u64>,
}

impl RamBus {
    pub fn new() -> Self {
        Self {
            memory: vec![0; RAM_SIZE],
            stall_until_ns: 0,
            now_ns: 0,
            reset: false,
            access_times: Vec::new(),
        }
    }

    fn offset(&self, address: u32, width: Width) -> Result<usize, BusError> {
        if self.now_ns < self.stall_until_ns {
            return Err(BusError::Stall);
        }
        let offset = address.wrapping_sub(RAM_BASE) as usize;
        if offset + width.bytes() as usize > RAM_SIZE {
            return Err(BusError::Fault);
        }
        Ok(offset)
    }

    pub fn word(&self, address: u32) -> u32 {
        let offset = (address - RAM_BASE) as usize;
        u32::from_le_bytes(self.memory[offset..offset + 4].try_into().unwrap())
    }
}

impl Bus for RamBus {
    fn read(&mut self, address: u32, width: Width) -> Result<u32, BusError> {
        let offset = self.offset(address, width)?;
        self.access_times.push(self.now_ns);
        let mut value = 0;
        for index in 0..width.bytes() as usize {
            value |= u32::from(self.memory[offset + index]) << (8 * index);
        }
        Ok(value)
    }

    fn write(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError> {
        let offset = self.offset(address, width)?;
        self.access_times.push(self.now_ns);
        for index in 0..width.bytes() as usize {
            self.memory[offset + index] = (value >> (8 * index)) as u8;
        }
        Ok(())
    }

    fn advance_to(&mut self, now_ns: u64) {
        assert!(now_ns >= self.now_ns, "time went backwards");
        self.now_ns = now_ns;
    }

    fn set_reset(&mut self, asserted: bool) {
        self.reset = asserted;
    }

    fn identity(&self) -> Identity {
        GENUINE
    }
}

/// What came back from an SWD transaction other than OK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    Wait,
    Fault,
    /// Not a valid ACK: the bits read.
    NoAnswer(u64),
    /// Read data with a bad parity bit.
    Parity(u32),
}

/// Request byte: start, APnDP, RnW, A[2:3], parity, stop, park (ADIv5.2 B4.2.2).
fn request_byte(access_port: bool, read: bool, address: u8) -> u8 {
    let fields = u8::from(access_port) | u8::from(read) << 1 | (address >> 2 & 3) << 2;
    let parity = (fields.count_ones() & 1) as u8;
    1 | fields << 1 | parity << 5 | 1 << 7
}

/// A tiny SWD driver: the probe sets SWDIO with SWCLK low, the target samples on the rising
/// edge; the probe samples what the target drives while SWCLK is low. It and the JTAG
/// driver below are the tests' own on purpose, not the probe's `wire` engines and scanner:
/// the simulator is checked against the specification, independently of the probe.
struct Swd<'a, B: Bus> {
    sim: &'a mut Sim<B>,
}

impl<'a, B: Bus> Swd<'a, B> {
    fn new(sim: &'a mut Sim<B>) -> Self {
        sim.swdio_output(true);
        sim.set_swclk(false);
        Self { sim }
    }

    fn clock_out(&mut self, bits: u64, count: u32) {
        self.sim.swdio_output(true);
        for index in 0..count {
            self.sim.set_swdio(bits >> index & 1 != 0);
            self.sim.set_swclk(true);
            self.sim.set_swclk(false);
        }
    }

    fn clock_in(&mut self, count: u32) -> u64 {
        self.sim.swdio_output(false);
        let mut bits = 0;
        for index in 0..count {
            bits |= u64::from(self.sim.read_swdio()) << index;
            self.sim.set_swclk(true);
            self.sim.set_swclk(false);
        }
        bits
    }

    fn line_reset(&mut self) {
        self.clock_out(u64::MAX, 60);
        self.clock_out(0, 2);
    }

    /// JTAG-to-SWD select (ADIv5.2 B5.2.2), then a line reset.
    fn select_swd(&mut self) {
        self.line_reset();
        self.clock_out(0xE79E, 16);
        self.line_reset();
    }

    /// Select SWD and read DPIDR.
    fn connect(&mut self) -> u32 {
        self.select_swd();
        self.read(false, DPIDR).expect("DPIDR")
    }

    /// Request, turnaround, ACK; on anything but OK the turnaround back.
    fn start(&mut self, request: u8) -> Result<(), Failure> {
        self.clock_out(u64::from(request), 8);
        let acknowledge = self.clock_in(4) >> 1;
        let failure = match acknowledge {
            0b001 => return Ok(()),
            0b010 => Failure::Wait,
            0b100 => Failure::Fault,
            bits => Failure::NoAnswer(bits),
        };
        self.clock_in(1);
        self.clock_out(0, 2);
        Err(failure)
    }

    fn read_request(&mut self, request: u8) -> Result<u32, Failure> {
        self.start(request)?;
        let bits = self.clock_in(34);
        self.clock_out(0, 2);
        let data = bits as u32;
        if (bits >> 32 & 1) as u32 != data.count_ones() & 1 {
            return Err(Failure::Parity(data));
        }
        Ok(data)
    }

    fn read(&mut self, access_port: bool, address: u8) -> Result<u32, Failure> {
        self.read_request(request_byte(access_port, true, address))
    }

    fn write_with_parity(
        &mut self,
        access_port: bool,
        address: u8,
        value: u32,
        parity: u32,
    ) -> Result<(), Failure> {
        self.start(request_byte(access_port, false, address))?;
        self.clock_in(1);
        self.clock_out(u64::from(value) | u64::from(parity) << 32, 33);
        self.clock_out(0, 2);
        Ok(())
    }

    fn write(&mut self, access_port: bool, address: u8, value: u32) -> Result<(), Failure> {
        self.write_with_parity(access_port, address, value, value.count_ones() & 1)
    }

    /// Retry on WAIT, as a probe does.
    fn retry<R>(&mut self, mut transaction: impl FnMut(&mut Self) -> Result<R, Failure>) -> R {
        for _ in 0..10_000 {
            match transaction(self) {
                Err(Failure::Wait) => continue,
                result => return result.expect("transaction"),
            }
        }
        panic!("WAIT forever");
    }

    /// Power up the debug domains and select the AHB-AP.
    fn power_up(&mut self) {
        self.write(false, CTRL_STAT, CDBGPWRUPREQ | CSYSPWRUPREQ)
            .unwrap();
        self.write(false, SELECT, 0).unwrap();
    }

    fn write_ap(&mut self, register: u8, value: u32) {
        self.write(false, SELECT, u32::from(register & 0xF0))
            .unwrap();
        self.retry(|swd| swd.write(true, register, value));
    }

    /// A posted AP read completed by RDBUFF.
    fn read_ap(&mut self, register: u8) -> u32 {
        self.write(false, SELECT, u32::from(register & 0xF0))
            .unwrap();
        self.retry(|swd| swd.read(true, register));
        self.retry(|swd| swd.read(false, RDBUFF))
    }
}

fn connected() -> Sim<RamBus> {
    let mut sim = Sim::new(RamBus::new());
    let mut swd = Swd::new(&mut sim);
    assert_eq!(swd.connect(), GENUINE.dpidr);
    swd.power_up();
    sim
}

#[test]
fn jtag_to_swd_then_dpidr() {
    let mut sim = Sim::new(RamBus::new());
    assert_eq!(
        sim.mode(),
        WireMode::Jtag,
        "JTAG after power-on (ADIv5.2 B5.2.1)"
    );
    let mut swd = Swd::new(&mut sim);
    assert_eq!(swd.connect(), 0x1BA0_1477);
    assert_eq!(sim.mode(), WireMode::Swd);
    let statistics = sim.statistics();
    assert_eq!((statistics.transactions, statistics.ok), (1, 1));
    // 62 + 16 + 62 cycles of sequences, 46 of the packet and 2 idle.
    assert_eq!(statistics.clock_cycles, 62 + 16 + 62 + 46 + 2);
}

#[test]
fn no_answer_while_jtag_is_selected() {
    let mut sim = Sim::new(RamBus::new());
    let mut swd = Swd::new(&mut sim);
    swd.line_reset();
    assert_eq!(swd.read(false, DPIDR), Err(Failure::NoAnswer(0b111)));
}

#[test]
fn only_dpidr_is_answered_ok_after_line_reset() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.line_reset();
    assert_eq!(swd.read(false, CTRL_STAT), Err(Failure::Fault));
    assert_eq!(swd.read(true, IDR), Err(Failure::Fault));
    assert_eq!(swd.read(false, DPIDR), Ok(GENUINE.dpidr));
    assert!(swd.read(false, CTRL_STAT).is_ok());
}

#[test]
fn bad_request_parity_gets_no_answer_until_line_reset() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    let bad = request_byte(false, true, DPIDR) ^ 0x20;
    assert_eq!(swd.read_request(bad), Err(Failure::NoAnswer(0b111)));
    assert_eq!(
        swd.read(false, DPIDR),
        Err(Failure::NoAnswer(0b111)),
        "locked out"
    );
    swd.line_reset();
    assert_eq!(swd.read(false, DPIDR), Ok(GENUINE.dpidr));
    assert_eq!(
        sim.statistics().no_response,
        1,
        "locked out: not even parsed"
    );
}

#[test]
fn bad_write_parity_sets_wdataerr_and_discards_the_write() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.write_ap(TAR, 0x2000_0000);
    let value = 0x2000_0100u32;
    let bad_parity = (value.count_ones() & 1) ^ 1;
    assert_eq!(swd.write_with_parity(true, TAR, value, bad_parity), Ok(()));
    let status = swd.read(false, CTRL_STAT).unwrap();
    assert_ne!(status & WDATAERR, 0);
    assert_eq!(swd.read(true, TAR), Err(Failure::Fault), "sticky flag set");
    swd.write(false, DPIDR, WDERRCLR).unwrap();
    assert_eq!(swd.read(false, CTRL_STAT).unwrap() & WDATAERR, 0);
    assert_eq!(swd.read_ap(TAR), 0x2000_0000, "the bad write was discarded");
}

#[test]
fn a_stalled_bus_gets_wait_until_it_completes() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.write_ap(CSW, 0x2); // word
    swd.write_ap(TAR, 0x2000_0040);
    swd.write_ap(DRW, 0x1234_5678);
    let now = swd.sim.now_ns();
    swd.sim.bus_mut().stall_until_ns = now + 200_000;
    // The read is posted (OK), its bus access stalls; RDBUFF waits for it.
    assert!(swd.read(true, DRW).is_ok());
    assert_eq!(swd.read(false, RDBUFF), Err(Failure::Wait));
    assert_eq!(swd.read(true, DRW), Err(Failure::Wait), "AP busy");
    let value = swd.retry(|swd| swd.read(false, RDBUFF));
    assert_eq!(value, 0x1234_5678);
    assert!(swd.sim.now_ns() >= now + 200_000);
    let statistics = sim.statistics();
    assert!(statistics.wait > 2);
    let accesses = &sim.bus().access_times;
    assert!(
        *accesses.last().unwrap() >= now + 200_000,
        "done after the stall"
    );
}

#[test]
fn a_stalled_write_makes_the_next_ap_access_wait() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.write_ap(CSW, 0x2);
    swd.write_ap(TAR, 0x2000_0000);
    let now = swd.sim.now_ns();
    swd.sim.bus_mut().stall_until_ns = now + 500_000;
    assert_eq!(swd.write(true, DRW, 0xCAFE_F00D), Ok(()));
    assert_eq!(swd.sim.bus().word(RAM_BASE), 0, "not written yet");
    assert_eq!(swd.write(true, TAR, 0x2000_0100), Err(Failure::Wait));
    swd.retry(|swd| swd.write(true, TAR, 0x2000_0100));
    assert_eq!(swd.sim.bus().word(RAM_BASE), 0xCAFE_F00D);
    assert_eq!(swd.read_ap(TAR), 0x2000_0100);
}

#[test]
fn dapabort_gives_up_on_a_stalled_transaction() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.write_ap(CSW, 0x2);
    swd.write_ap(TAR, 0x2000_0000);
    swd.sim.bus_mut().stall_until_ns = u64::MAX;
    assert!(swd.read(true, DRW).is_ok());
    assert_eq!(swd.read(false, RDBUFF), Err(Failure::Wait));
    swd.write(false, DPIDR, DAPABORT).unwrap();
    // The AP shows the transfer still in progress.
    assert_ne!(swd.read_ap(CSW) & (1 << 7), 0, "TrInProg");
    swd.sim.bus_mut().stall_until_ns = 0;
    assert_eq!(swd.read_ap(CSW) & (1 << 7), 0);
}

#[test]
fn a_bus_error_faults_ap_accesses_until_abort_clears_stickyerr() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.write_ap(CSW, 0x2);
    swd.write_ap(TAR, 0x4000_0000); // not RAM: bus error
    assert!(swd.read(true, DRW).is_ok(), "posted: the error shows later");
    // RDBUFF is not among the accesses answered while a sticky flag is set (B4.2.5).
    assert_eq!(
        swd.read(false, RDBUFF),
        Err(Failure::Fault),
        "the failed read shows at RDBUFF"
    );
    let status = swd.read(false, CTRL_STAT).unwrap();
    assert_ne!(status & STICKYERR, 0);
    assert_eq!(swd.read(true, IDR), Err(Failure::Fault));
    assert_eq!(swd.write(true, TAR, RAM_BASE), Err(Failure::Fault));
    swd.write(false, DPIDR, STKERRCLR).unwrap();
    assert_eq!(swd.read(false, CTRL_STAT).unwrap() & STICKYERR, 0);
    assert_eq!(swd.read_ap(IDR), AHB_AP_IDR);
    assert!(sim.statistics().fault >= 2);
}

#[test]
fn overrun_detection_keeps_the_data_phase_and_sets_stickyorun() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.write(false, CTRL_STAT, CDBGPWRUPREQ | CSYSPWRUPREQ | ORUNDETECT)
        .unwrap();
    swd.write_ap(CSW, 0x2);
    swd.write_ap(TAR, 0x4000_0000);
    swd.read(true, DRW).unwrap();
    // FAULT with a data phase (ADIv5.2 B4.2.4): clock it through.
    swd.clock_out(u64::from(request_byte(true, true, IDR)), 8);
    assert_eq!(swd.clock_in(4) >> 1, 0b100);
    swd.clock_in(34);
    swd.clock_out(0, 2);
    let status = swd.read(false, CTRL_STAT).unwrap();
    assert_eq!(status & (STICKYORUN | STICKYERR), STICKYORUN | STICKYERR);
    swd.write(false, DPIDR, ORUNERRCLR | STKERRCLR).unwrap();
    assert_eq!(swd.read(false, CTRL_STAT).unwrap() & STICKY_ERRORS, 0);
}

#[test]
fn ap_reads_are_posted() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    for (index, word) in [0x1111_1111u32, 0x2222_2222, 0x3333_3333]
        .iter()
        .enumerate()
    {
        let offset = index * 4;
        swd.sim.bus_mut().memory[offset..offset + 4].copy_from_slice(&word.to_le_bytes());
    }
    swd.write_ap(CSW, 0x12); // word, auto-increment
    swd.write_ap(TAR, RAM_BASE);
    swd.read(true, DRW).unwrap(); // returns whatever was posted before
    assert_eq!(swd.read(true, DRW), Ok(0x1111_1111));
    assert_eq!(swd.read(true, DRW), Ok(0x2222_2222));
    assert_eq!(swd.read(false, RDBUFF), Ok(0x3333_3333));
    assert_eq!(swd.read(false, SELECT), Ok(0x3333_3333), "RESEND");
    assert_eq!(swd.read_ap(TAR), RAM_BASE + 12);
}

#[test]
fn auto_increment_wraps_inside_a_4kb_block() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.write_ap(CSW, 0x12);
    swd.write_ap(TAR, RAM_BASE + 0x3FC);
    swd.write_ap(DRW, 0x1111_1111);
    swd.write_ap(DRW, 0x2222_2222);
    assert_eq!(
        swd.read_ap(TAR),
        RAM_BASE + 0x404,
        "no wrap at 1 KB on a Cortex-M3 AHB-AP"
    );
    swd.write_ap(TAR, RAM_BASE + 0xFFC);
    swd.write_ap(DRW, 0xAAAA_AAAA);
    swd.write_ap(DRW, 0xBBBB_BBBB);
    assert_eq!(swd.read_ap(TAR), RAM_BASE + 0x4, "TAR[31:12] stays");
    assert_eq!(swd.sim.bus().word(RAM_BASE + 0xFFC), 0xAAAA_AAAA);
    assert_eq!(swd.sim.bus().word(RAM_BASE), 0xBBBB_BBBB);
    assert_eq!(swd.sim.bus().word(RAM_BASE + 0x400), 0x2222_2222);
}

#[test]
fn byte_and_halfword_lanes() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.write_ap(CSW, 0x10); // byte, auto-increment
    swd.write_ap(TAR, RAM_BASE + 1);
    swd.write_ap(DRW, 0x0000_AB00); // lane 1
    swd.write_ap(DRW, 0x00CD_0000); // lane 2
    assert_eq!(swd.sim.bus().word(RAM_BASE), 0x00CD_AB00);
    swd.write_ap(CSW, 0x01); // halfword, no increment
    swd.write_ap(TAR, RAM_BASE + 2);
    swd.write_ap(DRW, 0x1234_0000);
    assert_eq!(swd.sim.bus().word(RAM_BASE), 0x1234_AB00);
    assert_eq!(swd.read_ap(DRW), 0x1234_0000);
    swd.write_ap(CSW, 0x00);
    swd.write_ap(TAR, RAM_BASE + 1);
    assert_eq!(swd.read_ap(DRW), 0x0000_AB00);
    assert_eq!(swd.read_ap(CSW) & 0x7F, 0x40, "byte size, DeviceEn");
}

#[test]
fn banked_data_and_identification_registers() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.sim.bus_mut().memory[0x14..0x18].copy_from_slice(&0xFEED_BEEFu32.to_le_bytes());
    swd.write_ap(TAR, RAM_BASE + 0x18);
    assert_eq!(swd.read_ap(BD0 + 4), 0xFEED_BEEF, "BD1 = TAR[31:4] + 4");
    assert_eq!(swd.read_ap(IDR), AHB_AP_IDR);
    assert_eq!(swd.read_ap(BASE), AHB_AP_BASE);
    assert_eq!(swd.read_ap(CFG), 0, "little-endian");
    // Another AP: nothing there.
    swd.write(false, SELECT, 1 << 24 | 0xF0).unwrap();
    swd.read(true, IDR).unwrap();
    assert_eq!(swd.read(false, RDBUFF), Ok(0));
}

#[test]
fn ctrl_stat_acknowledges_power_requests() {
    let mut sim = Sim::new(RamBus::new());
    let mut swd = Swd::new(&mut sim);
    swd.connect();
    assert_eq!(swd.read(false, CTRL_STAT), Ok(0));
    swd.write(false, CTRL_STAT, CDBGPWRUPREQ | CSYSPWRUPREQ)
        .unwrap();
    let all = CDBGPWRUPREQ | CDBGPWRUPACK | CSYSPWRUPREQ | CSYSPWRUPACK;
    assert_eq!(swd.read(false, CTRL_STAT), Ok(all));
}

#[test]
fn turnaround_follows_wcr() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.write(false, SELECT, 1).unwrap(); // DPBANKSEL 1: WCR
    assert_eq!(swd.read(false, CTRL_STAT), Ok(0x40));
    swd.write(false, CTRL_STAT, 0x40 | 1 << 8).unwrap(); // TURNROUND 2 cycles
    // Request, 2 turnaround cycles, ACK, data, parity.
    swd.clock_out(u64::from(request_byte(false, true, DPIDR)), 8);
    let bits = swd.clock_in(2 + 3 + 33 + 2);
    assert_eq!(bits >> 2 & 7, 0b001);
    assert_eq!((bits >> 5) as u32, GENUINE.dpidr);
    swd.clock_out(0, 2);
}

#[test]
fn power_off_and_on() {
    let mut sim = connected();
    sim.set_power(false);
    assert!(sim.bus().reset, "an unpowered chip does not run");
    let mut swd = Swd::new(&mut sim);
    assert_eq!(swd.read(false, DPIDR), Err(Failure::NoAnswer(0b111)));
    swd.line_reset();
    assert_eq!(swd.read(false, DPIDR), Err(Failure::NoAnswer(0b111)));
    swd.sim.set_power(true);
    assert!(!swd.sim.bus().reset);
    assert_eq!(
        swd.sim.mode(),
        WireMode::Jtag,
        "power-on reset selects JTAG"
    );
    assert_eq!(swd.connect(), GENUINE.dpidr);
    assert_eq!(swd.read(false, CTRL_STAT), Ok(0), "registers reset");
}

#[test]
fn reset_pin_reaches_the_chip() {
    let mut sim = Sim::new(RamBus::new());
    sim.set_reset(true);
    assert!(sim.bus().reset && sim.read_reset());
    sim.set_reset(false);
    assert!(!sim.bus().reset && !sim.read_reset());
}

#[test]
fn a_stuck_reset_line_stays_low_when_released() {
    let mut sim = Sim::new(RamBus::new());
    sim.set_faults(FaultConfig {
        reset_stuck: true,
        ..FaultConfig::default()
    });
    assert!(sim.bus().reset && sim.read_reset());
    sim.set_reset(false);
    assert!(
        sim.bus().reset && sim.read_reset(),
        "the target holds nRST low"
    );
}

#[test]
fn virtual_time_follows_the_declared_frequency() {
    let mut sim = Sim::new(RamBus::new());
    assert_eq!(sim.set_frequency(2_000_000), 2_000_000);
    for _ in 0..1000 {
        sim.set_swclk(true);
        sim.set_swclk(false);
    }
    assert_eq!(sim.now_ns(), 500_000);
    assert_eq!(sim.statistics().clock_cycles, 1000);
    assert_eq!(sim.statistics().virtual_time_ns, 500_000);
    assert!(
        sim.bus().now_ns > 0,
        "the chip was let run while the clock ticked"
    );
    sim.idle(1_000);
    assert_eq!(sim.now_ns(), 501_000);
}

#[test]
fn real_time_pacing_lets_wall_time_pass() {
    let mut sim = Sim::new(RamBus::new());
    sim.set_real_time(true);
    std::thread::sleep(std::time::Duration::from_millis(3));
    sim.set_swclk(true);
    let step = super::MAXIMUM_PACING_STEP_NS;
    assert_eq!(
        sim.now_ns(),
        step + 1_000,
        "one step at most, then a period"
    );
    assert!(sim.bus().now_ns >= step, "the chip caught up");
    std::thread::sleep(std::time::Duration::from_micros(500));
    sim.set_swclk(false);
    sim.set_swclk(true);
    let now = sim.now_ns();
    assert!(now >= step + 500_000, "{now}: follows the wall clock");
    sim.set_real_time(false);
    let now = sim.now_ns();
    sim.set_swclk(false);
    sim.set_swclk(true);
    assert_eq!(sim.now_ns(), now + 1_000, "one period, nothing more");
}

#[test]
fn bus_accesses_happen_at_the_current_virtual_time() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.write_ap(CSW, 0x2);
    swd.write_ap(TAR, RAM_BASE);
    swd.write_ap(DRW, 1);
    let now = swd.sim.now_ns();
    let accessed = *swd.sim.bus().access_times.last().unwrap();
    // The write happened at the end of its packet: 2 idle cycles before now.
    assert_eq!(accessed, now - 2_000);
}

/// Run RDBUFF reads until `count` are answered OK, retrying failures.
fn read_buffer_until(sim: &mut Sim<RamBus>, count: usize) -> Vec<Failure> {
    let mut swd = Swd::new(sim);
    let mut failures = Vec::new();
    let mut answered = 0;
    while answered < count {
        match swd.read(false, RDBUFF) {
            Ok(value) => {
                assert_eq!(value, 0);
                answered += 1;
            }
            Err(failure) => {
                failures.push(failure);
                if !swd.sim.powered() {
                    swd.sim.idle(swd.sim.faults().power_off_ns);
                }
                if matches!(failure, Failure::NoAnswer(_)) {
                    swd.select_swd();
                    while swd.read(false, DPIDR).is_err() {
                        swd.select_swd();
                    }
                }
            }
        }
    }
    failures
}

#[test]
fn injected_faults_are_deterministic() {
    let config = FaultConfig {
        seed: 42,
        wait: 0.2,
        no_answer: 0.1,
        read_parity: 0.1,
        ..FaultConfig::default()
    };
    let run = || {
        let mut sim = connected();
        sim.set_faults(config);
        read_buffer_until(&mut sim, 200)
    };
    let failures = run();
    assert!(failures.contains(&Failure::Wait));
    assert!(failures.iter().any(|f| matches!(f, Failure::NoAnswer(_))));
    assert!(failures.contains(&Failure::Parity(0)));
    assert_eq!(failures, run(), "same seed, same failures");
}

#[test]
fn injected_fault_sets_stickyerr() {
    let mut sim = connected();
    sim.set_faults(FaultConfig {
        fault: 1.0,
        ..FaultConfig::default()
    });
    let mut swd = Swd::new(&mut sim);
    assert_eq!(swd.read(true, IDR), Err(Failure::Fault));
    assert_ne!(swd.read(false, CTRL_STAT).unwrap() & STICKYERR, 0);
    assert_eq!(
        swd.read(false, DPIDR),
        Ok(GENUINE.dpidr),
        "DP accesses unaffected"
    );
}

#[test]
fn injected_power_loss_ends_after_its_time() {
    let mut sim = connected();
    sim.set_faults(FaultConfig {
        power_off: 1.0,
        power_off_ns: 10_000,
        ..FaultConfig::default()
    });
    let mut swd = Swd::new(&mut sim);
    assert_eq!(swd.read(false, DPIDR), Err(Failure::NoAnswer(0b111)));
    assert!(!swd.sim.powered());
    swd.sim.set_faults(FaultConfig::default());
    swd.sim.idle(10_000);
    assert!(swd.sim.powered());
    assert_eq!(swd.connect(), GENUINE.dpidr);
}

/// A tiny JTAG driver: TMS/TDI set with TCK low, TDO sampled with TCK low, then TCK rises.
struct Jtag<'a, B: Bus> {
    sim: &'a mut Sim<B>,
}

impl<'a, B: Bus> Jtag<'a, B> {
    fn new(sim: &'a mut Sim<B>) -> Self {
        sim.swdio_output(true);
        sim.set_swclk(false);
        Self { sim }
    }

    fn clock(&mut self, tms: bool, tdi: bool) -> bool {
        self.sim.set_swdio(tms);
        self.sim.set_tdi(tdi);
        let tdo = self.sim.read_tdo();
        self.sim.set_swclk(true);
        self.sim.set_swclk(false);
        tdo
    }

    fn tms(&mut self, bits: u32, count: u32) {
        for index in 0..count {
            self.clock(bits >> index & 1 != 0, true);
        }
    }

    /// Test-Logic-Reset, then Run-Test/Idle.
    fn reset(&mut self) {
        self.tms(0b01_1111, 6);
    }

    /// From Run-Test/Idle through Shift-IR or Shift-DR and back.
    fn shift(&mut self, instruction: bool, input: u128, count: u32) -> u128 {
        if instruction {
            self.tms(0b0011, 4);
        } else {
            self.tms(0b001, 3);
        }
        let mut output = 0;
        for index in 0..count {
            let tdo = self.clock(index + 1 == count, input >> index & 1 != 0);
            output |= u128::from(tdo) << index;
        }
        self.tms(0b01, 2);
        output
    }

    /// DP instruction, boundary scan in BYPASS (the DP's 4 bits go first: nearest TDO).
    fn select(&mut self, instruction: u128) {
        self.shift(true, instruction | 0b11111 << 4, 9);
    }

    /// A DPACC/APACC scan with the boundary TAP in BYPASS (1 bit after the DP's 35).
    fn access(&mut self, read: bool, address: u8, value: u32) -> (u32, u32) {
        let request = u128::from(read) | u128::from(address >> 2 & 3) << 1 | u128::from(value) << 3;
        let captured = self.shift(false, request, 36);
        ((captured & 7) as u32, (captured >> 3) as u32)
    }
}

#[test]
fn jtag_chain_scan_finds_both_taps() {
    let mut sim = Sim::new(RamBus::new());
    let mut jtag = Jtag::new(&mut sim);
    jtag.reset();
    let ones = u128::MAX;
    let idcodes = jtag.shift(false, ones, 96);
    assert_eq!(
        idcodes as u32, GENUINE.jtag_idcode,
        "nearest TDO: the JTAG-DP"
    );
    assert_eq!((idcodes >> 32) as u32, GENUINE.boundary_scan_idcode);
    assert_eq!((idcodes >> 64) as u32, u32::MAX, "then our own ones");
    let captured = jtag.shift(true, ones, 16);
    assert_eq!(
        captured & 0x1FF,
        0b0_0001_0001,
        "IR captures of 4 and 5 bits"
    );
    assert_eq!(captured >> 9, 0x7F);
}

#[test]
fn wire_jtag_engine_detects_ir_lengths() {
    let mut sim = Sim::new(RamBus::new());
    let mut jtag = wire::jtag::Jtag::new(&mut sim);
    let mut devices = [wire::jtag::Device {
        idcode: 0,
        ir_length: 0,
    }; wire::jtag::MAX_DEVICES];
    let count = jtag.scan_chain(&[], &mut devices).unwrap();
    assert_eq!(count, 2);
    assert_eq!((devices[0].idcode, devices[0].ir_length), (0x3BA0_0477, 4));
    assert_eq!((devices[1].idcode, devices[1].ir_length), (0x1641_0041, 5));
}

const IR_ABORT: u128 = 0x8;
const IR_DPACC: u128 = 0xA;
const IR_APACC: u128 = 0xB;

#[test]
fn jtag_dp_reads_and_writes_memory() {
    let mut sim = Sim::new(RamBus::new());
    sim.bus_mut().memory[..4].copy_from_slice(&0x0BAD_CAFEu32.to_le_bytes());
    let mut jtag = Jtag::new(&mut sim);
    jtag.reset();
    jtag.select(IR_DPACC);
    jtag.access(false, CTRL_STAT, CDBGPWRUPREQ | CSYSPWRUPREQ);
    jtag.access(true, CTRL_STAT, 0);
    let (ack, status) = jtag.access(true, RDBUFF, 0);
    assert_eq!(ack, 0b010, "OK/FAULT");
    assert_eq!(status >> 28, 0xF, "power requests acknowledged");
    jtag.access(false, SELECT, 0);
    jtag.select(IR_APACC);
    jtag.access(false, CSW, 0x12);
    jtag.access(false, TAR, RAM_BASE);
    jtag.access(true, DRW, 0);
    let (_, first) = jtag.access(false, DRW, 0x600D_F00D); // captures the read
    assert_eq!(first, 0x0BAD_CAFE);
    jtag.select(IR_DPACC);
    jtag.access(false, SELECT, 0xF0);
    jtag.select(IR_APACC);
    let (ack, _) = jtag.access(true, IDR, 0);
    assert_eq!(ack, 0b010);
    let (_, idr) = jtag.access(true, IDR, 0);
    assert_eq!(idr, AHB_AP_IDR);
    assert_eq!(jtag.sim.bus().word(RAM_BASE + 4), 0x600D_F00D);
    jtag.select(IR_DPACC);
    let (_, value) = jtag.access(true, RDBUFF, 0);
    assert_eq!(value, AHB_AP_IDR);
    let transactions = jtag.sim.statistics().transactions;
    assert_eq!(transactions, 12);
}

#[test]
fn jtag_dp_waits_for_a_stalled_bus_and_ignores_the_waited_request() {
    let mut sim = Sim::new(RamBus::new());
    let mut jtag = Jtag::new(&mut sim);
    jtag.reset();
    jtag.select(IR_APACC);
    jtag.access(false, CSW, 0x2);
    jtag.access(false, TAR, RAM_BASE);
    let now = jtag.sim.now_ns();
    jtag.sim.bus_mut().stall_until_ns = now + 100_000;
    jtag.access(false, DRW, 0x1111_1111);
    let (ack, _) = jtag.access(false, TAR, RAM_BASE + 0x100);
    assert_eq!(ack, 0b001, "WAIT");
    let mut retries = 0;
    while jtag.access(false, TAR, RAM_BASE + 0x100).0 == 0b001 {
        retries += 1;
    }
    assert!(retries > 0);
    assert_eq!(jtag.sim.bus().word(RAM_BASE), 0x1111_1111);
    jtag.access(true, TAR, 0);
    let (_, tar) = jtag.access(true, TAR, 0);
    assert_eq!(
        tar,
        RAM_BASE + 0x100,
        "the waited requests were ignored, one landed"
    );
}

#[test]
fn jtag_sticky_errors_discard_ap_transactions_until_cleared() {
    let mut sim = Sim::new(RamBus::new());
    let mut jtag = Jtag::new(&mut sim);
    jtag.reset();
    jtag.select(IR_APACC);
    jtag.access(false, CSW, 0x2);
    jtag.access(false, TAR, 0x4000_0000);
    jtag.access(true, DRW, 0); // bus error
    jtag.access(false, TAR, RAM_BASE); // discarded
    jtag.select(IR_DPACC);
    jtag.access(true, CTRL_STAT, 0);
    let (_, status) = jtag.access(true, RDBUFF, 0);
    assert_ne!(status & STICKYERR, 0);
    // JTAG-DP: write 1 to clear, or ABORT.
    jtag.select(IR_ABORT);
    jtag.access(false, 0, STKERRCLR);
    jtag.select(IR_DPACC);
    jtag.access(true, CTRL_STAT, 0);
    let (_, status) = jtag.access(true, RDBUFF, 0);
    assert_eq!(status & STICKYERR, 0);
    jtag.select(IR_APACC);
    jtag.access(true, TAR, 0);
    let (_, tar) = jtag.access(true, TAR, 0);
    assert_eq!(tar, 0x4000_0000, "the write under STICKYERR was discarded");
}

#[test]
fn test_reset_holds_the_taps_in_reset() {
    let mut sim = Sim::new(RamBus::new());
    let mut jtag = Jtag::new(&mut sim);
    jtag.reset();
    jtag.select(0xF);
    jtag.sim.set_test_reset(true);
    jtag.sim.set_test_reset(false);
    jtag.tms(0, 1);
    let idcodes = jtag.shift(false, u128::MAX, 64);
    assert_eq!(
        idcodes as u32, GENUINE.jtag_idcode,
        "IDCODE again after nTRST"
    );
}

#[test]
fn swd_to_jtag_switches_back() {
    let mut sim = connected();
    let mut swd = Swd::new(&mut sim);
    swd.clock_out(u64::MAX, 60);
    swd.clock_out(0xE73C, 16);
    assert_eq!(sim.mode(), WireMode::Jtag);
    let mut jtag = Jtag::new(&mut sim);
    jtag.reset();
    assert_eq!(jtag.shift(false, u128::MAX, 32) as u32, GENUINE.jtag_idcode);
}

#[test]
fn the_wire_swd_engine_talks_to_the_sim() {
    let mut sim = Sim::new(RamBus::new());
    let mut swd = wire::swd::Swd::new(&mut sim);
    swd.switch_from_jtag();
    assert_eq!(swd.read(Port::Dp, DPIDR), Ok(GENUINE.dpidr));
    swd.write(Port::Dp, CTRL_STAT, CDBGPWRUPREQ | CSYSPWRUPREQ)
        .unwrap();
    assert_eq!(swd.read(Port::Dp, CTRL_STAT).unwrap() >> 28, 0xF);
}

/// 64 KB written word by word over the wire engine: fast enough to be practical.
#[test]
fn a_64_kilobyte_download_takes_seconds() {
    let started = std::time::Instant::now();
    let mut sim = Sim::new(RamBus::new());
    sim.set_frequency(4_000_000);
    let mut swd = wire::swd::Swd::new(&mut sim);
    swd.switch_from_jtag();
    swd.read(Port::Dp, DPIDR).unwrap();
    swd.write(Port::Dp, CTRL_STAT, CDBGPWRUPREQ | CSYSPWRUPREQ)
        .unwrap();
    swd.write(Port::Dp, SELECT, 0).unwrap();
    swd.write(Port::Ap, CSW, 0x12).unwrap();
    for block in 0..64u32 {
        swd.write(Port::Ap, TAR, RAM_BASE + block * 1024).unwrap();
        for word in 0..256u32 {
            swd.write(Port::Ap, DRW, block << 16 | word).unwrap();
        }
    }
    assert_eq!(sim.bus().word(RAM_BASE + 63 * 1024 + 4), 63 << 16 | 1);
    let elapsed = started.elapsed();
    let virtual_ms = sim.now_ns() / 1_000_000;
    println!("64 KB: {elapsed:?} wall, {virtual_ms} ms virtual at 4 MHz");
    assert!(elapsed.as_secs() < 20);
}

mod remote_bitbang_server {
    use super::*;
    use crate::port::remote_bitbang::{Ending, serve_client};
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::thread::{self, JoinHandle};
    use wire::remote_bitbang::{ByteStream, LinkLost, RemoteBitbang};

    struct Link(TcpStream);

    impl ByteStream for Link {
        fn write_all(&mut self, data: &[u8]) -> Result<(), LinkLost> {
            self.0.write_all(data).map_err(|_| LinkLost)
        }

        fn read_byte(&mut self) -> Result<u8, LinkLost> {
            let mut byte = [0];
            match self.0.read(&mut byte) {
                Ok(1) => Ok(byte[0]),
                _ => Err(LinkLost),
            }
        }
    }

    /// A server for one client on a loopback port; the thread hands the sim back.
    fn server() -> (TcpStream, JoinHandle<(Sim<RamBus>, Ending)>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let mut sim = Sim::new(RamBus::new());
            let (stream, _) = listener.accept().unwrap();
            let ending = serve_client(&mut sim, stream).unwrap();
            (sim, ending)
        });
        let stream = TcpStream::connect(address).unwrap();
        stream.set_nodelay(true).unwrap();
        (stream, handle)
    }

    #[test]
    fn swd_round_trip_with_the_wire_client() {
        let (stream, handle) = server();
        let mut pins = RemoteBitbang::new(Link(stream.try_clone().unwrap()));
        let mut swd = wire::swd::Swd::new(&mut pins);
        swd.switch_from_jtag();
        assert_eq!(swd.read(Port::Dp, DPIDR), Ok(GENUINE.dpidr));
        swd.write(Port::Dp, CTRL_STAT, CDBGPWRUPREQ | CSYSPWRUPREQ)
            .unwrap();
        swd.write(Port::Dp, SELECT, 0xF0).unwrap();
        swd.read(Port::Ap, IDR).unwrap();
        assert_eq!(swd.read(Port::Dp, RDBUFF), Ok(AHB_AP_IDR));
        pins.set_reset(true);
        (&stream).write_all(b"Q").unwrap();
        let (sim, ending) = handle.join().unwrap();
        assert_eq!(ending, Ending::Quit);
        assert!(sim.bus().reset, "'s' asserts nRST");
        assert_eq!(sim.statistics().ok, 5);
    }

    #[test]
    fn jtag_chain_scan_with_the_wire_client() {
        let (stream, handle) = server();
        let mut pins = RemoteBitbang::new(Link(stream.try_clone().unwrap()));
        let mut jtag = wire::jtag::Jtag::new(&mut pins);
        let mut devices = [wire::jtag::Device {
            idcode: 0,
            ir_length: 0,
        }; wire::jtag::MAX_DEVICES];
        assert_eq!(jtag.scan_chain(&[], &mut devices), Ok(2));
        assert_eq!((devices[0].idcode, devices[0].ir_length), (0x3BA0_0477, 4));
        assert_eq!((devices[1].idcode, devices[1].ir_length), (0x1641_0041, 5));
        drop(pins);
        drop(stream);
        let (_, ending) = handle.join().unwrap();
        assert_eq!(ending, Ending::Closed);
    }

    /// Raw characters: JTAG writes and TDO reads, resets, blink, sleeps, SWD writes.
    #[test]
    fn every_request_character() {
        let (mut stream, handle) = server();
        // Test-Logic-Reset, Run-Test/Idle, Select-DR, Capture-DR, Shift-DR: TMS 1x5, 0, 1, 0, 0.
        let mut requests = Vec::new();
        for tms in [1, 1, 1, 1, 1, 0, 1, 0, 0] {
            requests.extend_from_slice(&[b'0' + 2 * tms, b'4' + 2 * tms]);
        }
        // 32 bits of IDCODE: TCK falls (TDO changes), TDO is read, TCK rises.
        for _ in 0..32 {
            requests.extend_from_slice(b"0R4");
        }
        requests.extend_from_slice(b"Bbtusr");
        requests.extend_from_slice(b"Zz");
        requests.extend_from_slice(b"oc O df");
        stream.write_all(&requests).unwrap();
        let mut replies = [0u8; 33];
        stream.read_exact(&mut replies).unwrap();
        let idcode = replies[..32]
            .iter()
            .enumerate()
            .map(|(index, &reply)| u32::from(reply == b'1') << index)
            .sum::<u32>();
        assert_eq!(idcode, GENUINE.jtag_idcode);
        assert_eq!(replies[32], b'1', "released SWDIO reads the pull-up");
        stream.write_all(b"Q").unwrap();
        let (sim, ending) = handle.join().unwrap();
        assert_eq!(ending, Ending::Quit);
        assert!(!sim.bus().reset, "'r' released nRST");
        let statistics = sim.statistics();
        assert_eq!(
            statistics.clock_cycles,
            9 + 32 + 1,
            "TCK edges, then one SWCLK edge"
        );
        let sleeps = 1_000_000 + 1_000;
        assert_eq!(statistics.virtual_time_ns, 42 * 1_000 + sleeps);
    }
}

/// Two RAM "cores" behind three multi-drop DPs (the RP2040's TARGETSELs: core 0, core 1,
/// rescue with no RAM); AP accesses reach the RAM of the DP selected.
struct MultidropBus {
    cores: [RamBus; 2],
    selected: usize,
}

const MULTIDROP_DPIDR: u32 = 0x0BC1_2477;
const RP2040_TARGETS: [MultidropTarget; 3] = [
    MultidropTarget {
        target_id: 0x0100_2927,
        instance: 0,
    },
    MultidropTarget {
        target_id: 0x0100_2927,
        instance: 1,
    },
    MultidropTarget {
        target_id: 0x0100_2927,
        instance: 0xF,
    },
];

impl Bus for MultidropBus {
    fn read(&mut self, address: u32, width: Width) -> Result<u32, BusError> {
        let core = self.cores.get_mut(self.selected).ok_or(BusError::Fault)?;
        core.read(address, width)
    }
    fn write(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError> {
        let core = self.cores.get_mut(self.selected).ok_or(BusError::Fault)?;
        core.write(address, width, value)
    }
    fn advance_to(&mut self, now_ns: u64) {
        for core in &mut self.cores {
            core.advance_to(now_ns);
        }
    }
    fn set_reset(&mut self, _asserted: bool) {}
    fn identity(&self) -> Identity {
        Identity {
            dpidr: MULTIDROP_DPIDR,
            ..GENUINE
        }
    }
    fn multidrop_targets(&self) -> Vec<MultidropTarget> {
        RP2040_TARGETS.to_vec()
    }
    fn select_debug_port(&mut self, index: usize) {
        self.selected = index;
    }
}

impl<B: Bus> Swd<'_, B> {
    /// Dormant to SWD (ADIv5.2 B5.3.4): eight ones, the selection alert, four low cycles
    /// and the activation code 0x1A, then a line reset.
    fn wake_from_dormant(&mut self) {
        self.clock_out(0xFF, 8);
        self.clock_out(crate::port::swj::SELECTION_ALERT as u64, 64);
        self.clock_out((crate::port::swj::SELECTION_ALERT >> 64) as u64, 64);
        self.clock_out(0x1A << 4, 12);
        self.line_reset();
    }

    /// TARGETSEL after a line reset (ADIv5.2 B4.3.4): request, five undriven cycles
    /// (turnaround, ACK, turnaround), 32 data bits and parity; true if anything drove the
    /// line in the ACK phase.
    fn target_select(&mut self, value: u32) -> bool {
        self.line_reset();
        self.clock_out(u64::from(request_byte(false, false, TARGETSEL)), 8);
        let acknowledge = self.clock_in(5);
        let parity = u64::from(value.count_ones() & 1);
        self.clock_out(u64::from(value) | parity << 32, 33);
        self.clock_out(0, 2);
        acknowledge != 0b11111
    }
}

fn multidrop_sim() -> Sim<MultidropBus> {
    Sim::new(MultidropBus {
        cores: [RamBus::new(), RamBus::new()],
        selected: 0,
    })
}

#[test]
fn a_multidrop_port_is_dormant_until_woken() {
    let mut sim = multidrop_sim();
    assert_eq!(sim.mode(), WireMode::Dormant);
    let mut swd = Swd::new(&mut sim);
    // JTAG-to-SWD does nothing to a dormant DP; nothing answers.
    swd.select_swd();
    swd.target_select(RP2040_TARGETS[0].target_select());
    assert!(matches!(swd.read(false, DPIDR), Err(Failure::NoAnswer(_))));
    swd.wake_from_dormant();
    assert_eq!(swd.sim.mode(), WireMode::Swd);
    // SWD-to-dormant sends it back.
    swd.clock_out(u64::MAX, 60);
    swd.clock_out(0xE3BC, 16);
    assert_eq!(swd.sim.mode(), WireMode::Dormant);
}

#[test]
fn targetsel_selects_one_dp_and_dlpidr_names_it() {
    let mut sim = multidrop_sim();
    let mut swd = Swd::new(&mut sim);
    swd.wake_from_dormant();
    // Without TARGETSEL all three would answer at once: none is modelled as answering.
    assert!(matches!(swd.read(false, DPIDR), Err(Failure::NoAnswer(_))));
    for (index, target) in RP2040_TARGETS.iter().enumerate() {
        assert!(
            !swd.target_select(target.target_select()),
            "TARGETSEL is not acknowledged"
        );
        assert_eq!(swd.read(false, DPIDR), Ok(MULTIDROP_DPIDR), "DP {index}");
        swd.write(false, SELECT, 3).unwrap();
        assert_eq!(swd.read(false, CTRL_STAT), Ok(target.dlpidr()));
        swd.write(false, SELECT, 2).unwrap();
        assert_eq!(swd.read(false, CTRL_STAT), Ok(0x0100_2927), "TARGETID");
        swd.write(false, SELECT, 0).unwrap();
    }
    assert_eq!(RP2040_TARGETS[1].dlpidr(), 0x1000_0001);
    // A TARGETSEL no DP has: nobody answers until the next line reset.
    swd.target_select(0x2100_2927);
    assert!(matches!(swd.read(false, DPIDR), Err(Failure::NoAnswer(_))));
}

#[test]
fn each_dp_reaches_its_own_core() {
    let mut sim = multidrop_sim();
    let mut swd = Swd::new(&mut sim);
    swd.wake_from_dormant();
    for (index, value) in [(0, 0x1111_1111), (1, 0x2222_2222)] {
        swd.target_select(RP2040_TARGETS[index].target_select());
        swd.read(false, DPIDR).unwrap();
        swd.power_up();
        swd.write_ap(CSW, 0x2);
        swd.write_ap(TAR, RAM_BASE);
        swd.write_ap(DRW, value);
    }
    // Each DP kept its own CTRL/STAT and SELECT: back to core 0 without setting them up.
    swd.target_select(RP2040_TARGETS[0].target_select());
    swd.read(false, DPIDR).unwrap();
    assert_ne!(swd.read(false, CTRL_STAT).unwrap() & CDBGPWRUPACK, 0);
    swd.write_ap(TAR, RAM_BASE);
    assert_eq!(swd.read_ap(DRW), 0x1111_1111);
    assert_eq!(sim.bus().cores[0].word(RAM_BASE), 0x1111_1111);
    assert_eq!(sim.bus().cores[1].word(RAM_BASE), 0x2222_2222);
}
