//! The server against a model target: packet layer, dispatch, semihosting.

use crate::model::*;
use crate::packet::tests::frame;
use crate::target::*;
use crate::{PACKET_SIZE, Server};

struct Harness {
    server: Box<Server>,
    target: Model,
    probe: Probe,
}

impl Harness {
    fn new() -> Self {
        Self {
            server: Box::new(Server::new()),
            target: Model::new(),
            probe: Probe::default(),
        }
    }

    fn raw(&mut self, input: &[u8]) -> String {
        self.probe.sent.clear();
        self.server
            .receive(&mut self.target, &mut self.probe, input);
        String::from_utf8_lossy(&self.probe.sent).into_owned()
    }

    /// Send one packet; the reply bodies (acks and framing checked and removed).
    fn replies(&mut self, body: &[u8]) -> Vec<Vec<u8>> {
        self.probe.sent.clear();
        self.server
            .receive(&mut self.target, &mut self.probe, &frame(body));
        split_packets(&self.probe.sent)
    }

    fn ask(&mut self, body: &str) -> String {
        let replies = self.replies(body.as_bytes());
        assert!(replies.len() <= 1, "{replies:?}");
        replies.first().map_or("<none>".into(), |reply| {
            String::from_utf8_lossy(reply).into_owned()
        })
    }

    fn poll(&mut self) -> Vec<String> {
        self.probe.sent.clear();
        self.server.poll(&mut self.target, &mut self.probe);
        split_packets(&self.probe.sent)
            .into_iter()
            .map(|reply| String::from_utf8_lossy(&reply).into_owned())
            .collect()
    }
}

/// Reply packets in `sent`, each checked for framing and checksum, escapes removed.
fn split_packets(sent: &[u8]) -> Vec<Vec<u8>> {
    let mut decoder = crate::packet::Decoder::<{ PACKET_SIZE * 2 }>::new();
    let mut packets = Vec::new();
    for &byte in sent {
        match decoder.feed(byte) {
            Some(crate::packet::Event::Packet(body)) => packets.push(body.to_vec()),
            Some(crate::packet::Event::Damaged) => panic!("damaged reply in {sent:?}"),
            _ => {}
        }
    }
    packets
}

