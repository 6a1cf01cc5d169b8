//! A test double for the wire: an SW-DP/JTAG-DP with a MEM-AP over a small RAM, a JTAG
//! chain (ARM JTAG-DP with IR 4 nearest TDO, then an STM32F1 boundary-scan TAP with IR 5),
//! pins, a clock, and a log of everything the processor asked for. Errors on demand.
#![allow(dead_code)]

mod tap;

use std::collections::VecDeque;

use dap::{
    Board, Config, Dap, HostStatus, Jtag, Mode, Pin, Port, Strings, Swd, SwdConfig, Swj,
    TransferError,
};

#[allow(unused_imports)]
pub use tap::{ARM_IDCODE, BOUNDARY_IDCODE, State as TapState};

/// DPIDR of a Cortex-M3 SW-DP (ADIv5.2 B2.2.5).
pub const DPIDR: u32 = 0x1BA0_1477;
/// IDR of a Cortex-M3 AHB-AP.
pub const AP_IDR: u32 = 0x2477_0011;
pub const RAM_BASE: u32 = 0x2000_0000;
pub const RAM_WORDS: usize = 64;

/// CTRL/STAT bits (ADIv5.2 B2.2.4).
pub const CSYSPWRUPACK: u32 = 1 << 31;
pub const CSYSPWRUPREQ: u32 = 1 << 30;
pub const CDBGPWRUPACK: u32 = 1 << 29;
pub const CDBGPWRUPREQ: u32 = 1 << 28;
pub const STICKYERR: u32 = 1 << 5;

/// What the processor did, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Connect(Mode),
    Disconnect,
    Clock(u32),
    SwjSequence { bits: usize, data: Vec<u8> },
    Pins { output: u8, select: u8 },
    Configure(SwdConfig),
    SwdWrite { bits: usize, data: Vec<u8> },
    SwdRead { bits: usize },
    Transfer(Transaction),
    Delay(u32),
    Status(HostStatus, bool),
}

/// One SWD transaction and its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub port: Port,
    pub read: bool,
    pub address: u8,
    /// Write data, or the data phase of a read.
    pub data: u32,
    pub error: Option<TransferError>,
}

/// DP, AP and memory behind either protocol.
#[derive(Debug)]
pub struct Target {
    pub ctrl_stat: u32,
    pub select: u32,
    /// The last AP read result (SWD RDBUFF, ADIv5.2 B4.2.3).
    pub read_buffer: u32,
    /// CTRL/STAT reads left before the power-up ACK bits follow the requests.
    pub power_up_reads: u32,
    pub csw: u32,
    pub tar: u32,
    pub memory: Vec<u32>,
    /// The last ABORT write.
    pub abort: Option<u32>,
}

impl Default for Target {
    fn default() -> Self {
        Self {
            ctrl_stat: 0,
            select: 0,
            read_buffer: 0,
            power_up_reads: 0,
            csw: 0x0000_0012,
            tar: 0,
            memory: (0..RAM_WORDS as u32)
                .map(|word| 0x1000_0000 + word)
                .collect(),
            abort: None,
        }
    }
}

impl Target {
    pub fn sticky(&self) -> bool {
        self.ctrl_stat & STICKYERR != 0
    }

    pub fn dp_read(&mut self, address: u8) -> u32 {
        match address {
            0x0 => DPIDR,
            0x4 => {
                if self.power_up_reads > 0 {
                    self.power_up_reads -= 1;
                    self.ctrl_stat & !(CSYSPWRUPACK | CDBGPWRUPACK)
                } else {
                    self.ctrl_stat
                }
            }
            0xC => self.read_buffer,
            _ => 0,
        }
    }

    pub fn dp_write(&mut self, address: u8, value: u32) {
        match address {
            0x0 => {
                self.abort = Some(value);
                if value & (1 << 2) != 0 {
                    self.ctrl_stat &= !STICKYERR;
                }
            }
            0x4 => {
                let requests = value & (CSYSPWRUPREQ | CDBGPWRUPREQ);
                self.ctrl_stat = requests | requests << 1 | (self.ctrl_stat & STICKYERR);
            }
            0x8 => self.select = value,
            _ => {}
        }
    }

    fn ap_register(&self, address: u8) -> u32 {
        (self.select & 0xF0) | u32::from(address)
    }

