//! Byte-level tests of the general, SWJ, SWD and unsupported commands.

mod mock;

use dap::{Config, ConfigError, Dap, HostStatus, Mode, SwdConfig};
use mock::{Event, Mock, ask, dap, dap_with, swd};

/// DAP_Info string: Len counts the NUL (CMSIS-DAP DAP_Info).
fn info_string(text: &str) -> Vec<u8> {
    let mut expected = vec![0x00, text.len() as u8 + 1];
    expected.extend_from_slice(text.as_bytes());
    expected.push(0);
    expected
}

#[test]
fn info_strings_count_the_nul() {
    let mut dap = dap();
    assert_eq!(ask(&mut dap, &[0x00, 0x01]), info_string("bmp"));
    assert_eq!(ask(&mut dap, &[0x00, 0x02]), info_string("bmp CMSIS-DAP"));
    assert_eq!(ask(&mut dap, &[0x00, 0x03]), info_string("0123456789"));
    assert_eq!(ask(&mut dap, &[0x00, 0x04]), b"\x00\x062.1.1\x00");
    assert_eq!(
        ask(&mut dap, &[0x00, 0x05]),
        info_string("STMicroelectronics")
    );
    assert_eq!(ask(&mut dap, &[0x00, 0x06]), info_string("STM32F103C8"));
    assert_eq!(ask(&mut dap, &[0x00, 0x07]), info_string("generic"));
    assert_eq!(ask(&mut dap, &[0x00, 0x08]), info_string("blue pill"));
    // No firmware version configured: Len 0, "no information".
    assert_eq!(ask(&mut dap, &[0x00, 0x09]), [0x00, 0x00]);
}

#[test]
fn info_numbers() {
    let mut dap = dap();
    // SWD, JTAG, atomic commands; no SWO, no UART, no timer.
    assert_eq!(ask(&mut dap, &[0x00, 0xF0]), [0x00, 0x01, 0x13]);
    assert_eq!(ask(&mut dap, &[0x00, 0xF1]), [0x00, 0x00]);
    assert_eq!(ask(&mut dap, &[0x00, 0xFB]), [0x00, 0x00]);
    assert_eq!(ask(&mut dap, &[0x00, 0xFC]), [0x00, 0x00]);
    assert_eq!(ask(&mut dap, &[0x00, 0xFD]), [0x00, 0x00]);
    assert_eq!(ask(&mut dap, &[0x00, 0xFE]), [0x00, 0x01, 0x04]);
    assert_eq!(ask(&mut dap, &[0x00, 0xFF]), [0x00, 0x02, 0x00, 0x02]);
    assert_eq!(ask(&mut dap, &[0x00, 0x0A]), [0x00, 0x00]);
    assert_eq!(ask(&mut dap, &[0x00, 0x80]), [0x00, 0x00]);
}

#[test]
fn info_with_a_timer_and_hid_packets() {
    let mut config = Config::new(64);
    config.packet_count = 8;
    config.timestamp_hz = Some(1_000_000);
    let mut dap = Dap::new(Mock::default(), config).unwrap();
    assert_eq!(ask(&mut dap, &[0x00, 0xF0]), [0x00, 0x01, 0x33]);
    assert_eq!(
        ask(&mut dap, &[0x00, 0xF1]),
        [0x00, 0x04, 0x40, 0x42, 0x0F, 0x00]
    );
    assert_eq!(ask(&mut dap, &[0x00, 0xFE]), [0x00, 0x01, 0x08]);
    assert_eq!(ask(&mut dap, &[0x00, 0xFF]), [0x00, 0x02, 0x40, 0x00]);
    // Strings not configured: Len 0.
    assert_eq!(ask(&mut dap, &[0x00, 0x01]), [0x00, 0x00]);
}

