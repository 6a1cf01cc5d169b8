//! SWD/JTAG on STM32 GPIO registers: BSRR to set and reset outputs, IDR to sample inputs,
//! MODER to turn SWDIO around.
//!
//! The register layout is the same on the F7 and the H7 (RM0431 6.4.11, RM0433 11.4.12):
//! MODER 0x00 (2 bits a pin: 00 input, 01 output), OTYPER 0x04 (1: open drain), OSPEEDR
//! 0x08 (11: very high), PUPDR 0x0C (01: pull-up), IDR 0x10, ODR 0x14, BSRR 0x18 (bits
//! 0-15 set, 16-31 reset, one write, no read-modify-write). Ports follow each other every
//! 0x400 bytes from GPIOA.
//!
//! [`Stm32Pins`] is generic over a [`GpioBus`], the place the register block lives: the
//! MCU's address space ([`Mmio`], the only unsafe code here) or a model
//! ([`crate::gpio_model::GpioModel`]). Register addresses are resolved once, when the
//! pins are opened; each edge is then one store.

use wire::Pins;

/// GPIOA on the STM32F72x/F73x (RM0431 2.2.2, AHB1).
pub const GPIOA_F7: u32 = 0x4002_0000;
/// GPIOA on the STM32H743/H750 (RM0433 2.3.2, AHB4).
pub const GPIOA_H7: u32 = 0x5802_0000;
/// Distance between two ports' register blocks.
pub const PORT_STRIDE: u32 = 0x400;

/// Register offsets in a port's block (RM0431 6.4.11).
pub mod register {
    pub const MODER: u32 = 0x00;
    pub const OTYPER: u32 = 0x04;
    pub const OSPEEDR: u32 = 0x08;
    pub const PUPDR: u32 = 0x0C;
    pub const IDR: u32 = 0x10;
    pub const ODR: u32 = 0x14;
    pub const BSRR: u32 = 0x18;
}

const MODE_INPUT: u32 = 0b00;
const MODE_OUTPUT: u32 = 0b01;
const SPEED_VERY_HIGH: u32 = 0b11;
const PULL_UP: u32 = 0b01;

/// One MCU pin: port (0 = A) and number (0-15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pin {
    pub port: u8,
    pub number: u8,
}

impl Pin {
    /// `Pin::new('B', 13)` is PB13.
    pub const fn new(port: char, number: u8) -> Self {
        Self {
            port: (port as u32 - 'A' as u32) as u8,
            number,
        }
    }

    const fn mask(self) -> u32 {
        1 << self.number
    }
}

impl core::fmt::Display for Pin {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "P{}{}", (b'A' + self.port) as char, self.number)
    }
}

/// Which pin carries which signal of the debug connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinMap {
    /// SWCLK/TCK, push-pull output.
    pub swclk: Pin,
    /// SWDIO/TMS: an output, turned to an input for the target's bits.
    pub swdio: Pin,
    /// Where SWDIO is read when not on `swdio` itself (ST-Link V3: written on PF9, read
    /// on PH7).
    pub swdio_in: Option<Pin>,
    /// An external buffer's direction pin, high while the probe drives SWDIO.
    pub swdio_direction: Option<Pin>,
    pub tdi: Option<Pin>,
    pub tdo: Option<Pin>,
    /// nRST, open drain with pull-up: low asserts, read back to see the target's own reset.
    pub reset: Option<Pin>,
}

impl PinMap {
    fn all(&self) -> [Option<Pin>; 7] {
        [
            Some(self.swclk),
            Some(self.swdio),
            self.swdio_in,
            self.swdio_direction,
            self.tdi,
            self.tdo,
            self.reset,
        ]
    }
}

/// Why a pin map cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinError {
    /// A port this MCU (or model) does not have, or a pin number above 15.
    NoSuchPin(Pin),
    /// One pin named for two signals.
    Twice(Pin),
}

impl core::fmt::Display for PinError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PinError::NoSuchPin(pin) => write!(f, "{pin} does not exist on this MCU"),
            PinError::Twice(pin) => write!(f, "{pin} is named for two signals"),
        }
    }
}

/// Where GPIO register blocks live. A `Register` can only be made by [`GpioBus::register`],
/// which checks it; reads and writes then need no check.
pub trait GpioBus {
    type Register: Copy;
    /// The register at `offset` in port `port`'s block, if the port exists.
    fn register(&self, port: u8, offset: u32) -> Option<Self::Register>;
    fn read(&mut self, register: Self::Register) -> u32;
    fn write(&mut self, register: Self::Register, value: u32);
}

