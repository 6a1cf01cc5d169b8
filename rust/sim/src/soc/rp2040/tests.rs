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

#[test]
fn rp2040_jedec_id_through_the_ssi_with_chip_select_forced() {
    let mut chip = MultiCore::rp2040();
    let ss_control = qspi::QSPI_SS_CTRL;
    chip.write(ss_control, Width::Word, 2 << 8).unwrap();
    for byte in [0x9F, 0, 0, 0] {
        chip.write(qspi::SSI_DR0, Width::Word, byte).unwrap();
    }
    let answer: Vec<u32> = (0..4)
        .map(|_| chip.read(qspi::SSI_DR0, Width::Word).unwrap())
        .collect();
    chip.write(ss_control, Width::Word, 3 << 8).unwrap();
    assert_eq!(answer, [0xFF, 0xEF, 0x40, 0x15]);
}

#[test]
fn rp2040_rom_flash_functions_erase_program_and_xip() {
    let mut qspi = Qspi::default();
    let data: Vec<u8> = (0..300u32).map(|n| n as u8).collect();
    let sram = |_at: u32, length: usize| Some(data[..length].to_vec());
    qspi.call(qspi::RomFunction::FlashExitXip, [0; 4], sram, 0);
    assert!(!qspi.xip_on());
    qspi.call(
        qspi::RomFunction::FlashRangeProgram,
        [0x1000, 0x2000_0000, 300, 0],
        sram,
        0,
    );
    qspi.call(qspi::RomFunction::FlashEnterCmdXip, [0; 4], sram, 0);
    assert!(qspi.xip_on());
    assert_eq!(qspi.read_xip(0x1000), 0x0302_0100);
    assert_eq!(qspi.read_xip(0x1000 + 296), 0x2B2A_2928);
    // Erase: the 4 KB sector only, with a 64 KB block command for aligned blocks.
    qspi.call(
        qspi::RomFunction::FlashRangeErase,
        [0x1000, 0x1000, 0x10000, 0xD8],
        sram,
        0,
    );
    assert_eq!(qspi.read_xip(0x1000), u32::MAX);
    assert_eq!(qspi.read_xip(0x1000 + 296), u32::MAX);
}

#[test]
fn rp2040_rom_function_table_by_code() {
    let rom = rom::image();
    let half = |at: usize| u16::from_le_bytes([rom[at], rom[at + 1]]);
    let table = half(0x14) as usize;
    let codes: Vec<u16> = (0..7).map(|index| half(table + 4 * index)).collect();
    assert_eq!(
        codes,
        [b"IF", b"EX", b"RE", b"RP", b"FC", b"CX"]
            .map(qspi::code)
            .into_iter()
            .chain([0])
            .collect::<Vec<_>>()
    );
    for index in 0..6 {
        let entry = u32::from(half(table + 4 * index + 2));
        assert_eq!(entry & 1, 1, "Thumb address");
        assert!(rom::function_at(entry & !1).is_some());
    }
}
