//! STM32F1 option bytes through the whole engine against the simulated STM32F103: read,
//! erase (leaving RDP unprotected), program one byte, and the FPEC locked again after.

mod common;

use chips::stm32f1::{self, OptionBytes};
use common::simulated::{self, HostClock, Wire};
use debug::{Error, Session};
use sim::chip::{Chip, Variant};

const FLASH_CR: u32 = 0x4002_2010;
const CR_LOCK: u32 = 1 << 7;
const CR_OPTWRE: u32 = 1 << 9;
const OBR_RDPRT: u32 = 1 << 1;

/// The half-words as shipped: RDP 0xA5, every other byte 0xFF, each with its complement.
const AS_SHIPPED: [u16; 8] = [
    0x5AA5, 0x00FF, 0x00FF, 0x00FF, 0x00FF, 0x00FF, 0x00FF, 0x00FF,
];
/// After `erase_option_bytes`: RDP 0xA5 programmed, the rest erased.
const ERASED: [u16; 8] = [
    0x5AA5, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,
];

fn attached() -> Session<Wire, HostClock> {
    simulated::attached(
        simulated::wire(Chip::new(Variant::Stm32f103c8), false),
        HostClock::real_time(),
    )
}

fn option_bytes(session: &mut Session<Wire, HostClock>) -> Result<OptionBytes, Error> {
    session.with_chip(|_, mut memory| stm32f1::read_option_bytes(&mut memory))
}

fn erase_option_bytes(session: &mut Session<Wire, HostClock>) -> Result<(), Error> {
    session.with_chip(|_, mut memory| stm32f1::erase_option_bytes(&mut memory))
}

fn write_option_byte(
    session: &mut Session<Wire, HostClock>,
    index: usize,
    value: u8,
) -> Result<(), Error> {
    session.with_chip(|_, mut memory| stm32f1::write_option_byte(&mut memory, index, value))
}

fn read_word(session: &mut Session<Wire, HostClock>, address: u32) -> u32 {
    let mut word = [0u8; 4];
    session.read_memory(address, &mut word).unwrap();
    u32::from_le_bytes(word)
}

fn assert_locked(session: &mut Session<Wire, HostClock>) {
    let control = read_word(session, FLASH_CR);
    assert_eq!(
        control & (CR_LOCK | CR_OPTWRE),
        CR_LOCK,
        "CR 0x{control:08x}"
    );
}

#[test]
fn reads_the_option_bytes_as_shipped() {
    let mut session = attached();
    let options = option_bytes(&mut session).unwrap();
    assert_eq!(options.raw, AS_SHIPPED);
    assert_eq!(options.obr, 0x03FF_FFFC);
    assert_eq!(options.wrpr, 0xFFFF_FFFF);
    assert_eq!(options.byte(0), Some(0xA5));
    assert_eq!(options.byte(1), Some(0xFF));
    assert!(!options.read_protected());
    assert!(!options.load_error());
}

/// The family's `option` command, as `monitor option` and `target` run it.
#[test]
fn the_option_command_shows_and_erases_them() {
    let mut session = attached();
    assert_eq!(session.chip_commands()[0].name, "option");
    let mut text = String::new();
    session.chip_command("option", "", &mut text).unwrap();
    assert!(text.starts_with("0x1FFFF800: RDP   0x5AA5\n0x1FFFF802: USER  0x00FF\n"));
    assert!(
        text.ends_with("FLASH_OBR 0x03FFFFFC, FLASH_WRPR 0xFFFFFFFF\n"),
        "{text}"
    );
    text.clear();
    session.chip_command("option", "erase", &mut text).unwrap();
    assert!(text.contains("0x1FFFF802: USER  0xFFFF\n"), "{text}");
    assert_eq!(option_bytes(&mut session).unwrap().raw, ERASED);
    let usage = session.chip_command("option", "bogus", &mut text);
    assert_eq!(usage.unwrap_err().to_string(), "usage: option [erase]");
    assert!(session.chip_command("nonesuch", "", &mut text).is_err());
    assert_locked(&mut session);
}

