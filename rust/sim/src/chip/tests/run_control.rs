use super::*;
use crate::chip::debug::{
    C_STEP, DFSR_BKPT, DFSR_HALTED, DFSR_VCATCH, S_HALT, S_LOCKUP, S_REGRDY, S_RESET_ST,
    S_RETIRE_ST, S_SLEEP, VECTRESET,
};

fn counter(chip: &mut Chip) -> u32 {
    chip.peek(COUNTER).unwrap()
}

#[test]
fn the_core_runs_from_the_reset_vector_in_virtual_time() {
    let mut chip = chip_with(&COUNTING_LOOP);
    assert_eq!(chip.core_register(15), Some(CODE));
    assert_eq!(chip.core_register(13), Some(STACK_TOP));
    wait(&mut chip, 1_000_000);
    // 72 000 instructions, 4 per turn of the loop.
    let count = counter(&mut chip);
    assert!((17_900..=18_001).contains(&count), "{count}");
}

#[test]
fn a_blank_chip_locks_up() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    wait(&mut chip, 10_000);
    assert!(chip.core_status().locked_up);
    assert_ne!(read(&mut chip, DHCSR) & S_LOCKUP, 0);
}

#[test]
fn halt_and_resume() {
    let mut chip = chip_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    wait(&mut chip, 10_000);
    halt(&mut chip);
    let status = read(&mut chip, DHCSR);
    assert_eq!(status & (S_HALT | S_REGRDY), S_HALT | S_REGRDY);
    assert_eq!(take_fault_status(&mut chip), DFSR_HALTED);
    let count = counter(&mut chip);
    wait(&mut chip, 10_000);
    assert_eq!(counter(&mut chip), count, "a halted core does not run");
    resume(&mut chip);
    assert_eq!(read(&mut chip, DHCSR) & S_HALT, 0);
    wait(&mut chip, 10_000);
    assert!(counter(&mut chip) > count);
}

#[test]
fn halting_needs_the_key_and_debugen() {
    let mut chip = chip_with(&COUNTING_LOOP);
    write(&mut chip, DHCSR, C_DEBUGEN | C_HALT);
    assert!(!chip.core_status().halted, "no key");
    write(&mut chip, DHCSR, DHCSR_KEY | C_HALT);
    assert!(!chip.core_status().halted, "no C_DEBUGEN");
    halt(&mut chip);
    assert!(chip.core_status().halted);
    write(&mut chip, DHCSR, DHCSR_KEY);
    assert!(
        !chip.core_status().halted,
        "clearing C_DEBUGEN lets the core go"
    );
}

#[test]
fn sticky_status_bits_clear_on_read() {
    let mut chip = chip_with(&COUNTING_LOOP);
    let first = read(&mut chip, DHCSR);
    assert_ne!(first & S_RESET_ST, 0);
    wait(&mut chip, 1_000);
    let second = read(&mut chip, DHCSR);
    assert_eq!(second & S_RESET_ST, 0);
    assert_ne!(second & S_RETIRE_ST, 0);
    assert_eq!(read(&mut chip, DHCSR) & S_RETIRE_ST, 0);
}

#[test]
fn registers_through_dcrsr_and_dcrdr() {
    let mut chip = chip_with(&COUNTING_LOOP);
    halt_at_reset(&mut chip);
    assert_eq!(read_register(&mut chip, 15), CODE);
    assert_eq!(read_register(&mut chip, 17), STACK_TOP, "MSP");
    assert_eq!(read_register(&mut chip, 16), 0x0100_0000, "xPSR: Thumb");
    assert_eq!(read_register(&mut chip, 14), 0xFFFF_FFFF, "LR");
    for selector in 0..=12 {
        write_register(&mut chip, selector, 0x1000 + selector);
    }
    for selector in 0..=12 {
        assert_eq!(read_register(&mut chip, selector), 0x1000 + selector);
    }
    write_register(&mut chip, 18, 0x2000_1000);
    assert_eq!(read_register(&mut chip, 18), 0x2000_1000, "PSP");
    write_register(&mut chip, 20, 0x0000_2001);
    assert_eq!(
        read_register(&mut chip, 20),
        0x0000_2001,
        "BASEPRI 0x20, PRIMASK 1"
    );
    write_register(&mut chip, 15, 0x0800_0105);
    assert_eq!(
        read_register(&mut chip, 15),
        0x0800_0104,
        "bit 0 of the PC is ignored"
    );
}

