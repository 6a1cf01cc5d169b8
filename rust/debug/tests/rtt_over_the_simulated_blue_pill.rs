//! RTT through the whole engine against the test firmware running in the simulated
//! STM32F103: the target keeps running while the probe polls (virtual time passes between
//! polls as a probe's sleep), text flows up and is echoed back from the down channel, a
//! reset mid-session is followed, a corrupt block is reported.

use adi::Clock;
use debug::Session;
use debug::rtt::{Corruption, Found, RttIo};
use sim::Sim;
use sim::chip::{Chip, Variant};
use std::path::Path;
use wire::Pins;
use wire::swd::Swd;

type Wire = Swd<Sim<Chip>>;

struct NoClock;

impl Clock for NoClock {
    fn now_micros(&mut self) -> u64 {
        0
    }
}

fn top() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The test firmware, built once for all the tests of this file.
fn firmware() -> Vec<u8> {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let status = std::process::Command::new("make")
            .args(["-s", "-C"])
            .arg(top().join("tests/firmware"))
            .arg(format!("BUILD={}", top().join("build/firmware").display()))
            .status()
            .expect("make runs");
        assert!(status.success(), "building the test firmware failed");
    });
    std::fs::read(top().join("build/firmware/firmware.elf")).expect("firmware.elf")
}

fn symbol(name: &str) -> u32 {
    firmware();
    let listing =
        std::fs::read_to_string(top().join("build/firmware/firmware.nm")).expect("firmware.nm");
    listing
        .lines()
        .find_map(|line| {
            let fields: Vec<_> = line.split_whitespace().collect();
            (fields.len() == 3 && fields[2] == name)
                .then(|| u32::from_str_radix(fields[0], 16).unwrap())
        })
        .unwrap_or_else(|| panic!("no symbol {name}"))
}

/// The firmware loaded and running, the session attached (which halts it), then resumed.
fn running() -> Session<Wire, NoClock> {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    chip.load_image(&firmware()).expect("loads");
    let mut sim = Sim::new(chip);
    sim.set_frequency(4_000_000);
    let mut swd = Swd::new(sim);
    swd.switch_from_jtag();
    let mut session = Session::new();
    session.scan(swd, NoClock).unwrap().count();
    session.attach(1).unwrap();
    session.resume(false).unwrap();
    // Poll at least every 16 ms: the tests run in little virtual time (the simulated core
    // costs wall time).
    session.rtt.config.set_poll(16, 1, 10).unwrap();
    session
}

fn now_micros(session: &mut Session<Wire, NoClock>) -> u64 {
    let mut now = 0;
    session.with_transport(|swd| now = swd.pins().now_ns() / 1000);
    now
}

fn sleep(session: &mut Session<Wire, NoClock>, micros: u64) {
    session.with_transport(|swd| swd.pins().idle(micros * 1000));
}

#[derive(Default)]
struct Terminal {
    up: Vec<u8>,
    input: Vec<u8>,
}

impl RttIo for Terminal {
    fn up(&mut self, channel: u8, data: &[u8]) -> usize {
        assert_eq!(channel, 0, "only up channel 0 is served by default");
        self.up.extend_from_slice(data);
        data.len()
    }

    fn down(&mut self, _: u8, buffer: &mut [u8]) -> usize {
        let count = buffer.len().min(self.input.len());
        buffer[..count].copy_from_slice(&self.input[..count]);
        self.input.drain(..count);
        count
    }
}

/// Poll for `millis` of virtual time, sleeping 1 ms between polls.
fn poll_for(session: &mut Session<Wire, NoClock>, terminal: &mut Terminal, millis: u64) {
    let end = now_micros(session) + millis * 1000;
    while now_micros(session) < end {
        let now = now_micros(session);
        session.rtt_poll(now, terminal);
        sleep(session, 1000);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn text_flows_up_and_input_is_echoed_while_the_target_runs() {
    let mut session = running();
    session.rtt.enable(true);
    let mut terminal = Terminal::default();
    poll_for(&mut session, &mut terminal, 60);
    assert_eq!(
        session.rtt.found,
        Found::At(symbol("rtt_control_block")),
        "{:?}",
        session.rtt
    );
    let up = text(&terminal.up);
    assert!(up.contains("rtt: counter "), "{up:?}");
    // Every line is whole: counter lines count up by the firmware's period.
    let counters: Vec<u32> = up
        .lines()
        .filter_map(|line| line.strip_prefix("rtt: counter "))
        .map(|number| number.parse().unwrap())
        .collect();
    assert!(counters.len() >= 2, "{up:?}");
    assert!(counters.windows(2).all(|pair| pair[1] > pair[0]));
    // The target ran all along.
    assert_eq!(session.halt_poll().unwrap(), debug::HaltStatus::Running);

    terminal.input.extend_from_slice(b"ping from the host\n");
    poll_for(&mut session, &mut terminal, 30);
    assert!(terminal.input.is_empty());
    assert!(
        text(&terminal.up).contains("echo: ping from the host\n"),
        "{}",
        text(&terminal.up)
    );
    assert!(session.rtt.counters.down_bytes >= 19);
    assert_eq!(session.rtt.corruption, None);
}

#[test]
fn a_reset_mid_session_finds_the_block_again() {
    let mut session = running();
    session.rtt.enable(true);
    let mut terminal = Terminal::default();
    poll_for(&mut session, &mut terminal, 30);
    assert!(matches!(session.rtt.found, Found::At(_)));
    let searches = session.rtt.counters.searches;
    // A reset that lets the program run on: RAM's .bss (and the block) is cleared by the
    // start-up code, then rtt_init() writes it again.
    session.reset(false).unwrap();
    terminal.up.clear();
    poll_for(&mut session, &mut terminal, 60);
    assert!(matches!(session.rtt.found, Found::At(_)));
    assert!(session.rtt.counters.searches > searches);
    let up = text(&terminal.up);
    assert!(up.contains("rtt: counter "), "{up:?}");
}

#[test]
fn a_corrupt_descriptor_is_reported_and_not_followed() {
    let mut session = running();
    session.rtt.enable(true);
    let mut terminal = Terminal::default();
    poll_for(&mut session, &mut terminal, 30);
    let block = symbol("rtt_control_block");
    // Up channel 0's size: far past RAM.
    session.halt_request().unwrap();
    session
        .write_memory(block + 24 + 8, &0x0100_0000u32.to_le_bytes())
        .unwrap();
    session.resume(false).unwrap();
    terminal.up.clear();
    poll_for(&mut session, &mut terminal, 30);
    assert!(
        matches!(
            session.rtt.corruption,
            Some(Corruption::BufferOutsideRam { channel: 0, .. })
        ),
        "{:?}",
        session.rtt.corruption
    );
    assert!(terminal.up.is_empty());
    assert!(session.rtt.config.enabled);
}
