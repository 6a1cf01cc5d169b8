//! CMSIS-Pack FLM files: ELF32, Arm, little-endian, linked ROPI/RWPI with PrgCode at 0,
//! PrgData after it and the FlashDevice structure in DevDscr (Open-CMSIS-Pack spec,
//! "Flash Programming"; ELF layout from the System V ABI, "Object Files").
//!
//! The file is read a piece at a time through [`Source`]: the headers, the sections the
//! algorithm needs, and the symbol table (an FLM built with debug information is ten
//! times its image). Every offset and size is checked against the file before use, so a
//! truncated or garbage file gives `Error::Malformed` saying what is wrong.

use crate::{Algorithm, Error, FlashDevice, MAX_IMAGE, MAX_NAME, SectorRun, Source};

const ELF_MAGIC: [u8; 4] = [0x7F, b'E', b'L', b'F'];
const ELFCLASS32: u8 = 1;
const ELFDATA2LSB: u8 = 1;
const EM_ARM: u16 = 40;
const ELF_HEADER_BYTES: usize = 52;
const SECTION_HEADER_BYTES: usize = 40;
const SYMBOL_BYTES: usize = 16;
const SHT_SYMTAB: u32 = 2;
const SHT_NOBITS: u32 = 8;
/// FlashDevice up to its sector list (FlashOS.h: Vers, DevName[128], DevType, DevAdr,
/// szDev, szPage, Res, valEmpty + 3 pad, toProg, toErase).
const FLASH_DEVICE_BYTES: usize = 160;
/// The sector list ends with this pair, and holds at most 512 entries (FlashOS.h).
const SECTOR_END: u32 = 0xFFFF_FFFF;
const MAX_SECTOR_ENTRIES: usize = 512;
/// At most this many PrgData sections (initialised and zeroed data).
const MAX_DATA_SECTIONS: usize = 4;

