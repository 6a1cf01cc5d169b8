//! A generic Cortex-M33 (ARMv8-M mainline) against the simulated one (`cortex-m33`): the
//! engine finds its ARMv8-M debug components by DEVARCH, attaches it as a generic
//! Cortex-M, offers its FPU registers, breaks with the BPU, steps, and `security` reads
//! DSCSR. The F4 test program runs on it, put in its code memory by the simulator's loader.

mod common;

use common::simulated::{self, HostClock, firmware_build, wait_halt};
use debug::{
    Banked, BreakWatch, Error, HaltReason, TARGET_XML_NONSECURE_FPU, TARGET_XML_SECURE_FPU,
    WatchKind,
};
use sim::chip::{Chip, Variant};

fn symbol(name: &str) -> u32 {
    simulated::symbol("firmware-f4", name)
}

#[test]
fn attached_as_a_generic_cortex_m33_that_breaks_and_steps() {
    let mut chip = Chip::new(Variant::CortexM33);
    chip.load_firmware(&firmware_build().join("firmware-f4.elf"))
        .unwrap();
    let mut session = simulated::attached(simulated::wire(chip, true), HostClock::slowed(10));
    let target = session.attached().unwrap();
    assert_eq!(
        (target.driver_name(), target.core_name()),
        ("ARM Cortex-M", "M33")
    );
    assert_eq!(session.target_description(), TARGET_XML_SECURE_FPU);

    session.reset(true).unwrap();
    assert_eq!(wait_halt(&mut session), HaltReason::Reset);
    assert_eq!(
        session.read_register(15).unwrap(),
        symbol("reset_handler") & !1
    );
    let blink_step = symbol("blink_step") & !1;
    simulated::run_to(&mut session, blink_step);
    let pc = simulated::step(&mut session);
    assert!(pc > blink_step && pc < blink_step + 8, "{pc:#x}");
    // The registers move both ways (r4 is callee-saved: the program's own).
    session.write_register(4, 0x1234_5678).unwrap();
    assert_eq!(session.read_register(4).unwrap(), 0x1234_5678);

    let mut out = String::new();
    session.chip_command("security", "", &mut out).unwrap();
    assert_eq!(
        out,
        "DSCSR 0x00010000: the core is in Secure state (CDS)\n\
         Memory-mapped banked registers: the current state's (SBRSELEN 0)\n\
         Secure debug enabled (DHCSR.S_SDE)\n\
         Secure invasive debug enabled (DAUTHSTATUS 0xFF, SID)\n"
    );
    // `security sbrsel` writes DSCSR.SBRSELEN/SBRSEL (CDS untouched) and shows them.
    for (choice, shown, bits) in [
        (
            "nonsecure",
            "the Non-secure ones (SBRSELEN 1, SBRSEL 0)",
            0b01,
        ),
        ("secure", "the Secure ones (SBRSELEN 1, SBRSEL 1)", 0b11),
        ("current", "the current state's (SBRSELEN 0)", 0b00),
    ] {
        out.clear();
        session
            .chip_command("security", &format!("sbrsel {choice}"), &mut out)
            .unwrap();
        assert!(out.contains(shown), "{out}");
        let mut dscsr = [0u8; 4];
        session.read_memory(0xE000_EE08, &mut dscsr).unwrap();
        assert_eq!(u32::from_le_bytes(dscsr), 0x0001_0000 | bits, "{choice}");
    }
    let refused = session.chip_command("security", "sbrsel both", &mut out);
    assert_eq!(
        refused.unwrap_err().to_string(),
        "usage: security [sbrsel current|secure|nonsecure]"
    );
}

