//! The interpreter against a model target: memory, DP and AP registers, pins and a clock
//! that moves 10 µs per access.

use sequence::{
    Context, Error, Fault, FlashOperation, MessageKind, Operation, STANDARD, Sequences, Target,
    Width,
};
use std::collections::HashMap;

/// Accesses to this address fail (a bus fault behind the MEM-AP).
const FAULTING: u64 = 0xDEAD_0000;
/// Reads of this address give 0 for `ready_after` reads, then 1.
const STATUS: u64 = 0x4000_0000;

#[derive(Default)]
struct Model {
    memory: HashMap<u64, u64>,
    accesses: Vec<String>,
    dp: HashMap<u8, u32>,
    ap: HashMap<(u8, u8), u32>,
    messages: Vec<(MessageKind, String)>,
    now: u64,
    ready_after: u32,
    status_reads: u32,
    reset_pin_low: bool,
    swj_bits: Vec<(u8, u64)>,
    /// The size of each atomic block's batch, in order.
    batches: Vec<usize>,
}

impl Target for Model {
    type Error = &'static str;

    fn read_memory(&mut self, ap: u8, address: u64, width: Width) -> Result<u64, &'static str> {
        self.now += 10;
        self.accesses
            .push(format!("R{} {ap} {address:#x}", width.bytes() * 8));
        if address == FAULTING {
            return Err("bus fault");
        }
        if address == STATUS {
            self.status_reads += 1;
            return Ok(u64::from(self.status_reads > self.ready_after));
        }
        Ok(*self.memory.get(&address).unwrap_or(&0))
    }

    fn write_memory(
        &mut self,
        ap: u8,
        address: u64,
        width: Width,
        value: u64,
    ) -> Result<(), &'static str> {
        self.now += 10;
        self.accesses.push(format!(
            "W{} {ap} {address:#x} {value:#x}",
            width.bytes() * 8
        ));
        if address == FAULTING {
            return Err("bus fault");
        }
        self.memory.insert(address, value);
        Ok(())
    }

    fn read_ap(&mut self, ap: u8, register: u8) -> Result<u32, &'static str> {
        self.now += 10;
        Ok(*self.ap.get(&(ap, register)).unwrap_or(&0))
    }

    fn write_ap(&mut self, ap: u8, register: u8, value: u32) -> Result<(), &'static str> {
        self.now += 10;
        self.ap.insert((ap, register), value);
        Ok(())
    }

    fn read_dp(&mut self, register: u8) -> Result<u32, &'static str> {
        self.now += 10;
        // CTRL/STAT acknowledges the power-up requests at once.
        let value = *self.dp.get(&register).unwrap_or(&0);
        Ok(if register == 4 {
            value | (value & 0x5000_0000) << 1
        } else {
            value
        })
    }

    fn write_dp(&mut self, register: u8, value: u32) -> Result<(), &'static str> {
        self.now += 10;
        self.dp.insert(register, value);
        Ok(())
    }

    fn read_access_ap(&mut self, _: u8, _: u64) -> Result<u32, &'static str> {
        Err("no ADIv6 AP space")
    }

    fn write_access_ap(&mut self, _: u8, _: u64, _: u32) -> Result<(), &'static str> {
        Err("no ADIv6 AP space")
    }

    fn swj_pins(&mut self, output: u8, select: u8, _: u32) -> Result<u32, &'static str> {
        if select & 0x80 != 0 {
            self.reset_pin_low = output & 0x80 == 0;
        }
        Ok(if self.reset_pin_low { 0x00 } else { 0x80 })
    }

    fn swj_clock(&mut self, _: u32) -> Result<(), &'static str> {
        Ok(())
    }

    fn swj_sequence(&mut self, count: u8, bits: u64) -> Result<(), &'static str> {
        self.swj_bits.push((count, bits));
        Ok(())
    }

    fn jtag_sequence(&mut self, _: u8, _: bool, _: u64) -> Result<u64, &'static str> {
        Err("no JTAG")
    }

    fn write_abort(&mut self, value: u32) -> Result<(), &'static str> {
        self.dp.insert(0, value);
        Ok(())
    }

    fn delay_micros(&mut self, micros: u32) {
        self.now += u64::from(micros);
    }

    fn now_micros(&mut self) -> u64 {
        self.now
    }

    fn message(&mut self, kind: MessageKind, text: &str) {
        self.accesses.push(format!("message {text}"));
        self.messages.push((kind, text.to_string()));
    }

    fn batch(
        &mut self,
        operations: &[Operation],
        results: &mut [u64],
    ) -> Result<(), (usize, &'static str)> {
        self.batches.push(operations.len());
        self.accesses.push(format!("batch of {}", operations.len()));
        for (index, operation) in operations.iter().enumerate() {
            results[index] = self.perform(operation).map_err(|error| (index, error))?;
        }
        Ok(())
    }
}

