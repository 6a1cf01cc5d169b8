//! Tests of the chip through the `Bus` trait, as the debug port drives it.

mod breakwatch;
mod cache;
mod flash;
mod identity;
mod loader;
mod memory;
mod run_control;
mod wire;

use super::debug::{
    AIRCR, AIRCR_KEY, C_DEBUGEN, C_HALT, DCRDR, DCRSR, DEMCR, DFSR, DHCSR, DHCSR_KEY,
};
use super::{Chip, Variant};
use crate::bus::{Bus, Width};

/// Stack top and where the programs go.
pub const STACK_TOP: u32 = 0x2000_5000;
pub const CODE: u32 = 0x0800_0100;
pub const COUNTER: u32 = 0x2000_0000;

/// A loop that counts in the RAM word at 0x2000_0000:
/// 0x100 ldr r0, [pc, #8]; 0x102 ldr r1, [r0]; 0x104 adds r1, #1; 0x106 str r1, [r0];
/// 0x108 b 0x102; 0x10A nop; 0x10C .word 0x2000_0000.
pub const COUNTING_LOOP: [u16; 8] = [
    0x4802, 0x6801, 0x3101, 0x6001, 0xE7FB, 0xBF00, 0x0000, 0x2000,
];

/// 0x100 movs r0, #42; 0x102 bkpt #0xAB; 0x104 b 0x104.
pub const SEMIHOSTING_CALL: [u16; 3] = [0x202A, 0xBEAB, 0xE7FE];

/// 0x100 wfi; 0x102 b 0x102.
pub const WAIT_FOR_INTERRUPT: [u16; 2] = [0xBF30, 0xE7FE];

pub fn halves_to_bytes(halves: &[u16]) -> Vec<u8> {
    halves.iter().flat_map(|half| half.to_le_bytes()).collect()
}

/// A chip with a vector table (SP, reset at `entry`) and `code` at `address`, reset.
pub fn chip_running_at(variant: Variant, address: u32, entry: u32, code: &[u16]) -> Chip {
    let mut chip = Chip::new(variant);
    let mut vectors = STACK_TOP.to_le_bytes().to_vec();
    vectors.extend((entry | 1).to_le_bytes());
    chip.write_memory(0x0800_0000, &vectors).unwrap();
    chip.write_memory(address, &halves_to_bytes(code)).unwrap();
    super::core::reset_core(&mut chip.emulator);
    chip
}

pub fn chip_with(code: &[u16]) -> Chip {
    chip_running_at(Variant::Stm32f103c8, CODE, CODE, code)
}

pub fn read(chip: &mut Chip, address: u32) -> u32 {
    chip.read(address, Width::Word).unwrap()
}

pub fn write(chip: &mut Chip, address: u32, value: u32) {
    chip.write(address, Width::Word, value).unwrap()
}

/// Let `ns` of virtual time pass.
pub fn wait(chip: &mut Chip, ns: u64) {
    let now = chip.now_ns();
    chip.advance_to(now + ns);
}

pub fn enable_debug(chip: &mut Chip) {
    write(chip, DHCSR, DHCSR_KEY | C_DEBUGEN);
}

pub fn halt(chip: &mut Chip) {
    write(chip, DHCSR, DHCSR_KEY | C_DEBUGEN | C_HALT);
}

pub fn resume(chip: &mut Chip) {
    write(chip, DHCSR, DHCSR_KEY | C_DEBUGEN);
}

/// Halt at the reset vector: DEMCR.VC_CORERESET and SYSRESETREQ.
pub fn halt_at_reset(chip: &mut Chip) {
    enable_debug(chip);
    write(chip, DEMCR, super::debug::VC_CORERESET);
    write(chip, AIRCR, AIRCR_KEY | super::debug::SYSRESETREQ);
}

pub fn read_register(chip: &mut Chip, selector: u32) -> u32 {
    write(chip, DCRSR, selector);
    read(chip, DCRDR)
}

pub fn write_register(chip: &mut Chip, selector: u32, value: u32) {
    write(chip, DCRDR, value);
    write(chip, DCRSR, super::debug::DCRSR_REGWNR | selector);
}

pub fn take_fault_status(chip: &mut Chip) -> u32 {
    let status = read(chip, DFSR);
    write(chip, DFSR, status);
    status
}
