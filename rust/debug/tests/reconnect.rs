//! The engine's reconnect after a power loss (docs/reliability.md) against the simulated
//! STM32F103C8, with the simulator's virtual time as the session's clock: a target whose
//! power does not come back fails each operation with a clear error within the reconnect's
//! limit, and once power returns the next operation reconnects and succeeds.

mod common;

use common::virtual_wire::{self, VirtualClock, Wire};
use debug::{HaltReason, HaltStatus, Session};
use sim::chip::Variant;

const FLASH: u32 = 0x0800_0000;
const SRAM: u32 = 0x2000_0000;
const STM32F103_DPIDR: u32 = 0x1BA0_1477;
/// The engine's RECONNECT_MICROS: how long a reconnect waits for the DP to answer again.
const RECONNECT_NS: u64 = 500_000_000;
/// What an operation may take beyond that: the failed access and its retries before the
/// reconnect, and the last try that ran past the limit (a few hundred SWCLK periods).
const OVERRUN_NS: u64 = 2_000_000;

/// One operation on the session, as a test runs it while the power is off.
type Operation = fn(&mut Session<Wire, VirtualClock>) -> Result<(), debug::Error>;

fn attached() -> Session<Wire, VirtualClock> {
    let (wire, clock) = virtual_wire::wire(Variant::Stm32f103c8, Some(4_000_000));
    let mut session = Session::new();
    assert_eq!(session.scan(wire, clock).unwrap().count(), 1);
    session.attach(1).unwrap();
    session
}

fn now_ns(session: &mut Session<Wire, VirtualClock>) -> u64 {
    let mut now = 0;
    session.with_transport(|wire| now = virtual_wire::now_ns(wire));
    now
}

fn set_power(session: &mut Session<Wire, VirtualClock>, on: bool) {
    session.with_transport(|wire| wire.swd.pins().set_power(on));
}

/// The virtual time `operation` takes, and its outcome.
fn timed<R>(
    session: &mut Session<Wire, VirtualClock>,
    operation: impl FnOnce(&mut Session<Wire, VirtualClock>) -> R,
) -> (u64, R) {
    let start = now_ns(session);
    let outcome = operation(session);
    (now_ns(session) - start, outcome)
}

/// Power lost and not back: every operation (a read, a register, a halt poll, a load's
/// first erase) fails with the wire's error after trying to reconnect for the limit, on
/// the session's clock, and no longer; the power back, the next ones reconnect, and the
/// flash and SRAM written before hold their data.
#[test]
fn a_target_that_does_not_come_back_fails_each_operation_within_the_limit() {
    let mut session = attached();
    let image: Vec<u8> = (0..2048u32).map(|n| (n * 13 + n / 256) as u8).collect();
    session.flash_erase(FLASH, 2048).unwrap();
    session.flash_write(FLASH, &image).unwrap();
    session.flash_done().unwrap();
    let pattern = [0x5A, 0xA5, 0x0F, 0xF0, 1, 2, 3, 4];
    session.write_memory(SRAM, &pattern).unwrap();

    set_power(&mut session, false);
    let mut word = [0; 4];
    let operations: [(&str, Operation); 4] = [
        ("read", |session| session.read_memory(FLASH, &mut [0; 4])),
        ("register", |session| session.read_register(15).map(|_| ())),
        ("halt poll", |session| session.halt_poll().map(|_| ())),
        ("erase", |session| session.flash_erase(FLASH, 1024)),
    ];
    for (name, operation) in operations {
        let (took, outcome) = timed(&mut session, operation);
        let error = outcome.unwrap_err().to_string();
        assert!(
            error.contains("no response from the debug port (check wiring and target power)"),
            "{name}: {error}"
        );
        assert!(
            (RECONNECT_NS..RECONNECT_NS + OVERRUN_NS).contains(&took),
            "{name}: {took} ns, the limit is {RECONNECT_NS} ns"
        );
    }
    assert_eq!(session.reconnected(), None);

    set_power(&mut session, true);
    let (took, outcome) = timed(&mut session, |session| {
        session.read_memory(FLASH, &mut word)
    });
    outcome.unwrap();
    assert_eq!(word, image[..4]);
    assert!(
        took < OVERRUN_NS,
        "{took} ns to reconnect to a powered target"
    );
    assert_eq!(session.reconnected().unwrap().dpidr, STM32F103_DPIDR);
    let mut back = [0; 8];
    session.read_memory(SRAM, &mut back).unwrap();
    assert_eq!(
        back, pattern,
        "the simulator keeps SRAM across a power loss"
    );
    // The erase that failed left nothing behind: a load succeeds and reads back.
    let other: Vec<u8> = image.iter().rev().copied().collect();
    session.flash_erase(FLASH, 2048).unwrap();
    session.flash_write(FLASH, &other).unwrap();
    session.flash_done().unwrap();
    let mut flash = vec![0; 2048];
    session.read_memory(FLASH, &mut flash).unwrap();
    assert!(flash == other, "the load after the power came back");
}

