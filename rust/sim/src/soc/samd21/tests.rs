//! The ATSAMD21G18A through the `Bus` trait, as the debug port drives it.

use super::dsu::{DEVICE_ID, DID, DSU_BASE, ROM_TABLE_BASE};
use super::nvmctrl::*;
use super::*;
use crate::bus::{AccessPortIdentity, AccessPortKind, Bus, BusError, Width};
use crate::chip::{Chip, Variant};

const NVM: u32 = NVMCTRL_BASE;

fn read(chip: &mut Chip, address: u32) -> u32 {
    chip.read(address, Width::Word).unwrap()
}

fn write(chip: &mut Chip, address: u32, value: u32) {
    chip.write(address, Width::Word, value).unwrap()
}

fn wait_until_ready(chip: &mut Chip) -> u64 {
    let start = chip.now_ns();
    while read(chip, NVM + INTFLAG) & INTFLAG_READY == 0 {
        let now = chip.now_ns();
        chip.advance_to(now + 100_000);
    }
    chip.now_ns() - start
}

fn command(chip: &mut Chip, address: u32, command: u32) {
    write(chip, NVM + ADDR, address >> 1);
    write(chip, NVM + CTRLA, CMDEX_KEY << 8 | command);
    wait_until_ready(chip);
}

#[test]
fn identity_of_the_samd21() {
    let mut chip = Chip::new(Variant::Atsamd21g18a);
    assert_eq!(chip.identity().dpidr, 0x0BC1_1477);
    assert_eq!(read(&mut chip, DSU_BASE + DID), DEVICE_ID);
    assert_eq!(read(&mut chip, 0xE000_ED00), 0x410C_C601);
    assert_eq!(read(&mut chip, NVM + PARAM), 0x0003_1000);
    // AP BASE -> the DSU's ROM table (Atmel 0xCD0) -> the M0+ ROM table (ARM 0x4C0).
    let ap0 = AccessPortIdentity {
        idr: 0x0477_0031,
        base: 0x4100_3003,
    };
    assert_eq!(
        chip.access_port(0),
        Some(AccessPortKind::Memory {
            identity: ap0,
            enabled: true
        })
    );
    assert_eq!(read(&mut chip, ROM_TABLE_BASE + 0xFE0), 0xD0);
    let entry = read(&mut chip, ROM_TABLE_BASE);
    assert_eq!(ROM_TABLE_BASE.wrapping_add(entry & !0xFFF), 0xE00F_F000);
    assert_eq!(read(&mut chip, 0xE00F_FFE0), 0xC0);
    assert_eq!(read(&mut chip, 0xE00F_FFE4) & 0xF, 0x4);
    // M0+ debug: SCS 0x008, DWT 0x00A, BPU 0x00B; no ITM, no DBGMCU.
    assert_eq!(read(&mut chip, 0xE00F_F000), 0xFFF0_F003);
    assert_eq!(read(&mut chip, 0xE00F_F008), 0xFFF0_3003);
    assert_eq!(read(&mut chip, 0xE00F_F00C), 0);
    assert_eq!(read(&mut chip, 0xE000_EFE0), 0x08);
    assert_eq!(read(&mut chip, 0xE000_1FE0), 0x0A);
    assert_eq!(read(&mut chip, 0xE000_2FE0), 0x0B);
    assert_eq!(
        read(&mut chip, 0xE000_2000) >> 4 & 0xF,
        4,
        "four BPU comparators"
    );
    assert_eq!(read(&mut chip, 0xE000_1000) >> 28, 2, "two DWT comparators");
    assert_eq!(chip.read(0xE000_0000, Width::Word), Err(BusError::Fault));
    assert_eq!(chip.read(0xE004_2000, Width::Word), Err(BusError::Fault));
}

#[test]
fn page_buffer_erase_and_write() {
    let mut chip = Chip::new(Variant::Atsamd21g18a);
    assert_eq!(
        chip.write(0x100, Width::Byte, 0),
        Err(BusError::Fault),
        "8-bit"
    );
    write(&mut chip, NVM + CTRLB, CTRLB_MANW);
    write(&mut chip, 0x104, 0x1122_3344);
    chip.write(0x10A, Width::Half, 0x5566).unwrap();
    assert_ne!(read(&mut chip, NVM + STATUS) & STATUS_LOAD, 0);
    assert_eq!(read(&mut chip, 0x104), u32::MAX, "only in the page buffer");
    write(&mut chip, NVM + CTRLA, CMD_WP); // no CMDEX
    assert_ne!(read(&mut chip, NVM + STATUS) & STATUS_PROGE, 0);
    write(&mut chip, NVM + STATUS, STATUS_PROGE);
    write(&mut chip, NVM + CTRLA, CMDEX_KEY << 8 | CMD_WP);
    assert_eq!(chip.read(0x104, Width::Word), Err(BusError::Stall));
    let took = wait_until_ready(&mut chip);
    assert!(took >= PAGE_WRITE_NS - 100_000, "{took}");
    assert_eq!(read(&mut chip, 0x104), 0x1122_3344);
    assert_eq!(read(&mut chip, 0x108), 0x5566_FFFF);
    assert_eq!(read(&mut chip, NVM + STATUS) & STATUS_LOAD, 0);
    command(&mut chip, 0x100, CMD_ER);
    assert_eq!(read(&mut chip, 0x104), u32::MAX);
    let activity = chip.take_flash_activity();
    assert_eq!(
        (activity.operations, activity.busy_ns),
        (2, PAGE_WRITE_NS + ROW_ERASE_NS),
        "benchmarks see the datasheet's page write and row erase times"
    );
    // MANW = 0: the last word of the page writes it.
    write(&mut chip, NVM + CTRLB, 0);
    for offset in (0..64).step_by(4) {
        write(&mut chip, 0x200 + offset, offset);
    }
    wait_until_ready(&mut chip);
    assert_eq!(read(&mut chip, 0x23C), 0x3C);
}

