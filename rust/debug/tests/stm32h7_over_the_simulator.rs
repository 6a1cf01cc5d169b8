//! The engine's STM32H7 driver against the simulated STM32H743 and H750, bit by bit over
//! SWD: identification, memory map, flash in both banks, run control on the Cortex-M7,
//! read protection and its monitor command.

mod common;

use common::simulated::{self, HostClock, Wire, firmware_build, wait_halt};
use debug::{BreakWatch, HaltReason, Session};
use sim::chip::{Chip, Variant};

const FLASH: u32 = 0x0800_0000;
const BANK_2: u32 = 0x0810_0000;

/// The F4 build of the test firmware (Cortex-M4 code, flash at 0x0800_0000, RAM at
/// 0x2000_0000: the H7's bank 1 and DTCM).
fn firmware() -> Vec<u8> {
    std::fs::read(firmware_build().join("firmware-f4.bin")).expect("firmware-f4.bin")
}

fn attached(variant: Variant) -> Session<Wire, HostClock> {
    let name = match variant {
        Variant::Stm32h750vb => "STM32H750",
        _ => "STM32H74x/H75x",
    };
    simulated::attached_as(
        simulated::wire(Chip::new(variant), false),
        HostClock::real_time(),
        name,
        "M7",
    )
}

#[test]
fn h743_memory_map_has_both_banks_and_the_rams() {
    let session = attached(Variant::Stm32h743zi);
    let map = session.memory_map().unwrap();
    let flash: Vec<(u32, u32, u32, u32)> = map
        .regions()
        .filter_map(|region| {
            let flash = region.as_flash()?;
            Some((
                region.start,
                region.length,
                flash.block_size,
                flash.write_unit,
            ))
        })
        .collect();
    assert_eq!(
        flash,
        [
            (FLASH, 0x10_0000, 0x2_0000, 32),
            (BANK_2, 0x10_0000, 0x2_0000, 32)
        ]
    );
    assert!(map.regions().any(|region| region.start == 0x2400_0000));
}

#[test]
fn h743_flashes_runs_and_breaks() {
    let image = firmware();
    let mut session = attached(Variant::Stm32h743zi);
    // DBGMCU_CR: debugging survives Sleep, Stop and Standby; the debug clocks are on.
    let mut control = [0u8; 4];
    session.read_memory(0x5C00_1004, &mut control).unwrap();
    assert_eq!(u32::from_le_bytes(control) & 0x0060_0007, 0x0060_0007);

    session.flash_erase(FLASH, image.len() as u32).unwrap();
    session.flash_write(FLASH, &image).unwrap();
    // Bank 2 through its own registers.
    session.flash_erase(BANK_2, 64).unwrap();
    session.flash_write(BANK_2, &[0x5A; 64]).unwrap();
    session.flash_done().unwrap();
    let mut back = vec![0; image.len()];
    session.read_memory(FLASH, &mut back).unwrap();
    assert_eq!(back, image);
    let mut back = [0; 64];
    session.read_memory(BANK_2, &mut back).unwrap();
    assert_eq!(back, [0x5A; 64]);

    session.reset(true).unwrap();
    assert_eq!(wait_halt(&mut session), HaltReason::Reset);
    let reset_vector = u32::from_le_bytes(image[4..8].try_into().unwrap()) & !1;
    assert_eq!(session.read_register(15).unwrap(), reset_vector);
    let blink_step = simulated::symbol("firmware-f4", "blink_step");
    session
        .set_breakwatch(BreakWatch::Software, blink_step, 2)
        .unwrap();
    session.resume(false).unwrap();
    assert_eq!(
        wait_halt(&mut session),
        HaltReason::Breakpoint {
            address: blink_step
        }
    );
    session.detach().unwrap();
}

