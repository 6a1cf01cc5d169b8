//! The STM32F4 driver through the whole engine against the simulated F401/F411/F407, bit
//! by bit over SWD in the simulator's virtual time: identification and memory maps
//! (16, 64 and 128 KB sectors), loads with the skips and the mass erase, read protection.

use adi::Clock;
use debug::{Error, FlashReport, Session};
use sim::Sim;
use sim::chip::{Chip, Variant};
use wire::Pins;
use wire::swd::Swd;

type Wire = Swd<Sim<Chip>>;

const FLASH: u32 = 0x0800_0000;
const K: u32 = 1024;

/// The probe's clock, from the host's: the engine's time limits are for a target in real
/// time, and the simulator in a debug build runs slower than one.
struct HostClock(std::time::Instant);

impl Clock for HostClock {
    fn now_micros(&mut self) -> u64 {
        self.0.elapsed().as_micros() as u64 / 10
    }
}

/// Attached to `variant`, the simulator on its virtual clock at 1 MHz (fewer BSY polls
/// per simulated second than at 4 MHz: the erases take seconds of the chip's time).
fn attached(variant: Variant) -> Session<Wire, HostClock> {
    let mut sim = Sim::new(Chip::new(variant));
    sim.set_real_time(false);
    sim.set_frequency(1_000_000);
    let mut swd = Swd::new(sim);
    swd.switch_from_jtag();
    let mut session = Session::new();
    let clock = HostClock(std::time::Instant::now());
    assert_eq!(session.scan(swd, clock).unwrap().count(), 1);
    session.attach(1).unwrap();
    session.set_crc_options(true, Some(60_000_000));
    session
}

fn name_and_map(variant: Variant) -> (String, Vec<(u32, u32, Option<u32>)>) {
    let session = attached(variant);
    let target = session.attached().unwrap();
    let name = format!("{} {}", target.driver_name(), target.core_name());
    let map = session.memory_map().unwrap();
    let regions = map
        .regions()
        .map(|region| {
            let sector = region.as_flash().map(|flash| flash.block_size);
            (region.start, region.length, sector)
        })
        .collect();
    (name, regions)
}

#[test]
fn identifies_each_line_with_its_sectors_and_rams() {
    let (name, regions) = name_and_map(Variant::Stm32f407vg);
    assert_eq!(name, "STM32F405/407 M4");
    assert_eq!(
        regions,
        [
            (FLASH, 64 * K, Some(16 * K)),
            (FLASH + 64 * K, 64 * K, Some(64 * K)),
            (FLASH + 128 * K, 896 * K, Some(128 * K)),
            (0x2000_0000, 128 * K, None),
            (0x1000_0000, 64 * K, None),
        ]
    );
    let (name, regions) = name_and_map(Variant::Stm32f411ce);
    assert_eq!(name, "STM32F411xC/E M4");
    assert_eq!(regions[2], (FLASH + 128 * K, 384 * K, Some(128 * K)));
    assert_eq!(regions[3], (0x2000_0000, 128 * K, None));
    let (name, regions) = name_and_map(Variant::Stm32f401cc);
    assert_eq!(name, "STM32F401xB/C M4");
    assert_eq!(regions[2], (FLASH + 128 * K, 128 * K, Some(128 * K)));
    assert_eq!(regions[3], (0x2000_0000, 64 * K, None));
    // GDB's memory map: one flash element per sector size.
    let session = attached(Variant::Stm32f411ce);
    let mut xml = String::new();
    session.memory_map().unwrap().write_xml(&mut xml).unwrap();
    for blocksize in ["0x4000", "0x10000", "0x20000"] {
        assert!(
            xml.contains(&format!("\"blocksize\">{blocksize}<")),
            "{xml}"
        );
    }
    assert_eq!(session.chip_commands()[0].name, "option");
}

/// Pseudo-random bytes (xorshift): no erased words by accident.
fn random(seed: u32, length: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 8) as u8
        })
        .collect()
}

/// A load as GDB does it: erase the sectors the image touches (`erase` bytes from
/// `address`), write in 4 KiB pieces, done; the work it took.
fn load(
    session: &mut Session<Wire, HostClock>,
    address: u32,
    erase: u32,
    image: &[u8],
) -> FlashReport {
    let before = session.flash_report().unwrap();
    session.flash_erase(address, erase).unwrap();
    for (index, piece) in image.chunks(4096).enumerate() {
        session
            .flash_write(address + (index * 4096) as u32, piece)
            .unwrap();
    }
    session.flash_done().unwrap();
    let after = session.flash_report().unwrap();
    FlashReport {
        unchanged: after.unchanged - before.unchanged,
        erased: after.erased - before.erased,
        mass_erases: after.mass_erases - before.mass_erases,
        programmed: after.programmed - before.programmed,
        method: after.method,
    }
}