fn loaded(text: &str) -> Sequences {
    let mut sequences = Sequences::new();
    sequences.load(text).unwrap();
    sequences
}

fn run(text: &str, name: &str) -> (Model, Result<(), Error<&'static str>>) {
    let sequences = loaded(text);
    let mut model = Model::default();
    let result = sequences.run(name, "", &mut model, &Context::default());
    (model, result)
}

fn word(model: &Model, address: u64) -> u64 {
    *model.memory.get(&address).unwrap_or(&0)
}

fn fault(result: Result<(), Error<&'static str>>) -> Fault<&'static str> {
    match result {
        Err(Error::Run { fault, .. }) => fault,
        other => panic!("expected a run error, got {other:?}"),
    }
}

#[test]
fn the_standard_sequences_are_valid_text() {
    let sequences = loaded(STANDARD);
    for name in [
        "DebugPortSetup",
        "DebugPortStart",
        "DebugPortStop",
        "DebugCoreStart",
        "DebugCoreStop",
        "ResetSystem",
        "ResetProcessor",
        "ResetHardware",
        "ResetCatchSet",
        "ResetCatchClear",
        "DebugDeviceUnlock",
        "TraceStart",
        "TraceStop",
    ] {
        assert!(sequences.has(name, ""), "{name}");
    }
}

#[test]
fn expressions_follow_c() {
    let text = "sequence S {
      block {
        __var a = 1 + 2 * 3;                 // 7
        __var b = (1 + 2) * 3;               // 9
        __var c = 1 << 4 | 1 & 3 ^ 2;        // 16 | ((1 & 3) ^ 2) = 19
        __var d = 10 - 4 - 3;                // left to right: 3
        __var e = -1;                        // wraps
        __var f = !0 + ~0xFFFFFFFFFFFFFFF0;  // 1 + 0xF
        __var g = 5 > 3 == 1;                // (5 > 3) == 1
        __var h = 0 ? 11 : 1 ? 22 : 33;      // 22
        __var i = 1 << 64;                   // shifted out: 0
        __var j = 0b101u + 0x10 % 7 + 17 / 5;// 5 + 2 + 3
        a += 1; b <<= 1; d |= 0x100;
        Write32(0x0, a); Write32(0x8, b); Write32(0x10, c); Write32(0x18, d);
        Write64(0x20, e); Write32(0x28, f); Write32(0x30, g); Write32(0x38, h);
        Write32(0x40, i); Write32(0x48, j);
        Write32(0x50, 3 && 0 || 2); Write32(0x58, 0xFFFFFFFFFFFFFFFF + 2);
      }
    }";
    let (model, result) = run(text, "S");
    result.unwrap();
    let expected = [8, 18, 19, 0x103, u64::MAX, 16, 1, 22, 0, 10, 1, 1];
    for (index, value) in expected.iter().enumerate() {
        assert_eq!(word(&model, index as u64 * 8), *value, "slot {index}");
    }
}

#[test]
fn short_circuits_do_not_touch_the_target() {
    let text = format!(
        "sequence S {{ block {{
            __var x = 0 && Read32({FAULTING});
            __var y = 1 || Read32({FAULTING});
            __var z = 1 ? 5 : Read32({FAULTING});
            Write32(0, x + y + z);
        }} }}"
    );
    let (model, result) = run(&text, "S");
    result.unwrap();
    assert_eq!(word(&model, 0), 6);
    assert_eq!(model.accesses, ["W32 0 0x0 0x6"]);
}

