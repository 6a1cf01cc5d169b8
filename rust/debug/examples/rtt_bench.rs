//! Benchmark: RTT up-channel throughput through the whole engine (session, MEM-AP, SWD)
//! from the test firmware running in the simulated STM32F103, in the simulator's virtual
//! time. The firmware's flood mode fills up channel 0 (2 KB) with a counting byte pattern
//! as fast as it can; the channel is set to block mode so nothing is dropped and the
//! figure is what the probe moves, measured once the adaptive interval has come down to
//! its minimum (it starts at 256 ms and halves per poll that moves data). Between polls the probe sleeps (virtual time passes,
//! the core runs) until the adaptive interval is due. Run by tools/bench.
//!
//!   rtt_bench FIRMWARE.elf FIRMWARE.nm [SWCLK_HZ] [MIN_POLL_MS] [SECONDS]

use adi::Clock;
use debug::Session;
use debug::rtt::{Found, RttIo};
use sim::Sim;
use sim::chip::{Chip, Variant};
use std::time::Instant;
use wire::Pins;
use wire::swd::Swd;

type Wire = Swd<Sim<Chip>>;

struct NoClock;

impl Clock for NoClock {
    fn now_micros(&mut self) -> u64 {
        0
    }
}

/// Takes everything and checks the counting pattern (nothing lost or repeated) from the
/// first byte it sees on.
struct Counter {
    bytes: u64,
    next: Option<u8>,
    errors: u64,
}

impl RttIo for Counter {
    fn up(&mut self, _: u8, data: &[u8]) -> usize {
        for &byte in data {
            if self.next.is_some_and(|next| next != byte) {
                self.errors += 1;
            }
            self.next = Some(byte.wrapping_add(1));
        }
        self.bytes += data.len() as u64;
        data.len()
    }

    fn down(&mut self, _: u8, _: &mut [u8]) -> usize {
        0
    }
}

fn now_micros(session: &mut Session<Wire, NoClock>) -> u64 {
    let mut now = 0;
    session.with_transport(|swd| now = swd.pins().now_ns() / 1000);
    now
}

fn symbol(listing: &str, name: &str) -> u32 {
    listing
        .lines()
        .find_map(|line| {
            let fields: Vec<_> = line.split_whitespace().collect();
            (fields.len() == 3 && fields[2] == name)
                .then(|| u32::from_str_radix(fields[0], 16).expect("hex"))
        })
        .unwrap_or_else(|| panic!("no symbol {name}"))
}

fn main() {
    let mut arguments = std::env::args().skip(1);
    let usage = "usage: rtt_bench FIRMWARE.elf FIRMWARE.nm [SWCLK_HZ] [MIN_POLL_MS] [SECONDS]";
    let elf = std::fs::read(arguments.next().expect(usage)).expect("firmware");
    let listing = std::fs::read_to_string(arguments.next().expect(usage)).expect("nm listing");
    let frequency: u32 = arguments
        .next()
        .map_or(4_000_000, |t| t.parse().expect("Hz"));
    let min_poll_ms: u32 = arguments.next().map_or(8, |t| t.parse().expect("ms"));
    let seconds: f64 = arguments
        .next()
        .map_or(0.5, |t| t.parse().expect("seconds"));

    let mut chip = Chip::new(Variant::Stm32f103c8);
    chip.load_image(&elf).expect("loads");
    let mut sim = Sim::new(chip);
    sim.set_frequency(frequency);
    let mut swd = Swd::new(sim);
    swd.switch_from_jtag();
    let mut session = Session::new();
    session.scan(swd, NoClock).expect("scan").count();
    session.attach(1).expect("attach");
    session.resume(false).expect("resume");

    // Find the block (the start-up code has run once it is there), then switch on flood
    // mode with up channel 0 blocking.
    session.rtt.enable(true);
    session
        .rtt
        .config
        .set_poll(256, min_poll_ms, 10)
        .expect("poll limits");
    let mut counter = Counter {
        bytes: 0,
        next: None,
        errors: 0,
    };
    while !matches!(session.rtt.found, Found::At(_)) {
        let now = now_micros(&mut session);
        session.rtt_poll(now, &mut counter);
        session.with_transport(|swd| swd.pins().idle(1_000_000));
    }
    let Found::At(block) = session.rtt.found else {
        unreachable!()
    };
    session.halt_request().expect("halt");
    let flags = block + 24 + 20;
    session
        .write_memory(flags, &2u32.to_le_bytes())
        .expect("block mode");
    session
        .write_memory(symbol(&listing, "rtt_flood"), &1u32.to_le_bytes())
        .expect("flood");
    session.resume(false).expect("resume");
    // Steady state: poll until the adaptive interval has come down to its minimum.
    while session.rtt.interval_ms > min_poll_ms {
        let now = now_micros(&mut session);
        if session.rtt.due(now) {
            session.rtt_poll(now, &mut counter);
        } else {
            session.with_transport(|swd| swd.pins().idle(100_000));
        }
    }
    counter = Counter {
        bytes: 0,
        next: None,
        errors: 0,
    };

    let statistics_before = statistics(&mut session);
    let (start, wall) = (now_micros(&mut session), Instant::now());
    let end = start + (seconds * 1e6) as u64;
    let mut polls = 0u64;
    loop {
        let now = now_micros(&mut session);
        if now >= end {
            break;
        }
        if session.rtt.due(now) {
            session.rtt_poll(now, &mut counter);
            polls += 1;
        } else {
            // The probe sleeps until the next poll is due (100 us steps).
            session.with_transport(|swd| swd.pins().idle(100_000));
        }
    }
    let elapsed = (now_micros(&mut session) - start) as f64 / 1e6;
    let statistics_after = statistics(&mut session);
    let mut produced = [0u8; 4];
    session
        .read_memory(symbol(&listing, "rtt_flood_bytes"), &mut produced)
        .expect("rtt_flood_bytes");
    println!(
        "RTT up channel 0 (2 KB, block mode), SWCLK {} kHz, min poll {min_poll_ms} ms: \
         {} bytes in {elapsed:.3} s virtual = {:.1} KB/s ({polls} polls, {:.0} SWCLK cycles \
         per poll; pattern errors {}; wall {:.1} s)",
        frequency / 1000,
        counter.bytes,
        counter.bytes as f64 / elapsed / 1000.0,
        (statistics_after - statistics_before) as f64 / polls.max(1) as f64,
        counter.errors,
        wall.elapsed().as_secs_f64()
    );
    println!(
        "target wrote {} bytes in all (flood counter)",
        u32::from_le_bytes(produced)
    );
    assert_eq!(counter.errors, 0, "bytes lost or repeated");
}

fn statistics(session: &mut Session<Wire, NoClock>) -> u64 {
    let mut cycles = 0;
    session.with_transport(|swd| cycles = swd.pins().statistics().clock_cycles);
    cycles
}
