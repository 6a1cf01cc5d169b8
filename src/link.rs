//! The wire under the session: a pin backend, driven as SWD or as JTAG, and the clock.
//!
//! Backends: on the host (feature `host`) the simulated blue pill in-process, or a
//! remote_bitbang server over TCP, chosen by the environment variable BMP_WIRE:
//!
//!   unset, or `sim[:CHIP]`     the in-process simulator (CHIP: stm32f103c8 (default),
//!                              stm32f103cb, stm32f103rc, cks32f103c8); BMP_SIM_FIRMWARE
//!                              names an ELF or .bin to preload into its flash;
//!                              BMP_SIM_REALTIME=0 stops the target's clock following
//!                              the wall clock (only the wire's virtual clock is left);
//!                              BMP_SIM_STATISTICS=1 prints the wire's counters to
//!                              stderr when a dap client disconnects (tools/bench);
//!                              BMP_DAP_LOG=FILE appends each CMSIS-DAP request to FILE
//!                              with its wall and virtual time (tools/bench_dap.py)
//!   `remote_bitbang:HOST:PORT` a remote_bitbang server (bmp-sim, or any other)
//!   `gpio-model[:BOARD]`       a probe board's GPIO pin code (rust/pins) against a model of
//!                              its GPIO registers wired to the simulator (BOARD:
//!                              stlink3mini (default), pybd_sf2, devebox_stm32h7)
//!   `gpiochip:DEVICE:swclk=N,swdio=N[,srst=N][,tdi=N][,tdo=N]`
//!                              a Linux GPIO chip's lines (uAPI v2; a Raspberry Pi)
//!
//! The qemu board (feature `board-link`): remote_bitbang on UART1, which qemu connects to a
//! server such as bmp-sim (`-serial tcp:127.0.0.1:PORT` as the second serial port).
//! Boards without a backend refuse scans with a clear error.
#![forbid(unsafe_code)]

use crate::mpy::{hal, sys};
use adi::{Clock, Port, TransferError, Transport};
use core::fmt;
use wire::Pins;
use wire::jtag::{Jtag, JtagDp};
use wire::swd::Swd;

/// Why there is no wire.
#[derive(Debug)]
pub enum NoWire {
    /// This firmware has no pin backend.
    #[cfg(not(any(feature = "host", feature = "board-link", feature = "board-gpio")))]
    NotOnThisBoard,
    /// BMP_WIRE could not be understood or opened (the text says why).
    #[cfg_attr(not(feature = "host"), allow(dead_code))]
    Backend(&'static str),
    /// The JTAG chain scan failed.
    Jtag(wire::jtag::JtagError),
}

impl fmt::Display for NoWire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            #[cfg(not(any(feature = "host", feature = "board-link", feature = "board-gpio")))]
            NoWire::NotOnThisBoard => write!(f, "this board has no SWD/JTAG pins yet"),
            NoWire::Backend(reason) => write!(f, "wire backend: {reason}"),
            NoWire::Jtag(wire::jtag::JtagError::BadChain) => {
                write!(f, "jtag scan failed: no devices (TDO stuck?)")
            }
            NoWire::Jtag(wire::jtag::JtagError::IrLengthMismatch) => {
                write!(
                    f,
                    "jtag scan: IR lengths unclear; pass them: jtag_scan(False, [4, 5])"
                )
            }
            NoWire::Jtag(wire::jtag::JtagError::NoDebugPort) => {
                write!(f, "jtag scan: no ARM JTAG-DP on the chain")
            }
        }
    }
}

#[cfg(feature = "host")]
pub type Backend = crate::host::HostPins;
#[cfg(all(not(feature = "host"), feature = "board-link"))]
pub type Backend = wire::remote_bitbang::RemoteBitbang<BoardLink>;
/// A probe board's GPIO, edges spaced by the calibrated delay loop; its bit loops are
/// compiled in rust/pins (opt-level "s" in the `board` profile), not here.
#[cfg(all(
    not(any(feature = "host", feature = "board-link")),
    feature = "board-gpio"
))]
pub type Backend = pins::board_wire::BoardPins;
#[cfg(not(any(feature = "host", feature = "board-link", feature = "board-gpio")))]
pub type Backend = NoPins;

pub fn open_backend() -> Result<Backend, NoWire> {
    #[cfg(feature = "host")]
    return crate::host::open();
    #[cfg(all(not(feature = "host"), feature = "board-link"))]
    return Ok(wire::remote_bitbang::RemoteBitbang::new(BoardLink));
    #[cfg(all(
        not(any(feature = "host", feature = "board-link")),
        feature = "board-gpio"
    ))]
    return open_board_gpio();
    #[cfg(not(any(feature = "host", feature = "board-link", feature = "board-gpio")))]
    Err(NoWire::NotOnThisBoard)
}