#[test]
fn bootprot_and_region_locks() {
    let mut chip = Chip::new(Variant::Atsamd21g18a);
    // BOOTPROT 6 (two rows, 512 bytes) through the user row: EAR, then WAP.
    let word0 = read(&mut chip, USER_ROW) & !0x7 | 0x6;
    let word1 = read(&mut chip, USER_ROW + 4);
    write(&mut chip, NVM + CTRLB, CTRLB_MANW);
    command(&mut chip, USER_ROW, CMD_EAR);
    assert_eq!(
        read(&mut chip, USER_ROW),
        u32::MAX,
        "EAR erases the user row"
    );
    write(&mut chip, USER_ROW, word0);
    write(&mut chip, USER_ROW + 4, word1);
    command(&mut chip, USER_ROW, CMD_WAP);
    assert_eq!(read(&mut chip, USER_ROW), word0);
    command(&mut chip, 0x100, CMD_ER);
    assert_eq!(
        read(&mut chip, NVM + STATUS) & STATUS_LOCKE,
        0,
        "not before reset"
    );
    chip.set_reset(true);
    chip.set_reset(false);
    command(&mut chip, 0x100, CMD_ER);
    assert_ne!(read(&mut chip, NVM + STATUS) & STATUS_LOCKE, 0, "BOOTPROT");
    write(&mut chip, NVM + STATUS, STATUS_LOCKE);
    command(&mut chip, 0x200, CMD_ER);
    assert_eq!(
        read(&mut chip, NVM + STATUS) & STATUS_LOCKE,
        0,
        "past BOOTPROT"
    );
    command(&mut chip, 0x4000, CMD_LR);
    assert_eq!(read(&mut chip, NVM + LOCK), 0xFFFD);
    command(&mut chip, 0x4000, CMD_ER);
    assert_ne!(
        read(&mut chip, NVM + STATUS) & STATUS_LOCKE,
        0,
        "region 1 locked"
    );
}

#[test]
fn security_bit_and_chip_erase() {
    let mut chip = Chip::new(Variant::Atsamd21g18a);
    write(&mut chip, NVM + CTRLB, CTRLB_MANW);
    write(&mut chip, 0x0, 0x2000_1000);
    command(&mut chip, 0x0, CMD_WP);
    write(&mut chip, 0x2000_0000, 0x55AA_55AA);
    command(&mut chip, 0x0, CMD_SSB);
    assert_ne!(read(&mut chip, NVM + STATUS) & STATUS_SB, 0);
    chip.set_reset(true);
    chip.set_reset(false);
    assert_eq!(chip.read(0x0, Width::Word), Err(BusError::Fault));
    assert_eq!(chip.read(DSU_BASE + DID, Width::Word), Err(BusError::Fault));
    let external = DSU_BASE + 0x100;
    assert_eq!(read(&mut chip, external) >> 16 & 1, 1, "STATUSB.PROT");
    chip.write(external, Width::Byte, 0x10).unwrap(); // CTRL.CE
    let start = chip.now_ns();
    while read(&mut chip, external) >> 8 & 1 == 0 {
        let now = chip.now_ns();
        chip.advance_to(now + 1_000_000);
    }
    assert!(chip.now_ns() - start >= CHIP_ERASE_NS);
    chip.set_reset(true);
    chip.set_reset(false);
    assert_eq!(read(&mut chip, 0x0), u32::MAX, "flash erased");
    assert_eq!(read(&mut chip, 0x2000_0000), 0, "RAM cleared");
    assert_eq!(
        read(&mut chip, external) >> 16 & 1,
        0,
        "unprotected after reset"
    );
}

#[test]
fn chip_erase_of_an_open_chip() {
    let mut chip = Chip::new(Variant::Atsamd21g18a);
    write(&mut chip, 0x4100_0000, 2); // PAC1 WPCLR, as OpenOCD does first
    let external = DSU_BASE + 0x100;
    chip.write(external, Width::Byte, 0x10).unwrap();
    assert_eq!(read(&mut chip, external) >> 8 & 1, 0, "not done yet");
    let now = chip.now_ns();
    chip.advance_to(now + CHIP_ERASE_NS);
    assert_eq!(read(&mut chip, external) >> 8 & 1, 1, "STATUSA.DONE");
}