/// RDP level 1: flash work is refused with the command that lifts it, nothing erased;
/// the command erases both banks and leaves the flash readable.
#[test]
fn h750_read_protection_names_the_unlock_command() {
    let mut session = attached(Variant::Stm32h750vb);
    session.flash_erase(FLASH, 32).unwrap();
    session.flash_write(FLASH, &[0x11; 32]).unwrap();
    session.flash_done().unwrap();
    // RDP to 0xBB (level 1) through the option bytes, as firmware would.
    let options_word = |session: &mut Session<Wire, HostClock>, address: u32| {
        let mut word = [0u8; 4];
        session.read_memory(address, &mut word).unwrap();
        u32::from_le_bytes(word)
    };
    session
        .write_memory(0x5200_2008, &0x0819_2A3Bu32.to_le_bytes())
        .unwrap();
    session
        .write_memory(0x5200_2008, &0x4C5D_6E7Fu32.to_le_bytes())
        .unwrap();
    let options = options_word(&mut session, 0x5200_201C);
    let level_1 = options & !0xFF00 | 0xBB00;
    session
        .write_memory(0x5200_2020, &level_1.to_le_bytes())
        .unwrap();
    session
        .write_memory(0x5200_2018, &2u32.to_le_bytes())
        .unwrap();
    while options_word(&mut session, 0x5200_201C) & 1 != 0 {}

    // The session buffers flash work: the refusal comes when it reaches the chip.
    let error = session
        .flash_erase(FLASH, 32)
        .and_then(|()| session.flash_write(FLASH, &[0x22; 32]))
        .and_then(|()| session.flash_done())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("RDP level 1") && error.contains("monitor unlock"),
        "{error}"
    );
    let mut kept = None;
    session.with_transport(|swd| kept = swd.pins().bus_mut().peek(FLASH));
    assert_eq!(
        kept,
        Some(0x1111_1111),
        "nothing erased without the command"
    );
    let mut output = String::new();
    session.chip_command("unlock", "", &mut output).unwrap();
    assert!(output.contains("RDP level 0"), "{output}");
    let mut back = [0u8; 32];
    session.read_memory(FLASH, &mut back).unwrap();
    assert_eq!(back, [0xFF; 32], "the regression erased the flash");
}

/// Runs of flash words go back to back (the bus stalls while one programs) and erased
/// flash words in between are skipped: the result reads back whole. A flash word the
/// bank refuses (a write-protected sector) fails the run with the sector's address.
#[test]
fn h743_programs_runs_with_gaps_and_reports_a_protected_sector() {
    let mut session = attached(Variant::Stm32h743zi);
    let mut image: Vec<u8> = (0..3 * 1024u32)
        .map(|index| (index * 7 + 3) as u8)
        .collect();
    for hole in [5usize, 40, 41, 42, 95] {
        image[hole * 32..(hole + 1) * 32].fill(0xFF);
    }
    session.flash_erase(FLASH, image.len() as u32).unwrap();
    session.flash_write(FLASH, &image).unwrap();
    session.flash_done().unwrap();
    let mut back = vec![0; image.len()];
    session.read_memory(FLASH, &mut back).unwrap();
    assert_eq!(back, image);

    // Sector 1 of bank 1 write protected (WPSN_PRG bit 1 = 0, RM0433 4.9.13).
    let write = |session: &mut Session<Wire, HostClock>, address: u32, value: u32| {
        session.write_memory(address, &value.to_le_bytes()).unwrap();
    };
    write(&mut session, 0x5200_2008, 0x0819_2A3B);
    write(&mut session, 0x5200_2008, 0x4C5D_6E7F);
    write(&mut session, 0x5200_203C, 0xFD);
    write(&mut session, 0x5200_2018, 2);
    loop {
        let mut word = [0u8; 4];
        session.read_memory(0x5200_201C, &mut word).unwrap();
        if u32::from_le_bytes(word) & 1 == 0 {
            break;
        }
    }
    let sector_1 = FLASH + 0x2_0000;
    let error = session
        .flash_erase(sector_1, 256)
        .and_then(|()| session.flash_write(sector_1, &[0x42; 256]))
        .and_then(|()| session.flash_done())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("write protected") && error.contains(&format!("{sector_1:08x}")),
        "{error}"
    );
    let mut back = [0u8; 256];
    session.read_memory(sector_1, &mut back).unwrap();
    assert_eq!(back, [0xFF; 256]);
}

