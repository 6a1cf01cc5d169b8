//! DAP_Transfer, DAP_TransferBlock and DAP_WriteABORT over SWD, checked byte by byte and
//! against the mock's exact transaction list.

mod mock;

use dap::{Config, Dap, Port, TransferError};
use mock::*;

use Port::{Ap, Dp};

const CSW_WORD_INCREMENT: u32 = 0x2300_0012;
const CSW_WORD_FIXED: u32 = 0x2300_0002;

/// Transfer request bytes (CMSIS-DAP DAP_Transfer): APnDP, RnW, A[3:2].
const DP_READ_IDR: u8 = 0x02;
const DP_READ_CTRL: u8 = 0x06;
const DP_WRITE_CTRL: u8 = 0x04;
const DP_WRITE_SELECT: u8 = 0x08;
const AP_WRITE_CSW: u8 = 0x01;
const AP_WRITE_TAR: u8 = 0x05;
const AP_WRITE_DRW: u8 = 0x0D;
const AP_READ_CSW: u8 = 0x03;
const AP_READ_DRW: u8 = 0x0F;
const MATCH_VALUE: u8 = 0x10;
const MATCH_MASK_WRITE: u8 = 0x20;
const TIMESTAMP: u8 = 0x80;

/// Transfers that select AP 0 bank 0, set CSW and point TAR at `address`.
fn setup(csw: u32, address: u32) -> Vec<u8> {
    bytes(&[
        &[DP_WRITE_SELECT],
        &word(0),
        &[AP_WRITE_CSW],
        &word(csw),
        &[AP_WRITE_TAR],
        &word(address),
    ])
}

fn ram(dap: &mut Dap<'_, Mock>, index: usize) -> [u8; 4] {
    word(dap.wire().target.memory[index])
}

#[test]
fn dp_read() {
    let mut dap = swd();
    assert_eq!(
        ask(&mut dap, &[0x05, 0x00, 0x01, DP_READ_IDR]),
        bytes(&[&[0x05, 0x01, 0x01], &word(DPIDR)])
    );
    assert_eq!(dap.wire().requests(), [(Dp, true, 0x0)]);
}

#[test]
fn posted_ap_reads_are_pipelined() {
    let mut dap = swd();
    let request = bytes(&[
        &[0x05, 0x00, 6],
        &setup(CSW_WORD_INCREMENT, RAM_BASE),
        &[AP_READ_DRW, AP_READ_DRW, AP_READ_DRW],
    ]);
    let expected = bytes(&[
        &[0x05, 6, 0x01],
        &ram(&mut dap, 0),
        &ram(&mut dap, 1),
        &ram(&mut dap, 2),
    ]);
    assert_eq!(ask(&mut dap, &request), expected);
    // Three AP reads, each returning the one before; the last value from RDBUFF.
    assert_eq!(
        dap.wire().requests(),
        [
            (Dp, false, 0x8),
            (Ap, false, 0x0),
            (Ap, false, 0x4),
            (Ap, true, 0xC),
            (Ap, true, 0xC),
            (Ap, true, 0xC),
            (Dp, true, 0xC),
        ]
    );
}

#[test]
fn a_dp_read_fetches_the_posted_ap_read_first() {
    let mut dap = swd();
    let request = [0x05, 0x00, 2, AP_READ_CSW, DP_READ_CTRL];
    let expected = bytes(&[&[0x05, 2, 0x01], &word(0x12), &word(0)]);
    assert_eq!(ask(&mut dap, &request), expected);
    assert_eq!(
        dap.wire().requests(),
        [(Ap, true, 0x0), (Dp, true, 0xC), (Dp, true, 0x4)]
    );
}

