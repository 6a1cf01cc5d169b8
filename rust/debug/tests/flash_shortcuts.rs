//! The flash shortcuts against the simulated STM32F103C8 (64 KiB, 1 KiB pages), over SWD:
//! the CRC routine on the target's core, skipping unchanged and erased pages, mass erase,
//! and the fall back to reading back. After every kind of load the flash must hold exactly
//! the image (the pages the request covered) and what was there before (the others).

use adi::Clock;
use debug::crc::{Fallback, GDB_CRC, Method};
use debug::{FlashReport, HaltReason, HaltStatus, Session};
use sim::chip::{Chip, Variant};
use sim::{FaultConfig, Sim};
use std::path::Path;
use wire::Pins;
use wire::swd::Swd;

type Wire = Swd<Sim<Chip>>;

const FLASH: u32 = 0x0800_0000;
const FLASH_SIZE: usize = 64 * 1024;
const PAGE: usize = 1024;

/// The probe's clock, at a tenth of the host's: the engine's time limits (WAIT retries,
/// flash busy) are set for a target in real time, and the simulator in a debug build on a
/// busy machine runs the target far slower than that.
struct HostClock(std::time::Instant);

impl Clock for HostClock {
    fn now_micros(&mut self) -> u64 {
        self.0.elapsed().as_micros() as u64 / 10
    }
}

fn scanned(session: &mut Session<Wire, HostClock>, sim: Sim<Chip>) {
    let mut swd = Swd::new(sim);
    swd.switch_from_jtag();
    let clock = HostClock(std::time::Instant::now());
    assert_eq!(session.scan(swd, clock).unwrap().count(), 1);
    session.attach(1).unwrap();
}

fn attached() -> Session<Wire, HostClock> {
    let mut sim = Sim::new(Chip::new(Variant::Stm32f103c8));
    sim.set_real_time(false);
    sim.set_frequency(4_000_000);
    let mut session = Session::new();
    // The routine's time limit is on the probe's clock, here the host's: a debug build
    // on a busy machine can take far longer than the default allows.
    session.set_crc_options(true, Some(LONG_TIMEOUT_MICROS));
    scanned(&mut session, sim);
    session
}

const LONG_TIMEOUT_MICROS: u64 = 60_000_000;

fn with_sim<R>(session: &mut Session<Wire, HostClock>, work: impl FnOnce(&mut Sim<Chip>) -> R) {
    let mut work = Some(work);
    session.with_transport(|swd| {
        (work.take().unwrap())(swd.pins());
    });
}

fn now_ns(session: &mut Session<Wire, HostClock>) -> u64 {
    let mut now = 0;
    session.with_transport(|swd| now = swd.pins().now_ns());
    now
}

/// Pseudo-random bytes (xorshift), never a run of 0xFF half-words by accident.
fn random(seed: u32, length: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 8) as u8
        })
        .collect()
}

/// A load as GDB does it: erase the pages the image touches, write in 4 KiB pieces, done.
fn load(session: &mut Session<Wire, HostClock>, address: u32, image: &[u8]) -> FlashReport {
    let before = session.flash_report().unwrap();
    let start = address & !(PAGE as u32 - 1);
    let end = (address as usize + image.len()).div_ceil(PAGE) * PAGE;
    session.flash_erase(start, end as u32 - start).unwrap();
    for (index, piece) in image.chunks(4096).enumerate() {
        session
            .flash_write(address + (index * 4096) as u32, piece)
            .unwrap();
    }
    session.flash_done().unwrap();
    let after = session.flash_report().unwrap();
    FlashReport {
        unchanged: after.unchanged - before.unchanged,
        erased: after.erased - before.erased,
        mass_erases: after.mass_erases - before.mass_erases,
        programmed: after.programmed - before.programmed,
        method: after.method,
    }
}

/// What the flash should hold after loading `image` at `address` over `flash`: the pages
/// the image touches are erased, then the image written.
fn expect(flash: &mut [u8], address: u32, image: &[u8]) {
    let offset = (address - FLASH) as usize;
    let start = offset / PAGE * PAGE;
    let end = (offset + image.len()).div_ceil(PAGE) * PAGE;
    flash[start..end].fill(0xFF);
    flash[offset..offset + image.len()].copy_from_slice(image);
}

fn check(session: &mut Session<Wire, HostClock>, flash: &[u8]) {
    let mut back = vec![0; FLASH_SIZE];
    session.read_memory(FLASH, &mut back).unwrap();
    let first_difference = back.iter().zip(flash).position(|(a, b)| a != b);
    assert_eq!(first_difference, None, "flash differs from what was loaded");
    // compare-sections: qCRC of the whole flash, on the target.
    let (crc, method) = session.crc32(FLASH, FLASH_SIZE as u32).unwrap();
    assert_eq!(method, Method::Target);
    assert_eq!(crc, GDB_CRC.checksum(flash));
}

fn report(unchanged: u32, erased: u32, mass_erases: u32, programmed: u32) -> FlashReport {
    FlashReport {
        unchanged,
        erased,
        mass_erases,
        programmed,
        method: Some(Method::Target),
    }
}