/// The MCU's own GPIO registers.
pub struct Mmio {
    gpioa: u32,
    ports: u8,
}

/// A checked address of a GPIO register in the MCU's address space.
#[derive(Clone, Copy)]
pub struct MmioRegister(*mut u32);

// SAFETY: the address of a memory-mapped register, not a reference to Rust data; which
// context may touch the pins is the owner's (`Stm32Pins`) business, as for any `Pins`.
#[allow(unsafe_code)]
unsafe impl Send for MmioRegister {}

impl Mmio {
    /// # Safety
    /// `ports` GPIO ports, 0x400 bytes apart from `gpioa`, exist on this MCU with their
    /// clocks on, and nothing else drives the pins this bus is used for.
    #[allow(unsafe_code)]
    pub const unsafe fn new(gpioa: u32, ports: u8) -> Self {
        Self { gpioa, ports }
    }
}

impl GpioBus for Mmio {
    type Register = MmioRegister;

    fn register(&self, port: u8, offset: u32) -> Option<MmioRegister> {
        (port < self.ports && offset <= register::BSRR && offset.is_multiple_of(4)).then(|| {
            MmioRegister((self.gpioa + u32::from(port) * PORT_STRIDE + offset) as usize as *mut u32)
        })
    }

    #[inline(always)]
    #[allow(unsafe_code)]
    fn read(&mut self, register: MmioRegister) -> u32 {
        // SAFETY: `register` was checked by `register()` against the ports `new` vouched for.
        unsafe { core::ptr::read_volatile(register.0) }
    }

    #[inline(always)]
    #[allow(unsafe_code)]
    fn write(&mut self, register: MmioRegister, value: u32) {
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile(register.0, value) }
    }
}

/// An output: its port's BSRR and its bit.
#[derive(Clone, Copy)]
struct Output<R> {
    bsrr: R,
    mask: u32,
}

/// An input: its port's IDR and its bit.
#[derive(Clone, Copy)]
struct Input<R> {
    idr: R,
    mask: u32,
}

/// SWDIO's mode field: its port's MODER and the field's position.
#[derive(Clone, Copy)]
struct ModeField<R> {
    moder: R,
    shift: u32,
}

/// The debug connector on STM32 GPIO.
pub struct Stm32Pins<B: GpioBus> {
    bus: B,
    swclk: Output<B::Register>,
    swdio: Output<B::Register>,
    swdio_mode: ModeField<B::Register>,
    swdio_in: Input<B::Register>,
    swdio_direction: Option<Output<B::Register>>,
    tdi: Option<Output<B::Register>>,
    tdo: Option<Input<B::Register>>,
    reset: Option<OpenDrain<B::Register>>,
}

/// nRST: driven through BSRR, read back through IDR.
type OpenDrain<R> = (Output<R>, Input<R>);

impl<B: GpioBus> Stm32Pins<B> {
    /// Configure the pins (outputs at very high speed with their idle levels set first:
    /// SWCLK low, SWDIO and TDI high, nRST released; SWDIO, TDO and nRST pulled up) and
    /// resolve their registers.
    pub fn new(bus: B, map: PinMap) -> Result<Self, PinError> {
        let listed = map.all();
        for (index, pin) in listed.iter().enumerate() {
            let Some(pin) = *pin else { continue };
            if pin.number > 15 || bus.register(pin.port, register::MODER).is_none() {
                return Err(PinError::NoSuchPin(pin));
            }
            if listed[..index].contains(&Some(pin)) {
                return Err(PinError::Twice(pin));
            }
        }
        let output = |bus: &B, pin: Pin| Output {
            bsrr: bus
                .register(pin.port, register::BSRR)
                .expect("checked above"),
            mask: pin.mask(),
        };
        let input = |bus: &B, pin: Pin| Input {
            idr: bus
                .register(pin.port, register::IDR)
                .expect("checked above"),
            mask: pin.mask(),
        };
        let mut pins = Self {
            swclk: output(&bus, map.swclk),
            swdio: output(&bus, map.swdio),
            swdio_mode: ModeField {
                moder: bus
                    .register(map.swdio.port, register::MODER)
                    .expect("checked above"),
                shift: 2 * u32::from(map.swdio.number),
            },
            swdio_in: input(&bus, map.swdio_in.unwrap_or(map.swdio)),
            swdio_direction: map.swdio_direction.map(|pin| output(&bus, pin)),
            tdi: map.tdi.map(|pin| output(&bus, pin)),
            tdo: map.tdo.map(|pin| input(&bus, pin)),
            reset: map.reset.map(|pin| (output(&bus, pin), input(&bus, pin))),
            bus,
        };
        // Levels before modes, so no output glitches.
        pins.set(pins.swclk, false);
        pins.set(pins.swdio, true);
        for output in [
            pins.tdi,
            pins.swdio_direction,
            pins.reset.map(|(out, _)| out),
        ]
        .into_iter()
        .flatten()
        {
            pins.set(output, true);
        }
        for pin in [
            Some(map.swclk),
            Some(map.swdio),
            map.swdio_direction,
            map.tdi,
            map.reset,
        ]
        .into_iter()
        .flatten()
        {
            pins.field(pin, register::OSPEEDR, SPEED_VERY_HIGH);
            pins.field(pin, register::MODER, MODE_OUTPUT);
        }
        for pin in [map.swdio_in, map.tdo].into_iter().flatten() {
            pins.field(pin, register::MODER, MODE_INPUT);
        }
        for pin in [Some(map.swdio_in.unwrap_or(map.swdio)), map.tdo, map.reset]
            .into_iter()
            .flatten()
        {
            pins.field(pin, register::PUPDR, PULL_UP);
        }
        if let Some(pin) = map.reset {
            pins.bit(pin, register::OTYPER, true);
        }
        Ok(pins)
    }

