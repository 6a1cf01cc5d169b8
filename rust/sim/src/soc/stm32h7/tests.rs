//! The STM32H743/H750 through the `Bus` trait, as the debug port drives it.

use super::flash::*;
use crate::bus::{AccessPortIdentity, AccessPortKind, Bus, BusError, Width};
use crate::chip::{Chip, Variant};
use crate::soc::flash::{KEYS, OPTION_KEYS};

const FLASH: u32 = FLASH_INTERFACE_BASE;
const BANK_2: u32 = 0x0810_0000;
const PSIZE_X64: u32 = 3 << CR_PSIZE_SHIFT;

fn read(chip: &mut Chip, address: u32) -> u32 {
    chip.read(address, Width::Word).unwrap()
}

fn write(chip: &mut Chip, address: u32, value: u32) {
    chip.write(address, Width::Word, value).unwrap()
}

/// Bank `bank`'s register `register` (bank 2's at +0x100).
fn register(bank: u32, register: u32) -> u32 {
    FLASH + bank * BANK_REGISTERS + register
}

fn unlock(chip: &mut Chip, bank: u32) {
    write(chip, register(bank, KEYR), KEYS[0]);
    write(chip, register(bank, KEYR), KEYS[1]);
}

fn unlock_options(chip: &mut Chip) {
    write(chip, FLASH + OPTKEYR, OPTION_KEYS[0]);
    write(chip, FLASH + OPTKEYR, OPTION_KEYS[1]);
}

/// Wait until `bank`'s QW clears; how long it took, in ns.
fn wait_until_done(chip: &mut Chip, bank: u32) -> u64 {
    let start = chip.now_ns();
    while read(chip, register(bank, SR)) & SR_QW != 0 {
        let now = chip.now_ns();
        chip.advance_to(now + 1_000_000);
    }
    chip.now_ns() - start
}

fn wait_for_options(chip: &mut Chip) {
    while read(chip, FLASH + OPTSR_CUR) & OPTSR_OPT_BUSY != 0 {
        let now = chip.now_ns();
        chip.advance_to(now + 10_000_000);
    }
}

/// Write one flash word of eight words `first`, `first + 1`, ... at `address`.
fn write_flash_word(chip: &mut Chip, address: u32, first: u32) {
    for index in 0..8 {
        write(chip, address + 4 * index, first + index);
    }
}

#[test]
fn identity_of_the_h743() {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    assert_eq!(read(&mut chip, 0x5C00_1000), 0x2003_6450, "DBGMCU_IDCODE");
    assert_eq!(read(&mut chip, 0xE000_ED00), 0x411F_C271, "CPUID: M7 r1p1");
    assert_eq!(chip.read(0x1FF1_E880, Width::Half), Ok(2048));
    assert_eq!(chip.identity().dpidr, 0x6BA0_2477);
    assert_eq!(
        chip.access_port(0),
        Some(AccessPortKind::Memory {
            identity: AccessPortIdentity {
                idr: 0x8477_0001,
                base: 0xE00F_E003
            },
            enabled: true
        })
    );
    // The processor ROM table: ST's DEV_ID 0x450, first entry the PPB ROM table.
    assert_eq!(read(&mut chip, 0xE00F_EFE0), 0x50);
    assert_eq!(read(&mut chip, 0xE00F_EFE4) & 0xF, 0x4);
    assert_eq!(read(&mut chip, 0xE00F_E000), 0x0000_1003);
    // The PPB ROM table (ARM 0x4C7) lists the SCS first.
    assert_eq!(read(&mut chip, 0xE00F_FFE0), 0xC7);
    assert_eq!(read(&mut chip, 0xE00F_F000), 0xFFF0_F003);
    // FPB version 2 with eight comparators; FPB-M7 part number 0x00E.
    assert_eq!(read(&mut chip, 0xE000_2000), 0x1000_0080);
    assert_eq!(read(&mut chip, 0xE000_2FE0), 0x0E);
    // Double-precision FPU and separate L1 caches.
    assert_eq!(read(&mut chip, 0xE000_EF40), 0x1011_0221);
    assert_eq!(read(&mut chip, 0xE000_ED78), 0x0900_0003);
    // No flash alias at 0: ITCM RAM.
    write(&mut chip, 0, 0x1234_5678);
    assert_eq!(read(&mut chip, 0), 0x1234_5678);
    // No DBGMCU on the private peripheral bus.
    assert_eq!(chip.read(0xE004_2000, Width::Word), Err(BusError::Fault));
}