/// A load as GDB does it (erase the sectors the image touches, whole: GDB's vFlashErase
/// covers its memory map's blocks; write; done): what the flash buffer did.
fn load(session: &mut Session<Wire, HostClock>, image: &[u8]) -> debug::FlashReport {
    let before = session.flash_report().unwrap();
    let sectors = (image.len() as u32).next_multiple_of(0x2_0000);
    session.flash_erase(FLASH, sectors).unwrap();
    for (index, piece) in image.chunks(4096).enumerate() {
        session
            .flash_write(FLASH + (index * 4096) as u32, piece)
            .unwrap();
    }
    session.flash_done().unwrap();
    let after = session.flash_report().unwrap();
    let mut back = vec![0; 0x2_0000];
    session.read_memory(FLASH, &mut back).unwrap();
    let mut expected = vec![0xFF; 0x2_0000];
    expected[..image.len()].copy_from_slice(image);
    let first_difference = back.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(first_difference, None, "sector 0 is not the image");
    debug::FlashReport {
        unchanged: after.unchanged - before.unchanged,
        erased: after.erased - before.erased,
        mass_erases: after.mass_erases - before.mass_erases,
        programmed: after.programmed - before.programmed,
        method: after.method,
    }
}

/// A 128 KiB sector is larger than the flash buffer: its blocks come one at a time, each
/// compared by its own CRC. The same image again is not rewritten; an image that grows
/// into the sector's erased part is only programmed there; a smaller one erases the
/// sector keeping its first block (through target RAM); a change in the first block
/// erases the sector.
#[test]
fn h743_sector_larger_than_the_buffer_is_not_rewritten_when_unchanged() {
    let mut session = attached(Variant::Stm32h743zi);
    let pattern = |seed: u32, length: usize| -> Vec<u8> {
        (0..length as u32)
            .map(|index| (index.wrapping_mul(31).wrapping_add(seed) % 251) as u8)
            .collect()
    };
    let small = pattern(1, 3000);
    let new = load(&mut session, &small);
    assert_eq!((new.unchanged, new.erased, new.programmed), (0, 0, 1));
    let again = load(&mut session, &small);
    assert_eq!((again.unchanged, again.erased, again.programmed), (1, 0, 0));

    // Grows into the next 16 KiB block: the first is unchanged, the second programmed
    // into erased flash.
    let mut grown = small.clone();
    grown.resize(20 * 1024, 0xFF);
    grown[17 * 1024..].copy_from_slice(&pattern(2, 3 * 1024));
    let grew = load(&mut session, &grown);
    assert_eq!((grew.unchanged, grew.erased, grew.programmed), (1, 0, 1));

    // Smaller again: the second block must go, so the sector is erased.
    let shrunk = load(&mut session, &small);
    assert_eq!(
        (shrunk.unchanged, shrunk.erased, shrunk.programmed),
        (0, 1, 1)
    );

    // One function changed.
    let mut changed = small.clone();
    changed[1000..1008].copy_from_slice(&[0x11; 8]);
    let one = load(&mut session, &changed);
    assert_eq!((one.unchanged, one.erased, one.programmed), (0, 1, 1));
}

fn pattern(seed: u32, length: usize) -> Vec<u8> {
    (0..length as u32)
        .map(|index| (index.wrapping_mul(seed * 2 + 29) ^ (index >> 7)).wrapping_add(seed) as u8)
        .collect()
}

fn counts(report: debug::FlashReport) -> (u32, u32, u32) {
    (report.unchanged, report.erased, report.programmed)
}

