//! The whole engine (wire, adi, cortexm, chips, session) against the simulated STM32F103,
//! bit by bit over SWD: scan, attach, flash, run control, and what goes wrong.

mod common;

use common::simulated::{self, HostClock, Wire, firmware_build, wait_halt};
use debug::{BreakWatch, Error, HaltReason, Session, WatchKind};
use sim::chip::{Chip, Variant};
use sim::{FaultConfig, Sim};
use wire::swd::Swd;

fn firmware() -> Vec<u8> {
    std::fs::read(firmware_build().join("firmware.bin")).expect("firmware.bin")
}

fn wire(variant: Variant) -> Wire {
    simulated::wire(Chip::new(variant), false)
}

fn attached(variant: Variant) -> Session<Wire, HostClock> {
    simulated::attached(wire(variant), HostClock::real_time())
}

fn with_sim(session: &mut Session<Wire, HostClock>, work: impl FnOnce(&mut Sim<Chip>)) {
    let mut work = Some(work);
    session.with_transport(|swd| (work.take().unwrap())(swd.pins()));
}

fn flash(session: &mut Session<Wire, HostClock>, image: &[u8]) {
    session
        .flash_erase(0x0800_0000, image.len() as u32)
        .unwrap();
    session.flash_write(0x0800_0000, image).unwrap();
    session.flash_done().unwrap();
}

#[test]
fn identifies_each_variant() {
    for (variant, name) in [
        (Variant::Stm32f103c8, "STM32F1 medium density"),
        (Variant::Stm32f103rc, "STM32F1 high density"),
        (Variant::Cks32f103c8, "STM32F1 (clone) medium density"),
    ] {
        let (_, targets) = simulated::scanned(wire(variant), HostClock::real_time());
        assert_eq!(targets, [(name, "M3")]);
    }
}

#[test]
fn flashes_runs_and_stops_the_test_firmware() {
    let image = firmware();
    let mut session = attached(Variant::Stm32f103c8);
    flash(&mut session, &image);
    let mut back = vec![0; image.len()];
    session.read_memory(0x0800_0000, &mut back).unwrap();
    assert_eq!(back, image);

    session.reset(true).unwrap();
    assert_eq!(wait_halt(&mut session), HaltReason::Reset);
    let reset_vector = u32::from_le_bytes(image[4..8].try_into().unwrap()) & !1;
    assert_eq!(session.read_register(15).unwrap(), reset_vector);

    // A breakpoint in flash (Z0 in flash becomes an FPB comparator).
    let blink_step = symbol("blink_step");
    session
        .set_breakwatch(BreakWatch::Software, blink_step, 2)
        .unwrap();
    session.resume(false).unwrap();
    assert_eq!(
        wait_halt(&mut session),
        HaltReason::Breakpoint {
            address: blink_step
        }
    );
    session
        .clear_breakwatch(BreakWatch::Software, blink_step, 2)
        .unwrap();

    let counter = symbol("counter");
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
    session.detach().unwrap();
}

#[test]
fn programming_unerased_flash_is_a_clear_error() {
    let mut session = attached(Variant::Stm32f103c8);
    session.flash_erase(0x0800_0000, 1024).unwrap();
    session
        .flash_write(0x0800_0000, &[0x12, 0x34, 0x56, 0x78])
        .unwrap();
    session.flash_done().unwrap();
    session.flash_write(0x0800_0000, &[0x00, 0x11]).unwrap();
    let error = session.flash_done().unwrap_err();
    assert_eq!(
        error,
        Error::Chip(chips::Error::NotErased {
            address: 0x0800_0000
        })
    );
    // The next correct operation works.
    session.flash_erase(0x0800_0000, 1024).unwrap();
    let mut word = [0u8; 4];
    session.read_memory(0x0800_0000, &mut word).unwrap();
    assert_eq!(word, [0xFF; 4]);
}

#[test]
fn a_fault_in_the_middle_of_a_block_read_reports_the_address_and_recovers() {
    let mut session = attached(Variant::Stm32f103c8);
    // SRAM ends at 0x2000_5000 on a C8: a read across the end faults there.
    let mut data = vec![0u8; 64];
    let error = session.read_memory(0x2000_4FE0, &mut data).unwrap_err();
    assert!(
        matches!(error, Error::Adi(adi::Error::Bus { .. })),
        "{error:?}"
    );
    session.write_memory(0x2000_0100, b"still fine").unwrap();
    let mut back = [0u8; 10];
    session.read_memory(0x2000_0100, &mut back).unwrap();
    assert_eq!(&back, b"still fine");
}

#[test]
fn survives_a_wait_storm() {
    let image = firmware();
    let mut session = attached(Variant::Stm32f103c8);
    with_sim(&mut session, |sim| {
        sim.set_faults(FaultConfig {
            seed: 7,
            wait: 0.3,
            ..FaultConfig::default()
        })
    });
    flash(&mut session, &image);
    let mut back = vec![0; image.len()];
    session.read_memory(0x0800_0000, &mut back).unwrap();
    assert_eq!(back, image);
}

#[test]
fn a_target_that_stops_answering_fails_clearly_then_recovers() {
    let mut session = attached(Variant::Stm32f103c8);
    with_sim(&mut session, |sim| sim.set_power(false));
    let mut word = [0u8; 4];
    let error = session.read_memory(0x2000_0000, &mut word).unwrap_err();
    assert_eq!(error, Error::Adi(adi::Error::NoResponse));
    with_sim(&mut session, |sim| sim.set_power(true));
    // After power returns the debug port must be set up again: scan and attach anew.
    let wire = session.release().unwrap().0;
    let mut swd = Swd::new(wire.into_pins());
    swd.switch_from_jtag();
    assert_eq!(
        session.scan(swd, HostClock::real_time()).unwrap().count(),
        1
    );
    session.attach(1).unwrap();
    session.read_memory(0x2000_0000, &mut word).unwrap();
}

fn symbol(name: &str) -> u32 {
    simulated::symbol("firmware", name)
}