#[test]
fn registers_are_not_moved_while_running() {
    let mut chip = chip_with(&COUNTING_LOOP);
    write(&mut chip, DCRDR, 0x55);
    write(&mut chip, DCRSR, 15);
    assert_eq!(read(&mut chip, DCRDR), 0x55);
}

#[test]
fn step_executes_one_instruction() {
    let mut chip = chip_with(&COUNTING_LOOP);
    halt_at_reset(&mut chip);
    take_fault_status(&mut chip);
    for expected in [
        0x0800_0102,
        0x0800_0104,
        0x0800_0106,
        0x0800_0108,
        0x0800_0102,
    ] {
        write(&mut chip, DHCSR, DHCSR_KEY | C_DEBUGEN | C_STEP);
        assert!(chip.core_status().halted);
        assert_eq!(read_register(&mut chip, 15), expected);
        assert_eq!(take_fault_status(&mut chip), DFSR_HALTED);
    }
    assert_eq!(counter(&mut chip), 1);
}

#[test]
fn breakpoint_instruction_halts_at_itself() {
    let mut chip = chip_with(&SEMIHOSTING_CALL);
    enable_debug(&mut chip);
    wait(&mut chip, 1_000);
    assert!(chip.core_status().halted);
    assert_eq!(take_fault_status(&mut chip), DFSR_BKPT);
    assert_eq!(read_register(&mut chip, 15), CODE + 2);
    assert_eq!(read_register(&mut chip, 0), 42);
    // The debugger answers the call and steps past it.
    write_register(&mut chip, 15, CODE + 4);
    resume(&mut chip);
    wait(&mut chip, 1_000);
    assert!(!chip.core_status().halted);
}

#[test]
fn breakpoint_instruction_without_debug_locks_up() {
    let mut chip = chip_with(&SEMIHOSTING_CALL);
    wait(&mut chip, 1_000);
    assert!(chip.core_status().locked_up);
}

#[test]
fn wfi_sleeps_until_halted() {
    let mut chip = chip_with(&WAIT_FOR_INTERRUPT);
    enable_debug(&mut chip);
    wait(&mut chip, 1_000);
    assert_ne!(read(&mut chip, DHCSR) & S_SLEEP, 0);
    halt(&mut chip);
    let status = read(&mut chip, DHCSR);
    assert_eq!(status & (S_SLEEP | S_HALT), S_HALT);
    assert_eq!(
        read_register(&mut chip, 15),
        CODE + 2,
        "halted after the WFI"
    );
}

#[test]
fn vector_catch_on_sysresetreq() {
    let mut chip = chip_with(&COUNTING_LOOP);
    wait(&mut chip, 100_000);
    assert!(counter(&mut chip) > 0);
    read(&mut chip, DHCSR);
    write(&mut chip, 0x4001_1004, 0x1234); // a GPIO register
    halt_at_reset(&mut chip);
    assert!(chip.core_status().halted);
    assert_eq!(take_fault_status(&mut chip), DFSR_VCATCH);
    assert_ne!(read(&mut chip, DHCSR) & S_RESET_ST, 0);
    assert_eq!(read_register(&mut chip, 15), CODE);
    assert_ne!(counter(&mut chip), 0, "SRAM survives a reset");
    assert_eq!(read(&mut chip, 0x4001_1004), 0, "peripherals are reset");
    assert_eq!(read(&mut chip, DEMCR) & 1, 1, "DEMCR is not reset");
    assert_ne!(
        read(&mut chip, DHCSR) & C_DEBUGEN,
        0,
        "C_DEBUGEN is not reset"
    );
}

