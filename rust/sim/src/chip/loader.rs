//! Firmware images: an ELF file's PT_LOAD segments at their physical addresses (the load
//! addresses, so initialised data goes to flash where the startup code copies it from),
//! or a raw binary at the start of flash (the SoC's flash base).

use object::Endianness;
use object::elf::PT_LOAD;
use object::read::elf::{ElfFile32, ProgramHeader};

/// A block of bytes to place at an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub address: u32,
    pub bytes: Vec<u8>,
}

const ELF_MAGIC: &[u8] = b"\x7FELF";

/// The segments of an image: ELF if it starts with the ELF magic, raw binary otherwise.
pub fn segments(image: &[u8], flash_base: u32) -> Result<Vec<Segment>, String> {
    if image.starts_with(ELF_MAGIC) {
        elf_segments(image)
    } else {
        Ok(vec![Segment {
            address: flash_base,
            bytes: image.to_vec(),
        }])
    }
}

fn elf_segments(image: &[u8]) -> Result<Vec<Segment>, String> {
    let file = ElfFile32::<Endianness>::parse(image)
        .map_err(|error| format!("not a 32-bit ELF file: {error}"))?;
    let endian = file.endian();
    let mut segments = Vec::new();
    for header in file.elf_program_headers() {
        if header.p_type(endian) != PT_LOAD {
            continue;
        }
        let bytes = header
            .data(endian, image)
            .map_err(|_| "an ELF program header points outside the file".to_string())?;
        if bytes.is_empty() {
            continue;
        }
        segments.push(Segment {
            address: header.p_paddr(endian),
            bytes: bytes.to_vec(),
        });
    }
    if segments.is_empty() {
        return Err("the ELF file has no loadable segment".to_string());
    }
    Ok(segments)
}