#[test]
fn h750_has_one_small_bank() {
    let mut chip = Chip::new(Variant::Stm32h750vb);
    assert_eq!(chip.read(0x1FF1_E880, Width::Half), Ok(128));
    assert_eq!(chip.read(BANK_2, Width::Word), Err(BusError::Fault));
    unlock(&mut chip, 0);
    write(
        &mut chip,
        register(0, CR),
        CR_SER | PSIZE_X64 | 1 << CR_SNB_SHIFT,
    );
    write(
        &mut chip,
        register(0, CR),
        CR_SER | PSIZE_X64 | 1 << CR_SNB_SHIFT | CR_START,
    );
    assert_eq!(
        read(&mut chip, register(0, SR)) & SR_PGSERR,
        SR_PGSERR,
        "no sector 1"
    );
}

/// AP2 is the APB-AP; DBGMCU answers on the debug APB at 0xE00E_1000 as at 0x5C00_1000.
#[test]
fn apb_ap_reaches_dbgmcu_on_the_debug_apb() {
    use crate::bus::AccessPortKind;
    let mut chip = Chip::new(Variant::Stm32h743zi);
    assert_eq!(
        chip.access_port(2),
        Some(AccessPortKind::Memory {
            identity: AccessPortIdentity {
                idr: 0x5477_0002,
                base: 0xE00E_0003
            },
            enabled: true
        })
    );
    assert_eq!(chip.access_port(1), None);
    assert_eq!(read(&mut chip, 0xE00E_1000), 0x2003_6450);
    write(&mut chip, 0xE00E_1004, 0x0060_0000);
    assert_eq!(read(&mut chip, 0x5C00_1004), 0x0060_0000);
}

#[test]
fn dbgmcu_control_keeps_its_bits_over_a_reset() {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    write(&mut chip, 0x5C00_1004, 0x0070_003F);
    assert_eq!(
        read(&mut chip, 0x5C00_1004),
        0x0070_0007,
        "bits 3-5 do not exist"
    );
    chip.set_reset(true);
    chip.set_reset(false);
    assert_eq!(read(&mut chip, 0x5C00_1004), 0x0070_0007);
}

#[test]
fn program_a_flash_word() {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    assert_ne!(read(&mut chip, register(0, CR)) & CR_LOCK, 0);
    unlock(&mut chip, 0);
    assert_eq!(read(&mut chip, register(0, CR)) & CR_LOCK, 0);
    write(&mut chip, register(0, CR), CR_PG | PSIZE_X64);
    for index in 0..7 {
        write(&mut chip, 0x0800_0020 + 4 * index, index);
        assert_eq!(
            read(&mut chip, register(0, SR)) & (SR_WBNE | SR_QW),
            SR_WBNE
        );
    }
    write(&mut chip, 0x0800_003C, 7);
    assert_ne!(read(&mut chip, register(0, SR)) & SR_QW, 0);
    assert_eq!(chip.read(0x0800_0020, Width::Word), Err(BusError::Stall));
    let took = wait_until_done(&mut chip, 0);
    assert!(
        took >= 100_000,
        "a flash word at x64 takes 100 us (DS12110 table 53)"
    );
    for index in 0..8 {
        assert_eq!(read(&mut chip, 0x0800_0020 + 4 * index), index);
    }
    let status = read(&mut chip, register(0, SR));
    assert_eq!(status & SR_ERRORS, 0);
    assert_ne!(status & SR_EOP, 0);
    write(&mut chip, register(0, CCR), SR_EOP);
    assert_eq!(read(&mut chip, register(0, SR)) & SR_EOP, 0);
}

