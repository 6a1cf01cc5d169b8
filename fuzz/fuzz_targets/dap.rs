//! The CMSIS-DAP processor (rust/dap) over the test double its own tests use
//! (rust/dap/tests/mock: SW-DP/JTAG-DP, a MEM-AP over a small RAM, a JTAG chain), which
//! asserts the processor's side of the wire traits (sequence buffers long enough, SWD
//! addresses A[3:2] only).
//!
//! Input: a packet size choice, then requests, each a length byte and that many bytes.
//! Checked: no panic, no hang, every response within min(buffer, packet size), headed by
//! the request's ID (0x7F for DAP_QueueCommands) or 0xFF, nothing answered only to
//! DAP_TransferAbort; request_length() never claims more bytes than there are.
#![no_main]

#[allow(unused_imports)]
#[path = "../../rust/dap/tests/mock/mod.rs"]
mod mock;

use dap::{Command, ID_INVALID, is_transfer_abort, request_length};
use libfuzzer_sys::fuzz_target;

const PACKET_SIZES: [u16; 4] = [64, 512, 1024, 64];
const RESPONSE_BUFFER: usize = 1024;

fuzz_target!(|input: &[u8]| {
    let Some((&choice, mut rest)) = input.split_first() else {
        return;
    };
    let packet_size = PACKET_SIZES[usize::from(choice & 3)];
    let mut dap = mock::dap_with(mock::Mock::default(), packet_size);
    let mut response = vec![0u8; RESPONSE_BUFFER];
    while let Some((&length, tail)) = rest.split_first() {
        let length = usize::from(length).min(tail.len());
        let (request, tail) = tail.split_at(length);
        rest = tail;
        if let Some(claimed) = request_length(request) {
            assert!(
                claimed <= request.len(),
                "request_length {claimed} of {request:02x?}"
            );
        }
        let Ok(answered) = dap.process(request, &mut response) else {
            continue;
        };
        assert!(answered <= usize::from(packet_size).min(RESPONSE_BUFFER));
        let id = request[0];
        if answered == 0 {
            assert!(is_transfer_abort(request), "no answer to {request:02x?}");
            continue;
        }
        let expected = if id == Command::QueueCommands as u8 {
            Command::ExecuteCommands as u8
        } else {
            id
        };
        assert!(
            response[0] == expected || response[0] == ID_INVALID,
            "response {:02x?} to {request:02x?}",
            &response[..answered]
        );
        dap.wire().events.clear();
    }
});
