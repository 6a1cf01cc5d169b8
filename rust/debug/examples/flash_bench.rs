//! Benchmark: download the 62 KB bench image into the simulated STM32F103's flash through
//! the whole engine (session, STM32F1 flash driver, MEM-AP, SWD engine) and read it back,
//! in the simulator's virtual time at a given SWCLK. Run by tools/bench.
//!
//!   flash_bench IMAGE.bin [SWCLK_HZ] [CHIP]

use adi::Clock;
use debug::Session;
use sim::Sim;
use sim::chip::{Chip, Variant};
use std::time::Instant;
use wire::Pins;
use wire::swd::Swd;

struct HostClock(Instant);

impl Clock for HostClock {
    fn now_micros(&mut self) -> u64 {
        self.0.elapsed().as_micros() as u64
    }
}

fn main() {
    let mut arguments = std::env::args().skip(1);
    let path = arguments
        .next()
        .expect("usage: flash_bench IMAGE.bin [SWCLK_HZ] [CHIP]");
    let frequency: u32 = arguments
        .next()
        .map_or(4_000_000, |text| text.parse().expect("SWCLK_HZ"));
    let chip = arguments.next().unwrap_or_else(|| "stm32f103c8".into());
    let variant = Variant::from_name(&chip)
        .expect("CHIP: stm32f103c8, stm32f103cb, stm32f103rc, cks32f103c8");
    let image = std::fs::read(&path).expect("image");

    let mut sim = Sim::new(Chip::new(variant));
    sim.set_frequency(frequency);
    let mut swd = Swd::new(sim);
    swd.switch_from_jtag();
    let mut session = Session::new();
    session
        .scan(swd, HostClock(Instant::now()))
        .expect("scan")
        .count();
    session.attach(1).expect("attach");

    let (virtual_start, wall_start) = (now_ns(&mut session), Instant::now());
    session
        .flash_erase(0x0800_0000, image.len() as u32)
        .expect("erase");
    let (virtual_erased, wall_erased) = (now_ns(&mut session), Instant::now());
    session.flash_write(0x0800_0000, &image).expect("write");
    session.flash_done().expect("done");
    let (virtual_written, wall_written) = (now_ns(&mut session), Instant::now());
    let mut back = vec![0; image.len()];
    session.read_memory(0x0800_0000, &mut back).expect("read");
    let (virtual_read, wall_read) = (now_ns(&mut session), Instant::now());
    assert_eq!(back, image, "read back differs");

    let kib = image.len() as f64 / 1024.0;
    let report = |what: &str, virtual_ns: u64, wall: std::time::Duration| {
        let seconds = virtual_ns as f64 / 1e9;
        println!(
            "{what:<6} {kib:6.1} KiB  virtual {seconds:8.3} s  {:8.1} KiB/s  wall {:7.3} s",
            kib / seconds,
            wall.as_secs_f64()
        );
    };
    println!(
        "{chip}, SWCLK {} kHz, {} bytes",
        frequency / 1000,
        image.len()
    );
    report(
        "erase",
        virtual_erased - virtual_start,
        wall_erased - wall_start,
    );
    report(
        "write",
        virtual_written - virtual_erased,
        wall_written - wall_erased,
    );
    report(
        "read",
        virtual_read - virtual_written,
        wall_read - wall_written,
    );
    let mut statistics = None;
    session.with_transport(|swd| statistics = Some(swd.pins().statistics()));
    let statistics = statistics.expect("a wire");
    println!(
        "wire: {} SWCLK cycles, {} transactions, {} WAIT, {} FAULT",
        statistics.clock_cycles, statistics.transactions, statistics.wait, statistics.fault
    );
}

fn now_ns(session: &mut Session<Swd<Sim<Chip>>, HostClock>) -> u64 {
    let mut now = 0;
    session.with_transport(|swd| now = swd.pins().now_ns());
    now
}