#[test]
fn force_write_programs_a_partial_word() {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    unlock(&mut chip, 0);
    write(&mut chip, register(0, CR), CR_PG | PSIZE_X64);
    write(&mut chip, 0x0800_0004, 0xA5A5_0000);
    write(&mut chip, register(0, CR), CR_PG | PSIZE_X64 | CR_FW);
    wait_until_done(&mut chip, 0);
    assert_eq!(read(&mut chip, 0x0800_0000), u32::MAX);
    assert_eq!(read(&mut chip, 0x0800_0004), 0xA5A5_0000);
}

#[test]
fn every_programming_error() {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    unlock(&mut chip, 0);
    // No PG: PGSERR.
    write(&mut chip, register(0, CR), PSIZE_X64);
    write(&mut chip, 0x0800_0000, 0);
    assert_eq!(read(&mut chip, register(0, SR)) & SR_ERRORS, SR_PGSERR);
    // While an error is set, writes are refused with PGSERR.
    write(&mut chip, register(0, CR), CR_PG | PSIZE_X64);
    write(&mut chip, 0x0800_0000, 0);
    assert_eq!(read(&mut chip, register(0, SR)) & SR_WBNE, 0);
    write(&mut chip, register(0, CCR), SR_ERRORS);
    // Another flash word while the buffer holds one: INCERR, buffer emptied.
    write(&mut chip, 0x0800_0000, 0);
    write(&mut chip, 0x0800_0040, 0);
    let status = read(&mut chip, register(0, SR));
    assert_eq!(status & SR_ERRORS, SR_INCERR);
    assert_eq!(status & SR_WBNE, 0);
    write(&mut chip, register(0, CCR), SR_ERRORS);
    // The same byte twice: STRBERR.
    write(&mut chip, 0x0800_0000, 0);
    chip.write(0x0800_0002, Width::Half, 0).unwrap();
    assert_eq!(read(&mut chip, register(0, SR)) & SR_ERRORS, SR_STRBERR);
    write(&mut chip, register(0, CCR), SR_ERRORS);
    // Nothing reached the array.
    assert_eq!(read(&mut chip, 0x0800_0000), u32::MAX);
    // Locked: PGSERR, and CR cannot be changed.
    write(&mut chip, register(0, CR), CR_LOCK);
    write(&mut chip, register(0, CR), CR_PG);
    assert_eq!(read(&mut chip, register(0, CR)) & CR_PG, 0);
}

#[test]
fn a_wrong_key_locks_the_bank_until_reset() {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    assert_eq!(
        chip.write(register(1, KEYR), Width::Word, 0x1111_1111),
        Err(BusError::Fault)
    );
    assert_eq!(
        chip.write(register(1, KEYR), Width::Word, KEYS[0]),
        Err(BusError::Fault)
    );
    assert_ne!(read(&mut chip, register(1, CR)) & CR_LOCK, 0);
    // Bank 1 has its own lock.
    unlock(&mut chip, 0);
    assert_eq!(read(&mut chip, register(0, CR)) & CR_LOCK, 0);
    chip.set_reset(true);
    chip.set_reset(false);
    unlock(&mut chip, 1);
    assert_eq!(read(&mut chip, register(1, CR)) & CR_LOCK, 0);
}

