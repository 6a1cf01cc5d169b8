//! A generic Cortex-M33 (ARMv8-M mainline) against the simulated one (`cortex-m33`): the
//! engine finds its ARMv8-M debug components by DEVARCH, attaches it as a generic
//! Cortex-M, offers its FPU registers, breaks with the BPU, steps, and `security` reads
//! DSCSR. The F4 test program runs on it, put in its code memory by the simulator's loader.

use adi::Clock;
use debug::{BreakWatch, HaltReason, HaltStatus, Session, TARGET_XML_FPU};
use sim::Sim;
use sim::chip::{Chip, Variant};
use std::path::{Path, PathBuf};
use wire::swd::Swd;

type Wire = Swd<Sim<Chip>>;

struct HostClock(std::time::Instant);

impl Clock for HostClock {
    fn now_micros(&mut self) -> u64 {
        self.0.elapsed().as_micros() as u64 / 10
    }
}

/// The test firmware's build directory, built first (make -C tests/firmware).
fn firmware_build() -> PathBuf {
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let status = std::process::Command::new("make")
        .args(["-s", "-C"])
        .arg(top.join("tests/firmware"))
        .arg(format!("BUILD={}", top.join("build/firmware").display()))
        .status()
        .expect("make runs");
    assert!(status.success(), "building the test firmware failed");
    top.join("build/firmware")
}

/// `name`'s address from the firmware's `nm -n` listing.
fn symbol(name: &str) -> u32 {
    let listing = std::fs::read_to_string(firmware_build().join("firmware-f4.nm"))
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

fn wait_halt(session: &mut Session<Wire, HostClock>) -> HaltReason {
    for _ in 0..100_000 {
        if let HaltStatus::Halted(reason) = session.halt_poll().unwrap() {
            return reason;
        }
    }
    panic!("the core did not halt");
}

#[test]
fn attached_as_a_generic_cortex_m33_that_breaks_and_steps() {
    let mut chip = Chip::new(Variant::CortexM33);
    chip.load_firmware(&firmware_build().join("firmware-f4.elf"))
        .unwrap();
    let mut sim = Sim::new(chip);
    sim.set_real_time(false);
    let mut swd = Swd::new(sim);
    swd.switch_from_jtag();
    let mut session = Session::new();
    let clock = HostClock(std::time::Instant::now());
    assert_eq!(session.scan(swd, clock).unwrap().count(), 1);
    session.attach(1).unwrap();
    let target = session.attached().unwrap();
    assert_eq!(
        (target.driver_name(), target.core_name()),
        ("ARM Cortex-M", "M33")
    );
    assert_eq!(session.target_description(), TARGET_XML_FPU);

    session.reset(true).unwrap();
    assert_eq!(wait_halt(&mut session), HaltReason::Reset);
    assert_eq!(
        session.read_register(15).unwrap(),
        symbol("reset_handler") & !1
    );
    let blink_step = symbol("blink_step") & !1;
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
    // Out of the way to step (as gdb does).
    session
        .clear_breakwatch(BreakWatch::Hardware, blink_step, 2)
        .unwrap();
    session.resume(true).unwrap();
    assert_eq!(wait_halt(&mut session), HaltReason::Step);
    let pc = session.read_register(15).unwrap();
    assert!(pc > blink_step && pc < blink_step + 8, "{pc:#x}");
    // The registers move both ways (r4 is callee-saved: the program's own).
    session.write_register(4, 0x1234_5678).unwrap();
    assert_eq!(session.read_register(4).unwrap(), 0x1234_5678);

    let mut out = String::new();
    session.chip_command("security", "", &mut out).unwrap();
    assert_eq!(
        out,
        "DSCSR 0x00010000: the core is in Secure state (CDS)\n\
         Banked registers through DCRSR: the current state's (SBRSELEN 0)\n\
         Secure debug enabled (DHCSR.S_SDE)\n"
    );
    session
        .write_memory(0xE000_EE08, &0b01u32.to_le_bytes())
        .unwrap();
    out.clear();
    session.chip_command("security", "", &mut out).unwrap();
    assert!(
        out.contains("the Non-secure ones (SBRSELEN 1, SBRSEL 0)"),
        "{out}"
    );
}