#[test]
fn debugvars_can_be_overridden() {
    let text = "debugvars {
        __var DbgMCU_CR = 0x00000007;
        __var Both = DbgMCU_CR | 0x10;
      }
      sequence DebugCoreStart {
        block { Write32(0xE0042004, DbgMCU_CR); Write32(0xE0042008, Both); }
      }";
    let mut sequences = loaded(text);
    assert_eq!(
        sequences.debugvars().collect::<Vec<_>>(),
        [("DbgMCU_CR", 7), ("Both", 0x17)]
    );
    let mut model = Model::default();
    sequences
        .run("DebugCoreStart", "", &mut model, &Context::default())
        .unwrap();
    assert_eq!(word(&model, 0xE0042004), 7);

    sequences
        .set_debugvars("DbgMCU_CR = 0; Both += 1;")
        .unwrap();
    let mut model = Model::default();
    sequences
        .run("DebugCoreStart", "", &mut model, &Context::default())
        .unwrap();
    assert_eq!(word(&model, 0xE0042004), 0);
    assert_eq!(word(&model, 0xE0042008), 0x18);

    // All or nothing: an unknown name leaves the values as they were.
    assert!(matches!(
        sequences.set_debugvars("DbgMCU_CR = 5; Nope = 1;"),
        Err(Error::NoSuchDebugvar(name)) if name == "Nope"
    ));
    assert_eq!(sequences.debugvars().next(), Some(("DbgMCU_CR", 0)));
    assert!(matches!(
        sequences.set_debugvars("__var DbgMCU_CR = 1;"),
        Err(Error::Syntax { .. })
    ));
    assert!(matches!(
        sequences.set_debugvars("DbgMCU_CR = Read32(0);"),
        Err(Error::Syntax { .. })
    ));
    // Debugvars are read-only in sequences.
    let text = "debugvars { __var X = 1; } sequence S { block { X = 2; } }";
    assert!(matches!(fault(run(text, "S").1), Fault::ReadOnly(name) if name == "X"));
}

#[test]
fn while_polls_until_true_or_timeout() {
    let text = format!(
        "sequence S {{
          control while ((Read32({STATUS}) & 1) == 0) timeout (1000) {{
            block {{ Write32(0x10, Read32(0x10) + 1); }}
          }}
          block {{ Write32(0x20, 1); }}
        }}"
    );
    let sequences = loaded(&text);
    let mut model = Model {
        ready_after: 3,
        ..Model::default()
    };
    sequences
        .run("S", "", &mut model, &Context::default())
        .unwrap();
    assert_eq!(word(&model, 0x10), 3);
    assert!(model.messages.is_empty());

    // Never ready: the loop ends at its timeout with a warning, and the sequence goes on.
    let mut model = Model {
        ready_after: u32::MAX,
        ..Model::default()
    };
    sequences
        .run("S", "", &mut model, &Context::default())
        .unwrap();
    assert_eq!(word(&model, 0x20), 1);
    assert!(model.now >= 1000 && model.now < 1100, "{}", model.now);
    assert_eq!(model.messages.len(), 1);
    assert_eq!(model.messages[0].0, MessageKind::Warning);
    assert!(
        model.messages[0].1.contains("timed out"),
        "{:?}",
        model.messages
    );
}

#[test]
fn an_idle_while_waits_and_an_untimed_one_is_stopped() {
    let (model, result) = run("sequence S { control while (1) timeout (50000) { } }", "S");
    result.unwrap();
    assert!(model.now >= 50_000 && model.now <= 50_100, "{}", model.now);

    let (model, result) = run("sequence S {\n control while (1) {\n }\n}", "S");
    let Err(Error::Run { at, fault, .. }) = result else {
        panic!("{result:?}");
    };
    assert!(matches!(fault, Fault::WhileNeverEnds { .. }));
    assert_eq!((at.line, at.column), (2, 2));
    assert!(model.now >= sequence::MAX_UNTIMED_WHILE_MICROS);
}

