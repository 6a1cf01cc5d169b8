//! The command processor: one request in, one response out.

use crate::buffer::{Fail, Request, Response};
use crate::command::{self, Command, ID_INVALID, sequence_bits, swj_sequence_bits};
use crate::config::{Config, ConfigError, PROTOCOL_VERSION};
use crate::jtag::{Chain, JtagLink, Scanner, instruction};
use crate::transfer::{self, Link, Settings};
use crate::wire::{
    Board, HostStatus, Jtag, Mode, Pin, Port, Swd, SwdConfig, Swj, TransferError, Wire,
};

/// Status byte of many responses (CMSIS-DAP "Response Status").
pub(crate) const DAP_OK: u8 = 0x00;
pub(crate) const DAP_ERROR: u8 = 0xFF;

/// DAP_SWJ_Pins wait limit: 3 s (CMSIS-DAP DAP_SWJ_Pins: "Pin Wait ... max 3 seconds").
const MAX_PIN_WAIT_US: u32 = 3_000_000;
/// Poll interval of the DAP_SWJ_Pins wait.
const PIN_POLL_US: u32 = 10;

/// Microseconds in `ticks` of a clock running at `hz`.
fn ticks_to_us(ticks: u32, hz: u32) -> u32 {
    (u64::from(ticks) * 1_000_000 / u64::from(hz.max(1))).min(u64::from(u32::MAX)) as u32
}

bitflags::bitflags! {
    /// Capabilities (CMSIS-DAP DAP_Info 0xF0, Info0).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Capability: u8 {
        const SWD = 1 << 0;
        const JTAG = 1 << 1;
        const SWO_UART = 1 << 2;
        const SWO_MANCHESTER = 1 << 3;
        const ATOMIC = 1 << 4;
        const TEST_DOMAIN_TIMER = 1 << 5;
        const SWO_STREAMING = 1 << 6;
        const UART = 1 << 7;
    }
}

/// A request the processor cannot answer at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// No bytes: there is no command ID to answer.
    EmptyRequest,
    /// The response buffer holds fewer than 2 bytes (the shortest error reply plus room for
    /// DAP_Info's shortest answer).
    ResponseBuffer,
}

/// A CMSIS-DAP v2.1 command processor over a [`Wire`].
pub struct Dap<'a, W> {
    pub(crate) wire: W,
    config: Config<'a>,
    mode: Option<Mode>,
    swd: SwdConfig,
    settings: Settings,
    chain: Chain,
    pub(crate) swo: crate::swo::SwoState,
    pub(crate) uart: crate::uart::UartState,
}

/// SWD register transactions straight to the engine.
struct SwdLink<'w, W>(&'w mut W);

impl<W: Swd + Board> Link for SwdLink<'_, W> {
    fn access(
        &mut self,
        port: Port,
        read: bool,
        address: u8,
        data: u32,
    ) -> Result<u32, TransferError> {
        self.0.transfer(port, read, address, data)
    }

    fn posted(&self, port: Port) -> bool {
        port == Port::Ap
    }

    fn timestamp(&mut self) -> u32 {
        self.0.timestamp()
    }

    fn take_abort(&mut self) -> bool {
        self.0.take_abort()
    }
}

/// Commands whose response has a status byte: a bad request answers ID, DAP_ERROR. The
/// others (no status byte in their response) answer the single byte 0xFF, which no host
/// takes for the echoed ID (CMSIS-DAP "Commands": unimplemented commands reply 0xFF).
fn has_status(command: Command) -> bool {
    use Command::*;
    matches!(
        command,
        HostStatus
            | Disconnect
            | TransferConfigure
            | WriteAbort
            | Delay
            | ResetTarget
            | SwjClock
            | SwjSequence
            | SwdConfigure
            | SwdSequence
            | JtagSequence
            | JtagConfigure
            | JtagIdcode
            | UartTransport
            | UartControl
    )
}

impl<'a, W: Wire> Dap<'a, W> {
    /// A processor over `wire`, not connected, with ARM's reference defaults for the
    /// transfer settings (100 WAIT retries, no match retry, no idle cycles).
    pub fn new(wire: W, config: Config<'a>) -> Result<Self, ConfigError> {
        config.check()?;
        Ok(Self {
            wire,
            config,
            mode: None,
            swd: SwdConfig::default(),
            settings: Settings::new(config.timestamp_hz.is_some()),
            chain: Chain::default(),
            swo: crate::swo::SwoState::new(),
            uart: crate::uart::UartState::new(),
        })
    }

