//! The SWD and JTAG engines and the ADI layer against the simulated debug port, bit by
//! bit, with a RAM behind the AHB-AP. (The full STM32F103 model is tested in `debug`.)

use adi::{BlockAccess, Clock, DebugPort, Error, Memory, MemoryAp, MemoryPort, Timeouts};
use sim::bus::{Bus, BusError, Identity, MultidropTarget, Width};
use sim::port::Sim;
use wire::jtag::{Jtag, JtagDp};
use wire::swd::Swd;

const RAM_BASE: u32 = 0x2000_0000;
const RAM_SIZE: usize = 8192;
/// A second RAM outside the SRAM region, standing for memory whose writes must not be
/// repeated (a flash array): it counts the stores to each byte.
const COUNTED_BASE: u32 = 0x0800_0000;

/// RAM at 0x20000000 (and RAM_SIZE bytes at COUNTED_BASE); stalls the next `stalls`
/// accesses; faults elsewhere.
struct Ram {
    bytes: Vec<u8>,
    counted: Vec<u8>,
    stores: Vec<u32>,
    stalls: u32,
}

impl Ram {
    fn new() -> Self {
        Self {
            bytes: vec![0; RAM_SIZE],
            counted: vec![0; RAM_SIZE],
            stores: vec![0; RAM_SIZE],
            stalls: 0,
        }
    }

    fn offset(&self, address: u32, width: Width) -> Result<usize, BusError> {
        let offset = address.wrapping_sub(RAM_BASE) as usize;
        if offset + width.bytes() as usize > RAM_SIZE {
            return Err(BusError::Fault);
        }
        Ok(offset)
    }

    /// Which array and where, for either window.
    fn place(&mut self, address: u32, width: Width) -> Result<(&mut Vec<u8>, usize), BusError> {
        let counted = address.wrapping_sub(COUNTED_BASE) as usize;
        if counted + width.bytes() as usize <= RAM_SIZE {
            for store in &mut self.stores[counted..counted + width.bytes() as usize] {
                *store += 1;
            }
            return Ok((&mut self.counted, counted));
        }
        let offset = self.offset(address, width)?;
        Ok((&mut self.bytes, offset))
    }

    fn stall(&mut self) -> Result<(), BusError> {
        if self.stalls > 0 {
            self.stalls -= 1;
            return Err(BusError::Stall);
        }
        Ok(())
    }
}

impl Bus for Ram {
    fn read(&mut self, address: u32, width: Width) -> Result<u32, BusError> {
        self.stall()?;
        let counted = address.wrapping_sub(COUNTED_BASE) as usize;
        let (bytes, offset) = if counted + width.bytes() as usize <= RAM_SIZE {
            (&self.counted, counted)
        } else {
            (&self.bytes, self.offset(address, width)?)
        };
        let mut value = 0u32;
        for index in 0..width.bytes() as usize {
            value |= u32::from(bytes[offset + index]) << (8 * index);
        }
        Ok(value)
    }

