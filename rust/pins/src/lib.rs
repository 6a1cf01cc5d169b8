//! Pin backends: the [`wire::Pins`] implementations that drive real signals.
//!
//! One module per backend; register or system-call access is each module's only unsafe
//! code, marked `#[allow(unsafe_code)]` where it is.
//!
//! - [`stm32_gpio`]: the GPIO registers of an STM32F7/H7 probe board (BSRR, IDR, MODER),
//!   generic over where the register block lives: the MCU's own address space
//!   ([`stm32_gpio::Mmio`]) or [`gpio_model::GpioModel`], a model of the register block
//!   whose writes drive another [`wire::Pins`] (the simulated target on the host), so the
//!   very code that runs on a board is tested against the simulator;
//! - [`gpiochip`]: Linux's GPIO character device, uAPI v2 (a Raspberry Pi as a probe),
//!   with its `BMP_WIRE` specification parsed by [`gpiochip_spec`];
//! - [`boards`]: which MCU pin carries which signal on each probe board;
//! - [`board_wire`]: a board's pins and delay loop as one concrete type, so that the bit
//!   loops are compiled here (kept at opt-level "s" for the boards).
#![cfg_attr(not(any(test, feature = "linux")), no_std)]
#![deny(unsafe_code)]

pub mod board_wire;
pub mod boards;
pub mod gpio_model;
#[cfg(all(target_os = "linux", any(test, feature = "linux")))]
pub mod gpiochip;
pub mod gpiochip_spec;
pub mod stm32_gpio;

/// The probe's busy loop between clock edges, the loop `dap.calibrate()` measures
/// (`wire::clock::Calibration`).
pub struct SpinDelay;

impl wire::clock::DelayLoop for SpinDelay {
    /// Inlined: with no delay (the top speed) an edge costs only the test for zero.
    #[inline(always)]
    fn delay(&mut self, loops: u32) {
        for count in 0..loops {
            core::hint::black_box(count);
        }
    }
}
