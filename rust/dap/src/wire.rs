//! What the processor needs from the probe: the lower interface that the wire engines and
//! the board implement.
//!
//! One raw SWD transaction per [`Swd::transfer`] call. WAIT retries, posted-read pipelining,
//! value-match retries and the "check write" RDBUFF read are CMSIS-DAP semantics and live in
//! the processor, as do the JTAG-DP IR/DR scans, which it builds from [`Jtag::sequence`].

/// The register bank and the failures of one transfer: the wire crate's vocabulary.
pub use ::wire::{Port, TransferError};

/// The protocol set up by DAP_Connect (CMSIS-DAP DAP_Connect: 1 = SWD, 2 = JTAG).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Swd = 1,
    Jtag = 2,
}

/// SWD line settings (CMSIS-DAP DAP_SWD_Configure and DAP_TransferConfigure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwdConfig {
    /// Turnaround length in clock cycles, 1..=4 (ADIv5.2 B4.1.4: DLCR.TURNROUND + 1).
    pub turnaround: u8,
    /// Always do a data phase, also after WAIT and FAULT (ADIv5.2 B4.2.3: ORUNDETECT).
    pub data_phase: bool,
    /// Idle cycles (SWDIO low) after each transaction.
    pub idle_cycles: u8,
}

impl Default for SwdConfig {
    fn default() -> Self {
        Self {
            turnaround: 1,
            data_phase: false,
            idle_cycles: 0,
        }
    }
}

/// Signals of DAP_SWJ_Pins (the `wire` crate's, shared with debug sequences).
pub use ::wire::SwjPin as Pin;

/// Pins and clock common to SWD and JTAG (CMSIS-DAP "Common SWD/JTAG Commands").
pub trait Swj {
    /// Set the pins up for `mode` (DAP_Connect). Returns false if the probe cannot.
    fn connect(&mut self, mode: Mode) -> bool;
    /// Release the pins (DAP_Disconnect).
    fn disconnect(&mut self);
    /// Clock `bits` bits out on SWDIO/TMS, LSB first from `data` (DAP_SWJ_Sequence).
    /// `data` holds at least `bits.div_ceil(8)` bytes.
    fn sequence(&mut self, data: &[u8], bits: usize);
    /// Drive the pins set in `select` to their level in `output` and return the level of
    /// every pin (DAP_SWJ_Pins). nRESET and nTRST are active low. An empty `select` only
    /// reads (the processor polls so while DAP_SWJ_Pins waits).
    fn pins(&mut self, output: Pin, select: Pin) -> Pin;
    /// Set the SWCLK/TCK frequency (DAP_SWJ_Clock). Returns false if `hz` cannot be used.
    fn set_clock(&mut self, hz: u32) -> bool;
}

/// The SWD engine.
pub trait Swd {
    /// One SWD transaction (ADIv5.2 B4.2). `address` is `A[3:2]` as a byte address (0x0,
    /// 0x4, 0x8 or 0xC). A read returns the data phase; a write sends `data` and returns 0.
    /// An AP read returns the result of the previous AP read (ADIv5.2 B4.2.3: posted).
    fn transfer(
        &mut self,
        port: Port,
        read: bool,
        address: u8,
        data: u32,
    ) -> Result<u32, TransferError>;
    /// Turnaround, data phase and idle cycles for the following transactions.
    fn configure(&mut self, config: SwdConfig);
    /// Clock `bits` bits out on SWDIO, LSB first (DAP_SWD_Sequence output).
    fn write_sequence(&mut self, data: &[u8], bits: usize);
    /// Release SWDIO and clock `bits` bits in, LSB first (DAP_SWD_Sequence input). `data`
    /// holds at least `bits.div_ceil(8)` bytes; bits past `bits` are zero.
    fn read_sequence(&mut self, data: &mut [u8], bits: usize);
}

/// The JTAG engine: raw TCK cycles. The processor builds IR and DR scans from these.
pub use ::wire::jtag::Sequence as Jtag;

/// Host status indications (CMSIS-DAP DAP_HostStatus type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostStatus {
    Connected,
    Running,
}

