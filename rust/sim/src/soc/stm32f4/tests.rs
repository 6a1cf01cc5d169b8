//! The STM32F4 through the `Bus` trait, as the debug port drives it.

use super::flash::*;
use crate::bus::{Bus, BusError, Width};
use crate::chip::{Chip, Variant};

const FLASH: u32 = FLASH_INTERFACE_BASE;
const FLASH_KEYR: u32 = FLASH + KEYR;
const FLASH_OPTKEYR: u32 = FLASH + OPTKEYR;
const FLASH_SR: u32 = FLASH + SR;
const FLASH_CR: u32 = FLASH + CR;
const FLASH_OPTCR: u32 = FLASH + OPTCR;
const PSIZE_X16: u32 = 1 << CR_PSIZE_SHIFT;
const PSIZE_X32: u32 = 2 << CR_PSIZE_SHIFT;

fn read(chip: &mut Chip, address: u32) -> u32 {
    chip.read(address, Width::Word).unwrap()
}

fn write(chip: &mut Chip, address: u32, value: u32) {
    chip.write(address, Width::Word, value).unwrap()
}

fn unlock(chip: &mut Chip) {
    write(chip, FLASH_KEYR, KEY1);
    write(chip, FLASH_KEYR, KEY2);
}

/// Wait for BSY to clear; how long it took, in ns.
fn wait_until_done(chip: &mut Chip) -> u64 {
    let start = chip.now_ns();
    while read(chip, FLASH_SR) & SR_BSY != 0 {
        let now = chip.now_ns();
        chip.advance_to(now + 1_000_000);
    }
    chip.now_ns() - start
}

#[test]
fn identity_of_the_f407() {
    let mut chip = Chip::new(Variant::Stm32f407vg);
    assert_eq!(read(&mut chip, 0xE004_2000), 0x1007_0413);
    assert_eq!(read(&mut chip, 0xE000_ED00), 0x410F_C241);
    assert_eq!(read(&mut chip, 0x1FFF_7A20) >> 16, 1024);
    assert_eq!(chip.identity().dpidr, 0x2BA0_1477);
    // ROM table PIDR: ST (0x20) and the DEV_ID as part number.
    assert_eq!(read(&mut chip, 0xE00F_FFE0), 0x13);
    assert_eq!(read(&mut chip, 0xE00F_FFE4) & 0xF, 0x4);
    // The M4's SCS part number 0x00C.
    assert_eq!(read(&mut chip, 0xE000_EFE0), 0x0C);
    // CCM RAM on the F407.
    write(&mut chip, 0x1000_0000, 0x1234_5678);
    assert_eq!(read(&mut chip, 0x1000_0000), 0x1234_5678);
}

#[test]
fn unlock_program_and_lock() {
    let mut chip = Chip::new(Variant::Stm32f407vg);
    assert_ne!(read(&mut chip, FLASH_CR) & CR_LOCK, 0);
    unlock(&mut chip);
    assert_eq!(read(&mut chip, FLASH_CR) & CR_LOCK, 0);
    write(&mut chip, FLASH_CR, CR_PG | PSIZE_X16);
    chip.write(0x0800_0000, Width::Half, 0xBEEF).unwrap();
    assert_ne!(read(&mut chip, FLASH_SR) & SR_BSY, 0);
    let took = wait_until_done(&mut chip);
    assert!(took >= 16_000, "a program takes 16 us (DS8626 table 40)");
    assert_eq!(read(&mut chip, 0x0800_0000) & 0xFFFF, 0xBEEF);
    assert_eq!(read(&mut chip, FLASH_SR) & 0xF0, 0);
    write(&mut chip, FLASH_CR, CR_LOCK);
    assert_ne!(read(&mut chip, FLASH_CR) & CR_LOCK, 0);
}

#[test]
fn every_programming_error() {
    let mut chip = Chip::new(Variant::Stm32f411ce);
    unlock(&mut chip);
    // PSIZE x16, a word written: PGPERR, nothing programmed.
    write(&mut chip, FLASH_CR, CR_PG | PSIZE_X16);
    write(&mut chip, 0x0800_0000, 0);
    assert_eq!(read(&mut chip, FLASH_SR) & 0xF0, SR_PGPERR);
    assert_eq!(read(&mut chip, 0x0800_0000), u32::MAX);
    // While an error flag is set, the next program is refused with PGSERR.
    chip.write(0x0800_0000, Width::Half, 0).unwrap();
    assert_ne!(read(&mut chip, FLASH_SR) & SR_PGSERR, 0);
    write(&mut chip, FLASH_SR, 0xF0);
    assert_eq!(read(&mut chip, FLASH_SR) & 0xF0, 0);
    // No PG: PGSERR.
    write(&mut chip, FLASH_CR, PSIZE_X32);
    write(&mut chip, 0x0800_0000, 0);
    assert_eq!(read(&mut chip, FLASH_SR) & 0xF0, SR_PGSERR);
    write(&mut chip, FLASH_SR, 0xF0);
    // A sector past the end of a 512 KB part: PGSERR, nothing starts.
    write(
        &mut chip,
        FLASH_CR,
        CR_SER | 8 << CR_SNB_SHIFT | PSIZE_X32 | CR_STRT,
    );
    assert_eq!(read(&mut chip, FLASH_SR) & (0xF0 | SR_BSY), SR_PGSERR);
    // A wrong key: bus error, locked until reset.
    write(&mut chip, FLASH_CR, CR_LOCK);
    assert_eq!(
        chip.write(FLASH_KEYR, Width::Word, 0x1111_1111),
        Err(BusError::Fault)
    );
    let _ = chip.write(FLASH_KEYR, Width::Word, KEY1);
    let _ = chip.write(FLASH_KEYR, Width::Word, KEY2);
    assert_ne!(read(&mut chip, FLASH_CR) & CR_LOCK, 0);
    chip.set_reset(true);
    chip.set_reset(false);
    unlock(&mut chip);
    assert_eq!(read(&mut chip, FLASH_CR) & CR_LOCK, 0);
}