/// An image of seven 16 KiB blocks in one 128 KiB sector: loaded again, no block is
/// rewritten; a change in the middle block erases the sector, and the three blocks before
/// it (left alone when they came) are kept: copied into target RAM, programmed back. A
/// smaller image keeps the blocks it still has and erases the rest. RAM the debugger
/// wrote before the load holds no save area.
#[test]
fn h743_large_sector_blocks_are_kept_through_a_change_in_the_middle() {
    let mut session = attached(Variant::Stm32h743zi);
    let image = pattern(3, 7 * 16 * 1024 - 100);
    assert_eq!(counts(load(&mut session, &image)), (0, 0, 7));
    assert_eq!(counts(load(&mut session, &image)), (7, 0, 0));

    // A RAM section written by the debugger in each of the two largest RAMs.
    let axi_end = 0x2400_0000 + 512 * 1024 - 256;
    let sram_end = 0x3000_0000 + 288 * 1024 - 256;
    for address in [axi_end, sram_end] {
        session.write_memory(address, &[0x5A; 256]).unwrap();
    }
    let mut changed = image.clone();
    changed[3 * 16 * 1024 + 5000..3 * 16 * 1024 + 5064].fill(0x11);
    // Blocks 0-2 kept (counted programmed instead of unchanged), 3 changed, 4-6 programmed.
    assert_eq!(counts(load(&mut session, &changed)), (0, 1, 7));
    for address in [axi_end, sram_end] {
        let mut back = [0; 256];
        session.read_memory(address, &mut back).unwrap();
        assert_eq!(back, [0x5A; 256], "RAM at {address:#x} was used");
    }
    assert_eq!(counts(load(&mut session, &changed)), (7, 0, 0));

    // Smaller: blocks 0-2 unchanged and kept, block 3 shorter (changed), 4-6 erased.
    let smaller = &changed[..3 * 16 * 1024 + 9000];
    assert_eq!(counts(load(&mut session, smaller)), (0, 1, 4));
    let (crc, method) = session.crc32(FLASH, smaller.len() as u32).unwrap();
    assert_eq!(crc, debug::crc::GDB_CRC.checksum(smaller));
    assert_eq!(method, debug::crc::Method::Target);
}

/// Without RAM to keep blocks in (the debugger wrote to every RAM region), a large sector's
/// block is left alone only if the rest of the sector reads back erased: the same 7-block
/// image again is erased and rewritten, and the RAM is untouched.
#[test]
fn h743_without_free_ram_a_large_sector_is_rewritten_whole() {
    let mut session = attached(Variant::Stm32h743zi);
    let image = pattern(4, 7 * 16 * 1024);
    assert_eq!(counts(load(&mut session, &image)), (0, 0, 7));
    let rams = [
        0x2000_0000,
        0x0000_0000,
        0x2400_0000,
        0x3000_0000,
        0x3800_0000,
    ];
    for start in rams {
        session.write_memory(start + 0x8000, &[0xA5; 64]).unwrap();
    }
    assert_eq!(counts(load(&mut session, &image)), (0, 1, 7));
    for start in rams {
        let mut back = [0; 64];
        session.read_memory(start + 0x8000, &mut back).unwrap();
        assert_eq!(back, [0xA5; 64], "RAM at {start:#x} was used");
    }
    // Once the core has run, RAM is the program's again and the blocks are skipped.
    session.reset(true).unwrap();
    assert_eq!(counts(load(&mut session, &image)), (7, 0, 0));
}

/// Writes out of address order in a 128 KiB sector: block 0 (left alone: unchanged),
/// block 1 (changed: the sector erased, block 0 kept), then block 0 again with other bytes
/// over its data (a flash word cannot be programmed twice: the sector erased again,
/// block 1 kept) and a piece of block 2 into erased flash. The flash holds exactly what
/// was written last.
#[test]
fn h743_a_block_written_again_in_a_large_sector() {
    let mut session = attached(Variant::Stm32h743zi);
    const BLOCK: usize = 16 * 1024;
    let image = pattern(5, 3 * BLOCK);
    load(&mut session, &image);
    let mut expected = image.clone();
    expected[BLOCK + 100..BLOCK + 200].fill(0x22);
    expected[600..616].fill(0x33);
    expected[2 * BLOCK..].fill(0xFF);
    expected[2 * BLOCK + 40..2 * BLOCK + 72].copy_from_slice(&pattern(6, 32));
    session.flash_erase(FLASH, 0x2_0000).unwrap();
    session.flash_write(FLASH, &image[..BLOCK]).unwrap();
    session
        .flash_write(FLASH + BLOCK as u32, &expected[BLOCK..2 * BLOCK])
        .unwrap();
    session
        .flash_write(FLASH + 600, &expected[600..616])
        .unwrap();
    let piece = 2 * BLOCK + 40..2 * BLOCK + 72;
    session
        .flash_write(FLASH + piece.start as u32, &expected[piece])
        .unwrap();
    session.flash_done().unwrap();
    let mut back = vec![0; 3 * BLOCK];
    session.read_memory(FLASH, &mut back).unwrap();
    let first_difference = back.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(first_difference, None);
}

