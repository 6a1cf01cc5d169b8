//! Benchmark: the 62 KB bench image into the simulated STM32F103CB's flash three ways, in
//! the simulator's virtual time at a given SWCLK: the built-in STM32F1 driver, probe-rs's
//! stm32f10x_128 algorithm (from the probe-rs crate, tools/probe-rs-targets) and the FLM
//! built here (tests/firmware/flm). Each into erased flash: erase (the pages read back
//! erased, so none is erased), write, done; what is timed includes the CRC of the pages
//! the erase request takes first (on the target's core). Also the flash's own time for
//! the image: 52.5 us for each half-word to program (DS5319 typical), which no path can
//! beat (the algorithms also program the 0xFFFF half-words the built-in driver skips, and
//! the last page's padding). Run by tools/bench.
//!
//!   algorithm_bench BENCH.bin STM32F1.flm [SWCLK_HZ]

#[path = "../tests/common/probe_rs_yaml.rs"]
mod probe_rs_yaml;
#[path = "../tests/common/virtual_wire.rs"]
mod virtual_wire;

use debug::{Session, algo};
use sim::chip::Variant;
use std::time::Instant;
use virtual_wire::{VirtualClock, Wire};

type Probe = Session<Wire, VirtualClock>;

fn now_ns(session: &mut Probe) -> u64 {
    let mut now = 0;
    session.with_transport(|wire| now = virtual_wire::now_ns(wire));
    now
}

/// Timeouts run on the simulator's virtual clock: the chip's time.
fn attached(frequency: u32) -> Probe {
    let (wire, clock) = virtual_wire::wire(Variant::Stm32f103cb, Some(frequency));
    let mut session = Session::new();
    session.scan(wire, clock).expect("scan").count();
    session.attach(1).expect("attach");
    session.set_algorithm_slack(10);
    session
}

/// Flash `image`; (virtual seconds, wall seconds).
fn flash(session: &mut Probe, image: &[u8]) -> (f64, f64) {
    let (virtual_start, wall_start) = (now_ns(session), Instant::now());
    session
        .flash_erase(0x0800_0000, image.len() as u32)
        .expect("erase");
    session.flash_write(0x0800_0000, image).expect("write");
    session.flash_done().expect("done");
    let elapsed = (now_ns(session) - virtual_start) as f64 / 1e9;
    let mut back = vec![0; image.len()];
    session.read_memory(0x0800_0000, &mut back).expect("read");
    assert_eq!(back, image, "read back differs");
    (elapsed, wall_start.elapsed().as_secs_f64())
}

fn main() {
    let mut arguments = std::env::args().skip(1);
    let usage = "usage: algorithm_bench BENCH.bin STM32F1.flm [SWCLK_HZ]";
    let image = std::fs::read(arguments.next().expect(usage)).expect("image");
    let flm = std::fs::read(arguments.next().expect(usage)).expect("FLM");
    let frequency: u32 = arguments
        .next()
        .map_or(4_000_000, |text| text.parse().expect("SWCLK_HZ"));
    let yaml = probe_rs_yaml::algorithm("STM32F1_Series.yaml", "stm32f10x_128");

    let pages = image.len().div_ceil(1024);
    let half_words = image
        .chunks(2)
        .filter(|half| half.iter().any(|&byte| byte != 0xFF))
        .count();
    let flash_own = half_words as f64 * 52.5e-6;
    let kib = image.len() as f64 / 1024.0;
    println!(
        "STM32F103CB, SWCLK {} kHz, {} bytes ({pages} pages, {half_words} half-words to \
         program); the flash's own time {flash_own:.3} s",
        frequency / 1000,
        image.len()
    );
    let report = |what: &str, (seconds, wall): (f64, f64)| {
        println!(
            "{what:<26} virtual {seconds:7.3} s  {:6.1} KiB/s  {:5.1} % over the flash's time  wall {wall:6.2} s",
            kib / seconds,
            (seconds / flash_own - 1.0) * 100.0
        );
    };

    let mut session = attached(frequency);
    report("built-in STM32F1 driver", flash(&mut session, &image));

    let mut session = attached(frequency);
    session
        .set_flash_algorithm(
            |algorithm| {
                algo::probe_rs::load(algorithm, &yaml.description(), &mut &yaml.instructions[..])
            },
            None,
        )
        .expect("probe-rs algorithm");
    report("probe-rs stm32f10x_128", flash(&mut session, &image));

    let mut session = attached(frequency);
    session
        .set_flash_algorithm(|algorithm| algo::flm::load(algorithm, &mut &flm[..]), None)
        .expect("FLM");
    report("FLM built here", flash(&mut session, &image));
}