#[test]
fn the_last_write_is_checked_with_rdbuff() {
    let mut dap = swd();
    let request = bytes(&[
        &[0x05, 0x00, 4],
        &setup(CSW_WORD_INCREMENT, RAM_BASE),
        &[AP_WRITE_DRW],
        &word(7),
    ]);
    assert_eq!(ask(&mut dap, &request), [0x05, 4, 0x01]);
    assert_eq!(dap.wire().target.memory[0], 7);
    assert_eq!(
        dap.wire().requests(),
        [
            (Dp, false, 0x8),
            (Ap, false, 0x0),
            (Ap, false, 0x4),
            (Ap, false, 0xC),
            (Dp, true, 0xC)
        ]
    );
    // A write followed by a read needs no check.
    dap.wire().events.clear();
    let request = bytes(&[&[0x05, 0x00, 2, DP_WRITE_SELECT], &word(0), &[DP_READ_IDR]]);
    assert_eq!(
        ask(&mut dap, &request),
        bytes(&[&[0x05, 2, 0x01], &word(DPIDR)])
    );
    assert_eq!(dap.wire().requests(), [(Dp, false, 0x8), (Dp, true, 0x0)]);
}

#[test]
fn the_check_write_reports_a_write_fault() {
    let mut dap = swd();
    // Writing past the RAM sets STICKYERR; the RDBUFF check answers FAULT. The write
    // itself was acknowledged, so it counts.
    let request = bytes(&[
        &[0x05, 0x00, 4],
        &setup(CSW_WORD_INCREMENT, RAM_BASE + 4 * RAM_WORDS as u32),
        &[AP_WRITE_DRW],
        &word(7),
    ]);
    assert_eq!(ask(&mut dap, &request), [0x05, 4, 0x04]);
    assert_eq!(
        dap.wire().transactions().last().unwrap().error,
        Some(TransferError::Fault)
    );
}

#[test]
fn wait_is_retried_up_to_the_configured_count() {
    let mut dap = swd();
    // WAIT retry 2: three attempts.
    assert_eq!(
        ask(&mut dap, &[0x04, 0x00, 0x02, 0x00, 0x00, 0x00]),
        [0x04, 0x00]
    );
    dap.wire().events.clear();
    dap.wire().fail_at(0, TransferError::Wait);
    dap.wire().fail_at(1, TransferError::Wait);
    assert_eq!(
        ask(&mut dap, &[0x05, 0x00, 0x01, DP_READ_IDR]),
        bytes(&[&[0x05, 0x01, 0x01], &word(DPIDR)])
    );
    assert_eq!(dap.wire().requests(), [(Dp, true, 0x0); 3]);
    // Three WAITs: given up, WAIT reported, nothing completed.
    dap.wire().events.clear();
    for index in 0..3 {
        dap.wire().fail_at(index, TransferError::Wait);
    }
    assert_eq!(
        ask(&mut dap, &[0x05, 0x00, 0x02, DP_READ_IDR, DP_READ_IDR]),
        [0x05, 0x00, 0x02]
    );
    assert_eq!(dap.wire().requests(), [(Dp, true, 0x0); 3]);
}

#[test]
fn fault_stops_the_run() {
    let mut dap = swd();
    dap.wire().fail_at(1, TransferError::Fault);
    let request = bytes(&[
        &[0x05, 0x00, 0x03, DP_READ_IDR, DP_WRITE_SELECT],
        &word(0),
        &[DP_READ_IDR],
    ]);
    assert_eq!(
        ask(&mut dap, &request),
        bytes(&[&[0x05, 0x01, 0x04], &word(DPIDR)])
    );
    // No retry on FAULT, nothing after it, no RDBUFF check.
    assert_eq!(dap.wire().requests(), [(Dp, true, 0x0), (Dp, false, 0x8)]);
}

#[test]
fn a_fault_from_a_posted_read_drops_its_data() {
    let mut dap = swd();
    // Three reads from the last RAM word on: the second read's memory access fails and
    // the third transaction answers FAULT. Only the first read has its data.
    let last = RAM_WORDS - 1;
    let request = bytes(&[
        &[0x05, 0x00, 6],
        &setup(CSW_WORD_INCREMENT, RAM_BASE + 4 * last as u32),
        &[AP_READ_DRW, AP_READ_DRW, AP_READ_DRW],
    ]);
    let expected = bytes(&[&[0x05, 4, 0x04], &ram(&mut dap, last)]);
    assert_eq!(ask(&mut dap, &request), expected);
    let transactions = dap.wire().transactions();
    assert_eq!(transactions.len(), 6);
    assert_eq!(transactions[5].error, Some(TransferError::Fault));
}

