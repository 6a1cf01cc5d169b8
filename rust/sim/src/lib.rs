//! Simulated Cortex-M chips (the STM32F103 "blue pill" and others) at the SWD/JTAG wire.
//!
//! `port` is the debug-port half (SW-DP, JTAG-DP, AHB-AP, virtual clock, fault injection,
//! remote_bitbang server); `chip` is the target half's Cortex-M part (core on
//! unicorn-engine, debug registers, FPB, DWT, ROM table); `soc` holds one SoC per family
//! (identity, memory map, flash controller, RCC; the F1's USART1 for the probe's UART
//! bridge, `soc::usart`, approximations listed there). `bus` is the seam between port and
//! chip.
//!
//! Every register here (DP and AP registers, ACKs, the SCS debug registers, the flash
//! controllers') is the simulator's own definition, written from the specifications and
//! reference manuals, on purpose: not the probe's `wire`, `adi::register!`, `cortexm` or
//! `chips` types, so that the simulator stays an independent oracle for them. What it
//! shares with the probe is the seam it is driven through, `wire::Pins`.

pub mod bus;
pub mod chip;
pub mod port;
pub mod soc;

pub use port::{FaultConfig, Sim, Statistics, WireMode};