fn read(session: &mut Session<Wire, HostClock>, address: u32, length: usize) -> Vec<u8> {
    let mut data = vec![0; length];
    session.read_memory(address, &mut data).unwrap();
    data
}

fn counts(report: FlashReport) -> (u32, u32, u32, u32) {
    (
        report.unchanged,
        report.erased,
        report.mass_erases,
        report.programmed,
    )
}

/// An image over the four 16 KB sectors, the 64 KB one and part of the first 128 KB one:
/// programmed without erasing (the flash reads back erased), loaded again with every
/// 16 KiB block skipped (the larger sectors' blocks too, by their CRCs), then a change in
/// one 16 KB sector touches only that sector.
#[test]
fn loads_across_sector_sizes_skip_what_they_can() {
    let mut session = attached(Variant::Stm32f411ce);
    let image = random(1, 150 * 1024);
    let erase = 256 * K; // sectors 0-5
    let first = load(&mut session, FLASH, erase, &image);
    // 64 KB in 16 KB blocks, 64 KB in four pieces, 22 KB in two pieces of the 128 KB one.
    assert_eq!(counts(first), (0, 0, 0, 4 + 4 + 2), "{first:?}");
    assert_eq!(first.method, Some(debug::crc::Method::Target));
    assert_eq!(read(&mut session, FLASH, image.len()), image);

    let again = load(&mut session, FLASH, erase, &image);
    assert_eq!(counts(again), (4 + 4 + 2, 0, 0, 0), "{again:?}");
    assert_eq!(read(&mut session, FLASH, image.len()), image);

    let mut changed = image.clone();
    changed[0x4010..0x4010 + 3000].copy_from_slice(&random(2, 3000));
    let sector_1 = &changed[0x4000..0x8000];
    let third = load(&mut session, FLASH + 0x4000, 16 * K, sector_1);
    assert_eq!(counts(third), (0, 1, 0, 1), "{third:?}");
    assert_eq!(read(&mut session, FLASH, changed.len()), changed);
    let (crc, _) = session.crc32(FLASH, changed.len() as u32).unwrap();
    assert_eq!(crc, debug::crc::GDB_CRC.checksum(&changed));
}

/// A request over the whole flash whose first sector holds data and changes, with more
/// than one sector to erase, becomes one mass erase.
#[test]
fn a_whole_flash_request_becomes_one_mass_erase() {
    let mut session = attached(Variant::Stm32f401cc);
    let old = random(3, 40 * 1024);
    load(&mut session, FLASH, 48 * K, &old); // sectors 0 to 2
    let image = random(4, 20 * 1024);
    let report = load(&mut session, FLASH, 256 * K, &image);
    assert_eq!(counts(report), (0, 0, 1, 2), "{report:?}");
    assert_eq!(read(&mut session, FLASH, image.len()), image);
    let rest = read(&mut session, FLASH + 20 * K, 236 * K as usize);
    assert!(
        rest.iter().all(|&byte| byte == 0xFF),
        "mass erase left data"
    );
}