/// `bmp.pinout()`: where this build's wire goes (a board's debug-connector pins).
pub fn write_pinout(out: &mut dyn fmt::Write) -> fmt::Result {
    #[cfg(feature = "host")]
    return crate::host::write_pinout(out);
    #[cfg(all(not(feature = "host"), feature = "board-link"))]
    return writeln!(
        out,
        "remote_bitbang over the board's UART to a server (qemu: UART1)"
    );
    #[cfg(all(
        not(any(feature = "host", feature = "board-link")),
        feature = "board-gpio"
    ))]
    return match hal::board_gpio::open() {
        Some((board, _)) => board.write_pinout(out),
        None => writeln!(out, "this board's pin map is not in rust/pins boards.rs"),
    };
    #[cfg(not(any(feature = "host", feature = "board-link", feature = "board-gpio")))]
    writeln!(out, "no wire on this board")
}

/// Until `dap.calibrate()` runs: a loop iteration taken as 4 ns and edges as free, so the
/// clock stays below what is asked (a 216 MHz Cortex-M7 runs the loop in 3-4 cycles).
#[cfg(feature = "board-gpio")]
const BOARD_UNCALIBRATED: wire::clock::Calibration = wire::clock::Calibration {
    loops_at_1khz: 125_000,
    max_hz: u32::MAX,
};

/// The board's debug connector: the pin map its C glue names, on the MCU's GPIO.
#[cfg(all(
    not(any(feature = "host", feature = "board-link")),
    feature = "board-gpio"
))]
fn open_board_gpio() -> Result<Backend, NoWire> {
    let (board, registers) = hal::board_gpio::open().ok_or(NoWire::Backend(
        "this board's pin map is not in rust/pins boards.rs",
    ))?;
    let gpio = pins::stm32_gpio::Stm32Pins::new(registers, board.pins)
        .map_err(|_| NoWire::Backend("the board's pin map does not fit its MCU"))?;
    Ok(pins::board_wire::BoardPins::new(gpio, BOARD_UNCALIBRATED))
}

/// Give bit-banged pins the delay loop's calibration (`dap.calibrate()`); backends with
/// their own clock (the simulator, remote_bitbang) keep it.
pub fn set_calibration(pins: &mut Backend, calibration: wire::clock::Calibration) {
    #[cfg(feature = "host")]
    pins.set_calibration(calibration);
    #[cfg(all(
        not(any(feature = "host", feature = "board-link")),
        feature = "board-gpio"
    ))]
    pins.set_calibration(calibration);
    #[cfg(not(any(feature = "host", feature = "board-gpio")))]
    let _ = (pins, calibration);
}

/// The pins without any calibrated delay: what `dap.calibrate()` measures.
pub fn raw_pins(pins: &mut Backend) -> &mut dyn Pins {
    #[cfg(feature = "host")]
    return pins.raw();
    #[cfg(all(
        not(any(feature = "host", feature = "board-link")),
        feature = "board-gpio"
    ))]
    return pins.raw();
    #[cfg(not(any(feature = "host", feature = "board-gpio")))]
    pins
}

/// The board's UART to a remote_bitbang server (qemu: UART1, board_link.c).
#[cfg(feature = "board-link")]
pub struct BoardLink;

#[cfg(feature = "board-link")]
impl wire::remote_bitbang::ByteStream for BoardLink {
    fn write_all(&mut self, data: &[u8]) -> Result<(), wire::remote_bitbang::LinkLost> {
        hal::board_link::write(data);
        Ok(())
    }

    fn read_byte(&mut self) -> Result<u8, wire::remote_bitbang::LinkLost> {
        /// A server that does not answer within this is taken as absent.
        const ANSWER_TIMEOUT_MICROS: u32 = 200_000;
        hal::board_link::read(ANSWER_TIMEOUT_MICROS).ok_or(wire::remote_bitbang::LinkLost)
    }
}

/// The pins of a board that has none: it cannot be constructed.
#[cfg(not(any(feature = "host", feature = "board-link", feature = "board-gpio")))]
pub enum NoPins {}

#[cfg(not(any(feature = "host", feature = "board-link", feature = "board-gpio")))]
impl Pins for NoPins {
    fn set_swclk(&mut self, _: bool) {
        match *self {}
    }
    fn set_swdio(&mut self, _: bool) {
        match *self {}
    }
    fn swdio_output(&mut self, _: bool) {
        match *self {}
    }
    fn read_swdio(&mut self) -> bool {
        match *self {}
    }
    fn set_tdi(&mut self, _: bool) {
        match *self {}
    }
    fn read_tdo(&mut self) -> bool {
        match *self {}
    }
    fn set_reset(&mut self, _: bool) {
        match *self {}
    }
    fn set_frequency(&mut self, _: u32) -> u32 {
        match *self {}
    }
}

/// The wire as the session uses it.
pub enum Wire {
    Swd(Swd<Backend>),
    Jtag(JtagDp<Backend>),
}

impl Wire {
    /// SWD, switched from JTAG and line-reset (ADIv5.2 B5.2.2), nRST held if asked.
    pub fn swd(mut pins: Backend, assert_reset: bool) -> Self {
        pins.set_reset(assert_reset);
        let mut swd = Swd::new(pins);
        swd.switch_from_jtag();
        Wire::Swd(swd)
    }

