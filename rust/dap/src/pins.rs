//! The processor's wire over bmp's pin-level engines: one object that owns the pins and
//! speaks SWD (through [`wire::swd::Swd`]) or raw JTAG cycles ([`wire::jtag::tck_cycle`]),
//! with the probe's serial inputs beside the pins ([`Serial`]: SWO receiver, UART bridge).

use crate::wire::{
    Board, Jtag, Mode, Pin, Port, Swd, SwdConfig, Swj, SwoMode, TransferError, UartErrors,
    UartFault, UartFormat,
};
use ::wire::Pins;
use ::wire::jtag::tck_cycle;
use ::wire::swd::Swd as SwdEngine;

/// Time for the processor (DAP_Delay, DAP_SWJ_Pins wait, the Test Domain Timer).
pub trait Timer {
    fn delay_us(&mut self, us: u32);
    /// A free-running counter at the rate given in `Config::timestamp_hz`, if any.
    fn timestamp(&mut self) -> u32 {
        0
    }
}

/// The probe's serial lines beside the debug pins: the SWO receiver (CMSIS-DAP SWO
/// commands) and the UART bridge (CMSIS-DAP UART commands). Each method gets the pins, for
/// a receiver that reads the target through them (the host probe's simulated target).
/// The defaults have neither.
pub trait Serial<P> {
    /// See [`Board::swo_modes`].
    fn swo_modes(&self) -> [Option<SwoMode>; 2] {
        [None, None]
    }
    /// See [`Board::swo_baudrate`].
    fn swo_baudrate(&mut self, _requested: u32) -> u32 {
        0
    }
    /// See [`Board::swo_read`].
    fn swo_read(
        &mut self,
        _pins: &mut P,
        _mode: SwoMode,
        _baudrate: u32,
        _buffer: &mut [u8],
    ) -> (usize, bool) {
        (0, false)
    }
    /// See [`Board::has_uart`].
    fn has_uart(&self) -> bool {
        false
    }
    /// See [`Board::uart_configure`].
    fn uart_configure(
        &mut self,
        _pins: &mut P,
        _format: UartFormat,
        _baudrate: u32,
    ) -> Result<u32, UartFault> {
        Err(UartFault::all())
    }
    /// See [`Board::uart_read`].
    fn uart_read(&mut self, _pins: &mut P, _buffer: &mut [u8]) -> (usize, UartErrors) {
        (0, UartErrors::empty())
    }
    /// See [`Board::uart_write`].
    fn uart_write(&mut self, _pins: &mut P, _data: &[u8]) -> usize {
        0
    }
}

/// No SWO receiver, no UART.
pub struct NoSerial;

impl<P> Serial<P> for NoSerial {}

pub struct PinWire<P: Pins, T: Timer, S: Serial<P> = NoSerial> {
    swd: SwdEngine<P>,
    timer: T,
    serial: S,
    /// Levels last driven, for DAP_SWJ_Pins' read-back of outputs we cannot sense.
    clock: bool,
    tdi: bool,
}

impl<P: Pins, T: Timer> PinWire<P, T> {
    pub fn new(pins: P, timer: T) -> Self {
        Self::with_serial(pins, timer, NoSerial)
    }
}

impl<P: Pins, T: Timer, S: Serial<P>> PinWire<P, T, S> {
    pub fn with_serial(pins: P, timer: T, serial: S) -> Self {
        Self {
            swd: SwdEngine::new(pins),
            timer,
            serial,
            clock: false,
            tdi: true,
        }
    }

    pub fn into_parts(self) -> (P, T) {
        (self.swd.into_pins(), self.timer)
    }

    pub fn serial(&mut self) -> &mut S {
        &mut self.serial
    }

    pub fn pins(&mut self) -> &mut P {
        self.swd.pins()
    }
}

fn bit(data: &[u8], index: usize) -> bool {
    data.get(index / 8)
        .is_some_and(|byte| byte >> (index % 8) & 1 != 0)
}

impl<P: Pins, T: Timer, S: Serial<P>> Swj for PinWire<P, T, S> {
    fn connect(&mut self, _mode: Mode) -> bool {
        self.swd.pins().swdio_output(true);
        true
    }

    fn disconnect(&mut self) {
        self.swd.pins().swdio_output(false);
    }

    fn sequence(&mut self, data: &[u8], bits: usize) {
        self.swd.sequence(data, bits);
        self.clock = false;
    }

