//! The Cortex-M7's caches as the debugger's writes meet them (chip/cache.rs): hidden from
//! the core until invalidated, lost when cleaned after, seen at once in the TCMs or with
//! the caches off.

use super::*;
use crate::chip::debug::{DHCSR, S_HALT};

/// CCR with DC and IC (ARMv7-M B3.2.8), and the operations the tests use (B4.8.2).
const CCR: u32 = 0xE000_ED14;
const CACHES_ON: u32 = 1 << 16 | 1 << 17;
const ICIALLU: u32 = 0xE000_EF50;
const DCIMVAC: u32 = 0xE000_EF5C;
const DCCIMVAC: u32 = 0xE000_EF70;
/// AXI SRAM (cacheable) and DTCM (not) on the H743.
const AXI_SRAM: u32 = 0x2400_0000;
const DTCM: u32 = 0x2000_0000;
/// ldr r0, [r1]; bkpt.
const LOAD_AND_STOP: [u16; 2] = [0x6808, 0xBE00];

/// The H743 halted, the program in AXI SRAM written before the caches are turned on.
fn halted_h743() -> Chip {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    halt(&mut chip);
    chip.write_memory(AXI_SRAM, &halves_to_bytes(&LOAD_AND_STOP))
        .unwrap();
    write(&mut chip, CCR, CACHES_ON);
    chip
}

/// What the core's `ldr r0, [data]` loads.
fn core_loads(chip: &mut Chip, data: u32) -> u32 {
    write_register(chip, 15, AXI_SRAM | 1);
    write_register(chip, 1, data);
    resume(chip);
    wait(chip, 10_000);
    assert_ne!(
        read(chip, DHCSR) & S_HALT,
        0,
        "the core did not reach the BKPT"
    );
    read_register(chip, 0)
}

#[test]
fn a_debugger_write_stays_hidden_from_the_core_until_invalidated() {
    let mut chip = halted_h743();
    let data = AXI_SRAM + 0x100;
    write(&mut chip, data, 0x1234_5678);
    assert_eq!(read(&mut chip, data), 0x1234_5678, "memory has it");
    assert_eq!(
        core_loads(&mut chip, data),
        0,
        "the core's cached line is old"
    );
    // Invalidated in both caches while halted: the core sees memory.
    write(&mut chip, DCIMVAC, data);
    assert_eq!(
        core_loads(&mut chip, data),
        0,
        "the instruction cache still holds it"
    );
    write(&mut chip, DCIMVAC, data);
    write(&mut chip, ICIALLU, 0);
    assert_eq!(core_loads(&mut chip, data), 0x1234_5678);
    let log = &chip.emulator.get_data().caches.log;
    assert_eq!(log[..], [(DCIMVAC, data), (DCIMVAC, data), (ICIALLU, 0)]);
}

#[test]
fn clean_and_invalidate_before_the_write_keeps_it_after_loses_it() {
    let mut chip = halted_h743();
    let data = AXI_SRAM + 0x204;
    write(&mut chip, DCCIMVAC, data & !31);
    write(&mut chip, ICIALLU, 0);
    write(&mut chip, data, 0xCAFE_F00D);
    assert_eq!(core_loads(&mut chip, data), 0xCAFE_F00D);
    // The core ran: the line may be cached again. Cleaned after the write, the core's
    // (dirty) line goes over it.
    write(&mut chip, data, 0x0BAD_0BAD);
    write(&mut chip, DCCIMVAC, data & !31);
    write(&mut chip, ICIALLU, 0);
    assert_eq!(read(&mut chip, data), 0xCAFE_F00D, "lost");
    assert_eq!(core_loads(&mut chip, data), 0xCAFE_F00D);
}

#[test]
fn the_tcm_a_reset_and_caches_off_need_no_maintenance() {
    let mut chip = halted_h743();
    write(&mut chip, DTCM, 7);
    assert_eq!(core_loads(&mut chip, DTCM), 7, "DTCM is not cached");
    let data = AXI_SRAM + 0x300;
    write(&mut chip, data, 8);
    write(&mut chip, CCR, 0);
    assert_eq!(
        core_loads(&mut chip, data),
        8,
        "caches off: the core reads memory"
    );
    write(&mut chip, CCR, CACHES_ON);
    write(&mut chip, data, 9);
    assert_eq!(core_loads(&mut chip, data), 8);
    // A system reset turns the caches off: the core then reads memory.
    halt_at_reset(&mut chip);
    write(&mut chip, DEMCR, 0);
    assert_eq!(core_loads(&mut chip, data), 9);
}