    /// A MEM-AP read; an address outside the RAM sets STICKYERR.
    pub fn ap_read(&mut self, address: u8) -> u32 {
        match self.ap_register(address) {
            0x00 => self.csw,
            0x04 => self.tar,
            0x0C => {
                let value = self.word(self.tar);
                self.increment();
                value.unwrap_or_else(|| {
                    self.ctrl_stat |= STICKYERR;
                    0
                })
            }
            0xFC => AP_IDR,
            _ => 0,
        }
    }

    pub fn ap_write(&mut self, address: u8, value: u32) {
        match self.ap_register(address) {
            0x00 => self.csw = value,
            0x04 => self.tar = value,
            0x0C => {
                match self.index(self.tar) {
                    Some(index) => self.memory[index] = value,
                    None => self.ctrl_stat |= STICKYERR,
                }
                self.increment();
            }
            _ => {}
        }
    }

    fn index(&self, address: u32) -> Option<usize> {
        let offset = address.checked_sub(RAM_BASE)? as usize / 4;
        (offset < self.memory.len()).then_some(offset)
    }

    fn word(&self, address: u32) -> Option<u32> {
        self.index(address).map(|index| self.memory[index])
    }

    fn increment(&mut self) {
        if self.csw & 0x30 == 0x10 {
            self.tar = self.tar.wrapping_add(4);
        }
    }
}

pub struct Mock {
    pub target: Target,
    pub events: Vec<Event>,
    /// Answers for the next SWD transactions: `Some(error)` instead of the transaction.
    pub script: VecDeque<Option<TransferError>>,
    pub connect_ok: bool,
    pub max_clock: u32,
    /// Microseconds since start (advanced by delays).
    pub now_us: u64,
    /// Pin levels as driven.
    pub pins_out: u8,
    /// nRESET reads low until this time (a target holding reset).
    pub reset_held_until_us: u64,
    /// Bits answered by SWD input sequences, LSB first, repeated.
    pub swd_input: u64,
    pub jtag: tap::Chain,
    pub abort_flag: bool,
    /// Raise the abort flag once this many SWD transactions have been made.
    pub abort_after: Option<usize>,
    /// Each delay takes this many times what it asks for (a host's sleep overruns).
    pub delay_overrun: u64,
    /// An SWO receiver (UART only): the bytes it has received, read by `swo_read`.
    pub swo: Option<VecDeque<u8>>,
    /// A UART to the target.
    pub uart: Option<MockUart>,
}

/// A UART to the target: 8N1 or 7E2 up to 1 Mbaud (rates rounded down to a divider of
/// 72 MHz); what the target sent, what it received, how much it takes per write.
#[derive(Debug, Default)]
pub struct MockUart {
    pub format: Option<(dap::UartFormat, u32)>,
    pub from_target: VecDeque<u8>,
    pub errors: dap::UartErrors,
    pub to_target: Vec<u8>,
    /// Bytes taken per `uart_write` (None: all).
    pub takes: Option<usize>,
}

impl Default for Mock {
    fn default() -> Self {
        Self {
            target: Target::default(),
            events: Vec::new(),
            script: VecDeque::new(),
            connect_ok: true,
            max_clock: 10_000_000,
            now_us: 0,
            pins_out: 0xFF,
            reset_held_until_us: 0,
            swd_input: 0,
            jtag: tap::Chain::default(),
            abort_flag: false,
            abort_after: None,
            delay_overrun: 1,
            swo: None,
            uart: None,
        }
    }
}

impl Mock {
    /// The SWD transactions so far.
    pub fn transactions(&self) -> Vec<Transaction> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Transfer(transaction) => Some(*transaction),
                _ => None,
            })
            .collect()
    }

    /// The SWD transactions as (port, read, address), for pipelining checks.
    pub fn requests(&self) -> Vec<(Port, bool, u8)> {
        self.transactions()
            .iter()
            .map(|transaction| (transaction.port, transaction.read, transaction.address))
            .collect()
    }

    /// Answer `error` at the `index`-th next transaction (0 = the next one).
    pub fn fail_at(&mut self, index: usize, error: TransferError) {
        while self.script.len() <= index {
            self.script.push_back(None);
        }
        self.script[index] = Some(error);
    }

    fn swd_transaction(
        &mut self,
        port: Port,
        read: bool,
        address: u8,
        data: u32,
    ) -> Result<u32, TransferError> {
        if let Some(Some(error)) = self.script.pop_front() {
            return Err(error);
        }
        // With STICKYERR set, everything but DPIDR/CTRL-STAT reads and ABORT writes
        // answers FAULT (ADIv5.2 B4.2.1).
        let exempt = port == Port::Dp && (read && address <= 0x4 || !read && address == 0);
        if self.target.sticky() && !exempt {
            return Err(TransferError::Fault);
        }
        Ok(match (port, read) {
            (Port::Dp, true) => self.target.dp_read(address),
            (Port::Dp, false) => {
                self.target.dp_write(address, data);
                0
            }
            (Port::Ap, true) => {
                let previous = self.target.read_buffer;
                self.target.read_buffer = self.target.ap_read(address);
                previous
            }
            (Port::Ap, false) => {
                self.target.ap_write(address, data);
                0
            }
        })
    }
}

