//! The probe board's SWD bit loop as the firmware has it: `Swd` over rust/pins'
//! `BoardPins` (`Stm32Pins<Mmio>` under the delay loop, no delay: the top speed), with the
//! ST-Link V3MINI's pin map. Built as the firmware's Cargo profile `board` builds it: this
//! crate (like the firmware's root package, which only calls the loop) at opt-level "z",
//! pins and wire (where the loop is compiled) at "s". qemu's mps2-an500 has no STM32
//! GPIO, so the register blocks are placed in RAM: each access is still one load or store
//! instruction, which is what `-icount` counts.
#![no_std]

use pins::board_wire::BoardPins;
use pins::stm32_gpio::{Mmio, Stm32Pins};
use wire::Pins;
use wire::clock::Calibration;
use wire::swd::Swd;

fn wire(gpioa: u32) -> Swd<BoardPins> {
    // SAFETY: the caller passes RAM with room for 9 ports of 0x400 bytes.
    let bus = unsafe { Mmio::new(gpioa, 9) };
    let gpio = Stm32Pins::new(bus, pins::boards::STLINK3MINI.pins).unwrap();
    let calibration = Calibration { loops_at_1khz: 100_000, max_hz: 20_000_000 };
    let mut board = BoardPins::new(gpio, calibration);
    board.set_frequency(u32::MAX);
    Swd::new(board)
}

/// `words` 32-bit writes' data phases: 32 SWCLK periods each.
#[unsafe(no_mangle)]
pub extern "C" fn p5_write_words(gpioa: u32, words: u32) {
    let mut swd = wire(gpioa);
    for word in 0..words {
        swd.write_bits(word ^ 0xA5A5_5A5A, 32);
    }
}

/// `words` 32-bit reads' data phases (SWDIO released, sampled each period).
#[unsafe(no_mangle)]
pub extern "C" fn p5_read_words(gpioa: u32, words: u32) -> u32 {
    let mut swd = wire(gpioa);
    swd.pins().swdio_output(false);
    let mut sum = 0u32;
    for _ in 0..words {
        sum = sum.wrapping_add(swd.read_bits(32));
    }
    sum
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
