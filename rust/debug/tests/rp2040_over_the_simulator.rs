//! The engine against the simulated RP2040, bit by bit over SWD multi-drop: the scan wakes
//! the dormant DPs and lists both Cortex-M0+ cores by TARGETSEL, either can be attached,
//! the RP2040 driver (chips::rp2040) erases and programs the QSPI flash through the boot
//! ROM's functions run on the attached core, and the core runs that flash through XIP,
//! breaks there on a BPU comparator and steps.

use adi::Clock;
use debug::{BreakWatch, HaltReason, HaltStatus, Session};
use sim::Sim;
use sim::chip::MultiCore;
use wire::swd::Swd;

type Wire = Swd<Sim<MultiCore>>;

struct HostClock(std::time::Instant);

impl Clock for HostClock {
    fn now_micros(&mut self) -> u64 {
        self.0.elapsed().as_micros() as u64
    }
}

const XIP: u32 = 0x1000_0000;
/// movs r0, #42; adds r0, #1; b . (Thumb)
const PROGRAM: [u8; 6] = [42, 0x20, 0x01, 0x30, 0xFE, 0xE7];

fn scanned() -> Session<Wire, HostClock> {
    let mut swd = Swd::new(Sim::new(MultiCore::rp2040()));
    swd.switch_from_jtag();
    let mut session = Session::new();
    let targets: Vec<_> = session
        .scan(swd, HostClock(std::time::Instant::now()))
        .unwrap()
        .map(|target| {
            (
                target.driver_name(),
                target.core_name(),
                target.target_select,
            )
        })
        .collect();
    assert_eq!(
        targets,
        [
            ("RP2040 core 0", "M0+", Some(0x0100_2927)),
            ("RP2040 core 1", "M0+", Some(0x1100_2927)),
        ]
    );
    session
}

fn statistics(session: &mut Session<Wire, HostClock>) -> sim::Statistics {
    let mut statistics = sim::Statistics::default();
    session.with_transport(|swd| statistics = swd.pins().statistics());
    statistics
}

fn session_frequency(session: &mut Session<Wire, HostClock>) -> u32 {
    let mut hz = 0;
    session.with_transport(|swd| hz = swd.pins().frequency());
    hz
}

fn wait_halt(session: &mut Session<Wire, HostClock>) -> HaltReason {
    for _ in 0..100_000 {
        if let HaltStatus::Halted(reason) = session.halt_poll().unwrap() {
            return reason;
        }
    }
    panic!("the core did not halt");
}

/// 70 KB: the program, then a pattern across sectors (the last one partly written).
fn image() -> Vec<u8> {
    let mut image: Vec<u8> = (0..70 * 1024u32).map(|n| (n * 7 + n / 256) as u8).collect();
    image[..PROGRAM.len()].copy_from_slice(&PROGRAM);
    image
}