/// GDB's numbers of the registers the CRC routine uses: r0-r7, PC, xPSR.
const ROUTINE_REGISTERS: [usize; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 15, 16];

/// r0-r7 set to values of their own; all the routine's registers as they are then.
fn distinct_registers(session: &mut Session<Wire, HostClock>) -> Vec<u32> {
    for number in 0..8 {
        let value = 0x1111_1111 * (number as u32 + 1);
        session.write_register(number, value).unwrap();
    }
    registers_now(session)
}

fn registers_now(session: &mut Session<Wire, HostClock>) -> Vec<u32> {
    let read = |&number| session.read_register(number).unwrap();
    ROUTINE_REGISTERS.iter().map(read).collect()
}

#[test]
fn crc_on_the_target_matches_and_leaves_ram_and_registers_as_they_were() {
    let mut session = attached();
    let data = random(7, 20 * 1024); // the whole SRAM: the work area is over it
    session.write_memory(0x2000_0000, &data).unwrap();
    let registers = distinct_registers(&mut session);
    // Any alignment and length, the work area itself included (it is saved first); up to
    // 16 KiB with the routine's 16-entry table, longer runs with the 1 KiB one it builds.
    let (small, large) = ((2, 16 * 1024), (0, 18 * 1024));
    for (offset, length) in [(0, 3000), (1, 2047), (3, 1), (100, 0), small, large] {
        let (crc, method) = session.crc32(0x2000_0000 + offset, length).unwrap();
        assert_eq!(method, Method::Target);
        let range = offset as usize..(offset + length) as usize;
        assert_eq!(crc, GDB_CRC.checksum(&data[range]), "{offset} {length}");
    }
    let mut back = vec![0; data.len()];
    session.read_memory(0x2000_0000, &mut back).unwrap();
    assert_eq!(back, data);
    assert_eq!(registers_now(&mut session), registers);
    assert!(matches!(
        session.halt_poll().unwrap(),
        HaltStatus::Halted(_)
    ));
}

/// A run over more than 16 KiB whose sampled first word is erased takes the 16-entry
/// table (crc.rs `likely_written`): 17 KiB erased then 1 KiB of data, its CRC right.
#[test]
fn a_long_mostly_erased_run_with_the_small_table_matches() {
    let mut session = attached();
    let mut data = vec![0xFF; 18 * 1024];
    data[17 * 1024..].copy_from_slice(&random(11, 1024));
    session.write_memory(0x2000_0000, &data).unwrap();
    let (crc, method) = session.crc32(0x2000_0000, data.len() as u32).unwrap();
    assert_eq!(method, Method::Target);
    assert_eq!(crc, GDB_CRC.checksum(&data));
    let mut back = vec![0; data.len()];
    session.read_memory(0x2000_0000, &mut back).unwrap();
    assert_eq!(back, data);
}

/// Erased words are recognised a word at a time: a word-aligned block of 0xFFFFFFFF gets the
/// erased CRC (from the scan, several times faster than the bytes' CRC); one byte that is
/// not 0xFF anywhere in it, or a block that is not word-aligned, gets the bytes' CRC.
#[test]
fn crc_of_erased_words_comes_from_the_scan_and_matches() {
    let mut session = attached();
    let mut erased = vec![0xFF; 8 * 1024];
    session.write_memory(0x2000_1000, &erased).unwrap();
    let time = |session: &mut Session<Wire, HostClock>, offset: u32, length: u32| {
        let start = now_ns(session);
        let (crc, method) = session.crc32(0x2000_1000 + offset, length).unwrap();
        assert_eq!(method, Method::Target);
        (crc, now_ns(session) - start)
    };
    let (crc, scanned_ns) = time(&mut session, 0, 8 * 1024);
    assert_eq!(crc, GDB_CRC.checksum(&erased));
    for (offset, length) in [(1, 4096), (0, 4095), (2, 6), (4, 0)] {
        let range = offset as usize..(offset + length) as usize;
        let (crc, _) = time(&mut session, offset, length);
        assert_eq!(crc, GDB_CRC.checksum(&erased[range]), "{offset} {length}");
    }
    for at in [0, 4093, 8 * 1024 - 1] {
        erased[at] = 0xFE;
        session.write_memory(0x2000_1000, &erased).unwrap();
        let (crc, bytes_ns) = time(&mut session, 0, 8 * 1024);
        assert_eq!(crc, GDB_CRC.checksum(&erased), "0xFE at {at}");
        // The run itself: 8 KiB of bytes (16 instructions each with the 16-entry table)
        // against a word scan (5 a word), at the simulated core's 72 MHz: over 0.5 ms
        // apart (the rest is the same).
        assert!(
            bytes_ns > scanned_ns + 500_000,
            "{bytes_ns} ns, scan {scanned_ns} ns"
        );
        erased[at] = 0xFF;
    }
}

