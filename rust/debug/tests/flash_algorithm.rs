//! Flash algorithms nobody here wrote, run by the engine on the simulated chips: the
//! probe-rs crate's STM32F1 and STM32F4 algorithms (extracted by probe-rs from ST's
//! packs), through the session's flash path (erase, program, read back, CRC), compared
//! with the built-in driver; and algorithms that go wrong.

mod common;

use common::probe_rs_yaml::{self, YamlAlgorithm};
use common::virtual_wire::{self, VirtualClock as HostClock, Wire};
use debug::{Error, HaltReason, HaltStatus, Session, algo};
use sim::chip::Variant;
use std::path::Path;

fn firmware() -> Vec<u8> {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    BUILT.get_or_init(|| {
        let status = std::process::Command::new("make")
            .args(["-s", "-C"])
            .arg(top.join("tests/firmware"))
            .arg(format!("BUILD={}", top.join("build/firmware").display()))
            .status()
            .expect("make runs");
        assert!(status.success(), "building the test firmware failed");
    });
    std::fs::read(top.join("build/firmware/firmware.bin")).expect("firmware.bin")
}

fn attached(variant: Variant) -> Session<Wire, HostClock> {
    let (wire, clock) = virtual_wire::wire(variant, None);
    let mut session = Session::new();
    assert_eq!(session.scan(wire, clock).unwrap().count(), 1);
    session.attach(1).unwrap();
    // Virtual time: no slack needed for a slow simulator.
    session.set_algorithm_slack(10);
    session
}

fn virtual_ns(session: &mut Session<Wire, HostClock>) -> u64 {
    let mut now = 0;
    session.with_transport(|wire| now = virtual_wire::now_ns(wire));
    now
}

fn f1_algorithm() -> YamlAlgorithm {
    probe_rs_yaml::algorithm("STM32F1_Series.yaml", "stm32f10x_128")
}

fn use_algorithm(
    session: &mut Session<Wire, HostClock>,
    yaml: &YamlAlgorithm,
    ram: Option<(u32, u32)>,
) -> Result<(), Error> {
    session.set_flash_algorithm(
        |algorithm| {
            algo::probe_rs::load(algorithm, &yaml.description(), &mut &yaml.instructions[..])
        },
        ram,
    )
}

/// Erase, write and finish `image` at `address`; the virtual time it took.
fn flash(session: &mut Session<Wire, HostClock>, address: u32, image: &[u8]) -> u64 {
    let start = virtual_ns(session);
    session.flash_erase(address, image.len() as u32).unwrap();
    session.flash_write(address, image).unwrap();
    session.flash_done().unwrap();
    virtual_ns(session) - start
}

fn read(session: &mut Session<Wire, HostClock>, address: u32, length: usize) -> Vec<u8> {
    let mut back = vec![0; length];
    session.read_memory(address, &mut back).unwrap();
    back
}

