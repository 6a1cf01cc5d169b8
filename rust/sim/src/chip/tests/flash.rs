use super::*;
use crate::bus::BusError;
use crate::soc::stm32f1::flash::{
    CR, CR_LOCK, CR_MER, CR_OPTER, CR_OPTPG, CR_OPTWRE, CR_PER, CR_PG, CR_STRT, KEY1, KEY2, SR,
    SR_BSY, SR_EOP, SR_PGERR, SR_WRPRTERR,
};

const FPEC: u32 = 0x4002_2000;
const KEYR: u32 = FPEC + 0x04;
const OPTKEYR: u32 = FPEC + 0x08;
const FLASH_SR: u32 = FPEC + SR;
const FLASH_CR: u32 = FPEC + CR;
const FLASH_AR: u32 = FPEC + 0x14;
const PAGE: u32 = 0x0800_0400;

fn unlock(chip: &mut Chip) {
    write(chip, KEYR, KEY1);
    write(chip, KEYR, KEY2);
}

fn status(chip: &mut Chip) -> u32 {
    read(chip, FLASH_SR)
}

/// Wait for BSY to clear; how long it took, in ns.
fn wait_until_done(chip: &mut Chip) -> u64 {
    let start = chip.now_ns();
    while status(chip) & SR_BSY != 0 {
        wait(chip, 100);
    }
    chip.now_ns() - start
}

fn program_half(chip: &mut Chip, address: u32, value: u32) {
    write(chip, FLASH_CR, CR_PG);
    chip.write(address, Width::Half, value).unwrap();
    wait_until_done(chip);
    write(chip, FLASH_CR, 0);
}

#[test]
fn locked_after_reset_and_unlocked_by_the_keys() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    assert_eq!(read(&mut chip, FLASH_CR), CR_LOCK);
    write(&mut chip, FLASH_CR, CR_PG);
    assert_eq!(
        read(&mut chip, FLASH_CR),
        CR_LOCK,
        "CR ignores writes while locked"
    );
    unlock(&mut chip);
    assert_eq!(read(&mut chip, FLASH_CR), 0);
    write(&mut chip, FLASH_CR, CR_LOCK);
    assert_eq!(read(&mut chip, FLASH_CR), CR_LOCK);
    unlock(&mut chip);
    assert_eq!(
        read(&mut chip, FLASH_CR),
        0,
        "LOCK by software can be undone"
    );
}

#[test]
fn wrong_key_locks_until_reset() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    write(&mut chip, KEYR, KEY1);
    assert_eq!(
        chip.write(KEYR, Width::Word, 0x1234_5678),
        Err(BusError::Fault)
    );
    assert_eq!(chip.write(KEYR, Width::Word, KEY1), Err(BusError::Fault));
    assert_eq!(chip.write(KEYR, Width::Word, KEY2), Err(BusError::Fault));
    assert_eq!(read(&mut chip, FLASH_CR), CR_LOCK);
    write(&mut chip, 0xE000_ED0C, 0x05FA_0004); // SYSRESETREQ
    unlock(&mut chip);
    assert_eq!(read(&mut chip, FLASH_CR), 0);
}

#[test]
fn half_word_program_takes_tprog_and_stalls_the_bus() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock(&mut chip);
    write(&mut chip, FLASH_CR, CR_PG);
    chip.write(PAGE, Width::Half, 0x1234).unwrap();
    assert_eq!(status(&mut chip) & SR_BSY, SR_BSY);
    assert_eq!(chip.read(PAGE, Width::Half), Err(BusError::Stall));
    assert_eq!(
        chip.write(PAGE + 2, Width::Half, 0x5678),
        Err(BusError::Stall)
    );
    wait(&mut chip, 52_000);
    assert_eq!(chip.read(PAGE, Width::Half), Err(BusError::Stall));
    wait(&mut chip, 500);
    assert_eq!(status(&mut chip), SR_EOP);
    assert_eq!(chip.read(PAGE, Width::Half), Ok(0x1234));
    write(&mut chip, FLASH_SR, SR_EOP);
    assert_eq!(status(&mut chip), 0, "EOP is write-1-to-clear");
}

