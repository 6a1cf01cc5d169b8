//! JTAG: DAP_JTAG_Sequence, DAP_JTAG_Configure, DAP_JTAG_IDCODE and transfers over a chain
//! of two TAPs as on an STM32F1: the ARM JTAG-DP (IR 4) nearest TDO, then the boundary
//! scan TAP (IR 5).

mod mock;

use dap::Dap;
use mock::*;

fn jtag() -> Dap<'static, Mock> {
    let mut dap = dap();
    assert_eq!(ask(&mut dap, &[0x02, 0x02]), [0x02, 0x02]);
    assert_eq!(ask(&mut dap, &[0x15, 0x02, 0x04, 0x05]), [0x15, 0x00]);
    // Test-Logic-Reset, then Run-Test/Idle.
    assert_eq!(
        ask(&mut dap, &[0x14, 0x02, 0x45, 0xFF, 0x01, 0x00]),
        [0x14, 0x00]
    );
    dap
}

/// The DP/AP accesses the JTAG-DP made, as (APnDP, RnW, address, value).
fn accesses(dap: &mut Dap<'_, Mock>) -> Vec<(bool, bool, u8, u32)> {
    std::mem::take(&mut dap.wire().jtag.accesses)
}

#[test]
fn chain_scan_with_jtag_sequences() {
    let mut dap = dap();
    assert_eq!(ask(&mut dap, &[0x02, 0x02]), [0x02, 0x02]);
    // Reset (5 x TMS 1), Idle (TMS 0), Select-DR (TMS 1), Capture-DR and Shift-DR (TMS 0
    // x 2), then 64 bits out with TDO captured (a count of 0 is 64).
    let request = [
        0x14, 0x05, 0x45, 0xFF, 0x01, 0x00, 0x41, 0x00, 0x02, 0x00, 0x80, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF,
    ];
    // Device 0 (nearest TDO) first: the ARM JTAG-DP, then the boundary scan TAP.
    let expected = bytes(&[&[0x14, 0x00], &word(ARM_IDCODE), &word(BOUNDARY_IDCODE)]);
    assert_eq!(ask(&mut dap, &request), expected);
}

#[test]
fn jtag_sequence_captures_per_sequence() {
    let mut dap = dap();
    // Shift-IR and capture 9 bits: the IRs capture 0b01 each (IEEE 1149.1 7.1.1), device
    // 0's 4 bits first, padded to whole bytes per sequence.
    let request = [
        0x14, 0x05, 0x45, 0xFF, 0x01, 0x00, 0x42, 0x00, 0x02, 0x00, 0x89, 0xFF, 0xFF,
    ];
    assert_eq!(ask(&mut dap, &request), [0x14, 0x00, 0b0001_0001, 0x00]);
}

#[test]
fn idcode_of_the_debug_port() {
    let mut dap = jtag();
    assert_eq!(
        ask(&mut dap, &[0x16, 0x00]),
        bytes(&[&[0x16, 0x00], &word(ARM_IDCODE)])
    );
    // The other device is in BYPASS.
    assert_eq!(dap.wire().jtag.taps[1].ir, 0b11111);
    assert_eq!(ask(&mut dap, &[0x16, 0x02]), [0x16, 0xFF]);
    // Not in JTAG mode: error.
    assert_eq!(ask(&mut dap, &[0x02, 0x01]), [0x02, 0x01]);
    assert_eq!(ask(&mut dap, &[0x16, 0x00]), [0x16, 0xFF]);
}

#[test]
fn jtag_configure_checks_the_chain() {
    let mut dap = dap();
    assert_eq!(ask(&mut dap, &[0x15, 0x02, 0x04, 0x00]), [0x15, 0xFF]);
    assert_eq!(
        ask(&mut dap, &[0x15, 0x09, 4, 4, 4, 4, 4, 4, 4, 4, 4]),
        [0x15, 0xFF]
    );
    assert_eq!(ask(&mut dap, &[0x15, 0x03, 0x04, 0x05]), [0x15, 0xFF]);
    assert_eq!(
        ask(&mut dap, &[0x15, 0x08, 4, 4, 4, 4, 4, 4, 4, 4]),
        [0x15, 0x00]
    );
    assert_eq!(ask(&mut dap, &[0x15, 0x00]), [0x15, 0x00]);
}

#[test]
fn dp_read_over_jtag_is_posted() {
    let mut dap = jtag();
    assert_eq!(
        ask(&mut dap, &[0x05, 0x00, 0x01, 0x02]),
        bytes(&[&[0x05, 0x01, 0x01], &word(0x1BA0_1477)])
    );
    // The DPIDR read, then RDBUFF to shift its result out (ADIv5.2 B3.3.3).
    assert_eq!(
        accesses(&mut dap),
        [(false, true, 0x0, 0x1BA0_1477), (false, true, 0xC, 0)]
    );
    assert_eq!(dap.wire().jtag.taps[0].ir, 0b1010);
    assert_eq!(dap.wire().jtag.taps[1].ir, 0b11111);
}

