//! The RP2040's QSPI side: the SSI's data register and the IO_QSPI chip-select override
//! the debugger uses to talk to the flash directly (RP2040 datasheet 4.10 SSI, 2.19.6.3
//! IO_QSPI GPIO_QSPI_SS_CTRL), XIP reads, and the boot ROM's flash functions (datasheet
//! 2.8.3.1.3), which the simulator performs on the host when a core reaches their entry.
//!
//! Approximations: the SSI is its data register and status only (no clock divider, frame
//! format or FIFO depth: every byte written to DR0 while chip select is low is exchanged
//! with the flash at once and its answer queued for reading); XIP has no cache and reads
//! the array directly while in command XIP mode; a ROM program or erase changes the
//! array at once and answers when the flash's BUSY would clear (its typical time,
//! one operation after another); the calling core waits until then (`rom`), but the
//! flash's own status reads idle meanwhile and the SPI bytes take no time.

use crate::soc::spi_flash::{self, SpiFlash};
use std::collections::VecDeque;

/// SSI (datasheet 4.10.13): status register and data register 0.
pub const SSI_BASE: u32 = 0x1800_0000;
pub const SSI_SIZE: u32 = 0x1000;
const SSI_SR: u32 = SSI_BASE + 0x28;
pub const SSI_DR0: u32 = SSI_BASE + 0x60;
/// SR: TFNF 1, TFE 2, RFNE 3.
const SR_TX_NOT_FULL: u32 = 1 << 1;
const SR_TX_EMPTY: u32 = 1 << 2;
const SR_RX_NOT_EMPTY: u32 = 1 << 3;
/// IO_QSPI GPIO_QSPI_SS_CTRL: OUTOVER [9:8] (0 normal, 2 drive low, 3 drive high).
pub const QSPI_SS_CTRL: u32 = 0x4001_800C;
const OUTOVER_SHIFT: u32 = 8;
const OUTOVER_MASK: u32 = 3 << OUTOVER_SHIFT;
const OUTOVER_LOW: u32 = 2;