#[test]
fn erase_a_bank_2_sector_while_bank_1_reads() {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    chip.write_memory(BANK_2 + 3 * SECTOR_SIZE, &[0; 64])
        .unwrap();
    chip.write_memory(0x0800_0000, &[0x55; 4]).unwrap();
    unlock(&mut chip, 1);
    write(
        &mut chip,
        register(1, CR),
        CR_SER | PSIZE_X64 | 3 << CR_SNB_SHIFT,
    );
    write(
        &mut chip,
        register(1, CR),
        CR_SER | PSIZE_X64 | 3 << CR_SNB_SHIFT | CR_START,
    );
    assert_ne!(read(&mut chip, register(1, SR)) & (SR_QW | SR_BSY), 0);
    assert_eq!(
        read(&mut chip, 0x0800_0000),
        0x5555_5555,
        "bank 1 stays readable"
    );
    assert_eq!(
        chip.read(BANK_2 + 3 * SECTOR_SIZE, Width::Word),
        Err(BusError::Stall)
    );
    let took = wait_until_done(&mut chip, 1);
    assert!(took >= 1_000_000_000, "a sector erase at x64 takes 1 s");
    assert_eq!(read(&mut chip, BANK_2 + 3 * SECTOR_SIZE), u32::MAX);
}

#[test]
fn write_protection_through_the_option_bytes() {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    unlock_options(&mut chip);
    assert_eq!(read(&mut chip, FLASH + OPTCR) & OPTCR_OPTLOCK, 0);
    // Protect sector 0 of bank 1.
    write(&mut chip, FLASH + WPSN_PRG, 0xFE);
    write(&mut chip, FLASH + OPTCR, OPTCR_OPTSTART);
    wait_for_options(&mut chip);
    assert_eq!(read(&mut chip, FLASH + WPSN_CUR), 0xFE);
    unlock(&mut chip, 0);
    write(&mut chip, register(0, CR), CR_SER | PSIZE_X64);
    write(&mut chip, register(0, CR), CR_SER | PSIZE_X64 | CR_START);
    assert_eq!(read(&mut chip, register(0, SR)) & SR_ERRORS, SR_WRPERR);
    write(&mut chip, register(0, CCR), SR_ERRORS);
    write(&mut chip, register(0, CR), CR_PG | PSIZE_X64);
    write_flash_word(&mut chip, 0x0800_0000, 0);
    assert_eq!(read(&mut chip, register(0, SR)) & SR_ERRORS, SR_WRPERR);
    // Sector 1 is not protected.
    write(&mut chip, register(0, CCR), SR_ERRORS);
    write_flash_word(&mut chip, 0x0802_0000, 0);
    wait_until_done(&mut chip, 0);
    assert_eq!(read(&mut chip, register(0, SR)) & SR_ERRORS, 0);
}

#[test]
fn read_protection_and_its_regression() {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    chip.write_memory(0x0800_0000, &[0; 32]).unwrap();
    chip.write_memory(BANK_2, &[0; 32]).unwrap();
    unlock_options(&mut chip);
    let options = read(&mut chip, FLASH + OPTSR_CUR);
    assert_eq!(options >> 8 & 0xFF, 0xAA, "level 0 as shipped");
    write(&mut chip, FLASH + OPTSR_PRG, options & !0xFF00 | 0xBB << 8);
    write(&mut chip, FLASH + OPTCR, OPTCR_OPTSTART);
    wait_for_options(&mut chip);
    assert_eq!(chip.read(0x0800_0000, Width::Word), Err(BusError::Fault));
    // A program is refused under level 1.
    unlock(&mut chip, 0);
    write(&mut chip, register(0, CR), CR_SER | PSIZE_X64);
    write(&mut chip, register(0, CR), CR_SER | PSIZE_X64 | CR_START);
    assert_eq!(read(&mut chip, register(0, SR)) & SR_ERRORS, SR_WRPERR);
    // Back to level 0: both banks are mass-erased.
    write(&mut chip, FLASH + OPTSR_PRG, options);
    write(&mut chip, FLASH + OPTCR, OPTCR_OPTSTART);
    wait_for_options(&mut chip);
    assert_eq!(read(&mut chip, 0x0800_0000), u32::MAX);
    assert_eq!(read(&mut chip, BANK_2), u32::MAX);
}