#[test]
fn every_kind_of_load_leaves_exactly_the_image() {
    let mut session = attached();
    let mut flash = vec![0xFF; FLASH_SIZE];
    let pages = (FLASH_SIZE / PAGE) as u32;

    // New image into erased flash: nothing to erase, every page programmed.
    let first = random(1, FLASH_SIZE);
    assert_eq!(load(&mut session, FLASH, &first), report(0, 0, 0, pages));
    expect(&mut flash, FLASH, &first);
    check(&mut session, &flash);

    // The same image again: nothing erased or programmed.
    let start = now_ns(&mut session);
    assert_eq!(load(&mut session, FLASH, &first), report(pages, 0, 0, 0));
    let unchanged_ns = now_ns(&mut session) - start;
    assert!(unchanged_ns < 50_000_000, "{unchanged_ns} ns");
    check(&mut session, &flash);

    // A new image over an old one: one mass erase.
    let second = random(2, FLASH_SIZE);
    let start = now_ns(&mut session);
    assert_eq!(load(&mut session, FLASH, &second), report(0, 0, 1, pages));
    let new_ns = now_ns(&mut session) - start;
    assert!(new_ns < 1_850_000_000, "{new_ns} ns");
    expect(&mut flash, FLASH, &second);
    check(&mut session, &flash);

    // One function changed: only its page.
    let mut third = second.clone();
    third[30_000..30_040].copy_from_slice(&random(3, 40));
    assert_eq!(
        load(&mut session, FLASH, &third),
        report(pages - 1, 1, 0, 1)
    );
    expect(&mut flash, FLASH, &third);
    check(&mut session, &flash);

    // A change in the first page: no mass erase once a later page matches? The first
    // page differs and comes first, so a mass erase is chosen, and everything programmed.
    let mut fourth = third.clone();
    fourth[10] ^= 0x5A;
    assert_eq!(load(&mut session, FLASH, &fourth), report(0, 0, 1, pages));
    expect(&mut flash, FLASH, &fourth);
    check(&mut session, &flash);

    // A smaller image (10.5 KiB): its 11 pages are erased and written, the rest stays.
    let small = random(4, 10 * 1024 + 512);
    assert_eq!(load(&mut session, FLASH, &small), report(0, 11, 0, 11));
    expect(&mut flash, FLASH, &small);
    check(&mut session, &flash);

    // An image in a different place, not page aligned, over old and erased pages.
    let elsewhere = random(5, 5000);
    let report_elsewhere = load(&mut session, FLASH + 0x8100, &elsewhere);
    assert_eq!(report_elsewhere.unchanged, 0);
    assert_eq!(report_elsewhere.programmed, 6);
    assert_eq!(report_elsewhere.mass_erases, 0);
    expect(&mut flash, FLASH + 0x8100, &elsewhere);
    check(&mut session, &flash);

    // Erased units are never programmed: an image of erased value costs no programming.
    let blank = vec![0xFF; 4096];
    let blank_report = load(&mut session, FLASH + 0xC000, &blank);
    assert_eq!(blank_report.mass_erases, 0);
    expect(&mut flash, FLASH + 0xC000, &blank);
    check(&mut session, &flash);
}

#[test]
fn the_loaded_program_runs() {
    let mut session = attached();
    let firmware = firmware();
    // Something else first, then the firmware over it, then the firmware again.
    load(&mut session, FLASH, &random(9, 8192));
    load(&mut session, FLASH, &firmware);
    assert_eq!(load(&mut session, FLASH, &firmware).programmed, 0);
    session.reset(true).unwrap();
    let blink_step = symbol("blink_step");
    session
        .set_breakwatch(debug::BreakWatch::Hardware, blink_step, 2)
        .unwrap();
    session.resume(false).unwrap();
    let mut reason = None;
    for _ in 0..100_000 {
        if let HaltStatus::Halted(halt) = session.halt_poll().unwrap() {
            reason = Some(halt);
            break;
        }
    }
    assert!(matches!(reason, Some(HaltReason::Breakpoint { .. })));
    assert_eq!(session.read_register(15).unwrap() & !1, blink_step & !1);
}

#[test]
fn a_routine_out_of_time_is_halted_and_the_flash_read_back() {
    let mut session = attached();
    let image = random(11, 8192);
    load(&mut session, FLASH, &image);
    let registers = distinct_registers(&mut session);
    session.set_crc_options(true, Some(1));
    let (crc, method) = session.crc32(FLASH, 8192).unwrap();
    assert_eq!(method, Method::ReadBack(Fallback::Timeout));
    assert_eq!(crc, GDB_CRC.checksum(&image));
    assert!(matches!(
        session.halt_poll().unwrap(),
        HaltStatus::Halted(_)
    ));
    assert_eq!(registers_now(&mut session), registers);
    // The load still skips what is there, by reading back.
    let again = load(&mut session, FLASH, &image);
    assert_eq!(again.unchanged, 8);
    assert_eq!(again.method, Some(Method::ReadBack(Fallback::Timeout)));
    session.set_crc_options(true, Some(LONG_TIMEOUT_MICROS));
    assert_eq!(session.crc32(FLASH, 8192).unwrap().1, Method::Target);
}

