//! DAP_UART_* byte by byte, against a board with a UART to the target (the mock) and one
//! without: every request checked before anything changes.

mod mock;

use mock::{Mock, MockUart, ask, dap, dap_with};

fn with_uart() -> dap::Dap<'static, Mock> {
    dap_with(
        Mock {
            uart: Some(MockUart::default()),
            ..Mock::default()
        },
        64,
    )
}

fn uart<'d>(dap: &'d mut dap::Dap<'static, Mock>) -> &'d mut MockUart {
    dap.wire().uart.as_mut().unwrap()
}

/// Transport 2, 8N1 at 115200 (72 MHz / 625 exactly), receive and transmit on.
fn running() -> dap::Dap<'static, Mock> {
    let mut dap = with_uart();
    assert_eq!(ask(&mut dap, &[0x1F, 2]), [0x1F, 0x00]);
    let baud = 115_200u32.to_le_bytes();
    assert_eq!(
        ask(&mut dap, &[0x20, 0x00, baud[0], baud[1], baud[2], baud[3]]),
        [0x20, 0x00, 0x00, 0xC2, 0x01, 0x00]
    );
    assert_eq!(ask(&mut dap, &[0x22, 0x11]), [0x22, 0x00]);
    dap
}

#[test]
fn a_board_without_a_uart_leaves_the_commands_unimplemented() {
    let mut dap = dap();
    for request in [
        &[0x1F, 2][..],
        &[0x20, 0, 0, 0xC2, 1, 0],
        &[0x21, 0, 0, 0, 0],
        &[0x22, 0x11],
        &[0x23],
    ] {
        assert_eq!(ask(&mut dap, request), [0xFF], "{request:02X?}");
    }
    assert_eq!(ask(&mut dap, &[0x00, 0xFB]), [0x00, 0x00]);
    assert_eq!(ask(&mut dap, &[0x00, 0xF0]), [0x00, 0x01, 0x13]);
}

#[test]
fn info_reports_the_uart_and_its_buffers() {
    let mut dap = with_uart();
    // Capabilities: SWD, JTAG, atomic, UART (bit 7).
    assert_eq!(ask(&mut dap, &[0x00, 0xF0]), [0x00, 0x01, 0x93]);
    assert_eq!(ask(&mut dap, &[0x00, 0xFB]), [0x00, 0x04, 0x00, 0x02, 0, 0]);
    assert_eq!(ask(&mut dap, &[0x00, 0xFC]), [0x00, 0x04, 0x00, 0x02, 0, 0]);
}

#[test]
fn text_both_ways_through_transfer() {
    let mut dap = running();
    uart(&mut dap).from_target.extend(b"hello\n");
    // Status: receive and transmit enabled, 6 bytes waiting, none to send.
    assert_eq!(ask(&mut dap, &[0x23]), [0x23, 0x11, 6, 0, 0, 0, 0, 0, 0, 0]);
    // Rx at most 4; Tx "hi".
    assert_eq!(
        ask(&mut dap, &[0x21, 4, 0, 2, 0, b'h', b'i']),
        [0x21, 0x11, 2, 0, 4, 0, b'h', b'e', b'l', b'l']
    );
    assert_eq!(uart(&mut dap).to_target, b"hi");
    assert_eq!(
        ask(&mut dap, &[0x21, 64, 0, 0, 0]),
        [0x21, 0x11, 0, 0, 2, 0, b'o', b'\n']
    );
    assert_eq!(
        ask(&mut dap, &[0x21, 64, 0, 0, 0]),
        [0x21, 0x11, 0, 0, 0, 0]
    );
}

#[test]
fn receive_is_limited_by_the_packet_size() {
    // 64-byte packets: status 1 + counts 4 + ID 1 leave 58 bytes of data.
    let mut dap = running();
    uart(&mut dap).from_target.extend([b'x'; 100]);
    let answer = ask(&mut dap, &[0x21, 0xFF, 0xFF, 0, 0]);
    assert_eq!(answer.len(), 64);
    assert_eq!(&answer[..6], [0x21, 0x11, 0, 0, 58, 0]);
    assert_eq!(ask(&mut dap, &[0x23])[2..6], [42, 0, 0, 0]);
}