#[test]
fn no_ack_and_parity_errors() {
    let mut dap = swd();
    dap.wire().fail_at(0, TransferError::NoResponse);
    assert_eq!(
        ask(&mut dap, &[0x05, 0x00, 0x01, DP_READ_IDR]),
        [0x05, 0x00, 0x07]
    );
    dap.wire().fail_at(0, TransferError::Parity);
    assert_eq!(
        ask(&mut dap, &[0x05, 0x00, 0x01, DP_READ_IDR]),
        [0x05, 0x00, 0x08]
    );
    // A posted read's data lost to a parity error on RDBUFF: not counted.
    dap.wire().fail_at(1, TransferError::Parity);
    assert_eq!(
        ask(&mut dap, &[0x05, 0x00, 0x01, AP_READ_CSW]),
        [0x05, 0x00, 0x08]
    );
}

#[test]
fn value_match_retries_until_the_power_up_acks() {
    let mut dap = swd();
    // Match retry 5; the ACK bits appear on the fourth CTRL/STAT read.
    assert_eq!(
        ask(&mut dap, &[0x04, 0x00, 0x00, 0x00, 0x05, 0x00]),
        [0x04, 0x00]
    );
    dap.wire().target.power_up_reads = 3;
    dap.wire().events.clear();
    let acks = CSYSPWRUPACK | CDBGPWRUPACK;
    let request = bytes(&[
        &[0x05, 0x00, 0x03, DP_WRITE_CTRL],
        &word(CSYSPWRUPREQ | CDBGPWRUPREQ),
        &[MATCH_MASK_WRITE],
        &word(acks),
        &[DP_READ_CTRL | MATCH_VALUE],
        &word(acks),
    ]);
    // No data for a match read.
    assert_eq!(ask(&mut dap, &request), [0x05, 0x03, 0x01]);
    // The mask write makes no transaction.
    assert_eq!(
        dap.wire().requests(),
        [
            (Dp, false, 0x4),
            (Dp, true, 0x4),
            (Dp, true, 0x4),
            (Dp, true, 0x4),
            (Dp, true, 0x4)
        ]
    );
}

#[test]
fn value_mismatch_after_the_match_retries() {
    let mut dap = swd();
    assert_eq!(
        ask(&mut dap, &[0x04, 0x00, 0x00, 0x00, 0x02, 0x00]),
        [0x04, 0x00]
    );
    dap.wire().target.power_up_reads = 10;
    let acks = CSYSPWRUPACK | CDBGPWRUPACK;
    let request = bytes(&[
        &[0x05, 0x00, 0x04, DP_WRITE_CTRL],
        &word(CSYSPWRUPREQ | CDBGPWRUPREQ),
        &[MATCH_MASK_WRITE],
        &word(acks),
        &[DP_READ_CTRL | MATCH_VALUE],
        &word(acks),
        &[DP_READ_IDR],
    ]);
    dap.wire().events.clear();
    // Count 2 (write, mask), value OK | mismatch; the DPIDR read is skipped.
    assert_eq!(ask(&mut dap, &request), [0x05, 0x02, 0x11]);
    assert_eq!(
        dap.wire().requests(),
        [
            (Dp, false, 0x4),
            (Dp, true, 0x4),
            (Dp, true, 0x4),
            (Dp, true, 0x4)
        ]
    );
}

#[test]
fn value_match_on_an_ap_register_posts_first() {
    let mut dap = swd();
    let request = bytes(&[
        &[0x05, 0x00, 5],
        &setup(CSW_WORD_FIXED, RAM_BASE + 4),
        &[MATCH_MASK_WRITE],
        &word(0xFFFF_FFFF),
        &[AP_READ_DRW | MATCH_VALUE],
        &word(0x1000_0001),
    ]);
    assert_eq!(ask(&mut dap, &request), [0x05, 5, 0x01]);
    assert_eq!(
        &dap.wire().requests()[3..],
        [(Ap, true, 0xC), (Ap, true, 0xC)]
    );
}

