//! What the server needs from the probe: the target on the wire (`Target`) and the probe's
//! own side (`Host`: the client connection, the console, files, Python, time).

use core::fmt::{Display, Write};

pub use cortexm::REGISTER_COUNT;
pub use debug::{BreakWatch, HaltReason, HaltStatus, ResetKind, WatchKind};

/// A target found by a scan, as `monitor targets` lists it.
#[derive(Clone, Copy, Debug)]
pub struct Listed<'a> {
    pub number: usize,
    pub driver: &'a str,
    pub core: &'a str,
}

/// What writes a flash region (`monitor algorithm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashWriter<'a> {
    /// The chip family's driver (the part's name).
    Driver(&'a str),
    /// The flash algorithm in use (its device's name).
    Algorithm(&'a str),
}

/// One flash region of the attached target's memory map, as gdb sees it.
#[derive(Clone, Copy, Debug)]
pub struct FlashRegion<'a> {
    pub start: u32,
    pub length: u32,
    /// The erase unit.
    pub sector: u32,
    pub writer: FlashWriter<'a>,
}

/// The debug session behind the server. Errors carry a message for the user.
pub trait Target {
    type Error: Display;

    /// Scan for targets over SWD or JTAG, holding nRST during the scan if asked.
    fn swdp_scan(&mut self, connect_under_reset: bool) -> Result<(), Self::Error>;
    fn jtag_scan(&mut self, connect_under_reset: bool) -> Result<(), Self::Error>;
    /// The targets of the last scan, in order.
    fn for_each_target(&self, each: &mut dyn FnMut(Listed<'_>));
    fn attach(&mut self, number: usize) -> Result<(), Self::Error>;
    fn detach(&mut self) -> Result<(), Self::Error>;
    /// The number of the attached target.
    fn attached(&self) -> Option<usize>;
    /// The wire's clock in Hz, if it has one.
    fn frequency(&mut self) -> Option<u32>;
    /// Set the wire's clock; returns the frequency now in effect.
    fn set_frequency(&mut self, hz: u32) -> Result<u32, Self::Error>;
    /// Pulse nRST.
    fn hard_reset(&mut self) -> Result<(), Self::Error>;

    fn memory_map_xml(&self, out: &mut dyn Write) -> core::fmt::Result;
    fn read_memory(&mut self, address: u32, data: &mut [u8]) -> Result<(), Self::Error>;
    fn write_memory(&mut self, address: u32, data: &[u8]) -> Result<(), Self::Error>;
    fn read_registers(&mut self, values: &mut [u32; REGISTER_COUNT]) -> Result<(), Self::Error>;
    fn write_registers(&mut self, values: &[u32; REGISTER_COUNT]) -> Result<(), Self::Error>;
    fn read_register(&mut self, number: usize) -> Result<u32, Self::Error>;
    fn write_register(&mut self, number: usize, value: u32) -> Result<(), Self::Error>;
    /// GDB's target description of the attached core (qXfer:features:read:target.xml):
    /// `cortexm::TARGET_XML`, or `TARGET_XML_FPU` for a core with an FPU.
    fn target_description(&self) -> &'static str;
    /// The size in bytes (4, or 8 for the FPU's d0-d15) of register `number` of that
    /// description; None if it has no such register.
    fn register_size(&self, number: usize) -> Option<usize>;
    /// `p`/`P`: any register of the description, up to 64 bits.
    fn read_register_wide(&mut self, number: usize) -> Result<u64, Self::Error>;
    fn write_register_wide(&mut self, number: usize, value: u64) -> Result<(), Self::Error>;
    fn halt_request(&mut self) -> Result<(), Self::Error>;
    fn halt_poll(&mut self) -> Result<HaltStatus, Self::Error>;
    /// What the user has not been told yet (the probe reconnected after a power loss), as
    /// lines for gdb's console, once; false if nothing. The server shows it where the
    /// protocol lets it: with a monitor command's output, or while the target runs.
    fn take_notice(&mut self, _out: &mut dyn Write) -> bool {
        false
    }
    fn resume(&mut self, step: bool) -> Result<(), Self::Error>;
    fn reset(&mut self, halt: bool) -> Result<(), Self::Error>;
    /// `monitor reset processor|hardware|system`: a reset of that kind.
    fn reset_kind(&mut self, kind: ResetKind, halt: bool) -> Result<(), Self::Error>;
    fn set_breakwatch(
        &mut self,
        kind: BreakWatch,
        address: u32,
        length: u32,
    ) -> Result<(), Self::Error>;
    fn clear_breakwatch(
        &mut self,
        kind: BreakWatch,
        address: u32,
        length: u32,
    ) -> Result<(), Self::Error>;
    fn flash_erase(&mut self, address: u32, length: u32) -> Result<(), Self::Error>;
    fn flash_write(&mut self, address: u32, data: &[u8]) -> Result<(), Self::Error>;
    fn flash_done(&mut self) -> Result<(), Self::Error>;
    fn flash_mass_erase(&mut self) -> Result<(), Self::Error>;
    /// Lift a protection through a vendor access port (the nRF52's CTRL-AP), erasing the
    /// chip; the targets are to be scanned again.
    fn recover(&mut self) -> Result<(), Self::Error>;
    /// GDB's CRC-32 of target memory (qCRC: polynomial 0x04C11DB7, MSB first, initial all
    /// ones, no final XOR), computed however the target can (on its core, or read back).
    fn crc32(&mut self, address: u32, length: u32) -> Result<u32, Self::Error>;
    /// `monitor flash_report`: what the flash work and the CRCs did, and how.
    fn flash_report(&mut self, out: &mut dyn Write) -> Result<(), Self::Error>;
    /// Whether CRCs run on the target's core (else they read back), and that routine's
    /// time limit in microseconds (None: the default, from the length).
    fn crc_routine(&self) -> (bool, Option<u64>);
    fn set_crc_routine(&mut self, on_target: bool, timeout_micros: Option<u64>);

    /// `monitor algorithm`: the attached target's flash regions and what writes each.
    fn flash_regions(&self, each: &mut dyn FnMut(FlashRegion<'_>)) -> Result<(), Self::Error>;
    /// `monitor algorithm load`: use the FLM file at `path` on the probe's filesystem as
    /// the flash algorithm; its flash (start, length). On an error none is in use.
    fn load_flash_algorithm(&mut self, path: &str) -> Result<(u32, u32), Self::Error>;
    /// `monitor algorithm off`: the chip's driver writes its flash again.
    fn clear_flash_algorithm(&mut self) -> Result<(), Self::Error>;

    /// The attached chip's own monitor commands: `each(name, help)` for every one.
    fn chip_commands(&self, each: &mut dyn FnMut(&str, &str));
    /// Run one of `chip_commands()`.
    fn chip_command(
        &mut self,
        name: &str,
        arguments: &str,
        out: &mut dyn Write,
    ) -> Result<(), Self::Error>;

    /// Semihosting SYS_GET_CMDLINE: the program's command line (`target.cmdline()`).
    fn command_line(&self, out: &mut [u8]) -> usize;
    /// Semihosting SYS_HEAPINFO: heap base, heap limit, stack base, stack limit.
    fn heap_info(&self) -> [u32; 4];

    /// The session's RTT host, for `monitor rtt`; None: no RTT on this probe.
    fn rtt(&mut self) -> Option<&mut debug::rtt::Rtt> {
        None
    }

    /// `monitor traceswo`: decode ITM from the probe's SWO input and show the data of the
    /// stimulus ports in `channels` (bit n: port n; 0: off). Err with a message when the
    /// probe has no SWO input.
    fn traceswo(&mut self, _channels: u32) -> Result<(), &'static str> {
        Err("traceswo: this probe has no SWO input")
    }
}

/// The probe's side: the client connection, the console, files, Python, time.
///
/// File calls follow the ARM semihosting conventions (results as the target sees them);
/// handles 0, 1 and 2 are the console and never reach `open`..`flen`.
pub trait Host {
    /// Send bytes to the GDB client.
    fn send(&mut self, data: &[u8]);
    /// A free-running microsecond clock.
    fn now_micros(&mut self) -> u64;
    /// The probe's version line for `monitor version`.
    fn version(&self) -> &str;
    /// `monitor python EXPRESSION`: the text to show, written to `out`; Err with a message.
    fn python(&mut self, expression: &str, out: &mut dyn Write) -> Result<(), &'static str>;

    /// Semihosting console output (the MicroPython console, or bmp.disp_fun()).
    fn console_write(&mut self, data: &[u8]);
    /// Semihosting console input: up to `data.len()` bytes (a line); -1 on error.
    fn console_read(&mut self, data: &mut [u8]) -> i32;
    /// SYS_OPEN of a file: a handle of 3 or more, or -1.
    fn open(&mut self, name: &[u8], mode: u32) -> i32;
    fn close(&mut self, handle: i32) -> i32;
    /// SYS_WRITE: the number of bytes NOT written (0: all).
    fn write(&mut self, handle: i32, data: &[u8]) -> i32;
    /// SYS_READ into `data`: the number of bytes read (0 at the end), or -1.
    fn read(&mut self, handle: i32, data: &mut [u8]) -> i32;
    fn seek(&mut self, handle: i32, position: u32) -> i32;
    fn flen(&mut self, handle: i32) -> i32;
    fn remove(&mut self, name: &[u8]) -> i32;
    fn rename(&mut self, from: &[u8], to: &[u8]) -> i32;
    fn system(&mut self, command: &[u8]) -> i32;
    /// errno of the last failed file call.
    fn errno(&mut self) -> i32;
    /// Seconds since 1970-01-01 (SYS_TIME).
    fn time(&mut self) -> u32;
}