    /// JTAG, switched from SWD (a SWJ-DP may be in either), the chain scanned, the ARM
    /// JTAG-DP found on it. On failure the pins come back with the reason.
    #[allow(
        clippy::result_large_err,
        reason = "the pins are handed back, once per scan"
    )]
    pub fn jtag(
        mut pins: Backend,
        assert_reset: bool,
        ir_lengths: &[u8],
    ) -> Result<Self, (NoWire, Backend)> {
        pins.set_reset(assert_reset);
        let mut jtag = Jtag::new(pins);
        jtag.switch_from_swd();
        match JtagDp::open(jtag, ir_lengths) {
            Ok(dp) => Ok(Wire::Jtag(dp)),
            Err((error, pins)) => Err((NoWire::Jtag(error), pins)),
        }
    }

    /// The JTAG chain found when the wire was opened (empty for SWD).
    pub fn chain(&self) -> &[wire::jtag::Device] {
        match self {
            Wire::Swd(_) => &[],
            Wire::Jtag(jtag) => jtag.devices(),
        }
    }

    pub fn pins(&mut self) -> &mut Backend {
        match self {
            Wire::Swd(swd) => swd.pins(),
            Wire::Jtag(jtag) => jtag.pins(),
        }
    }

    pub fn into_pins(self) -> Backend {
        match self {
            Wire::Swd(swd) => swd.into_pins(),
            Wire::Jtag(jtag) => jtag.into_pins(),
        }
    }

    pub fn release_reset(&mut self) {
        self.pins().set_reset(false);
    }
}

impl Transport for Wire {
    fn read(&mut self, port: Port, address: u8) -> Result<u32, TransferError> {
        match self {
            Wire::Swd(swd) => Transport::read(swd, port, address),
            Wire::Jtag(jtag) => Transport::read(jtag, port, address),
        }
    }

    fn write(&mut self, port: Port, address: u8, value: u32) -> Result<(), TransferError> {
        match self {
            Wire::Swd(swd) => Transport::write(swd, port, address, value),
            Wire::Jtag(jtag) => Transport::write(jtag, port, address, value),
        }
    }

    fn set_burst(&mut self, on: bool) {
        match self {
            Wire::Swd(swd) => Transport::set_burst(swd, on),
            Wire::Jtag(jtag) => Transport::set_burst(jtag, on),
        }
    }

    fn resynchronise(&mut self) -> Result<(), TransferError> {
        match self {
            Wire::Swd(swd) => swd.resynchronise(),
            Wire::Jtag(jtag) => jtag.resynchronise(),
        }
    }

    fn select_target(&mut self, target_select: u32) -> bool {
        match self {
            Wire::Swd(swd) => Transport::select_target(swd, target_select),
            Wire::Jtag(_) => false,
        }
    }

    fn wake_from_dormant(&mut self) -> bool {
        match self {
            Wire::Swd(swd) => Transport::wake_from_dormant(swd),
            Wire::Jtag(_) => false,
        }
    }

    fn is_jtag(&self) -> bool {
        matches!(self, Wire::Jtag(_))
    }

    fn swj(&mut self) -> Option<&mut dyn adi::Swj> {
        match self {
            Wire::Swd(swd) => Transport::swj(swd),
            Wire::Jtag(jtag) => Transport::swj(jtag),
        }
    }
}

/// MicroPython's microsecond ticks (mp_hal_ticks_us), extended to 64 bits; or, for the
/// debug session on the host probe with a simulated wire, the simulator's clock.
pub struct ProbeClock {
    last: sys::mp_uint_t,
    elapsed: u64,
    /// The engine's clock: only the host probe's simulator has one of its own.
    #[cfg_attr(not(feature = "host"), allow(dead_code))]
    target: bool,
}

impl ProbeClock {
    /// The probe's own clock (clients' timeouts: the host's time).
    pub fn new() -> Self {
        Self {
            last: hal::ticks_us(),
            elapsed: 0,
            target: false,
        }
    }

    /// The clock the engine's limits count in (a flash's busy time, WAIT retries, a
    /// routine's run): the target's. On a board that is the probe's own; on the host probe
    /// with a simulated wire it is the simulator's virtual time (host.rs), which a busy
    /// host does not move on.
    pub fn target() -> Self {
        Self {
            target: true,
            ..Self::new()
        }
    }
}

impl Clock for ProbeClock {
    fn now_micros(&mut self) -> u64 {
        #[cfg(feature = "host")]
        if self.target
            && let Some(micros) = crate::host::simulated_micros()
        {
            return micros;
        }
        let now = hal::ticks_us();
        self.elapsed += now.wrapping_sub(self.last) as u64;
        self.last = now;
        self.elapsed
    }
}

/// Wait `micros` microseconds on the board's clock.
pub fn delay_micros(micros: u32) {
    #[cfg(feature = "host")]
    std::thread::sleep(std::time::Duration::from_micros(u64::from(micros)));
    #[cfg(not(feature = "host"))]
    hal::delay_us(micros);
}