#[test]
fn probe_rs_stm32f1_algorithm_flashes_like_the_built_in_driver() {
    let image = firmware();
    let yaml = f1_algorithm();

    let mut native = attached(Variant::Stm32f103cb);
    let native_ns = flash(&mut native, 0x0800_0000, &image);
    let native_flash = read(&mut native, 0x0800_0000, 0x2_0000);

    let mut session = attached(Variant::Stm32f103cb);
    use_algorithm(&mut session, &yaml, None).unwrap();
    let map = session.memory_map().unwrap();
    let flash_regions: Vec<_> = map
        .regions()
        .filter(|region| matches!(region.kind, chips::RegionKind::Flash { .. }))
        .map(|region| (region.start, region.length, region.kind))
        .collect();
    assert_eq!(
        flash_regions,
        [(
            0x0800_0000,
            0x2_0000,
            chips::RegionKind::Flash(chips::memory_map::Flash {
                block_size: 0x400,
                write_unit: 0x400, // the algorithm's page
                erased: 0xFF,
                bank: 0,
            })
        )]
    );
    // The registers of the halted program survive the algorithm's calls.
    let pc_before = session.read_register(15).unwrap();
    let algorithm_ns = flash(&mut session, 0x0800_0000, &image);
    assert_eq!(session.read_register(15).unwrap(), pc_before);
    assert_eq!(read(&mut session, 0x0800_0000, 0x2_0000), native_flash);
    let (crc, _) = session.crc32(0x0800_0000, image.len() as u32).unwrap();
    assert_eq!(crc, debug::crc::GDB_CRC.checksum(&image));
    eprintln!(
        "{} bytes: built-in driver {:.1} ms, probe-rs stm32f10x_128 {:.1} ms (virtual)",
        image.len(),
        native_ns as f64 / 1e6,
        algorithm_ns as f64 / 1e6
    );

    // The flashed program runs.
    session.reset(true).unwrap();
    session.resume(false).unwrap();
    for _ in 0..100 {
        session.read_memory(0x2000_0000, &mut [0; 4]).unwrap();
    }
    session.halt_request().unwrap();
    assert!(matches!(
        session.halt_poll().unwrap(),
        HaltStatus::Halted(HaltReason::Request)
    ));
    let pc = session.read_register(15).unwrap();
    assert!((0x0800_0000..0x0800_0000 + image.len() as u32).contains(&pc));
}

#[test]
fn probe_rs_stm32f1_algorithm_writes_at_any_offset_and_erases_what_it_must() {
    let yaml = f1_algorithm();
    let mut session = attached(Variant::Stm32f103cb);
    use_algorithm(&mut session, &yaml, None).unwrap();
    // Odd start and length, crossing three pages, near the end of the 128 KB.
    let data: Vec<u8> = (0..2500u32).map(|index| (index * 7 + 3) as u8).collect();
    let address = 0x0801_F000 - 0x333;
    flash(&mut session, address, &data);
    assert_eq!(read(&mut session, address, data.len()), data);
    // Written again with other data: erased and programmed again.
    let other: Vec<u8> = data.iter().map(|byte| byte ^ 0x5A).collect();
    flash(&mut session, address, &other);
    assert_eq!(read(&mut session, address, other.len()), other);
    // Mass erase through the algorithm's EraseChip.
    session.flash_erase(0x0800_0000, 0x2_0000).unwrap();
    session.flash_done().unwrap();
    assert!(
        read(&mut session, address, other.len())
            .iter()
            .all(|&byte| byte == 0xFF)
    );
}

#[test]
fn probe_rs_stm32f4_algorithm_flashes_in_place_of_the_driver() {
    let image = firmware();
    let yaml = probe_rs_yaml::algorithm("STM32F4_Series.yaml", "stm32f4xx_1024");
    let mut session = attached(Variant::Stm32f407vg);
    // The algorithm's device takes the place of the STM32F4 driver's flash region; the
    // RAM is given.
    use_algorithm(&mut session, &yaml, Some((0x2000_0000, 0x2_0000))).unwrap();
    flash(&mut session, 0x0800_0000, &image);
    assert_eq!(read(&mut session, 0x0800_0000, image.len()), image);
    // A write in the next 16 KB sector (the larger ones take 1.2 and 2 s of the
    // simulated chip's time to erase).
    let data = vec![0xA5u8; 3000];
    flash(&mut session, 0x0800_4010, &data);
    assert_eq!(read(&mut session, 0x0800_4010, data.len()), data);
    assert_eq!(read(&mut session, 0x0800_0000, image.len()), image);
}

