use super::*;
use std::io::Write;

/// A little-endian ELF32 ARM executable with one PT_LOAD segment per (paddr, bytes).
fn elf(segments: &[(u32, &[u8])]) -> Vec<u8> {
    let header_size = 52u32;
    let program_header_size = 32u32;
    let mut data_offset = header_size + program_header_size * segments.len() as u32;
    let mut file = Vec::new();
    file.extend(b"\x7FELF\x01\x01\x01\0\0\0\0\0\0\0\0\0");
    file.extend(2u16.to_le_bytes()); // ET_EXEC
    file.extend(40u16.to_le_bytes()); // EM_ARM
    file.extend(1u32.to_le_bytes());
    file.extend(0x0800_0101u32.to_le_bytes()); // entry
    file.extend(header_size.to_le_bytes()); // phoff
    file.extend(0u32.to_le_bytes()); // shoff
    file.extend(0x0500_0200u32.to_le_bytes()); // flags
    file.extend((header_size as u16).to_le_bytes());
    file.extend((program_header_size as u16).to_le_bytes());
    file.extend((segments.len() as u16).to_le_bytes());
    file.extend([0u8; 6]); // shentsize, shnum, shstrndx
    for (physical, bytes) in segments {
        let length = bytes.len() as u32;
        for field in [
            1,
            data_offset,
            0x2000_0000 + data_offset,
            *physical,
            length,
            length,
            5,
            4,
        ] {
            file.extend(field.to_le_bytes());
        }
        data_offset += length;
    }
    for (_, bytes) in segments {
        file.extend(*bytes);
    }
    file
}

fn vectors() -> Vec<u8> {
    let mut bytes = STACK_TOP.to_le_bytes().to_vec();
    bytes.extend((CODE | 1).to_le_bytes());
    bytes
}

#[test]
fn elf_segments_load_at_their_physical_addresses() {
    let code = halves_to_bytes(&COUNTING_LOOP);
    let image = elf(&[
        (0x0800_0000, &vectors()),
        (CODE, &code),
        (0x2000_0010, &[9, 8, 7, 6]),
    ]);
    let mut chip = Chip::new(Variant::Stm32f103c8);
    chip.load_image(&image).unwrap();
    assert_eq!(read(&mut chip, 0x0800_0000), STACK_TOP);
    assert_eq!(read(&mut chip, 0x2000_0010), 0x0607_0809);
    assert_eq!(
        chip.core_register(15),
        Some(CODE),
        "the core was reset into the image"
    );
    wait(&mut chip, 10_000);
    assert!(chip.peek(COUNTER).unwrap() > 0);
}

#[test]
fn raw_binary_loads_at_the_start_of_flash() {
    let mut image = vectors();
    image.resize((CODE - 0x0800_0000) as usize, 0xFF);
    image.extend(halves_to_bytes(&COUNTING_LOOP));
    let path = std::env::temp_dir().join(format!("bmp-sim-chip-test-{}.bin", std::process::id()));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&image)
        .unwrap();
    let mut chip = Chip::new(Variant::Stm32f103c8);
    let result = chip.load_firmware(&path);
    std::fs::remove_file(&path).unwrap();
    result.unwrap();
    assert_eq!(read(&mut chip, CODE), 0x6801_4802);
    wait(&mut chip, 10_000);
    assert!(chip.peek(COUNTER).unwrap() > 0);
}

#[test]
fn images_that_do_not_fit_are_refused() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    let too_big = vec![0u8; 64 * 1024 + 1];
    assert!(
        chip.load_image(&too_big)
            .unwrap_err()
            .contains("do not fit")
    );
    let elsewhere = elf(&[(0x6000_0000, &[1, 2, 3, 4])]);
    assert!(chip.load_image(&elsewhere).is_err());
    assert!(chip.load_image(b"\x7FELF garbage").is_err());
    assert!(
        chip.load_firmware(std::path::Path::new("/nonexistent/firmware.elf"))
            .is_err()
    );
}
