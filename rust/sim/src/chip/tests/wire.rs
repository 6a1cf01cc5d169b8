//! The chip behind the debug port, driven bit by bit as a probe does: SW-DP, AHB-AP,
//! WAIT while the flash is busy.

use super::*;
use crate::port::Sim;
use ::wire::swd::Swd;
use ::wire::{Port, TransferError};

type Probe = Swd<Sim<Chip>>;

const DP_ABORT: u8 = 0x0;
const DP_CTRL_STAT: u8 = 0x4;
const DP_SELECT: u8 = 0x8;
const DP_RDBUFF: u8 = 0xC;
const AP_CSW: u8 = 0x00;
const AP_TAR: u8 = 0x04;
const AP_DRW: u8 = 0x0C;
/// CSW: 32-bit or 16-bit accesses, no auto-increment, DbgSwEnable, HPROT data.
const CSW_WORD: u32 = 0x2300_0002;
const CSW_HALF: u32 = 0x2300_0001;

fn retry<T>(mut access: impl FnMut() -> Result<T, TransferError>) -> T {
    for _ in 0..100_000 {
        match access() {
            Ok(value) => return value,
            Err(TransferError::Wait) => continue,
            Err(error) => panic!("SWD {error:?}"),
        }
    }
    panic!("WAIT for ever")
}

fn connect(chip: Chip) -> (Probe, u32) {
    let mut probe = Swd::new(Sim::new(chip));
    probe.switch_from_jtag();
    let dpidr = probe.read(Port::Dp, 0x0).unwrap();
    probe.write(Port::Dp, DP_ABORT, 0x1E).unwrap();
    probe.write(Port::Dp, DP_CTRL_STAT, 0x5000_0000).unwrap();
    assert_eq!(
        probe.read(Port::Dp, DP_CTRL_STAT).unwrap() >> 28,
        0xF,
        "powered up"
    );
    probe.write(Port::Dp, DP_SELECT, 0).unwrap();
    (probe, dpidr)
}

fn read_memory(probe: &mut Probe, address: u32) -> u32 {
    retry(|| probe.write(Port::Ap, AP_CSW, CSW_WORD));
    retry(|| probe.write(Port::Ap, AP_TAR, address));
    retry(|| probe.read(Port::Ap, AP_DRW));
    retry(|| probe.read(Port::Dp, DP_RDBUFF))
}

fn write_memory(probe: &mut Probe, address: u32, value: u32, csw: u32) {
    retry(|| probe.write(Port::Ap, AP_CSW, csw));
    retry(|| probe.write(Port::Ap, AP_TAR, address));
    retry(|| probe.write(Port::Ap, AP_DRW, value));
}

#[test]
fn a_probe_identifies_halts_and_programs_the_chip() {
    let chip = chip_with(&COUNTING_LOOP);
    let (mut probe, dpidr) = connect(chip);
    assert_eq!(dpidr, 0x1BA0_1477);
    assert_eq!(read_memory(&mut probe, 0xE000_ED00), 0x411F_C231);
    assert_eq!(read_memory(&mut probe, 0xE004_2000), 0x2003_6410);
    assert!(
        read_memory(&mut probe, COUNTER) > 0,
        "the core ran while the probe talked"
    );

    write_memory(&mut probe, DHCSR, DHCSR_KEY | C_DEBUGEN | C_HALT, CSW_WORD);
    assert_ne!(read_memory(&mut probe, DHCSR) & (1 << 17), 0, "S_HALT");

    write_memory(&mut probe, 0x4002_2004, 0x4567_0123, CSW_WORD);
    write_memory(&mut probe, 0x4002_2004, 0xCDEF_89AB, CSW_WORD);
    write_memory(&mut probe, 0x4002_2010, 1, CSW_WORD); // PG
    for index in 0..4 {
        // The second and later writes wait while the previous half-word programs.
        write_memory(
            &mut probe,
            0x0800_0800 + 2 * index,
            (0x1111 * (index + 1)) << (16 * (index & 1)),
            CSW_HALF,
        );
    }
    assert_eq!(read_memory(&mut probe, 0x0800_0800), 0x2222_1111);
    assert_eq!(read_memory(&mut probe, 0x0800_0804), 0x4444_3333);
    assert_eq!(read_memory(&mut probe, 0x4002_200C), 0x20, "EOP, no error");
}

#[test]
fn the_clone_answers_with_its_own_dpidr() {
    let (mut probe, dpidr) = connect(Chip::new(Variant::Cks32f103c8));
    assert_eq!(dpidr, 0x2BA0_1477);
    assert_eq!(read_memory(&mut probe, 0xE000_ED00), 0x412F_C231);
}