#[test]
fn erase_leaves_rdp_unprotected_the_rest_erased_and_the_fpec_locked() {
    let mut session = attached();
    session.flash_erase(0x0800_0000, 1024).unwrap();
    session.flash_write(0x0800_0000, b"kept").unwrap();
    session.flash_done().unwrap();
    assert_locked(&mut session);

    erase_option_bytes(&mut session).unwrap();
    let options = option_bytes(&mut session).unwrap();
    assert_eq!(options.raw, ERASED);
    assert_eq!(options.byte(0), Some(0xA5));
    assert_eq!(options.byte(1), None, "erased");
    assert_eq!(options.obr, 0x03FF_FFFC, "OBR changes only at reset");
    assert_locked(&mut session);

    let mut data = [0u8; 4];
    session.read_memory(0x0800_0000, &mut data).unwrap();
    assert_eq!(&data, b"kept", "an unprotected chip keeps its flash");

    session.reset(true).unwrap();
    let options = option_bytes(&mut session).unwrap();
    assert_eq!(options.obr & OBR_RDPRT, 0, "not read protected after reset");
}

#[test]
fn writes_an_erased_option_byte_once() {
    let mut session = attached();
    erase_option_bytes(&mut session).unwrap();
    write_option_byte(&mut session, 2, 0x12).unwrap(); // Data0
    let options = option_bytes(&mut session).unwrap();
    assert_eq!(options.raw[2], 0xED12, "the FPEC adds the complement");
    assert_eq!(options.byte(2), Some(0x12));
    assert_locked(&mut session);

    let error = write_option_byte(&mut session, 2, 0x34).unwrap_err();
    assert_eq!(
        error,
        Error::Chip(chips::Error::Family {
            message: "option byte not erased: erase the option bytes first",
            address: Some(0x1FFF_F804)
        })
    );
    assert_locked(&mut session);
    assert_eq!(option_bytes(&mut session).unwrap().raw[2], 0xED12);

    assert_eq!(
        write_option_byte(&mut session, 8, 0).unwrap_err(),
        Error::Chip(chips::Error::Family {
            message: "no such option byte: they are numbered 0 (RDP) to 7 (WRP3)",
            address: None
        })
    );
}

#[test]
fn erasing_the_options_of_a_read_protected_chip_unprotects_it_and_erases_flash() {
    let mut session = attached();
    session.flash_erase(0x0800_0000, 1024).unwrap();
    session.flash_write(0x0800_0000, b"gone").unwrap();
    session.flash_done().unwrap();
    // Protect: erase the option bytes by hand and leave RDP erased (0xFF protects).
    erase_options_by_hand(&mut session);
    assert_eq!(option_bytes(&mut session).unwrap().raw, [0xFFFF; 8]);
    session.reset(true).unwrap();
    assert!(option_bytes(&mut session).unwrap().read_protected());
    // Flash work is refused, naming the command that lifts the protection.
    let protected = Error::Chip(chips::Error::Protected {
        what: "RDP: read protection",
        command: "option erase",
    });
    assert_eq!(session.flash_erase(0x0800_0000, 1024), Err(protected));
    assert_eq!(session.flash_mass_erase(), Err(protected));

    erase_option_bytes(&mut session).unwrap();
    assert_locked(&mut session);
    let mut data = [0u8; 4];
    session.read_memory(0x0800_0000, &mut data).unwrap();
    assert_eq!(
        data, [0xFF; 4],
        "lifting read protection mass-erases the flash"
    );
    session.reset(true).unwrap();
    let options = option_bytes(&mut session).unwrap();
    assert_eq!(options.raw, ERASED);
    assert!(!options.read_protected());
}

/// FPEC and OPTKEYR keys, OPTER and STRT (PM0075 2.5), written as plain memory writes.
fn erase_options_by_hand(session: &mut Session<Wire, HostClock>) {
    let write = |session: &mut Session<Wire, HostClock>, address: u32, value: u32| {
        session.write_memory(address, &value.to_le_bytes()).unwrap()
    };
    for key in [0x4567_0123, 0xCDEF_89AB] {
        write(session, 0x4002_2004, key);
    }
    for key in [0x4567_0123, 0xCDEF_89AB] {
        write(session, 0x4002_2008, key);
    }
    write(session, FLASH_CR, CR_OPTWRE | 1 << 5);
    write(session, FLASH_CR, CR_OPTWRE | 1 << 5 | 1 << 6);
    while read_word(session, 0x4002_200C) & 1 != 0 {}
    write(session, FLASH_CR, CR_LOCK);
}