#[test]
fn word_write_programs_two_half_words() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock(&mut chip);
    write(&mut chip, FLASH_CR, CR_PG);
    write(&mut chip, PAGE, 0xCAFE_F00D);
    let took = wait_until_done(&mut chip);
    assert!((105_000..105_200).contains(&took), "{took} ns");
    assert_eq!(read(&mut chip, PAGE), 0xCAFE_F00D);
}

#[test]
fn byte_programming_is_an_error() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock(&mut chip);
    write(&mut chip, FLASH_CR, CR_PG);
    assert_eq!(chip.write(PAGE, Width::Byte, 0x12), Err(BusError::Fault));
    assert_eq!(status(&mut chip) & SR_PGERR, SR_PGERR);
    assert_eq!(read(&mut chip, PAGE), 0xFFFF_FFFF);
}

#[test]
fn writing_without_pg_is_a_bus_error() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    assert_eq!(chip.write(PAGE, Width::Half, 0x12), Err(BusError::Fault));
    unlock(&mut chip);
    assert_eq!(chip.write(PAGE, Width::Half, 0x12), Err(BusError::Fault));
}

#[test]
fn programming_a_programmed_half_word_is_pgerr_except_zero() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock(&mut chip);
    program_half(&mut chip, PAGE, 0x1234);
    program_half(&mut chip, PAGE, 0x0234);
    assert_eq!(status(&mut chip) & SR_PGERR, SR_PGERR);
    assert_eq!(chip.read(PAGE, Width::Half), Ok(0x1234));
    write(&mut chip, FLASH_SR, SR_PGERR | SR_EOP);
    program_half(&mut chip, PAGE, 0x0000);
    assert_eq!(status(&mut chip), SR_EOP);
    assert_eq!(chip.read(PAGE, Width::Half), Ok(0x0000));
}

#[test]
fn page_erase_takes_terase_and_erases_one_page() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock(&mut chip);
    for address in [PAGE - 2, PAGE, PAGE + 0x3FE, PAGE + 0x400] {
        program_half(&mut chip, address, 0);
    }
    write(&mut chip, FLASH_CR, CR_PER);
    write(&mut chip, FLASH_AR, PAGE + 0x123);
    write(&mut chip, FLASH_CR, CR_PER | CR_STRT);
    assert_ne!(
        read(&mut chip, FLASH_CR) & CR_STRT,
        0,
        "STRT reads 1 while busy"
    );
    let took = wait_until_done(&mut chip);
    assert!((20_000_000..20_000_200).contains(&took), "{took} ns");
    assert_eq!(chip.read(PAGE, Width::Half), Ok(0xFFFF));
    assert_eq!(chip.read(PAGE + 0x3FE, Width::Half), Ok(0xFFFF));
    assert_eq!(
        chip.read(PAGE - 2, Width::Half),
        Ok(0),
        "the page before is kept"
    );
    assert_eq!(
        chip.read(PAGE + 0x400, Width::Half),
        Ok(0),
        "the page after is kept"
    );
}

#[test]
fn high_density_pages_are_2_kb() {
    let mut chip = Chip::new(Variant::Stm32f103rc);
    unlock(&mut chip);
    program_half(&mut chip, 0x0800_07FE, 0);
    program_half(&mut chip, 0x0800_0800, 0);
    write(&mut chip, FLASH_CR, CR_PER);
    write(&mut chip, FLASH_AR, 0x0800_0000);
    write(&mut chip, FLASH_CR, CR_PER | CR_STRT);
    wait_until_done(&mut chip);
    assert_eq!(chip.read(0x0800_07FE, Width::Half), Ok(0xFFFF));
    assert_eq!(chip.read(0x0800_0800, Width::Half), Ok(0));
}

#[test]
fn mass_erase() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock(&mut chip);
    program_half(&mut chip, 0x0800_0000, 0);
    program_half(&mut chip, 0x0800_FFFE, 0);
    write(&mut chip, FLASH_CR, CR_MER);
    write(&mut chip, FLASH_CR, CR_MER | CR_STRT);
    let took = wait_until_done(&mut chip);
    assert!((20_000_000..20_000_200).contains(&took), "{took} ns");
    assert_eq!(read(&mut chip, 0x0800_0000), 0xFFFF_FFFF);
    assert_eq!(read(&mut chip, 0x0800_FFFC), 0xFFFF_FFFF);
}

