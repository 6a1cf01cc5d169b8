//! The debug-sequence parser and interpreter (rust/sequence): any text loads or gives an
//! error (a failed load keeps nothing); what loads runs every sequence to its end or to an
//! error against a model target, with debugvar overrides from the input's second part.
//! The model's clock moves 1 s per reading, so every `while` ends within a few rounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sequence::{Context, MessageKind, Sequences, Target, Width};

struct Model {
    now: u64,
    accesses: u32,
}

impl Model {
    /// A value that depends on the address and on how many accesses came before; every
    /// 13th access fails.
    fn access(&mut self, address: u64) -> Result<u64, &'static str> {
        self.accesses += 1;
        if self.accesses % 13 == 0 {
            return Err("fault");
        }
        Ok(address.rotate_left(self.accesses % 64) ^ u64::from(self.accesses))
    }
}

impl Target for Model {
    type Error = &'static str;
    fn read_memory(&mut self, _: u8, address: u64, _: Width) -> Result<u64, &'static str> {
        self.access(address)
    }
    fn write_memory(&mut self, _: u8, address: u64, _: Width, _: u64) -> Result<(), &'static str> {
        self.access(address).map(|_| ())
    }
    fn read_ap(&mut self, _: u8, register: u8) -> Result<u32, &'static str> {
        self.access(u64::from(register)).map(|value| value as u32)
    }
    fn write_ap(&mut self, _: u8, register: u8, _: u32) -> Result<(), &'static str> {
        self.access(u64::from(register)).map(|_| ())
    }
    fn read_dp(&mut self, register: u8) -> Result<u32, &'static str> {
        self.access(u64::from(register)).map(|value| value as u32)
    }
    fn write_dp(&mut self, register: u8, _: u32) -> Result<(), &'static str> {
        self.access(u64::from(register)).map(|_| ())
    }
    fn read_access_ap(&mut self, _: u8, address: u64) -> Result<u32, &'static str> {
        self.access(address).map(|value| value as u32)
    }
    fn write_access_ap(&mut self, _: u8, address: u64, _: u32) -> Result<(), &'static str> {
        self.access(address).map(|_| ())
    }
    fn swj_pins(&mut self, output: u8, _: u8, _: u32) -> Result<u32, &'static str> {
        self.access(u64::from(output)).map(|value| value as u32)
    }
    fn swj_clock(&mut self, _: u32) -> Result<(), &'static str> {
        Ok(())
    }
    fn swj_sequence(&mut self, count: u8, _: u64) -> Result<(), &'static str> {
        assert!((1..=64).contains(&count));
        Ok(())
    }
    fn jtag_sequence(&mut self, count: u8, _: bool, tdi: u64) -> Result<u64, &'static str> {
        assert!((1..=64).contains(&count));
        self.access(tdi)
    }
    fn write_abort(&mut self, _: u32) -> Result<(), &'static str> {
        Ok(())
    }
    fn delay_micros(&mut self, micros: u32) {
        self.now += u64::from(micros);
    }
    fn now_micros(&mut self) -> u64 {
        self.now += 1_000_000;
        self.now
    }
    fn message(&mut self, _: MessageKind, text: &str) {
        assert!(text.len() <= 128);
    }
}

fuzz_target!(|input: &[u8]| {
    let (description, overrides) = match input.iter().position(|&byte| byte == 0) {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => (input, &[][..]),
    };
    let Ok(description) = core::str::from_utf8(description) else {
        return;
    };
    let mut sequences = Sequences::new();
    if sequences.load(description).is_err() {
        assert!(!sequences.is_loaded());
        return;
    }
    if let Ok(overrides) = core::str::from_utf8(overrides) {
        let before: Vec<(String, u64)> = sequences
            .debugvars()
            .map(|(name, value)| (name.into(), value))
            .collect();
        if sequences.set_debugvars(overrides).is_err() {
            let after: Vec<(String, u64)> = sequences
                .debugvars()
                .map(|(name, value)| (name.into(), value))
                .collect();
            assert_eq!(before, after, "a failed override changes nothing");
        }
    }
    let names: Vec<(String, String)> = sequences
        .names()
        .map(|(name, processor)| (name.into(), processor.into()))
        .collect();
    for (name, processor) in names {
        let mut model = Model {
            now: 0,
            accesses: 0,
        };
        let context = Context {
            protocol: 2,
            ..Context::default()
        };
        let _ = sequences.run(&name, &processor, &mut model, &context);
    }
});