/// Function codes of the boot ROM's function table (datasheet 2.8.3: 'c1' | 'c2' << 8).
pub const fn code(name: &[u8; 2]) -> u16 {
    name[0] as u16 | (name[1] as u16) << 8
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RomFunction {
    ConnectInternalFlash,
    FlashExitXip,
    FlashRangeErase,
    FlashRangeProgram,
    FlashFlushCache,
    FlashEnterCmdXip,
    /// reset_to_usb_boot (datasheet 2.8.3): not a flash function; the SoC resets.
    ResetToUsbBoot,
}

/// The six flash functions and reset_to_usb_boot: code and behaviour.
pub const ROM_FUNCTIONS: [(u16, RomFunction); 7] = [
    (code(b"IF"), RomFunction::ConnectInternalFlash),
    (code(b"EX"), RomFunction::FlashExitXip),
    (code(b"RE"), RomFunction::FlashRangeErase),
    (code(b"RP"), RomFunction::FlashRangeProgram),
    (code(b"FC"), RomFunction::FlashFlushCache),
    (code(b"CX"), RomFunction::FlashEnterCmdXip),
    (code(b"UB"), RomFunction::ResetToUsbBoot),
];

pub struct Qspi {
    pub flash: SpiFlash,
    ss_control: u32,
    received: VecDeque<u8>,
    /// Command XIP (flash_enter_cmd_xip): XIP reads reach the flash.
    xip: bool,
}

impl Default for Qspi {
    /// As the simulated ROM leaves it: command XIP (the real ROM sets up XIP in boot2).
    fn default() -> Self {
        Qspi {
            flash: SpiFlash::default(),
            ss_control: 0,
            received: VecDeque::new(),
            xip: true,
        }
    }
}

impl Qspi {
    /// XIP is set up: false after flash_exit_xip until flash_enter_cmd_xip (the
    /// debugger's XIP reads are bus errors then).
    pub fn xip_on(&self) -> bool {
        self.xip
    }

    /// An XIP word.
    pub fn read_xip(&self, offset: u32) -> u32 {
        let at = (offset % spi_flash::SIZE) as usize;
        let bytes = &self.flash.contents()[at..at + 4];
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    pub fn read_register(&self, address: u32) -> Option<u32> {
        match address {
            SSI_SR => {
                let mut status = SR_TX_NOT_FULL | SR_TX_EMPTY;
                if !self.received.is_empty() {
                    status |= SR_RX_NOT_EMPTY;
                }
                Some(status)
            }
            SSI_DR0 => Some(self.received.front().copied().unwrap_or(0).into()),
            QSPI_SS_CTRL => Some(self.ss_control),
            _ => None,
        }
    }

    /// A DR0 read pops the receive FIFO.
    pub fn read_register_at(&mut self, address: u32) -> Option<u32> {
        (address == SSI_DR0).then(|| self.received.pop_front().unwrap_or(0).into())
    }

    pub fn write_register(&mut self, address: u32, value: u32, now_ns: u64) -> Option<()> {
        match address {
            SSI_DR0 => {
                let answer = self.flash.transfer(value as u8, now_ns);
                self.received.push_back(answer);
            }
            QSPI_SS_CTRL => {
                let was_low = self.chip_select_low();
                self.ss_control = value;
                match (was_low, self.chip_select_low()) {
                    (false, true) => self.flash.select(now_ns),
                    (true, false) => self.flash.deselect(now_ns),
                    _ => {}
                }
            }
            _ => return None,
        }
        Some(())
    }

    fn chip_select_low(&self) -> bool {
        (self.ss_control & OUTOVER_MASK) >> OUTOVER_SHIFT == OUTOVER_LOW
    }

    /// One instruction with chip select low, then high; the bytes the flash sent back.
    fn instruction(&mut self, bytes: &[u8], now_ns: u64) -> Vec<u8> {
        self.flash.select(now_ns);
        let answer = bytes
            .iter()
            .map(|&byte| self.flash.transfer(byte, now_ns))
            .collect();
        self.flash.deselect(now_ns);
        answer
    }

    /// Write enable, the instruction, then wait for BUSY to clear (the ROM polls the
    /// status register); the time at which the flash is done.
    fn program_or_erase(&mut self, bytes: &[u8], now_ns: u64) -> u64 {
        self.instruction(&[spi_flash::WRITE_ENABLE], now_ns);
        self.instruction(bytes, now_ns);
        let done = self.flash.busy_until_ns().unwrap_or(now_ns);
        self.flash.complete(done);
        done
    }

    /// A ROM function with its arguments; `sram` reads the data of flash_range_program.
    /// The time at which the function returns (the flash done), `now_ns` if at once.
    pub fn call(
        &mut self,
        function: RomFunction,
        arguments: [u32; 4],
        sram: impl Fn(u32, usize) -> Option<Vec<u8>>,
        now_ns: u64,
    ) -> u64 {
        let [address, count, third, fourth] = arguments;
        match function {
            // The QSPI pads to the SSI, chip select back under the SSI's control.
            RomFunction::ConnectInternalFlash | RomFunction::FlashFlushCache => {
                self.write_register(QSPI_SS_CTRL, self.ss_control & !OUTOVER_MASK, now_ns);
            }
            // The 0xFF bytes that end continuous read mode; XIP stops.
            RomFunction::FlashExitXip => {
                self.instruction(&[0xFF; 4], now_ns);
                self.xip = false;
            }
            RomFunction::FlashEnterCmdXip => self.xip = true,
            RomFunction::FlashRangeErase => {
                return self.erase(address, count, third, fourth as u8, now_ns);
            }
            RomFunction::FlashRangeProgram => {
                if let Some(data) = sram(count, third as usize) {
                    return self.program(address, &data, now_ns);
                }
            }
            RomFunction::ResetToUsbBoot => {}
        }
        now_ns
    }

    /// flash_range_erase: 4 KB sector erases, and `block_command` for whole aligned
    /// blocks of `block_size` (datasheet 2.8.3.1.3).
    fn erase(
        &mut self,
        offset: u32,
        count: u32,
        block_size: u32,
        block_command: u8,
        now: u64,
    ) -> u64 {
        let mut at = offset;
        let end = offset.saturating_add(count).min(spi_flash::SIZE);
        let mut time = now;
        while at < end {
            let (instruction, size) = if block_size > spi_flash::SECTOR
                && at.is_multiple_of(block_size)
                && end - at >= block_size
            {
                (block_command, block_size)
            } else {
                (spi_flash::SECTOR_ERASE, spi_flash::SECTOR)
            };
            let [_, high, middle, low] = at.to_be_bytes();
            time = self.program_or_erase(&[instruction, high, middle, low], time);
            at += size;
        }
        time
    }

    /// flash_range_program: page programs of up to 256 bytes.
    fn program(&mut self, offset: u32, data: &[u8], now: u64) -> u64 {
        let mut time = now;
        for (index, page) in data.chunks(spi_flash::PAGE as usize).enumerate() {
            let at = offset + index as u32 * spi_flash::PAGE;
            let [_, high, middle, low] = at.to_be_bytes();
            let mut bytes = vec![spi_flash::PAGE_PROGRAM, high, middle, low];
            bytes.extend_from_slice(page);
            time = self.program_or_erase(&bytes, time);
        }
        time
    }
}