    pub fn config(&self) -> &Config<'a> {
        &self.config
    }

    /// The protocol set up by the last DAP_Connect, if any.
    pub fn mode(&self) -> Option<Mode> {
        self.mode
    }

    pub fn wire(&mut self) -> &mut W {
        &mut self.wire
    }

    pub fn into_wire(self) -> W {
        self.wire
    }

    /// Answer one request. Returns the response length; 0 means "send nothing"
    /// (DAP_TransferAbort). The response is at most `min(response.len(), packet_size)`
    /// bytes. Bytes after the request (HID padding) are ignored.
    ///
    /// DAP_QueueCommands (0x7E) is answered like DAP_ExecuteCommands, with ID 0x7F, as ARM's
    /// reference firmware does; holding queued packets until one without 0x7E arrives is
    /// the transport's job (see [`is_queued`](crate::is_queued)).
    pub fn process(&mut self, request: &[u8], response: &mut [u8]) -> Result<usize, Error> {
        let id = *request.first().ok_or(Error::EmptyRequest)?;
        if id == Command::TransferAbort as u8 {
            // Nothing runs while we are called: no transfer to abort (CMSIS-DAP
            // DAP_TransferAbort has no response).
            return Ok(0);
        }
        let limit = response.len().min(usize::from(self.config.packet_size));
        if limit < 2 {
            return Err(Error::ResponseBuffer);
        }
        let mut out = Response::new(&mut response[..limit]);
        // An error reply at the start of the buffer always fits in 2 bytes.
        let _ = self.dispatch(request, &mut out, false);
        Ok(out.len())
    }

    /// Answer the request at the start of `request`, appending to `out`; on a bad request
    /// or no room, write the command's error reply instead.
    fn dispatch(&mut self, request: &[u8], out: &mut Response, nested: bool) -> Result<(), Fail> {
        let start = out.len();
        let id = request.first().copied().ok_or(Fail::Malformed)?;
        let mut body = Request::new(request.get(1..).unwrap_or(&[]));
        let command = Command::try_from(id).ok();
        let result = match command {
            Some(command) => out
                .u8(id)
                .and_then(|()| self.run(command, &mut body, out, nested)),
            None => Err(Fail::Unsupported),
        };
        if result.is_ok() {
            return Ok(());
        }
        out.truncate(start);
        match command {
            Some(command) if has_status(command) && result != Err(Fail::Unsupported) => {
                out.bytes(&[id, DAP_ERROR])
            }
            _ => out.u8(ID_INVALID),
        }
    }

    fn run(
        &mut self,
        command: Command,
        body: &mut Request,
        out: &mut Response,
        nested: bool,
    ) -> Result<(), Fail> {
        use Command::*;
        match command {
            Info => self.info(body, out),
            HostStatus => self.host_status(body, out),
            Connect => self.connect(body, out),
            Disconnect => self.disconnect(out),
            TransferConfigure => self.transfer_configure(body, out),
            Transfer => self.transfer(body, out),
            TransferBlock => self.transfer_block(body, out),
            WriteAbort => self.write_abort(body, out),
            Delay => self.delay(body, out),
            ResetTarget => out.bytes(&[DAP_OK, 0]),
            SwjPins => self.swj_pins(body, out),
            SwjClock => self.swj_clock(body, out),
            SwjSequence => self.swj_sequence(body, out),
            SwdConfigure => self.swd_configure(body, out),
            SwdSequence => self.swd_sequence(body, out),
            JtagSequence => self.jtag_sequence(body, out),
            JtagConfigure => self.jtag_configure(body, out),
            JtagIdcode => self.jtag_idcode(body, out),
            QueueCommands | ExecuteCommands if !nested => self.execute_commands(body, out),
            SwoTransport if self.has_swo() => self.swo_transport(body, out),
            SwoMode if self.has_swo() => self.swo_mode(body, out),
            SwoBaudrate if self.has_swo() => self.swo_baudrate(body, out),
            SwoControl if self.has_swo() => self.swo_control(body, out),
            SwoStatus if self.has_swo() => self.swo_status(out),
            SwoExtendedStatus if self.has_swo() => self.swo_extended_status(body, out),
            SwoData if self.has_swo() => self.swo_data(body, out),
            UartTransport if self.has_uart() => self.uart_transport(body, out),
            UartConfigure if self.has_uart() => self.uart_configure(body, out),
            UartControl if self.has_uart() => self.uart_control(body, out),
            UartStatus if self.has_uart() => self.uart_status(out),
            UartTransfer if self.has_uart() => self.uart_transfer(body, out),
            // SWO and UART only with the board's SWO input or UART (capability bits 2, 3
            // and 7 as the board says; 6, streaming, clear): CMSIS-DAP's SWO commands are
            // "only available when" those bits are set, so otherwise they are unimplemented.
            // TransferAbort and atomic commands inside DAP_ExecuteCommands are not
            // commands there (ARM's reference firmware answers them 0xFF too).
            _ => Err(Fail::Unsupported),
        }
    }

    /// DAP_Info (CMSIS-DAP DAP_Info). Strings are NUL-terminated and Len counts the NUL.
    fn info(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let strings = self.config.strings;
        let text = match body.u8()? {
            0x01 => strings.vendor,
            0x02 => strings.product,
            0x03 => strings.serial,
            0x04 => Some(PROTOCOL_VERSION),
            0x05 => strings.target_vendor,
            0x06 => strings.target_name,
            0x07 => strings.board_vendor,
            0x08 => strings.board_name,
            0x09 => strings.firmware_version,
            0xF0 => return out.bytes(&[1, self.capabilities()]),
            0xF1 => return self.info_word(out, self.config.timestamp_hz),
            0xFE => return out.bytes(&[1, self.config.packet_count]),
            0xFF => {
                out.u8(2)?;
                return out.u16(self.config.packet_size);
            }
            0xFB if self.has_uart() => {
                return self.info_word(out, Some(crate::uart::UART_RECEIVE_BUFFER_SIZE as u32));
            }
            0xFC if self.has_uart() => {
                return self.info_word(out, Some(crate::uart::UART_TRANSMIT_BUFFER_SIZE as u32));
            }
            0xFD if self.has_swo() => {
                return self.info_word(out, Some(crate::swo::SWO_BUFFER_SIZE as u32));
            }
            // 0xFB, 0xFC, 0xFD without a UART or SWO input: Len 0, as unknown IDs.
            _ => None,
        };
        match text {
            Some(text) => info_string(out, text),
            None => out.u8(0),
        }
    }

    fn capabilities(&self) -> u8 {
        let mut capabilities = Capability::SWD | Capability::JTAG | Capability::ATOMIC;
        capabilities.set(
            Capability::TEST_DOMAIN_TIMER,
            self.config.timestamp_hz.is_some(),
        );
        let modes = self.wire.swo_modes();
        capabilities.set(
            Capability::SWO_UART,
            modes.contains(&Some(crate::wire::SwoMode::Uart)),
        );
        capabilities.set(
            Capability::SWO_MANCHESTER,
            modes.contains(&Some(crate::wire::SwoMode::Manchester)),
        );
        capabilities.set(Capability::UART, self.wire.has_uart());
        capabilities.bits()
    }

    fn info_word(&self, out: &mut Response, value: Option<u32>) -> Result<(), Fail> {
        match value {
            Some(value) => {
                out.u8(4)?;
                out.u32(value)
            }
            None => out.u8(0),
        }
    }

    fn host_status(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let kind = match body.u8()? {
            0 => HostStatus::Connected,
            1 => HostStatus::Running,
            _ => return Err(Fail::Malformed),
        };
        let on = body.u8()? & 1 != 0;
        self.wire.host_status(kind, on);
        out.u8(DAP_OK)
    }

    /// DAP_Connect: the port set up, 0 if none. An unknown port changes nothing.
    fn connect(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let mode = match body.u8()? {
            0 => self.config.default_mode,
            1 => Mode::Swd,
            2 => Mode::Jtag,
            _ => return out.u8(0),
        };
        if !self.wire.connect(mode) {
            self.mode = None;
            return out.u8(0);
        }
        self.mode = Some(mode);
        if mode == Mode::Swd {
            Swd::configure(&mut self.wire, self.swd);
        }
        out.u8(mode as u8)
    }

    fn disconnect(&mut self, out: &mut Response) -> Result<(), Fail> {
        self.wire.disconnect();
        self.mode = None;
        out.u8(DAP_OK)
    }

    fn transfer_configure(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let idle_cycles = body.u8()?;
        let wait_retries = body.u16()?;
        let match_retries = body.u16()?;
        self.swd.idle_cycles = idle_cycles;
        self.settings.wait_retries = wait_retries;
        self.settings.match_retries = match_retries;
        Swd::configure(&mut self.wire, self.swd);
        out.u8(DAP_OK)
    }

    /// A JTAG scanner to device `index`, if the chain has it.
    fn scanner(&mut self, index: u8) -> Option<Scanner<'_, W>> {
        self.chain.contains(index).then_some(Scanner {
            wire: &mut self.wire,
            chain: &self.chain,
            index,
            idle_cycles: self.swd.idle_cycles,
        })
    }

    /// DAP_Transfer. Not connected, or a JTAG index off the chain: count 0, value 0, as
    /// ARM's reference firmware answers.
    fn transfer(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let index = body.u8()?;
        let size = transfer::transfer_response_size(body.clone(), &self.settings)?;
        out.ensure(size)?;
        let mut settings = self.settings;
        let result = match self.mode {
            Some(Mode::Swd) => {
                transfer::transfer(&mut SwdLink(&mut self.wire), &mut settings, body, out)
            }
            Some(Mode::Jtag) => match self.scanner(index) {
                Some(scanner) => {
                    transfer::transfer(&mut JtagLink::new(scanner), &mut settings, body, out)
                }
                None => out.bytes(&[0, 0]),
            },
            None => out.bytes(&[0, 0]),
        };
        self.settings.match_mask = settings.match_mask;
        result
    }

    /// DAP_TransferBlock. Not connected or off the chain: count 0, value 0.
    fn transfer_block(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let index = body.u8()?;
        let size = transfer::block_response_size(body.clone())?;
        out.ensure(size)?;
        let settings = self.settings;
        match self.mode {
            Some(Mode::Swd) => {
                transfer::transfer_block(&mut SwdLink(&mut self.wire), &settings, body, out)
            }
            Some(Mode::Jtag) => match self.scanner(index) {
                Some(scanner) => {
                    transfer::transfer_block(&mut JtagLink::new(scanner), &settings, body, out)
                }
                None => out.bytes(&[0, 0, 0]),
            },
            None => out.bytes(&[0, 0, 0]),
        }
    }

    /// DAP_WriteABORT: DP ABORT (SWD: DP write to 0x0; JTAG: the ABORT instruction,
    /// ADIv5.2 B3.3.1). DAP_ERROR if not connected, off the chain, or not acknowledged.
    fn write_abort(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let index = body.u8()?;
        let value = body.u32()?;
        let written = match self.mode {
            Some(Mode::Swd) => self.wire.transfer(Port::Dp, false, 0x0, value).is_ok(),
            Some(Mode::Jtag) => match self.scanner(index) {
                Some(scanner) => {
                    let mut link = JtagLink::new(scanner);
                    link.select(instruction::ABORT);
                    link.scan(false, 0x0, value).is_ok()
                }
                None => false,
            },
            None => false,
        };
        out.u8(if written { DAP_OK } else { DAP_ERROR })
    }

    fn delay(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let us = body.u16()?;
        self.wire.delay_us(u32::from(us));
        out.u8(DAP_OK)
    }

    /// DAP_SWJ_Pins: drive the selected pins, then wait up to `wait` µs until they read
    /// back as driven (e.g. nRESET released by the target); answer the pin levels.
    ///
    /// The wait is clamped to the specification's 3 s and measured on the timestamp clock
    /// when there is one: a delay call costs more than it asks for (e.g. a host's sleep),
    /// so summing the requested delays would overrun.
    fn swj_pins(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let output = Pin::from_bits_retain(body.u8()?);
        let select = Pin::from_bits_retain(body.u8()?);
        let wait = body.u32()?.min(MAX_PIN_WAIT_US);
        let mut input = self.wire.pins(output, select);
        let start = self
            .config
            .timestamp_hz
            .map(|hz| (self.wire.timestamp(), hz));
        let mut waited = 0;
        while !((input ^ output) & select).is_empty() && waited < wait {
            let step = PIN_POLL_US.min(wait - waited);
            self.wire.delay_us(step);
            waited = match start {
                Some((start, hz)) => ticks_to_us(self.wire.timestamp().wrapping_sub(start), hz),
                None => waited + step,
            };
            input = self.wire.pins(output, Pin::empty());
        }
        out.u8(input.bits())
    }

    fn swj_clock(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let hz = body.u32()?;
        let accepted = hz != 0 && self.wire.set_clock(hz);
        out.u8(if accepted { DAP_OK } else { DAP_ERROR })
    }

    /// DAP_SWJ_Sequence: 1..=256 bits, a count of 0 meaning 256.
    fn swj_sequence(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let bits = swj_sequence_bits(body.u8()?);
        let data = body.bytes(bits.div_ceil(8))?;
        Swj::sequence(&mut self.wire, data, bits);
        out.u8(DAP_OK)
    }

    /// DAP_SWD_Configure: bits 1..0 turnaround - 1, bit 2 always data phase.
    fn swd_configure(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let value = body.u8()?;
        self.swd.turnaround = (value & 0b11) + 1;
        self.swd.data_phase = value & 0b100 != 0;
        Swd::configure(&mut self.wire, self.swd);
        out.u8(DAP_OK)
    }

    /// DAP_SWD_Sequence: output sequences carry data; input sequences answer it.
    fn swd_sequence(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let size = sequences_response_size(body.clone(), true)?;
        out.ensure(1 + size)?;
        out.u8(DAP_OK)?;
        let count = body.u8()?;
        for _ in 0..count {
            let info = body.u8()?;
            let bits = sequence_bits(info);
            let bytes = bits.div_ceil(8);
            if info & 0x80 != 0 {
                let position = out.reserve(bytes)?;
                self.wire
                    .read_sequence(out.slice_mut(position, bytes), bits);
            } else {
                let data = body.bytes(bytes)?;
                self.wire.write_sequence(data, bits);
            }
        }
        Ok(())
    }

    /// DAP_JTAG_Sequence: bits 5..0 TCK cycles, bit 6 TMS, bit 7 capture TDO.
    fn jtag_sequence(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let size = sequences_response_size(body.clone(), false)?;
        out.ensure(1 + size)?;
        out.u8(DAP_OK)?;
        let count = body.u8()?;
        for _ in 0..count {
            let info = body.u8()?;
            let bits = sequence_bits(info);
            let bytes = bits.div_ceil(8);
            let tdi = body.bytes(bytes)?;
            let tms = info & 0x40 != 0;
            if info & 0x80 != 0 {
                let position = out.reserve(bytes)?;
                Jtag::sequence(
                    &mut self.wire,
                    tms,
                    tdi,
                    bits,
                    Some(out.slice_mut(position, bytes)),
                );
            } else {
                Jtag::sequence(&mut self.wire, tms, tdi, bits, None);
            }
        }
        Ok(())
    }

    /// DAP_JTAG_Configure: the IR length of each device, from TDO. At most
    /// [`MAX_DEVICES`](crate::MAX_DEVICES) devices, each IR at least 1 bit.
    fn jtag_configure(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let count = body.u8()?;
        let lengths = body.bytes(usize::from(count))?;
        self.chain = Chain::new(lengths).ok_or(Fail::Malformed)?;
        out.u8(DAP_OK)
    }

    /// DAP_JTAG_IDCODE: the IDCODE instruction on device `index`, then a 32-bit DR scan.
    fn jtag_idcode(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let index = body.u8()?;
        out.ensure(5)?;
        let scanner = match self.mode {
            Some(Mode::Jtag) => self.scanner(index),
            _ => None,
        };
        let Some(mut scanner) = scanner else {
            return out.u8(DAP_ERROR);
        };
        scanner.ir(instruction::IDCODE);
        let idcode = scanner.dr(32, 0) as u32;
        out.u8(DAP_OK)?;
        out.u32(idcode)
    }

    /// DAP_ExecuteCommands (and queued DAP_QueueCommands): count, then the requests one
    /// after another; the response is 0x7F, count, then the responses. The whole request is
    /// checked before any command runs.
    fn execute_commands(&mut self, body: &mut Request, out: &mut Response) -> Result<(), Fail> {
        let mut check = body.clone();
        let count = check.u8()?;
        for _ in 0..count {
            let length = command::parse_length(check.rest(), true)?;
            check.bytes(length)?;
        }
        let start = out.len() - 1;
        out.patch(start, &[Command::ExecuteCommands as u8]);
        out.u8(body.u8()?)?;
        for _ in 0..count {
            let length = command::parse_length(body.rest(), true)?;
            let request = body.bytes(length)?;
            self.dispatch(request, out, true)?;
        }
        Ok(())
    }
}

/// A DAP_Info string: Len counts the NUL (pyOCD drops the last byte as the NUL). Cut at a
/// character boundary to fit the response and Len's 255.
fn info_string(out: &mut Response, text: &str) -> Result<(), Fail> {
    let room = out.room().saturating_sub(2).min(254);
    let mut length = text.len().min(room);
    while !text.is_char_boundary(length) {
        length -= 1;
    }
    out.u8(length as u8 + 1)?;
    out.bytes(&text.as_bytes()[..length])?;
    out.u8(0)
}

/// Check a DAP_SWD_Sequence (`swd`) or DAP_JTAG_Sequence body and return the bytes of
/// captured data it answers.
fn sequences_response_size(mut body: Request, swd: bool) -> Result<usize, Fail> {
    let count = body.u8()?;
    let mut size = 0;
    for _ in 0..count {
        let info = body.u8()?;
        let bytes = sequence_bits(info).div_ceil(8);
        let input = info & 0x80 != 0;
        if !(swd && input) {
            body.bytes(bytes)?;
        }
        if input {
            size += bytes;
        }
    }
    Ok(size)
}
