//! Semihosting argument decoding (rust/gdb/src/semihosting.rs): calls whose operation,
//! parameter block, names and lengths come from the input, served against the model
//! target's RAM and the model probe's in-memory files.
//!
//! Input: the target's RAM (up to 4 KiB at 0x2000_0000), then, from its last 40 bytes,
//! five calls of (operation, parameter). Operations are mostly the defined ones; parameters
//! mostly point into RAM. Checked: no panic, no hang, and no call moves more bytes to the
//! console or a file than the target's memory holds.
#![no_main]

use gdb::model::{Model, Probe, RAM, RAM_SIZE};
use gdb::semihosting::{Call, Files, Outcome};
use libfuzzer_sys::fuzz_target;

const CALLS: usize = 5;
const CALL_BYTES: usize = 8;
/// SYS_ELAPSED is the highest operation number served.
const OPERATIONS: u32 = 0x40;

fn word(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes.try_into().unwrap())
}

/// The length of each of the model probe's files (0 once closed).
fn file_lengths(probe: &Probe) -> Vec<usize> {
    let length = |file: &Option<Vec<u8>>| file.as_ref().map_or(0, Vec::len);
    probe.files.iter().map(length).collect()
}

fuzz_target!(|input: &[u8]| {
    if input.len() < CALLS * CALL_BYTES {
        return;
    }
    let (memory, calls) = input.split_at(input.len() - CALLS * CALL_BYTES);
    let mut target = Model::new();
    let length = memory.len().min(RAM_SIZE);
    target.ram[..length].copy_from_slice(&memory[..length]);
    let mut probe = Probe {
        input: memory.iter().rev().take(64).copied().collect(),
        ..Probe::default()
    };
    let mut files = Files::new();
    for call in calls.chunks_exact(CALL_BYTES) {
        let raw_operation = word(&call[..4]);
        let raw_parameter = word(&call[4..]);
        // Low bits pick the shape: a defined operation, a block in RAM; else the raw word.
        let operation = if raw_operation & 0x8000_0000 == 0 {
            raw_operation % OPERATIONS
        } else {
            raw_operation
        };
        let parameter = if raw_parameter & 0x8000_0000 == 0 {
            RAM + raw_parameter % RAM_SIZE as u32
        } else {
            raw_parameter
        };
        let console_before = probe.console.len();
        let files_before = file_lengths(&probe);
        let outcome = Call {
            target: &mut target,
            host: &mut probe,
            files: &mut files,
            started_micros: 0,
        }
        .serve(operation, parameter);
        let console = probe.console.len() - console_before;
        let written: usize = file_lengths(&probe)
            .iter()
            .enumerate()
            .map(|(slot, &length)| {
                length.saturating_sub(files_before.get(slot).copied().unwrap_or(0))
            })
            .sum();
        assert!(
            console <= RAM_SIZE && written <= RAM_SIZE,
            "operation {operation:#x} moved {console} bytes to the console and {written} to \
             files from {RAM_SIZE} bytes of memory"
        );
        if let Ok(Outcome::Exit(_) | Outcome::Abort) = outcome {
            break;
        }
    }
});