/// A request that starts or ends inside a 64 or 128 KB sector whose rest holds data is
/// refused before anything is erased: that rest could not be kept through the 16 KiB
/// buffer. Where the rest is erased the request goes ahead. A request for the whole sector
/// with data for part of it (GDB's `load`: it erases its memory map's blocks) leaves the
/// rest erased.
#[test]
fn a_request_for_part_of_a_large_sector_keeps_its_data() {
    let mut session = attached(Variant::Stm32f411ce);
    let sector_4 = FLASH + 64 * K; // 64 KB
    let sector_5 = FLASH + 128 * K; // 128 KB
    let sector_6 = FLASH + 256 * K; // 128 KB
    let old = random(5, 64 * K as usize);
    load(&mut session, sector_4, 64 * K, &old);
    load(&mut session, sector_5, 128 * K, &old[..8 * K as usize]);
    let partial = |start, size| Err(Error::PartialSector { start, size });
    for (address, length, refused) in [
        (sector_4 + 4 * K, 4 * K, partial(sector_4, 64 * K)),
        (sector_4, 60 * K, partial(sector_4, 64 * K)),
        (FLASH + 48 * K, 20 * K, partial(sector_4, 64 * K)),
        (sector_4, 65 * K, partial(sector_5, 128 * K)),
        (sector_5 + 2 * K, 1, partial(sector_5, 128 * K)),
        (sector_5 + 8 * K, 120 * K, partial(sector_5, 128 * K)),
    ] {
        let answer = session.flash_erase(address, length);
        assert_eq!(answer, refused, "{address:#x} +{length:#x}");
    }
    let message = session.flash_erase(sector_4, 4).unwrap_err().to_string();
    assert!(
        message.contains("part of the 64 KiB flash sector at 0x08010000 whose rest holds data")
            && message.contains("(0x08010000, length 0x10000)"),
        "{message}"
    );
    session.flash_done().unwrap();
    assert_eq!(read(&mut session, sector_4, old.len()), old);
    assert_eq!(
        read(&mut session, sector_5, 8 * K as usize),
        old[..8 * K as usize]
    );

    // The rest of sector 6 is erased: part of it may be asked for, and then no more.
    let image = random(6, 4 * K as usize);
    load(&mut session, sector_6 + 4 * K, 4 * K, &image);
    assert_eq!(read(&mut session, sector_6 + 4 * K, image.len()), image);
    assert_eq!(
        session.flash_erase(sector_6 + 16 * K, 4 * K),
        partial(sector_6, 128 * K)
    );

    // GDB's request: the whole sector, data for part of it.
    session.flash_erase(sector_4, 64 * K).unwrap();
    session.flash_write(sector_4 + 4 * K, &image).unwrap();
    session.flash_done().unwrap();
    let mut expected = vec![0xFF; 64 * K as usize];
    expected[4 * K as usize..8 * K as usize].copy_from_slice(&image);
    assert_eq!(read(&mut session, sector_4, expected.len()), expected);
}

const FLASH_OPTKEYR: u32 = 0x4002_3C08;
const FLASH_OPTCR: u32 = 0x4002_3C14;

fn write_word(session: &mut Session<Wire, HostClock>, address: u32, value: u32) {
    session.write_memory(address, &value.to_le_bytes()).unwrap();
}

fn read_word(session: &mut Session<Wire, HostClock>, address: u32) -> u32 {
    u32::from_le_bytes(read(session, address, 4).try_into().unwrap())
}

/// RDP level 1 (set by hand through FLASH_OPTCR, RM0090 3.6.2): flash work is refused with
/// a message naming `option erase`, nothing is erased; `option erase` lifts it (erasing
/// the flash, RM0090 3.7.3) and after a reset the flash is writable again.
#[test]
fn read_protection_is_reported_and_lifted_only_by_option_erase() {
    let mut session = attached(Variant::Stm32f411ce);
    let image = random(5, 4096);
    load(&mut session, FLASH, 16 * K, &image);
    write_word(&mut session, FLASH_OPTKEYR, 0x0819_2A3B);
    write_word(&mut session, FLASH_OPTKEYR, 0x4C5D_6E7F);
    let level_1 = 0x0FFF_55EC;
    write_word(&mut session, FLASH_OPTCR, level_1);
    write_word(&mut session, FLASH_OPTCR, level_1 | 2); // OPTSTRT
    while read_word(&mut session, FLASH_OPTCR) & 2 != 0 {}
    session.reset(true).unwrap();

    for attempt in ["erase", "mass erase", "write"] {
        let error = match attempt {
            "erase" => session.flash_erase(FLASH, 16 * K),
            "mass erase" => session.flash_mass_erase(),
            _ => session
                .flash_write(FLASH + 0x8000, &[0; 4])
                .and_then(|()| session.flash_done()),
        }
        .unwrap_err();
        assert_eq!(
            error,
            Error::Chip(chips::Error::Protected {
                what: "RDP level 1",
                command: "option erase"
            }),
            "{attempt}"
        );
        assert!(
            error.to_string().contains("'monitor option erase'"),
            "{error}"
        );
    }
    let mut text = String::new();
    session.chip_command("option", "", &mut text).unwrap();
    assert!(text.contains("RDP 0x55 (level 1)"), "{text}");

    // Nothing was erased: the image is there once protection is lifted... by the only
    // command that may erase it, which does.
    text.clear();
    session.chip_command("option", "erase", &mut text).unwrap();
    assert!(text.contains("RDP 0xAA (level 0)"), "{text}");
    session.reset(true).unwrap();
    assert!(read(&mut session, FLASH, 4096).iter().all(|&b| b == 0xFF));
    let report = load(&mut session, FLASH, 16 * K, &image);
    assert_eq!(report.programmed, 1);
    assert_eq!(read(&mut session, FLASH, image.len()), image);
}

