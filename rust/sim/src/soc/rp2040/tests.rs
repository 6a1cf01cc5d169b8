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
    // Two page programs one after the other, from time 10.
    let done = qspi.call(
        qspi::RomFunction::FlashRangeProgram,
        [0x1000, 0x2000_0000, 300, 0],
        sram,
        10,
    );
    assert_eq!(done, 10 + 2 * spi_flash::PAGE_PROGRAM_NS);
    qspi.call(qspi::RomFunction::FlashEnterCmdXip, [0; 4], sram, 0);
    assert!(qspi.xip_on());
    assert_eq!(qspi.read_xip(0x1000), 0x0302_0100);
    assert_eq!(qspi.read_xip(0x1000 + 296), 0x2B2A_2928);
    // Erase: the 4 KB sector only, with a 64 KB block command for aligned blocks.
    let done = qspi.call(
        qspi::RomFunction::FlashRangeErase,
        [0x1000, 0x1000, 0x10000, 0xD8],
        sram,
        0,
    );
    assert_eq!(done, spi_flash::SECTOR_ERASE_NS);
    assert_eq!(qspi.read_xip(0x1000), u32::MAX);
    assert_eq!(qspi.read_xip(0x1000 + 296), u32::MAX);
}

#[test]
fn rp2040_rom_function_table_by_code() {
    let rom = rom::image();
    let half = |at: usize| u16::from_le_bytes([rom[at], rom[at + 1]]);
    let table = half(0x14) as usize;
    let codes: Vec<u16> = (0..8).map(|index| half(table + 4 * index)).collect();
    assert_eq!(
        codes,
        [b"IF", b"EX", b"RE", b"RP", b"FC", b"CX", b"UB"]
            .map(qspi::code)
            .into_iter()
            .chain([0])
            .collect::<Vec<_>>()
    );
    for index in 0..7 {
        let entry = u32::from(half(table + 4 * index + 2));
        assert_eq!(entry & 1, 1, "Thumb address");
        assert!(rom::function_at(entry & !1).is_some());
    }
}

/// Core 0 programs the flash through the boot ROM's flash_range_program (r0-r2 set by
/// the debugger, LR at a BKPT in SRAM), then executes the flash through XIP and halts on
/// an FPB (BPU) comparator there; after an erase and a new program it runs the new code,
/// not unicorn's translation of the old.
#[test]
fn rp2040_cores_execute_flash_through_xip() {
    const DHCSR: u32 = 0xE000_EDF0;
    const HALT: u32 = 0xA05F_0003;
    const RUN: u32 = 0xA05F_0001;
    const BKPT_AT: u32 = 0x2000_0000;
    const DATA: u32 = 0x2000_0100;
    let mut chip = MultiCore::rp2040();
    let core = chip.core(0).unwrap();
    core.write(DHCSR, Width::Word, HALT).unwrap();
    core.write(BKPT_AT, Width::Half, 0xBE00).unwrap();
    let entry = |core: &mut crate::chip::Chip, name: &[u8; 2]| {
        let table = core.read(0x14, Width::Half).unwrap();
        (0..6)
            .map(|index| table + 4 * index)
            .find(|&at| core.read(at, Width::Half).unwrap() == u32::from(qspi::code(name)))
            .map(|at| core.read(at + 2, Width::Half).unwrap())
            .unwrap()
    };
    let call = |core: &mut crate::chip::Chip, name: &[u8; 2], arguments: [u32; 4]| {
        let function = entry(core, name);
        for (register, value) in arguments.into_iter().enumerate() {
            core.set_core_register(register as u32, value);
        }
        core.set_core_register(14, BKPT_AT | 1);
        core.set_core_register(15, function & !1);
        core.write(DHCSR, Width::Word, RUN).unwrap();
        let now = core.now_ns();
        core.advance_to(now + 1_000_000_000);
        assert!(core.core_status().halted, "{name:?} returned to the BKPT");
        assert_eq!(core.core_register(15), Some(BKPT_AT));
    };
    // movs r0, #value; nop; b . (Thumb: 0x20xx, 0xBF00, 0xE7FE)
    let program = |value: u8| [value, 0x20, 0x00, 0xBF, 0xFE, 0xE7, 0x00, 0xBF];
    let run_flash = |core: &mut crate::chip::Chip| {
        core.write(0xE000_2000, Width::Word, 3).unwrap(); // BP_CTRL: KEY, ENABLE
        core.write(0xE000_2008, Width::Word, 0x9000_0001).unwrap(); // upper half of 0x1000_0000
        core.set_core_register(15, XIP.base);
        core.write(DHCSR, Width::Word, RUN).unwrap();
        let now = core.now_ns();
        core.advance_to(now + 1_000_000);
        assert!(core.core_status().halted);
        assert_eq!(core.core_register(15), Some(XIP.base + 2));
        core.core_register(0)
    };
    for (index, value) in [42u8, 7].into_iter().enumerate() {
        for (offset, byte) in program(value).into_iter().enumerate() {
            core.write(DATA + offset as u32, Width::Byte, byte.into())
                .unwrap();
        }
        call(core, b"IF", [0; 4]);
        call(core, b"EX", [0; 4]);
        if index > 0 {
            call(core, b"RE", [0, 4096, 65536, 0xD8]);
        }
        call(core, b"RP", [0, DATA, 256, 0]);
        call(core, b"FC", [0; 4]);
        call(core, b"CX", [0; 4]);
        assert_eq!(run_flash(core), Some(u32::from(value)));
    }
}