/// `b .` (Thumb) in SRAM: a core that runs until halted.
const LOOP: [u8; 2] = [0xFE, 0xE7];
const LOOP_AT: u32 = SRAM + 0x400;

fn running(session: &mut Session<Wire, VirtualClock>) {
    session.write_memory(LOOP_AT, &LOOP).unwrap();
    session.write_register(15, LOOP_AT).unwrap();
    session.resume(false).unwrap();
    assert_eq!(session.halt_poll().unwrap(), HaltStatus::Running);
}

fn power_cycle(session: &mut Session<Wire, VirtualClock>) {
    session.with_transport(|wire| {
        let sim = wire.swd.pins();
        sim.set_power(false);
        sim.idle(1_000_000);
        sim.set_power(true);
        sim.idle(10_000_000);
    });
}

fn halted_at_the_loop(session: &mut Session<Wire, VirtualClock>) {
    session.halt_request().unwrap();
    assert_eq!(
        session.halt_poll().unwrap(),
        HaltStatus::Halted(HaltReason::Request)
    );
    assert_eq!(session.read_register(15).unwrap(), LOOP_AT);
}

fn power_lost(error: debug::Error) {
    assert_eq!(
        error.to_string(),
        "target power was lost: the core was reset; the probe reconnected (DPIDR \
         0x1ba01477) and halted it"
    );
}

/// A power loss while the core runs (gdb's `continue`): the next halt poll, or a halt
/// request (gdb's Ctrl-C), reconnects and says so with an error, never as a halt the
/// program or the user asked for; the core is halted after it and the session works on
/// (the program runs and halts again). The front end's notice comes once.
#[test]
fn a_power_loss_while_the_core_runs_is_an_error_of_the_next_poll_or_halt_request() {
    let mut session = attached();
    running(&mut session);
    power_cycle(&mut session);
    power_lost(session.halt_poll().unwrap_err());
    assert!(matches!(
        session.halt_poll().unwrap(),
        HaltStatus::Halted(_)
    ));
    let notice = session.take_reconnected().expect("a notice");
    assert_eq!(notice.dpidr, STM32F103_DPIDR);
    assert_eq!(session.take_reconnected(), None, "told once");
    running(&mut session);
    halted_at_the_loop(&mut session);

    // Ctrl-C: the halt request meets the loss; the poll after it finds the core halted.
    running(&mut session);
    power_cycle(&mut session);
    power_lost(session.halt_request().unwrap_err());
    assert!(matches!(
        session.halt_poll().unwrap(),
        HaltStatus::Halted(_)
    ));
    running(&mut session);
    halted_at_the_loop(&mut session);

    // Power off for longer than the reconnect waits: each poll fails within the limit
    // with the wire's error; the power back, the next poll reconnects.
    running(&mut session);
    set_power(&mut session, false);
    for _ in 0..2 {
        let (took, outcome) = timed(&mut session, |session| session.halt_poll());
        let error = outcome.unwrap_err().to_string();
        assert!(error.contains("no response from the debug port"), "{error}");
        assert!(took < RECONNECT_NS + OVERRUN_NS, "{took} ns");
    }
    set_power(&mut session, true);
    power_lost(session.halt_poll().unwrap_err());
    running(&mut session);
    halted_at_the_loop(&mut session);
}