#[test]
fn timestamps_come_before_their_data() {
    let mut config = Config::new(512);
    config.timestamp_hz = Some(1_000_000);
    let mut dap = Dap::new(Mock::default(), config).unwrap();
    assert_eq!(ask(&mut dap, &[0x02, 0x01]), [0x02, 0x01]);
    dap.wire().events.clear();
    let request = bytes(&[
        &[0x05, 0x00, 0x04],
        &[
            DP_READ_IDR | TIMESTAMP,
            AP_READ_CSW | TIMESTAMP,
            AP_READ_CSW | TIMESTAMP,
        ],
        &[DP_WRITE_SELECT | TIMESTAMP],
        &word(0),
    ]);
    // The mock's timer counts 1, 2, 3, 4 at the calls.
    let expected = bytes(&[
        &[0x05, 0x04, 0x01],
        &word(1),
        &word(DPIDR),
        &word(2),
        &word(0x12),
        &word(3),
        &word(0x12),
        &word(4),
    ]);
    assert_eq!(ask(&mut dap, &request), expected);
    assert_eq!(
        dap.wire().requests(),
        [
            (Dp, true, 0x0),
            (Ap, true, 0x0),
            (Ap, true, 0x0),
            (Dp, true, 0xC),
            (Dp, false, 0x8),
            (Dp, true, 0xC)
        ]
    );
}

#[test]
fn timestamp_bit_is_ignored_without_a_timer() {
    let mut dap = swd();
    assert_eq!(
        ask(&mut dap, &[0x05, 0x00, 0x01, DP_READ_IDR | TIMESTAMP]),
        bytes(&[&[0x05, 0x01, 0x01], &word(DPIDR)])
    );
}

#[test]
fn not_connected() {
    let mut dap = dap();
    assert_eq!(
        ask(&mut dap, &[0x05, 0x00, 0x01, DP_READ_IDR]),
        [0x05, 0x00, 0x00]
    );
    assert_eq!(
        ask(&mut dap, &[0x06, 0x00, 0x01, 0x00, DP_READ_IDR]),
        [0x06, 0x00, 0x00, 0x00]
    );
    assert_eq!(
        ask(&mut dap, &[0x08, 0x00, 0x1E, 0x00, 0x00, 0x00]),
        [0x08, 0xFF]
    );
    assert!(dap.wire().events.is_empty());
}

#[test]
fn count_zero_does_nothing() {
    let mut dap = swd();
    assert_eq!(ask(&mut dap, &[0x05, 0x00, 0x00]), [0x05, 0x00, 0x00]);
    assert_eq!(
        ask(&mut dap, &[0x06, 0x00, 0x00, 0x00, AP_READ_DRW]),
        [0x06, 0x00, 0x00, 0x00]
    );
    assert!(dap.wire().events.is_empty());
}

#[test]
fn write_abort() {
    let mut dap = swd();
    assert_eq!(
        ask(&mut dap, &[0x08, 0x00, 0x1E, 0x00, 0x00, 0x00]),
        [0x08, 0x00]
    );
    assert_eq!(dap.wire().target.abort, Some(0x1E));
    assert_eq!(dap.wire().requests(), [(Dp, false, 0x0)]);
    dap.wire().fail_at(0, TransferError::NoResponse);
    assert_eq!(
        ask(&mut dap, &[0x08, 0x00, 0x1E, 0x00, 0x00, 0x00]),
        [0x08, 0xFF]
    );
}

#[test]
fn block_reads_are_pipelined() {
    let mut dap = swd();
    let request = bytes(&[&[0x05, 0x00, 3], &setup(CSW_WORD_INCREMENT, RAM_BASE)]);
    assert_eq!(ask(&mut dap, &request), [0x05, 3, 0x01]);
    dap.wire().events.clear();
    let expected = bytes(&[
        &[0x06, 0x04, 0x00, 0x01],
        &ram(&mut dap, 0),
        &ram(&mut dap, 1),
        &ram(&mut dap, 2),
        &ram(&mut dap, 3),
    ]);
    assert_eq!(
        ask(&mut dap, &[0x06, 0x00, 0x04, 0x00, AP_READ_DRW]),
        expected
    );
    assert_eq!(
        dap.wire().requests(),
        [
            (Ap, true, 0xC),
            (Ap, true, 0xC),
            (Ap, true, 0xC),
            (Ap, true, 0xC),
            (Dp, true, 0xC)
        ]
    );
}