/// What the board provides besides the wire: time, status LEDs, an abort flag.
pub trait Board {
    /// Wait `us` microseconds (DAP_Delay, DAP_SWJ_Pins wait).
    fn delay_us(&mut self, us: u32);
    /// The Test Domain Timer (CMSIS-DAP DAP_Info 0xF1), counting at
    /// [`Config::timestamp_hz`](crate::Config::timestamp_hz). Unused when that is `None`.
    fn timestamp(&mut self) -> u32 {
        0
    }
    /// Show a host status (DAP_HostStatus), e.g. on an LED.
    fn host_status(&mut self, _status: HostStatus, _on: bool) {}
    /// True, and the flag cleared, if a DAP_TransferAbort has arrived since the last call
    /// (e.g. seen by a USB interrupt while a transfer runs). The processor calls this at
    /// the start of DAP_Transfer and DAP_TransferBlock to drop a stale abort (as ARM's
    /// reference firmware clears its flag there) and in its retry loops.
    fn take_abort(&mut self) -> bool {
        false
    }
    /// The SWO receiver's modes (None: no SWO input, the default).
    fn swo_modes(&self) -> [Option<SwoMode>; 2] {
        [None, None]
    }
    /// The SWO baud rate the receiver can take nearest `requested` (0: none).
    fn swo_baudrate(&mut self, _requested: u32) -> u32 {
        0
    }
    /// SWO bytes received in `mode` at `baudrate` since the last call, at most
    /// `buffer.len()`: the count, and whether framing errors were seen.
    fn swo_read(&mut self, _mode: SwoMode, _baudrate: u32, _buffer: &mut [u8]) -> (usize, bool) {
        (0, false)
    }
    /// The board has a UART to the target that the host may use through DAP commands
    /// (CMSIS-DAP UART commands, capability bit 7).
    fn has_uart(&self) -> bool {
        false
    }
    /// Set the UART up: the actual baud rate (0: `baudrate` cannot be used), or the
    /// format fields the UART cannot do.
    fn uart_configure(&mut self, _format: UartFormat, _baudrate: u32) -> Result<u32, UartFault> {
        Err(UartFault::all())
    }
    /// Bytes the UART received from the target since the last call, at most `buffer.len()`
    /// (the rest stay in the board), and the receive errors it saw meanwhile.
    fn uart_read(&mut self, _buffer: &mut [u8]) -> (usize, UartErrors) {
        (0, UartErrors::empty())
    }
    /// Send bytes to the target: the count the UART took now.
    fn uart_write(&mut self, _data: &[u8]) -> usize {
        0
    }
}

/// Parity of a UART frame (CMSIS-DAP DAP_UART_Configure, control bits 5..4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parity {
    None,
    Even,
    Odd,
}

/// A UART frame format (CMSIS-DAP DAP_UART_Configure; asynchronous, no flow control).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UartFormat {
    /// 5..=8.
    pub data_bits: u8,
    pub parity: Parity,
    /// 1 or 2.
    pub stop_bits: u8,
}

bitflags::bitflags! {
    /// What a UART cannot do (DAP_UART_Configure response status bits).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct UartFault: u8 {
        const DATA_BITS = 1 << 0;
        const PARITY = 1 << 1;
        const STOP_BITS = 1 << 2;
    }
}

bitflags::bitflags! {
    /// Receive errors (DAP_UART_Status and DAP_UART_Transfer status bits 1..3).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct UartErrors: u8 {
        /// A byte was lost: the receive buffer was full.
        const DATA_LOST = 1 << 1;
        const FRAMING = 1 << 2;
        const PARITY = 1 << 3;
    }
}

/// How SWO is encoded on the pin (DAP_SWO_Mode 1 and 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwoMode {
    /// NRZ, UART framing.
    Uart,
    Manchester,
}

/// Everything the processor drives: one object owning the pins in either protocol.
pub trait Wire: Swj + Swd + Jtag + Board {}

impl<T: Swj + Swd + Jtag + Board> Wire for T {}