/// reset_to_usb_boot ('UB') called by core 0 resets it into the ROM's USB boot mode (the
/// core sleeps in the ROM, USBCTRL MAIN_CTRL.CONTROLLER_EN reads 1); the next reset
/// (SYSRESETREQ) boots normally.
#[test]
fn rp2040_reset_to_usb_boot() {
    const DHCSR: u32 = 0xE000_EDF0;
    const AIRCR: u32 = 0xE000_ED0C;
    const MAIN_CTRL: u32 = 0x5011_0040;
    const S_RESET_ST: u32 = 1 << 25;
    let mut chip = MultiCore::rp2040();
    let core = chip.core(0).unwrap();
    core.write(DHCSR, Width::Word, 0xA05F_0003).unwrap();
    assert_eq!(core.read(MAIN_CTRL, Width::Word), Ok(0));
    let table = core.read(0x14, Width::Half).unwrap();
    let entry = (0..8)
        .map(|index| table + 4 * index)
        .find(|&at| core.read(at, Width::Half).unwrap() == u32::from(qspi::code(b"UB")))
        .map(|at| core.read(at + 2, Width::Half).unwrap())
        .unwrap();
    core.read(DHCSR, Width::Word).unwrap(); // clears S_RESET_ST
    core.set_core_register(15, entry & !1);
    core.write(DHCSR, Width::Word, 0xA05F_0001).unwrap();
    let now = core.now_ns();
    core.advance_to(now + 1_000_000);
    assert_ne!(core.read(DHCSR, Width::Word).unwrap() & S_RESET_ST, 0);
    core.write(DHCSR, Width::Word, 0xA05F_0003).unwrap();
    let pc = core.core_register(15).unwrap();
    assert!(pc < ROM.size, "in the boot ROM: {pc:#x}");
    assert_eq!(core.read(MAIN_CTRL, Width::Word), Ok(1), "USB boot mode");
    core.write(AIRCR, Width::Word, 0x05FA_0004).unwrap();
    assert_eq!(core.read(MAIN_CTRL, Width::Word), Ok(0), "a normal boot");
}

/// A ROM flash function takes the flash's time (datasheet 2.8.3.1.3: the ROM polls the
/// flash's status register): core 0 erasing two sectors stays in the ROM, running, for
/// 2 x 45 ms of virtual time; halted there its PC is the ROM's, a step leaves it there,
/// and resumed it returns to its caller only when the flash is done.
#[test]
fn rp2040_rom_flash_functions_take_the_flash_time() {
    const DHCSR: u32 = 0xE000_EDF0;
    const HALT: u32 = 0xA05F_0003;
    const STEP: u32 = 0xA05F_0005;
    const RUN: u32 = 0xA05F_0001;
    const BKPT_AT: u32 = 0x2000_0000;
    const MS: u64 = 1_000_000;
    let mut chip = MultiCore::rp2040();
    let core = chip.core(0).unwrap();
    core.write(DHCSR, Width::Word, HALT).unwrap();
    core.write(BKPT_AT, Width::Half, 0xBE00).unwrap();
    let table = core.read(0x14, Width::Half).unwrap();
    let entry = (0..7)
        .map(|index| table + 4 * index)
        .find(|&at| core.read(at, Width::Half).unwrap() == u32::from(qspi::code(b"RE")))
        .map(|at| core.read(at + 2, Width::Half).unwrap() & !1)
        .unwrap();
    for (register, value) in [0x2000, 0x2000, 0x10000, 0xD8].into_iter().enumerate() {
        core.set_core_register(register as u32, value);
    }
    core.set_core_register(14, BKPT_AT | 1);
    core.set_core_register(15, entry);
    let start = core.now_ns();
    core.write(DHCSR, Width::Word, RUN).unwrap();
    core.advance_to(start + 40 * MS);
    assert!(!core.core_status().halted, "still in the ROM, running");
    core.write(DHCSR, Width::Word, HALT).unwrap();
    assert_eq!(
        core.core_register(15),
        Some(entry + 2),
        "waiting in the ROM"
    );
    core.write(DHCSR, Width::Word, STEP).unwrap();
    assert_eq!(core.core_register(15), Some(entry + 2), "a step stays");
    core.write(DHCSR, Width::Word, RUN).unwrap();
    core.advance_to(start + 2 * spi_flash::SECTOR_ERASE_NS - MS);
    assert!(!core.core_status().halted, "the second sector is not done");
    core.advance_to(start + 2 * spi_flash::SECTOR_ERASE_NS + MS);
    assert!(core.core_status().halted, "returned to the BKPT");
    assert_eq!(core.core_register(15), Some(BKPT_AT));
}