    /// nRESET and nTRST are active low: an output bit of 1 releases them.
    fn pins(&mut self, output: Pin, select: Pin) -> Pin {
        let pins = self.swd.pins();
        if select.contains(Pin::SWCLK_TCK) {
            self.clock = output.contains(Pin::SWCLK_TCK);
            pins.set_swclk(self.clock);
        }
        if select.contains(Pin::SWDIO_TMS) {
            pins.swdio_output(true);
            pins.set_swdio(output.contains(Pin::SWDIO_TMS));
        }
        if select.contains(Pin::TDI) {
            self.tdi = output.contains(Pin::TDI);
            pins.set_tdi(self.tdi);
        }
        if select.contains(Pin::NRESET) {
            pins.set_reset(!output.contains(Pin::NRESET));
        }
        let mut levels = Pin::NTRST;
        levels.set(Pin::SWCLK_TCK, self.clock);
        levels.set(Pin::SWDIO_TMS, pins.read_swdio());
        levels.set(Pin::TDI, self.tdi);
        levels.set(Pin::TDO, pins.read_tdo());
        levels.set(Pin::NRESET, !pins.read_reset());
        levels
    }

    fn set_clock(&mut self, hz: u32) -> bool {
        hz > 0 && self.swd.pins().set_frequency(hz) > 0
    }
}

impl<P: Pins, T: Timer, S: Serial<P>> Swd for PinWire<P, T, S> {
    fn transfer(
        &mut self,
        port: Port,
        read: bool,
        address: u8,
        data: u32,
    ) -> Result<u32, TransferError> {
        if read {
            self.swd.read(port, address)
        } else {
            self.swd.write(port, address, data).map(|()| 0)
        }
    }

    fn configure(&mut self, config: SwdConfig) {
        self.swd.set_turnaround(u32::from(config.turnaround));
        self.swd.set_data_phase(config.data_phase);
        self.swd.set_idle_cycles(u32::from(config.idle_cycles));
    }

    fn write_sequence(&mut self, data: &[u8], bits: usize) {
        self.swd.sequence(data, bits);
    }

    fn read_sequence(&mut self, data: &mut [u8], bits: usize) {
        self.swd.pins().swdio_output(false);
        data.iter_mut().for_each(|byte| *byte = 0);
        for index in 0..bits {
            if self.swd.read_bits(1) != 0 {
                data[index / 8] |= 1 << (index % 8);
            }
        }
    }
}

impl<P: Pins, T: Timer, S: Serial<P>> Jtag for PinWire<P, T, S> {
    fn sequence(&mut self, tms: bool, tdi: &[u8], bits: usize, mut tdo: Option<&mut [u8]>) {
        if let Some(out) = tdo.as_deref_mut() {
            out.iter_mut().for_each(|byte| *byte = 0);
        }
        let pins = self.swd.pins();
        for index in 0..bits {
            let level = tck_cycle(pins, tms, bit(tdi, index));
            if level && let Some(out) = tdo.as_deref_mut() {
                out[index / 8] |= 1 << (index % 8);
            }
        }
        pins.set_swclk(false);
        self.clock = false;
    }
}

impl<P: Pins, T: Timer, S: Serial<P>> Board for PinWire<P, T, S> {
    fn delay_us(&mut self, us: u32) {
        self.timer.delay_us(us);
    }

    fn timestamp(&mut self) -> u32 {
        self.timer.timestamp()
    }

    fn swo_modes(&self) -> [Option<SwoMode>; 2] {
        self.serial.swo_modes()
    }

    fn swo_baudrate(&mut self, requested: u32) -> u32 {
        self.serial.swo_baudrate(requested)
    }

    fn swo_read(&mut self, mode: SwoMode, baudrate: u32, buffer: &mut [u8]) -> (usize, bool) {
        self.serial
            .swo_read(self.swd.pins(), mode, baudrate, buffer)
    }

    fn has_uart(&self) -> bool {
        self.serial.has_uart()
    }

    fn uart_configure(&mut self, format: UartFormat, baudrate: u32) -> Result<u32, UartFault> {
        self.serial
            .uart_configure(self.swd.pins(), format, baudrate)
    }

    fn uart_read(&mut self, buffer: &mut [u8]) -> (usize, UartErrors) {
        self.serial.uart_read(self.swd.pins(), buffer)
    }

    fn uart_write(&mut self, data: &[u8]) -> usize {
        self.serial.uart_write(self.swd.pins(), data)
    }
}
