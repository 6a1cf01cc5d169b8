//! Bad input: short, inconsistent and oversized requests get an error reply, never a read
//! past the request or a write past the response; the wire is left alone.

mod mock;

use dap::{Error, request_length};
use mock::*;

#[test]
fn empty_request_and_tiny_response_buffers() {
    let mut dap = dap();
    assert_eq!(dap.process(&[], &mut [0u8; 64]), Err(Error::EmptyRequest));
    assert_eq!(
        dap.process(&[0x00, 0x04], &mut [0u8; 1]),
        Err(Error::ResponseBuffer)
    );
    assert_eq!(
        dap.process(&[0x00, 0x04], &mut []),
        Err(Error::ResponseBuffer)
    );
}

#[test]
fn short_requests() {
    let mut dap = swd();
    let cases: &[(&[u8], &[u8])] = &[
        (&[0x00], &[0xFF]),
        (&[0x01], &[0x01, 0xFF]),
        (&[0x01, 0x00], &[0x01, 0xFF]),
        (&[0x02], &[0xFF]),
        (&[0x04, 0x00, 0x00, 0x00, 0x00], &[0x04, 0xFF]),
        (&[0x05], &[0xFF]),
        (&[0x05, 0x00], &[0xFF]),
        (&[0x05, 0x00, 0x01], &[0xFF]),
        (&[0x05, 0x00, 0x02, 0x02], &[0xFF]),
        (&[0x05, 0x00, 0x01, 0x08, 0x00, 0x00], &[0xFF]),
        (&[0x05, 0x00, 0x01, 0x12, 0x00, 0x00, 0x00], &[0xFF]),
        (&[0x06, 0x00, 0x01], &[0xFF]),
        (&[0x06, 0x00, 0x01, 0x00], &[0xFF]),
        (
            &[0x06, 0x00, 0x02, 0x00, 0x0D, 0x01, 0x02, 0x03, 0x04],
            &[0xFF],
        ),
        (&[0x08, 0x00, 0x01, 0x02, 0x03], &[0x08, 0xFF]),
        (&[0x09, 0x01], &[0x09, 0xFF]),
        (&[0x10, 0x00, 0x80, 0x00, 0x00, 0x00], &[0xFF]),
        (&[0x11, 0x01, 0x02, 0x03], &[0x11, 0xFF]),
        (&[0x12], &[0x12, 0xFF]),
        (&[0x12, 0x09, 0xFF], &[0x12, 0xFF]),
        (&[0x13], &[0x13, 0xFF]),
        (&[0x14], &[0x14, 0xFF]),
        (&[0x14, 0x01, 0x08], &[0x14, 0xFF]),
        (&[0x14, 0x02, 0x01, 0x00], &[0x14, 0xFF]),
        (&[0x15, 0x02, 0x04], &[0x15, 0xFF]),
        (&[0x16], &[0x16, 0xFF]),
        (&[0x1D], &[0x1D, 0xFF]),
        (&[0x1D, 0x01, 0x08], &[0x1D, 0xFF]),
        (&[0x1D, 0x02, 0x85, 0x02], &[0x1D, 0xFF]),
        (&[0x7F, 0x01], &[0xFF]),
    ];
    for (request, expected) in cases {
        assert_eq!(ask(&mut dap, request), *expected, "request {request:02X?}");
        assert_eq!(request_length(request), None, "request {request:02X?}");
    }
    assert!(dap.wire().events.is_empty(), "{:?}", dap.wire().events);
    assert_eq!(dap.mode(), Some(dap::Mode::Swd));
}

#[test]
fn oversized_responses_are_refused_before_anything_runs() {
    let mut dap = dap_with(Mock::default(), 64);
    assert_eq!(ask(&mut dap, &[0x02, 0x01]), [0x02, 0x01]);
    dap.wire().events.clear();
    // 16 DP reads need 3 + 64 bytes.
    let mut request = vec![0x05, 0x00, 16];
    request.extend([0x02; 16]);
    assert_eq!(ask(&mut dap, &request), [0xFF]);
    // 15 fit: 63 bytes.
    request[2] = 15;
    request.pop();
    assert_eq!(ask(&mut dap, &request).len(), 63);
    dap.wire().events.clear();
    // TransferBlock: 16 words do not fit, nor 65535.
    assert_eq!(ask(&mut dap, &[0x06, 0x00, 16, 0x00, 0x02]), [0xFF]);
    assert_eq!(ask(&mut dap, &[0x06, 0x00, 0xFF, 0xFF, 0x02]), [0xFF]);
    // SWD_Sequence: 8 x 64 input bits = 64 bytes + 2.
    let mut request = vec![0x1D, 0x08];
    request.extend([0x80; 8]);
    assert_eq!(ask(&mut dap, &request), [0x1D, 0xFF]);
    // JTAG_Sequence: 8 x 64 captured bits.
    let mut request = vec![0x14, 0x08];
    for _ in 0..8 {
        request.push(0x80);
        request.extend([0x00; 8]);
    }
    assert_eq!(ask(&mut dap, &request), [0x14, 0xFF]);
    assert!(dap.wire().events.is_empty(), "{:?}", dap.wire().events);
}

