use super::*;
use crate::chip::debug::{DFSR_BKPT, DFSR_DWTTRAP};

const FP_CTRL: u32 = 0xE000_2000;
const FP_COMP0: u32 = 0xE000_2008;
const DWT_COMP0: u32 = 0xE000_1020;
const DWT_MASK0: u32 = 0xE000_1024;
const DWT_FUNCTION0: u32 = 0xE000_1028;
const MATCHED: u32 = 1 << 24;
const DWT_CTRL: u32 = 0xE000_1000;
/// DEMCR.TRCENA (ARMv6-M: DWTENA): the DWT works only with it set.
const TRCENA: u32 = 1 << 24;

#[test]
fn fpb_layout() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    let control = read(&mut chip, FP_CTRL);
    assert_eq!(
        (control >> 4) & 0xF | ((control >> 12) & 0x7) << 4,
        6,
        "NUM_CODE"
    );
    assert_eq!((control >> 8) & 0xF, 2, "NUM_LIT");
    assert_eq!(control >> 28, 0, "version 1");
    write(&mut chip, FP_CTRL, 1);
    assert_eq!(
        read(&mut chip, FP_CTRL) & 1,
        0,
        "a write without KEY is ignored"
    );
    write(&mut chip, FP_CTRL, 3);
    assert_eq!(read(&mut chip, FP_CTRL) & 1, 1);
}

fn break_at(chip: &mut Chip, comparator: u32, replace: u32, word: u32) {
    write(chip, FP_CTRL, 3);
    write(chip, FP_COMP0 + 4 * comparator, replace << 30 | word | 1);
}

#[test]
fn fpb_breakpoint_on_the_lower_half_word() {
    let mut chip = chip_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    break_at(&mut chip, 0, 0b01, CODE + 4);
    wait(&mut chip, 10_000);
    assert!(chip.core_status().halted);
    assert_eq!(take_fault_status(&mut chip), DFSR_BKPT);
    assert_eq!(
        read_register(&mut chip, 15),
        CODE + 4,
        "halted before the instruction"
    );
    assert_eq!(chip.peek(COUNTER), Some(0));
}

#[test]
fn fpb_breakpoint_on_the_upper_half_word() {
    let mut chip = chip_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    break_at(&mut chip, 5, 0b10, CODE + 4);
    wait(&mut chip, 10_000);
    assert_eq!(read_register(&mut chip, 15), CODE + 6);
}

#[test]
fn fpb_breakpoints_need_the_unit_enabled() {
    let mut chip = chip_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    break_at(&mut chip, 0, 0b11, CODE + 4);
    write(&mut chip, FP_CTRL, 2);
    wait(&mut chip, 10_000);
    assert!(!chip.core_status().halted);
}

fn watch(chip: &mut Chip, function: u32) {
    write(chip, DEMCR, TRCENA);
    write(chip, DWT_COMP0, COUNTER);
    write(chip, DWT_MASK0, 2);
    write(chip, DWT_FUNCTION0, function);
}

#[test]
fn write_watchpoint_halts_after_the_store() {
    let mut chip = chip_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    watch(&mut chip, 6);
    wait(&mut chip, 10_000);
    assert!(chip.core_status().halted);
    assert_eq!(take_fault_status(&mut chip), DFSR_DWTTRAP);
    assert_eq!(read_register(&mut chip, 15), CODE + 8, "after the str");
    assert_eq!(chip.peek(COUNTER), Some(1));
    assert_eq!(read(&mut chip, DWT_FUNCTION0), MATCHED | 6);
    assert_eq!(read(&mut chip, DWT_FUNCTION0), 6, "MATCHED clears on read");
    resume(&mut chip);
    wait(&mut chip, 10_000);
    assert_eq!(chip.peek(COUNTER), Some(2), "the next store halts again");
}

#[test]
fn read_watchpoint_halts_after_the_load() {
    let mut chip = chip_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    watch(&mut chip, 5);
    wait(&mut chip, 10_000);
    assert_eq!(take_fault_status(&mut chip), DFSR_DWTTRAP);
    assert_eq!(read_register(&mut chip, 15), CODE + 4, "after the ldr");
    assert_eq!(chip.peek(COUNTER), Some(0));
}

#[test]
fn access_watchpoint_and_the_mask() {
    let mut chip = chip_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    write(&mut chip, DEMCR, TRCENA);
    write(&mut chip, DWT_COMP0, COUNTER + 8);
    write(&mut chip, DWT_MASK0, 4); // 16 bytes from 0x2000_0000
    write(&mut chip, DWT_FUNCTION0, 7);
    wait(&mut chip, 10_000);
    assert_eq!(
        read_register(&mut chip, 15),
        CODE + 4,
        "the load matched first"
    );
}

#[test]
fn watchpoints_elsewhere_do_not_halt() {
    let mut chip = chip_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    write(&mut chip, DEMCR, TRCENA);
    write(&mut chip, DWT_COMP0, COUNTER + 4);
    write(&mut chip, DWT_MASK0, 2);
    write(&mut chip, DWT_FUNCTION0, 7);
    wait(&mut chip, 10_000);
    assert!(!chip.core_status().halted);
    assert_eq!(read(&mut chip, DWT_FUNCTION0) & MATCHED, 0);
}

