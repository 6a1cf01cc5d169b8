//! The port's clock and board services (py/mphal.h, bmp_glue.h).

use super::sys;

/// Microseconds of a free-running clock (wraps at the port's word size).
pub fn ticks_us() -> sys::mp_uint_t {
    // SAFETY: reads a clock.
    unsafe { sys::mp_hal_ticks_us() }
}

/// Milliseconds of a free-running clock (wraps).
pub fn ticks_ms() -> sys::mp_uint_t {
    // SAFETY: reads a clock.
    unsafe { sys::mp_hal_ticks_ms() }
}

/// A busy wait on the board's timer.
#[cfg(not(feature = "host"))]
pub fn delay_us(micros: u32) {
    // SAFETY: waits; touches no memory of ours.
    unsafe { sys::mp_hal_delay_us(micros as sys::mp_uint_t) }
}

/// Ctrl-C (or another pending exception) waits to be raised.
pub fn interrupt_pending() -> bool {
    // SAFETY: reads MicroPython's pending-exception state.
    unsafe { sys::bmp_glue_interrupt_pending() }
}

/// The build date, MicroPython's version and the source's git tag (bmp_glue.c).
pub fn build() -> &'static str {
    // SAFETY: bmp_glue_build returns a pointer to a static NUL-terminated literal.
    let text = unsafe { core::ffi::CStr::from_ptr(sys::bmp_glue_build()) };
    text.to_str().unwrap_or("?")
}

/// The board's UART to a remote_bitbang server (qemu: UART1, board_link.c).
#[cfg(feature = "board-link")]
pub mod board_link {
    use super::sys;

    pub fn write(data: &[u8]) {
        // SAFETY: the C side reads `data` during the call only.
        unsafe { sys::bmp_board_link_write(data.as_ptr(), data.len()) }
    }

    /// A byte, or None after `timeout_us` without one.
    pub fn read(timeout_us: u32) -> Option<u8> {
        // SAFETY: reads the UART's registers.
        match unsafe { sys::bmp_board_link_read(timeout_us) } {
            byte @ 0..=255 => Some(byte as u8),
            _ => None,
        }
    }
}

/// CMSIS-DAP packets on a probe board's USB device (bmp_board_usb_dap.c): v2 bulk or v1 HID,
/// whichever `pyb.usb_mode()` chose.
#[cfg(feature = "board-gpio")]
pub mod board_usb_dap {
    use super::sys;

    /// The USB mode's CMSIS-DAP packet size; None if the mode has no CMSIS-DAP function.
    pub fn packet_size() -> Option<u16> {
        // SAFETY: reads the USB device's state.
        let size = unsafe { sys::bmp_board_usb_dap_packet_size() };
        u16::try_from(size).ok().filter(|&size| size > 0)
    }

    /// A command packet into `buffer`: its length, Some(0) if none waits, None if the host
    /// has not configured the device.
    pub fn receive(buffer: &mut [u8]) -> Option<usize> {
        // SAFETY: the C side writes at most `buffer.len()` bytes during the call.
        let length = unsafe { sys::bmp_board_usb_dap_receive(buffer.as_mut_ptr(), buffer.len()) };
        usize::try_from(length).ok()
    }

    /// Queue a response packet; false while the last one is still in flight.
    pub fn transmit(data: &[u8]) -> bool {
        // SAFETY: the C side copies `data` during the call.
        unsafe { sys::bmp_board_usb_dap_transmit(data.as_ptr(), data.len()) == 0 }
    }
}

/// A probe board's GPIO (stm32 port, bmp_board_gpio.c): the debug connector's registers.
#[cfg(feature = "board-gpio")]
pub mod board_gpio {
    use super::sys;
    use pins::boards::Board;
    use pins::stm32_gpio::Mmio;

    /// Turn on the clocks of the BMP_* pins' ports and find the board's pin map (by the
    /// name its mpconfigboard.h gives); None if rust/pins does not know that name.
    pub fn open() -> Option<(Board, Mmio)> {
        // SAFETY: enables GPIO clocks and returns a static NUL-terminated C string.
        let name = unsafe { core::ffi::CStr::from_ptr(sys::bmp_board_gpio_init()) };
        let board = pins::boards::by_name(name.to_str().ok()?)?;
        // SAFETY: the board's GPIO ports are where `board` says (its MCU family's map),
        // their clocks are on (above), and the BMP_* pins belong to the probe.
        let registers = unsafe { Mmio::new(board.gpioa, board.ports) };
        Some((board, registers))
    }
}
