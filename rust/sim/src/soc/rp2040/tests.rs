use super::*;
use crate::bus::{Bus, Width};
use crate::chip::MultiCore;

#[test]
fn rp2040_identity_per_core_and_shared_sram() {
    let mut chip = MultiCore::rp2040();
    assert_eq!(chip.identity().dpidr, DPIDR);
    let selects: Vec<u32> = chip
        .multidrop_targets()
        .iter()
        .map(|target| target.target_select())
        .collect();
    assert_eq!(selects, [0x0100_2927, 0x1100_2927, 0xF100_2927]);
    for core in 0..2 {
        chip.select_debug_port(core);
        assert_eq!(chip.read(SYSINFO_CHIP_ID, Width::Word), Ok(CHIP_ID));
        assert_eq!(chip.read(SIO_CPUID, Width::Word), Ok(core as u32));
    }
    chip.select_debug_port(0);
    chip.write(0x2004_1000, Width::Word, 0x1234_5678).unwrap();
    chip.select_debug_port(1);
    assert_eq!(chip.read(0x2004_1000, Width::Word), Ok(0x1234_5678));
    // The rescue DP has no access port.
    chip.select_debug_port(RESCUE);
    assert_eq!(chip.access_port(0), None);
}

#[test]
fn rp2040_boot_rom_header_and_reset() {
    let mut chip = MultiCore::rp2040();
    assert_eq!(chip.read(0x10, Width::Word), Ok(0x0301_754D));
    assert_eq!(chip.read(0, Width::Word), Ok(0x2004_1F00));
    assert_eq!(chip.read(4, Width::Word), Ok(0xEF));
    assert_eq!(chip.read(0x18, Width::Half), Ok(0x181));
    // The ROM is read-only; XIP reads the erased flash.
    assert!(chip.write(0x100, Width::Word, 0).is_err());
    assert_eq!(chip.read(XIP.base, Width::Word), Ok(0xFFFF_FFFF));
    let core = chip.core(1).unwrap();
    assert_eq!(core.core_register(15), Some(0xEE));
    assert_eq!(core.core_register(13), Some(0x2004_1F00));
}
