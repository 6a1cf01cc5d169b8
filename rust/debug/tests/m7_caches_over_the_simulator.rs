//! The engine keeps the Cortex-M7's caches coherent with its memory writes and software
//! breakpoints (cortexm/src/cache.rs) against the simulated STM32H743, whose model hides a
//! debugger's write to cacheable RAM from the core until the maintenance operations a
//! debugger owes (sim/src/chip/cache.rs). With the maintenance left out, these fail.

mod common;

use common::simulated::{self, HostClock, Wire};
use debug::{BreakWatch, HaltReason, HaltStatus, Session};
use sim::chip::{Chip, Variant};

/// CCR with DC and IC (ARMv7-M B3.2.8).
const CCR: u32 = 0xE000_ED14;
const CACHES_ON: u32 = 1 << 16 | 1 << 17;
/// The H743's AXI SRAM: cacheable, unlike the TCMs.
const AXI_SRAM: u32 = 0x2400_0000;
const DATA: u32 = AXI_SRAM + 0x100;
/// ldr r0, [r1]; adds r0, #1; bkpt (ARMv7-M A7.7.43, A7.7.3, A7.7.17).
const PROGRAM: [u16; 3] = [0x6808, 0x3001, 0xBE00];

fn attached_h743() -> Session<Wire, HostClock> {
    simulated::attached(
        simulated::wire(Chip::new(Variant::Stm32h743zi), true),
        HostClock::slowed(10),
    )
}

fn bytes(halves: &[u16]) -> Vec<u8> {
    halves.iter().flat_map(|half| half.to_le_bytes()).collect()
}

fn run_from(session: &mut Session<Wire, HostClock>, pc: u32) -> HaltReason {
    session.write_register(15, pc | 1).unwrap();
    session.write_register(1, DATA).unwrap();
    session.resume(false).unwrap();
    for _ in 0..10_000 {
        if let HaltStatus::Halted(reason) = session.halt_poll().unwrap() {
            return reason;
        }
    }
    panic!("the core did not halt");
}

#[test]
fn memory_writes_reach_a_core_with_its_caches_on() {
    let mut session = attached_h743();
    session.write_memory(CCR, &CACHES_ON.to_le_bytes()).unwrap();
    // Code written with the caches on, then data the code loads.
    session.write_memory(AXI_SRAM, &bytes(&PROGRAM)).unwrap();
    session.write_memory(DATA, &41u32.to_le_bytes()).unwrap();
    assert!(matches!(
        run_from(&mut session, AXI_SRAM),
        HaltReason::Breakpoint { .. }
    ));
    assert_eq!(session.read_register(0).unwrap(), 42);
    // Again after the core ran (its lines may be cached again).
    session.write_memory(DATA, &99u32.to_le_bytes()).unwrap();
    run_from(&mut session, AXI_SRAM);
    assert_eq!(session.read_register(0).unwrap(), 100);
    let mut back = [0u8; 4];
    session.read_memory(DATA, &mut back).unwrap();
    assert_eq!(u32::from_le_bytes(back), 99);
}

#[test]
fn a_software_breakpoint_reaches_a_core_with_its_caches_on() {
    let mut session = attached_h743();
    session.write_memory(AXI_SRAM, &bytes(&PROGRAM)).unwrap();
    session.write_memory(DATA, &1u32.to_le_bytes()).unwrap();
    session.write_memory(CCR, &CACHES_ON.to_le_bytes()).unwrap();
    run_from(&mut session, AXI_SRAM); // the core has run: its lines are cached
    // A BKPT over `adds`: the core stops there, before the add.
    let at = AXI_SRAM + 2;
    session.set_breakwatch(BreakWatch::Software, at, 2).unwrap();
    assert_eq!(
        run_from(&mut session, AXI_SRAM),
        HaltReason::Breakpoint { address: at }
    );
    assert_eq!(session.read_register(0).unwrap(), 1);
    // Removed: the add runs again.
    session
        .clear_breakwatch(BreakWatch::Software, at, 2)
        .unwrap();
    run_from(&mut session, AXI_SRAM);
    assert_eq!(session.read_register(0).unwrap(), 2);
}

#[test]
fn flash_programming_invalidates_both_caches() {
    const FLASH: u32 = 0x0800_0000;
    const DCISW: u32 = 0xE000_EF60;
    const ICIALLU: u32 = 0xE000_EF50;
    let maintenance = |session: &mut Session<Wire, HostClock>| {
        let mut operations = Vec::new();
        session.with_transport(|swd| {
            operations = swd.pins().bus().cache_maintenance().to_vec();
        });
        operations
    };
    let mut session = attached_h743();
    let program = |session: &mut Session<Wire, HostClock>| {
        session.flash_erase(FLASH, 32).unwrap();
        session.flash_write(FLASH, &[0x5A; 32]).unwrap();
        session.flash_done().unwrap();
    };
    // Caches off: nothing to maintain.
    program(&mut session);
    assert_eq!(maintenance(&mut session), []);
    session.write_memory(CCR, &CACHES_ON.to_le_bytes()).unwrap();
    let before = maintenance(&mut session).len();
    program(&mut session);
    let done = maintenance(&mut session)[before..].to_vec();
    // The whole data cache by set and way (128 sets of 4 ways), then the instruction cache.
    let set_ways: Vec<u32> = done
        .iter()
        .filter(|(register, _)| *register == DCISW)
        .map(|&(_, operand)| operand)
        .collect();
    assert_eq!(set_ways.len(), 128 * 4);
    assert!(set_ways.contains(&(3 << 30 | 127 << 5)));
    assert_eq!(done.last(), Some(&(ICIALLU, 0)));
}
