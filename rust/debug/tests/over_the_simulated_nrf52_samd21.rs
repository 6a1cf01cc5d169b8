//! The engine against the simulated nRF52840 (Cortex-M4F) and ATSAMD21G18A (Cortex-M0+),
//! bit by bit over SWD. No family driver knows them yet (issue 11): they attach as generic
//! Cortex-M cores, whose run control, breakpoints (the M0+'s BPU), watchpoints (its
//! two-comparator DWT) and memory must work, and whose flash writes are refused clearly.

use adi::Clock;
use debug::{BreakWatch, HaltReason, HaltStatus, Session, WatchKind};
use sim::Sim;
use sim::chip::{Chip, Variant};
use std::path::{Path, PathBuf};
use wire::swd::Swd;

type Wire = Swd<Sim<Chip>>;

struct HostClock(std::time::Instant);

impl Clock for HostClock {
    fn now_micros(&mut self) -> u64 {
        self.0.elapsed().as_micros() as u64
    }
}

/// The test firmware's build directory, built once for all the tests of this file.
fn firmware_build() -> PathBuf {
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
    top.join("build/firmware")
}

fn symbol(image: &str, name: &str) -> u32 {
    let listing = std::fs::read_to_string(firmware_build().join(format!("{image}.nm")))
        .expect("the firmware's symbol listing");
    listing
        .lines()
        .filter_map(|line| {
            let fields: Vec<_> = line.split_whitespace().collect();
            (fields.len() == 3 && fields[2] == name)
                .then(|| u32::from_str_radix(fields[0], 16).unwrap())
        })
        .next()
        .unwrap_or_else(|| panic!("no symbol {name}"))
}

/// A session attached to `variant` with `image` already in its flash (put there by the
/// simulator, as a programmer would: no family driver can write it yet).
fn attached(variant: Variant, image: &str) -> Session<Wire, HostClock> {
    let mut chip = Chip::new(variant);
    chip.load_firmware(&firmware_build().join(format!("{image}.elf")))
        .unwrap();
    let mut swd = Swd::new(Sim::new(chip));
    swd.switch_from_jtag();
    let mut session = Session::new();
    let targets: Vec<_> = session
        .scan(swd, HostClock(std::time::Instant::now()))
        .unwrap()
        .map(|target| target.core_name())
        .collect();
    let core = match variant {
        Variant::Atsamd21g18a => "M0+",
        _ => "M4",
    };
    assert_eq!(targets, [core], "one target, the {core}");
    session.attach(1).unwrap();
    session
}

fn wait_halt(session: &mut Session<Wire, HostClock>) -> HaltReason {
    for _ in 0..100_000 {
        if let HaltStatus::Halted(reason) = session.halt_poll().unwrap() {
            return reason;
        }
    }
    panic!("the core did not halt");
}

/// Reset halt at the reset vector, a breakpoint on blink_step hit twice with a step in
/// between, a write watchpoint on the counter, and a refused flash write.
fn run_control(variant: Variant, image: &str) {
    let mut session = attached(variant, image);
    session.reset(true).unwrap();
    assert_eq!(wait_halt(&mut session), HaltReason::Reset);
    assert_eq!(
        session.read_register(15).unwrap(),
        symbol(image, "reset_handler")
    );

    let blink_step = symbol(image, "blink_step");
    session
        .set_breakwatch(BreakWatch::Hardware, blink_step, 2)
        .unwrap();
    session.resume(false).unwrap();
    assert_eq!(
        wait_halt(&mut session),
        HaltReason::Breakpoint {
            address: blink_step
        }
    );
    // A breakpoint on the PC would halt the step before it moves (as gdb knows, it takes
    // its breakpoints out to step).
    session
        .clear_breakwatch(BreakWatch::Hardware, blink_step, 2)
        .unwrap();
    session.resume(true).unwrap();
    wait_halt(&mut session);
    let pc = session.read_register(15).unwrap();
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
    let mut word = [0u8; 4];
    session.read_memory(counter, &mut word).unwrap();
    assert!(u32::from_le_bytes(word) >= 1, "the counter moved");

    // No family driver: the flash is not written, and the error says why.
    let error = session
        .flash_erase(0, 4096)
        .and_then(|()| session.flash_write(0, &[0; 4]))
        .and_then(|()| session.flash_done())
        .unwrap_err();
    assert!(
        error.to_string().contains("no flash driver"),
        "unexpected error: {error}"
    );
    session.detach().unwrap();
}

#[test]
fn nrf52840_runs_breaks_and_watches_as_a_generic_m4() {
    run_control(Variant::Nrf52840, "firmware-nrf52");
}

#[test]
fn samd21_runs_breaks_and_watches_as_a_generic_m0_plus() {
    run_control(Variant::Atsamd21g18a, "firmware-samd21");
}