#[test]
fn long_info_strings_are_cut_to_the_packet() {
    let long = "ü".repeat(100); // 200 bytes of two-byte characters
    let mut config = Config::new(64);
    config.strings.board_name = Some(&long);
    let mut dap = Dap::new(Mock::default(), config).unwrap();
    let response = ask(&mut dap, &[0x00, 0x08]);
    // 61 bytes fit before the NUL; cut back to a character boundary: 60.
    assert_eq!(response.len(), 63);
    assert_eq!(response[1], 61);
    assert_eq!(&response[2..62], "ü".repeat(30).as_bytes());
    assert_eq!(response[62], 0);
}

#[test]
fn bad_configurations() {
    let config = |size, count| {
        let mut config = Config::new(size);
        config.packet_count = count;
        config
    };
    assert_eq!(
        Dap::new(Mock::default(), config(63, 4)).err(),
        Some(ConfigError::PacketSize)
    );
    assert_eq!(
        Dap::new(Mock::default(), config(64, 0)).err(),
        Some(ConfigError::PacketCount)
    );
    let mut timer = Config::new(64);
    timer.timestamp_hz = Some(0);
    assert_eq!(
        Dap::new(Mock::default(), timer).err(),
        Some(ConfigError::TimestampFrequency)
    );
}

#[test]
fn host_status() {
    let mut dap = dap();
    assert_eq!(ask(&mut dap, &[0x01, 0x00, 0x01]), [0x01, 0x00]);
    assert_eq!(ask(&mut dap, &[0x01, 0x01, 0x00]), [0x01, 0x00]);
    assert_eq!(ask(&mut dap, &[0x01, 0x02, 0x01]), [0x01, 0xFF]);
    assert_eq!(
        dap.wire().events,
        [
            Event::Status(HostStatus::Connected, true),
            Event::Status(HostStatus::Running, false)
        ]
    );
}

#[test]
fn connect_and_disconnect() {
    let mut dap = dap();
    assert_eq!(dap.mode(), None);
    assert_eq!(ask(&mut dap, &[0x02, 0x00]), [0x02, 0x01]);
    assert_eq!(dap.mode(), Some(Mode::Swd));
    assert_eq!(ask(&mut dap, &[0x02, 0x02]), [0x02, 0x02]);
    assert_eq!(dap.mode(), Some(Mode::Jtag));
    assert_eq!(ask(&mut dap, &[0x02, 0x01]), [0x02, 0x01]);
    // An unknown port: 0, and nothing changes.
    assert_eq!(ask(&mut dap, &[0x02, 0x03]), [0x02, 0x00]);
    assert_eq!(dap.mode(), Some(Mode::Swd));
    assert_eq!(ask(&mut dap, &[0x03]), [0x03, 0x00]);
    assert_eq!(dap.mode(), None);
    assert_eq!(
        dap.wire().events,
        [
            Event::Connect(Mode::Swd),
            Event::Configure(SwdConfig::default()),
            Event::Connect(Mode::Jtag),
            Event::Connect(Mode::Swd),
            Event::Configure(SwdConfig::default()),
            Event::Disconnect,
        ]
    );
}

#[test]
fn connect_fails() {
    let mock = Mock {
        connect_ok: false,
        ..Mock::default()
    };
    let mut dap = dap_with(mock, 64);
    assert_eq!(ask(&mut dap, &[0x02, 0x01]), [0x02, 0x00]);
    assert_eq!(dap.mode(), None);
}

#[test]
fn default_port_can_be_jtag() {
    let mut config = Config::new(64);
    config.default_mode = Mode::Jtag;
    let mut dap = Dap::new(Mock::default(), config).unwrap();
    assert_eq!(ask(&mut dap, &[0x02, 0x00]), [0x02, 0x02]);
}