#[test]
fn a_slow_line_keeps_bytes_in_the_transmit_buffer() {
    let mut dap = running();
    uart(&mut dap).takes = Some(0);
    let mut request = vec![0x21, 0, 0, 50, 0];
    request.extend([b'a'; 50]);
    assert_eq!(ask(&mut dap, &request), [0x21, 0x11, 50, 0, 0, 0]);
    // Tx Count: 50 not yet transmitted.
    assert_eq!(
        ask(&mut dap, &[0x23]),
        [0x23, 0x11, 0, 0, 0, 0, 50, 0, 0, 0]
    );
    uart(&mut dap).takes = None;
    assert_eq!(ask(&mut dap, &[0x23]), [0x23, 0x11, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(uart(&mut dap).to_target.len(), 50);
    // A flush drops what waits.
    uart(&mut dap).takes = Some(0);
    assert_eq!(ask(&mut dap, &request)[2..4], [50, 0]);
    assert_eq!(ask(&mut dap, &[0x22, 0x40]), [0x22, 0x00]);
    assert_eq!(ask(&mut dap, &[0x23])[6..8], [0, 0]);
}

#[test]
fn lost_bytes_and_line_errors_are_reported_once() {
    let mut dap = running();
    uart(&mut dap).from_target.extend([0u8; 600]);
    uart(&mut dap).errors = dap::UartErrors::FRAMING;
    // 512 kept, 88 lost; framing from the line.
    assert_eq!(
        ask(&mut dap, &[0x23]),
        [0x23, 0x11 | 0x02 | 0x04, 0, 2, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(ask(&mut dap, &[0x23])[1], 0x11);
}

#[test]
fn configure_refuses_formats_the_uart_cannot_do() {
    let mut dap = with_uart();
    let baud = 9600u32.to_le_bytes();
    let configure = |control: u8| [0x20, control, baud[0], baud[1], baud[2], baud[3]];
    // Before transport 2: every field refused.
    assert_eq!(ask(&mut dap, &configure(0)), [0x20, 0x07, 0, 0, 0, 0]);
    assert_eq!(ask(&mut dap, &[0x1F, 1]), [0x1F, 0xFF]); // no USB COM port
    assert_eq!(ask(&mut dap, &[0x1F, 3]), [0x1F, 0xFF]);
    assert_eq!(ask(&mut dap, &[0x1F, 2]), [0x1F, 0x00]);
    // Reserved encodings: data bits 9 (0x09), parity 3, stop bits 2.
    assert_eq!(ask(&mut dap, &configure(0x09))[1], 0x01);
    assert_eq!(ask(&mut dap, &configure(0x30))[1], 0x02);
    assert_eq!(ask(&mut dap, &configure(0x80))[1], 0x04);
    // The board cannot do 5 data bits, nor 8 with two stop bits.
    assert_eq!(ask(&mut dap, &configure(0x05))[1], 0x01);
    assert_eq!(ask(&mut dap, &configure(0x40))[1], 0x04);
    assert_eq!(uart(&mut dap).format, None);
    // Not configured: enabling refused.
    assert_eq!(ask(&mut dap, &[0x22, 0x01]), [0x22, 0xFF]);
    // 7E2 at 9600 works; a rate the UART cannot do answers 0 and stays unconfigured.
    assert_eq!(
        ask(&mut dap, &configure(0x07 | 1 << 4 | 1 << 6)),
        [0x20, 0, 0x80, 0x25, 0, 0]
    );
    let fast = 2_000_000u32.to_le_bytes();
    assert_eq!(
        ask(&mut dap, &[0x20, 0, fast[0], fast[1], fast[2], fast[3]]),
        [0x20, 0, 0, 0, 0, 0]
    );
    assert_eq!(ask(&mut dap, &[0x22, 0x01]), [0x22, 0xFF]);
    assert_eq!(ask(&mut dap, &configure(0)), [0x20, 0, 0x80, 0x25, 0, 0]);
    assert_eq!(ask(&mut dap, &[0x22, 0x01]), [0x22, 0x00]);
}

#[test]
fn control_checks_its_bits_and_disable_wins() {
    let mut dap = running();
    // Reserved bits 3 and 7.
    assert_eq!(ask(&mut dap, &[0x22, 0x08]), [0x22, 0xFF]);
    assert_eq!(ask(&mut dap, &[0x22, 0x80]), [0x22, 0xFF]);
    assert_eq!(ask(&mut dap, &[0x23])[1], 0x11);
    // Enable and disable together: disable.
    assert_eq!(ask(&mut dap, &[0x22, 0x03 | 0x30]), [0x22, 0x00]);
    assert_eq!(ask(&mut dap, &[0x23])[1], 0x00);
    // Disabled: nothing received, nothing accepted.
    uart(&mut dap).from_target.extend(b"late");
    assert_eq!(
        ask(&mut dap, &[0x21, 64, 0, 1, 0, b'x']),
        [0x21, 0x00, 0, 0, 0, 0]
    );
    assert!(uart(&mut dap).to_target.is_empty());
    // Receive enable flushes what came before.
    assert_eq!(ask(&mut dap, &[0x22, 0x01]), [0x22, 0x00]);
    assert_eq!(
        ask(&mut dap, &[0x21, 64, 0, 0, 0]),
        [0x21, 0x01, 0, 0, 0, 0]
    );
}

#[test]
fn short_requests_change_nothing() {
    let mut dap = running();
    uart(&mut dap).from_target.extend(b"kept");
    for request in [
        &[0x21, 4, 0, 3, 0, b'a'][..],
        &[0x21, 4],
        &[0x20, 0, 1],
        &[0x23],
    ] {
        let answer = ask(&mut dap, request);
        if request == [0x23] {
            continue;
        }
        assert!(answer == [0xFF], "{request:02X?}: {answer:02X?}");
    }
    assert_eq!(ask(&mut dap, &[0x1F]), [0x1F, 0xFF]);
    assert_eq!(ask(&mut dap, &[0x22]), [0x22, 0xFF]);
    assert!(uart(&mut dap).to_target.is_empty());
    assert_eq!(ask(&mut dap, &[0x21, 64, 0, 0, 0])[6..], *b"kept");
}