    fn write(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError> {
        self.stall()?;
        let (bytes, offset) = self.place(address, width)?;
        for index in 0..width.bytes() as usize {
            bytes[offset + index] = (value >> (8 * index)) as u8;
        }
        Ok(())
    }

    fn advance_to(&mut self, _now_ns: u64) {}

    fn set_reset(&mut self, _asserted: bool) {}

    fn identity(&self) -> Identity {
        Identity {
            dpidr: 0x1BA0_1477,
            jtag_idcode: 0x3BA0_0477,
            boundary_scan_idcode: 0x1641_0041,
        }
    }
}

/// Host time is enough for timeouts here.
struct HostClock(std::time::Instant);

impl Clock for HostClock {
    fn now_micros(&mut self) -> u64 {
        self.0.elapsed().as_micros() as u64
    }
}

fn swd_port(sim: &mut Sim<Ram>) -> DebugPort<Swd<&mut Sim<Ram>>, HostClock> {
    let mut swd = Swd::new(sim);
    swd.switch_from_jtag();
    DebugPort::new(swd, HostClock(std::time::Instant::now()))
}

#[test]
fn swd_connects_and_moves_memory_across_the_auto_increment_boundary() {
    let mut sim = Sim::new(Ram::new());
    let mut port = swd_port(&mut sim);
    assert_eq!(port.connect().unwrap(), 0x1BA0_1477);
    let mut ap = MemoryAp::open(&mut port, 0).unwrap();
    let mut memory = MemoryPort {
        port: &mut port,
        ap: &mut ap,
    };
    let words: Vec<u32> = (0..600u32)
        .map(|n| n.wrapping_mul(0x0101_0101) ^ 0xA5A5_0000)
        .collect();
    memory.write_words(RAM_BASE + 0x300, &words).unwrap();
    let mut back = vec![0; 600];
    memory.read_words(RAM_BASE + 0x300, &mut back).unwrap();
    assert_eq!(back, words);
    let text = b"hello, world!";
    memory.write_bytes(RAM_BASE + 0x1001, text).unwrap();
    let mut read = [0u8; 13];
    memory.read_bytes(RAM_BASE + 0x1001, &mut read).unwrap();
    assert_eq!(&read, text);
    assert_eq!(&sim.bus().bytes[0x1001..0x100E], text);
}

#[test]
fn swd_retries_wait_and_reports_a_bus_fault_then_recovers() {
    let mut sim = Sim::new(Ram::new());
    let mut port = swd_port(&mut sim);
    port.connect().unwrap();
    let mut ap = MemoryAp::open(&mut port, 0).unwrap();
    {
        let mut memory = MemoryPort {
            port: &mut port,
            ap: &mut ap,
        };
        memory.write_word(RAM_BASE, 0x1234_5678).unwrap();
    }
    port.transport().pins().bus_mut().stalls = 50;
    {
        let mut memory = MemoryPort {
            port: &mut port,
            ap: &mut ap,
        };
        assert_eq!(memory.read_word(RAM_BASE).unwrap(), 0x1234_5678);
        assert_eq!(
            memory.read_word(0x1000_0000),
            Err(Error::Bus {
                address: 0x1000_0000
            })
        );
        assert_eq!(memory.read_word(RAM_BASE).unwrap(), 0x1234_5678);
    }
    port.set_timeouts(Timeouts {
        wait_micros: 20_000,
        power_up_micros: 100_000,
    });
    port.transport().pins().bus_mut().stalls = u32::MAX;
    {
        let mut memory = MemoryPort {
            port: &mut port,
            ap: &mut ap,
        };
        assert!(matches!(
            memory.read_word(RAM_BASE),
            Err(Error::WaitTimeout { .. })
        ));
    }
    port.transport().pins().bus_mut().stalls = 0;
    ap.invalidate();
    let mut memory = MemoryPort {
        port: &mut port,
        ap: &mut ap,
    };
    assert_eq!(memory.read_word(RAM_BASE).unwrap(), 0x1234_5678);
}

#[test]
fn jtag_finds_both_taps_and_reaches_memory_through_the_jtag_dp() {
    let mut sim = Sim::new(Ram::new());
    let dp =
        JtagDp::open(Jtag::new(&mut sim), &[]).unwrap_or_else(|(error, _)| panic!("{error:?}"));
    let idcodes: Vec<(u32, u8)> = dp
        .devices()
        .iter()
        .map(|d| (d.idcode, d.ir_length))
        .collect();
    assert!(idcodes.contains(&(0x3BA0_0477, 4)), "{idcodes:x?}");
    assert!(idcodes.contains(&(0x1641_0041, 5)), "{idcodes:x?}");
    let mut port = DebugPort::new(dp, HostClock(std::time::Instant::now()));
    assert_eq!(port.connect().unwrap(), 0x3BA0_0477);
    let mut ap = MemoryAp::open(&mut port, 0).unwrap();
    let mut memory = MemoryPort {
        port: &mut port,
        ap: &mut ap,
    };
    memory
        .write_words(RAM_BASE + 0x40, &[1, 2, 3, 0xDEAD_BEEF])
        .unwrap();
    let mut back = [0; 4];
    memory.read_words(RAM_BASE + 0x40, &mut back).unwrap();
    assert_eq!(back, [1, 2, 3, 0xDEAD_BEEF]);
}

/// Block transfers run at the wire's limit: 46 SWCLK per 32-bit word on SWD (8 request,
/// 1 turnaround, 3 ACK, 32 data, 1 parity, 1 turnaround; ADIv5.2 B4.2), the packets back
/// to back. Per 1 KiB auto-increment block only TAR, the final RDBUFF and the CTRL/STAT
/// check come on top; CSW is written once.
#[test]
fn swd_block_transfers_take_46_clocks_a_word() {
    const PACKET: u64 = 46;
    const WITH_IDLE: u64 = PACKET + 2;
    let mut sim = Sim::new(Ram::new());
    let mut port = swd_port(&mut sim);
    port.connect().unwrap();
    let mut ap = MemoryAp::open(&mut port, 0).unwrap();
    let mut memory = MemoryPort {
        port: &mut port,
        ap: &mut ap,
    };
    // Warm up: CSW set, SELECT set.
    memory.read_words(RAM_BASE, &mut [0; 1]).unwrap();
    let words: Vec<u32> = (0..1024u32).collect();
    macro_rules! cycles {
        () => {
            memory.port.transport().pins().statistics().clock_cycles
        };
    }
    let before = cycles!();
    memory.write_words(RAM_BASE, &words).unwrap();
    let written = cycles!() - before;
    let mut back = vec![0; 1024];
    let before = cycles!();
    memory.read_words(RAM_BASE, &mut back).unwrap();
    let read = cycles!() - before;
    assert_eq!(back, words);
    // 4 blocks of 256 words: TAR, RDBUFF and CTRL/STAT each with their idle cycles.
    let overhead = 4 * 3 * WITH_IDLE;
    assert_eq!(written, 1024 * PACKET + overhead, "write");
    // Reads are posted: the first returns nothing, RDBUFF the last (counted above).
    assert_eq!(read, 1024 * PACKET + overhead, "read");
}

/// Word accesses within one 16-byte block go through BD0-BD3 (ADIv5.2 C2.2.7): TAR and
/// SELECT written for the first run only, then per run its accesses, one RDBUFF read that
/// brings the last posted read (another before a write that follows a read) and the
/// CTRL/STAT check; each value lands in the word its index names.
#[test]
fn block_accesses_go_through_the_banked_data_registers() {
    use BlockAccess::{Read, Write};
    let mut sim = Sim::new(Ram::new());
    let mut port = swd_port(&mut sim);
    port.connect().unwrap();
    let mut ap = MemoryAp::open(&mut port, 0).unwrap();
    let mut memory = MemoryPort {
        port: &mut port,
        ap: &mut ap,
    };
    memory.read_words(RAM_BASE, &mut [0; 1]).unwrap(); // CSW set
    let block = RAM_BASE + 0x130;
    macro_rules! transactions {
        () => {
            memory.port.transport().pins().statistics().transactions
        };
    }
    let before = transactions!();
    let mut reads = [0; 2];
    let accesses = [
        Write(2, 0xC0FF_EE02),
        Write(1, 0xC0FF_EE01),
        Read(2),
        Read(3),
    ];
    memory.access_block(block, &accesses, &mut reads).unwrap();
    assert_eq!(reads, [0xC0FF_EE02, 0]);
    // TAR, SELECT, 4 accesses, RDBUFF, CTRL/STAT.
    assert_eq!(transactions!() - before, 8);
    let before = transactions!();
    let accesses = [Read(1), Write(0, 0xC0FF_EE00), Read(0), Read(2)];
    let mut reads = [0; 3];
    memory.access_block(block, &accesses, &mut reads).unwrap();
    assert_eq!(reads, [0xC0FF_EE01, 0xC0FF_EE00, 0xC0FF_EE02]);
    // 4 accesses, RDBUFF before the write, RDBUFF, CTRL/STAT: no TAR, no SELECT.
    assert_eq!(transactions!() - before, 7);
    let mut words = [0; 4];
    memory.read_words(block, &mut words).unwrap();
    assert_eq!(words, [0xC0FF_EE00, 0xC0FF_EE01, 0xC0FF_EE02, 0]);
    assert_eq!(
        memory.access_block(block + 4, &[Read(0)], &mut [0]),
        Err(Error::Unaligned { address: block + 4 })
    );
    assert_eq!(
        memory.access_block(0x1000_0000, &[Read(0)], &mut [0]),
        Err(Error::Bus {
            address: 0x1000_0000
        })
    );
    let mut read = [0];
    memory.access_block(block, &[Read(3)], &mut read).unwrap();
    assert_eq!(read, [0], "after a bus error the next block access works");
}

fn pattern(seed: u32, count: usize) -> Vec<u32> {
    (0..count as u32)
        .map(|n| (n ^ seed).wrapping_mul(0x9E37_79B9))
        .collect()
}

/// Connect, retrying the whole connection as a client would (a transient error before
/// the power-up is not retried inside: nothing is known of the target yet).
fn connect_with_faults(port: &mut DebugPort<Swd<&mut Sim<Ram>>, HostClock>) {
    for _ in 0..10 {
        if port.connect().is_ok() {
            return;
        }
    }
    panic!("no connection in 10 attempts");
}

/// ADIv5.2 B2.2, B4.3.3: FAULT answers (sticky flags cleared through ABORT), lost answers
/// and read parity errors (line reset and DPIDR) are recovered from and the access run
/// again: 64 KiB written and read back through the SRAM region at 1 % of each fault per
/// transaction, every word right.
#[test]
fn swd_memory_runs_are_repeated_after_transient_faults() {
    let mut sim = Sim::new(Ram::new());
    sim.set_faults(
        sim::FaultConfig::parse("fault=1e-2,no-answer=1e-2,read-parity=1e-2,seed=3").unwrap(),
    );
    let mut port = swd_port(&mut sim);
    connect_with_faults(&mut port);
    let mut ap = (0..10)
        .find_map(|_| MemoryAp::open(&mut port, 0).ok())
        .expect("the AP opens");
    for round in 0..8u32 {
        let words = pattern(round, RAM_SIZE / 4);
        let mut memory = MemoryPort {
            port: &mut port,
            ap: &mut ap,
        };
        memory.write_words(RAM_BASE, &words).unwrap();
        let mut back = vec![0; words.len()];
        memory.read_words(RAM_BASE, &mut back).unwrap();
        assert_eq!(back, words, "round {round}");
    }
    assert!(port.retried() > 20, "retried {} times", port.retried());
    let faults = port.transport().pins().statistics();
    assert!(faults.fault > 10 && faults.no_response > 10, "{faults:?}");
}

/// Outside plain memory a failed write run is not written again: no byte is stored twice
/// (a flash half-word programmed twice is not the same as once), the error reaches the
/// caller, and reads there are still repeated.
#[test]
fn writes_outside_plain_memory_are_never_repeated() {
    let mut failures = 0;
    for seed in 1..=8 {
        let mut sim = Sim::new(Ram::new());
        sim.set_faults(sim::FaultConfig::parse(&format!("fault=2e-3,seed={seed}")).unwrap());
        let mut port = swd_port(&mut sim);
        connect_with_faults(&mut port);
        let mut ap = (0..10)
            .find_map(|_| MemoryAp::open(&mut port, 0).ok())
            .expect("the AP opens");
        assert!(!ap.is_plain_memory(COUNTED_BASE, 4));
        let words = pattern(seed, RAM_SIZE / 4);
        let mut memory = MemoryPort {
            port: &mut port,
            ap: &mut ap,
        };
        let written = memory.write_words(COUNTED_BASE, &words);
        let mut back = vec![0; words.len()];
        memory.read_words(COUNTED_BASE, &mut back).unwrap();
        match written {
            Ok(()) => assert_eq!(back, words),
            Err(error) => {
                assert!(matches!(error, Error::Bus { .. }), "{error:?}");
                failures += 1;
            }
        }
        let stores = &port.transport().pins().bus().stores;
        assert!(
            stores.iter().all(|&count| count <= 1),
            "a byte stored twice"
        );
    }
    assert!(
        failures > 0,
        "no write met a fault: the test proves nothing"
    );
}

/// Two RAMs behind the RP2040's three multi-drop DPs (TARGETSEL 0x01002927 core 0,
/// 0x11002927 core 1, 0xF1002927 rescue; DPIDR 0x0BC12477): a fixture for the DP layer,
/// not an RP2040.
struct TwoCores {
    cores: [Ram; 2],
    selected: usize,
}

const MULTIDROP_DPIDR: u32 = 0x0BC1_2477;
const CORE_0: u32 = 0x0100_2927;
const CORE_1: u32 = 0x1100_2927;

impl Bus for TwoCores {
    fn read(&mut self, address: u32, width: Width) -> Result<u32, BusError> {
        self.cores
            .get_mut(self.selected)
            .ok_or(BusError::Fault)?
            .read(address, width)
    }
    fn write(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError> {
        self.cores
            .get_mut(self.selected)
            .ok_or(BusError::Fault)?
            .write(address, width, value)
    }
    fn advance_to(&mut self, _now_ns: u64) {}
    fn set_reset(&mut self, _asserted: bool) {}
    fn identity(&self) -> Identity {
        Identity {
            dpidr: MULTIDROP_DPIDR,
            ..self.cores[0].identity()
        }
    }
    fn multidrop_targets(&self) -> Vec<MultidropTarget> {
        [0, 1, 0xF]
            .into_iter()
            .map(|instance| MultidropTarget {
                target_id: 0x0100_2927,
                instance,
            })
            .collect()
    }
    fn select_debug_port(&mut self, index: usize) {
        self.selected = index;
    }
}

#[test]
fn swd_multidrop_selects_each_core_through_targetsel() {
    let mut sim = Sim::new(TwoCores {
        cores: [Ram::new(), Ram::new()],
        selected: 0,
    });
    let mut swd = Swd::new(&mut sim);
    swd.switch_through_dormant();
    let mut port = DebugPort::new(swd, HostClock(std::time::Instant::now()));
    for (target_select, value) in [(CORE_0, 0x1111_1111), (CORE_1, 0x2222_2222)] {
        assert_eq!(port.connect_target(target_select), Ok(MULTIDROP_DPIDR));
        let mut ap = MemoryAp::open(&mut port, 0).unwrap();
        let mut memory = MemoryPort {
            port: &mut port,
            ap: &mut ap,
        };
        memory.write_word(RAM_BASE, value).unwrap();
        assert_eq!(memory.read_word(RAM_BASE), Ok(value));
    }
    // A line reset keeps the selection: resynchronise writes TARGETSEL again.
    port.transport().reset_and_select();
    assert_eq!(port.read_dp(0x0), Ok(MULTIDROP_DPIDR));
    assert_eq!(sim.bus().cores[0].bytes[..4], 0x1111_1111u32.to_le_bytes());
    assert_eq!(sim.bus().cores[1].bytes[..4], 0x2222_2222u32.to_le_bytes());
}

#[test]
fn swd_multidrop_refuses_an_absent_instance_and_a_single_dp_wire() {
    let mut sim = Sim::new(TwoCores {
        cores: [Ram::new(), Ram::new()],
        selected: 0,
    });
    let mut swd = Swd::new(&mut sim);
    swd.switch_through_dormant();
    let mut port = DebugPort::new(swd, HostClock(std::time::Instant::now()));
    assert_eq!(port.connect_target(0x2100_2927), Err(Error::NoResponse));
    assert_eq!(port.connect_target(CORE_1), Ok(MULTIDROP_DPIDR));

    // A DPv1 SW-DP (the blue pill's) has no TARGETSEL: it answers the write after a line
    // reset with FAULT into the cycles the host leaves undriven, then takes the data bits
    // for requests and stops answering until the next line reset.
    let mut single = Sim::new(Ram::new());
    let mut swd = Swd::new(&mut single);
    swd.switch_from_jtag();
    let mut port = DebugPort::new(swd, HostClock(std::time::Instant::now()));
    assert_eq!(port.connect_target(CORE_0), Err(Error::NoResponse));
    // Without TARGETSEL it connects as before.
    port.transport().set_target_select(None);
    port.transport().reset_and_select();
    assert_eq!(port.connect(), Ok(0x1BA0_1477));
}