    pub fn bus(&mut self) -> &mut B {
        &mut self.bus
    }

    #[inline(always)]
    fn set(&mut self, output: Output<B::Register>, high: bool) {
        let bits = if high { output.mask } else { output.mask << 16 };
        self.bus.write(output.bsrr, bits);
    }

    #[inline(always)]
    fn get(&mut self, input: Input<B::Register>) -> bool {
        self.bus.read(input.idr) & input.mask != 0
    }

    /// Set a pin's 2-bit field in a configuration register (read-modify-write; at
    /// configuration and turnaround only).
    fn field(&mut self, pin: Pin, offset: u32, value: u32) {
        let register = self.bus.register(pin.port, offset).expect("checked in new");
        let shift = 2 * u32::from(pin.number);
        let old = self.bus.read(register);
        self.bus
            .write(register, old & !(0b11 << shift) | value << shift);
    }

    fn bit(&mut self, pin: Pin, offset: u32, set: bool) {
        let register = self.bus.register(pin.port, offset).expect("checked in new");
        let old = self.bus.read(register);
        let mask = pin.mask();
        self.bus
            .write(register, if set { old | mask } else { old & !mask });
    }
}

impl<B: GpioBus> Pins for Stm32Pins<B> {
    #[inline(always)]
    fn set_swclk(&mut self, high: bool) {
        self.set(self.swclk, high);
    }

    #[inline(always)]
    fn set_swdio(&mut self, high: bool) {
        self.set(self.swdio, high);
    }

    /// The turnaround: the buffer's direction follows MODER so that the probe and the
    /// target never drive the line together (direction high only while SWDIO is an output).
    fn swdio_output(&mut self, enable: bool) {
        let field = self.swdio_mode;
        let old = self.bus.read(field.moder);
        let mode = if enable { MODE_OUTPUT } else { MODE_INPUT };
        let new = old & !(0b11 << field.shift) | mode << field.shift;
        if enable {
            if let Some(direction) = self.swdio_direction {
                self.set(direction, true);
            }
            self.bus.write(field.moder, new);
        } else {
            self.bus.write(field.moder, new);
            if let Some(direction) = self.swdio_direction {
                self.set(direction, false);
            }
        }
    }

    #[inline(always)]
    fn read_swdio(&mut self) -> bool {
        self.get(self.swdio_in)
    }

    fn set_tdi(&mut self, high: bool) {
        if let Some(tdi) = self.tdi {
            self.set(tdi, high);
        }
    }

    /// A board without TDO reads it high (nothing driving, pulled up).
    fn read_tdo(&mut self) -> bool {
        match self.tdo {
            Some(tdo) => self.get(tdo),
            None => true,
        }
    }

    /// nRST is open drain: writing 0 pulls it low, 1 lets the pull-up have it.
    fn set_reset(&mut self, asserted: bool) {
        if let Some((output, _)) = self.reset {
            self.set(output, !asserted);
        }
    }

    fn read_reset(&mut self) -> bool {
        match self.reset {
            Some((_, input)) => !self.get(input),
            None => false,
        }
    }

    /// The registers have no clock of their own: the edges come as fast as the code
    /// writes them, slowed by `wire::clock::Clocked`'s calibrated delay.
    fn set_frequency(&mut self, hz: u32) -> u32 {
        hz
    }
}
