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