#[test]
fn debugger_accesses_do_not_trigger_watchpoints() {
    let mut chip = chip_with(&WAIT_FOR_INTERRUPT);
    enable_debug(&mut chip);
    watch(&mut chip, 7);
    wait(&mut chip, 1_000);
    write(&mut chip, COUNTER, 5);
    assert_eq!(read(&mut chip, COUNTER), 5);
    assert_eq!(read(&mut chip, DWT_FUNCTION0) & MATCHED, 0);
}

/// The Cortex-M33's ARMv8-M DWT (ARMv8-M ARM D1.2 DWT_FUNCTIONn): MATCH, ACTION and
/// DATAVSIZE in FUNCTION; no DWT_MASK.
/// DEMCR.TRCENA set, as a debugger does before using the DWT.
fn m33_with(code: &[u16]) -> Chip {
    let mut chip = chip_running_at(Variant::CortexM33, CODE, CODE, code);
    write(&mut chip, DEMCR, TRCENA);
    chip
}

fn v8_watch(kind: u32, size_bits: u32) -> u32 {
    use crate::chip::dwt::{V8_ACTION_DEBUG_EVENT, V8_DATAVSIZE_SHIFT};
    kind | V8_ACTION_DEBUG_EVENT | size_bits << V8_DATAVSIZE_SHIFT
}

#[test]
fn armv8m_write_watchpoint_halts_after_the_store() {
    use crate::chip::dwt::V8_MATCH_WRITE;
    let mut chip = m33_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    write(&mut chip, DWT_COMP0, COUNTER);
    write(&mut chip, DWT_MASK0, 2);
    assert_eq!(read(&mut chip, DWT_MASK0), 0, "no DWT_MASK on ARMv8-M");
    let function = v8_watch(V8_MATCH_WRITE, 2);
    write(&mut chip, DWT_FUNCTION0, function);
    wait(&mut chip, 10_000);
    assert!(chip.core_status().halted);
    assert_eq!(take_fault_status(&mut chip), DFSR_DWTTRAP);
    assert_eq!(read_register(&mut chip, 15), CODE + 8, "after the str");
    // FUNCTION.ID [31:27] reads the M33 comparator 0's 0b01011 beside what was written.
    let id = 0b01011 << 27;
    assert_eq!(read(&mut chip, DWT_FUNCTION0), id | MATCHED | function);
    assert_eq!(read(&mut chip, DWT_FUNCTION0), id | function);
}

#[test]
fn armv8m_read_watchpoint_and_the_armv7m_encoding_that_means_write_there() {
    use crate::chip::dwt::{V8_MATCH_READ, V8_MATCH_WRITE};
    let mut chip = m33_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    write(&mut chip, DWT_COMP0, COUNTER);
    // 0b0110 is ARMv7-M's "write" but ARMv8-M's "read" (with ACTION 0b01).
    write(&mut chip, DWT_FUNCTION0, v8_watch(V8_MATCH_READ, 2));
    wait(&mut chip, 10_000);
    assert_eq!(read_register(&mut chip, 15), CODE + 4, "after the ldr");
    assert_eq!(chip.peek(COUNTER), Some(0));
    // ARMv7-M's FUNCTION 5 (read) is ARMv8-M's write match without a debug event: the
    // store sets MATCHED, the core runs on.
    write(&mut chip, DWT_FUNCTION0, V8_MATCH_WRITE);
    take_fault_status(&mut chip);
    resume(&mut chip);
    wait(&mut chip, 10_000);
    assert!(!chip.core_status().halted, "ACTION 0b00: no debug event");
    assert_ne!(read(&mut chip, DWT_FUNCTION0) & MATCHED, 0);
}

#[test]
fn armv8m_datavsize_and_the_limit_comparator() {
    use crate::chip::dwt::{V8_MATCH_ACCESS, V8_MATCH_LIMIT};
    let mut chip = m33_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    // One byte at COUNTER + 4 (DATAVSIZE 0) leaves the loop's word alone...
    write(&mut chip, DWT_COMP0, COUNTER + 4);
    write(&mut chip, DWT_FUNCTION0, v8_watch(V8_MATCH_ACCESS, 0));
    wait(&mut chip, 10_000);
    assert!(!chip.core_status().halted);
    // ...but COUNTER - 4 up to the limit COUNTER + 4 holds it.
    write(&mut chip, DWT_COMP0, COUNTER - 4);
    write(&mut chip, DWT_COMP0 + 0x10, COUNTER + 4);
    write(&mut chip, DWT_FUNCTION0 + 0x10, V8_MATCH_LIMIT);
    wait(&mut chip, 10_000);
    assert!(chip.core_status().halted);
    assert_eq!(take_fault_status(&mut chip), DFSR_DWTTRAP);
}