#[test]
fn clone_programs_eight_times_faster() {
    let mut chip = Chip::new(Variant::Cks32f103c8);
    unlock(&mut chip);
    write(&mut chip, FLASH_CR, CR_PG);
    chip.write(PAGE, Width::Half, 0x1234).unwrap();
    let took = wait_until_done(&mut chip);
    assert!((6_500..6_700).contains(&took), "{took} ns");
}

#[test]
fn reset_locks_the_controller_again() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock(&mut chip);
    chip.set_reset(true);
    chip.set_reset(false);
    assert_eq!(read(&mut chip, FLASH_CR), CR_LOCK);
}

fn program_option_byte(chip: &mut Chip, address: u32, value: u32) {
    write(chip, FLASH_CR, CR_OPTPG | CR_OPTWRE);
    chip.write(address, Width::Half, value).unwrap();
    wait_until_done(chip);
}

#[test]
fn write_protection_from_the_option_bytes() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock(&mut chip);
    write(&mut chip, OPTKEYR, KEY1);
    write(&mut chip, OPTKEYR, KEY2);
    assert_ne!(read(&mut chip, FLASH_CR) & CR_OPTWRE, 0);
    write(&mut chip, FLASH_CR, CR_OPTER | CR_OPTWRE);
    write(&mut chip, FLASH_CR, CR_OPTER | CR_OPTWRE | CR_STRT);
    wait_until_done(&mut chip);
    assert_eq!(read(&mut chip, 0x1FFF_F800), 0xFFFF_FFFF);
    program_option_byte(&mut chip, 0x1FFF_F800, 0xA5);
    program_option_byte(&mut chip, 0x1FFF_F808, 0xFE); // WRP0 bit 0: pages 0-3
    assert_eq!(
        read(&mut chip, 0x1FFF_F808) & 0xFFFF,
        0x01FE,
        "complement added"
    );
    write(&mut chip, 0xE000_ED0C, 0x05FA_0004); // reset: the option bytes load
    assert_eq!(read(&mut chip, 0x4002_2020) & 1, 0, "WRPR");
    unlock(&mut chip);
    program_half(&mut chip, 0x0800_0C00, 0x1234);
    assert_eq!(status(&mut chip) & SR_WRPRTERR, SR_WRPRTERR);
    assert_eq!(chip.read(0x0800_0C00, Width::Half), Ok(0xFFFF));
    program_half(&mut chip, 0x0800_1000, 0x1234);
    assert_eq!(
        chip.read(0x0800_1000, Width::Half),
        Ok(0x1234),
        "page 4 is not protected"
    );
}

const OPTION_BYTES: u32 = 0x1FFF_F800;
const FLASH_OBR: u32 = FPEC + 0x1C;

fn unlock_options(chip: &mut Chip) {
    unlock(chip);
    write(chip, OPTKEYR, KEY1);
    write(chip, OPTKEYR, KEY2);
}

fn erase_option_bytes(chip: &mut Chip) -> u64 {
    write(chip, FLASH_CR, CR_OPTER | CR_OPTWRE);
    write(chip, FLASH_CR, CR_OPTER | CR_OPTWRE | CR_STRT);
    let took = wait_until_done(chip);
    write(chip, FLASH_CR, CR_OPTWRE);
    took
}

fn system_reset(chip: &mut Chip) {
    write(chip, 0xE000_ED0C, 0x05FA_0004); // SYSRESETREQ
}

