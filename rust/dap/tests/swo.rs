//! DAP_SWO_* byte by byte, against a board with a UART SWO receiver (the mock) and one
//! without.

mod mock;

use mock::{Mock, ask, dap, dap_with};

fn with_swo() -> dap::Dap<'static, Mock> {
    dap_with(
        Mock {
            swo: Some(Default::default()),
            ..Mock::default()
        },
        512,
    )
}

fn receive(dap: &mut dap::Dap<'static, Mock>, bytes: &[u8]) {
    dap.wire().swo.as_mut().unwrap().extend(bytes);
}

#[test]
fn a_board_without_swo_leaves_the_commands_unimplemented() {
    let mut dap = dap();
    for request in [
        &[0x17, 1][..],
        &[0x18, 1],
        &[0x19, 0, 0, 0, 1],
        &[0x1A, 1],
        &[0x1B],
        &[0x1C, 64, 0],
        &[0x1E, 7],
    ] {
        assert_eq!(ask(&mut dap, request), [0xFF], "{request:02X?}");
    }
    assert_eq!(ask(&mut dap, &[0x00, 0xFD]), [0x00, 0x00]);
}

#[test]
fn capture_through_swo_data() {
    let mut dap = with_swo();
    // Capabilities: SWD, JTAG, SWO UART, atomic.
    assert_eq!(ask(&mut dap, &[0x00, 0xF0]), [0x00, 0x01, 0x17]);
    assert_eq!(
        ask(&mut dap, &[0x00, 0xFD]),
        [0x00, 0x04, 0x00, 0x04, 0x00, 0x00]
    );
    assert_eq!(ask(&mut dap, &[0x17, 1]), [0x17, 0x00]);
    assert_eq!(ask(&mut dap, &[0x17, 2]), [0x17, 0xFF]); // no streaming endpoint
    assert_eq!(ask(&mut dap, &[0x18, 2]), [0x18, 0xFF]); // no Manchester receiver
    assert_eq!(ask(&mut dap, &[0x18, 1]), [0x18, 0x00]);
    // 2 Mbit/s requested: 72 MHz / 36 exactly.
    assert_eq!(
        ask(&mut dap, &[0x19, 0x80, 0x84, 0x1E, 0x00]),
        [0x19, 0x80, 0x84, 0x1E, 0x00]
    );
    receive(&mut dap, b"stale"); // before start: flushed
    assert_eq!(ask(&mut dap, &[0x1A, 1]), [0x1A, 0x00]);
    receive(&mut dap, &[0x01, b'h', 0x01, b'i']);
    assert_eq!(ask(&mut dap, &[0x1B]), [0x1B, 0x01, 4, 0, 0, 0]);
    // Settings cannot change while capture runs.
    assert_eq!(ask(&mut dap, &[0x18, 0]), [0x18, 0xFF]);
    assert_eq!(ask(&mut dap, &[0x19, 1, 0, 0, 0]), [0x19, 0, 0, 0, 0]);
    // At most the count asked for.
    assert_eq!(
        ask(&mut dap, &[0x1C, 3, 0]),
        [0x1C, 0x01, 3, 0, 0x01, b'h', 0x01]
    );
    assert_eq!(ask(&mut dap, &[0x1C, 64, 0]), [0x1C, 0x01, 1, 0, b'i']);
    assert_eq!(ask(&mut dap, &[0x1C, 64, 0]), [0x1C, 0x01, 0, 0]);
    // Extended status: status, count, index (bytes since start) and a timestamp.
    let extended = ask(&mut dap, &[0x1E, 7]);
    assert_eq!(&extended[..10], [0x1E, 0x01, 0, 0, 0, 0, 4, 0, 0, 0]);
    assert_eq!(extended.len(), 14);
    assert_eq!(ask(&mut dap, &[0x1A, 0]), [0x1A, 0x00]);
    assert_eq!(ask(&mut dap, &[0x1B]), [0x1B, 0x00, 0, 0, 0, 0]);
}

#[test]
fn an_unread_buffer_overruns_and_says_so_once() {
    let mut dap = with_swo();
    ask(&mut dap, &[0x17, 1]);
    ask(&mut dap, &[0x18, 1]);
    ask(&mut dap, &[0x19, 0x80, 0x84, 0x1E, 0x00]);
    ask(&mut dap, &[0x1A, 1]);
    receive(&mut dap, &vec![0x55; 1500]);
    assert_eq!(ask(&mut dap, &[0x1B]), [0x1B, 0x81, 0x00, 0x04, 0, 0]);
    // 511 asked; a 512-byte packet holds 508 after the 4 header bytes.
    let data = ask(&mut dap, &[0x1C, 0xFF, 0x01]);
    assert_eq!(&data[..4], [0x1C, 0x81, 0xFC, 0x01]);
    assert_eq!(data.len(), 512);
    assert_eq!(ask(&mut dap, &[0x1B])[1], 0x01);
}

#[test]
fn bad_requests_are_refused() {
    let mut dap = with_swo();
    assert_eq!(ask(&mut dap, &[0x1A, 1]), [0x1A, 0xFF]); // no mode or rate yet
    assert_eq!(ask(&mut dap, &[0x18, 3]), [0x18, 0xFF]);
    assert_eq!(ask(&mut dap, &[0x1A, 2]), [0x1A, 0xFF]);
    assert_eq!(ask(&mut dap, &[0x19, 0, 0, 0, 0]), [0x19, 0, 0, 0, 0]);
    // Short requests.
    assert_eq!(ask(&mut dap, &[0x19, 1]), [0xFF]);
    assert_eq!(ask(&mut dap, &[0x1C, 1]), [0xFF]);
}