#[test]
fn rp2040_scan_attach_either_core_flash_through_the_boot_rom_break_and_step() {
    let mut session = scanned();
    // Core 1 writes the flash through the boot ROM, reads it back through XIP.
    session.attach(2).unwrap();
    let mut id = [0u8; 4];
    session.read_memory(0xD000_0000, &mut id).unwrap();
    assert_eq!(u32::from_le_bytes(id), 1, "SIO CPUID of core 1");
    // r0-r12, SP and LR, each set to a value of its own: the loop and the ROM's
    // functions may change some, the session puts those back and leaves the others.
    for number in 0..15 {
        let value = 0x2000_0100 + 4 * number as u32;
        session.write_register(number, value).unwrap();
    }
    let registers_before: Vec<u32> = (0..15)
        .map(|number| session.read_register(number).unwrap())
        .collect();
    let image = image();
    let before = statistics(&mut session);
    session.flash_erase(XIP, image.len() as u32).unwrap();
    session.flash_write(XIP, &image).unwrap();
    session.flash_done().unwrap();
    let after = statistics(&mut session);
    eprintln!(
        "{} bytes erased and programmed through the boot ROM: {:.1} ms virtual at {} Hz, \
         {} SWD transactions (the ROM functions take no core time in the simulator)",
        image.len(),
        (after.virtual_time_ns - before.virtual_time_ns) as f64 / 1e6,
        session_frequency(&mut session),
        after.transactions - before.transactions,
    );
    let mut back = vec![0; image.len()];
    session.read_memory(XIP, &mut back).unwrap();
    assert!(back == image, "the flash holds the image");
    assert_eq!(
        (0..15)
            .map(|number| session.read_register(number).unwrap())
            .collect::<Vec<_>>(),
        registers_before,
        "registers restored"
    );
    let (crc, _) = session.crc32(XIP, image.len() as u32).unwrap();
    assert_eq!(crc, debug::crc::GDB_CRC.checksum(&image));

    // Core 0 runs it from XIP, breaks on the BPU at the second instruction, steps.
    session.attach(1).unwrap();
    session.read_memory(0xD000_0000, &mut id).unwrap();
    assert_eq!(u32::from_le_bytes(id), 0, "SIO CPUID of core 0");
    session.write_register(15, XIP).unwrap();
    session
        .set_breakwatch(BreakWatch::Software, XIP + 2, 2)
        .unwrap();
    session.resume(false).unwrap();
    assert_eq!(
        wait_halt(&mut session),
        HaltReason::Breakpoint { address: XIP + 2 }
    );
    assert_eq!(session.read_register(0).unwrap(), 42);
    // gdb takes its breakpoints out to step: one on the PC would halt the step at once.
    session
        .clear_breakwatch(BreakWatch::Software, XIP + 2, 2)
        .unwrap();
    session.resume(true).unwrap();
    assert_eq!(wait_halt(&mut session), HaltReason::Step);
    assert_eq!(session.read_register(15).unwrap(), XIP + 4);
    assert_eq!(session.read_register(0).unwrap(), 43);

    // erase_mass: the whole flash through flash_range_erase's 64 KB blocks.
    let mut out = String::new();
    session.chip_command("erase_mass", "", &mut out).unwrap();
    let mut word = [0u8; 4];
    session.read_memory(XIP, &mut word).unwrap();
    assert_eq!(word, [0xFF; 4]);
    session.read_memory(XIP + 0x1_1000, &mut word).unwrap();
    assert_eq!(word, [0xFF; 4]);
}

/// A flash function that does not come back to its BKPT (here: a breakpoint on
/// flash_range_program's entry) fails the write with the PC it stopped at; XIP is entered
/// again and the core's registers are put back; without the breakpoint the write works.
#[test]
fn rp2040_a_boot_rom_call_that_stops_elsewhere_is_a_clear_error() {
    let mut session = scanned();
    session.attach(1).unwrap();
    let mut pointer = [0u8; 2];
    session.read_memory(0x14, &mut pointer).unwrap();
    let mut table = [0u8; 32];
    session
        .read_memory(u16::from_le_bytes(pointer).into(), &mut table)
        .unwrap();
    let program_entry = table
        .chunks_exact(4)
        .find(|pair| pair[..2] == *b"RP")
        .map(|pair| u32::from(u16::from_le_bytes([pair[2], pair[3]])) & !1)
        .expect("flash_range_program in the table");
    let r4 = session.read_register(4).unwrap();
    session
        .set_breakwatch(BreakWatch::Hardware, program_entry, 2)
        .unwrap();
    session.flash_erase(XIP, 4096).unwrap();
    session.flash_write(XIP, &PROGRAM).unwrap();
    let error = session.flash_done().unwrap_err().to_string();
    assert!(
        error.contains("stopped before returning")
            && error.contains(&format!("{program_entry:08x}")),
        "{error}"
    );
    assert_eq!(session.read_register(4).unwrap(), r4, "registers restored");
    let mut word = [0u8; 4];
    session.read_memory(XIP, &mut word).unwrap();
    assert_eq!(
        word, [0xFF; 4],
        "erased, not programmed; XIP readable again"
    );
    session
        .clear_breakwatch(BreakWatch::Hardware, program_entry, 2)
        .unwrap();
    session.flash_erase(XIP, 4096).unwrap();
    session.flash_write(XIP, &PROGRAM).unwrap();
    session.flash_done().unwrap();
    session.read_memory(XIP, &mut word).unwrap();
    assert_eq!(word, PROGRAM[..4]);
}