#[test]
fn option_bytes_erase_to_ones_and_program_with_the_complement() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock_options(&mut chip);
    let took = erase_option_bytes(&mut chip);
    assert!((20_000_000..20_000_200).contains(&took), "{took} ns");
    for offset in [0, 4, 8, 12] {
        assert_eq!(read(&mut chip, OPTION_BYTES + offset), 0xFFFF_FFFF);
    }
    program_option_byte(&mut chip, OPTION_BYTES, 0xA5);
    program_option_byte(&mut chip, OPTION_BYTES + 4, 0x12); // Data0
    assert_eq!(status(&mut chip), SR_EOP);
    assert_eq!(read(&mut chip, OPTION_BYTES), 0xFFFF_5AA5);
    assert_eq!(read(&mut chip, OPTION_BYTES + 4), 0xFFFF_ED12);
    assert_eq!(
        read(&mut chip, FLASH_OBR),
        0x03FF_FFFC,
        "OBR changes only at reset"
    );
    system_reset(&mut chip);
    // USER, Data1 and WRP are erased (0xFFFF: byte and complement do not match): OPTERR,
    // and they load as 0xFF (RM0008 3.4.3).
    assert_eq!(read(&mut chip, FLASH_OBR), 0x03FC_4BFD);
    assert_eq!(read(&mut chip, FLASH_CR), CR_LOCK);
}

#[test]
fn programming_an_option_byte_twice_is_skipped_with_wrprterr() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock_options(&mut chip);
    program_option_byte(&mut chip, OPTION_BYTES, 0x00);
    assert_eq!(status(&mut chip) & (SR_WRPRTERR | SR_PGERR), SR_WRPRTERR);
    assert_eq!(read(&mut chip, OPTION_BYTES), 0x00FF_5AA5);
}

#[test]
fn option_bytes_need_optwre() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock(&mut chip);
    write(&mut chip, FLASH_CR, CR_OPTER | CR_OPTWRE);
    assert_eq!(
        read(&mut chip, FLASH_CR) & CR_OPTWRE,
        0,
        "only OPTKEYR sets it"
    );
    write(&mut chip, FLASH_CR, CR_OPTER | CR_STRT);
    assert_eq!(status(&mut chip) & SR_BSY, 0, "no erase without OPTWRE");
    write(&mut chip, FLASH_CR, CR_OPTPG);
    assert_eq!(
        chip.write(OPTION_BYTES, Width::Half, 0x12),
        Err(BusError::Fault)
    );
    assert_eq!(read(&mut chip, OPTION_BYTES), 0x00FF_5AA5);
    unlock_options(&mut chip);
    assert_ne!(read(&mut chip, FLASH_CR) & CR_OPTWRE, 0);
    write(&mut chip, FLASH_CR, 0);
    assert_eq!(
        read(&mut chip, FLASH_CR) & CR_OPTWRE,
        0,
        "software clears OPTWRE by writing 0"
    );
}

#[test]
fn lifting_read_protection_mass_erases_the_flash() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock(&mut chip);
    program_half(&mut chip, PAGE, 0x1234); // CR = PG clears OPTWRE: unlock options after
    unlock_options(&mut chip);
    erase_option_bytes(&mut chip); // RDP 0xFF: protected from the next reset
    system_reset(&mut chip);
    assert_eq!(read(&mut chip, FLASH_OBR) & 0b10, 0b10, "RDPRT");
    unlock_options(&mut chip);
    write(&mut chip, FLASH_CR, CR_OPTPG | CR_OPTWRE);
    chip.write(OPTION_BYTES, Width::Half, 0xA5).unwrap();
    let took = wait_until_done(&mut chip);
    assert!((20_052_500..20_052_700).contains(&took), "{took} ns");
    assert_eq!(chip.read(PAGE, Width::Half), Ok(0xFFFF));
    system_reset(&mut chip);
    assert_eq!(read(&mut chip, FLASH_OBR) & 0b10, 0, "RDPRT");
}

#[test]
fn rewriting_rdp_on_an_unprotected_chip_keeps_the_flash() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    unlock(&mut chip);
    program_half(&mut chip, PAGE, 0x1234); // CR = PG clears OPTWRE: unlock options after
    unlock_options(&mut chip);
    erase_option_bytes(&mut chip);
    program_option_byte(&mut chip, OPTION_BYTES, 0xA5);
    assert_eq!(chip.read(PAGE, Width::Half), Ok(0x1234));
}

