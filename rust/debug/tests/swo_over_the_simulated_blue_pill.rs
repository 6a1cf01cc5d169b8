//! SWO end to end in the simulator: a debugger (the engine) sets up DEMCR.TRCENA, the TPIU
//! (NRZ or Manchester, prescaler) and the ITM as OpenOCD's `tpiu`/`itm` commands do; the
//! test firmware's own ITM writes leave the simulated chip as SWO bytes at the configured
//! rate, and debug::itm decodes its text from them.

use adi::Clock;
use debug::Session;
use debug::itm::{Item, ItmDecoder, SwoDecoder};
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

const DEMCR: u32 = 0xE000_EDFC;
const DEMCR_TRCENA: u32 = 1 << 24;
const TPIU_ACPR: u32 = 0xE004_0010;
const TPIU_SPPR: u32 = 0xE004_00F0;
const TPIU_FFCR: u32 = 0xE004_0304;
const ITM_LAR: u32 = 0xE000_0FB0;
const ITM_TCR: u32 = 0xE000_0E80;
const ITM_TER: u32 = 0xE000_0E00;

fn firmware() -> Vec<u8> {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    let top = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    BUILT.get_or_init(|| {
        let status = std::process::Command::new("make")
            .args(["-s", "-C"])
            .arg(top.join("tests/firmware"))
            .arg(format!("BUILD={}", top.join("build/firmware").display()))
            .status()
            .expect("make runs");
        assert!(status.success(), "building the test firmware failed");
    });
    std::fs::read(top.join("build/firmware/firmware.elf")).expect("firmware.elf")
}

fn write_word(session: &mut Session<Wire, NoClock>, address: u32, value: u32) {
    session
        .write_memory(address, &value.to_le_bytes())
        .expect("write");
}

/// The firmware running with SWO set up: `protocol` 1 Manchester, 2 NRZ.
fn running_with_swo(protocol: u32, prescaler: u32) -> Session<Wire, NoClock> {
    // Formatter off, as for SWO; TraceBusID 1, ITMENA.
    running_with(protocol, prescaler, 0x100, 1 << 16 | 1)
}

/// The firmware running with SWO set up: TPIU_FFCR `formatter`, ITM_TCR `control`.
fn running_with(
    protocol: u32,
    prescaler: u32,
    formatter: u32,
    control: u32,
) -> Session<Wire, NoClock> {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    chip.load_image(&firmware()).expect("loads");
    let mut sim = Sim::new(chip);
    sim.set_frequency(4_000_000);
    let mut swd = Swd::new(sim);
    swd.switch_from_jtag();
    let mut session = Session::new();
    session.scan(swd, NoClock).unwrap().count();
    session.attach(1).unwrap();
    let mut demcr = [0u8; 4];
    session.read_memory(DEMCR, &mut demcr).unwrap();
    write_word(
        &mut session,
        DEMCR,
        u32::from_le_bytes(demcr) | DEMCR_TRCENA,
    );
    write_word(&mut session, TPIU_SPPR, protocol);
    write_word(&mut session, TPIU_ACPR, prescaler);
    write_word(&mut session, TPIU_FFCR, formatter);
    write_word(&mut session, ITM_LAR, 0xC5AC_CE55);
    write_word(&mut session, ITM_TCR, control);
    write_word(&mut session, ITM_TER, 1);
    session.resume(false).unwrap();
    session
}

/// Let `millis` of virtual time pass; the SWO bytes that left the chip meanwhile.
fn capture(session: &mut Session<Wire, NoClock>, millis: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    for _ in 0..millis {
        session.with_transport(|swd| {
            swd.pins().idle(1_000_000);
            swd.pins().bus_mut().take_swo(&mut bytes);
        });
    }
    bytes
}

fn decode(bytes: &[u8]) -> String {
    let mut decoder = ItmDecoder::new();
    let text: Vec<u8> = bytes
        .iter()
        .filter_map(|&byte| decoder.feed(byte))
        .map(|(port, byte)| {
            assert_eq!(port, 0);
            byte
        })
        .collect();
    String::from_utf8_lossy(&text).into_owned()
}

/// The numbers of the whole `itm: counter N` lines of `text`.
fn counters(text: &str) -> Vec<u32> {
    text.lines()
        .filter_map(|line| line.strip_prefix("itm: counter "))
        .filter_map(|number| number.parse().ok())
        .collect()
}

#[test]
fn the_firmwares_itm_text_leaves_on_swo_as_nrz() {
    // 72 MHz / (35 + 1) = 2 Mbit/s.
    let mut session = running_with_swo(2, 35);
    let bytes = capture(&mut session, 60);
    let text = decode(&bytes);
    assert!(text.contains("itm: counter "), "{text:?} from {bytes:02X?}");
    let counters = counters(&text);
    assert!(counters.len() >= 2, "{text:?}");
    assert!(counters.windows(2).all(|pair| pair[1] > pair[0]));
    let mut rate = (0, false);
    session.with_transport(|swd| rate = swd.pins().bus().swo_rate());
    assert_eq!(rate, (2_000_000, true));
}

#[test]
fn formatted_frames_with_timestamps_and_synchronization_decode_to_the_same_text() {
    // Formatter on (EnFCont, as OpenOCD's `-formatter 1`); ITM_TCR: TraceBusID 1,
    // SYNCENA, TSENA, ITMENA.
    let mut session = running_with(2, 35, 0x102, 1 << 16 | 0b111);
    let bytes = capture(&mut session, 60);
    assert_eq!(&bytes[..4], [0xFF, 0xFF, 0xFF, 0x7F], "{bytes:02X?}");
    let mut decoder = SwoDecoder::new();
    let (mut text, mut timestamps, mut synchronizations) = (Vec::new(), 0, 0);
    for &byte in &bytes {
        decoder.feed(byte, &mut |item| match item {
            Item::Data { port: 0, byte } => text.push(byte),
            Item::Timestamp(_) => timestamps += 1,
            Item::Synchronization => synchronizations += 1,
            other => panic!("{other:?}"),
        });
    }
    assert!(decoder.framed());
    let text = String::from_utf8_lossy(&text);
    let counters = counters(&text);
    assert!(counters.len() >= 2, "{text:?}");
    assert!(timestamps > 0 && synchronizations > 0);
    // Plain ITM decoding of the framed stream does not give the text.
    let mut plain = ItmDecoder::new();
    let garbled: Vec<u8> = bytes
        .iter()
        .filter_map(|&b| plain.feed(b))
        .map(|(_, b)| b)
        .collect();
    assert!(!String::from_utf8_lossy(&garbled).contains("itm: counter "));
}

#[test]
fn manchester_at_a_slow_rate_delivers_the_same_text_later() {
    // 72 MHz / (719 + 1) = 100 kbit/s: a 20-byte line (40 SWO bytes) takes 3.2 ms.
    let mut session = running_with_swo(1, 719);
    let bytes = capture(&mut session, 60);
    let text = decode(&bytes);
    assert!(text.contains("itm: counter "), "{text:?}");
}

#[test]
fn nothing_leaves_while_the_itm_is_off() {
    let mut session = running_with_swo(2, 35);
    session.halt_request().unwrap();
    write_word(&mut session, ITM_TCR, 0);
    session.resume(false).unwrap();
    capture(&mut session, 5); // what was on the line already
    assert!(capture(&mut session, 40).is_empty());
}
