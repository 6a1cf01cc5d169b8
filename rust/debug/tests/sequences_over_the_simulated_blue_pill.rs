//! CMSIS-Pack debug sequences run by the session on the simulated blue pill, on the
//! simulator's virtual clock: DebugPortStart and DebugDeviceUnlock at the scan,
//! DebugCoreStart (with debugvars) at attach, ResetSystem and the reset catch at reset,
//! and sequences that fail, leaving the probe serving.

mod common;

use common::virtual_wire::{self, VirtualClock, Wire};
use debug::{Error, HaltReason, HaltStatus, ResetKind, Session};
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

/// Every other standard sequence the session runs, each leaving a message (and some a
/// count in RAM the program does not touch).
const EVERY_STEP: &str = r#"
sequence DebugPortSetup {
  block atomic {
    DAP_SWJ_Sequence(51, 0x0007FFFFFFFFFFFF);
    DAP_SWJ_Sequence(16, 0xE79E);
    DAP_SWJ_Sequence(51, 0x0007FFFFFFFFFFFF);
    DAP_SWJ_Sequence(3, 0x00);
    __var id = ReadDP(0x0);
  }
  block {
    Message(0, "DebugPortSetup: DPIDR %08x", id);
  }
}
sequence DebugPortStop {
  block {
    WriteDP(0x4, 0);
    Message(0, "DebugPortStop");
  }
}
sequence ResetProcessor {
  block {
    Write32(0x20004F10, Read32(0x20004F10) + 1);
    Write32(0xE000ED0C, 0x05FA0001);
    Message(0, "ResetProcessor");
  }
}
sequence ResetHardware {
  block {
    Write32(0x20004F14, Read32(0x20004F14) + 1);
    DAP_SWJ_Pins(0x00, 0x80, 0);
    DAP_Delay(100);
    Message(0, "ResetHardware");
  }
  control while ((DAP_SWJ_Pins(0x80, 0x80, 0) & 0x80) == 0) timeout (100000) {
  }
}
sequence FlashInit {
  block {
    Write32(0x20004F18, Read32(0x20004F18) + 1);
    Message(0, "FlashInit %d %x %x %d", __FlashOp, __FlashAddr, __FlashLen, __FlashArg);
  }
}
sequence FlashEraseDone { block { Message(0, "FlashEraseDone %d", __FlashOp); } }
sequence FlashProgramDone { block { Message(0, "FlashProgramDone %d", __FlashOp); } }
sequence FlashUninit {
  block {
    Message(0, "FlashUninit %d %x %x", __FlashOp, __FlashAddr, __FlashLen);
  }
}
sequence DebugCodeMemRemap { block { Message(0, "DebugCodeMemRemap"); } }
sequence TraceStart { block { Message(0, "TraceStart"); } }
sequence TraceStop { block { Message(0, "TraceStop"); } }
sequence RecoverySupportStart { block { Message(0, "RecoverySupportStart"); } }
sequence RecoverySupportStop { block { Message(0, "RecoverySupportStop"); } }
"#;