fn hex(text: &[u8]) -> String {
    text.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[test]
fn good_packets_are_acknowledged_and_answered() {
    let mut harness = Harness::new();
    let sent = harness.raw(&frame(b"qAttached"));
    assert_eq!(sent, "+$1#31");
}

#[test]
fn a_bad_checksum_gets_a_nak_and_no_action() {
    let mut harness = Harness::new();
    assert_eq!(harness.raw(b"$M20000000,1:aa#00"), "-");
    assert_eq!(harness.target.ram[0], 0);
    // The resent packet is served.
    assert_eq!(harness.ask("M20000000,1:aa"), "OK");
    assert_eq!(harness.target.ram[0], 0xaa);
}

#[test]
fn a_nak_resends_the_last_reply() {
    let mut harness = Harness::new();
    let first = harness.raw(&frame(b"qC"));
    assert_eq!(harness.raw(b"-"), first.trim_start_matches('+'));
}

#[test]
fn truncated_packets_are_dropped() {
    let mut harness = Harness::new();
    assert_eq!(harness.raw(b"$M20000000,4:aabb"), "");
    // The client gives up and sends another packet: only that one is served.
    assert_eq!(harness.ask("qC"), "QC1");
    assert_eq!(harness.target.ram[..4], [0; 4]);
}

#[test]
fn oversized_packets_get_an_error_and_the_server_goes_on() {
    let mut harness = Harness::new();
    let mut body = b"X20000000,1400:".to_vec();
    body.resize(body.len() + 0x1400, 0x55);
    let replies = harness.replies(&body);
    assert_eq!(replies, [b"E16".to_vec()]);
    assert!(harness.target.ram.iter().all(|&byte| byte == 0));
    assert_eq!(harness.ask("qC"), "QC1");
}

#[test]
fn unknown_packets_get_an_empty_reply() {
    let mut harness = Harness::new();
    for packet in [
        "vMustReplyEmpty",
        "qUnknownThing",
        "Qfoo",
        "y",
        "vFoo;bar",
        "",
        "bc",
    ] {
        assert_eq!(harness.ask(packet), "", "{packet}");
    }
}

#[test]
fn malformed_arguments_get_errors() {
    let mut harness = Harness::new();
    for packet in [
        "m2000",
        "mzz,4",
        "M20000000,4:aa",
        "X20000000,4:ab",
        "pzz",
        "P1=12",
        "Z0,1",
        "G123",
    ] {
        assert!(harness.ask(packet).starts_with('E'), "{packet}");
    }
    // Memory the target does not have.
    assert_eq!(harness.ask("m0,4"), "E01");
}

#[test]
fn binary_data_with_escapes_is_written_exactly() {
    let mut harness = Harness::new();
    let data = [b'#', b'$', b'}', b'*', 0x03, 0x00, 0xff, b'+'];
    let mut body = b"X20000010,8:".to_vec();
    for byte in data {
        if matches!(byte, b'#' | b'$' | b'}' | b'*') {
            body.extend([b'}', byte ^ 0x20]);
        } else {
            body.push(byte);
        }
    }
    assert_eq!(harness.replies(&body), [b"OK".to_vec()]);
    assert_eq!(harness.target.ram[0x10..0x18], data);
    assert_eq!(harness.ask("m20000010,8"), hex(&data));
    // A length that does not match the data is refused.
    assert_eq!(harness.ask("X20000010,9:abc"), "E16");
    assert_eq!(harness.ask("X20000000,0:"), "OK");
}

#[test]
fn no_ack_mode_stops_acknowledgments() {
    let mut harness = Harness::new();
    assert_eq!(harness.raw(&frame(b"QStartNoAckMode")), "+$OK#9a");
    assert_eq!(harness.raw(&frame(b"qC")), "$QC1#c5");
    // Damaged packets are ignored silently; the client will not resend them.
    assert_eq!(harness.raw(b"$qC#00"), "");
    assert_eq!(harness.raw(b"-"), "");
    // A new client starts acknowledged again.
    harness.server.connected();
    assert_eq!(harness.raw(&frame(b"qC")), "+$QC1#c5");
}

#[test]
fn queries() {
    let mut harness = Harness::new();
    let supported = harness.ask("qSupported:multiprocess+;swbreak+;xmlRegisters=arm");
    assert!(supported.contains("PacketSize=1000"), "{supported}");
    for feature in [
        "qXfer:memory-map:read+",
        "qXfer:features:read+",
        "QStartNoAckMode+",
        "vContSupported+",
    ] {
        assert!(supported.contains(feature), "{feature}");
    }
    assert_eq!(harness.ask("qfThreadInfo"), "l"); // no program yet
    assert_eq!(harness.ask("vAttach;1"), "T05thread:1;");
    assert_eq!(harness.ask("qfThreadInfo"), "m1");
    assert_eq!(harness.ask("qsThreadInfo"), "l");
    assert_eq!(harness.ask("qC"), "QC1");
    assert_eq!(harness.ask("qSymbol::"), "OK");
    assert_eq!(harness.ask("Hg0"), "OK");
    assert_eq!(harness.ask("T1"), "OK");
    assert_eq!(harness.ask("vCont?"), "vCont;c;C;s;S");
}

#[test]
fn target_xml_is_read_in_pieces() {
    let mut harness = Harness::new();
    let mut xml = String::new();
    loop {
        let reply = harness.ask(&format!(
            "qXfer:features:read:target.xml:{:x},100",
            xml.len()
        ));
        let (kind, data) = reply.split_at(1);
        xml.push_str(data);
        if kind == "l" {
            break;
        }
        assert_eq!(kind, "m");
    }
    assert_eq!(xml, cortexm::TARGET_XML);
    assert!(xml.contains("org.gnu.gdb.arm.m-profile"));
    assert!(xml.contains("org.gnu.gdb.arm.m-system"));
    assert_eq!(harness.ask("qXfer:features:read:other.xml:0,100"), "E00");
    let map = harness.ask("qXfer:memory-map:read::0,1000");
    assert!(map.starts_with("l<memory-map>"), "{map}");
}

#[test]
fn fpu_registers_are_described_and_moved_by_p_and_capital_p() {
    let mut harness = Harness::new();
    assert_eq!(harness.ask(&format!("p{:x}", cortexm::D0)), "E01"); // no FPU yet
    let mut doubles = [0u64; cortexm::DOUBLE_REGISTERS];
    doubles[1] = 1.5f64.to_bits();
    harness.target.fpu = Some((doubles, 0x0300_0000));
    let first = harness.ask("qXfer:features:read:target.xml:0,7ff");
    let rest = harness.ask(&format!(
        "qXfer:features:read:target.xml:{:x},7ff",
        first.len() - 1
    ));
    let xml = format!("{}{}", &first[1..], &rest[1..]);
    assert_eq!(xml, cortexm::TARGET_XML_FPU);
    assert!(xml.contains(r#"<feature name="org.gnu.gdb.arm.vfp">"#));
    // d1 is GDB's register 24 (0x18), eight bytes little-endian; fpscr 39 (0x27) four.
    assert_eq!(harness.ask("p18"), hex(&1.5f64.to_le_bytes()));
    assert_eq!(harness.ask("p27"), "00000003");
    let value = -2.25f64;
    assert_eq!(
        harness.ask(&format!("P17={}", hex(&value.to_le_bytes()))),
        "OK"
    );
    assert_eq!(harness.target.fpu.unwrap().0[0], value.to_bits());
    assert_eq!(harness.ask("P27=00000001"), "OK");
    assert_eq!(harness.target.fpu.unwrap().1, 0x0100_0000);
    // A value of the wrong size, a register past fpscr; the `g` packet stays 23 words.
    assert_eq!(harness.ask("P17=00000000"), "E16");
    assert_eq!(harness.ask("P27=0000000000000000"), "E16");
    assert_eq!(harness.ask("p28"), "E01");
    assert_eq!(harness.ask("g").len(), REGISTER_COUNT * 8);
}

#[test]
fn registers() {
    let mut harness = Harness::new();
    harness.target.registers[15] = 0x0800_0123;
    let all = harness.ask("g");
    assert_eq!(all.len(), REGISTER_COUNT * 8);
    assert_eq!(&all[15 * 8..16 * 8], "23010008");
    assert_eq!(harness.ask("pf"), "23010008");
    assert_eq!(harness.ask("P0=78563412"), "OK");
    assert_eq!(harness.target.registers[0], 0x1234_5678);
    assert_eq!(harness.ask("p40"), "E01");
    let mut written = String::new();
    for number in 0..REGISTER_COUNT as u32 {
        written.push_str(&hex(&(number * 3).to_le_bytes()));
    }
    assert_eq!(harness.ask(&format!("G{written}")), "OK");
    assert_eq!(harness.target.registers[22], 66);
}

#[test]
fn breakpoints_and_watchpoints() {
    let mut harness = Harness::new();
    assert_eq!(harness.ask("Z0,8000100,2"), "OK");
    assert_eq!(harness.ask("Z2,20000004,4"), "OK");
    assert_eq!(harness.ask("Z1,8000200,2;X2,0a"), "OK");
    assert_eq!(
        harness.target.breakpoints,
        [
            (BreakWatch::Software, 0x0800_0100, 2),
            (BreakWatch::Watch(WatchKind::Write), 0x2000_0004, 4),
            (BreakWatch::Hardware, 0x0800_0200, 2)
        ]
    );
    assert_eq!(harness.ask("z0,8000100,2"), "OK");
    // A refusal carries the target's reason as E.errtext (E.1 "Standard Replies").
    assert_eq!(harness.ask("z0,8000100,2"), "E.not set");
    assert_eq!(harness.ask("Z7,8000100,2"), "");
}

#[test]
fn continue_interrupt_and_stop_replies() {
    let mut harness = Harness::new();
    harness.target.attached = None;
    assert_eq!(harness.ask("?"), "W00"); // nothing attached
    // A target attached before the client came (the `target` module) is halted for it.
    harness.target.attached = Some(1);
    harness.target.running = true;
    assert_eq!(harness.ask("?"), "T05thread:1;");
    assert!(!harness.target.running);
    assert_eq!(harness.ask("vAttach;1"), "T05thread:1;");
    assert_eq!(harness.ask("c"), "<none>");
    assert!(harness.server.is_running());
    assert!(harness.poll().is_empty());
    assert_eq!(harness.raw(b"\x03"), "");
    assert_eq!(harness.poll(), ["T02thread:1;"]);
    assert!(!harness.server.is_running());
    assert_eq!(harness.ask("?"), "T02thread:1;");
    // A step stops at once with SIGTRAP.
    assert_eq!(harness.ask("vCont;s:1"), "<none>");
    assert_eq!(harness.poll(), ["T05thread:1;"]);
    // A watchpoint hit names the address.
    harness.target.halts.push_back(HaltReason::Watchpoint {
        kind: WatchKind::Access,
        address: 0x2000_0004,
    });
    assert_eq!(harness.ask("vCont;c"), "<none>");
    assert_eq!(harness.poll(), ["T05awatch:20000004;thread:1;"]);
    // c with an address moves the PC first.
    harness.target.halts.push_back(HaltReason::Breakpoint {
        address: 0x0800_0100,
    });
    assert_eq!(harness.ask("c8000100"), "<none>");
    assert_eq!(harness.target.registers[15], 0x0800_0100);
    assert_eq!(harness.poll(), ["T05thread:1;"]);
}

#[test]
fn a_target_that_does_not_halt_is_reported_lost() {
    let mut harness = Harness::new();
    harness.server.settings().set_halt_timeout_ms(5);
    harness.ask("c");
    harness.raw(b"\x03");
    harness.target.halts.clear(); // the halt request goes unanswered
    let mut replies = Vec::new();
    for _ in 0..10 {
        replies.extend(harness.poll());
    }
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert!(replies[0].starts_with('O'));
    assert_eq!(replies[1], "X1d");
}

/// The text of `O` console packets.
fn console_text(packets: &[String]) -> String {
    let mut text = Vec::new();
    for packet in packets {
        let hex = packet.strip_prefix('O').expect("an O packet");
        let mut bytes = vec![0u8; hex.len() / 2];
        crate::hex::decode(hex.as_bytes(), &mut bytes).unwrap();
        text.extend(bytes);
    }
    String::from_utf8(text).unwrap()
}

const NOTICE: &str = "target power was lost; the probe reconnected (DPIDR 0x1ba01477)";

/// A power loss the probe reconnected after: gdb hears of it on its console only where
/// E.3 allows `O` packets (while the target runs, before the stop reply; with a monitor
/// command's output), once; a poll that meets it stops the program with SIGLOST (T1D,
/// not X: the program is still there) after the poll's error or the notice; a poll error
/// without a reconnect is still a lost target.
#[test]
fn a_power_loss_is_told_on_the_console_where_the_protocol_allows() {
    let mut harness = Harness::new();
    // The poll fails with the loss (the probe reconnected during it).
    harness.ask("c");
    harness.target.notice = Some(NOTICE);
    harness.target.poll_error = Some("target power was lost: the core was reset");
    let replies = harness.poll();
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert_eq!(
        console_text(&replies[..1]),
        "target power was lost: the core was reset\n"
    );
    assert_eq!(replies[1], "T1dthread:1;");
    assert!(!harness.server.is_running());
    assert_eq!(harness.ask("?"), "T1dthread:1;");
    assert_eq!(harness.target.notice, None, "taken");
    assert!(harness.ask("g").len() > 100, "the program is still there");
    // Ctrl-C: the halt request met the loss, the poll finds the core halted.
    harness.ask("c");
    harness.raw(b"\x03");
    harness.target.notice = Some(NOTICE);
    let replies = harness.poll();
    assert_eq!(console_text(&replies[..1]), format!("{NOTICE}\n"));
    assert_eq!(replies[1..], ["T1dthread:1;"]);
    // A loss between commands: told at the next resume, before the stop reply.
    harness.target.notice = Some(NOTICE);
    let replies: Vec<String> = harness
        .replies(b"c")
        .iter()
        .map(|reply| String::from_utf8_lossy(reply).into_owned())
        .collect();
    assert_eq!(console_text(&replies), format!("{NOTICE}\n"));
    harness.target.halts.push_back(HaltReason::Breakpoint {
        address: 0x0800_0100,
    });
    assert_eq!(harness.poll(), ["T05thread:1;"]);
    // ... or with the next monitor command's output, once.
    harness.target.notice = Some(NOTICE);
    let (output, status) = monitor(&mut harness, "halt_timeout");
    assert!(output.ends_with(&format!("{NOTICE}\n")), "{output}");
    assert_eq!(status, "OK");
    let (output, _) = monitor(&mut harness, "halt_timeout");
    assert!(!output.contains(NOTICE), "{output}");
    // A client that arrives after a loss: the halt request fails, but the reconnect
    // halted the core: the client finds a halted program, and hears of the loss at `c`.
    assert_eq!(harness.ask("D"), "OK");
    harness.target.attached = Some(1);
    harness.target.running = true;
    harness.target.halt_error = Some("target power was lost: the core was reset");
    harness.target.notice = Some(NOTICE);
    assert_eq!(harness.ask("?"), "T05thread:1;");
    let replies: Vec<String> = harness
        .replies(b"c")
        .iter()
        .map(|reply| String::from_utf8_lossy(reply).into_owned())
        .collect();
    assert_eq!(console_text(&replies), format!("{NOTICE}\n"));
    // A poll error without a reconnect: the target is lost.
    harness.ask("c");
    harness.target.poll_error = Some("no response");
    let replies = harness.poll();
    assert_eq!(console_text(&replies[..1]), "target lost: no response\n");
    assert_eq!(replies[1], "X1d");
}

#[test]
fn detach_kill_and_run() {
    let mut harness = Harness::new();
    assert_eq!(harness.ask("vAttach;1"), "T05thread:1;");
    assert_eq!(harness.ask("D"), "OK");
    assert_eq!(harness.target.attached, None);
    assert_eq!(harness.ask("c"), "E01");
    assert_eq!(harness.ask("vAttach;2"), "E01");
    assert_eq!(harness.ask("vRun;"), "T05thread:1;");
    assert_eq!(harness.target.resets, 1);
    assert_eq!(harness.ask("qfThreadInfo"), "m1");
    assert_eq!(harness.ask("vKill;1"), "OK");
    assert_eq!(harness.ask("qfThreadInfo"), "l"); // the program is gone
    assert_eq!(harness.ask("?"), "W00"); // killed: detached
    assert_eq!(harness.ask("vAttach;1"), "T05thread:1;");
    assert_eq!(harness.ask("k"), "<none>");
    assert_eq!(harness.target.attached, None);
}

#[test]
fn flash_packets() {
    let mut harness = Harness::new();
    assert_eq!(harness.ask("vFlashErase:08000000,400"), "OK");
    let mut body = b"vFlashWrite:8000000:".to_vec();
    body.extend([1, 2, 3, b'}', b'#' ^ 0x20]);
    assert_eq!(harness.replies(&body), [b"OK".to_vec()]);
    assert_eq!(harness.target.flash, [(0x0800_0000, vec![1, 2, 3, b'#'])]);
    assert_eq!(harness.ask("vFlashDone"), "OK");
    assert_eq!(harness.target.resets, 1); // reset halt: the new image's SP and PC
    assert_eq!(harness.ask("vFlashErase:zz"), "E16");
}

#[test]
fn a_failed_flash_packet_says_why_and_flash_report_keeps_it() {
    let mut harness = Harness::new();
    assert_eq!(harness.ask("vFlashWrite:0:\x01"), "E.no flash there");
    let (report, status) = monitor(&mut harness, "flash_report");
    assert_eq!(status, "OK");
    assert!(
        report.starts_with("The last load failed: no flash there\n"),
        "{report}"
    );
    // A load that goes through forgets it.
    assert_eq!(harness.ask("vFlashDone"), "OK");
    let (report, _) = monitor(&mut harness, "flash_report");
    assert!(!report.contains("failed"), "{report}");
}

#[test]
fn crc_matches_gdbs() {
    let mut harness = Harness::new();
    harness.target.ram[..9].copy_from_slice(b"123456789");
    // CRC-32/MPEG-2 of "123456789" (the same algorithm): 0x0376E6E7.
    assert_eq!(harness.ask("qCRC:20000000,9"), "C376e6e7");
    assert_eq!(harness.ask("qCRC:0,9"), "E01");
}

#[test]
fn crc_continues_across_pieces() {
    let whole = crate::crc32(u32::MAX, b"123456789");
    assert_eq!(whole, 0x0376_E6E7);
    assert_eq!(
        crate::crc32(crate::crc32(u32::MAX, b"1234"), b"56789"),
        whole
    );
}

fn monitor(harness: &mut Harness, command: &str) -> (String, String) {
    let replies = harness.replies(format!("qRcmd,{}", hex(command.as_bytes())).as_bytes());
    let (last, output) = replies.split_last().expect("a reply");
    let mut text = Vec::new();
    for packet in output {
        assert_eq!(packet[0], b'O');
        let mut bytes = vec![0u8; (packet.len() - 1) / 2];
        crate::hex::decode(&packet[1..], &mut bytes).unwrap();
        text.extend(bytes);
    }
    (
        String::from_utf8(text).unwrap(),
        String::from_utf8_lossy(last).into_owned(),
    )
}

#[test]
fn monitor_commands() {
    let mut harness = Harness::new();
    let (help, status) = monitor(&mut harness, "help");
    assert_eq!(status, "OK");
    for name in [
        "version",
        "swdp_scan",
        "jtag_scan",
        "targets",
        "frequency",
        "reset",
        "halt_timeout",
        "connect_rst",
        "hard_srst",
        "erase_mass",
        "recover",
        "python",
        "option",
    ] {
        assert!(help.contains(name), "{name} in {help}");
    }
    assert_eq!(
        monitor(&mut harness, "version"),
        ("bmp test\n".into(), "OK".into())
    );
    let (scan, status) = monitor(&mut harness, "swdp_scan");
    assert_eq!(status, "OK");
    assert!(scan.contains(" 1   * Model chip M3"), "{scan}");
    let (scan, status) = monitor(&mut harness, "jtag_scan");
    assert_eq!(
        (scan.as_str(), status.as_str()),
        ("JTAG scan failed: no JTAG here\n", "E01")
    );
    assert_eq!(monitor(&mut harness, "python 6*7").0, "42\n");
    // reset with a kind goes to reset_kind; a wrong kind is refused and nothing is reset.
    harness.ask("vAttach;1");
    assert_eq!(
        monitor(&mut harness, "reset processor"),
        (
            "Target reset (processor), halted at the reset vector\n".into(),
            "OK".into()
        )
    );
    assert_eq!(monitor(&mut harness, "reset hardware").1, "OK");
    assert_eq!(
        harness.target.reset_kinds,
        [ResetKind::Processor, ResetKind::Hardware]
    );
    let resets = harness.target.resets;
    assert_eq!(
        monitor(&mut harness, "reset warm"),
        (
            "reset: system, processor or hardware, not warm\n".into(),
            "E01".into()
        )
    );
    assert_eq!(harness.target.resets, resets);
    assert_eq!(
        monitor(&mut harness, "python x").0,
        "repl_fun() not registered\n"
    );
    assert_eq!(
        monitor(&mut harness, "connect_rst enable").0,
        "Assert nRST during scan: enabled\n"
    );
    assert_eq!(
        monitor(&mut harness, "halt_timeout 500").0,
        "Halt timeout: 500 ms\n"
    );
    assert_eq!(
        monitor(&mut harness, "frequency 2M").0,
        "Current SWCLK/TCK frequency: 4000000 Hz\n"
    );
    assert_eq!(monitor(&mut harness, "frequency fast").1, "E01");
    assert_eq!(
        monitor(&mut harness, "crc_routine off").0,
        "CRCs: read back; routine time limit: the default\n"
    );
    assert_eq!(
        monitor(&mut harness, "crc_routine timeout 250").0,
        "CRCs: read back; routine time limit 250 us\n"
    );
    assert_eq!(
        monitor(&mut harness, "crc_routine on").0,
        "CRCs: on the target's core; routine time limit 250 us\n"
    );
    assert_eq!(monitor(&mut harness, "crc_routine timeout soon").1, "E01");
    assert_eq!(monitor(&mut harness, "crc_routine sideways").1, "E01");
    assert_eq!(harness.target.crc_routine, (true, Some(250)));
    assert_eq!(
        monitor(&mut harness, "option erase").0,
        "option bytes erase\n"
    );
    assert_eq!(monitor(&mut harness, "swd").1, "OK"); // a unique prefix
    assert_eq!(monitor(&mut harness, "h").0, "Ambiguous command: h\n");
    assert!(
        monitor(&mut harness, "help")
            .0
            .contains("\tpython -- Evaluate Python")
    );
    assert!(
        monitor(&mut harness, "bogus")
            .0
            .starts_with("Unknown command: bogus")
    );
    assert_eq!(harness.ask("qRcmd,zz"), "E16");
}

/// Write `words` at `address` of the model's RAM.
fn poke(harness: &mut Harness, address: u32, words: &[u32]) {
    for (index, word) in words.iter().enumerate() {
        let at = (address - RAM) as usize + index * 4;
        harness.target.ram[at..at + 4].copy_from_slice(&word.to_le_bytes());
    }
}

/// Stop the model on a semihosting call and let the server serve it.
fn semihost(harness: &mut Harness, operation: u32, parameter: u32) -> Vec<String> {
    harness.target.registers[0] = operation;
    harness.target.registers[1] = parameter;
    harness.target.registers[15] = 0x0800_0200;
    harness.target.halts.push_back(HaltReason::Semihosting);
    harness.target.running = true;
    harness.poll()
}

#[test]
fn semihosting_console_files_and_exit() {
    use crate::semihosting::*;
    let mut harness = Harness::new();
    harness.ask("c");
    // SYS_WRITE0 of a string in RAM.
    harness.target.ram[0x100..0x107].copy_from_slice(b"hello\n\0");
    assert!(semihost(&mut harness, SYS_WRITE0, RAM + 0x100).is_empty());
    assert_eq!(harness.probe.console, b"hello\n");
    assert_eq!(harness.target.registers[15], 0x0800_0202); // past the BKPT
    assert!(harness.server.is_running());
    // SYS_OPEN ":tt" for writing is stdout; SYS_WRITE to it returns 0 (all written).
    harness.target.ram[0x200..0x203].copy_from_slice(b":tt");
    poke(&mut harness, RAM + 0x300, &[RAM + 0x200, 4, 3]);
    semihost(&mut harness, SYS_OPEN, RAM + 0x300);
    assert_eq!(harness.target.registers[0], 1);
    poke(&mut harness, RAM + 0x300, &[1, RAM + 0x100, 3]);
    semihost(&mut harness, SYS_WRITE, RAM + 0x300);
    assert_eq!(harness.target.registers[0], 0);
    assert_eq!(harness.probe.console, b"hello\nhel");
    // A file: open, write, flen, seek, read back.
    harness.target.ram[0x200..0x208].copy_from_slice(b"file.txt");
    poke(&mut harness, RAM + 0x300, &[RAM + 0x200, 5, 8]);
    semihost(&mut harness, SYS_OPEN, RAM + 0x300);
    let handle = harness.target.registers[0];
    assert_eq!(handle, 3);
    poke(&mut harness, RAM + 0x300, &[handle, RAM + 0x100, 6]);
    semihost(&mut harness, SYS_WRITE, RAM + 0x300);
    assert_eq!(harness.target.registers[0], 0);
    poke(&mut harness, RAM + 0x300, &[handle]);
    semihost(&mut harness, SYS_FLEN, RAM + 0x300);
    assert_eq!(harness.target.registers[0], 6);
    poke(&mut harness, RAM + 0x300, &[handle, 0]);
    semihost(&mut harness, SYS_SEEK, RAM + 0x300);
    poke(&mut harness, RAM + 0x300, &[handle, RAM + 0x400, 10]);
    semihost(&mut harness, SYS_READ, RAM + 0x300);
    assert_eq!(harness.target.registers[0], 4); // 10 asked, 6 read: 4 not read
    assert_eq!(&harness.target.ram[0x400..0x406], b"hello\n");
    // Console input, a line.
    harness.probe.input = b"typed\n".to_vec();
    poke(&mut harness, RAM + 0x300, &[0, RAM + 0x500, 32]);
    semihost(&mut harness, SYS_READ, RAM + 0x300);
    assert_eq!(harness.target.registers[0], 26);
    assert_eq!(&harness.target.ram[0x500..0x506], b"typed\n");
    // Command line and heap information.
    poke(&mut harness, RAM + 0x300, &[RAM + 0x600, 64]);
    semihost(&mut harness, SYS_GET_CMDLINE, RAM + 0x300);
    assert_eq!(harness.target.registers[0], 0);
    assert_eq!(&harness.target.ram[0x600..0x608], b"prog -v\0");
    assert_eq!(harness.target.ram[0x304], 7);
    poke(&mut harness, RAM + 0x310, &[RAM + 0x700]);
    semihost(&mut harness, SYS_HEAPINFO, RAM + 0x310);
    assert_eq!(
        harness.target.ram[0x700..0x710],
        [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]
    );
    semihost(&mut harness, SYS_ERRNO, 0);
    assert_eq!(harness.target.registers[0], 2);
    semihost(&mut harness, 0x99, 0);
    assert_eq!(harness.target.registers[0], u32::MAX);
    // ":semihosting-features": "SHFB" and the extension bits, with seek and flen.
    harness.target.ram[0x200..0x215].copy_from_slice(b":semihosting-features");
    poke(&mut harness, RAM + 0x300, &[RAM + 0x200, 0, 21]);
    semihost(&mut harness, SYS_OPEN, RAM + 0x300);
    let features = harness.target.registers[0];
    assert!(features as i32 > 2);
    poke(&mut harness, RAM + 0x300, &[features]);
    semihost(&mut harness, SYS_FLEN, RAM + 0x300);
    assert_eq!(harness.target.registers[0], 5);
    poke(&mut harness, RAM + 0x300, &[features, RAM + 0x800, 4]);
    semihost(&mut harness, SYS_READ, RAM + 0x300);
    assert_eq!(
        (
            harness.target.registers[0],
            &harness.target.ram[0x800..0x804]
        ),
        (0, &b"SHFB"[..])
    );
    poke(&mut harness, RAM + 0x300, &[features, 4]);
    semihost(&mut harness, SYS_SEEK, RAM + 0x300);
    poke(&mut harness, RAM + 0x300, &[features, RAM + 0x810, 8]);
    semihost(&mut harness, SYS_READ, RAM + 0x300);
    assert_eq!(
        (harness.target.registers[0], harness.target.ram[0x810]),
        (7, 0x03)
    );
    poke(&mut harness, RAM + 0x300, &[features]);
    semihost(&mut harness, SYS_CLOSE, RAM + 0x300);
    assert_eq!(harness.target.registers[0], 0);
    semihost(&mut harness, SYS_CLOSE, RAM + 0x300);
    assert_eq!(harness.target.registers[0], u32::MAX); // closed: no longer known
    // Exit with a status: a W reply, the program is gone.
    poke(
        &mut harness,
        RAM + 0x300,
        &[ADP_STOPPED_APPLICATION_EXIT, 3],
    );
    assert_eq!(
        semihost(&mut harness, SYS_EXIT_EXTENDED, RAM + 0x300),
        ["W03"]
    );
    assert!(!harness.server.is_running());
    harness.target.attached = None;
    assert_eq!(harness.ask("?"), "W00");
    harness.target.attached = Some(1);
    // SYS_EXIT with another reason: an abnormal end.
    harness.ask("c");
    assert_eq!(semihost(&mut harness, SYS_EXIT, 0x2_0023), ["X06"]);
}

#[test]
fn monitor_algorithm_lists_loads_checks_and_clears() {
    let mut harness = Harness::new();
    let (help, _) = monitor(&mut harness, "help");
    assert!(
        help.contains("\talgorithm -- Flash algorithms: [load <FLM file"),
        "{help}"
    );
    assert_eq!(
        monitor(&mut harness, "algorithm"),
        (
            "Flash regions:\n  0x08000000-0x08010000 sectors 0x400: driver Model driver\n".into(),
            "OK".into()
        )
    );
    assert_eq!(
        monitor(&mut harness, "algorithm load /flash/f1.flm 0x0801fffc"),
        (
            "Flash algorithm /flash/f1.flm writes 0x08000000-0x08020000\nFlash regions:\n  \
             0x08000000-0x08020000 sectors 0x400: algorithm \"/flash/f1.flm\"\n\
             gdb reads the memory map when it attaches: attach again for it to see this\n"
                .into(),
            "OK".into()
        )
    );
    // An address it does not write: refused, and none left in use.
    let (text, status) = monitor(&mut harness, "algorithm load /flash/f1.flm 0x08020000");
    assert_eq!(
        (text.as_str(), status.as_str()),
        (
            "algorithm load /flash/f1.flm: it writes 0x08000000-0x08020000, not 0x08020000; \
             no algorithm in use\n",
            "E01"
        )
    );
    assert_eq!(harness.target.algorithm, None);
    let (text, status) = monitor(&mut harness, "algorithm load /flash/notes.txt");
    assert_eq!(
        (text.as_str(), status.as_str()),
        (
            "algorithm load /flash/notes.txt: not a usable flash algorithm\n",
            "E01"
        )
    );
    for bad in [
        "algorithm load",
        "algorithm load a.flm 0xzz",
        "algorithm on",
        "algorithm off x",
    ] {
        let (_, status) = monitor(&mut harness, bad);
        assert_eq!(status, "E01", "{bad}");
    }
    monitor(&mut harness, "algorithm load a.flm");
    assert_eq!(
        monitor(&mut harness, "algorithm off").0,
        "No flash algorithm: the chip's driver writes its flash\n"
    );
    assert_eq!(harness.target.algorithm, None);
}