#[test]
fn block_dp_reads_are_direct() {
    let mut dap = swd();
    let expected = bytes(&[&[0x06, 0x02, 0x00, 0x01], &word(DPIDR), &word(DPIDR)]);
    assert_eq!(
        ask(&mut dap, &[0x06, 0x00, 0x02, 0x00, DP_READ_IDR]),
        expected
    );
    assert_eq!(dap.wire().requests(), [(Dp, true, 0x0); 2]);
}

#[test]
fn block_writes_then_check() {
    let mut dap = swd();
    let request = bytes(&[&[0x05, 0x00, 3], &setup(CSW_WORD_INCREMENT, RAM_BASE + 8)]);
    assert_eq!(ask(&mut dap, &request), [0x05, 3, 0x01]);
    dap.wire().events.clear();
    let request = bytes(&[
        &[0x06, 0x00, 0x03, 0x00, AP_WRITE_DRW],
        &word(0xA),
        &word(0xB),
        &word(0xC),
    ]);
    assert_eq!(ask(&mut dap, &request), [0x06, 0x03, 0x00, 0x01]);
    assert_eq!(dap.wire().target.memory[2..5], [0xA, 0xB, 0xC]);
    assert_eq!(
        dap.wire().requests(),
        [
            (Ap, false, 0xC),
            (Ap, false, 0xC),
            (Ap, false, 0xC),
            (Dp, true, 0xC)
        ]
    );
}

#[test]
fn block_read_fault_past_the_ram() {
    let mut dap = swd();
    let last = RAM_WORDS - 1;
    let request = bytes(&[
        &[0x05, 0x00, 3],
        &setup(CSW_WORD_INCREMENT, RAM_BASE + 4 * last as u32),
    ]);
    assert_eq!(ask(&mut dap, &request), [0x05, 3, 0x01]);
    let expected = bytes(&[&[0x06, 0x01, 0x00, 0x04], &ram(&mut dap, last)]);
    assert_eq!(
        ask(&mut dap, &[0x06, 0x00, 0x03, 0x00, AP_READ_DRW]),
        expected
    );
}

#[test]
fn block_write_wait_exhausted() {
    let mut dap = swd();
    assert_eq!(
        ask(&mut dap, &[0x04, 0x00, 0x00, 0x00, 0x00, 0x00]),
        [0x04, 0x00]
    );
    dap.wire().events.clear();
    dap.wire().fail_at(1, TransferError::Wait);
    let request = bytes(&[
        &[0x06, 0x00, 0x03, 0x00, DP_WRITE_SELECT],
        &word(1),
        &word(2),
        &word(3),
    ]);
    assert_eq!(ask(&mut dap, &request), [0x06, 0x01, 0x00, 0x02]);
    assert_eq!(dap.wire().requests(), [(Dp, false, 0x8); 2]);
}

#[test]
fn block_read_must_fit_the_response() {
    let mut dap = swd();
    // 512-byte packets: ID, count, value and 127 words fit; 128 words do not.
    let response = ask(&mut dap, &[0x06, 0x00, 127, 0x00, DP_READ_IDR]);
    assert_eq!(response.len(), 512);
    assert_eq!(&response[..4], [0x06, 127, 0x00, 0x01]);
    dap.wire().events.clear();
    assert_eq!(ask(&mut dap, &[0x06, 0x00, 128, 0x00, DP_READ_IDR]), [0xFF]);
    assert!(dap.wire().events.is_empty());
}

#[test]
fn transfer_abort_stops_between_transfers() {
    let mut dap = swd();
    // A stale abort from before the command is dropped.
    dap.wire().abort_flag = true;
    dap.wire().abort_after = Some(2);
    let request = [
        0x05,
        0x00,
        0x04,
        DP_READ_IDR,
        DP_READ_IDR,
        DP_READ_IDR,
        DP_READ_IDR,
    ];
    let expected = bytes(&[&[0x05, 0x02, 0x01], &word(DPIDR), &word(DPIDR)]);
    assert_eq!(ask(&mut dap, &request), expected);
    dap.wire().events.clear();
    dap.wire().abort_after = Some(3);
    let expected = bytes(&[
        &[0x06, 0x03, 0x00, 0x01],
        &word(DPIDR),
        &word(DPIDR),
        &word(DPIDR),
    ]);
    assert_eq!(
        ask(&mut dap, &[0x06, 0x00, 0x05, 0x00, DP_READ_IDR]),
        expected
    );
}