/// The log's lines since the last call.
fn log_lines(session: &mut Session<Wire, VirtualClock>) -> Vec<String> {
    session
        .take_sequence_log()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A program whose reset handler loops, `tag` in its fourth word.
fn looping_program(tag: u32) -> Vec<u8> {
    [RAM + 0x5000, VECTORS + 9, 0xE7FE_E7FE, tag]
        .iter()
        .flat_map(|word| word.to_le_bytes())
        .collect()
}

#[test]
fn every_standard_sequence_runs_where_the_session_does_that_step() {
    let (mut session, scanned) = scanned(EVERY_STEP);
    scanned.unwrap();
    assert_eq!(log_lines(&mut session), ["DebugPortSetup: DPIDR 1ba01477"]);
    session.attach(1).unwrap();
    session.write_memory(0x2000_4F10, &[0; 12]).unwrap();

    // Flash work into the erased flash: one program operation (__FlashOp 2, the 16
    // bytes' address and length) inside FlashInit and FlashUninit; nothing erased, so
    // no FlashEraseDone.
    session.flash_write(VECTORS, &looping_program(1)).unwrap();
    session.flash_done().unwrap();
    assert_eq!(
        log_lines(&mut session),
        [
            "FlashInit 2 8000000 10 0",
            "FlashUninit 2 8000000 10",
            "FlashProgramDone 2",
            "DebugCodeMemRemap"
        ]
    );
    // Over it: an erase operation (the 1 KiB page), then a program one (the page, now
    // erased, programmed whole), each inside its FlashInit and FlashUninit; FlashEraseDone and FlashProgramDone after both.
    session.flash_erase(VECTORS, 1024).unwrap();
    session.flash_write(VECTORS, &looping_program(2)).unwrap();
    session.flash_done().unwrap();
    assert_eq!(
        log_lines(&mut session),
        [
            "FlashInit 1 8000000 400 0",
            "FlashUninit 1 8000000 400",
            "FlashInit 2 8000000 400 0",
            "FlashUninit 2 8000000 400",
            "FlashEraseDone 1",
            "FlashProgramDone 2",
            "DebugCodeMemRemap"
        ]
    );
    assert_eq!(word(&mut session, 0x2000_4F18), 3);
    assert_eq!(word(&mut session, VECTORS + 12), 2);
    session.flash_done().unwrap();
    assert!(
        log_lines(&mut session).is_empty(),
        "no flash work, no sequences"
    );

    // The reset kinds, each halting at the reset handler through the standard catch.
    for (kind, count_at) in [
        (ResetKind::Processor, 0x2000_4F10),
        (ResetKind::Hardware, 0x2000_4F14),
    ] {
        session.reset_kind(kind, true).unwrap();
        assert_eq!(
            session.halt_poll().unwrap(),
            HaltStatus::Halted(HaltReason::Reset),
            "{kind:?}"
        );
        assert_eq!(session.read_register(15).unwrap(), VECTORS + 8, "{kind:?}");
        assert_eq!(word(&mut session, count_at), 1, "{kind:?}");
        assert_eq!(
            word(&mut session, 0xE000_EDFC) & 1,
            0,
            "ResetCatchClear ran"
        );
    }
    assert_eq!(log_lines(&mut session), ["ResetProcessor", "ResetHardware"]);

    // Trace on and off, TraceStart again after each reset while it is on (spec); a run
    // and the halt after it.
    session.trace(true).unwrap();
    session.reset(true).unwrap();
    session.reset_kind(ResetKind::Processor, true).unwrap();
    assert_eq!(
        log_lines(&mut session),
        ["TraceStart", "TraceStart", "ResetProcessor", "TraceStart"]
    );
    session.trace(false).unwrap();
    session.reset(true).unwrap();
    session.resume(false).unwrap();
    assert_eq!(session.halt_poll().unwrap(), HaltStatus::Running);
    session.halt_request().unwrap();
    assert!(matches!(
        session.halt_poll().unwrap(),
        HaltStatus::Halted(_)
    ));
    assert_eq!(
        log_lines(&mut session),
        ["TraceStop", "RecoverySupportStart", "RecoverySupportStop"]
    );

    // The wire goes elsewhere: DebugPortStop, once.
    let (wire, clock) = session.release().unwrap();
    assert_eq!(log_lines(&mut session), ["DebugPortStop"]);
    // A new scan on it: DebugPortSetup again, and DebugPortStop when it is dropped.
    assert_eq!(session.scan(wire, clock).unwrap().count(), 1);
    assert_eq!(log_lines(&mut session), ["DebugPortSetup: DPIDR 1ba01477"]);
    session.forget();
    assert_eq!(log_lines(&mut session), ["DebugPortStop"]);
}

#[test]
fn hardware_reset_by_assert_and_deassert_and_the_defaults_without_a_description() {
    let halves = r#"
sequence ResetHardwareAssert {
  block {
    DAP_SWJ_Pins(0x00, 0x80, 0);
    Message(0, "assert: nRESET %x", DAP_SWJ_Pins(0x00, 0x00, 0) & 0x80);
  }
}
sequence ResetHardwareDeassert {
  block {
    DAP_SWJ_Pins(0x80, 0x80, 10000);
    Message(0, "deassert: nRESET %x", DAP_SWJ_Pins(0x80, 0x00, 0) & 0x80);
  }
}
"#;
    let (mut session, scanned) = scanned(halves);
    scanned.unwrap();
    session.attach(1).unwrap();
    session.flash_write(VECTORS, &looping_program(3)).unwrap();
    session.flash_done().unwrap();
    session.reset_kind(ResetKind::Hardware, true).unwrap();
    assert_eq!(
        session.halt_poll().unwrap(),
        HaltStatus::Halted(HaltReason::Reset)
    );
    assert_eq!(
        log_lines(&mut session),
        ["assert: nRESET 0", "deassert: nRESET 80"]
    );

    // No description: the spec's default ResetProcessor (VECTRESET) and ResetHardware.
    session.clear_sequences();
    for kind in [ResetKind::Processor, ResetKind::Hardware, ResetKind::System] {
        session.write_register(15, VECTORS + 0x100).unwrap();
        session.reset_kind(kind, true).unwrap();
        assert_eq!(
            session.halt_poll().unwrap(),
            HaltStatus::Halted(HaltReason::Reset),
            "{kind:?}"
        );
        assert_eq!(session.read_register(15).unwrap(), VECTORS + 8, "{kind:?}");
    }
    // Without halt the program runs on.
    session.reset_kind(ResetKind::Hardware, false).unwrap();
    assert_eq!(session.halt_poll().unwrap(), HaltStatus::Running);
    assert!(log_lines(&mut session).is_empty());
}