/// gdb's watch, rwatch and awatch on the M33: the ARMv8-M DWT's encoding (MATCH, ACTION,
/// DATAVSIZE), each stopping with its kind and the watched address.
#[test]
fn armv8m_watchpoints_stop_with_their_kind() {
    let mut chip = Chip::new(Variant::CortexM33);
    chip.load_firmware(&firmware_build().join("firmware-f4.elf"))
        .unwrap();
    let mut session = simulated::attached(simulated::wire(chip, true), HostClock::slowed(10));
    let counter = symbol("counter");
    for kind in [WatchKind::Write, WatchKind::Read, WatchKind::Access] {
        session
            .set_breakwatch(BreakWatch::Watch(kind), counter, 4)
            .unwrap();
        session.resume(false).unwrap();
        assert_eq!(
            wait_halt(&mut session),
            HaltReason::Watchpoint {
                kind,
                address: counter
            }
        );
        session
            .clear_breakwatch(BreakWatch::Watch(kind), counter, 4)
            .unwrap();
    }
    // Larger or unaligned watches take a comparator and its limit (0-1, 2-3 on the M33):
    // 8 bytes from counter - 4, and 3 bytes from counter + 1, each stop at counter's store.
    for (address, length) in [(counter - 4, 8), (counter + 1, 3)] {
        let watch = BreakWatch::Watch(WatchKind::Write);
        session.set_breakwatch(watch, address, length).unwrap();
        session.resume(false).unwrap();
        assert_eq!(
            wait_halt(&mut session),
            HaltReason::Watchpoint {
                kind: WatchKind::Write,
                address
            }
        );
        session.clear_breakwatch(watch, address, length).unwrap();
    }
    // Two ranges take all four comparators: a third is refused, saying why.
    let watch = BreakWatch::Watch(WatchKind::Read);
    session.set_breakwatch(watch, 0x2000_0000, 16).unwrap();
    session.set_breakwatch(watch, 0x2000_0100, 16).unwrap();
    let refused = session.set_breakwatch(watch, 0x2000_0200, 16).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("no free pair of DWT comparators"),
        "{refused}"
    );
}

/// The banked stack pointers and the stack limits (GDB's 40-47 after the FPU's: msp_ns,
/// psp_ns, msp_s, psp_s, msplim_s, psplim_s, msplim_ns, psplim_ns) and each state's special
/// registers (48-55) read and written through DCRSR; msp_s is the msp of this Secure core.
#[test]
fn banked_and_stack_limit_registers() {
    let mut chip = Chip::new(Variant::CortexM33);
    chip.load_firmware(&firmware_build().join("firmware-f4.elf"))
        .unwrap();
    let mut session = simulated::attached(simulated::wire(chip, true), HostClock::slowed(10));
    assert_eq!(session.banked_registers(), Some(Banked::Secure));
    // Halted at a breakpoint, as gdb leaves it.
    let blink_step = symbol("blink_step") & !1;
    session
        .set_breakwatch(BreakWatch::Hardware, blink_step, 2)
        .unwrap();
    session.resume(false).unwrap();
    wait_halt(&mut session);
    let msp = session.read_register(17).unwrap();
    assert_eq!(session.read_register(42).unwrap(), msp, "msp_s");
    let values = [
        (40, 0x2000_1000),
        (41, 0x2000_2000),
        (44, 0x2000_0100),
        (45, 0x2000_0200),
        (46, 0x2000_0300),
        (47, 0x2000_0400),
    ];
    for (number, value) in values {
        assert_eq!(session.register_size(number), Some(4));
        session.write_register(number, value).unwrap();
    }
    // Read back after all the writes (a transfer that did nothing would leave DCRDR
    // holding the last value written).
    for (number, value) in values {
        assert_eq!(session.read_register(number).unwrap(), value, "{number}");
    }
    session.write_register(43, 0x2000_3000).unwrap();
    assert_eq!(
        session.read_register(18).unwrap(),
        0x2000_3000,
        "psp is psp_s"
    );
    // Then each state's primask, basepri, faultmask, control (GDB's 48-51 Secure, 52-55
    // Non-secure; DCRSR 0x22, 0x23): this core is Secure, so the Secure ones are what
    // GDB's 19-22 show, the Non-secure ones a bank of their own.
    session.write_register(49, 0x40).unwrap(); // basepri_s
    assert_eq!(
        session.read_register(20).unwrap(),
        0x40,
        "basepri is basepri_s"
    );
    let nonsecure = [(52, 1), (53, 0x80), (54, 1), (55, 2)];
    for (number, value) in nonsecure {
        session.write_register(number, value).unwrap();
    }
    for (number, value) in nonsecure {
        assert_eq!(session.read_register(number).unwrap(), value, "{number}");
    }
    assert_eq!(session.read_register(48).unwrap(), 0, "primask_s");
    assert_eq!(
        session.read_register(21).unwrap(),
        0,
        "faultmask is the Secure one"
    );
    assert_eq!(
        session.read_register(22).unwrap(),
        0,
        "control is the Secure one"
    );
    assert_eq!(session.register_size(56), None);
    assert!(session.read_register(56).is_err());
    // S_SDE is read again after a reset: still allowed here, the same registers.
    session.reset(true).unwrap();
    assert_eq!(session.banked_registers(), Some(Banked::Secure));
    assert_eq!(session.register_size(55), Some(4));
}

