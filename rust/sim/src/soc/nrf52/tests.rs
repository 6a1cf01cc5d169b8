//! The nRF52840 through the `Bus` trait, as the debug port drives it.

use super::nvmc::*;
use super::*;
use crate::bus::{Bus, BusError, Width};
use crate::chip::{Chip, Variant};

const NVMC_READY: u32 = NVMC_BASE + READY;
const NVMC_CONFIG: u32 = NVMC_BASE + CONFIG;
const NVMC_ERASEPAGE: u32 = NVMC_BASE + ERASEPAGE;
const NVMC_ERASEALL: u32 = NVMC_BASE + ERASEALL;

fn read(chip: &mut Chip, address: u32) -> u32 {
    chip.read(address, Width::Word).unwrap()
}

fn write(chip: &mut Chip, address: u32, value: u32) {
    chip.write(address, Width::Word, value).unwrap()
}

/// Wait for READY; how long it took, in ns.
fn wait_until_ready(chip: &mut Chip) -> u64 {
    let start = chip.now_ns();
    while read(chip, NVMC_READY) == 0 {
        let now = chip.now_ns();
        chip.advance_to(now + 10_000);
    }
    chip.now_ns() - start
}

fn program(chip: &mut Chip, address: u32, value: u32) {
    write(chip, NVMC_CONFIG, WEN_WRITE);
    write(chip, address, value);
    wait_until_ready(chip);
    write(chip, NVMC_CONFIG, WEN_READ_ONLY);
}

#[test]
fn identity_of_the_nrf52840() {
    let mut chip = Chip::new(Variant::Nrf52840);
    assert_eq!(read(&mut chip, FICR_BASE + 0x100), 0x0005_2840);
    assert_eq!(read(&mut chip, FICR_BASE + 0x010), 4096);
    assert_eq!(read(&mut chip, FICR_BASE + 0x014), 256);
    assert_eq!(read(&mut chip, 0xE000_ED00), 0x410F_C241);
    assert_eq!(chip.identity().dpidr, 0x2BA0_1477);
    // ROM table: Nordic (continuation 2, identity 0x44), part 0x008.
    assert_eq!(read(&mut chip, 0xE00F_FFE0), 0x08);
    assert_eq!(read(&mut chip, 0xE00F_FFE8) & 0xF, 0x8 | (0x44 >> 4));
    assert_eq!(read(&mut chip, 0xE00F_FFD0) & 0xF, 0x2);
    // No DBGMCU on a Nordic part.
    assert_eq!(chip.read(0xE004_2000, Width::Word), Err(BusError::Fault));
    assert_eq!(
        chip.access_port(1),
        Some(AccessPortKind::Own),
        "the CTRL-AP is AP1"
    );
    assert_eq!(chip.read_access_port(1, CTRL_AP_IDR), Ok(CTRL_AP_IDR_VALUE));
    assert_eq!(chip.read_access_port(1, CTRL_AP_APPROTECTSTATUS), Ok(1));
    assert_eq!(chip.access_port(2), None);
}

#[test]
fn program_needs_wen_and_whole_words_and_only_clears_bits() {
    let mut chip = Chip::new(Variant::Nrf52840);
    assert_eq!(
        chip.write(0x1000, Width::Word, 0),
        Err(BusError::Fault),
        "WEN = 0"
    );
    write(&mut chip, NVMC_CONFIG, WEN_WRITE);
    assert_eq!(
        chip.write(0x1000, Width::Half, 0),
        Err(BusError::Fault),
        "half-word"
    );
    write(&mut chip, 0x1000, 0x1234_FF78);
    assert_eq!(
        read(&mut chip, NVMC_READY),
        0,
        "busy while the word is written"
    );
    assert_eq!(chip.read(0x1000, Width::Word), Err(BusError::Stall));
    let took = wait_until_ready(&mut chip);
    assert!(
        (WRITE_WORD_NS - 10_000..=WRITE_WORD_NS + 10_000).contains(&took),
        "{took}"
    );
    write(&mut chip, 0x1000, 0xFFFF_00FF);
    wait_until_ready(&mut chip);
    assert_eq!(
        read(&mut chip, 0x1000),
        0x1234_0078,
        "bits only go from 1 to 0"
    );
    let activity = chip.take_flash_activity();
    assert_eq!(
        (activity.operations, activity.busy_ns),
        (2, 2 * WRITE_WORD_NS),
        "benchmarks see the datasheet's word write time"
    );
}

#[test]
fn page_erase_and_erase_all_take_their_time() {
    let mut chip = Chip::new(Variant::Nrf52840);
    program(&mut chip, 0x2000, 0);
    program(&mut chip, 0x3000, 0);
    // Without WEN = 2 the erase registers do nothing.
    write(&mut chip, NVMC_ERASEPAGE, 0x2000);
    assert_eq!(read(&mut chip, NVMC_READY), 1);
    write(&mut chip, NVMC_CONFIG, WEN_ERASE);
    write(&mut chip, NVMC_ERASEPAGE, 0x2000);
    let took = wait_until_ready(&mut chip);
    assert!(
        (ERASE_PAGE_NS..=ERASE_PAGE_NS + 10_000).contains(&took),
        "{took}"
    );
    assert_eq!(read(&mut chip, 0x2000), u32::MAX);
    assert_eq!(read(&mut chip, 0x3000), 0, "only that page");
    write(&mut chip, NVMC_ERASEALL, 1);
    let took = wait_until_ready(&mut chip);
    assert!(
        (ERASE_ALL_NS..=ERASE_ALL_NS + 10_000).contains(&took),
        "{took}"
    );
    assert_eq!(read(&mut chip, 0x3000), u32::MAX);
}

#[test]
fn approtect_closes_the_ahb_ap_after_reset_and_ctrl_ap_erase_all_opens_it() {
    let mut chip = Chip::new(Variant::Nrf52840);
    program(&mut chip, 0x0, 0x2000_1000);
    program(&mut chip, UICR_BASE + 0x208, 0xFFFF_FF00);
    assert_eq!(read(&mut chip, 0x0), 0x2000_1000, "open until reset");
    chip.set_reset(true);
    chip.set_reset(false);
    assert_eq!(chip.read(0x0, Width::Word), Err(BusError::Fault));
    assert_eq!(chip.read(0xE000_ED00, Width::Word), Err(BusError::Fault));
    assert!(matches!(
        chip.access_port(0),
        Some(AccessPortKind::Memory { enabled: false, .. })
    ));
    assert_eq!(chip.read_access_port(1, CTRL_AP_APPROTECTSTATUS), Ok(0));
    // Recovery as OpenOCD's nrf52_recover does it.
    chip.write_access_port(1, CTRL_AP_ERASEALL, 1).unwrap();
    assert_eq!(chip.read_access_port(1, CTRL_AP_ERASEALLSTATUS), Ok(1));
    let now = chip.now_ns();
    chip.advance_to(now + ERASE_ALL_NS);
    assert_eq!(chip.read_access_port(1, CTRL_AP_ERASEALLSTATUS), Ok(0));
    assert_eq!(chip.read_access_port(1, CTRL_AP_APPROTECTSTATUS), Ok(1));
    chip.write_access_port(1, CTRL_AP_RESET, 1).unwrap();
    assert!(chip.core_status().in_reset, "CTRL-AP RESET holds the chip");
    chip.write_access_port(1, CTRL_AP_RESET, 0).unwrap();
    assert_eq!(read(&mut chip, 0x0), u32::MAX, "flash erased");
    assert_eq!(read(&mut chip, UICR_BASE + 0x208), u32::MAX, "UICR erased");
}