#[test]
fn the_callers_buffer_limits_the_response_too() {
    let mut dap = swd();
    let mut response = [0u8; 10];
    // 3 words = 16 bytes: no room.
    assert_eq!(
        dap.process(&[0x06, 0x00, 0x03, 0x00, 0x02], &mut response),
        Ok(1)
    );
    assert_eq!(response[0], 0xFF);
    // Strings are cut to fit: "bmp CMSIS-DAP" in 10 bytes.
    assert_eq!(dap.process(&[0x00, 0x02], &mut response), Ok(10));
    assert_eq!(&response, b"\x00\x08bmp CMS\x00");
    assert!(dap.wire().events.is_empty());
}

#[test]
fn request_lengths() {
    let cases: &[(&[u8], usize)] = &[
        (&[0x00, 0x04], 2),
        (&[0x01, 0x00, 0x01], 3),
        (&[0x03], 1),
        (&[0x04, 0, 0, 0, 0, 0], 6),
        (&[0x05, 0x00, 0x02, 0x02, 0x08, 1, 2, 3, 4], 9),
        (&[0x05, 0x00, 0x01, 0x12, 1, 2, 3, 4], 8),
        (&[0x06, 0x00, 0x10, 0x00, 0x0F], 5),
        (&[0x06, 0x00, 0x01, 0x00, 0x0D, 1, 2, 3, 4], 9),
        (&[0x07], 1),
        (&[0x08, 0, 1, 2, 3, 4], 6),
        (&[0x09, 0, 0], 3),
        (&[0x0A], 1),
        (&[0x10, 0, 0, 0, 0, 0, 0], 7),
        (&[0x11, 0, 0, 0, 0], 5),
        (&[0x12, 0x09, 0xFF, 0x01], 4),
        (&[0x13, 0x00], 2),
        (&[0x14, 0x02, 0x41, 0x00, 0x89, 0xFF, 0x01], 7),
        (&[0x15, 0x02, 0x04, 0x05], 4),
        (&[0x16, 0x00], 2),
        (&[0x17, 0x01], 2),
        (&[0x19, 0, 0, 0, 0], 5),
        (&[0x1B], 1),
        (&[0x1C, 0x40, 0x00], 3),
        (&[0x1D, 0x02, 0x85, 0x08, 0x99], 5),
        (&[0x21, 0x00, 0x00, 0x02, 0x00, 0x41, 0x42], 7),
        (&[0x7F, 0x02, 0x00, 0x04, 0x03], 5),
        (&[0x7E, 0x01, 0x13, 0x00], 4),
        (&[0x80, 0x01, 0x02], 1),
        (&[0xFF], 1),
    ];
    for (request, length) in cases {
        assert_eq!(
            request_length(request),
            Some(*length),
            "request {request:02X?}"
        );
        let mut padded = request.to_vec();
        padded.extend([0u8; 16]);
        assert_eq!(
            request_length(&padded),
            Some(*length),
            "request {request:02X?}"
        );
    }
    let mut request = vec![0x12, 0x00];
    request.extend([0xFF; 31]);
    assert_eq!(request_length(&request), None);
    request.push(0xFF);
    assert_eq!(request_length(&request), Some(34));
    assert_eq!(request_length(&[]), None);
}

/// A USB bulk request of exactly two 64-byte packets has no short packet to end it; the
/// transport reads on until the length is known.
#[test]
fn reassembling_a_bulk_request() {
    let mut request = vec![0x05, 0x00, 25];
    for index in 0..25u32 {
        request.push(0x08);
        request.extend(word(index));
    }
    assert_eq!(request.len(), 128);
    assert_eq!(request_length(&request[..64]), None);
    assert_eq!(request_length(&request), Some(128));
}

/// Deterministic pseudo-random requests in both modes: never a panic, never a response
/// longer than allowed.
#[test]
fn random_requests() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for mode in [0x01u8, 0x02] {
        let mut dap = dap_with(Mock::default(), 64);
        assert_eq!(ask(&mut dap, &[0x02, mode]), [0x02, mode]);
        assert_eq!(ask(&mut dap, &[0x15, 0x02, 0x04, 0x05]), [0x15, 0x00]);
        for _ in 0..20_000 {
            let length = (next() % 24) as usize;
            let mut request: Vec<u8> = (0..length).map(|_| next() as u8).collect();
            if let Some(first) = request.first_mut() {
                // Mostly real commands; not SWJ_Pins waits, connects, or match retries
                // (TransferConfigure) that make a run long.
                *first = [
                    0x00, 0x05, 0x06, 0x08, 0x12, 0x13, 0x14, 0x16, 0x1D, 0x7F, 0x7E, 0xA5,
                ][(next() % 12) as usize];
            }
            let size = 1 + (next() % 80) as usize;
            let mut response = vec![0u8; size];
            match dap.process(&request, &mut response) {
                Ok(written) => {
                    assert!(written <= size.min(64));
                    if let Some(length) = request_length(&request) {
                        assert!(length <= request.len());
                    }
                }
                Err(Error::EmptyRequest) => assert!(request.is_empty()),
                Err(Error::ResponseBuffer) => assert!(size < 2),
            }
            dap.wire().events.clear();
            dap.wire().jtag.accesses.clear();
        }
        let _ = ask(&mut dap, &[0x02, mode]);
    }
}