#[test]
fn sysresetreq_without_vector_catch_restarts_the_program() {
    let mut chip = chip_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    wait(&mut chip, 10_000);
    halt(&mut chip);
    write(
        &mut chip,
        AIRCR,
        AIRCR_KEY | super::super::debug::SYSRESETREQ,
    );
    assert!(!chip.core_status().halted, "a reset clears C_HALT");
    assert_eq!(chip.core_register(15), Some(CODE));
    assert_eq!(read(&mut chip, AIRCR) >> 16, 0xFA05);
    write(&mut chip, AIRCR, super::super::debug::SYSRESETREQ);
    assert_eq!(
        read(&mut chip, DHCSR) & S_RESET_ST,
        S_RESET_ST,
        "the first reset"
    );
    wait(&mut chip, 1_000);
    write(&mut chip, AIRCR, super::super::debug::SYSRESETREQ);
    assert_eq!(read(&mut chip, DHCSR) & S_RESET_ST, 0, "no key, no reset");
}

#[test]
fn vectreset_resets_the_core_only() {
    let mut chip = chip_with(&COUNTING_LOOP);
    write(&mut chip, 0x4001_1004, 0x1234);
    halt_at_reset(&mut chip);
    write(&mut chip, 0x4001_1004, 0x1234);
    write_register(&mut chip, 15, CODE + 4);
    write(&mut chip, AIRCR, AIRCR_KEY | VECTRESET);
    assert_eq!(read_register(&mut chip, 15), CODE);
    assert_eq!(
        read(&mut chip, 0x4001_1004),
        0x1234,
        "peripherals keep their values"
    );
}

#[test]
fn nrst_holds_the_chip_in_reset() {
    let mut chip = chip_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    write(&mut chip, DEMCR, super::super::debug::VC_CORERESET);
    chip.set_reset(true);
    let count = counter(&mut chip);
    wait(&mut chip, 10_000);
    assert_eq!(counter(&mut chip), count, "no instruction runs in reset");
    assert!(chip.core_status().in_reset);
    assert_ne!(read(&mut chip, DHCSR) & S_RESET_ST, 0);
    assert_ne!(
        read(&mut chip, DHCSR) & S_RESET_ST,
        0,
        "S_RESET_ST while held"
    );
    chip.set_reset(false);
    assert!(chip.core_status().halted, "vector catch at the release");
    assert_eq!(take_fault_status(&mut chip), DFSR_VCATCH);
    assert_eq!(read_register(&mut chip, 15), CODE);
}

#[test]
fn nrst_release_runs_the_program() {
    let mut chip = chip_with(&COUNTING_LOOP);
    chip.set_reset(true);
    chip.write_memory(COUNTER, &[0; 4]).unwrap();
    chip.set_reset(false);
    wait(&mut chip, 10_000);
    assert!(counter(&mut chip) > 0);
}

#[test]
fn the_cycle_counter_counts_instructions() {
    let mut chip = chip_with(&COUNTING_LOOP);
    write(&mut chip, 0xE000_1000, 1); // DWT_CTRL.CYCCNTENA
    wait(&mut chip, 1_000_000);
    let cycles = read(&mut chip, 0xE000_1004);
    assert!((71_900..=72_000).contains(&cycles), "{cycles}");
    assert_eq!(read(&mut chip, 0xE000_1000) >> 28, 4, "NUMCOMP");
}

#[test]
fn pcsr_samples_the_program_counter() {
    let mut chip = chip_with(&COUNTING_LOOP);
    wait(&mut chip, 1_000);
    let sample = read(&mut chip, 0xE000_101C);
    assert!((CODE..CODE + 10).contains(&sample), "0x{sample:08X}");
    halt(&mut chip);
    assert_eq!(read(&mut chip, 0xE000_101C), 0xFFFF_FFFF);
}

#[test]
fn wfi_as_the_last_instruction_of_a_slice_still_sleeps() {
    // nop; wfi; b . : two instructions fit the first 28 ns exactly.
    let mut chip = chip_with(&[0xBF00, 0xBF30, 0xE7FE]);
    chip.advance_to(28);
    wait(&mut chip, 10_000);
    assert!(chip.core_status().sleeping);
    assert_eq!(chip.core_register(15), Some(CODE + 4));
}

/// 0x100 push {r0}; 0x102 b 0x100: a stack that grows until its limit stops it.
const PUSHING_LOOP: [u16; 2] = [0xB401, 0xE7FD];