/// A program in SRAM unlocks the FPEC, programs 0x1234 at 0x0800_0400, waits for BSY to
/// clear and stops at a BKPT.
const SELF_PROGRAMMING: [u16; 24] = [
    0x4806, // ldr r0, =0x4002_2000
    0x4907, // ldr r1, =KEY1
    0x6041, // str r1, [r0, #4]
    0x4907, // ldr r1, =KEY2
    0x6041, // str r1, [r0, #4]
    0x2101, // movs r1, #1
    0x6101, // str r1, [r0, #0x10]    PG
    0x4A06, // ldr r2, =0x0800_0400
    0x4B06, // ldr r3, =0x1234
    0x8013, // strh r3, [r2]
    0x68C1, // ldr r1, [r0, #0xC]     SR
    0x07C9, // lsls r1, r1, #31      BSY into the Z flag
    0xD1FC, // bne (ldr r1, [r0, #0xC])
    0xBE00, // bkpt #0
    0x2000, 0x4002, // 0x4002_2000
    0x0123, 0x4567, // KEY1
    0x89AB, 0xCDEF, // KEY2
    0x0400, 0x0800, // 0x0800_0400
    0x1234, 0x0000,
];

#[test]
fn the_core_programs_flash() {
    let mut chip = chip_running_at(
        Variant::Stm32f103c8,
        0x2000_0100,
        0x2000_0100,
        &SELF_PROGRAMMING,
    );
    enable_debug(&mut chip);
    wait(&mut chip, 200_000);
    assert!(chip.core_status().halted, "{:?}", chip.core_status());
    assert_eq!(take_fault_status(&mut chip), crate::chip::debug::DFSR_BKPT);
    assert_eq!(chip.read(PAGE, Width::Half), Ok(0x1234));
    assert_eq!(read_register(&mut chip, 15), 0x2000_011A);
}

/// SELF_PROGRAMMING with a second half-word stored at once after the first, without
/// waiting for BSY (as OpenOCD's nRF5 loader stores its words): the bus holds the second
/// store until the first operation ends.
const BACK_TO_BACK_PROGRAMMING: [u16; 26] = [
    0x4807, // ldr r0, =0x4002_2000
    0x4908, // ldr r1, =KEY1
    0x6041, // str r1, [r0, #4]
    0x4908, // ldr r1, =KEY2
    0x6041, // str r1, [r0, #4]
    0x2101, // movs r1, #1
    0x6101, // str r1, [r0, #0x10]    PG
    0x4A07, // ldr r2, =0x0800_0400
    0x4B07, // ldr r3, =0x1234
    0x8013, // strh r3, [r2]
    0x8053, // strh r3, [r2, #2]     while the first half-word is programmed
    0x68C1, // ldr r1, [r0, #0xC]     SR
    0x07C9, // lsls r1, r1, #31      BSY into the Z flag
    0xD1FC, // bne (ldr r1, [r0, #0xC])
    0xBE00, // bkpt #0
    0xBF00, // nop (the pool's alignment)
    0x2000, 0x4002, // 0x4002_2000
    0x0123, 0x4567, // KEY1
    0x89AB, 0xCDEF, // KEY2
    0x0400, 0x0800, // 0x0800_0400
    0x1234, 0x0000,
];

#[test]
fn a_core_store_while_busy_waits_for_the_operation() {
    let mut chip = chip_running_at(
        Variant::Stm32f103c8,
        0x2000_0100,
        0x2000_0100,
        &BACK_TO_BACK_PROGRAMMING,
    );
    enable_debug(&mut chip);
    wait(&mut chip, 400_000);
    assert!(chip.core_status().halted, "{:?}", chip.core_status());
    assert_eq!(take_fault_status(&mut chip), crate::chip::debug::DFSR_BKPT);
    assert_eq!(chip.read(PAGE, Width::Word), Ok(0x1234_1234));
    let activity = chip.take_flash_activity();
    assert_eq!(activity.operations, 2);
    let span = activity.last_end_ns - activity.first_start_ns.unwrap();
    assert_eq!(
        span, activity.busy_ns,
        "the second half-word is programmed after the first, not beside it"
    );
}
