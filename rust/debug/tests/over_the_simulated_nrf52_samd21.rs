//! The engine against the simulated nRF52840 (Cortex-M4F) and ATSAMD21G18A (Cortex-M0+),
//! bit by bit over SWD: their family drivers (chips::nrf52, chips::samd21) identify them
//! and write their flash through the NVMC and the NVMCTRL; run control, breakpoints (the
//! M0+'s BPU), watchpoints (its two-comparator DWT) and the families' monitor commands.

mod common;

use common::simulated::{self, HostClock, Wire, firmware_build, symbol, wait_halt};
use debug::{BreakWatch, HaltReason, Session, WatchKind};
use sim::chip::{Chip, Variant};
use wire::Pins;

/// A session attached to `variant` (blank flash), its driver named `name`.
fn attached(variant: Variant, name: &str) -> Session<Wire, HostClock> {
    let core = match variant {
        Variant::Atsamd21g18a => "M0+",
        _ => "M4",
    };
    simulated::attached_as(
        simulated::wire(Chip::new(variant), false),
        HostClock::real_time(),
        name,
        core,
    )
}

/// Load `image`.bin at 0 through the family driver and read it back.
fn flash(session: &mut Session<Wire, HostClock>, image: &str) -> Vec<u8> {
    let bytes = std::fs::read(firmware_build().join(format!("{image}.bin"))).unwrap();
    session.flash_erase(0, bytes.len() as u32).unwrap();
    session.flash_write(0, &bytes).unwrap();
    session.flash_done().unwrap();
    let mut back = vec![0; bytes.len()];
    session.read_memory(0, &mut back).unwrap();
    assert_eq!(back, bytes, "flash holds the image");
    bytes
}

fn command(session: &mut Session<Wire, HostClock>, line: &str) -> Result<String, debug::Error> {
    let (name, arguments) = line.split_once(' ').unwrap_or((line, ""));
    let mut out = String::new();
    session.chip_command(name, arguments, &mut out)?;
    Ok(out)
}

/// Flash the image, reset halt at the reset vector, a breakpoint on blink_step, a step,
/// a write watchpoint on the counter.
fn run_control(variant: Variant, name: &str, image: &str) -> Session<Wire, HostClock> {
    let mut session = attached(variant, name);
    flash(&mut session, image);
    session.reset(true).unwrap();
    assert_eq!(wait_halt(&mut session), HaltReason::Reset);
    assert_eq!(
        session.read_register(15).unwrap(),
        symbol(image, "reset_handler")
    );

    let blink_step = symbol(image, "blink_step");
    simulated::run_to(&mut session, blink_step);
    // run_to took the breakpoint out: one on the PC would halt the step before it moves.
    let pc = simulated::step(&mut session);
    assert!(
        blink_step < pc && pc <= blink_step + 4,
        "PC 0x{pc:08x} after a step"
    );

    let counter = symbol(image, "counter");
    session
        .set_breakwatch(BreakWatch::Watch(WatchKind::Write), counter, 4)
        .unwrap();
    session.resume(false).unwrap();
    assert_eq!(
        wait_halt(&mut session),
        HaltReason::Watchpoint {
            kind: WatchKind::Write,
            address: counter
        }
    );
    session
        .clear_breakwatch(BreakWatch::Watch(WatchKind::Write), counter, 4)
        .unwrap();
    session
}

#[test]
fn nrf52840_flashes_runs_breaks_and_watches() {
    let mut session = run_control(Variant::Nrf52840, "nRF52840", "firmware-nrf52");
    let info = command(&mut session, "read deviceinfo").unwrap();
    assert!(
        info.contains("nRF52840") && info.contains("1024 KB"),
        "{info}"
    );
    assert!(command(&mut session, "read nothing").is_err());
    // The UICR is a flash region of its own: a word there, then erase_mass clears both.
    session.flash_erase(0x1000_1080, 4).unwrap();
    session
        .flash_write(0x1000_1080, &0x1234_5678u32.to_le_bytes())
        .unwrap();
    session.flash_done().unwrap();
    let mut word = [0u8; 4];
    session.read_memory(0x1000_1080, &mut word).unwrap();
    assert_eq!(u32::from_le_bytes(word), 0x1234_5678);
    command(&mut session, "erase_mass").unwrap();
    for address in [0, 0x1000_1080] {
        session.read_memory(address, &mut word).unwrap();
        assert_eq!(word, [0xFF; 4], "0x{address:08x} erased");
    }
    session.detach().unwrap();
}

#[test]
fn samd21_flashes_runs_breaks_and_watches() {
    let mut session = run_control(Variant::Atsamd21g18a, "ATSAMD21G18A", "firmware-samd21");
    let serial = command(&mut session, "serial").unwrap();
    assert!(serial.starts_with("Serial number: 0x"), "{serial}");
    assert_eq!(serial.trim().len(), "Serial number: 0x".len() + 32);
    session.detach().unwrap();
}