#[test]
fn syntax_errors_say_where() {
    let cases: &[(&str, u32, u32, &str)] = &[
        (
            "sequence S {\n  block {\n    Write32(1 2);\n  }\n}",
            3,
            15,
            "expected , between arguments",
        ),
        (
            "sequence S {\n  block {\n    __var = 1;\n  }\n}",
            3,
            11,
            "expected a name after __var",
        ),
        (
            "sequence S {\n  block { Write32(1, 2) }\n}",
            2,
            25,
            "expected ; after the statement",
        ),
        (
            "sequence S {\n  Write32(1, 2);\n}",
            2,
            3,
            "expected block, control or } in a body",
        ),
        (
            "sequence S {\n  block { x = 0x; }\n}",
            2,
            15,
            "digits missing after 0x or 0b",
        ),
        (
            "sequence S {\n  block { Read32(); }\n}",
            2,
            11,
            "too few arguments",
        ),
        (
            "sequence S {\n  control timeout (x) { }\n}",
            2,
            20,
            "timeout takes a number (microseconds)",
        ),
        (
            "sequence S {\n  block { Sequence(1); }\n}",
            2,
            20,
            "expected a string argument",
        ),
        (
            "sequence S {\n  block {\n",
            3,
            1,
            "the text ends inside an expression",
        ),
        ("flash S { }", 1, 1, "expected sequence or debugvars"),
        (
            "debugvars { __var x = Read32(0); }",
            1,
            23,
            "debugvars take constants, not functions",
        ),
    ];
    for &(text, line, column, message) in cases {
        let mut sequences = Sequences::new();
        match sequences.load(text) {
            Err(Error::Syntax {
                at, message: found, ..
            }) => {
                assert_eq!(
                    (at.line, at.column, found),
                    (line, column, message),
                    "{text}"
                );
            }
            other => panic!("{text}: {other:?}"),
        }
        assert!(!sequences.is_loaded());
    }
    let mut sequences = Sequences::new();
    let error = sequences
        .load("sequence S {\n  block {\n    Reed32(0);\n  }\n}")
        .unwrap_err();
    assert!(matches!(&error, Error::Syntax { name: Some(name), .. } if name == "Reed32"));
    assert_eq!(
        error.to_string(),
        "sequence syntax error at line 3 column 5: unknown function Reed32"
    );
    // Unknown functions are found in bodies that would never run, too.
    assert!(
        sequences
            .load("sequence S { control if (0) { block { Nope(); } } }")
            .is_err()
    );
    assert!(matches!(
        sequences.load("sequence S { } sequence S { }"),
        Err(Error::Duplicate(_))
    ));
    let deep = format!(
        "sequence S {{ block {{ x = {}1{}; }} }}",
        "(".repeat(100),
        ")".repeat(100)
    );
    assert!(matches!(sequences.load(&deep), Err(Error::Syntax { .. })));
    let nested = format!(
        "sequence S {{ {} {} }}",
        "control {".repeat(11),
        "}".repeat(11)
    );
    assert!(matches!(sequences.load(&nested), Err(Error::Syntax { .. })));
}

#[test]
fn a_failing_access_stops_the_run_unless_errorcontrol_says_go_on() {
    let text = format!(
        "sequence S {{
          block {{
            Write32(0x0, 1);
            Read32({FAULTING});
            Write32(0x0, 2);
          }}
        }}"
    );
    let (model, result) = run(&text, "S");
    assert_eq!(word(&model, 0), 1);
    let Err(error) = result else { panic!() };
    assert_eq!(
        error.to_string(),
        "sequence S (line 4 column 13): Read32 failed: bus fault"
    );

    let text = format!(
        "sequence S {{
          block {{
            __errorcontrol = 1;
            Write32(0x8, Read32({FAULTING}) + 5);
            Write64(0x10, __Result);
          }}
        }}"
    );
    let (model, result) = run(&text, "S");
    result.unwrap();
    assert_eq!(word(&model, 0x8), 5);
    assert_eq!(word(&model, 0x10), u64::MAX);
}