#[derive(Clone, Copy, Debug)]
struct Section {
    name: u32,
    kind: u32,
    address: u32,
    offset: u32,
    size: u32,
    link: u32,
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn read(
    source: &mut impl Source,
    offset: u64,
    out: &mut [u8],
    what: &'static str,
) -> Result<(), Error> {
    let offset = usize::try_from(offset).map_err(|_| Error::Malformed(what))?;
    if source.read_at(offset, out) {
        Ok(())
    } else {
        Err(Error::Malformed(what))
    }
}

/// Replace `algorithm` with the FLM in `source`; on an error it is left empty.
pub fn load(algorithm: &mut Algorithm, source: &mut impl Source) -> Result<(), Error> {
    algorithm.clear();
    let result = parse(algorithm, source).and_then(|()| algorithm.check());
    if result.is_err() {
        algorithm.clear();
    }
    result
}

struct Sections {
    offset: u64,
    count: u16,
}

impl Sections {
    fn get(&self, source: &mut impl Source, index: u32) -> Result<Section, Error> {
        if index >= u32::from(self.count) {
            return Err(Error::Malformed("a section index is out of range"));
        }
        let mut bytes = [0u8; SECTION_HEADER_BYTES];
        let at = self.offset + u64::from(index) * SECTION_HEADER_BYTES as u64;
        read(
            source,
            at,
            &mut bytes,
            "the section headers pass the end of the file",
        )?;
        Ok(Section {
            name: u32_at(&bytes, 0),
            kind: u32_at(&bytes, 4),
            address: u32_at(&bytes, 12),
            offset: u32_at(&bytes, 16),
            size: u32_at(&bytes, 20),
            link: u32_at(&bytes, 24),
        })
    }
}

/// Whether the NUL-terminated name at `offset` of string table `table` is `wanted`.
fn name_is(
    source: &mut impl Source,
    table: &Section,
    offset: u32,
    wanted: &[u8],
) -> Result<bool, Error> {
    if offset >= table.size {
        return Err(Error::Malformed("a name is outside its string table"));
    }
    let mut name = [0u8; 16];
    let length = (wanted.len() + 1).min((table.size - offset) as usize);
    let name = &mut name[..length];
    let at = u64::from(table.offset) + u64::from(offset);
    read(
        source,
        at,
        name,
        "a string table passes the end of the file",
    )?;
    Ok(
        name.len() == wanted.len() + 1
            && &name[..wanted.len()] == wanted
            && name[wanted.len()] == 0,
    )
}

fn parse(algorithm: &mut Algorithm, source: &mut impl Source) -> Result<(), Error> {
    let mut header = [0u8; ELF_HEADER_BYTES];
    read(
        source,
        0,
        &mut header,
        "shorter than an ELF header (52 bytes)",
    )?;
    if header[..4] != ELF_MAGIC {
        return Err(Error::Malformed(
            "not an ELF file (no 0x7F 'ELF' at the start)",
        ));
    }
    if header[4] != ELFCLASS32 || header[5] != ELFDATA2LSB || u16_at(&header, 18) != EM_ARM {
        return Err(Error::Malformed(
            "not a 32-bit little-endian Arm ELF (big-endian FLMs are not supported)",
        ));
    }
    if usize::from(u16_at(&header, 46)) != SECTION_HEADER_BYTES {
        return Err(Error::Malformed("section header size is not 40 bytes"));
    }
    let sections = Sections {
        offset: u64::from(u32_at(&header, 32)),
        count: u16_at(&header, 48),
    };
    let names = sections.get(source, u32::from(u16_at(&header, 50)))?;

    let mut code = None;
    let mut data: heapless::Vec<Section, MAX_DATA_SECTIONS> = heapless::Vec::new();
    let mut descriptor = None;
    let mut symbols = None;
    for index in 0..u32::from(sections.count) {
        let section = sections.get(source, index)?;
        if section.kind == SHT_SYMTAB {
            symbols = Some(section);
        } else if name_is(source, &names, section.name, b"PrgCode")? {
            if code.replace(section).is_some() {
                return Err(Error::Malformed("more than one PrgCode section"));
            }
        } else if name_is(source, &names, section.name, b"PrgData")? {
            data.push(section)
                .map_err(|_| Error::Malformed("too many PrgData sections"))?;
        } else if name_is(source, &names, section.name, b"DevDscr")? {
            descriptor = Some(section);
        }
    }
    let code = code.ok_or(Error::Malformed("no PrgCode section"))?;
    if code.address != 0 {
        return Err(Error::Malformed("PrgCode does not start at address 0"));
    }
    load_image(algorithm, source, &code, &data)?;
    let symbols = symbols.ok_or(Error::Malformed("no symbol table"))?;
    let strings = sections.get(source, symbols.link)?;
    let device_at = find_symbols(algorithm, source, &symbols, &strings)?;
    let descriptor = descriptor.ok_or(Error::Malformed("no DevDscr section (FlashDevice)"))?;
    read_flash_device(&mut algorithm.device, source, &descriptor, device_at)
}

/// Code and data into the image at their addresses, zeroed data as zeros.
fn load_image(
    algorithm: &mut Algorithm,
    source: &mut impl Source,
    code: &Section,
    data: &[Section],
) -> Result<(), Error> {
    let mut length: u64 = 0;
    for section in core::iter::once(code).chain(data) {
        length = length.max(u64::from(section.address) + u64::from(section.size));
    }
    if length > MAX_IMAGE as u64 {
        return Err(Error::TooLarge {
            bytes: usize::try_from(length).unwrap_or(usize::MAX),
        });
    }
    algorithm
        .image
        .resize(length as usize, 0)
        .map_err(|_| Error::TooLarge {
            bytes: length as usize,
        })?;
    for section in core::iter::once(code).chain(data) {
        if section.kind == SHT_NOBITS {
            continue;
        }
        let start = section.address as usize;
        let target = &mut algorithm.image[start..start + section.size as usize];
        read(
            source,
            u64::from(section.offset),
            target,
            "a PrgCode or PrgData section passes the end of the file",
        )?;
    }
    algorithm.static_base = data
        .iter()
        .map(|section| section.address)
        .min()
        .unwrap_or(code.size);
    Ok(())
}

/// Entry points into `algorithm.entries`; the FlashDevice symbol's value, if any.
fn find_symbols(
    algorithm: &mut Algorithm,
    source: &mut impl Source,
    symbols: &Section,
    strings: &Section,
) -> Result<Option<u32>, Error> {
    let count = symbols.size as usize / SYMBOL_BYTES;
    let mut device = None;
    let (mut erase_sector, mut program_page) = (None, None);
    for index in 0..count {
        let mut symbol = [0u8; SYMBOL_BYTES];
        let at = u64::from(symbols.offset) + (index * SYMBOL_BYTES) as u64;
        read(
            source,
            at,
            &mut symbol,
            "the symbol table passes the end of the file",
        )?;
        let (name, value) = (u32_at(&symbol, 0), u32_at(&symbol, 4));
        if name == 0 {
            continue;
        }
        let entries = &mut algorithm.entries;
        let slots: [(&[u8], &mut Option<u32>); 8] = [
            (b"Init", &mut entries.init),
            (b"UnInit", &mut entries.uninit),
            (b"EraseSector", &mut erase_sector),
            (b"EraseChip", &mut entries.erase_chip),
            (b"ProgramPage", &mut program_page),
            (b"Verify", &mut entries.verify),
            (b"BlankCheck", &mut entries.blank_check),
            (b"FlashDevice", &mut device),
        ];
        for (wanted, slot) in slots {
            if name_is(source, strings, name, wanted)? {
                *slot = Some(value);
                break;
            }
        }
    }
    algorithm.entries.erase_sector =
        erase_sector.ok_or(Error::Malformed("no EraseSector function"))?;
    algorithm.entries.program_page =
        program_page.ok_or(Error::Malformed("no ProgramPage function"))?;
    Ok(device)
}

fn read_flash_device(
    device: &mut FlashDevice,
    source: &mut impl Source,
    descriptor: &Section,
    symbol: Option<u32>,
) -> Result<(), Error> {
    let offset_in_section = match symbol {
        Some(value) => value
            .checked_sub(descriptor.address)
            .filter(|&offset| offset < descriptor.size)
            .ok_or(Error::Malformed(
                "the FlashDevice symbol is outside DevDscr",
            ))?,
        None => 0,
    };
    let start = u64::from(descriptor.offset) + u64::from(offset_in_section);
    let room = (descriptor.size - offset_in_section) as usize;
    if room < FLASH_DEVICE_BYTES + 8 {
        return Err(Error::Malformed("DevDscr is too short for a FlashDevice"));
    }
    let mut fixed = [0u8; FLASH_DEVICE_BYTES];
    read(
        source,
        start,
        &mut fixed,
        "FlashDevice passes the end of the file",
    )?;
    let name = &fixed[2..130];
    let name = &name[..name
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(name.len())];
    for &byte in name.iter().take(MAX_NAME) {
        let printable = if byte.is_ascii_graphic() || byte == b' ' {
            byte as char
        } else {
            '?'
        };
        let _ = device.name.push(printable);
    }
    device.start = u32_at(&fixed, 132);
    device.size = u32_at(&fixed, 136);
    device.page_size = u32_at(&fixed, 140);
    device.erased = fixed[148];
    device.program_timeout_ms = u32_at(&fixed, 152);
    device.erase_timeout_ms = u32_at(&fixed, 156);
    let entries = ((room - FLASH_DEVICE_BYTES) / 8).min(MAX_SECTOR_ENTRIES);
    for index in 0..entries {
        let mut pair = [0u8; 8];
        let at = start + (FLASH_DEVICE_BYTES + 8 * index) as u64;
        read(
            source,
            at,
            &mut pair,
            "the sector list passes the end of the file",
        )?;
        let (size, offset) = (u32_at(&pair, 0), u32_at(&pair, 4));
        if size == SECTOR_END && offset == SECTOR_END {
            return Ok(());
        }
        if device.sectors.last().is_some_and(|run| run.size == size) {
            continue; // the same size goes on
        }
        device
            .sectors
            .push(SectorRun { size, offset })
            .map_err(|_| Error::Malformed("more than 8 runs of sector sizes"))?;
    }
    Err(Error::Malformed("the sector list has no end marker"))
}
