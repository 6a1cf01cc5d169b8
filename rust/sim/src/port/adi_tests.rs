//! The probe's own ADI stack (crate `adi` over the `wire` engines) against the debug port:
//! memory across 1 KB blocks over SWD and JTAG, clean and with injected faults, which the
//! stack must recover from.

use super::tests::{RAM_BASE, RamBus};
use super::{FaultConfig, Sim};
use adi::{Clock, DebugPort, MemoryAp, Transport};

/// Timeouts in wall time are enough here.
struct WallClock(std::time::Instant);

impl Clock for WallClock {
    fn now_micros(&mut self) -> u64 {
        self.0.elapsed().as_micros() as u64
    }
}

const CHUNK_WORDS: usize = 64;

fn pattern() -> Vec<u32> {
    (0..2048u32)
        .map(|index| index.wrapping_mul(0x9E37_79B9))
        .collect()
}

/// Connect, write and read back in chunks, retrying a chunk after an error as a session
/// would. Returns how many errors were recovered from: by the stack itself (it runs
/// idempotent accesses again) or here.
fn exercise<T: Transport, C: Clock>(port: &mut DebugPort<T, C>) -> usize {
    let mut errors = 0;
    while port.connect().is_err() {
        errors += 1;
        let _ = port.transport().resynchronise();
    }
    let mut memory = loop {
        match MemoryAp::open(port, 0) {
            Ok(memory) => break memory,
            Err(_) => errors += 1,
        }
    };
    let words = pattern();
    // Start just below a 1 KB boundary so that chunks cross it.
    let address = |index: usize| RAM_BASE + 0x3F0 + (index * CHUNK_WORDS * 4) as u32;
    for (index, chunk) in words.chunks(CHUNK_WORDS).enumerate() {
        while memory.write_words(port, address(index), chunk).is_err() {
            errors += 1;
            memory.invalidate();
        }
    }
    let mut back = vec![0u32; words.len()];
    for (index, chunk) in back.chunks_mut(CHUNK_WORDS).enumerate() {
        while memory.read_words(port, address(index), chunk).is_err() {
            errors += 1;
            memory.invalidate();
        }
    }
    assert_eq!(back, words);
    errors + port.retried() as usize
}

fn over_swd(sim: &mut Sim<RamBus>) -> usize {
    let mut swd = wire::swd::Swd::new(sim);
    swd.switch_from_jtag();
    let mut port = DebugPort::new(swd, WallClock(std::time::Instant::now()));
    exercise(&mut port)
}

fn over_jtag(sim: &mut Sim<RamBus>) -> usize {
    let chain = wire::jtag::Jtag::new(sim);
    let Ok(debug_port) = wire::jtag::JtagDp::open(chain, &[]) else {
        panic!("no JTAG-DP on the chain");
    };
    let mut port = DebugPort::new(debug_port, WallClock(std::time::Instant::now()));
    exercise(&mut port)
}

fn faulty() -> FaultConfig {
    FaultConfig {
        seed: 3,
        wait: 0.05,
        fault: 0.005,
        no_answer: 0.002,
        read_parity: 0.002,
        ..FaultConfig::default()
    }
}

#[test]
fn adi_over_swd() {
    let mut sim = Sim::new(RamBus::new());
    assert_eq!(over_swd(&mut sim), 0);
    assert_eq!(sim.statistics().wait + sim.statistics().fault, 0);
}

#[test]
fn adi_over_jtag() {
    let mut sim = Sim::new(RamBus::new());
    assert_eq!(over_jtag(&mut sim), 0);
}

#[test]
fn adi_over_swd_recovers_from_injected_faults() {
    let mut sim = Sim::new(RamBus::new());
    sim.set_faults(faulty());
    assert!(over_swd(&mut sim) > 0);
    let statistics = sim.statistics();
    assert!(statistics.wait > 0 && statistics.fault > 0 && statistics.no_response > 0);
}

#[test]
fn adi_over_jtag_recovers_from_injected_faults() {
    let mut sim = Sim::new(RamBus::new());
    sim.set_faults(faulty());
    assert!(over_jtag(&mut sim) > 0);
    assert!(sim.statistics().wait > 0);
}
