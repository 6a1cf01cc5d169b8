//! A simulated STM32F103 "blue pill" at the SWD/JTAG wire.
//!
//! `port` is the debug-port half (SW-DP, JTAG-DP, AHB-AP, virtual clock, fault injection,
//! remote_bitbang server); `chip` is the target half (Cortex-M3 core on unicorn-engine,
//! debug registers, ROM table, STM32F103 memories and peripherals). `bus` is their seam.

pub mod bus;
pub mod chip;
pub mod port;

pub use port::{FaultConfig, Sim, Statistics, WireMode};