#[test]
fn transfer_configure_and_swd_configure() {
    let mut dap = swd();
    // pyOCD: idle 2, WAIT retry 150, match retry 0.
    assert_eq!(
        ask(&mut dap, &[0x04, 0x02, 0x96, 0x00, 0x00, 0x00]),
        [0x04, 0x00]
    );
    // Turnaround 2 cycles, always data phase.
    assert_eq!(ask(&mut dap, &[0x13, 0x05]), [0x13, 0x00]);
    let configs: Vec<SwdConfig> = dap
        .wire()
        .events
        .iter()
        .filter_map(|event| match event {
            Event::Configure(config) => Some(*config),
            _ => None,
        })
        .collect();
    assert_eq!(
        configs,
        [
            SwdConfig {
                turnaround: 1,
                data_phase: false,
                idle_cycles: 2
            },
            SwdConfig {
                turnaround: 2,
                data_phase: true,
                idle_cycles: 2
            },
        ]
    );
}

#[test]
fn delay_and_reset_target() {
    let mut dap = dap();
    assert_eq!(ask(&mut dap, &[0x09, 0xE8, 0x03]), [0x09, 0x00]);
    assert_eq!(dap.wire().events, [Event::Delay(1000)]);
    // No device-specific reset sequence: status OK, execute 0.
    assert_eq!(ask(&mut dap, &[0x0A]), [0x0A, 0x00, 0x00]);
}

#[test]
fn swj_clock() {
    let mut dap = dap();
    assert_eq!(ask(&mut dap, &[0x11, 0x40, 0x42, 0x0F, 0x00]), [0x11, 0x00]);
    assert_eq!(ask(&mut dap, &[0x11, 0x00, 0x00, 0x00, 0x00]), [0x11, 0xFF]);
    assert_eq!(ask(&mut dap, &[0x11, 0x00, 0xE1, 0xF5, 0x05]), [0x11, 0xFF]);
    assert_eq!(
        dap.wire().events,
        [Event::Clock(1_000_000), Event::Clock(100_000_000)]
    );
}

#[test]
fn swj_sequence_counts_0_as_256() {
    let mut dap = dap();
    // Line reset: 51 ones (pyOCD).
    let mut request = vec![0x12, 51];
    request.extend_from_slice(&[0xFF; 7]);
    assert_eq!(ask(&mut dap, &request), [0x12, 0x00]);
    let mut request = vec![0x12, 0];
    request.extend((0..32).map(|index| index as u8));
    assert_eq!(ask(&mut dap, &request), [0x12, 0x00]);
    assert_eq!(
        dap.wire().events,
        [
            Event::SwjSequence {
                bits: 51,
                data: vec![0xFF; 7]
            },
            Event::SwjSequence {
                bits: 256,
                data: (0..32).collect()
            },
        ]
    );
    // 256 bits need 32 bytes: 31 is short.
    assert_eq!(ask(&mut dap, &request[..33]), [0x12, 0xFF]);
    assert_eq!(dap.wire().events.len(), 2);
}

#[test]
fn swj_pins_waits_for_reset_release() {
    let mock = Mock {
        reset_held_until_us: 25,
        ..Mock::default()
    };
    let mut dap = dap_with(mock, 64);
    // Assert nRESET, no wait: reads back low.
    assert_eq!(ask(&mut dap, &[0x10, 0x00, 0x80, 0, 0, 0, 0]), [0x10, 0x7F]);
    // Release nRESET and wait up to 1000 µs: the target lets go after 25 µs.
    assert_eq!(
        ask(&mut dap, &[0x10, 0x80, 0x80, 0xE8, 0x03, 0, 0]),
        [0x10, 0xFF]
    );
    assert_eq!(dap.wire().now_us, 30);
    let mock = Mock {
        reset_held_until_us: 1_000_000_000,
        ..Mock::default()
    };
    let mut dap = dap_with(mock, 64);
    // Held for ever: give up after the wait (capped at 3 s), answer the level seen.
    assert_eq!(
        ask(&mut dap, &[0x10, 0x80, 0x80, 0xFF, 0xFF, 0xFF, 0xFF]),
        [0x10, 0x7F]
    );
    assert_eq!(dap.wire().now_us, 3_000_000);
}