#[test]
fn sector_erase_takes_the_datasheet_time() {
    let mut chip = Chip::new(Variant::Stm32f407vg);
    chip.write_memory(0x0801_0000, &[0; 16]).unwrap();
    unlock(&mut chip);
    // Sector 4 (64 KB at 0x0801_0000) with PSIZE x32: 550 ms typical.
    write(
        &mut chip,
        FLASH_CR,
        CR_SER | 4 << CR_SNB_SHIFT | PSIZE_X32 | CR_STRT,
    );
    // The array stalls the debugger while busy.
    assert_eq!(chip.read(0x0801_0000, Width::Word), Err(BusError::Stall));
    let took = wait_until_done(&mut chip);
    assert!((550_000_000..552_000_000).contains(&took), "{took} ns");
    assert_eq!(read(&mut chip, 0x0801_0000), u32::MAX);
    assert_ne!(read(&mut chip, FLASH_SR) & SR_EOP, 0);
}

/// nWRP of sector 1 cleared through OPTCR: an erase there sets WRPERR after the reset.
#[test]
fn write_protection_and_read_protection() {
    let mut chip = Chip::new(Variant::Stm32f401cc);
    chip.write_memory(0x0800_4000, &[0x55; 4]).unwrap();
    write(&mut chip, FLASH_OPTKEYR, 0x0819_2A3B);
    write(&mut chip, FLASH_OPTKEYR, 0x4C5D_6E7F);
    let options = read(&mut chip, FLASH_OPTCR) & !OPTCR_OPTLOCK;
    write(&mut chip, FLASH_OPTCR, options & !(1 << 17) | OPTCR_OPTSTRT);
    wait_until_done(&mut chip);
    chip.set_reset(true);
    chip.set_reset(false);
    unlock(&mut chip);
    write(
        &mut chip,
        FLASH_CR,
        CR_SER | 1 << CR_SNB_SHIFT | PSIZE_X32 | CR_STRT,
    );
    assert_eq!(read(&mut chip, FLASH_SR) & (0xF0 | SR_BSY), SR_WRPERR);
    assert_eq!(read(&mut chip, 0x0800_4000), 0x5555_5555);

    // RDP level 1: the debugger's flash reads are bus errors after the reset.
    write(&mut chip, FLASH_OPTKEYR, 0x0819_2A3B);
    write(&mut chip, FLASH_OPTKEYR, 0x4C5D_6E7F);
    let options = read(&mut chip, FLASH_OPTCR) & !OPTCR_OPTLOCK;
    write(
        &mut chip,
        FLASH_OPTCR,
        options & !0xFF00 | 0x5500 | OPTCR_OPTSTRT,
    );
    wait_until_done(&mut chip);
    chip.set_reset(true);
    chip.set_reset(false);
    assert_eq!(chip.read(0x0800_4000, Width::Word), Err(BusError::Fault));
    // Back to level 0: the flash is mass-erased, then readable.
    write(&mut chip, FLASH_OPTKEYR, 0x0819_2A3B);
    write(&mut chip, FLASH_OPTKEYR, 0x4C5D_6E7F);
    let options = read(&mut chip, FLASH_OPTCR) & !OPTCR_OPTLOCK;
    write(
        &mut chip,
        FLASH_OPTCR,
        options & !0xFF00 | 0xAA00 | OPTCR_OPTSTRT,
    );
    let took = wait_until_done(&mut chip);
    assert!(took >= 4_000_000_000, "a mass erase: {took} ns");
    chip.set_reset(true);
    chip.set_reset(false);
    assert_eq!(read(&mut chip, 0x0800_4000), u32::MAX);
}

#[test]
fn fpu_registers_through_dcrsr() {
    let mut chip = Chip::new(Variant::Stm32f407vg);
    write(&mut chip, 0xE000_EDF0, 0xA05F_0003); // C_DEBUGEN | C_HALT
    write(&mut chip, 0xE000_EDF8, 0x3F80_0000); // 1.0f
    write(&mut chip, 0xE000_EDF4, 0x1_0045); // write S5
    write(&mut chip, 0xE000_EDF4, 0x45); // read S5
    assert_eq!(read(&mut chip, 0xE000_EDF8), 0x3F80_0000);
    assert_eq!(chip.core_register(0x45), Some(0x3F80_0000));
    assert!(chip.set_core_register(0x21, 0x0300_0000));
    assert_eq!(chip.core_register(0x21), Some(0x0300_0000));
    // No FPU on the F1's Cortex-M3.
    assert_eq!(Chip::new(Variant::Stm32f103c8).core_register(0x45), None);
}