/// `cortex-m33-ns`: Secure debug not permitted (SPIDEN low), the core shown Non-secure. The
/// engine sees CSW.SPIDEN 0 on the AHB5-AP and makes every transfer Non-secure (HNONSEC),
/// reads S_SDE 0 and offers only msplim_ns/psplim_ns beside msp/psp; the Secure half of
/// SRAM answers a clear error; break, step and watch work.
#[test]
fn nonsecure_debugging_of_a_part_without_secure_debug() {
    let mut chip = Chip::new(Variant::CortexM33NonSecure);
    chip.load_firmware(&firmware_build().join("firmware-f4.elf"))
        .unwrap();
    let mut session = simulated::attached(simulated::wire(chip, true), HostClock::slowed(10));
    assert!(session.nonsecure_only());
    assert_eq!(session.banked_registers(), Some(Banked::NonSecure));
    assert_eq!(session.target_description(), TARGET_XML_NONSECURE_FPU);
    // Non-secure memory reads and writes; the Secure half of SRAM is refused, clearly.
    let counter = symbol("counter");
    let mut word = [0u8; 4];
    session.read_memory(counter, &mut word).unwrap();
    let secure_sram = 0x2001_0000;
    let refused = session.read_memory(secure_sram, &mut word).unwrap_err();
    assert_eq!(
        refused,
        Error::NonSecureRefused {
            address: secure_sram
        }
    );
    assert!(
        refused
            .to_string()
            .contains("Secure debug is not permitted"),
        "{refused}"
    );
    assert!(session.write_memory(secure_sram, &word).is_err());
    // The stack limits (GDB's 40, 41) and nothing Secure.
    session.write_register(40, 0x2000_0200).unwrap();
    session.write_register(41, 0x2000_0300).unwrap();
    assert_eq!(session.read_register(40).unwrap(), 0x2000_0200);
    assert_eq!(session.read_register(41).unwrap(), 0x2000_0300);
    assert!(session.read_register(42).is_err());
    // Run control as ever.
    let blink_step = symbol("blink_step") & !1;
    simulated::run_to(&mut session, blink_step);
    simulated::step(&mut session);
    let mut out = String::new();
    session.chip_command("security", "", &mut out).unwrap();
    assert!(
        out.contains("DSCSR 0x00000000: the core is in Non-secure state (CDS)"),
        "{out}"
    );
    assert!(out.contains("Secure debug disabled (DHCSR.S_SDE)"), "{out}");
    // DSCSR.SBRSEL is RAZ/WI without Secure debug: the command says it was not taken.
    let refused = session
        .chip_command("security", "sbrsel secure", &mut out)
        .unwrap_err();
    assert!(
        refused.to_string().contains("SBRSELEN/SBRSEL not taken"),
        "{refused}"
    );
    assert!(
        out.contains("Secure invasive debug disabled: the debugger reaches Non-secure"),
        "{out}"
    );
}