#[test]
fn level_2_is_final() {
    let mut chip = Chip::new(Variant::Stm32h750vb);
    unlock_options(&mut chip);
    let options = read(&mut chip, FLASH + OPTSR_CUR);
    write(&mut chip, FLASH + OPTSR_PRG, options & !0xFF00 | 0xCC << 8);
    write(&mut chip, FLASH + OPTCR, OPTCR_OPTSTART);
    wait_for_options(&mut chip);
    write(&mut chip, FLASH + OPTSR_PRG, options);
    write(&mut chip, FLASH + OPTCR, OPTCR_OPTSTART);
    let after = read(&mut chip, FLASH + OPTSR_CUR);
    assert_eq!(after >> 8 & 0xFF, 0xCC);
    assert_ne!(after & OPTSR_OPTCHANGEERR, 0);
    write(&mut chip, FLASH + OPTCCR, 1 << 30);
    assert_eq!(read(&mut chip, FLASH + OPTSR_CUR) & OPTSR_OPTCHANGEERR, 0);
}

#[test]
fn mass_erase_of_both_banks() {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    chip.write_memory(0x0800_0000, &[0; 32]).unwrap();
    chip.write_memory(BANK_2 + 0x1000, &[0; 32]).unwrap();
    unlock(&mut chip, 0);
    unlock(&mut chip, 1);
    unlock_options(&mut chip);
    write(&mut chip, FLASH + OPTCR, OPTCR_MER);
    assert_ne!(read(&mut chip, register(1, SR)) & SR_QW, 0);
    let took = wait_until_done(&mut chip, 0).max(wait_until_done(&mut chip, 1));
    assert!(took >= 5_000_000_000, "a bank erase at x64 takes 5 s");
    assert_eq!(read(&mut chip, 0x0800_0000), u32::MAX);
    assert_eq!(read(&mut chip, BANK_2 + 0x1000), u32::MAX);
}

/// The core's own stores program flash too (a flash loader in RAM).
#[test]
fn core_programs_a_flash_word() {
    use crate::chip::CoreStatus;
    let mut chip = Chip::new(Variant::Stm32h743zi);
    // At 0x2000_0100: the flash word's address into r0, zero into r1, eight stores, BKPT.
    let code: [u16; 12] = [
        0x4805, // ldr r0, [pc, #20] -> 0x2000_0118
        0x2100, // movs r1, #0
        0x6001, 0x6041, 0x6081, 0x60C1, 0x6101, 0x6141, 0x6181,
        0x61C1, // str r1, [r0, #0..#28]
        0xBE00, // bkpt
        0xBF00,
    ];
    let mut bytes: Vec<u8> = code.iter().flat_map(|half| half.to_le_bytes()).collect();
    bytes.extend(0x0800_0040u32.to_le_bytes());
    chip.write_memory(0x2000_0100, &bytes).unwrap();
    unlock(&mut chip, 0);
    write(&mut chip, register(0, CR), CR_PG | PSIZE_X64);
    // Halt, point the PC at the code, run.
    write(&mut chip, 0xE000_EDF0, 0xA05F_0003);
    assert!(chip.set_core_register(15, 0x2000_0100));
    write(&mut chip, 0xE000_EDF0, 0xA05F_0001);
    chip.advance_to(chip.now_ns() + 1_000_000);
    assert_eq!(
        chip.core_status(),
        CoreStatus {
            halted: true,
            sleeping: false,
            locked_up: false,
            in_reset: false
        }
    );
    wait_until_done(&mut chip, 0);
    assert_eq!(read(&mut chip, 0x0800_0040), 0);
    assert_eq!(read(&mut chip, 0x0800_005C), 0);
    assert_eq!(read(&mut chip, 0x0800_0060), u32::MAX);
    assert_eq!(read(&mut chip, register(0, SR)) & SR_ERRORS, 0);
}