/// A write outside any erase request over flash that holds data (the F4 programs 1 to 0
/// without complaint): a clear error, never the AND of old and new reported as written.
#[test]
fn a_write_over_data_without_an_erase_is_an_error() {
    let mut session = attached(Variant::Stm32f407vg);
    session.flash_erase(FLASH, 16 * K).unwrap();
    session.flash_write(FLASH, &[0x5A; 64]).unwrap();
    session.flash_done().unwrap();
    let written = session
        .flash_write(FLASH, &[0xA5; 64])
        .and_then(|()| session.flash_done());
    let mut back = [0u8; 64];
    session.read_memory(FLASH, &mut back).unwrap();
    assert!(
        written.is_err(),
        "no error, the flash holds {:#04x}",
        back[0]
    );
    assert_eq!(back, [0x5A; 64]);
}

/// Flash erased by a request that was finished before its data came (more requests than
/// one pending request tracks: nine sectors asked for one by one) is erased once: data
/// written there a second time is checked like any write over data, a clear error, never
/// the AND of both.
#[test]
fn data_written_twice_after_the_erase_is_finished_is_an_error() {
    let mut session = attached(Variant::Stm32f407vg);
    let sectors = [(0, 16), (16, 16), (32, 16), (48, 16), (64, 64)]
        .into_iter()
        .chain((0..4).map(|n| (128 + 128 * n, 128)));
    for (start, size) in sectors {
        session.flash_erase(FLASH + start * K, size * K).unwrap();
    }
    let mut back = [0u8; 64];
    session.flash_write(FLASH + 16 * K, &[0x5A; 64]).unwrap();
    session.flash_write(FLASH + 48 * K, &[0x11; 4]).unwrap();
    let written = session
        .flash_write(FLASH + 16 * K, &[0xA5; 64])
        .and_then(|()| session.flash_done());
    session.read_memory(FLASH + 16 * K, &mut back).unwrap();
    assert!(
        written.is_err(),
        "no error, the flash holds {:#04x}",
        back[0]
    );
    assert_eq!(back, [0x5A; 64]);
}

/// Random loads over the F407's first six sectors (16, 16, 16, 16, 64 and 128 KiB: runs of
/// three sizes, the large ones in 16 KiB blocks) against a model of the flash: one or
/// more erase requests of sectors back to back, writes of random pieces in any order
/// (some over others, some the same as the flash holds), done. After each the flash must
/// be the model.
#[test]
fn random_loads_leave_what_a_model_says() {
    const SECTORS: [u32; 7] = [0, 16, 32, 48, 64, 128, 256];
    let mut session = attached(Variant::Stm32f407vg);
    let size = (SECTORS[6] * K) as usize;
    let mut model = vec![0xFFu8; size];
    let mut seed = 0x5EED_F407u32;
    let mut next = move |below: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as usize % below
    };
    for round in 0..8u32 {
        let mut requests = Vec::new();
        for _ in 0..1 + next(2) {
            let first = next(6);
            let end = first + 1 + next(6 - first);
            let (start, stop) = ((SECTORS[first] * K) as usize, (SECTORS[end] * K) as usize);
            session
                .flash_erase(FLASH + start as u32, (stop - start) as u32)
                .unwrap();
            model[start..stop].fill(0xFF);
            requests.push((start, stop));
        }
        let before = model.clone();
        for piece in 0..1 + next(5) {
            let (first, stop) = requests[next(requests.len())];
            let start = first + next(stop - first);
            let length = 1 + next((stop - start).min(40 * 1024));
            let bytes = match next(3) {
                0 => before[start..start + length].to_vec(),
                _ => random(round * 10 + piece as u32 + 1, length),
            };
            let at = FLASH + start as u32;
            session
                .flash_write(at, &bytes)
                .unwrap_or_else(|error| panic!("round {round}: write {at:#x}: {error:?}"));
            model[start..start + length].copy_from_slice(&bytes);
        }
        session
            .flash_done()
            .unwrap_or_else(|error| panic!("round {round}: done: {error:?}"));
        let mut back = vec![0; size];
        session.read_memory(FLASH, &mut back).unwrap();
        let first_difference = back.iter().zip(&model).position(|(a, b)| a != b);
        assert_eq!(first_difference, None, "round {round}: {requests:x?}");
    }
}
