//! Construction parameters: packet size and count, DAP_Info strings, timestamps.

use crate::wire::Mode;

/// The protocol version reported by DAP_Info 0x04 (CMSIS-DAP revision history: v2.1.1).
pub const PROTOCOL_VERSION: &str = "2.1.1";

/// DAP_Info 0xFF by transport: what a transport passes to [`Config::new`].
pub mod packet_size {
    /// Full-speed USB HID: one 64-byte report (ARM `DAP_config.h`).
    pub const FULL_SPEED_HID: u16 = 64;
    /// High-speed USB bulk (CMSIS-DAP v2): one 512-byte bulk packet (ARM `DAP_config.h`).
    pub const HIGH_SPEED_BULK: u16 = 512;
    /// High-speed USB HID: 1024-byte reports (ARM `DAP_config.h`).
    pub const HIGH_SPEED_HID: u16 = 1024;
    /// OpenOCD's `cmsis-dap backend tcp`: it starts with 1024-byte buffers and resizes them
    /// to DAP_Info 0xFF.
    pub const TCP: u16 = 1024;
}

/// DAP_Info strings; `None` answers Len 0 ("no information"; for 0x01..=0x03 the host then
/// uses the USB descriptor strings) (CMSIS-DAP DAP_Info).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Strings<'a> {
    /// 0x01 vendor name.
    pub vendor: Option<&'a str>,
    /// 0x02 product name.
    pub product: Option<&'a str>,
    /// 0x03 serial number.
    pub serial: Option<&'a str>,
    /// 0x05 target device vendor.
    pub target_vendor: Option<&'a str>,
    /// 0x06 target device name.
    pub target_name: Option<&'a str>,
    /// 0x07 target board vendor.
    pub board_vendor: Option<&'a str>,
    /// 0x08 target board name.
    pub board_name: Option<&'a str>,
    /// 0x09 product firmware version.
    pub firmware_version: Option<&'a str>,
}

/// How a processor is set up by the transport that owns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config<'a> {
    /// DAP_Info 0xFF: the largest request and response. 64 for full-speed HID, 512 or more
    /// for USB bulk and TCP. 64..=32768 (ARM's reference firmware `DAP.c` limits).
    pub packet_size: u16,
    /// DAP_Info 0xFE: requests the transport buffers before it must answer; at least 1,
    /// and 4 or more lets OpenOCD and pyOCD keep requests in flight.
    pub packet_count: u8,
    /// DAP_Info strings.
    pub strings: Strings<'a>,
    /// Test Domain Timer frequency (DAP_Info 0xF1), if [`Board::timestamp`] counts time.
    ///
    /// [`Board::timestamp`]: crate::Board::timestamp
    pub timestamp_hz: Option<u32>,
    /// The protocol DAP_Connect sets up for port 0 ("default").
    pub default_mode: Mode,
}

impl<'a> Config<'a> {
    /// A configuration with `packet_size`, packet count 4, no strings, no timestamps and
    /// SWD as the default port.
    pub fn new(packet_size: u16) -> Self {
        Self {
            packet_size,
            packet_count: 4,
            strings: Strings::default(),
            timestamp_hz: None,
            default_mode: Mode::Swd,
        }
    }

    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if !(64..=32768).contains(&self.packet_size) {
            return Err(ConfigError::PacketSize);
        }
        if self.packet_count == 0 {
            return Err(ConfigError::PacketCount);
        }
        if self.timestamp_hz == Some(0) {
            return Err(ConfigError::TimestampFrequency);
        }
        Ok(())
    }
}

/// A configuration the processor refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Packet size outside 64..=32768.
    PacketSize,
    /// Packet count 0.
    PacketCount,
    /// A Test Domain Timer of 0 Hz.
    TimestampFrequency,
}