/// A load in both banks (a piece at the start of each, GDB's two erase requests before
/// any data): loaded again, every block is left alone; a change in bank 2 rewrites only
/// its sector; the flash holds exactly the pieces.
#[test]
fn h743_a_load_in_both_banks_is_compared_piece_by_piece() {
    let mut session = attached(Variant::Stm32h743zi);
    let one = pattern(7, 20 * 1024);
    let mut two = pattern(8, 5000);
    let load_both = |session: &mut Session<Wire, HostClock>, two: &[u8]| {
        let before = session.flash_report().unwrap();
        session.flash_erase(FLASH, 0x2_0000).unwrap();
        session.flash_erase(BANK_2, 0x2_0000).unwrap();
        session.flash_write(FLASH, &one).unwrap();
        session.flash_write(BANK_2, two).unwrap();
        session.flash_done().unwrap();
        for (address, piece) in [(FLASH, &one[..]), (BANK_2, two)] {
            let mut back = vec![0; 0x2_0000];
            session.read_memory(address, &mut back).unwrap();
            let mut expected = vec![0xFF; 0x2_0000];
            expected[..piece.len()].copy_from_slice(piece);
            assert!(
                back == expected,
                "the sector at {address:#x} is not its piece"
            );
        }
        let after = session.flash_report().unwrap();
        (
            after.unchanged - before.unchanged,
            after.erased - before.erased,
            after.programmed - before.programmed,
        )
    };
    assert_eq!(load_both(&mut session, &two), (0, 0, 3));
    assert_eq!(load_both(&mut session, &two), (3, 0, 0));
    two[4000] ^= 0x40;
    assert_eq!(load_both(&mut session, &two), (2, 1, 1));
}

/// Random loads in 128 KiB sectors (taken in 16 KiB blocks, kept through erases in
/// target RAM) of both banks against a model of the flash: one or more erase requests,
/// writes of random pieces in any order (some over others, some the same as the flash
/// holds), done. After each the sectors must be the model.
#[test]
fn h743_random_loads_leave_what_a_model_says() {
    const SECTOR: usize = 0x2_0000;
    let mut session = attached(Variant::Stm32h743zi);
    let sectors = [FLASH, FLASH + SECTOR as u32, BANK_2];
    let mut model = vec![vec![0xFFu8; SECTOR]; sectors.len()];
    let mut seed = 0x0BAD_5EEDu32;
    let mut next = move |below: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as usize % below
    };
    for round in 0..8u32 {
        let mut requests: Vec<usize> = Vec::new();
        for _ in 0..1 + next(2) {
            let sector = next(sectors.len());
            session.flash_erase(sectors[sector], SECTOR as u32).unwrap();
            model[sector].fill(0xFF);
            requests.push(sector);
        }
        let before = model.clone();
        for piece in 0..1 + next(5) {
            let sector = requests[next(requests.len())];
            let start = next(SECTOR);
            let length = 1 + next((SECTOR - start).min(40 * 1024));
            let bytes = match next(3) {
                0 => before[sector][start..start + length].to_vec(),
                _ => pattern(round * 10 + piece as u32 + 1, length),
            };
            let at = sectors[sector] + start as u32;
            session
                .flash_write(at, &bytes)
                .unwrap_or_else(|error| panic!("round {round}: write {at:#x}: {error:?}"));
            model[sector][start..start + length].copy_from_slice(&bytes);
        }
        session
            .flash_done()
            .unwrap_or_else(|error| panic!("round {round}: done: {error:?}"));
        for (index, &address) in sectors.iter().enumerate() {
            let mut back = vec![0; SECTOR];
            session.read_memory(address, &mut back).unwrap();
            let first_difference = back.iter().zip(&model[index]).position(|(a, b)| a != b);
            assert_eq!(
                first_difference, None,
                "round {round}: sector at {address:#x}"
            );
        }
    }
}
