//! Unit tests against a small register-level model of a DP with one AHB-AP. Bit-level
//! tests against the simulated STM32F103 live in the engine's integration tests.

use crate::registers::{ap, dp};
use crate::*;

// The model's own register facts (ADIv5.2 B2.2, C2.6), apart from the typed registers
// under test.
const ABORT: u8 = 0x0;
const CTRL_STAT: u8 = 0x4;
const SELECT: u8 = 0x8;
const CSW: u8 = 0x00;
const IDR: u8 = 0xFC;
const STKERRCLR: u32 = 1 << 2;
/// CTRL/STAT STICKYORUN, STICKYCMP, STICKYERR, WDATAERR.
const STICKY: u32 = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 7);
const STICKYERR: u32 = 1 << 5;
/// CSW.AddrInc.
const ADDRINC_MASK: u32 = 0x3 << 4;

/// A DP and AHB-AP model: posted AP reads, TAR auto-increment wrapping at 1 KB, sticky
/// errors, and scripted WAIT answers.
struct Model {
    memory: [u8; 4096],
    select: u32,
    ctrl_stat: u32,
    csw: u32,
    tar: u32,
    posted: u32,
    waits_left: u32,
    transactions: Vec<(Port, bool, u8)>,
}

impl Model {
    fn new() -> Self {
        Self {
            memory: [0; 4096],
            select: 0,
            ctrl_stat: 0,
            csw: 0x0300_0040,
            tar: 0,
            posted: 0,
            waits_left: 0,
            transactions: Vec::new(),
        }
    }

    fn bus_read(&mut self) -> Result<u32, ()> {
        let size = 1u32 << (self.csw & 7);
        let address = self.tar;
        if address as usize + size as usize > self.memory.len() {
            return Err(());
        }
        let word_address = (address & !3) as usize;
        let word = u32::from_le_bytes(
            self.memory[word_address..word_address + 4]
                .try_into()
                .unwrap(),
        );
        self.increment(size);
        Ok(word)
    }

    fn bus_write(&mut self, value: u32) -> Result<(), ()> {
        let size = 1u32 << (self.csw & 7);
        let address = self.tar;
        if address as usize + size as usize > self.memory.len() {
            return Err(());
        }
        for byte in 0..size {
            let at = address + byte;
            self.memory[at as usize] = (value >> (8 * (at & 3))) as u8;
        }
        self.increment(size);
        Ok(())
    }

    fn increment(&mut self, size: u32) {
        if self.csw & ADDRINC_MASK != 0 {
            self.tar = (self.tar & !0x3FF) | (self.tar.wrapping_add(size) & 0x3FF);
        }
    }
}

impl Transport for Model {
    fn read(&mut self, port: Port, address: u8) -> Result<u32, TransferError> {
        self.transactions.push((port, true, address));
        if self.waits_left > 0 {
            self.waits_left -= 1;
            return Err(TransferError::Wait);
        }
        match port {
            Port::Dp => Ok(match address {
                dp::DPIDR => 0x1BA0_1477,
                CTRL_STAT => self.ctrl_stat | ((self.ctrl_stat & 0x5000_0000) << 1),
                dp::RDBUFF => self.posted,
                _ => 0,
            }),
            Port::Ap => {
                if self.ctrl_stat & STICKYERR != 0 {
                    return Err(TransferError::Fault);
                }
                let register = (self.select & 0xF0) as u8 | address;
                let value = match register {
                    CSW => self.csw,
                    ap::TAR => self.tar,
                    ap::DRW => match self.bus_read() {
                        Ok(value) => value,
                        Err(()) => {
                            self.ctrl_stat |= STICKYERR;
                            0
                        }
                    },
                    ap::BASE => 0xE00F_F003,
                    IDR => 0x2477_0011,
                    _ => 0,
                };
                Ok(core::mem::replace(&mut self.posted, value))
            }
        }
    }

    fn write(&mut self, port: Port, address: u8, value: u32) -> Result<(), TransferError> {
        self.transactions.push((port, false, address));
        if self.waits_left > 0 {
            self.waits_left -= 1;
            return Err(TransferError::Wait);
        }
        match (port, address) {
            (Port::Dp, ABORT) if value & STKERRCLR != 0 => {
                self.ctrl_stat &= !STICKYERR;
            }
            (Port::Dp, CTRL_STAT) => self.ctrl_stat = (self.ctrl_stat & STICKY) | (value & !STICKY),
            (Port::Dp, SELECT) => self.select = value,
            (Port::Ap, _) if self.ctrl_stat & STICKYERR != 0 => {
                return Err(TransferError::Fault);
            }
            (Port::Ap, _) => match (self.select & 0xF0) as u8 | address {
                CSW => self.csw = value,
                ap::TAR => self.tar = value,
                ap::DRW => {
                    let failed = self.bus_write(value).is_err();
                    self.ctrl_stat |= if failed { STICKYERR } else { 0 };
                }
                _ => {}
            },
            _ => {}
        }
        Ok(())
    }

    fn resynchronise(&mut self) -> Result<(), TransferError> {
        Ok(())
    }
}

/// A clock that advances 10 us per reading.
struct TickingClock(u64);

impl Clock for TickingClock {
    fn now_micros(&mut self) -> u64 {
        self.0 += 10;
        self.0
    }
}

struct Connected {
    port: DebugPort<Model, TickingClock>,
    ap: MemoryAp,
}