#[test]
fn a_running_or_locked_up_core_is_read_back() {
    let mut session = attached();
    load(&mut session, FLASH, &firmware());
    session.reset(true).unwrap();
    session.resume(false).unwrap();
    let (_, method) = session.crc32(FLASH, 1024).unwrap();
    assert_eq!(method, Method::ReadBack(Fallback::Running));
    session.halt_request().unwrap();
    while session.halt_poll().unwrap() == HaltStatus::Running {}
    // An undefined instruction locks the core up in the simulator (no exceptions there).
    session.write_memory(0x2000_1000, &[0xFF, 0xDE]).unwrap();
    session.write_register(15, 0x2000_1000).unwrap();
    session.resume(false).unwrap();
    let (crc, method) = session.crc32(FLASH, 1024).unwrap();
    assert_eq!(method, Method::ReadBack(Fallback::LockedUp));
    let mut page = vec![0; 1024];
    session.read_memory(FLASH, &mut page).unwrap();
    assert_eq!(crc, GDB_CRC.checksum(&page));
}

/// A power loss during a CRC run or a mass erase fails with a clear error; after power
/// returns, a scan, an attach and the next load succeed.
#[test]
fn power_loss_during_a_crc_run_or_a_mass_erase() {
    let mut session = attached();
    let image = random(12, FLASH_SIZE);
    load(&mut session, FLASH, &image);
    for step in ["crc", "mass erase"] {
        let faults = FaultConfig {
            seed: 5,
            power_off: 0.05,
            power_off_ns: 5_000_000,
            ..FaultConfig::default()
        };
        with_sim(&mut session, |sim| sim.set_faults(faults));
        let error = match step {
            "crc" => session.crc32(FLASH, FLASH_SIZE as u32).map(|_| ()),
            _ => session.flash_mass_erase(),
        }
        .unwrap_err();
        assert!(!error.to_string().is_empty());
        with_sim(&mut session, |sim| {
            sim.set_faults(FaultConfig::default());
            sim.idle(10_000_000);
        });
        // The session as it is: its next operation reconnects.
        let other = random(13, FLASH_SIZE);
        load(&mut session, FLASH, &other);
        let mut flash = vec![0xFF; FLASH_SIZE];
        expect(&mut flash, FLASH, &other);
        check(&mut session, &flash);
        load(&mut session, FLASH, &image);
        let reconnected = session.reconnected().unwrap();
        assert_eq!(reconnected.dpidr, STM32F103_DPIDR);
        assert_eq!(
            reconnected.to_string(),
            "target power was lost; the probe reconnected (DPIDR 0x1ba01477)"
        );
    }
}

const STM32F103_DPIDR: u32 = 0x1BA0_1477;

/// Power lost and back between two operations (the DP speaks JTAG after power-up, the
/// core runs from reset, the FPB is cleared).
fn power_cycle(session: &mut Session<Wire, HostClock>) {
    with_sim(session, |sim| {
        sim.set_power(false);
        sim.idle(1_000_000);
        sim.set_power(true);
        sim.idle(10_000_000);
    });
}

/// A power cycle between operations: the next memory read, and the next load, reconnect
/// and succeed without an error.
#[test]
fn after_a_power_cycle_between_operations_the_next_ones_succeed() {
    let mut session = attached();
    let image = random(17, 4 * PAGE);
    load(&mut session, FLASH, &image);
    power_cycle(&mut session);
    let mut back = vec![0; image.len()];
    session.read_memory(FLASH, &mut back).unwrap();
    assert_eq!(back, image);
    assert_eq!(session.reconnected().unwrap().dpidr, STM32F103_DPIDR);
    power_cycle(&mut session);
    let other = random(18, 4 * PAGE);
    load(&mut session, FLASH, &other);
    let mut flash = vec![0xFF; FLASH_SIZE];
    expect(&mut flash, FLASH, &other);
    check(&mut session, &flash);
}

/// Flash work buffered when the power was lost is never reported done: a register read
/// between its calls meets the lost link (and is not repeated, flash work being under
/// way), the load's end then says the work was dropped, and a load after it succeeds.
#[test]
fn flash_work_under_way_at_a_power_loss_is_not_reported_done() {
    let mut session = attached();
    session.flash_erase(FLASH, PAGE as u32).unwrap();
    session.flash_write(FLASH, &random(19, 100)).unwrap();
    power_cycle(&mut session);
    session.read_register(15).unwrap_err();
    let error = session.flash_done().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("dropped the work under way: load again"),
        "{error}"
    );
    let image = random(20, 2 * PAGE);
    load(&mut session, FLASH, &image);
    let mut flash = vec![0xFF; FLASH_SIZE];
    expect(&mut flash, FLASH, &image);
    check(&mut session, &flash);
}