impl Swj for Mock {
    fn connect(&mut self, mode: Mode) -> bool {
        self.events.push(Event::Connect(mode));
        self.connect_ok
    }

    fn disconnect(&mut self) {
        self.events.push(Event::Disconnect);
    }

    fn sequence(&mut self, data: &[u8], bits: usize) {
        assert!(data.len() >= bits.div_ceil(8));
        self.events.push(Event::SwjSequence {
            bits,
            data: data[..bits.div_ceil(8)].to_vec(),
        });
    }

    fn pins(&mut self, output: Pin, select: Pin) -> Pin {
        let (output, select) = (output.bits(), select.bits());
        self.pins_out = (self.pins_out & !select) | (output & select);
        self.events.push(Event::Pins { output, select });
        let mut input = Pin::from_bits_retain(self.pins_out);
        if self.now_us < self.reset_held_until_us {
            input.remove(Pin::NRESET);
        }
        input
    }

    fn set_clock(&mut self, hz: u32) -> bool {
        self.events.push(Event::Clock(hz));
        hz <= self.max_clock
    }
}

impl Swd for Mock {
    fn transfer(
        &mut self,
        port: Port,
        read: bool,
        address: u8,
        data: u32,
    ) -> Result<u32, TransferError> {
        assert_eq!(address & !0x0C, 0, "address is A[3:2] only");
        let result = self.swd_transaction(port, read, address, data);
        self.events.push(Event::Transfer(Transaction {
            port,
            read,
            address,
            data: if read {
                *result.as_ref().unwrap_or(&0)
            } else {
                data
            },
            error: result.err(),
        }));
        // Counted only when asked for: the fuzz target (fuzz/) makes long runs.
        if let Some(after) = self.abort_after
            && after == self.transactions().len()
        {
            self.abort_flag = true;
        }
        result
    }

    fn configure(&mut self, config: SwdConfig) {
        self.events.push(Event::Configure(config));
    }

    fn write_sequence(&mut self, data: &[u8], bits: usize) {
        assert!(data.len() >= bits.div_ceil(8));
        self.events.push(Event::SwdWrite {
            bits,
            data: data[..bits.div_ceil(8)].to_vec(),
        });
    }

    fn read_sequence(&mut self, data: &mut [u8], bits: usize) {
        assert!(data.len() >= bits.div_ceil(8));
        self.events.push(Event::SwdRead { bits });
        for index in 0..bits {
            if self.swd_input >> (index % 64) & 1 != 0 {
                data[index / 8] |= 1 << (index % 8);
            }
        }
    }
}

impl Jtag for Mock {
    fn sequence(&mut self, tms: bool, tdi: &[u8], bits: usize, mut tdo: Option<&mut [u8]>) {
        assert!(tdi.len() >= bits.div_ceil(8));
        for index in 0..bits {
            let input = tdi[index / 8] >> (index % 8) & 1 != 0;
            let output = self.jtag.clock(&mut self.target, tms, input);
            if let Some(tdo) = tdo.as_deref_mut()
                && output
            {
                tdo[index / 8] |= 1 << (index % 8);
            }
        }
    }
}

impl Board for Mock {
    fn swo_modes(&self) -> [Option<dap::SwoMode>; 2] {
        [self.swo.as_ref().map(|_| dap::SwoMode::Uart), None]
    }

    fn swo_baudrate(&mut self, requested: u32) -> u32 {
        // A receiver dividing 72 MHz: the nearest rate at or above the request.
        if self.swo.is_none() || requested == 0 {
            return 0;
        }
        let divider = (72_000_000 / requested).max(1);
        72_000_000 / divider
    }