#[test]
fn samd21_bootprot_locks_and_security_bit() {
    let mut session = attached(Variant::Atsamd21g18a, "ATSAMD21G18A");
    let image = flash(&mut session, "firmware-samd21");
    // BOOTPROT 6: the first two rows (512 bytes), from the next reset.
    command(&mut session, "lock_bootprot 6").unwrap();
    assert!(
        command(&mut session, "user_row")
            .unwrap()
            .contains("BOOTPROT 6")
    );
    session.reset(true).unwrap();
    wait_halt(&mut session);
    let error = session
        .flash_erase(0, 256)
        .and_then(|()| session.flash_done())
        .unwrap_err();
    assert_eq!(
        error,
        debug::Error::Chip(chips::Error::WriteProtected { address: 0 })
    );
    let mut back = vec![0; 256];
    session.read_memory(0, &mut back).unwrap();
    assert_eq!(back, image[..256], "nothing erased under BOOTPROT");
    command(&mut session, "unlock_bootprot").unwrap();
    command(&mut session, "lock_flash").unwrap();
    assert!(
        command(&mut session, "user_row")
            .unwrap()
            .contains("LOCK 0x0000")
    );
    session.reset(true).unwrap();
    wait_halt(&mut session);
    // Row 0x200 holds firmware (an erase of blank flash may be skipped by the session).
    assert!(
        session
            .flash_erase(0x200, 256)
            .and_then(|()| session.flash_done())
            .is_err(),
        "region 0 locked"
    );
    command(&mut session, "unlock_flash").unwrap();

    // The security bit: from the next reset only the DSU answers; erase_mass opens it.
    command(&mut session, "set_security_bit").unwrap();
    session.reset(false).unwrap_or(());
    let mut word = [0u8; 4];
    assert!(
        session.read_memory(0, &mut word).is_err(),
        "flash unreadable"
    );
    let protection = session
        .with_chip(|part, memory| part.protection(memory))
        .unwrap();
    let error = protection.check().unwrap_err().to_string();
    assert!(
        error.contains("security bit") && error.contains("'monitor erase_mass'"),
        "{error}"
    );
    command(&mut session, "erase_mass").unwrap();
    // The secured core's AIRCR is out of reach: nRST applies the erase (DS40001882 13.7).
    session.with_transport(|swd| {
        swd.pins().set_reset(true);
        swd.pins().set_reset(false);
    });
    session.read_memory(0, &mut word).unwrap();
    assert_eq!(word, [0xFF; 4], "flash erased, readable again");
}

#[test]
fn nrf52840_approtect_is_named_and_recover_lifts_it() {
    let mut session = attached(Variant::Nrf52840, "nRF52840");
    flash(&mut session, "firmware-nrf52");
    // UICR.APPROTECT = 0x00 (PS 4.5.2.11), in force from the next reset.
    session.flash_erase(0x1000_1208, 4).unwrap();
    session
        .flash_write(0x1000_1208, &0xFFFF_FF00u32.to_le_bytes())
        .unwrap();
    session.flash_done().unwrap();
    // nRST (the engine's own reset would wait for a core it can no longer reach).
    session.with_transport(|swd| {
        swd.pins().set_reset(true);
        swd.pins().set_reset(false);
    });
    let wire = session.release().unwrap().0;
    let error = session
        .scan(wire, HostClock::real_time())
        .err()
        .expect("a protected nRF52 is not listed");
    assert_eq!(error, debug::Error::Chip(chips::nrf52::PROTECTED));
    let message = error.to_string();
    assert!(
        message.contains("APPROTECT") && message.contains("'monitor recover'"),
        "{message}"
    );

    session.recover().unwrap();
    let wire = session.release().unwrap().0;
    let names: Vec<_> = session
        .scan(wire, HostClock::real_time())
        .unwrap()
        .map(|target| target.driver_name())
        .collect();
    assert_eq!(names, ["nRF52840"]);
    session.attach(1).unwrap();
    let mut word = [0u8; 4];
    for address in [0, 0x1000_1208] {
        session.read_memory(address, &mut word).unwrap();
        assert_eq!(word, [0xFF; 4], "0x{address:08x} erased by the recovery");
    }
}