/// After a power loss, another target on the wire (the clone, DPIDR 0x2BA01477) is
/// refused, every time, and nothing is done to it.
#[test]
fn a_reconnect_to_a_different_target_is_refused() {
    let mut session = attached();
    with_sim(&mut session, |sim| {
        *sim = Sim::new(Chip::new(Variant::Cks32f103c8));
        sim.set_real_time(false);
        sim.set_frequency(4_000_000);
    });
    let mut word = [0; 4];
    session.read_memory(FLASH, &mut word).unwrap_err();
    for _ in 0..2 {
        let error = session.read_memory(FLASH, &mut word).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("a different target answers now (DPIDR 0x2ba01477"),
            "{error}"
        );
        assert!(session.flash_erase(FLASH, PAGE as u32).is_err());
    }
    assert_eq!(session.reconnected(), None);
}

/// After a power loss the reconnect halts the core and arms its hardware breakpoints
/// again (the FPB lost them): the program stops at one.
#[test]
fn breakpoints_are_armed_again_after_a_reconnect() {
    let mut session = attached();
    // Vector table (SP, reset at 0x08000008 | Thumb), then nop; nop; b .
    let program = [
        0x00, 0x50, 0x00, 0x20, 0x09, 0x00, 0x00, 0x08, 0x00, 0xBF, 0x00, 0xBF, 0xFE, 0xE7,
    ];
    session.flash_erase(FLASH, PAGE as u32).unwrap();
    session.flash_write(FLASH, &program).unwrap();
    session.flash_done().unwrap();
    let breakpoint = FLASH + 10;
    session
        .set_breakwatch(debug::BreakWatch::Hardware, breakpoint, 2)
        .unwrap();
    power_cycle(&mut session);
    session.reset(true).unwrap();
    assert_eq!(session.reconnected().unwrap().dpidr, STM32F103_DPIDR);
    session.resume(false).unwrap();
    let status = (0..1000)
        .map(|_| session.halt_poll().unwrap())
        .find(|status| *status != HaltStatus::Running);
    assert_eq!(
        status,
        Some(HaltStatus::Halted(HaltReason::Breakpoint {
            address: breakpoint
        }))
    );
    assert_eq!(session.read_register(15).unwrap(), breakpoint);
}

/// Bus faults (STICKYERR, FAULT answers) during a CRC run and during a load, too many for
/// the retries of transient faults (every other AP transaction), fail with a clear error;
/// without them the next CRC and load succeed, no scan needed.
#[test]
fn bus_faults_during_a_crc_run_or_a_load() {
    let mut session = attached();
    let image = random(15, 8192);
    load(&mut session, FLASH, &image);
    for (step, seed) in [("crc", 3), ("load", 4)] {
        let faults = FaultConfig {
            seed,
            fault: 0.5,
            ..FaultConfig::default()
        };
        with_sim(&mut session, |sim| sim.set_faults(faults));
        let other = random(16, 8192);
        let error = match step {
            "crc" => session.crc32(FLASH, 8192).map(|_| ()),
            _ => session
                .flash_erase(FLASH, 8192)
                .and_then(|()| session.flash_write(FLASH, &other))
                .and_then(|()| session.flash_done()),
        }
        .unwrap_err();
        assert!(error.to_string().contains("error"), "{step}: {error}");
        with_sim(&mut session, |sim| sim.set_faults(FaultConfig::default()));
        let (crc, method) = session.crc32(FLASH, 8192).unwrap();
        assert_eq!(method, Method::Target);
        let mut flash = vec![0; FLASH_SIZE];
        session.read_memory(FLASH, &mut flash).unwrap();
        assert_eq!(crc, GDB_CRC.checksum(&flash[..8192]));
        load(&mut session, FLASH, &other);
        expect(&mut flash, FLASH, &other);
        check(&mut session, &flash);
    }
}

#[test]
fn without_free_ram_or_when_turned_off_the_flash_is_read_back() {
    let mut session = attached();
    session.set_crc_options(false, None);
    let image = random(14, 4096);
    load(&mut session, FLASH, &image);
    let again = load(&mut session, FLASH, &image);
    assert_eq!(again.unchanged, 4);
    assert_eq!(again.method, Some(Method::ReadBack(Fallback::Disabled)));
    session.set_crc_options(true, Some(LONG_TIMEOUT_MICROS));
    assert_eq!(
        session.crc32(0x2000_0000, 0).unwrap().1,
        Method::Target,
        "an empty range is still a CRC"
    );
}

fn firmware() -> Vec<u8> {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    BUILT.get_or_init(|| {
        let status = std::process::Command::new("make")
            .args(["-s", "-C"])
            .arg(top.join("tests/firmware"))
            .arg(format!("BUILD={}", top.join("build/firmware").display()))
            .status()
            .expect("make runs");
        assert!(status.success(), "building the test firmware failed");
    });
    std::fs::read(top.join("build/firmware/firmware.bin")).expect("firmware.bin")
}

fn symbol(name: &str) -> u32 {
    firmware();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../build/firmware/firmware.nm");
    let listing = std::fs::read_to_string(path).expect("firmware.nm");
    listing
        .lines()
        .find_map(|line| {
            let fields: Vec<_> = line.split_whitespace().collect();
            (fields.len() == 3 && fields[2] == name)
                .then(|| u32::from_str_radix(fields[0], 16).unwrap())
        })
        .expect("symbol in firmware.nm")
}