/// The Cortex-M33's banked stack pointers and stack limits through DCRSR (ARMv8-M ARM
/// D1.2: MSP_NS 0x18 .. PSPLIM_NS 0x1F), the core's own registers: a Secure MSP limit set
/// by the debugger stops the core's next push (a STKOF fault, which locks this model up).
#[test]
fn armv8m_banked_and_stack_limit_registers() {
    let mut chip = chip_running_at(Variant::CortexM33, CODE, CODE, &PUSHING_LOOP);
    enable_debug(&mut chip);
    halt(&mut chip);
    write_register(&mut chip, 0, 0x1234_5678);
    assert_eq!(
        read_register(&mut chip, 0x1A),
        STACK_TOP,
        "MSP_S is the MSP"
    );
    assert_eq!(read_register(&mut chip, 17), STACK_TOP);
    for (selector, value) in [
        (0x18, 0x2000_1000),
        (0x19, 0x2000_2000),
        (0x1B, 0x2000_3000),
        (0x1D, 0x2000_0400),
        (0x1E, 0x2000_0800),
        (0x1F, 0x2000_0C00),
    ] {
        write_register(&mut chip, selector, value);
        assert_eq!(read_register(&mut chip, selector), value, "{selector:#x}");
    }
    assert_eq!(
        read_register(&mut chip, 18),
        0x2000_3000,
        "PSP_S is the PSP"
    );
    assert_eq!(read_register(&mut chip, 0x1C), 0, "MSPLIM_S from reset");
    // The moves left r0, the PC and the code where they were.
    assert_eq!(read_register(&mut chip, 0), 0x1234_5678);
    assert_eq!(read_register(&mut chip, 15), CODE);
    assert_eq!(chip.peek(CODE), Some(0xE7FD_B401));
    resume(&mut chip);
    wait(&mut chip, 1_000);
    assert!(!chip.core_status().locked_up, "pushing below no limit");
    halt(&mut chip);
    let sp = read_register(&mut chip, 13);
    assert!(sp < STACK_TOP, "{sp:#x}");
    write_register(&mut chip, 0x1C, sp);
    resume(&mut chip);
    wait(&mut chip, 1_000);
    assert!(
        chip.core_status().locked_up,
        "the push under MSPLIM_S faulted"
    );
    assert_eq!(read_register(&mut chip, 0x1C), sp);
}

/// Each security state's CONTROL [31:24], FAULTMASK [23:16], BASEPRI [15:8] and PRIMASK
/// [7:0] through DCRSR 0x22 (Secure) and 0x23 (Non-secure), ARMv8-M ARM D1.2: the core
/// is Secure, so 0x22 is the word 0x14 moves (CONTROL_S.SPSEL chooses the SP it runs on);
/// the Non-secure bank is apart from it. On `cortex-m33-ns` 0x23 is the current word and
/// 0x22 reads zero and ignores writes.
#[test]
fn armv8m_special_registers_of_each_security_state() {
    let mut chip = chip_running_at(Variant::CortexM33, CODE, CODE, &PUSHING_LOOP);
    enable_debug(&mut chip);
    halt(&mut chip);
    write_register(&mut chip, 0x19, 0x2000_2000); // PSP_NS
    write_register(&mut chip, 18, 0x2000_3000); // PSP (Secure)
    write_register(&mut chip, 0x22, 0x0200_4001); // SPSEL, BASEPRI 0x40, PRIMASK
    assert_eq!(read_register(&mut chip, 0x14), 0x0200_4001);
    assert_eq!(read_register(&mut chip, 13), 0x2000_3000, "SP is PSP_S now");
    assert_eq!(
        read_register(&mut chip, 0x23),
        0,
        "the Non-secure bank from reset"
    );
    write_register(&mut chip, 0x23, 0x0201_8001); // SPSEL, FAULTMASK, BASEPRI 0x80, PRIMASK
    assert_eq!(read_register(&mut chip, 0x23), 0x0201_8001);
    assert_eq!(
        read_register(&mut chip, 0x22),
        0x0200_4001,
        "the Secure bank kept"
    );
    assert_eq!(read_register(&mut chip, 13), 0x2000_3000, "still PSP_S");
    write_register(&mut chip, 0x22, 0);
    assert_eq!(read_register(&mut chip, 13), STACK_TOP, "back on MSP_S");
    assert_eq!(read_register(&mut chip, 0x23), 0x0201_8001);
    write(&mut chip, DCRDR, 0xAAAA_AAAA);
    write_register(&mut chip, 0x23, 0);
    assert_eq!(read(&mut chip, DCRDR), 0, "DCRDR holds the value written");
    assert_eq!(read_register(&mut chip, 15), CODE, "the moves left the PC");

    let mut chip = chip_running_at(Variant::CortexM33NonSecure, CODE, CODE, &PUSHING_LOOP);
    enable_debug(&mut chip);
    halt(&mut chip);
    write_register(&mut chip, 0x23, 0x0000_2001);
    assert_eq!(
        read_register(&mut chip, 0x14),
        0x0000_2001,
        "0x23 is the current word"
    );
    write_register(&mut chip, 0x22, 0x0001_0001);
    assert_eq!(
        read_register(&mut chip, 0x22),
        0,
        "the Secure word is not reached"
    );
    assert_eq!(read_register(&mut chip, 0x23), 0x0000_2001);
}