impl Connected {
    fn memory(&mut self) -> MemoryPort<'_, Model, TickingClock> {
        MemoryPort {
            port: &mut self.port,
            ap: &mut self.ap,
        }
    }

    fn model(&mut self) -> &mut Model {
        self.port.transport()
    }
}

fn connected() -> Connected {
    let mut port = DebugPort::new(Model::new(), TickingClock(0));
    assert_eq!(port.connect().unwrap(), 0x1BA0_1477);
    let ap = MemoryAp::open(&mut port, 0).unwrap();
    Connected { port, ap }
}

#[test]
fn words_cross_the_one_kilobyte_auto_increment_boundary() {
    let mut target = connected();
    let words: Vec<u32> = (0..300).map(|n| 0x1000_0000 + n).collect();
    target.memory().write_words(0x300, &words).unwrap();
    let mut back = vec![0; 300];
    target.memory().read_words(0x300, &mut back).unwrap();
    assert_eq!(back, words);
    // TAR was rewritten at 0x400 (the model wraps inside the 1 KB block otherwise).
    assert_eq!(
        u32::from_le_bytes(target.model().memory[0x400..0x404].try_into().unwrap()),
        0x1000_0040
    );
}

#[test]
fn bytes_at_any_alignment_use_byte_lanes() {
    let mut target = connected();
    let data: Vec<u8> = (0..23).map(|n| n as u8 ^ 0x5A).collect();
    target.memory().write_bytes(0x101, &data).unwrap();
    let mut back = [0u8; 23];
    target.memory().read_bytes(0x101, &mut back).unwrap();
    assert_eq!(&back[..], &data[..]);
    assert_eq!(target.model().memory[0x100], 0);
    assert_eq!(target.model().memory[0x118], 0);
}

#[test]
fn posted_reads_are_pipelined_and_collected_from_rdbuff() {
    let mut target = connected();
    target.memory().write_words(0x40, &[1, 2, 3, 4]).unwrap();
    target.model().transactions.clear();
    let mut back = [0; 4];
    target.memory().read_words(0x40, &mut back).unwrap();
    assert_eq!(back, [1, 2, 3, 4]);
    let reads: Vec<_> = target
        .model()
        .transactions
        .iter()
        .filter(|t| t.1)
        .cloned()
        .collect();
    // Four AP reads of DRW, one RDBUFF (not one per word), one CTRL/STAT error check.
    assert_eq!(reads.len(), 6);
    assert_eq!(reads[4], (Port::Dp, true, dp::RDBUFF));
    assert_eq!(reads[5], (Port::Dp, true, CTRL_STAT));
}

#[test]
fn wait_is_retried_then_times_out_with_an_abort() {
    let mut target = connected();
    target.model().waits_left = 5;
    target.memory().write_word(0x10, 0xCAFE).unwrap();
    assert_eq!(target.memory().read_word(0x10).unwrap(), 0xCAFE);

    target.port.set_timeouts(Timeouts {
        wait_micros: 1000,
        power_up_micros: 1000,
    });
    target.model().waits_left = 100_000;
    assert!(matches!(
        target.memory().read_word(0x10),
        Err(Error::WaitTimeout { .. })
    ));
    target.model().waits_left = 0;
    target.ap.invalidate();
    assert_eq!(target.memory().read_word(0x10).unwrap(), 0xCAFE);
}

#[test]
fn a_bus_fault_is_reported_with_its_address_and_cleared() {
    let mut target = connected();
    assert_eq!(
        target.memory().read_word(0x2000),
        Err(Error::Bus { address: 0x2000 })
    );
    // Sticky error cleared: the next access works.
    target.memory().write_word(0x20, 7).unwrap();
    assert_eq!(target.memory().read_word(0x20).unwrap(), 7);
}

#[test]
fn unaligned_word_access_is_refused() {
    let mut target = connected();
    assert_eq!(
        target.memory().read_word(0x22),
        Err(Error::Unaligned { address: 0x22 })
    );
}

#[test]
fn typed_registers_match_the_specification() {
    use crate::registers::ap::{Csw, Idr};
    use crate::registers::dp::{Abort, CtrlStat, Select};
    use crate::registers::{ApRegister, DpRegister};
    assert_eq!(u32::from(CtrlStat::power_up_request()), 0x5000_0000);
    assert!(CtrlStat::from(0xF000_0000).powered_up());
    assert!(!CtrlStat::from(0x5000_0000).powered_up());
    assert!(CtrlStat::from(STICKYERR).sticky());
    assert_eq!(u32::from(Abort::clear_sticky()), 0x1E);
    assert_eq!(u32::from(Abort::dap_abort()), 0x1);
    let mut select = Select::default();
    select.set_apsel(1);
    select.set_apbanksel(0xF);
    assert_eq!(u32::from(select), 0x0100_00F0);
    let mut csw = Csw::from(0xA200_0052).kept();
    csw.set_size(Csw::SIZE_32);
    csw.set_addrinc(Csw::ADDRINC_SINGLE);
    assert_eq!(u32::from(csw), 0xA200_0012);
    assert!(Idr::from(0x2477_0011).is_memory_ap());
    assert!(!Idr::from(0x0476_0011).is_memory_ap()); // class 0: a JTAG-AP or similar
    let addresses = [
        Abort::ADDRESS,
        CtrlStat::ADDRESS,
        Select::ADDRESS,
        Csw::ADDRESS,
        Idr::ADDRESS,
    ];
    assert_eq!(addresses, [ABORT, CTRL_STAT, SELECT, CSW, IDR]);
}