/// Issue 15: transient wire faults during a load (injected FAULT answers, at 2e-3 per
/// transaction) are recovered from: reads and SRAM writes are run again by adi, flash
/// programming goes on from the first half-word still erased (never programming one
/// twice), and the flash holds exactly the image.
#[test]
fn a_load_survives_transient_faults() {
    let mut session = attached();
    let image = random(21, 8 * PAGE);
    let faults = FaultConfig {
        seed: 3,
        fault: 2e-3,
        ..FaultConfig::default()
    };
    with_sim(&mut session, |sim| sim.set_faults(faults));
    load(&mut session, FLASH, &image);
    let mut injected = 0;
    with_sim(&mut session, |sim| {
        injected = sim.statistics().fault;
        sim.set_faults(FaultConfig::default());
    });
    assert!(
        injected > 5,
        "only {injected} faults: the test proves nothing"
    );
    let mut flash = vec![0xFF; FLASH_SIZE];
    expect(&mut flash, FLASH, &image);
    check(&mut session, &flash);
}

/// A load of `sections` (address, bytes) as GDB does it (target-memory.c): one erase
/// request per run of touched pages, all of them before the first write, then the
/// sections in address order, then done.
fn load_sections(session: &mut Session<Wire, HostClock>, sections: &[(u32, &[u8])]) -> FlashReport {
    let before = session.flash_report().unwrap();
    let mut requests: Vec<(u32, u32)> = Vec::new();
    for &(address, bytes) in sections {
        let start = address & !(PAGE as u32 - 1);
        let end = (address as usize + bytes.len()).div_ceil(PAGE) as u32 * PAGE as u32;
        match requests.last_mut() {
            Some(last) if last.1 >= start => last.1 = end,
            _ => requests.push((start, end)),
        }
    }
    for (start, end) in requests {
        session.flash_erase(start, end - start).unwrap();
    }
    for &(address, bytes) in sections {
        session.flash_write(address, bytes).unwrap();
    }
    session.flash_done().unwrap();
    let after = session.flash_report().unwrap();
    FlashReport {
        unchanged: after.unchanged - before.unchanged,
        erased: after.erased - before.erased,
        mass_erases: after.mass_erases - before.mass_erases,
        programmed: after.programmed - before.programmed,
        method: after.method,
    }
}

/// An image in two pieces with a gap (code at the start, a table near the end): GDB asks
/// for both erases before any data. The unchanged image is left alone in both pieces; a
/// change in one piece reprograms only its page.
#[test]
fn an_image_in_two_pieces_is_left_alone_when_unchanged() {
    let mut session = attached();
    let mut flash = vec![0xFF; FLASH_SIZE];
    let code = random(31, 4 * PAGE + 100);
    let table = random(32, 700);
    let table_at = FLASH + 0xF000;
    load(&mut session, FLASH, &random(33, FLASH_SIZE));
    expect(&mut flash, FLASH, &random(33, FLASH_SIZE));
    let first = load_sections(&mut session, &[(FLASH, &code), (table_at, &table)]);
    assert_eq!(first.unchanged, 0);
    expect(&mut flash, FLASH, &code);
    expect(&mut flash, table_at, &table);
    check(&mut session, &flash);

    let again = load_sections(&mut session, &[(FLASH, &code), (table_at, &table)]);
    assert_eq!(again, report(6, 0, 0, 0));
    check(&mut session, &flash);

    let mut changed = code.clone();
    changed[2 * PAGE + 7] ^= 0x81;
    let one = load_sections(&mut session, &[(FLASH, &changed), (table_at, &table)]);
    assert_eq!(one, report(5, 1, 0, 1));
    expect(&mut flash, FLASH, &changed);
    check(&mut session, &flash);
}

/// Writes within one erase request in any order (a script writing an Intel HEX file's
/// records as they come): the flash ends up holding exactly what was written.
#[test]
fn writes_out_of_address_order_leave_exactly_the_image() {
    let mut session = attached();
    let mut flash = vec![0xFF; FLASH_SIZE];
    load(&mut session, FLASH, &random(41, 4 * PAGE));
    expect(&mut flash, FLASH, &random(41, 4 * PAGE));
    let image = random(42, 4 * PAGE);
    // Page 0 in two parts split at an odd address, page 1 between them; page 2 after 3.
    let split = 301;
    let pieces: [(usize, usize); 5] = [
        (0, split),
        (PAGE, 2 * PAGE),
        (split, PAGE),
        (3 * PAGE, 4 * PAGE),
        (2 * PAGE, 3 * PAGE),
    ];
    for round in 0..2 {
        session.flash_erase(FLASH, 4 * PAGE as u32).unwrap();
        for (start, end) in pieces {
            session
                .flash_write(FLASH + start as u32, &image[start..end])
                .unwrap_or_else(|error| panic!("round {round}, {start:#x}: {error:?}"));
        }
        session.flash_done().unwrap();
        expect(&mut flash, FLASH, &image);
        check(&mut session, &flash);
    }
    // A page the CRC found unchanged, then written again in the same request: once with
    // the same bytes (nothing to do), once with other bytes over its data.
    let mut changed = image.clone();
    changed[500..510].copy_from_slice(&random(43, 10));
    session.flash_erase(FLASH, 4 * PAGE as u32).unwrap();
    session.flash_write(FLASH, &image).unwrap();
    session.flash_write(FLASH + 100, &image[100..200]).unwrap();
    session
        .flash_write(FLASH + 500, &changed[500..510])
        .unwrap();
    session.flash_done().unwrap();
    expect(&mut flash, FLASH, &changed);
    check(&mut session, &flash);
}