/// The ARMv7-M cores have no such registers: DCRSR 0x18-0x1F move nothing.
#[test]
fn armv7m_has_no_banked_registers() {
    let mut chip = chip_with(&COUNTING_LOOP);
    enable_debug(&mut chip);
    halt(&mut chip);
    write_register(&mut chip, 0x1C, 0x2000_0400);
    write(&mut chip, DCRDR, 0xAAAA_AAAA);
    assert_eq!(
        read_register(&mut chip, 0x1C),
        0xAAAA_AAAA,
        "DCRDR unchanged"
    );
}

/// `cortex-m33-ns`: Secure debug not permitted and the core shown Non-secure. DHCSR.S_SDE
/// and DSCSR.CDS read 0, DAUTHSTATUS 0xAF; DCRSR's Non-secure selectors are the core's
/// current stack pointers and limits, its Secure ones read zero and ignore writes; a
/// Non-secure transfer to the Secure half of SRAM is a bus error, to the other half not.
#[test]
fn armv8m_shown_nonsecure_without_secure_debug() {
    use crate::bus::BusError;
    use crate::chip::debug::{DAUTHSTATUS, DHCSR_S_SDE, DSCSR};
    let mut chip = chip_running_at(Variant::CortexM33NonSecure, CODE, CODE, &PUSHING_LOOP);
    assert_eq!(chip.secure_debug_permitted(), Some(false));
    enable_debug(&mut chip);
    halt(&mut chip);
    assert_eq!(read(&mut chip, DHCSR) & DHCSR_S_SDE, 0);
    write(&mut chip, DSCSR, 0b11);
    assert_eq!(read(&mut chip, DSCSR), 0, "CDS 0, SBRSEL RAZ/WI");
    assert_eq!(read(&mut chip, DAUTHSTATUS), 0xAF);
    assert_eq!(
        read_register(&mut chip, 0x18),
        STACK_TOP,
        "MSP_NS: the core's MSP"
    );
    write_register(&mut chip, 0x1E, 0x2000_0100);
    write_register(&mut chip, 0x1A, 0x2000_0800);
    assert_eq!(read_register(&mut chip, 0x1A), 0, "MSP_S is not reached");
    assert_eq!(read_register(&mut chip, 17), STACK_TOP, "the MSP kept");
    assert_eq!(read_register(&mut chip, 0x1E), 0x2000_0100, "MSPLIM_NS");
    assert_eq!(
        chip.read_nonsecure(0x2001_0000, Width::Word),
        Err(BusError::Fault)
    );
    assert_eq!(
        chip.read_nonsecure(0x0804_0000, Width::Word),
        Err(BusError::Fault)
    );
    assert!(chip.write_nonsecure(0x2000_0000, Width::Word, 7).is_ok());
    assert_eq!(chip.read_nonsecure(0x2000_0000, Width::Word), Ok(7));
    // The secure-debug part: S_SDE 1, everything reachable.
    let mut chip = chip_running_at(Variant::CortexM33, CODE, CODE, &PUSHING_LOOP);
    assert_eq!(chip.secure_debug_permitted(), Some(true));
    assert_ne!(read(&mut chip, DHCSR) & DHCSR_S_SDE, 0);
    assert_eq!(read(&mut chip, DAUTHSTATUS), 0xFF);
    assert!(chip.read_nonsecure(0x2001_0000, Width::Word).is_ok());
}

