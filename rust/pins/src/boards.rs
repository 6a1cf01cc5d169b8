//! The probe boards' debug-connector pins (boards/<NAME>/pins.csv names the same pins
//! BMP_SWCLK, BMP_SWDIO, ...; tests/test_boards.py checks they agree).
//!
//! Sources: the ST-Link V3MINI's pins as Black Magic Probe's stlinkv3 platform and
//! RadioOperator's CMSIS-DAP port use them; PYBD_SF2 and DEVEBOX as the original project
//! wired them (SWD on the SPI pins, for a later SPI mode; SWO on a UART's RX).

use crate::stm32_gpio::{GPIOA_F7, GPIOA_H7, Pin, PinMap};

/// A board: where its GPIO ports are and which pins the debug connector uses.
#[derive(Clone, Copy, Debug)]
pub struct Board {
    pub name: &'static str,
    /// GPIOA's address and the number of ports (A = 0).
    pub gpioa: u32,
    pub ports: u8,
    pub pins: PinMap,
    /// SWO, into a UART's RX (also TDO where the board has JTAG).
    pub swo: Pin,
}

/// ST-Link V3MINI (STM32F723IE): SWDIO written on PF9 and read on PH7 through a buffer
/// whose direction PA7 sets; TDO/SWO on PD2 (UART5_RX); nRST on PA6.
pub const STLINK3MINI: Board = Board {
    name: "STLINK3MINI",
    gpioa: GPIOA_F7,
    ports: 9,
    pins: PinMap {
        swclk: Pin::new('H', 6),
        swdio: Pin::new('F', 9),
        swdio_in: Some(Pin::new('H', 7)),
        swdio_direction: Some(Pin::new('A', 7)),
        tdi: Some(Pin::new('A', 1)),
        tdo: Some(Pin::new('D', 2)),
        reset: Some(Pin::new('A', 6)),
    },
    swo: Pin::new('D', 2),
};

/// PYBD_SF2 (STM32F722IE): X6 SWCLK, X8 SWDIO, X4 SWO/TDO (USART2_RX), X3 nRST, X12 TDI.
pub const PYBD_SF2: Board = Board {
    name: "PYBD_SF2",
    gpioa: GPIOA_F7,
    ports: 9,
    pins: PinMap {
        swclk: Pin::new('A', 5),
        swdio: Pin::new('A', 7),
        swdio_in: None,
        swdio_direction: None,
        tdi: Some(Pin::new('C', 5)),
        tdo: Some(Pin::new('A', 3)),
        reset: Some(Pin::new('A', 2)),
    },
    swo: Pin::new('A', 3),
};

/// DEVEBOX STM32H743VI and STM32H750VB (same board): PB13 SWCLK, PB15 SWDIO (the TFT
/// header's SPI2 pins), PA3 SWO/TDO (USART2_RX), PB1 nRST, PB12 TDI.
pub const DEVEBOX_STM32H7: Board = Board {
    name: "DEVEBOX_STM32H7",
    gpioa: GPIOA_H7,
    ports: 11,
    pins: PinMap {
        swclk: Pin::new('B', 13),
        swdio: Pin::new('B', 15),
        swdio_in: None,
        swdio_direction: None,
        tdi: Some(Pin::new('B', 12)),
        tdo: Some(Pin::new('A', 3)),
        reset: Some(Pin::new('B', 1)),
    },
    swo: Pin::new('A', 3),
};

pub const ALL: [Board; 3] = [STLINK3MINI, PYBD_SF2, DEVEBOX_STM32H7];

/// A board by name (case-insensitive), for BMP_WIRE=gpio-model:NAME.
impl Board {
    /// The debug connector's pins, one `SIGNAL PIN` line each, as pins.csv names them
    /// (BMP_SWCLK ...); what `bmp.pinout()` prints.
    pub fn write_pinout(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        let pins = &self.pins;
        writeln!(out, "{} debug connector:", self.name)?;
        writeln!(out, " SWCLK/TCK  {}", pins.swclk)?;
        writeln!(out, " SWDIO/TMS  {}", pins.swdio)?;
        let optional = [
            ("SWDIO in  ", pins.swdio_in),
            ("SWDIO dir ", pins.swdio_direction),
            ("TDI       ", pins.tdi),
            ("TDO       ", pins.tdo),
            ("nRST      ", pins.reset),
        ];
        for (signal, pin) in optional {
            if let Some(pin) = pin {
                writeln!(out, " {signal} {pin}")?;
            }
        }
        writeln!(
            out,
            " SWO        {} (a UART's RX: bmp.traceswo(uart=...))",
            self.swo
        )
    }
}

pub fn by_name(name: &str) -> Option<Board> {
    ALL.into_iter()
        .find(|board| board.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod pinout_tests {
    use super::*;

    #[test]
    fn the_pinout_names_every_wired_signal() {
        let mut text = String::new();
        STLINK3MINI.write_pinout(&mut text).unwrap();
        assert!(text.starts_with("STLINK3MINI debug connector:\n"), "{text}");
        for line in [
            " SWCLK/TCK  PH6",
            " SWDIO/TMS  PF9",
            " SWDIO in   PH7",
            " SWDIO dir  PA7",
            " nRST       PA6",
        ] {
            assert!(text.contains(line), "{line:?} missing from {text}");
        }
        let mut text = String::new();
        PYBD_SF2.write_pinout(&mut text).unwrap();
        assert!(
            !text.contains("SWDIO in"),
            "PYBD_SF2 has no SWDIO buffer: {text}"
        );
    }
}