/// qCRC over ranges no routine can take whole: all of the SRAM (no room for the work
/// area: read back), flash and SRAM with the unmapped space between them, and ranges at
/// the top of the address space (one running past it). Each is a clear error or the right
/// CRC; the SRAM, the registers and the next CRC on the target are as before.
#[test]
fn crc_of_ranges_the_routine_cannot_take_whole() {
    let mut session = attached();
    let image = random(51, 4096);
    load(&mut session, FLASH, &image);
    let data = random(52, 20 * 1024);
    session.write_memory(0x2000_0000, &data).unwrap();
    let registers = distinct_registers(&mut session);

    let (crc, method) = session.crc32(0x2000_0000, 20 * 1024).unwrap();
    assert_eq!(method, Method::ReadBack(Fallback::NoFreeRam));
    assert_eq!(crc, GDB_CRC.checksum(&data));

    // Outside the memory map (the SCB's CPUID, ARMv7-M B3.2.3): read back, never run
    // (on silicon a fault would enter the program's handler until the routine's time ran out).
    let mut cpuid = [0u8; 4];
    session.read_memory(0xE000_ED00, &mut cpuid).unwrap();
    let (crc, method) = session.crc32(0xE000_ED00, 4).unwrap();
    assert_eq!(method, Method::ReadBack(Fallback::Unmapped));
    assert_eq!(crc, GDB_CRC.checksum(&cpuid));

    let across = 0x2000_0100 - FLASH;
    assert!(session.crc32(FLASH, across).is_err(), "flash to SRAM");
    for (address, length) in [(0xFFFF_FFF0, 0x10), (0xFFFF_FFF0, 0x20), (0xFFFF_FFFF, 1)] {
        assert!(
            session.crc32(address, length).is_err(),
            "{address:#x} {length:#x}"
        );
    }

    let mut back = vec![0; data.len()];
    session.read_memory(0x2000_0000, &mut back).unwrap();
    assert_eq!(back, data);
    assert_eq!(registers_now(&mut session), registers);
    let (crc, method) = session.crc32(FLASH, 4096).unwrap();
    assert_eq!((crc, method), (GDB_CRC.checksum(&image), Method::Target));
    assert_eq!(registers_now(&mut session), registers);
}

/// A load cut short (gdb killed after some of its data: no vFlashDone), then the next
/// client's load of the same image, with the probe still attached or attached again:
/// the flash holds exactly the image, and compare-sections matches.
#[test]
fn a_load_cut_short_then_loaded_again_leaves_exactly_the_image() {
    for attach_again in [false, true] {
        let mut session = attached();
        let mut flash = vec![0xFF; FLASH_SIZE];
        let old = random(61, 8 * PAGE);
        load(&mut session, FLASH, &old);
        let image = random(62, 8 * PAGE);
        session.flash_erase(FLASH, 8 * PAGE as u32).unwrap();
        session
            .flash_write(FLASH, &image[..2 * PAGE + 300])
            .unwrap();
        if attach_again {
            session.attach(1).unwrap();
        }
        load(&mut session, FLASH, &image);
        expect(&mut flash, FLASH, &image);
        check(&mut session, &flash);
        assert_eq!(load(&mut session, FLASH, &image), report(8, 0, 0, 0));
    }
}

/// Erase and write requests that run past the flash or the address space are clear
/// errors, and the flash keeps its data (a write over data with no erase is refused).
#[test]
fn requests_past_the_flash_or_the_address_space_are_clear_errors() {
    let mut session = attached();
    let mut flash = vec![0xFF; FLASH_SIZE];
    let image = random(71, FLASH_SIZE);
    load(&mut session, FLASH, &image);
    expect(&mut flash, FLASH, &image);
    for (address, length) in [
        (0xFFFF_F000, 0x2000),
        (0xFFFF_FC00, 0x400),
        (0x2000_0000, 0x400),
        (FLASH + FLASH_SIZE as u32, 0x400),
        (FLASH + FLASH_SIZE as u32 - 0x400, 0x800),
        (FLASH, 0xFFFF_FFFF),
    ] {
        let erased = session.flash_erase(address, length);
        assert!(
            erased.is_err(),
            "erase {address:#x} {length:#x}: {erased:?}"
        );
        let written = session
            .flash_write(address, &[0; 16])
            .and_then(|()| session.flash_done());
        assert!(written.is_err(), "write {address:#x}: {written:?}");
        let _ = session.flash_done();
        check(&mut session, &flash);
    }
}