/// 0x100 nop; 0x102 nop; 0x104 push {r0}; 0x106 b 0x100.
const NOPS_THEN_PUSH: [u16; 4] = [0xBF00, 0xBF00, 0xB401, 0xE7FB];

/// A banked register moved by an MSR at the PC runs nothing else: the push after the
/// 4 bytes the MSR stands in for does not happen. (Unicorn was seen running one
/// instruction past such an MSR, which ends its translation block, under gdb on the host
/// probe: tests/test_gdb_cortex_m33.py's Non-secure test, a stack limit written before
/// `continue`; this test does not reproduce that case, the branch to itself after the
/// MSR is what guards it.)
#[test]
fn armv8m_banked_moves_run_nothing_else() {
    let mut chip = chip_running_at(Variant::CortexM33, CODE, CODE, &NOPS_THEN_PUSH);
    enable_debug(&mut chip);
    // Run the loop a little (its code translated), then halt at its start (FPB).
    wait(&mut chip, 1_000);
    const FP_CTRL: u32 = 0xE000_2000;
    const FP_COMP0: u32 = 0xE000_2008;
    write(&mut chip, FP_CTRL, 3);
    write(&mut chip, FP_COMP0, CODE | 1);
    wait(&mut chip, 1_000);
    assert_eq!(read_register(&mut chip, 15), CODE);
    let sp = read_register(&mut chip, 13);
    for value in [0x2000_0100, 0x2000_0200, 0x2000_0300] {
        write_register(&mut chip, 0x1C, value);
        write_register(&mut chip, 0x1E, value);
    }
    assert_eq!(read_register(&mut chip, 13), sp, "no push ran");
    assert_eq!(read_register(&mut chip, 0x1C), 0x2000_0300);
    assert_eq!(read_register(&mut chip, 15), CODE);
}

/// 0x100 vmov s0, r0 (an FPv4 instruction, coprocessor 10); 0x104 b 0x104.
const FPU_MOVE: [u16; 3] = [0xEE00, 0x0A10, 0xE7FE];
const CPACR: u32 = 0xE000_ED88;
const CFSR: u32 = 0xE000_ED28;
const CFSR_NOCP: u32 = 1 << 19;
const VC_NOCPERR: u32 = 1 << 5;

#[test]
fn an_fpu_instruction_with_cpacr_off_is_a_nocp_fault() {
    // Out of reset CPACR is 0: with VC_NOCPERR the core halts at the VMOV.
    let mut chip = chip_running_at(Variant::Stm32f407vg, CODE, CODE, &FPU_MOVE);
    write(&mut chip, DHCSR, DHCSR_KEY | C_DEBUGEN);
    write(&mut chip, DEMCR, VC_NOCPERR);
    wait(&mut chip, 10_000);
    assert!(chip.core_status().halted);
    assert_eq!(read(&mut chip, DFSR) & DFSR_VCATCH, DFSR_VCATCH);
    assert_eq!(read_register(&mut chip, 15), CODE, "at the VMOV");
    assert_ne!(read(&mut chip, CFSR) & CFSR_NOCP, 0);
    // Without the vector catch the fault is not modelled: lockup.
    let mut chip = chip_running_at(Variant::Stm32f407vg, CODE, CODE, &FPU_MOVE);
    wait(&mut chip, 10_000);
    assert!(chip.core_status().locked_up);
    // CP10/CP11 full access: the VMOV runs, the core spins after it.
    let mut chip = chip_running_at(Variant::Stm32f407vg, CODE, CODE, &FPU_MOVE);
    write(&mut chip, CPACR, 0xF << 20);
    write(&mut chip, DHCSR, DHCSR_KEY | C_DEBUGEN);
    write(&mut chip, DEMCR, VC_NOCPERR);
    wait(&mut chip, 10_000);
    assert!(!chip.core_status().halted && !chip.core_status().locked_up);
    assert_eq!(read(&mut chip, CFSR) & CFSR_NOCP, 0);
    // The Cortex-M3 has no FPU: CPACR is not looked at (the instruction is unicorn's).
    let mut chip = chip_running_at(Variant::Stm32f103c8, CODE, CODE, &[0xE7FE]);
    write(&mut chip, DEMCR, VC_NOCPERR);
    wait(&mut chip, 1_000);
    assert_eq!(read(&mut chip, CFSR), 0);
}
