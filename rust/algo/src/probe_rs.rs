//! probe-rs target descriptions' algorithms (probe-rs `targets/*.yaml`, `flash_algorithms`
//! entries, as `target-gen` extracts them from the vendors' FLMs). The probe parses no
//! YAML: the host or the Python layer decodes the entry (base64 `instructions` to bytes)
//! and hands the fields over as they are named there.

use crate::{Algorithm, Error, Function, MAX_IMAGE, SectorRun, Source};

/// Zeroed bytes kept after a description's instructions (or its data section) for the
/// algorithm's zero-initialised data, whose size the description does not give. Nordic's
/// nRF52 algorithm, for one, has its data section past its instructions.
pub const ZERO_RESERVE: usize = 1024;

/// One `flash_algorithms` entry, decoded, but for `instructions` (see `load`).
pub struct Description<'a> {
    pub name: &'a str,
    pub pc_init: Option<u32>,
    pub pc_uninit: Option<u32>,
    pub pc_program_page: u32,
    pub pc_erase_sector: u32,
    pub pc_erase_all: Option<u32>,
    pub pc_verify: Option<u32>,
    pub pc_blank_check: Option<u32>,
    pub data_section_offset: u32,
    /// `flash_properties`:
    pub address_start: u32,
    pub address_end: u32,
    pub page_size: u32,
    pub erased_byte_value: u8,
    pub program_page_timeout: u32,
    pub erase_sector_timeout: u32,
    /// `sectors` as (size, address): address is an offset from `address_start`.
    pub sectors: &'a [(u32, u32)],
}

/// Replace `algorithm` with the description and its `instructions` (decoded from base64:
/// code, then data from `data_section_offset`); on an error it is left empty.
pub fn load(
    algorithm: &mut Algorithm,
    description: &Description,
    instructions: &mut impl Source,
) -> Result<(), Error> {
    algorithm.clear();
    let result = fill(algorithm, description, instructions).and_then(|()| algorithm.check());
    if result.is_err() {
        algorithm.clear();
    }
    result
}

fn fill(
    algorithm: &mut Algorithm,
    description: &Description,
    instructions: &mut impl Source,
) -> Result<(), Error> {
    let length = instructions.len();
    if length == 0 {
        return Err(Error::Malformed("no instructions"));
    }
    if length > MAX_IMAGE {
        return Err(Error::TooLarge { bytes: length });
    }
    algorithm
        .image
        .resize(length, 0)
        .map_err(|_| Error::TooLarge { bytes: length })?;
    if !instructions.read_at(0, &mut algorithm.image) {
        return Err(Error::Malformed("the instructions could not be read"));
    }
    // Zero-initialised data follows the instructions (or data_section_offset, when that
    // lies past them), of a size the description does not give: reserve some, zeroed.
    let zeroed = (description.data_section_offset as usize).max(length) + ZERO_RESERVE;
    algorithm
        .image
        .resize(zeroed.min(MAX_IMAGE), 0)
        .map_err(|_| Error::TooLarge { bytes: zeroed })?;
    algorithm.entries = crate::Entries {
        init: description.pc_init,
        uninit: description.pc_uninit,
        erase_sector: description.pc_erase_sector,
        erase_chip: description.pc_erase_all,
        program_page: description.pc_program_page,
        verify: description.pc_verify,
        blank_check: description.pc_blank_check,
    };
    // The zeroes reserved above are data: every entry point lies in the instructions (a
    // description whose instructions were cut short has its entries past them).
    let code = length as u32;
    if Function::ALL
        .into_iter()
        .filter_map(|function| algorithm.entries.get(function))
        .any(|entry| entry & !1 >= code)
    {
        return Err(Error::Malformed("an entry point is outside the code"));
    }
    algorithm.static_base = description.data_section_offset;
    let device = &mut algorithm.device;
    for character in description.name.chars().take(crate::MAX_NAME) {
        let _ = device.name.push(character);
    }
    device.start = description.address_start;
    device.size = description
        .address_end
        .checked_sub(description.address_start)
        .ok_or(Error::Malformed("address_range ends before it starts"))?;
    device.page_size = description.page_size;
    device.erased = description.erased_byte_value;
    device.program_timeout_ms = description.program_page_timeout;
    device.erase_timeout_ms = description.erase_sector_timeout;
    for &(size, offset) in description.sectors {
        if device.sectors.last().is_some_and(|run| run.size == size) {
            continue;
        }
        device
            .sectors
            .push(SectorRun { size, offset })
            .map_err(|_| Error::Malformed("more than 8 runs of sector sizes"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn description(sectors: &[(u32, u32)]) -> Description<'_> {
        Description {
            name: "test",
            pc_init: Some(0x11),
            pc_uninit: None,
            pc_program_page: 0x21,
            pc_erase_sector: 0x31,
            pc_erase_all: None,
            pc_verify: None,
            pc_blank_check: None,
            // Past the instructions, as Nordic's nRF52 algorithm has it.
            data_section_offset: 0x80,
            address_start: 0x0800_0000,
            address_end: 0x0801_0000,
            page_size: 0x400,
            erased_byte_value: 0xFF,
            program_page_timeout: 100,
            erase_sector_timeout: 500,
            sectors,
        }
    }

    #[test]
    fn data_past_the_instructions_is_zeroed_but_entries_stay_in_them() {
        let sectors = [(0x400, 0)];
        let code = [0x70u8; 0x40];
        let mut algorithm = Algorithm::new();
        load(&mut algorithm, &description(&sectors), &mut &code[..]).unwrap();
        assert_eq!(algorithm.image.len(), 0x80 + ZERO_RESERVE);
        assert!(algorithm.image[0x40..].iter().all(|&byte| byte == 0));
        // Cut short: ProgramPage and EraseSector would run in the zeroes.
        let error = load(&mut algorithm, &description(&sectors), &mut &code[..0x20]);
        assert_eq!(
            error,
            Err(Error::Malformed("an entry point is outside the code"))
        );
        assert!(!algorithm.is_loaded());
    }
}
