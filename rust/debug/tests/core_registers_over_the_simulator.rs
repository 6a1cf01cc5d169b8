//! The core layer's register file per core against the simulated parts, over SWD: the
//! FPU's d0-d15 and fpscr (ARMv7-M C1.6.3, REGSEL 0x40-0x5F and 0x21) offered and moved
//! on the Cortex-M4F and Cortex-M7, absent on the Cortex-M3 and M0+; the values the
//! debugger writes are the ones the core's FP instructions see, and the other way round.

mod common;

use common::simulated::{self, HostClock, Wire};
use cortexm::{D0, FPSCR, REGISTER_COUNT};
use debug::{HaltReason, HaltStatus, Session, TARGET_XML, TARGET_XML_FPU};
use sim::chip::{Chip, Variant};

/// CPACR (ARMv7-M B3.2.20): CP10 and CP11 full access, as software enables the FPU.
const CPACR: u32 = 0xE000_ED88;
const CPACR_FPU_FULL: u32 = 0xF << 20;
/// SRAM of every part here (DTCM on the H743).
const SRAM: u32 = 0x2000_0000;

fn attached(variant: Variant) -> Session<Wire, HostClock> {
    simulated::attached(
        simulated::wire(Chip::new(variant), true),
        HostClock::slowed(10),
    )
}

fn run_to_breakpoint(session: &mut Session<Wire, HostClock>) {
    session.resume(false).unwrap();
    for _ in 0..10_000 {
        if let HaltStatus::Halted(reason) = session.halt_poll().unwrap() {
            assert!(
                matches!(reason, HaltReason::Breakpoint { .. }),
                "{reason:?}"
            );
            return;
        }
    }
    panic!("the core did not reach the BKPT");
}

/// Thumb halfwords (little-endian) of: VMOV r0, s2; VMOV r1, s3; VMOV s4, r2; BKPT
/// (ARMv7-M A7.7.243 "VMOV (between ARM core register and single-precision register)":
/// 1110 1110 000 op Vn | Rt 1010 N 001 0000, Sn = Vn:N).
const PROGRAM: [u16; 7] = [0xEE11, 0x0A10, 0xEE11, 0x1A90, 0xEE02, 0x2A10, 0xBE00];

fn fpu_registers_move_both_ways(variant: Variant) {
    let mut session = attached(variant);
    assert_eq!(session.target_description(), TARGET_XML_FPU);
    assert_eq!(session.register_size(D0), Some(8));
    assert_eq!(session.register_size(D0 + 15), Some(8));
    assert_eq!(session.register_size(FPSCR), Some(4));
    assert_eq!(session.register_size(FPSCR + 1), None);
    session
        .write_memory(CPACR, &CPACR_FPU_FULL.to_le_bytes())
        .unwrap();

    // The debugger writes d1 (s2, s3) and fpscr; the core's VMOVs read s2 and s3.
    let value = 1.5f64;
    session
        .write_register_wide(D0 + 1, value.to_bits())
        .unwrap();
    assert_eq!(session.read_register_wide(D0 + 1).unwrap(), value.to_bits());
    session.write_register_wide(FPSCR, 0x0300_0000).unwrap(); // DN, FZ (A2.5.3)
    assert_eq!(session.read_register(FPSCR).unwrap(), 0x0300_0000);
    let code: Vec<u8> = PROGRAM.iter().flat_map(|half| half.to_le_bytes()).collect();
    session.write_memory(SRAM, &code).unwrap();
    session.write_register(15, SRAM | 1).unwrap();
    session.write_register(2, 0x4049_0FDB).unwrap(); // pi as a float
    run_to_breakpoint(&mut session);
    let bits = value.to_bits();
    assert_eq!(session.read_register(0).unwrap(), bits as u32);
    assert_eq!(session.read_register(1).unwrap(), (bits >> 32) as u32);
    // ... and the core's VMOV s4, r2 is the low half of d2.
    let d2 = session.read_register_wide(D0 + 2).unwrap();
    assert_eq!(d2 as u32, 0x4049_0FDB);
    assert_eq!(f32::from_bits(d2 as u32), std::f32::consts::PI);
    // A value too wide for a 32-bit register is refused, not cut.
    assert!(session.write_register_wide(FPSCR, 1 << 32).is_err());
}

#[test]
fn the_cortex_m4f_offers_its_fpu_registers() {
    fpu_registers_move_both_ways(Variant::Stm32f407vg);
}

#[test]
fn the_cortex_m7_offers_its_fpu_registers() {
    fpu_registers_move_both_ways(Variant::Stm32h743zi);
}

#[test]
fn cores_without_fpu_offer_no_fpu_registers() {
    for variant in [Variant::Stm32f103c8, Variant::Atsamd21g18a] {
        let mut session = attached(variant);
        assert_eq!(session.target_description(), TARGET_XML, "{variant:?}");
        assert_eq!(session.register_size(REGISTER_COUNT - 1), Some(4));
        assert_eq!(session.register_size(D0), None);
        assert!(session.read_register_wide(D0).is_err());
        assert!(session.read_register(FPSCR).is_err());
    }
}

fn statistics(session: &mut Session<Wire, HostClock>) -> sim::Statistics {
    let mut statistics = sim::Statistics::default();
    session.with_transport(|swd| statistics = swd.pins().statistics());
    statistics
}

/// gdb's `g` and `G` (the 19 word registers and the packed special ones: 20 transfers)
/// through the MEM-AP's banked data registers (ADIv5.2 C2.2.7), TAR at DHCSR once: a read
/// is DCRSR written, DHCSR and DCRDR read (posted, so RDBUFF brings the last) and the
/// CTRL/STAT check, 5 SWD transactions; a write DCRDR, DCRSR, DHCSR, RDBUFF, CTRL/STAT.
/// Through DRW with TAR at each register it was 12 a transfer.
#[test]
fn all_registers_take_five_transactions_a_transfer() {
    const TRANSFERS: u64 = 20;
    const PER_TRANSFER: u64 = 5;
    /// TAR, then SELECT to BD0-BD3's bank (after a memory read left it at DRW's).
    const SETUP: u64 = 2;
    let mut session = attached(Variant::Stm32f103c8);
    let mut values = [0u32; REGISTER_COUNT];
    for (number, value) in values.iter_mut().enumerate().take(13) {
        *value = (0x1111_1111 * number as u32) ^ 0xA5A5_0000;
    }
    session.read_memory(SRAM, &mut [0; 4]).unwrap(); // TAR and SELECT elsewhere
    let before = statistics(&mut session);
    session.write_registers(&values).unwrap();
    let written = statistics(&mut session).transactions - before.transactions;
    session.read_memory(SRAM, &mut [0; 4]).unwrap();
    let mut back = [0u32; REGISTER_COUNT];
    let before = statistics(&mut session);
    session.read_registers(&mut back).unwrap();
    let read = statistics(&mut session).transactions - before.transactions;
    assert_eq!(back[..13], values[..13]);
    assert_eq!(written, SETUP + TRANSFERS * PER_TRANSFER, "G");
    assert_eq!(read, SETUP + TRANSFERS * PER_TRANSFER, "g");
}