#[test]
fn bad_algorithms_give_clear_errors_and_leave_the_target_usable() {
    let yaml = f1_algorithm();
    let mut session = attached(Variant::Stm32f103cb);

    // Too large for the RAM given.
    let error = use_algorithm(&mut session, &yaml, Some((0x2000_0000, 0x200))).unwrap_err();
    assert!(
        matches!(error, Error::Algorithm(algo::Error::NoRoom { .. })),
        "{error}"
    );
    assert!(session.flash_algorithm().is_none());

    // Entry point outside the code.
    let mut wrong = f1_algorithm();
    wrong.fields.insert("pc_program_page".into(), 0x10_0001);
    let error = use_algorithm(&mut session, &wrong, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "not a usable flash algorithm: an entry point is outside the code"
    );

    // An algorithm that never returns: ProgramPage pointed at a branch to itself
    // (0xE7FE) placed in the image.
    let mut hang = f1_algorithm();
    let at = hang.instructions.len() as u32;
    hang.instructions
        .extend_from_slice(&[0xFE, 0xE7, 0x00, 0x00]);
    hang.fields.insert("pc_program_page".into(), at | 1);
    use_algorithm(&mut session, &hang, None).unwrap();
    let started = std::time::Instant::now();
    session.flash_erase(0x0800_0000, 0x400).unwrap();
    session.flash_write(0x0800_0000, &[1, 2, 3, 4]).unwrap();
    let error = session.flash_done().unwrap_err();
    // The loop's address: the image is loaded 8 bytes into the SRAM.
    assert_eq!(
        error.to_string(),
        format!(
            "flash algorithm ProgramPage did not return within 100 ms; the core was halted \
             at 0x{:08x}",
            0x2000_0008 + at
        )
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    // Halted, the program's registers back, the probe serving.
    assert!(matches!(
        session.halt_poll().unwrap(),
        HaltStatus::Halted(_)
    ));
    let mut word = [0u8; 4];
    session.read_memory(0x2000_0000, &mut word).unwrap();

    // An algorithm whose ProgramPage returns an error code: r0 = 1 (movs r0, #1; bx lr).
    let mut failing = f1_algorithm();
    let at = failing.instructions.len() as u32;
    failing
        .instructions
        .extend_from_slice(&[0x01, 0x20, 0x70, 0x47]);
    failing.fields.insert("pc_program_page".into(), at | 1);
    use_algorithm(&mut session, &failing, None).unwrap();
    session.flash_erase(0x0800_0400, 0x400).unwrap();
    session.flash_write(0x0800_0400, &[9; 16]).unwrap();
    let error = session.flash_done().unwrap_err();
    assert_eq!(
        error.to_string(),
        "flash algorithm ProgramPage failed at 0x08000400 (returned 1)"
    );

    // The good algorithm works on the same target afterwards.
    use_algorithm(&mut session, &yaml, None).unwrap();
    let data = [0x42u8; 64];
    flash(&mut session, 0x0800_0800, &data);
    assert_eq!(read(&mut session, 0x0800_0800, 64), data);
    // And without an algorithm, the built-in driver again.
    session.clear_flash_algorithm().unwrap();
    flash(&mut session, 0x0800_0C00, &data);
    assert_eq!(read(&mut session, 0x0800_0C00, 64), data);
}

fn flm(name: &str) -> Vec<u8> {
    firmware();
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read(top.join("build/firmware").join(name)).expect("FLM built by the firmware's make")
}

fn use_flm(session: &mut Session<Wire, HostClock>, file: &[u8]) -> Result<(), Error> {
    session.set_flash_algorithm(|algorithm| algo::flm::load(algorithm, &mut &file[..]), None)
}

#[test]
fn an_flm_built_here_loads_and_flashes() {
    let file = flm("stm32f1.flm");
    let mut algorithm = algo::Algorithm::new();
    algo::flm::load(&mut algorithm, &mut &file[..]).unwrap();
    let device = &algorithm.device;
    assert_eq!(device.name.as_str(), "STM32F1 128 KB flash (bmp test FLM)");
    assert_eq!(
        (device.start, device.size, device.page_size),
        (0x0800_0000, 0x2_0000, 1024)
    );
    assert_eq!(
        (
            device.program_timeout_ms,
            device.erase_timeout_ms,
            device.erased
        ),
        (100, 500, 0xFF)
    );
    assert_eq!(
        device.sectors.as_slice(),
        [algo::SectorRun {
            size: 0x400,
            offset: 0
        }]
    );
    assert!(algorithm.entries.erase_chip.is_some() && algorithm.entries.init.is_some());
    assert!(algorithm.entries.verify.is_none());
    // PrgData follows PrgCode: the static base is where its magic word is.
    let base = algorithm.static_base as usize;
    assert_eq!(
        algorithm.image[base..base + 4],
        0x600D_F00Du32.to_le_bytes()
    );

    let image = firmware();
    let mut session = attached(Variant::Stm32f103cb);
    use_flm(&mut session, &file).unwrap();
    flash(&mut session, 0x0800_0000, &image);
    assert_eq!(read(&mut session, 0x0800_0000, image.len()), image);
}

#[test]
fn broken_flms_give_clear_errors() {
    let mut session = attached(Variant::Stm32f103cb);
    use_flm(&mut session, &flm("stm32f1-hang.flm")).unwrap();
    // ProgramPage works: the erased page takes data. Other data needs an erase.
    flash(&mut session, 0x0800_0000, &[0; 4]);
    session.flash_erase(0x0800_0000, 0x400).unwrap();
    session.flash_write(0x0800_0000, &[1; 4]).unwrap();
    let error = session.flash_done().unwrap_err().to_string();
    assert!(
        error.starts_with("flash algorithm EraseSector did not return within 500 ms"),
        "{error}"
    );
    use_flm(&mut session, &flm("stm32f1-fail.flm")).unwrap();
    session.flash_write(0x0800_0400, &[1; 4]).unwrap();
    let error = session.flash_done().unwrap_err().to_string();
    assert_eq!(
        error,
        "flash algorithm ProgramPage failed at 0x08000400 (returned 1)"
    );
    // The good one afterwards, on the same target.
    use_flm(&mut session, &flm("stm32f1.flm")).unwrap();
    flash(&mut session, 0x0800_0000, &[7; 100]);
    assert_eq!(read(&mut session, 0x0800_0000, 100), [7; 100]);
}

/// Every truncation of a real FLM, and bytes changed all over it, give an error or an
/// algorithm whose fields were checked, never a panic (fuzz/fuzz_targets/flm.rs goes on).
#[test]
fn truncated_and_garbled_flms_are_refused_cleanly() {
    let file = flm("stm32f1.flm");
    let mut algorithm = algo::Algorithm::new();
    for length in 0..file.len() {
        let result = algo::flm::load(&mut algorithm, &mut &file[..length]);
        let error = result.expect_err("a truncated FLM loads");
        assert!(matches!(error, algo::Error::Malformed(_)), "{error}");
        assert!(!algorithm.is_loaded());
    }
    assert_eq!(
        algo::flm::load(
            &mut algorithm,
            &mut &b"not an elf at all, just text......................................"[..]
        ),
        Err(algo::Error::Malformed(
            "not an ELF file (no 0x7F 'ELF' at the start)"
        ))
    );
    let mut state = 0x1234_5678u32;
    for _ in 0..3000 {
        let mut garbled = file.clone();
        for _ in 0..4 {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let at = (state >> 8) as usize % garbled.len();
            garbled[at] = (state >> 24) as u8;
        }
        let _ = algo::flm::load(&mut algorithm, &mut &garbled[..]);
    }
}

/// Flash `firmware` (a build of the test program) with probe-rs's `algorithm` from `file`
/// on the simulated `variant`; the flash reads back as the image.
fn flash_with_probe_rs(variant: Variant, file: &str, algorithm: &str, firmware: &str) {
    firmware_build();
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let image = std::fs::read(top.join("build/firmware").join(firmware)).expect("image");
    let yaml = probe_rs_yaml::algorithm(file, algorithm);
    let mut session = attached(variant);
    use_algorithm(&mut session, &yaml, None).unwrap();
    let start = yaml.get("start").unwrap();
    flash(&mut session, start, &image);
    assert_eq!(read(&mut session, start, image.len()), image);
    let (crc, _) = session.crc32(start, image.len() as u32).unwrap();
    assert_eq!(crc, debug::crc::GDB_CRC.checksum(&image));
}

fn firmware_build() {
    firmware();
}

#[test]
fn probe_rs_nrf52_algorithm_flashes_the_nrf52840() {
    // Nordic's algorithm: 4 KB pages, one region from 0 over the UICR.
    flash_with_probe_rs(
        Variant::Nrf52840,
        "nRF52_Series.yaml",
        "nrf52",
        "firmware-nrf52.bin",
    );
}

#[test]
fn probe_rs_samd21_algorithm_flashes_the_samd21() {
    // Microchip's algorithm: 64-byte pages, 16 KB sectors.
    flash_with_probe_rs(
        Variant::Atsamd21g18a,
        "SAMD21.yaml",
        "atsamd21_256",
        "firmware-samd21.bin",
    );
}

/// The external-flash FLM built here (tests/firmware/flm/w25q64_h750.c) writes the
/// simulated STM32H750's W25Q64JV through QUADSPI: the window at 0x9000_0000 is a bus
/// error until the algorithm's UnInit leaves memory-mapped mode on, then reads back the
/// image (and the CRC routine, run by the core, reads it there too). Also the virtual time
/// against the flash's own (W25Q64JV typical: 45 ms a 4 KB sector, 0.4 ms a page).
#[test]
fn an_external_flash_flm_writes_the_h750_qspi_flash() {
    let file = flm("w25q64_h750.flm");
    let mut algorithm = algo::Algorithm::new();
    algo::flm::load(&mut algorithm, &mut &file[..]).unwrap();
    let device = &algorithm.device;
    assert_eq!(
        (device.start, device.size, device.page_size, device.erased),
        (0x9000_0000, 0x80_0000, 256, 0xFF)
    );
    assert_eq!(
        device.sectors.as_slice(),
        [algo::SectorRun {
            size: 0x1000,
            offset: 0
        }]
    );
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let image = std::fs::read(top.join("build/firmware/h750-qspi-external.bin")).unwrap();

    // At SWCLK 4 MHz, as the other benchmarks.
    let (wire, clock) = virtual_wire::wire(Variant::Stm32h750vb, Some(4_000_000));
    let mut session = Session::new();
    assert_eq!(session.scan(wire, clock).unwrap().count(), 1);
    session.attach(1).unwrap();
    session.set_algorithm_slack(10);
    // After reset the QUADSPI is off: nothing answers at 0x9000_0000.
    assert!(session.read_memory(0x9000_0000, &mut [0; 4]).is_err());
    use_flm(&mut session, &file).unwrap();
    let map = session.memory_map().unwrap();
    assert!(map.regions().any(|region| region.start == 0x9000_0000
        && region.length == 0x80_0000
        && region.as_flash().is_some()));
    // First into the erased flash (nothing to erase), then the image over it.
    let inverted: Vec<u8> = image.iter().map(|byte| !byte).collect();
    let pc_before = session.read_register(15).unwrap();
    let into_erased = flash(&mut session, 0x9000_0000, &inverted);
    assert_eq!(read(&mut session, 0x9000_0000, image.len()), inverted);
    let over = flash(&mut session, 0x9000_0000, &image);
    assert_eq!(session.read_register(15).unwrap(), pc_before);
    assert_eq!(read(&mut session, 0x9000_0000, image.len()), image);
    let (crc, _) = session.crc32(0x9000_0000, image.len() as u32).unwrap();
    assert_eq!(crc, debug::crc::GDB_CRC.checksum(&image));

    let sectors = image.len().div_ceil(0x1000) as u64;
    let pages = |image: &[u8]| {
        image
            .chunks(256)
            .filter(|page| page.iter().any(|&byte| byte != 0xFF))
            .count() as u64
    };
    let programs = pages(&inverted) * 400_000;
    let erases_and_programs = sectors * 45_000_000 + pages(&image) * 400_000;
    let ms = |ns: u64| ns as f64 / 1e6;
    eprintln!(
        "H750 QSPI at SWCLK 4 MHz, {} bytes, virtual time (the flash's own time): into the \
         erased flash {:.1} ms ({:.1} ms of page programs); over other data {:.1} ms ({:.1} \
         ms: {sectors} sector erases and the page programs)",
        image.len(),
        ms(into_erased),
        ms(programs),
        ms(over),
        ms(erases_and_programs),
    );
    assert!(into_erased >= programs && over >= erases_and_programs);

    // Writing it again: every page already holds its data, nothing is erased.
    let again = flash(&mut session, 0x9000_0000, &image);
    assert!(again < programs, "{again} ns");
}

#[test]
fn probe_rs_stm32h7_algorithm_flashes_the_h743() {
    // ST's stm32h7x_2048 (from the STM32H7 pack): 128 KB sectors, both banks.
    flash_with_probe_rs(
        Variant::Stm32h743zi,
        "STM32H7_Series.yaml",
        "stm32h7x_2048",
        "firmware-f4.bin",
    );
}

/// A debug description's FlashInit and FlashUninit run around each operation of a flash
/// algorithm (spec: "before starting" and "after a flash operation finished"), with
/// `__FlashOp` the algorithm's Init code and `__FlashAddr`/`__FlashLen` the operation's
/// first call: the FLM's Init unlocks FLASH_CR and its UnInit locks it, so both sequences
/// must find it locked (FlashUninit after UnInit, FlashInit before Init).
#[test]
fn flash_sequences_run_around_each_algorithm_operation() {
    const DESCRIPTION: &str = r#"
sequence FlashInit {
  block {
    Message(0, "FlashInit %d %x %x lock %x", __FlashOp, __FlashAddr, __FlashLen, Read32(0x40022010) & 0x80);
  }
}
sequence FlashUninit {
  block {
    Message(0, "FlashUninit %d lock %x", __FlashOp, Read32(0x40022010) & 0x80);
  }
}
"#;
    let mut session = attached(Variant::Stm32f103cb);
    use_flm(&mut session, &flm("stm32f1.flm")).unwrap();
    session
        .load_sequences("", |text| {
            text.extend_from_slice(DESCRIPTION.as_bytes()).is_ok()
        })
        .unwrap();
    let first: Vec<u8> = (0..2048u32).map(|i| (i * 7) as u8).collect();
    let second: Vec<u8> = (0..2048u32).map(|i| (i * 13 + 1) as u8).collect();
    let pc = session.read_register(15).unwrap();
    flash(&mut session, 0x0800_0000, &first);
    flash(&mut session, 0x0800_0000, &second);
    assert_eq!(read(&mut session, 0x0800_0000, second.len()), second);
    assert_eq!(session.read_register(15).unwrap(), pc, "registers put back");
    let log = session.take_sequence_log();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        lines,
        [
            // Into the erased flash: one program operation.
            "FlashInit 2 8000000 400 lock 80",
            "FlashUninit 2 lock 80",
            // Over it: each page erased, then programmed.
            "FlashInit 1 8000000 400 lock 80",
            "FlashUninit 1 lock 80",
            "FlashInit 2 8000000 400 lock 80",
            "FlashUninit 2 lock 80",
            "FlashInit 1 8000400 400 lock 80",
            "FlashUninit 1 lock 80",
            "FlashInit 2 8000400 400 lock 80",
            "FlashUninit 2 lock 80",
        ]
    );
}
