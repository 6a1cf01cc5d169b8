use super::*;
use crate::bus::BusError;

#[test]
fn unmapped_addresses_fault() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    for address in [
        0x0001_0000,
        0x0801_0000,
        0x1000_0000,
        0x2000_5000,
        0x6000_0000,
        0x4003_0000,
        0xE010_0000,
        0xE004_2008,
        0x1FFF_F810,
    ] {
        assert_eq!(
            chip.read(address, Width::Word),
            Err(BusError::Fault),
            "read 0x{address:08X}"
        );
        assert_eq!(
            chip.write(address, Width::Word, 0),
            Err(BusError::Fault),
            "write 0x{address:08X}"
        );
    }
}

#[test]
fn unaligned_accesses_fault() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    assert_eq!(chip.read(0x2000_0001, Width::Word), Err(BusError::Fault));
    assert_eq!(chip.read(0x2000_0001, Width::Half), Err(BusError::Fault));
    assert!(chip.read(0x2000_0001, Width::Byte).is_ok());
}

#[test]
fn sram_holds_bytes_half_words_and_words() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    write(&mut chip, 0x2000_4FFC, 0x1122_3344);
    assert_eq!(chip.read(0x2000_4FFD, Width::Byte), Ok(0x33));
    assert_eq!(chip.read(0x2000_4FFE, Width::Half), Ok(0x1122));
    chip.write(0x2000_4FFF, Width::Byte, 0xAA).unwrap();
    assert_eq!(read(&mut chip, 0x2000_4FFC), 0xAA22_3344);
}

#[test]
fn high_density_has_more_sram_and_flash() {
    let mut chip = Chip::new(Variant::Stm32f103rc);
    write(&mut chip, 0x2000_BFFC, 5);
    assert_eq!(read(&mut chip, 0x2000_BFFC), 5);
    assert_eq!(read(&mut chip, 0x0803_FFFC), 0xFFFF_FFFF);
    assert_eq!(chip.read(0x0804_0000, Width::Word), Err(BusError::Fault));
    assert_eq!(chip.read(0x2000_C000, Width::Word), Err(BusError::Fault));
}

#[test]
fn flash_is_erased_and_aliased_at_zero() {
    let mut chip = Chip::new(Variant::Stm32f103cb);
    assert_eq!(read(&mut chip, 0x0801_FFFC), 0xFFFF_FFFF);
    chip.write_memory(0x0800_0010, &[1, 2, 3, 4]).unwrap();
    assert_eq!(read(&mut chip, 0x0000_0010), 0x0403_0201);
    assert_eq!(chip.read(0x0000_0012, Width::Half), Ok(0x0403));
}

#[test]
fn device_signature() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    assert_eq!(chip.read(0x1FFF_F7E0, Width::Half), Ok(64));
    let unique: Vec<u32> = (0..3)
        .map(|index| read(&mut chip, 0x1FFF_F7E8 + 4 * index))
        .collect();
    assert_eq!(unique, [0x05D8_FF35, 0x3339_4E42, 0x0017_5128]);
    let mut high = Chip::new(Variant::Stm32f103rc);
    assert_eq!(high.read(0x1FFF_F7E0, Width::Half), Ok(256));
}

#[test]
fn option_bytes_as_shipped() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    assert_eq!(read(&mut chip, 0x1FFF_F800), 0x00FF_5AA5);
    for address in [0x1FFF_F804, 0x1FFF_F808, 0x1FFF_F80C] {
        assert_eq!(read(&mut chip, address), 0x00FF_00FF);
    }
    // FLASH_OBR: USER, Data0, Data1 all ones, no read protection, no error.
    assert_eq!(read(&mut chip, 0x4002_201C), 0x03FF_FFFC);
    assert_eq!(read(&mut chip, 0x4002_2020), 0xFFFF_FFFF);
}

#[test]
fn dbgmcu_registers() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    assert_eq!(read(&mut chip, 0xE004_2000), 0x2003_6410);
    write(&mut chip, 0xE004_2004, 0x0000_0307);
    assert_eq!(read(&mut chip, 0xE004_2004), 0x0000_0307);
    let mut high = Chip::new(Variant::Stm32f103rc);
    assert_eq!(read(&mut high, 0xE004_2000) & 0xFFF, 0x414);
}

#[test]
fn peripherals_are_plain_registers() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    write(&mut chip, 0x4001_1004, 0x4444_3444); // GPIOC_CRH
    assert_eq!(read(&mut chip, 0x4001_1004), 0x4444_3444);
    chip.write(0x4001_100C, Width::Half, 0x2000).unwrap(); // GPIOC_ODR
    assert_eq!(read(&mut chip, 0x4001_100C), 0x2000);
}

#[test]
fn rcc_clocks_become_ready() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    assert_eq!(
        read(&mut chip, 0x4002_1000) & 0x3,
        0x3,
        "HSI on and ready after reset"
    );
    write(&mut chip, 0x4002_1000, 0x0001_0083);
    assert_ne!(read(&mut chip, 0x4002_1000) & (1 << 17), 0, "HSERDY");
    write(&mut chip, 0x4002_1004, 0x001D_0402); // PLL x9 from HSE, SW = PLL
    write(&mut chip, 0x4002_1000, 0x0101_0083);
    assert_ne!(read(&mut chip, 0x4002_1000) & (1 << 25), 0, "PLLRDY");
    assert_eq!(read(&mut chip, 0x4002_1004) & 0xF, 0xA, "SWS follows SW");
}

#[test]
fn peek_has_no_side_effects() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    let status = chip.peek(DHCSR).unwrap();
    assert_ne!(status & super::super::debug::S_RESET_ST, 0);
    assert_eq!(chip.peek(DHCSR), Some(status));
    assert_eq!(chip.peek(0x6000_0000), None);
}