    fn swo_read(&mut self, _: dap::SwoMode, _: u32, buffer: &mut [u8]) -> (usize, bool) {
        let Some(input) = self.swo.as_mut() else {
            return (0, false);
        };
        let count = buffer.len().min(input.len());
        for (slot, byte) in buffer.iter_mut().zip(input.drain(..count)) {
            *slot = byte;
        }
        (count, false)
    }

    fn has_uart(&self) -> bool {
        self.uart.is_some()
    }

    fn uart_configure(
        &mut self,
        format: dap::UartFormat,
        baudrate: u32,
    ) -> Result<u32, dap::UartFault> {
        let uart = self.uart.as_mut().ok_or(dap::UartFault::all())?;
        let mut fault = dap::UartFault::empty();
        fault.set(
            dap::UartFault::DATA_BITS,
            !matches!(format.data_bits, 7 | 8),
        );
        fault.set(
            dap::UartFault::STOP_BITS,
            format.stop_bits != 1 && format.data_bits == 8,
        );
        if !fault.is_empty() {
            return Err(fault);
        }
        if baudrate > 1_000_000 {
            return Ok(0);
        }
        let actual = 72_000_000 / (72_000_000 / baudrate).max(1);
        uart.format = Some((format, actual));
        Ok(actual)
    }

    fn uart_read(&mut self, buffer: &mut [u8]) -> (usize, dap::UartErrors) {
        let Some(uart) = self.uart.as_mut() else {
            return (0, dap::UartErrors::empty());
        };
        let count = buffer.len().min(uart.from_target.len());
        for (slot, byte) in buffer.iter_mut().zip(uart.from_target.drain(..count)) {
            *slot = byte;
        }
        (
            count,
            std::mem::replace(&mut uart.errors, dap::UartErrors::empty()),
        )
    }

    fn uart_write(&mut self, data: &[u8]) -> usize {
        let Some(uart) = self.uart.as_mut() else {
            return 0;
        };
        let count = data.len().min(uart.takes.unwrap_or(usize::MAX));
        uart.to_target.extend_from_slice(&data[..count]);
        count
    }

    fn delay_us(&mut self, us: u32) {
        self.events.push(Event::Delay(us));
        self.now_us += u64::from(us) * self.delay_overrun;
    }

    fn timestamp(&mut self) -> u32 {
        // Each call moves time on, so timestamps differ.
        self.now_us += 1;
        self.now_us as u32
    }

    fn host_status(&mut self, status: HostStatus, on: bool) {
        self.events.push(Event::Status(status, on));
    }

    fn take_abort(&mut self) -> bool {
        std::mem::take(&mut self.abort_flag)
    }
}

pub const STRINGS: Strings<'static> = Strings {
    vendor: Some("bmp"),
    product: Some("bmp CMSIS-DAP"),
    serial: Some("0123456789"),
    target_vendor: Some("STMicroelectronics"),
    target_name: Some("STM32F103C8"),
    board_vendor: Some("generic"),
    board_name: Some("blue pill"),
    firmware_version: None,
};

/// A processor with 512-byte packets over a fresh mock.
pub fn dap() -> Dap<'static, Mock> {
    dap_with(Mock::default(), 512)
}

pub fn dap_with(mock: Mock, packet_size: u16) -> Dap<'static, Mock> {
    let mut config = Config::new(packet_size);
    config.strings = STRINGS;
    Dap::new(mock, config).unwrap()
}

/// Send one request; the response bytes.
pub fn ask(dap: &mut Dap<'_, Mock>, request: &[u8]) -> Vec<u8> {
    let mut response = vec![0xAA; 1024];
    let length = dap.process(request, &mut response).unwrap();
    response.truncate(length);
    response
}

/// A processor connected over SWD, events cleared.
pub fn swd() -> Dap<'static, Mock> {
    let mut dap = dap();
    assert_eq!(ask(&mut dap, &[0x02, 0x01]), [0x02, 0x01]);
    dap.wire().events.clear();
    dap
}

pub fn word(value: u32) -> [u8; 4] {
    value.to_le_bytes()
}

/// Request bytes from pieces.
pub fn bytes(pieces: &[&[u8]]) -> Vec<u8> {
    pieces.concat()
}