#[test]
fn secured_samd21_is_named_by_the_scan_and_recover_lifts_it() {
    let mut session = attached(Variant::Atsamd21g18a, "ATSAMD21G18A");
    flash(&mut session, "firmware-samd21");
    command(&mut session, "set_security_bit").unwrap();
    let pulse_reset = |session: &mut Session<Wire, HostClock>| {
        session.with_transport(|swd| {
            swd.pins().set_reset(true);
            swd.pins().set_reset(false);
        })
    };
    pulse_reset(&mut session);
    let wire = session.release().unwrap().0;
    let error = session
        .scan(wire, HostClock::real_time())
        .err()
        .expect("a secured SAMD21 is not listed");
    assert_eq!(error, debug::Error::Chip(chips::samd21::PROTECTED));
    assert!(error.to_string().contains("'monitor recover'"), "{error}");

    session.recover().unwrap();
    pulse_reset(&mut session);
    let wire = session.release().unwrap().0;
    let names: Vec<_> = session
        .scan(wire, HostClock::real_time())
        .unwrap()
        .map(|target| target.driver_name())
        .collect();
    assert_eq!(names, ["ATSAMD21G18A"]);
    session.attach(1).unwrap();
    let mut word = [0u8; 4];
    session.read_memory(0, &mut word).unwrap();
    assert_eq!(word, [0xFF; 4], "flash erased by the recovery");
}

/// Pages go back to back (the page buffer's writes stall while the last page is written,
/// no READY poll between them); an erased page in between is skipped; a page in a locked
/// region is refused at its WP command (LOCKE) with its address.
#[test]
fn samd21_programs_pages_back_to_back_and_reports_a_locked_region() {
    let mut session = attached(Variant::Atsamd21g18a, "ATSAMD21G18A");
    let at = 0x1_0000;
    let mut image: Vec<u8> = (0..1024u32).map(|index| (index * 13 + 1) as u8).collect();
    image[3 * 64..4 * 64].fill(0xFF);
    session.flash_erase(at, image.len() as u32).unwrap();
    session.flash_write(at, &image).unwrap();
    session.flash_done().unwrap();
    let mut back = vec![0; image.len()];
    session.read_memory(at, &mut back).unwrap();
    assert_eq!(back, image);

    command(&mut session, "lock_flash").unwrap();
    session.reset(true).unwrap();
    wait_halt(&mut session);
    let blank = 0x3_0000;
    let error = session
        .flash_erase(blank, 128)
        .and_then(|()| session.flash_write(blank, &[0x42; 128]))
        .and_then(|()| session.flash_done())
        .unwrap_err();
    assert_eq!(
        error,
        debug::Error::Chip(chips::Error::WriteProtected { address: blank })
    );
    let mut back = [0u8; 128];
    session.read_memory(blank, &mut back).unwrap();
    assert_eq!(back, [0xFF; 128]);
}

/// Random loads against a model of the flash on both families (SAMD21: 256-byte rows
/// written in 64-byte pages; nRF52840: 4 KiB pages of words): one or more erase requests,
/// writes of random pieces in any order (some over others, some the same as the flash
/// holds), done. After each the first 32 KiB must be the model.
#[test]
fn random_loads_leave_what_a_model_says() {
    for (variant, name, erase_unit) in [
        (Variant::Atsamd21g18a, "ATSAMD21G18A", 256usize),
        (Variant::Nrf52840, "nRF52840", 4096),
    ] {
        const SIZE: usize = 32 * 1024;
        let mut session = attached(variant, name);
        let mut model = vec![0xFFu8; SIZE];
        let units = SIZE / erase_unit;
        let mut seed = 0xACE1_2468u32;
        let mut next = move |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize % below
        };
        for round in 0..20u32 {
            let mut requests = Vec::new();
            for _ in 0..1 + next(3) {
                let first = next(units);
                let end = first + 1 + next((units - first).min(16));
                let (start, stop) = (first * erase_unit, end * erase_unit);
                session
                    .flash_erase(start as u32, (stop - start) as u32)
                    .unwrap();
                model[start..stop].fill(0xFF);
                requests.push((start, stop));
            }
            let before = model.clone();
            for piece in 0..1 + next(6) {
                let (first, stop) = requests[next(requests.len())];
                let start = first + next(stop - first);
                let length = 1 + next((stop - start).min(3000));
                let bytes: Vec<u8> = match next(3) {
                    0 => before[start..start + length].to_vec(),
                    _ => (0..length)
                        .map(|index| (index as u32 * 7 + round * 13 + piece as u32 * 29) as u8 | 1)
                        .collect(),
                };
                session
                    .flash_write(start as u32, &bytes)
                    .unwrap_or_else(|error| panic!("{name} round {round}: {start:#x}: {error:?}"));
                model[start..start + length].copy_from_slice(&bytes);
            }
            session
                .flash_done()
                .unwrap_or_else(|error| panic!("{name} round {round}: done: {error:?}"));
            let mut back = vec![0; SIZE];
            session.read_memory(0, &mut back).unwrap();
            let first_difference = back.iter().zip(&model).position(|(a, b)| a != b);
            assert_eq!(
                first_difference, None,
                "{name} round {round}: {requests:x?}"
            );
        }
    }
}