/// Run `code` from DTCM at 0x2000_0100 until it halts, the FPU on (CPACR CP10/CP11 full
/// access, as software sets it); the chip.
fn run_in_dtcm(code: &[u16]) -> Chip {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    write(&mut chip, 0xE000_ED88, 0xF << 20);
    let bytes: Vec<u8> = code.iter().flat_map(|half| half.to_le_bytes()).collect();
    chip.write_memory(0x2000_0100, &bytes).unwrap();
    write(&mut chip, 0xE000_EDF0, 0xA05F_0003);
    assert!(chip.set_core_register(15, 0x2000_0100));
    write(&mut chip, 0xE000_EDF0, 0xA05F_0001);
    chip.advance_to(chip.now_ns() + 1_000_000);
    chip
}

/// The double-precision FPU runs (unicorn's Cortex-M7) and its registers are S0-S31
/// through DCRSR: d1 = 1.0 + 1.0 is S2 = 0, S3 = 0x4000_0000.
#[test]
fn double_precision_arithmetic() {
    // vmov.f64 d0, #1.0; vadd.f64 d1, d0, d0; bkpt.
    let chip = run_in_dtcm(&[0xEEB7, 0x0B00, 0xEE30, 0x1B00, 0xBE00]);
    assert!(chip.core_status().halted, "{:?}", chip.core_status());
    assert_eq!(chip.core_register(0x42), Some(0));
    assert_eq!(chip.core_register(0x43), Some(0x4000_0000));
}

/// FPB version 2 breaks anywhere, here in DTCM (version 1 only below 0x2000_0000).
#[test]
fn version_2_breakpoint_in_ram() {
    let mut chip = Chip::new(Variant::Stm32h743zi);
    // 0x2000_0100: nop; nop; nop; b 0x2000_0100.
    let bytes: Vec<u8> = [0xBF00u16, 0xBF00, 0xBF00, 0xE7FB]
        .iter()
        .flat_map(|half| half.to_le_bytes())
        .collect();
    chip.write_memory(0x2000_0100, &bytes).unwrap();
    write(&mut chip, 0xE000_EDF0, 0xA05F_0003);
    assert!(chip.set_core_register(15, 0x2000_0100));
    write(&mut chip, 0xE000_2000, 0x3); // FP_CTRL: KEY, ENABLE
    write(&mut chip, 0xE000_2008, 0x2000_0104 | 1); // FP_COMP0: BPADDR, BE
    write(&mut chip, 0xE000_EDF0, 0xA05F_0001);
    chip.advance_to(chip.now_ns() + 100_000);
    assert!(chip.core_status().halted);
    assert_eq!(chip.core_register(15), Some(0x2000_0104));
    assert_ne!(read(&mut chip, 0xE000_ED30) & 0x2, 0, "DFSR.BKPT");
}

mod qspi {
    use super::*;
    use crate::soc::spi_flash::{PAGE_PROGRAM_NS, SECTOR_ERASE_NS};

    const QUADSPI: u32 = 0x5200_5000;
    const CR: u32 = QUADSPI;
    const SR: u32 = QUADSPI + 0x08;
    const DLR: u32 = QUADSPI + 0x10;
    const CCR: u32 = QUADSPI + 0x14;
    const AR: u32 = QUADSPI + 0x18;
    const DR: u32 = QUADSPI + 0x20;
    /// IMODE 1 line; ADMODE 1 line with ADSIZE 24 bits; DMODE 1 line; FMODE 11.
    const INSTRUCTION: u32 = 1 << 8;
    const ADDRESS: u32 = 1 << 10 | 2 << 12;
    const DATA: u32 = 1 << 24;
    const MAPPED: u32 = 3 << 26;
    const BUSY: u32 = 1 << 5;