#[test]
fn sequence_calls_have_frames_and_reach_the_standard_ones() {
    let text = "sequence Outer {
        block {
          __var mine = 1;
          __ap = 2;
          Sequence(\"Inner\");
          Write32(0x0, __ap);
          Sequence(\"ResetCatchSet\");
        }
      }
      sequence Inner {
        block {
          Write32(0x8, __ap);
          __ap = 3;
          Write32(0xC, 1);
        }
      }";
    let (model, result) = run(text, "Outer");
    result.unwrap();
    assert!(model.accesses.contains(&"W32 2 0x8 0x2".to_string()));
    assert!(model.accesses.contains(&"W32 3 0xc 0x1".to_string()));
    assert_eq!(word(&model, 0), 2, "__ap is the caller's again");
    assert_eq!(
        word(&model, 0xE000EDFC),
        1,
        "standard ResetCatchSet sets VC_CORERESET"
    );

    let text = "sequence S { block { Write32(0, mine); } } sequence T { block { __var mine = 1; Sequence(\"S\"); } }";
    assert!(matches!(fault(run(text, "T").1), Fault::UnknownVariable(name) if name == "mine"));
    let text = "sequence S { block { Sequence(\"S\"); } }";
    assert!(matches!(fault(run(text, "S").1), Fault::CallsTooDeep));
    let text = "sequence S { block { Sequence(\"Nowhere\"); } }";
    assert!(matches!(fault(run(text, "S").1), Fault::UnknownSequence(_)));
    let (_, result) = run("sequence S { }", "T");
    assert!(matches!(result, Err(Error::NoSuchSequence(_))));
}

#[test]
fn scopes_are_sequences_and_controls_not_blocks() {
    let text = "sequence S {
        block { __var a = 1; }
        block { a = a + 1; }
        control if (1) { block { __var a = 10; Write32(0x0, a); } }
        block { Write32(0x8, a); }
        control while (a < 5) timeout (100000) { block { __var b = a; a = b + 1; } }
        block { Write32(0x10, a); }
      }";
    let (model, result) = run(text, "S");
    result.unwrap();
    assert_eq!(word(&model, 0), 10);
    assert_eq!(word(&model, 8), 2);
    assert_eq!(word(&model, 0x10), 5);
    let text = "sequence S { block { __var a = 1; } block { __var a = 2; } }";
    assert!(matches!(fault(run(text, "S").1), Fault::Redeclared(_)));
    let text = "sequence S { block { __protocol = 1; } }";
    assert!(matches!(fault(run(text, "S").1), Fault::ReadOnly(_)));
    let text = "sequence S { block { Write32(0, 1 / (__ap - __ap)); } }";
    assert!(matches!(fault(run(text, "S").1), Fault::DivideByZero));
}

