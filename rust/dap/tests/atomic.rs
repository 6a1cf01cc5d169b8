//! DAP_ExecuteCommands and DAP_QueueCommands (CMSIS-DAP "Atomic Commands").

mod mock;

use mock::*;

#[test]
fn execute_commands() {
    let mut dap = dap();
    let request = [0x7F, 0x03, 0x00, 0x04, 0x02, 0x01, 0x05, 0x00, 0x01, 0x02];
    let expected = bytes(&[
        &[0x7F, 0x03],
        b"\x00\x062.1.1\x00",
        &[0x02, 0x01],
        &[0x05, 0x01, 0x01],
        &word(DPIDR),
    ]);
    assert_eq!(ask(&mut dap, &request), expected);
}

/// What a transport does: hold 0x7E packets until one without 0x7E arrives, then answer
/// them all in order, each with its own response.
#[test]
fn queue_commands() {
    let mut dap = swd();
    let packets: [&[u8]; 3] = [
        &[0x7E, 0x01, 0x11, 0x40, 0x42, 0x0F, 0x00],
        &[0x7E, 0x02, 0x05, 0x00, 0x01, 0x02, 0x00, 0xFE],
        &[0x00, 0xFF],
    ];
    let mut held: Vec<&[u8]> = Vec::new();
    let mut responses = Vec::new();
    for packet in packets {
        held.push(packet);
        if dap::is_queued(packet) {
            assert!(dap.wire().events.is_empty());
            continue;
        }
        for request in held.drain(..) {
            responses.push(ask(&mut dap, request));
        }
    }
    assert_eq!(
        responses,
        [
            vec![0x7F, 0x01, 0x11, 0x00],
            bytes(&[
                &[0x7F, 0x02, 0x05, 0x01, 0x01],
                &word(DPIDR),
                &[0x00, 0x01, 0x04]
            ]),
            vec![0x00, 0x02, 0x00, 0x02],
        ]
    );
}

#[test]
fn nested_atomic_commands_and_abort_are_not_commands_inside() {
    let mut dap = swd();
    // 0x7F and 0x07 inside count as one-byte unknown commands (as ARM's reference
    // firmware): 0xFF each.
    assert_eq!(
        ask(&mut dap, &[0x7F, 0x03, 0x7F, 0x07, 0x03]),
        [0x7F, 0x03, 0xFF, 0xFF, 0x03, 0x00]
    );
}

#[test]
fn a_short_inner_request_runs_nothing() {
    let mut dap = swd();
    // The transfer announces two requests and carries one.
    assert_eq!(
        ask(
            &mut dap,
            &[0x7F, 0x02, 0x01, 0x00, 0x01, 0x05, 0x00, 0x02, 0x02]
        ),
        [0xFF]
    );
    assert_eq!(ask(&mut dap, &[0x7F, 0x03, 0x03]), [0xFF]);
    assert_eq!(ask(&mut dap, &[0x7F]), [0xFF]);
    assert!(dap.wire().events.is_empty());
}

#[test]
fn inner_responses_that_do_not_fit_answer_0xff() {
    let mut dap = dap_with(Mock::default(), 64);
    assert_eq!(ask(&mut dap, &[0x02, 0x01]), [0x02, 0x01]);
    // Three block reads of 10 words: 44 bytes each; only the first fits in 64.
    let block = [0x06, 0x00, 10, 0x00, 0x02];
    let request = bytes(&[&[0x7F, 0x03], &block, &block, &block]);
    let response = ask(&mut dap, &request);
    assert_eq!(response.len(), 2 + 44 + 2);
    assert_eq!(&response[..6], [0x7F, 0x03, 0x06, 10, 0x00, 0x01]);
    assert_eq!(&response[46..], [0xFF, 0xFF]);
}

#[test]
fn execute_commands_with_inner_errors() {
    let mut dap = swd();
    // A bad HostStatus type answers its error status; the others run.
    let request = [0x7F, 0x03, 0x01, 0x05, 0x01, 0x09, 0x01, 0x00, 0x80];
    assert_eq!(
        ask(&mut dap, &request),
        [0x7F, 0x03, 0x01, 0xFF, 0x09, 0x00, 0xFF]
    );
}

/// Submit one request to the queue; the responses sent.
fn submit(
    queue: &mut dap::Queue<64, 2>,
    dap: &mut dap::Dap<'_, Mock>,
    request: &[u8],
) -> Vec<Vec<u8>> {
    let mut response = [0u8; 64];
    let mut sent = Vec::new();
    queue
        .submit(dap, request, &mut response, |bytes| {
            sent.push(bytes.to_vec())
        })
        .unwrap();
    sent
}

#[test]
fn queue_helper_holds_0x7e_packets() {
    let mut dap = swd();
    let mut queue = dap::Queue::<64, 2>::new();
    assert!(submit(&mut queue, &mut dap, &[0x7E, 0x01, 0x00, 0xFE]).is_empty());
    // An abort releases nothing and answers nothing.
    assert!(submit(&mut queue, &mut dap, &[0x07]).is_empty());
    assert!(submit(&mut queue, &mut dap, &[0x7E, 0x01, 0x05, 0x00, 0x01, 0x02]).is_empty());
    assert!(dap.wire().events.is_empty());
    assert_eq!(
        submit(&mut queue, &mut dap, &[0x00, 0xFF]),
        [
            vec![0x7F, 0x01, 0x00, 0x01, 0x04],
            bytes(&[&[0x7F, 0x01, 0x05, 0x01, 0x01], &word(DPIDR)]),
            vec![0x00, 0x02, 0x00, 0x02],
        ]
    );
    // More queued packets than the packet count: the held ones run early, in order.
    assert!(submit(&mut queue, &mut dap, &[0x7E, 0x01, 0x03]).is_empty());
    assert!(submit(&mut queue, &mut dap, &[0x7E, 0x01, 0x03]).is_empty());
    assert_eq!(
        submit(&mut queue, &mut dap, &[0x7E, 0x01, 0x03]),
        vec![vec![0x7F, 0x01, 0x03, 0x00]; 2]
    );
    assert_eq!(queue.held(), 1);
    let mut response = [0u8; 64];
    assert_eq!(
        queue.submit(&mut dap, &[0x7E; 65], &mut response, |_| {}),
        Err(dap::QueueError::TooLong)
    );
    assert_eq!(queue.held(), 1);
}
