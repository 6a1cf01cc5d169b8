//! CMSIS-Pack debug sequences run by the session on the simulated blue pill, on the
//! simulator's virtual clock: DebugPortStart and DebugDeviceUnlock at the scan,
//! DebugCoreStart (with debugvars) at attach, ResetSystem and the reset catch at reset,
//! and sequences that fail, leaving the probe serving.

mod common;

use common::virtual_wire::{self, VirtualClock, Wire};
use debug::{Error, HaltReason, HaltStatus, Session};
use sim::chip::Variant;

const RAM: u32 = 0x2000_0000;
const DBGMCU_CR: u32 = 0xE004_2004;
const VECTORS: u32 = 0x0800_0000;

const DESCRIPTION: &str = r#"
debugvars {
  __var DbgMCU_CR = 0x00000007;
}
sequence DebugPortStart {
  block {
    WriteDP(0x8, 0);
    WriteDP(0x0, 0x1E);
    WriteDP(0x4, 0x50000000);
  }
  control while ((ReadDP(0x4) & 0xA0000000) != 0xA0000000) timeout (100000) {
  }
}
sequence DebugDeviceUnlock {
  block {
    Write32(0x20000000, 0x600DF00D);
  }
}
sequence DebugCoreStart {
  block {
    Write32(0xE000EDF0, 0xA05F0001);
    Write32(0xE0042004, DbgMCU_CR);
  }
}
sequence ResetSystem {
  block {
    Write32(0x20000004, Read32(0x20000004) + 1);
    Write32(0xE000ED0C, 0x05FA0004);
  }
  control while ((Read32(0xE000EDF0) & 0x02000000) != 0) timeout (500000) {
  }
}
"#;

fn scanned(description: &str) -> (Session<Wire, VirtualClock>, Result<(), Error>) {
    let (wire, clock) = virtual_wire::wire(Variant::Stm32f103cb, None);
    let mut session = Session::new();
    session
        .load_sequences("", |text| {
            text.extend_from_slice(description.as_bytes()).is_ok()
        })
        .unwrap();
    let scanned = session.scan(wire, clock).map(|_| ());
    (session, scanned)
}

fn word(session: &mut Session<Wire, VirtualClock>, address: u32) -> u32 {
    let mut bytes = [0; 4];
    session.read_memory(address, &mut bytes).unwrap();
    u32::from_le_bytes(bytes)
}

#[test]
fn sequences_replace_the_built_in_steps() {
    let (mut session, scanned) = scanned(DESCRIPTION);
    scanned.unwrap();
    session.attach(1).unwrap();
    // DebugDeviceUnlock ran at the scan (before any AP was read), DebugCoreStart at attach.
    assert_eq!(word(&mut session, RAM), 0x600D_F00D);
    assert_eq!(word(&mut session, DBGMCU_CR), 7);

    // A debugvar overridden: the next attach writes the new value.
    session.set_debugvars("DbgMCU_CR = 0x2;").unwrap();
    session.detach().unwrap();
    session.reattach().unwrap();
    assert_eq!(word(&mut session, DBGMCU_CR), 2);

    // A program that loops at its reset handler, then a reset that halts there: the
    // description's ResetSystem (counting in RAM) with the standard reset catch.
    let mut image = Vec::new();
    for word in [RAM + 0x5000, VECTORS + 9, 0xE7FE_E7FE] {
        image.extend_from_slice(&u32::to_le_bytes(word));
    }
    session.flash_write(VECTORS, &image).unwrap();
    session.flash_done().unwrap();
    session.write_memory(RAM + 4, &[0; 4]).unwrap();
    session.reset(true).unwrap();
    assert_eq!(
        session.halt_poll().unwrap(),
        HaltStatus::Halted(HaltReason::Reset)
    );
    assert_eq!(session.read_register(15).unwrap(), VECTORS + 8);
    assert_eq!(word(&mut session, RAM + 4), 1);
    assert_eq!(
        word(&mut session, 0xE000_EDFC) & 1,
        0,
        "ResetCatchClear ran"
    );
    // Without halt the program runs on.
    session.reset(false).unwrap();
    assert_eq!(session.halt_poll().unwrap(), HaltStatus::Running);
    assert!(session.take_sequence_log().is_empty());
}

#[test]
fn a_failing_sequence_is_a_clear_error_and_the_probe_serves_on() {
    // An access that faults (no memory at 0xF0000000 on the F103) in DebugDeviceUnlock.
    let broken = "sequence DebugDeviceUnlock {\n  block {\n    Read32(0xF0000000);\n  }\n}";
    let (mut session, scanned) = scanned(broken);
    let Err(Error::Sequence(failure)) = scanned else {
        panic!("{scanned:?}");
    };
    assert_eq!(
        (failure.sequence, failure.line, failure.column),
        ("DebugDeviceUnlock", 3, 5)
    );
    let text = Error::Sequence(failure).to_string();
    assert!(
        text.starts_with("debug sequence DebugDeviceUnlock failed (line 3 column 5): Read32: "),
        "{text}"
    );
    assert!(session.take_sequence_log().contains("Read32 failed"));

    // With __errorcontrol set the same access goes on; a while's timeout is a warning.
    let tolerant = "sequence DebugDeviceUnlock {
      block {
        __errorcontrol = 1;
        Read32(0xF0000000);
        Write32(0x20000000, __Result);
      }
      control while (1) timeout (2000) {
      }
    }";
    session
        .load_sequences("", |text| {
            text.extend_from_slice(tolerant.as_bytes()).is_ok()
        })
        .unwrap();
    let (wire, clock) = session.release().unwrap();
    assert_eq!(session.scan(wire, clock).unwrap().count(), 1);
    session.attach(1).unwrap();
    assert_eq!(word(&mut session, RAM), u32::MAX);
    assert!(
        session
            .take_sequence_log()
            .contains("while loop timed out after 2000 us")
    );

    // A failing ResetSystem leaves the target halted and attached.
    let bad_reset =
        "sequence ResetSystem { block { Message(2, \"no reset for you: %x\", 0x5A); } }";
    session
        .load_sequences("", |text| {
            text.extend_from_slice(bad_reset.as_bytes()).is_ok()
        })
        .unwrap();
    let error = session.reset(true).unwrap_err();
    assert!(matches!(error, Error::Sequence(_)), "{error}");
    assert!(session.take_sequence_log().contains("no reset for you: 5a"));
    assert!(matches!(
        session.halt_poll().unwrap(),
        HaltStatus::Halted(_)
    ));
    session.clear_sequences();
    session.reset(true).unwrap();
    assert!(matches!(
        session.halt_poll().unwrap(),
        HaltStatus::Halted(_)
    ));
}

#[test]
fn syntax_errors_are_refused_at_load() {
    let mut session: Session<Wire, VirtualClock> = Session::new();
    let error = session
        .load_sequences("", |text| {
            text.extend_from_slice(b"sequence ResetSystem {\n  block {\n    Wrte32(1, 2);\n  }\n}")
                .is_ok()
        })
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "sequence syntax error at line 3 column 5: unknown function Wrte32"
    );
    assert!(!session.sequences().is_loaded());
}