#[test]
fn memory_reads_and_writes_over_jtag() {
    let mut dap = jtag();
    let request = bytes(&[
        &[0x05, 0x00, 0x07, 0x08],
        &word(0),
        &[0x01],
        &word(0x2300_0012),
        &[0x05],
        &word(RAM_BASE),
        &[0x0D],
        &word(0xCAFE),
        &[0x05],
        &word(RAM_BASE),
        &[0x0F, 0x0F],
    ]);
    let second = dap.wire().target.memory[1];
    let expected = bytes(&[&[0x05, 0x07, 0x01], &word(0xCAFE), &word(second)]);
    assert_eq!(ask(&mut dap, &request), expected);
    assert_eq!(
        accesses(&mut dap),
        [
            (false, false, 0x8, 0),
            (true, false, 0x0, 0x2300_0012),
            (true, false, 0x4, RAM_BASE),
            (true, false, 0xC, 0xCAFE),
            (true, false, 0x4, RAM_BASE),
            (true, true, 0xC, 0xCAFE),
            (true, true, 0xC, second),
            (false, true, 0xC, 0),
        ]
    );
}

#[test]
fn wait_over_jtag() {
    let mut dap = jtag();
    assert_eq!(
        ask(&mut dap, &[0x04, 0x00, 0x03, 0x00, 0x00, 0x00]),
        [0x04, 0x00]
    );
    dap.wire().jtag.wait_scans = 3;
    assert_eq!(
        ask(&mut dap, &[0x05, 0x00, 0x01, 0x02]),
        bytes(&[&[0x05, 0x01, 0x01], &word(0x1BA0_1477)])
    );
    assert_eq!(accesses(&mut dap).len(), 2);
    dap.wire().jtag.wait_scans = 4;
    assert_eq!(ask(&mut dap, &[0x05, 0x00, 0x01, 0x02]), [0x05, 0x00, 0x02]);
    assert!(accesses(&mut dap).is_empty());
}

#[test]
fn value_match_over_jtag() {
    let mut dap = jtag();
    assert_eq!(
        ask(&mut dap, &[0x04, 0x00, 0x00, 0x00, 0x05, 0x00]),
        [0x04, 0x00]
    );
    dap.wire().target.power_up_reads = 2;
    let acks = CSYSPWRUPACK | CDBGPWRUPACK;
    let request = bytes(&[
        &[0x05, 0x00, 0x03, 0x04],
        &word(CSYSPWRUPREQ | CDBGPWRUPREQ),
        &[0x20],
        &word(acks),
        &[0x16],
        &word(acks),
    ]);
    assert_eq!(ask(&mut dap, &request), [0x05, 0x03, 0x01]);
}

#[test]
fn transfer_block_over_jtag() {
    let mut dap = jtag();
    let request = bytes(&[
        &[0x05, 0x00, 0x03, 0x08],
        &word(0),
        &[0x01],
        &word(0x2300_0012),
        &[0x05],
        &word(RAM_BASE + 8),
    ]);
    assert_eq!(ask(&mut dap, &request), [0x05, 0x03, 0x01]);
    let request = bytes(&[&[0x06, 0x00, 0x02, 0x00, 0x0D], &word(0x11), &word(0x22)]);
    assert_eq!(ask(&mut dap, &request), [0x06, 0x02, 0x00, 0x01]);
    assert_eq!(dap.wire().target.memory[2..4], [0x11, 0x22]);
    let request = bytes(&[&[0x05, 0x00, 0x01, 0x05], &word(RAM_BASE + 4)]);
    assert_eq!(ask(&mut dap, &request), [0x05, 0x01, 0x01]);
    let first = dap.wire().target.memory[1];
    let expected = bytes(&[
        &[0x06, 0x03, 0x00, 0x01],
        &word(first),
        &word(0x11),
        &word(0x22),
    ]);
    assert_eq!(ask(&mut dap, &[0x06, 0x00, 0x03, 0x00, 0x0F]), expected);
}

#[test]
fn off_the_chain() {
    let mut dap = jtag();
    assert_eq!(ask(&mut dap, &[0x05, 0x02, 0x01, 0x02]), [0x05, 0x00, 0x00]);
    assert_eq!(
        ask(&mut dap, &[0x06, 0x02, 0x01, 0x00, 0x02]),
        [0x06, 0x00, 0x00, 0x00]
    );
    assert_eq!(
        ask(&mut dap, &[0x08, 0x02, 0x1E, 0x00, 0x00, 0x00]),
        [0x08, 0xFF]
    );
}

#[test]
fn write_abort_over_jtag() {
    let mut dap = jtag();
    assert_eq!(
        ask(&mut dap, &[0x08, 0x00, 0x1E, 0x00, 0x00, 0x00]),
        [0x08, 0x00]
    );
    assert_eq!(dap.wire().target.abort, Some(0x1E));
    assert_eq!(dap.wire().jtag.taps[0].ir, 0b1000);
}

#[test]
fn idle_cycles_after_dr_scans() {
    let mut dap = jtag();
    assert_eq!(
        ask(&mut dap, &[0x04, 0x05, 0x00, 0x00, 0x00, 0x00]),
        [0x04, 0x00]
    );
    assert_eq!(
        ask(&mut dap, &[0x05, 0x00, 0x01, 0x02]),
        bytes(&[&[0x05, 0x01, 0x01], &word(0x1BA0_1477)])
    );
    assert_eq!(dap.wire().jtag.state, TapState::Idle);
}