/// vFlashErase then vFlashDone with no data between: the pages asked for are erased (the
/// whole flash by one mass erase), the others keep their data; vFlashDone alone does
/// nothing.
#[test]
fn an_erase_without_data_erases_what_it_names() {
    let mut session = attached();
    let mut flash = vec![0xFF; FLASH_SIZE];
    let image = random(81, 8 * PAGE);
    load(&mut session, FLASH, &image);
    expect(&mut flash, FLASH, &image);
    session.flash_done().unwrap();
    check(&mut session, &flash);

    let before = session.flash_report().unwrap();
    session
        .flash_erase(FLASH + 2 * PAGE as u32, 3 * PAGE as u32)
        .unwrap();
    session.flash_done().unwrap();
    flash[2 * PAGE..5 * PAGE].fill(0xFF);
    check(&mut session, &flash);
    assert_eq!(session.flash_report().unwrap().erased - before.erased, 3);

    session.flash_erase(FLASH, FLASH_SIZE as u32).unwrap();
    session.flash_done().unwrap();
    flash.fill(0xFF);
    check(&mut session, &flash);
    assert_eq!(
        session.flash_report().unwrap().mass_erases - before.mass_erases,
        1
    );
}

/// Random loads against a model of the flash: each one or more erase requests (pages,
/// apart or not), then writes of random pieces in any order (some over others, some
/// the same as the flash holds), then done. After each the flash must be the model:
/// the requested pages erased, then the writes, the last one winning.
#[test]
fn random_loads_leave_what_a_model_says() {
    let mut session = attached();
    let mut model = vec![0xFF; FLASH_SIZE];
    let mut seed = 0x1234_5678u32;
    let mut next = move |below: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as usize % below
    };
    let pages = FLASH_SIZE / PAGE;
    for round in 0..40 {
        let mut requests: Vec<(usize, usize)> = Vec::new();
        for _ in 0..1 + next(3) {
            let first = next(pages);
            let count = 1 + next(pages - first).min(8);
            requests.push((first, first + count));
        }
        for &(first, end) in &requests {
            session
                .flash_erase(FLASH + (first * PAGE) as u32, ((end - first) * PAGE) as u32)
                .unwrap();
            model[first * PAGE..end * PAGE].fill(0xFF);
        }
        // Pieces in the erased pages: new bytes, or what the flash held before.
        let before = model.clone();
        let mut writes = Vec::new();
        for _ in 0..1 + next(6) {
            let (first, end) = requests[next(requests.len())];
            let start = first * PAGE + next((end - first) * PAGE);
            let length = 1 + next((end * PAGE - start).min(3 * PAGE));
            let bytes = match next(3) {
                0 => before[start..start + length].to_vec(),
                _ => random(round * 100 + writes.len() as u32 + 1, length),
            };
            writes.push((start, bytes));
        }
        for (start, bytes) in &writes {
            session
                .flash_write(FLASH + *start as u32, bytes)
                .unwrap_or_else(|error| {
                    panic!("round {round}: write {start:#x}+{}: {error:?}", bytes.len())
                });
            model[*start..start + bytes.len()].copy_from_slice(bytes);
        }
        session
            .flash_done()
            .unwrap_or_else(|error| panic!("round {round}: done: {error:?}"));
        let mut back = vec![0; FLASH_SIZE];
        session.read_memory(FLASH, &mut back).unwrap();
        let first_difference = back.iter().zip(&model).position(|(a, b)| a != b);
        assert_eq!(first_difference, None, "round {round}: {requests:?}");
    }
}

/// Erase requests over some of the same pages before any data (a script asking twice)
/// are taken as one: the unchanged image is left alone, a changed page alone rewritten.
#[test]
fn overlapping_erase_requests_before_data_are_one() {
    let mut session = attached();
    let image = random(91, 8 * PAGE);
    load(&mut session, FLASH, &image);
    let mut flash = vec![0xFF; FLASH_SIZE];
    expect(&mut flash, FLASH, &image);
    let mut changed = image.clone();
    changed[5 * PAGE + 3] ^= 0x0F;
    for (data, expected) in [(&image, report(8, 0, 0, 0)), (&changed, report(7, 1, 0, 1))] {
        let before = session.flash_report().unwrap();
        session.flash_erase(FLASH, 6 * PAGE as u32).unwrap();
        session
            .flash_erase(FLASH + 4 * PAGE as u32, 4 * PAGE as u32)
            .unwrap();
        session.flash_write(FLASH, data).unwrap();
        session.flash_done().unwrap();
        let after = session.flash_report().unwrap();
        let done = FlashReport {
            unchanged: after.unchanged - before.unchanged,
            erased: after.erased - before.erased,
            mass_erases: after.mass_erases - before.mass_erases,
            programmed: after.programmed - before.programmed,
            method: after.method,
        };
        assert_eq!(done, expected);
        expect(&mut flash, FLASH, data);
        check(&mut session, &flash);
    }
}