/// FUNCTION.ID says which comparators can hold a data address limit (the Cortex-M33's
/// 1 and 3): a limit written to comparator 2 pairs with nothing, so comparator 1 keeps
/// watching its one byte.
#[test]
fn armv8m_only_a_limit_capable_comparator_ends_a_range() {
    use crate::chip::dwt::{V8_MATCH_ACCESS, V8_MATCH_LIMIT};
    let mut chip = m33_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    let ids: Vec<u32> = (0..4)
        .map(|n| read(&mut chip, DWT_FUNCTION0 + 0x10 * n) >> 27)
        .collect();
    assert_eq!(ids, [0b01011, 0b11010, 0b01010, 0b11110]);
    write(&mut chip, DWT_COMP0 + 0x10, COUNTER - 4);
    write(
        &mut chip,
        DWT_FUNCTION0 + 0x10,
        v8_watch(V8_MATCH_ACCESS, 0),
    );
    write(&mut chip, DWT_COMP0 + 0x20, COUNTER + 4);
    write(&mut chip, DWT_FUNCTION0 + 0x20, V8_MATCH_LIMIT);
    wait(&mut chip, 10_000);
    assert!(!chip.core_status().halted, "comparator 2 is no limit");
    // Comparators 2 and 3 do make a range.
    write(&mut chip, DWT_FUNCTION0 + 0x10, 0);
    write(&mut chip, DWT_COMP0 + 0x20, COUNTER - 4);
    write(
        &mut chip,
        DWT_FUNCTION0 + 0x20,
        v8_watch(V8_MATCH_ACCESS, 0),
    );
    write(&mut chip, DWT_COMP0 + 0x30, COUNTER + 4);
    write(&mut chip, DWT_FUNCTION0 + 0x30, V8_MATCH_LIMIT);
    wait(&mut chip, 10_000);
    assert!(chip.core_status().halted);
    assert_eq!(take_fault_status(&mut chip), DFSR_DWTTRAP);
}

#[test]
fn watchpoints_need_trcena() {
    let mut chip = chip_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    watch(&mut chip, 7);
    write(&mut chip, DEMCR, 0);
    wait(&mut chip, 10_000);
    assert!(!chip.core_status().halted);
    assert_eq!(
        read(&mut chip, DWT_FUNCTION0) & MATCHED,
        0,
        "nothing matched"
    );
}

#[test]
fn the_cortex_m3_mask_is_four_bits() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    write(&mut chip, DWT_MASK0, 0x1F);
    assert_eq!(read(&mut chip, DWT_MASK0), 0xF, "Cortex-M3 TRM table 11-16");
    let mut chip = Chip::new(Variant::Stm32f407vg);
    write(&mut chip, DWT_MASK0, 0xFFFF_FFFF);
    assert_eq!(read(&mut chip, DWT_MASK0), 0x1F);
}

/// The counting loop in the SAMD21's flash at 0x100, its vectors at 0.
fn cortex_m0plus_counting() -> Chip {
    let mut chip = Chip::new(Variant::Atsamd21g18a);
    let mut image = STACK_TOP.to_le_bytes().to_vec();
    image.extend(0x101u32.to_le_bytes());
    image.resize(0x100, 0xFF);
    image.extend(halves_to_bytes(&COUNTING_LOOP));
    chip.write_memory(0, &image).unwrap();
    crate::chip::core::reset_core(&mut chip.emulator);
    chip
}

#[test]
fn armv6m_dwt_layout() {
    let mut chip = Chip::new(Variant::Atsamd21g18a);
    assert_eq!(
        read(&mut chip, DWT_CTRL),
        2 << 28,
        "NUMCOMP 2, nothing else"
    );
    write(&mut chip, DWT_FUNCTION0, 0xFFFF_FFFF);
    assert_eq!(
        read(&mut chip, DWT_FUNCTION0),
        0xF,
        "FUNCTION [3:0] only (ARMv6-M C1.7)"
    );
    write(&mut chip, DWT_MASK0, 0xFFFF_FFFF);
    assert_eq!(read(&mut chip, DWT_MASK0), 0x1F);
    write(&mut chip, DWT_COMP0 + 0x20, COUNTER);
    assert_eq!(read(&mut chip, DWT_COMP0 + 0x20), 0, "no third comparator");
}

#[test]
fn armv6m_write_watchpoint_halts_after_the_store() {
    let mut chip = cortex_m0plus_counting();
    enable_debug(&mut chip);
    write(&mut chip, DEMCR, TRCENA);
    write(&mut chip, DWT_COMP0 + 0x10, COUNTER);
    write(&mut chip, DWT_MASK0 + 0x10, 2);
    write(&mut chip, DWT_FUNCTION0 + 0x10, 6);
    wait(&mut chip, 10_000);
    assert!(chip.core_status().halted);
    assert_eq!(take_fault_status(&mut chip), DFSR_DWTTRAP);
    assert_eq!(read_register(&mut chip, 15), 0x108, "after the str");
    assert_eq!(chip.peek(COUNTER), Some(1));
    assert_eq!(read(&mut chip, DWT_FUNCTION0 + 0x10), MATCHED | 6);
}