#[test]
fn messages_queries_and_pins() {
    let text = "sequence S {
        block {
          Message(0, \"value %08X, %u%%, %d\", 0xBEEF, 42, -1);
          __var answer = Query(1, \"Erase all?\", 3) + QueryValue(\"Number\", 7);
          Write32(0, answer);
          DAP_SWJ_Sequence(51, 0x0007FFFFFFFFFFFF);
          Write32(8, DAP_SWJ_Pins(0x00, 0x80, 0));
          Write32(0xC, DAP_SWJ_Pins(0x80, 0x80, 0));
        }
        control if (1) { block { Message(2, \"locked: %x\", 0x1f); } }
        block { Write32(0x10, 1); }
      }";
    let (model, result) = run(text, "S");
    assert_eq!(
        model.messages[0],
        (MessageKind::Info, "value 0000BEEF, 42%, -1".into())
    );
    assert_eq!(word(&model, 0), 10);
    assert_eq!(model.swj_bits, [(51, 0x0007FFFFFFFFFFFF)]);
    assert_eq!((word(&model, 8), word(&model, 0xC)), (0x00, 0x80));
    assert!(matches!(fault(result), Fault::Message(text) if text == "locked: 1f"));
    assert_eq!(word(&model, 0x10), 0, "an error message stops the run");
    let text = "sequence S { block { DAP_SWJ_Sequence(65, 0); } }";
    assert!(matches!(fault(run(text, "S").1), Fault::BadArgument(_)));
}

#[test]
fn processors_pick_their_own_sequence() {
    let text = "sequence R \"CM7\" { block { Write32(0, 7); } }
                sequence R { block { Write32(0, 1); } }";
    let sequences = loaded(text);
    let mut model = Model::default();
    sequences
        .run("R", "CM7", &mut model, &Context::default())
        .unwrap();
    assert_eq!(word(&model, 0), 7);
    sequences
        .run("R", "CM4", &mut model, &Context::default())
        .unwrap();
    assert_eq!(word(&model, 0), 1);
}

#[test]
fn standard_debug_port_start_powers_up() {
    let sequences = loaded(STANDARD);
    let mut model = Model::default();
    let context = Context {
        protocol: 2,
        ..Context::default()
    };
    sequences
        .run("DebugPortStart", "", &mut model, &context)
        .unwrap();
    assert_eq!(model.dp[&4], 0x5000_0F00);
    assert_eq!(model.dp[&0], 0x1E);
}

/// `__FlashOp`, `__FlashAddr`, `__FlashLen`, `__FlashArg` are the run's flash operation
/// (read-only, and kept in a nested `Sequence()`), and 0 outside one.
#[test]
fn the_flash_variables_are_the_runs_flash_operation() {
    let sequences = loaded(
        "sequence FlashInit {\n  block {\n    Sequence(\"Record\");\n  }\n}\n\
         sequence Record {\n  block {\n    Write32(0x100, __FlashOp);\n    \
         Write32(0x104, __FlashAddr);\n    Write32(0x108, __FlashLen);\n    \
         Write32(0x10C, __FlashArg);\n  }\n}\n\
         sequence Assign {\n  block {\n    __FlashOp = 1;\n  }\n}\n",
    );
    let mut model = Model::default();
    let flash = FlashOperation {
        operation: FlashOperation::PROGRAM,
        address: 0x0800_0400,
        length: 0x800,
        argument: 7,
    };
    let context = Context {
        flash,
        ..Context::default()
    };
    sequences
        .run("FlashInit", "", &mut model, &context)
        .unwrap();
    let recorded: Vec<u64> = (0..4).map(|i| word(&model, 0x100 + 4 * i)).collect();
    assert_eq!(recorded, [2, 0x0800_0400, 0x800, 7]);
    sequences
        .run("Record", "", &mut model, &Context::default())
        .unwrap();
    let recorded: Vec<u64> = (0..4).map(|i| word(&model, 0x100 + 4 * i)).collect();
    assert_eq!(recorded, [0; 4]);
    let assigned = sequences.run("Assign", "", &mut model, &context);
    assert!(matches!(fault(assigned), Fault::ReadOnly(_)));
}

/// Every prefix and 1000 garbled copies of a valid description load or fail cleanly.
#[test]
fn garbage_is_refused_without_a_panic() {
    let text = STANDARD;
    for end in (0..text.len()).step_by(5) {
        if text.is_char_boundary(end) {
            let _ = Sequences::new().load(&text[..end]);
        }
    }
    let mut state = 0x1234_5678u32;
    let mut random = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let alphabet = b"(){};,=+-*/%<>!&|^~?:\"0x1_aZ \n";
    for round in 0..1000 {
        let mut bytes = text.as_bytes().to_vec();
        for _ in 0..1 + random() % 4 {
            let at = random() as usize % bytes.len();
            bytes[at] = alphabet[random() as usize % alphabet.len()];
        }
        let garbled = String::from_utf8(bytes).unwrap();
        let mut sequences = Sequences::new();
        // Every tenth one that loads also runs (each waits out its loops' timeouts).
        if sequences.load(&garbled).is_ok() && round % 10 == 0 {
            for (name, _) in sequences.names().collect::<Vec<_>>() {
                let mut model = Model::default();
                let _ = sequences.run(
                    name,
                    "",
                    &mut model,
                    &Context {
                        protocol: 2,
                        ..Context::default()
                    },
                );
            }
        }
    }
}

#[test]
fn standard_sequences_run_where_the_description_has_none() {
    let sequences = loaded("sequence ResetSystem { block { Write32(0x0, 1); } }");
    let mut model = Model::default();
    let context = Context::default();
    sequences
        .run_or_standard("ResetSystem", "", &mut model, &context)
        .unwrap();
    assert_eq!(word(&model, 0), 1);
    sequences
        .run_or_standard("ResetCatchSet", "", &mut model, &context)
        .unwrap();
    assert_eq!(word(&model, 0xE000EDFC), 1);
    assert!(matches!(
        sequences.run_or_standard("Nonesuch", "", &mut model, &context),
        Err(Error::NoSuchSequence(_))
    ));
    assert!(matches!(
        Sequences::new().load("sequence S { block { Message(0, \"\u{e9}\"); } }"),
        Ok(())
    ));
}

#[test]
fn an_atomic_block_is_one_batch_and_its_reads_arrive_after_it() {
    let text = "sequence S {
      block {
        Write32(0x100, 0x1234);
      }
      block atomic {
        Write32(0x104, 7);
        __var a = Read32(0x100) & 0xFF;
        __var b = 5;
        Write32(0x108, b + 1);
        Message(0, \"in the block %d\", b);
        b = ReadDP(0x4) + 1;
        DAP_Delay(100);
      }
      block {
        Write32(0x200, a);
        Write32(0x204, b);
      }
    }";
    let (model, result) = run(text, "S");
    result.unwrap();
    assert_eq!(model.batches, [5]);
    assert_eq!(word(&model, 0x200), 0x34);
    assert_eq!(word(&model, 0x204), 1);
    assert_eq!(word(&model, 0x108), 6);
    // Nothing between the batch's accesses; the message once, after them.
    assert_eq!(
        model.accesses,
        [
            "W32 0 0x100 0x1234",
            "batch of 5",
            "W32 0 0x104 0x7",
            "R32 0 0x100",
            "W32 0 0x108 0x6",
            "message in the block 5",
            "W32 0 0x200 0x34",
            "W32 0 0x204 0x1",
        ]
    );
    // DAP_Delay is in the batch: the model's clock moved by it.
    assert!(model.now >= 100);
}

#[test]
fn an_atomic_block_stops_at_its_failing_access() {
    // The error names the failing statement; the accesses after it are not made.
    let text = format!(
        "sequence S {{
          block atomic {{
            Write32(0x0, 1);
            Write32({FAULTING}, 2);
            Write32(0x8, 3);
          }}
        }}"
    );
    let (model, result) = run(&text, "S");
    assert_eq!(model.batches, [3]);
    assert_eq!(word(&model, 0), 1);
    assert_eq!(word(&model, 8), 0);
    let Err(error) = result else { panic!() };
    assert_eq!(
        error.to_string(),
        "sequence S (line 4 column 13): Write32 failed: bus fault"
    );

    // With __errorcontrol bit 0 the failing and later accesses give 0, __Result is -1.
    let text = format!(
        "sequence S {{
          block {{
            __errorcontrol = 1;
            Write32(0x20, 0x55);
          }}
          block atomic {{
            __var a = Read32(0x20);
            __var b = Read32({FAULTING});
            __var c = Read32(0x20);
          }}
          block {{
            Write32(0x30, a);
            Write32(0x34, b + 1);
            Write32(0x38, c + 2);
            Write64(0x40, __Result);
          }}
        }}"
    );
    let (model, result) = run(&text, "S");
    result.unwrap();
    assert_eq!(word(&model, 0x30), 0x55);
    assert_eq!(word(&model, 0x34), 1);
    assert_eq!(word(&model, 0x38), 2);
    assert_eq!(word(&model, 0x40), u64::MAX);

    // An error while the accesses are collected: none is made.
    let text = "sequence S {
      block atomic {
        Write32(0x0, 1);
        __var x = 1 / 0;
      }
    }";
    let (model, result) = run(text, "S");
    assert!(model.accesses.is_empty());
    assert_eq!(fault(result), Fault::DivideByZero);
}