/// One flash session per load (chips::Session): the ROM's loop keeps running, XIP off,
/// between the driver's calls; a read of flash while it is open ends it first and sees
/// the flash (in the simulator an XIP read with XIP off is a bus error), and the load
/// goes on after it.
#[test]
fn rp2040_a_read_of_flash_in_the_middle_of_a_load_sees_the_flash() {
    let mut session = scanned();
    session.attach(1).unwrap();
    let r4 = session.read_register(4).unwrap();
    let image = image();
    session.flash_erase(XIP, image.len() as u32).unwrap();
    // The first sector is programmed when the writes move on to the second.
    session.flash_write(XIP, &image[..8192]).unwrap();
    let mut back = vec![0; 4096];
    session.read_memory(XIP, &mut back).unwrap();
    assert!(back == image[..4096], "the first sector as programmed");
    session.flash_write(XIP + 8192, &image[8192..]).unwrap();
    session.flash_done().unwrap();
    let (crc, _) = session.crc32(XIP, image.len() as u32).unwrap();
    assert_eq!(crc, debug::crc::GDB_CRC.checksum(&image));
    assert_eq!(session.read_register(4).unwrap(), r4, "registers restored");

    // An erase too long to defer (more than 1 MiB) runs at once and leaves the session
    // open with nothing buffered: a read still ends it first.
    let long = 1024 * 1024 + 4096;
    session.flash_erase(XIP, long).unwrap();
    let mut word = [0u8; 4];
    session.read_memory(XIP + long - 4, &mut word).unwrap();
    assert_eq!(word, [0xFF; 4]);
    session.flash_done().unwrap();
    assert_eq!(session.read_register(4).unwrap(), r4, "registers restored");
}

/// Power lost and back between two operations on the multi-drop wire (both DPs dormant
/// again after power-up, ADIv5.2 B4.3.4): the next operation wakes them, selects the
/// attached core's TARGETSEL (core 1's, not the first DP's) and succeeds; the flash
/// written before holds its data, and a load after the power cycle reads back.
#[test]
fn rp2040_after_a_power_cycle_the_next_operations_reconnect_to_the_same_core() {
    let mut session = scanned();
    session.attach(2).unwrap();
    let image = image();
    let image = &image[..8192];
    session.flash_erase(XIP, image.len() as u32).unwrap();
    session.flash_write(XIP, image).unwrap();
    session.flash_done().unwrap();
    let power_cycle = |session: &mut Session<Wire, HostClock>| {
        session.with_transport(|swd| {
            let sim = swd.pins();
            sim.set_power(false);
            sim.idle(1_000_000);
            sim.set_power(true);
            sim.idle(10_000_000);
        })
    };
    power_cycle(&mut session);
    let mut back = vec![0; image.len()];
    session.read_memory(XIP, &mut back).unwrap();
    assert!(back == image, "the flash after the power cycle");
    let reconnected = session.reconnected().expect("a reconnect");
    assert_eq!(reconnected.dpidr, RP2040_DPIDR);
    let mut id = [0u8; 4];
    session.read_memory(0xD000_0000, &mut id).unwrap();
    assert_eq!(u32::from_le_bytes(id), 1, "SIO CPUID: still core 1");

    power_cycle(&mut session);
    let other: Vec<u8> = image.iter().map(|byte| byte ^ 0x5A).collect();
    session.flash_erase(XIP, other.len() as u32).unwrap();
    session.flash_write(XIP, &other).unwrap();
    session.flash_done().unwrap();
    session.read_memory(XIP, &mut back).unwrap();
    assert!(back == other, "the load after the second power cycle");
    let (crc, _) = session.crc32(XIP, other.len() as u32).unwrap();
    assert_eq!(crc, debug::crc::GDB_CRC.checksum(&other));
    session.read_memory(0xD000_0000, &mut id).unwrap();
    assert_eq!(u32::from_le_bytes(id), 1, "SIO CPUID: still core 1");
}

/// The RP2040's SW-DPs (DPv2, RP2040 datasheet 2.3.4.2).
const RP2040_DPIDR: u32 = 0x0BC1_2477;