    /// Program `bytes` (at most a page) at `offset` of the W25Q64 through the debugger, and
    /// wait for the flash.
    fn program(chip: &mut Chip, offset: u32, bytes: &[u8]) {
        write(chip, CR, 1);
        write(chip, CCR, INSTRUCTION | 0x06);
        write(chip, DLR, bytes.len() as u32 - 1);
        write(chip, CCR, INSTRUCTION | ADDRESS | DATA | 0x02);
        write(chip, AR, offset);
        for byte in bytes {
            chip.write(DR, Width::Byte, u32::from(*byte)).unwrap();
        }
        assert_eq!(read(chip, SR) & BUSY, 0);
        chip.advance_to(chip.now_ns() + PAGE_PROGRAM_NS);
    }

    fn memory_mapped(chip: &mut Chip) {
        write(
            chip,
            CCR,
            INSTRUCTION | ADDRESS | DATA | MAPPED | 8 << 18 | 0x0B,
        );
    }

    #[test]
    fn the_window_answers_in_memory_mapped_mode_only() {
        let mut chip = Chip::new(Variant::Stm32h750vb);
        assert_eq!(chip.read(0x9000_0000, Width::Word), Err(BusError::Fault));
        program(&mut chip, 0x100, &[1, 2, 3, 4]);
        assert_eq!(chip.read(0x9000_0100, Width::Word), Err(BusError::Fault));
        memory_mapped(&mut chip);
        assert_eq!(read(&mut chip, 0x9000_0100), 0x0403_0201);
        assert_eq!(read(&mut chip, 0x907F_FFFC), u32::MAX);
        assert_eq!(
            chip.write(0x9000_0100, Width::Word, 0),
            Err(BusError::Fault)
        );
        // Past the W25Q64's 8 MB: nothing there.
        assert_eq!(chip.read(0x9080_0000, Width::Word), Err(BusError::Fault));
        // The window follows an erase when it ends.
        write(&mut chip, CR, 1 | 2); // ABORT
        write(&mut chip, CCR, INSTRUCTION | 0x06);
        write(&mut chip, CCR, INSTRUCTION | ADDRESS | 0x20);
        write(&mut chip, AR, 0);
        chip.advance_to(chip.now_ns() + SECTOR_ERASE_NS);
        memory_mapped(&mut chip);
        assert_eq!(read(&mut chip, 0x9000_0100), u32::MAX);
        // The H743 has no QSPI flash here.
        let mut h743 = Chip::new(Variant::Stm32h743zi);
        assert_eq!(h743.read(0x9000_0000, Width::Word), Err(BusError::Fault));
    }

    #[test]
    fn the_core_executes_from_the_window() {
        use crate::chip::CoreStatus;
        let mut chip = Chip::new(Variant::Stm32h750vb);
        // movs r0, #42; bkpt.
        program(&mut chip, 0, &[0x2A, 0x20, 0x00, 0xBE]);
        write(&mut chip, 0xE000_EDF0, 0xA05F_0003);
        assert!(chip.set_core_register(15, 0x9000_0000));
        write(&mut chip, 0xE000_EDF0, 0xA05F_0001);
        chip.advance_to(chip.now_ns() + 100_000);
        assert!(
            chip.core_status().locked_up,
            "not memory-mapped: a bus error"
        );
        memory_mapped(&mut chip);
        write(&mut chip, 0xE000_EDF0, 0xA05F_0003);
        assert!(chip.set_core_register(15, 0x9000_0000));
        write(&mut chip, 0xE000_EDF0, 0xA05F_0001);
        chip.advance_to(chip.now_ns() + 100_000);
        assert_eq!(
            chip.core_status(),
            CoreStatus {
                halted: true,
                sleeping: false,
                locked_up: false,
                in_reset: false
            }
        );
        assert_eq!(chip.core_register(0), Some(42));
        assert_eq!(chip.core_register(15), Some(0x9000_0002));
    }
}
