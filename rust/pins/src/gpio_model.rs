//! A model of STM32 GPIO register blocks wired to a debug connector: writes to BSRR, ODR
//! and MODER drive another [`Pins`] (on the host, the simulated target) and IDR reads
//! sample it. [`crate::stm32_gpio::Stm32Pins`] on this bus is the board's pin code,
//! compiled for the host.
//!
//! Approximations: no clocks (RCC) or alternate functions; an input pin no signal is wired
//! to reads its pull (PUPDR 01: high, else low); a push-pull output reads back its ODR bit;
//! the open-drain nRST reads low while either side pulls it; OTYPER and OSPEEDR are stored
//! only; nothing models two drivers fighting over SWDIO.

use crate::stm32_gpio::{GpioBus, Pin, PinMap, register};
use wire::Pins;

/// The ports modelled: A to K, as on the H743.
const PORTS: usize = 11;
/// MODER, OTYPER, OSPEEDR, PUPDR, IDR (unused: computed), ODR.
const STORED: usize = 6;

const MODE_OUTPUT: u32 = 0b01;
const PULL_UP: u32 = 0b01;

/// A register of the model: port and offset, checked when made.
#[derive(Clone, Copy, Debug)]
pub struct ModelRegister {
    port: u8,
    offset: u32,
}

/// What the model last drove onto the far side, so only changes go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Driven {
    swclk: bool,
    swdio_output: bool,
    swdio: bool,
    tdi: bool,
    reset: bool,
}

pub struct GpioModel<P: Pins> {
    far: P,
    map: PinMap,
    registers: [[u32; STORED]; PORTS],
    driven: Option<Driven>,
    /// Register writes so far (BSRR, ODR, MODER, ...): the cost of the pin code in stores.
    pub writes: u64,
}

impl<P: Pins> GpioModel<P> {
    /// GPIO ports as after reset (all inputs, no pulls), wired to `far` as `map` says.
    pub fn new(far: P, map: PinMap) -> Self {
        Self {
            far,
            map,
            registers: [[0; STORED]; PORTS],
            driven: None,
            writes: 0,
        }
    }

    /// The far side (the simulated target).
    pub fn far(&mut self) -> &mut P {
        &mut self.far
    }

    pub fn into_far(self) -> P {
        self.far
    }

    fn stored(&self, pin: Pin, offset: u32) -> u32 {
        self.registers[usize::from(pin.port)][(offset / 4) as usize]
    }

    fn mode_is_output(&self, pin: Pin) -> bool {
        self.stored(pin, register::MODER) >> (2 * pin.number) & 0b11 == MODE_OUTPUT
    }

    fn output_level(&self, pin: Pin) -> bool {
        self.stored(pin, register::ODR) >> pin.number & 1 != 0
    }

    /// An output pin's level, or None while it is not an output.
    fn driving(&self, pin: Pin) -> Option<bool> {
        self.mode_is_output(pin).then(|| self.output_level(pin))
    }

    /// Put the pins' levels onto the far side, where they changed.
    fn propagate(&mut self) {
        let map = self.map;
        let last = self.driven;
        let direction_allows = map
            .swdio_direction
            .is_none_or(|pin| self.driving(pin) == Some(true));
        let swdio_output = self.mode_is_output(map.swdio) && direction_allows;
        let now = Driven {
            swclk: self
                .driving(map.swclk)
                .unwrap_or(last.is_some_and(|d| d.swclk)),
            swdio_output,
            swdio: self.output_level(map.swdio),
            tdi: map
                .tdi
                .and_then(|pin| self.driving(pin))
                .unwrap_or(last.is_none_or(|d| d.tdi)),
            // Open drain: a 0 in ODR with the pin an output pulls nRST low.
            reset: map
                .reset
                .is_some_and(|pin| self.driving(pin) == Some(false)),
        };
        let changed = |field: fn(&Driven) -> bool| last.is_none_or(|d| field(&d) != field(&now));
        // Data before the edge it is sampled on: levels first, SWCLK last.
        if changed(|d| d.swdio) {
            self.far.set_swdio(now.swdio);
        }
        if changed(|d| d.swdio_output) {
            self.far.swdio_output(now.swdio_output);
        }
        if changed(|d| d.tdi) {
            self.far.set_tdi(now.tdi);
        }
        if changed(|d| d.reset) {
            self.far.set_reset(now.reset);
        }
        if changed(|d| d.swclk) {
            self.far.set_swclk(now.swclk);
        }
        self.driven = Some(now);
    }

    /// IDR: each pin's level as the MCU would sample it.
    fn input_data(&mut self, port: u8) -> u32 {
        let map = self.map;
        let mut levels = 0;
        for number in 0..16u8 {
            let pin = Pin { port, number };
            let pulled_up = self.stored(pin, register::PUPDR) >> (2 * number) & 0b11 == PULL_UP;
            let level = if Some(pin) == map.reset {
                !self.far.read_reset() && self.output_level(pin) | !self.mode_is_output(pin)
            } else if self.mode_is_output(pin) {
                self.output_level(pin)
            } else if pin == map.swdio_in.unwrap_or(map.swdio) {
                self.far.read_swdio()
            } else if Some(pin) == map.tdo {
                self.far.read_tdo()
            } else {
                pulled_up
            };
            levels |= u32::from(level) << number;
        }
        levels
    }
}

impl<P: Pins> GpioBus for GpioModel<P> {
    type Register = ModelRegister;

    fn register(&self, port: u8, offset: u32) -> Option<ModelRegister> {
        (usize::from(port) < PORTS && offset <= register::BSRR && offset.is_multiple_of(4))
            .then_some(ModelRegister { port, offset })
    }

    fn read(&mut self, register: ModelRegister) -> u32 {
        match register.offset {
            register::IDR => self.input_data(register.port),
            // BSRR is write-only and reads 0 (RM0431 6.4.7).
            register::BSRR => 0,
            offset => self.registers[usize::from(register.port)][(offset / 4) as usize],
        }
    }

    fn write(&mut self, register: ModelRegister, value: u32) {
        self.writes += 1;
        let port = &mut self.registers[usize::from(register.port)];
        let odr = &mut port[(register::ODR / 4) as usize];
        match register.offset {
            // A set bit wins over its reset bit (RM0431 6.4.7).
            register::BSRR => *odr = (*odr & !(value >> 16) | value) & 0xFFFF,
            register::ODR => *odr = value & 0xFFFF,
            register::IDR => return,
            offset => port[(offset / 4) as usize] = value,
        }
        self.propagate();
    }
}
