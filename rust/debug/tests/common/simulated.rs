//! The set-up the engine's tests against one simulated chip share: the chip on SWD, the
//! probe's clock from the host's, the scan and attach, waiting for a halt, running to a
//! breakpoint and stepping, and the test
//! firmware (tests/firmware) with its symbols.

use adi::Clock;
use debug::{BreakWatch, HaltReason, HaltStatus, Session};
use sim::Sim;
use sim::chip::Chip;
use std::path::{Path, PathBuf};
use wire::swd::Swd;

pub type Wire = Swd<Sim<Chip>>;

/// The probe's clock from the host's, `slowdown` times slower: the engine's time limits are
/// for a target in real time, and the simulator in a debug build runs slower than one.
pub struct HostClock {
    start: std::time::Instant,
    slowdown: u64,
}

impl HostClock {
    pub fn real_time() -> Self {
        Self::slowed(1)
    }

    pub fn slowed(slowdown: u64) -> Self {
        HostClock {
            start: std::time::Instant::now(),
            slowdown,
        }
    }
}

impl Clock for HostClock {
    fn now_micros(&mut self) -> u64 {
        self.start.elapsed().as_micros() as u64 / self.slowdown
    }
}

/// `chip` on SWD (switched from JTAG); `virtual_time`: the simulator on its virtual clock
/// instead of the host's.
pub fn wire(chip: Chip, virtual_time: bool) -> Wire {
    let mut sim = Sim::new(chip);
    if virtual_time {
        sim.set_real_time(false);
    }
    let mut swd = Swd::new(sim);
    swd.switch_from_jtag();
    swd
}

/// A session that scanned `wire`, and the targets it found as (driver, core).
pub fn scanned(
    wire: Wire,
    clock: HostClock,
) -> (Session<Wire, HostClock>, Vec<(&'static str, &'static str)>) {
    let mut session = Session::new();
    let targets = session
        .scan(wire, clock)
        .unwrap()
        .map(|target| (target.driver_name(), target.core_name()))
        .collect();
    (session, targets)
}

/// A session attached to the one target on `wire`.
pub fn attached(wire: Wire, clock: HostClock) -> Session<Wire, HostClock> {
    let (mut session, targets) = scanned(wire, clock);
    assert_eq!(targets.len(), 1, "{targets:?}");
    session.attach(1).unwrap();
    session
}

/// A session attached to the one target on `wire`, found as `driver` and `core`.
pub fn attached_as(
    wire: Wire,
    clock: HostClock,
    driver: &str,
    core: &str,
) -> Session<Wire, HostClock> {
    let (mut session, targets) = scanned(wire, clock);
    assert_eq!(targets, [(driver, core)]);
    session.attach(1).unwrap();
    session
}

pub fn wait_halt(session: &mut Session<Wire, HostClock>) -> HaltReason {
    for _ in 0..100_000 {
        if let HaltStatus::Halted(reason) = session.halt_poll().unwrap() {
            return reason;
        }
    }
    panic!("the core did not halt");
}

/// Runs to a hardware breakpoint at `address`, checks that is why the core halted, and
/// takes the breakpoint out again (as gdb does before it steps).
pub fn run_to(session: &mut Session<Wire, HostClock>, address: u32) {
    session
        .set_breakwatch(BreakWatch::Hardware, address, 2)
        .unwrap();
    session.resume(false).unwrap();
    assert_eq!(wait_halt(session), HaltReason::Breakpoint { address });
    session
        .clear_breakwatch(BreakWatch::Hardware, address, 2)
        .unwrap();
}

/// One instruction step; the PC it stopped at.
pub fn step(session: &mut Session<Wire, HostClock>) -> u32 {
    session.resume(true).unwrap();
    assert_eq!(wait_halt(session), HaltReason::Step);
    session.read_register(15).unwrap()
}

/// The test firmware's build directory, built once for all the tests of a file (they run
/// in parallel, and two makes in one directory would race).
pub fn firmware_build() -> PathBuf {
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

/// `name`'s address in the firmware `image` (firmware, firmware-f4, ...), from its `nm -n`
/// listing.
pub fn symbol(image: &str, name: &str) -> u32 {
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