#[test]
fn swj_pins_wait_is_measured_on_the_timestamp_clock() {
    // Each 10 µs delay takes 28 µs (as a host's sleep did): the wait still ends at the
    // specification's 3 s on the timestamp clock, not after 3 s worth of delays.
    let mock = Mock {
        reset_held_until_us: u64::MAX,
        delay_overrun: 28,
        ..Mock::default()
    };
    let mut config = Config::new(64);
    config.timestamp_hz = Some(1_000_000);
    let mut dap = Dap::new(mock, config).unwrap();
    // Release nRESET and wait 2^32-1 µs for it to read high: the target holds it low.
    assert_eq!(
        ask(&mut dap, &[0x10, 0x80, 0x80, 0xFF, 0xFF, 0xFF, 0xFF]),
        [0x10, 0x7F]
    );
    let now = dap.wire().now_us;
    // At most one overrunning delay past the limit.
    assert!((3_000_000..3_000_300).contains(&now), "waited {now} µs");
}

#[test]
fn swd_sequence_in_and_out() {
    let mut dap = swd();
    dap.wire().swd_input = 0b1_0110_1001;
    // OpenOCD's TARGETSEL: write 8 bits, read 5, write 33 (0 = 64 for the count).
    let request = [
        0x1D, 0x03, 0x08, 0x99, 0x85, 0x21, 0x11, 0x22, 0x33, 0x44, 0x01,
    ];
    assert_eq!(ask(&mut dap, &request), [0x1D, 0x00, 0b0_1001]);
    assert_eq!(
        dap.wire().events,
        [
            Event::SwdWrite {
                bits: 8,
                data: vec![0x99]
            },
            Event::SwdRead { bits: 5 },
            Event::SwdWrite {
                bits: 33,
                data: vec![0x11, 0x22, 0x33, 0x44, 0x01]
            },
        ]
    );
    dap.wire().events.clear();
    // 0 = 64 cycles: 8 bytes in.
    assert_eq!(
        ask(&mut dap, &[0x1D, 0x01, 0x80]),
        [0x1D, 0x00, 0x69, 0x01, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(dap.wire().events, [Event::SwdRead { bits: 64 }]);
}

#[test]
fn swo_uart_vendor_and_unknown_commands_are_unimplemented() {
    let mut dap = dap();
    // No SWO or UART capability: the commands are unimplemented, 0xFF (CMSIS-DAP
    // "Commands": "Commands that are not implemented reply with 0xFF").
    for request in [
        &[0x17, 0x01][..],
        &[0x18, 0x01],
        &[0x19, 0x00, 0xC2, 0x01, 0x00],
        &[0x1A, 0x01],
        &[0x1B],
        &[0x1C, 0x40, 0x00],
        &[0x1E, 0x07],
        &[0x1F, 0x00],
        &[0x20, 0x00, 0x00, 0xC2, 0x01, 0x00],
        &[0x21, 0x10, 0x00, 0x00, 0x00],
        &[0x22, 0x00],
        &[0x23],
        &[0x80],
        &[0x9F, 0x01, 0x02],
        &[0x0B],
        &[0x42],
        &[0xFF],
    ] {
        assert_eq!(ask(&mut dap, request), [0xFF], "request {request:02X?}");
    }
    assert!(dap.wire().events.is_empty());
}

#[test]
fn transfer_abort_has_no_response() {
    let mut dap = swd();
    let mut response = [0xAA; 64];
    assert_eq!(dap.process(&[0x07], &mut response), Ok(0));
    assert_eq!(response, [0xAA; 64]);
    assert!(dap.wire().events.is_empty());
    assert!(dap::is_transfer_abort(&[0x07]));
    assert!(!dap::is_transfer_abort(&[0x05]));
}

#[test]
fn hid_padding_is_ignored() {
    let mut dap = dap();
    let mut request = [0u8; 64];
    request[..2].copy_from_slice(&[0x00, 0x04]);
    assert_eq!(ask(&mut dap, &request), b"\x00\x062.1.1\x00");
}