#[test]
fn what_an_atomic_block_may_not_do_is_refused_at_load() {
    let thirty_three = "Write32(0x0, 1);\n".repeat(33);
    let cases: &[(&str, &str)] = &[
        (
            "Sequence(\"DebugPortStart\");",
            "Sequence() and Query() may not be in an atomic block",
        ),
        (
            "__var q = Query(1, \"go?\", 3);",
            "Sequence() and Query() may not be in an atomic block",
        ),
        (
            "Write32(0x0, Read32(0x4));",
            "a value read in an atomic block is used in it",
        ),
        (
            "__var a = Read32(0x4);\n Write32(0x0, a);",
            "a value read in an atomic block is used in it",
        ),
        (
            "__var a = ReadDP(0);\n a += 1;",
            "a value read in an atomic block is used in it",
        ),
        (
            "Read32(0x4) && Write32(0x0, 1);",
            "a value read in an atomic block is used in it",
        ),
        (
            "__var a = DAP_SWJ_Pins(0, 0, 0) ? 1 : 2;",
            "a value read in an atomic block is used in it",
        ),
        (&thirty_three, "an atomic block holds at most 32 accesses"),
    ];
    for &(body, message) in cases {
        let text = format!("sequence S {{\n  block atomic {{\n {body}\n  }}\n}}");
        let mut sequences = Sequences::new();
        match sequences.load(&text) {
            Err(Error::Syntax { message: got, .. }) => assert_eq!(got, message, "{body}"),
            other => panic!("{body}: {other:?}"),
        }
        // The same statements in a plain block are fine (all but the 33 writes, which are
        // fine too).
        let plain = format!("sequence S {{\n  block {{\n {body}\n  }}\n}}");
        Sequences::new().load(&plain).unwrap();
    }
    // A read value may be used after the block, and a variable that was used may then
    // take a read value.
    loaded(
        "sequence S { block atomic { __var a = 1; Write32(0, a); a = Read32(0); } block { Write32(4, a); } }",
    );
}
