//! A serial NOR flash on a (Q)SPI bus, in 4 KB sectors and 256-byte pages (Winbond
//! W25Q16JV/W25Q64JV datasheets, "Instructions"): the RP2040 boards' W25Q16JV (2 MB)
//! behind the RP2040's SSI and XIP window (`soc::rp2040::qspi`), and the W25Q64JV (8 MB)
//! on the STM32H750's QUADSPI (`soc::stm32h7::quadspi`). [`Part`] says which.
//!
//! The bus is byte by byte: `select`, `transfer` each byte (the byte the flash sends back
//! comes with it), `deselect`. A program or erase starts when chip select goes high and
//! keeps BUSY for the datasheet's typical time; its effect reaches the array when it ends.
//!
//! What is modelled: Write Enable 0x06 / Disable 0x04 (WEL is needed by every program
//! and erase, and cleared by each), Read Status Register-1 0x05 (BUSY 0, WEL 1), Read
//! Data 0x03, Fast Read 0x0B and Fast Read Quad Output 0x6B (24-bit address, 8 dummy
//! clocks, one dummy byte here, for 0x0B and 0x6B), Page Program
//! 0x02 (wraps inside its 256-byte page; bits only go from 1 to 0), Sector Erase 0x20
//! (4 KB), Block Erase 0x52 (32 KB) and 0xD8 (64 KB), Chip Erase 0xC7/0x60, JEDEC ID 0x9F
//! (EF 40 15 or EF 40 17), Unique ID 0x4B (made up, fixed), and 0xFF (the "continuous read mode
//! reset" byte hosts send to leave XIP; ignored). Any other instruction is ignored, as is
//! every instruction but Read Status while BUSY (datasheet 8.1 "BUSY").
//!
//! Not modelled: the quad and dual I/O modes and the continuous read mode bits (the bus
//! is one byte stream whatever the width; 0x6B works without the QE bit), status registers
//! 2 and 3, the block and
//! sector protection bits, power-down, suspend/resume, SFDP.

use super::flash::{Busy, FlashActivity};

/// W25Q16JV: 2 MB.
pub const SIZE: u32 = 2 * 1024 * 1024;
/// W25Q64JV: 8 MB.
pub const SIZE_W25Q64: u32 = 8 * 1024 * 1024;
pub const SECTOR: u32 = 4096;
pub const PAGE: u32 = 256;

/// Instructions (W25Q16JV datasheet, table "Instruction Set Table 1").
pub const WRITE_ENABLE: u8 = 0x06;
pub const WRITE_DISABLE: u8 = 0x04;
pub const READ_STATUS_1: u8 = 0x05;
pub const READ_DATA: u8 = 0x03;
pub const FAST_READ: u8 = 0x0B;
pub const FAST_READ_QUAD_OUTPUT: u8 = 0x6B;
pub const PAGE_PROGRAM: u8 = 0x02;
pub const SECTOR_ERASE: u8 = 0x20;
pub const BLOCK_ERASE_32K: u8 = 0x52;
pub const BLOCK_ERASE_64K: u8 = 0xD8;
pub const CHIP_ERASE: u8 = 0xC7;
pub const CHIP_ERASE_ALTERNATIVE: u8 = 0x60;
pub const JEDEC_ID: u8 = 0x9F;
pub const UNIQUE_ID: u8 = 0x4B;

/// Status register 1 (datasheet 7.1): BUSY 0, WEL 1.
pub const STATUS_BUSY: u8 = 1 << 0;
pub const STATUS_WEL: u8 = 1 << 1;

const UNIQUE: [u8; 8] = [0xE6, 0x61, 0x38, 0x97, 0x43, 0x4F, 0x2B, 0x21];

const MS: u64 = 1_000_000;
/// Typical times of the W25Q class (the project reference chips.md 5.4, from the vendors'
/// "AC Electrical Characteristics"): tPP 0.4 ms, tSE 45 ms, tBE2 150 ms; tBE1 120 ms. The
/// chip erase times are in [`Part`].
pub const PAGE_PROGRAM_NS: u64 = 400_000;
pub const SECTOR_ERASE_NS: u64 = 45 * MS;
const BLOCK_ERASE_32K_NS: u64 = 120 * MS;
const BLOCK_ERASE_64K_NS: u64 = 150 * MS;

/// Which flash: its size, JEDEC ID and chip erase time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    pub size: u32,
    /// Manufacturer Winbond 0xEF, memory type 0x40, capacity (log2 of the size).
    pub jedec: [u8; 3],
    pub chip_erase_ns: u64,
}

/// W25Q16JV: tCE 5 s is not checked against the datasheet's table (unverified).
pub const W25Q16JV: Part = Part {
    size: SIZE,
    jedec: [0xEF, 0x40, 0x15],
    chip_erase_ns: 5000 * MS,
};

/// W25Q64JV (datasheet rev. I, "AC Electrical Characteristics": tCE 20 s typical).
pub const W25Q64JV: Part = Part {
    size: SIZE_W25Q64,
    jedec: [0xEF, 0x40, 0x17],
    chip_erase_ns: 20_000 * MS,
};

/// What the array becomes when an operation ends.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Work {
    Program { address: u32, bytes: Vec<u8> },
    Erase { address: u32, length: u32 },
}

/// The transaction since chip select went low.
#[derive(Clone, Debug, Default)]
struct Transaction {
    /// Every byte the host sent.
    received: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct SpiFlash {
    part: Part,
    array: Vec<u8>,
    write_enabled: bool,
    busy: Busy<Work>,
    transaction: Option<Transaction>,
    /// Counts the changes to the array (programs and erases ended, loads).
    generation: u64,
    /// The bytes the operations that ended changed, as one range (`take_changed`).
    changed: Option<(u32, u32)>,
}

impl Default for SpiFlash {
    /// The RP2040 boards' W25Q16JV.
    fn default() -> Self {
        SpiFlash::new(W25Q16JV)
    }
}

impl SpiFlash {
    /// An erased `part`.
    pub fn new(part: Part) -> Self {
        SpiFlash {
            part,
            array: vec![0xFF; part.size as usize],
            write_enabled: false,
            busy: Busy::default(),
            transaction: None,
            generation: 0,
            changed: None,
        }
    }

    pub fn size(&self) -> u32 {
        self.part.size
    }

    /// The range `[start, end)` of the array that finished operations changed since the
    /// last call (for a copy of the array to follow, as the H7's memory-mapped window).
    pub fn take_changed(&mut self) -> Option<(u32, u32)> {
        self.changed.take()
    }

    /// What the flash did since the last call (benchmarks).
    pub fn take_activity(&mut self) -> FlashActivity {
        self.busy.take_activity()
    }

    fn note_changed(&mut self, start: u32, end: u32) {
        self.changed = Some(match self.changed {
            Some((from, to)) => (from.min(start), to.max(end)),
            None => (start, end),
        });
    }

    /// The array as it is now (an operation in progress has not changed it yet).
    pub fn contents(&self) -> &[u8] {
        &self.array
    }

    /// Put bytes straight into the array (a programmer's fixture).
    pub fn load(&mut self, offset: u32, bytes: &[u8]) {
        let start = offset as usize;
        self.array[start..start + bytes.len()].copy_from_slice(bytes);
        self.generation += 1;
        self.note_changed(offset, offset + bytes.len() as u32);
    }

    /// Changes so far to the array: a copy of it is stale when this has moved on.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn busy_until_ns(&self) -> Option<u64> {
        self.busy.until_ns()
    }

    /// Finish the operation whose time has come; true if the array changed.
    pub fn complete(&mut self, now_ns: u64) -> bool {
        let Some(work) = self.busy.take_due(now_ns) else {
            return false;
        };
        match work {
            Work::Program { address, bytes } => {
                let page = address & !(PAGE - 1);
                for (index, byte) in bytes.iter().enumerate() {
                    let at = page + (address + index as u32) % PAGE;
                    self.array[at as usize] &= byte;
                }
                self.note_changed(page, page + PAGE);
            }
            Work::Erase { address, length } => {
                self.array[address as usize..(address + length) as usize].fill(0xFF);
                self.note_changed(address, address + length);
            }
        }
        self.generation += 1;
        true
    }

    /// Chip select low: a new instruction follows.
    pub fn select(&mut self, now_ns: u64) {
        self.complete(now_ns);
        self.transaction = Some(Transaction::default());
    }

    /// One byte each way while selected; a byte sent while deselected is lost (0xFF back:
    /// the line floats high).
    pub fn transfer(&mut self, byte: u8, now_ns: u64) -> u8 {
        self.complete(now_ns);
        let busy = self.busy.is_busy();
        let status = self.status(busy);
        let Some(transaction) = self.transaction.as_mut() else {
            return 0xFF;
        };
        let index = transaction.received.len();
        transaction.received.push(byte);
        let instruction = transaction.received[0];
        if busy && instruction != READ_STATUS_1 {
            return 0xFF;
        }
        // Data reads start after the address (and Fast Read's dummy byte).
        let data_start = match instruction {
            READ_DATA => 4,
            _ => 5,
        };
        let address = (index >= 4).then(|| address_of(&transaction.received, self.part.size));
        match (instruction, address) {
            (READ_STATUS_1, _) if index >= 1 => status,
            (JEDEC_ID, _) if (1..=3).contains(&index) => self.part.jedec[index - 1],
            // Four dummy bytes, then the 64-bit unique ID.
            (UNIQUE_ID, _) if (5..13).contains(&index) => UNIQUE[index - 5],
            (READ_DATA | FAST_READ | FAST_READ_QUAD_OUTPUT, Some(address))
                if index >= data_start =>
            {
                self.read_at(address, index - data_start)
            }
            _ => 0xFF,
        }
    }

    fn read_at(&self, address: u32, offset: usize) -> u8 {
        self.array[(address as usize + offset) % self.part.size as usize]
    }

    fn status(&self, busy: bool) -> u8 {
        let mut status = 0;
        if busy {
            status |= STATUS_BUSY;
        }
        if self.write_enabled {
            status |= STATUS_WEL;
        }
        status
    }

    /// Chip select high: write enable, program and erase instructions take effect now
    /// (datasheet 8.2: "/CS must be driven high after the last byte ... or the
    /// instruction will not be executed").
    pub fn deselect(&mut self, now_ns: u64) {
        self.complete(now_ns);
        let Some(transaction) = self.transaction.take() else {
            return;
        };
        if self.busy.is_busy() {
            return;
        }
        let size = self.part.size;
        let received = &transaction.received;
        let Some(&instruction) = received.first() else {
            return;
        };
        let (work, duration) = match instruction {
            WRITE_ENABLE if received.len() == 1 => {
                self.write_enabled = true;
                return;
            }
            WRITE_DISABLE if received.len() == 1 => {
                self.write_enabled = false;
                return;
            }
            PAGE_PROGRAM if received.len() > 4 => {
                let bytes = received[4..].to_vec();
                let address = address_of(received, size);
                // More than 256 bytes: the last 256 are programmed (datasheet 8.2.15).
                let keep = bytes.len().min(PAGE as usize);
                let skipped = (bytes.len() - keep) as u32;
                let bytes = bytes[bytes.len() - keep..].to_vec();
                let start = (address & !(PAGE - 1)) + (address + skipped) % PAGE;
                let work = Work::Program {
                    address: start,
                    bytes,
                };
                (work, PAGE_PROGRAM_NS)
            }
            SECTOR_ERASE if received.len() == 4 => erase(received, size, SECTOR, SECTOR_ERASE_NS),
            BLOCK_ERASE_32K if received.len() == 4 => {
                erase(received, size, 32 * 1024, BLOCK_ERASE_32K_NS)
            }
            BLOCK_ERASE_64K if received.len() == 4 => {
                erase(received, size, 64 * 1024, BLOCK_ERASE_64K_NS)
            }
            CHIP_ERASE | CHIP_ERASE_ALTERNATIVE if received.len() == 1 => (
                Work::Erase {
                    address: 0,
                    length: size,
                },
                self.part.chip_erase_ns,
            ),
            _ => return,
        };
        // Program and erase need WEL, and clear it (datasheet 8.2.1).
        if !self.write_enabled {
            return;
        }
        self.write_enabled = false;
        self.busy.start(work, duration, now_ns);
    }
}

/// The 24-bit address after the instruction byte, most significant byte first.
fn address_of(received: &[u8], size: u32) -> u32 {
    received[1..4]
        .iter()
        .fold(0, |address, &byte| address << 8 | u32::from(byte))
        % size
}

fn erase(received: &[u8], size: u32, length: u32, duration: u64) -> (Work, u64) {
    let address = address_of(received, size) & !(length - 1);
    (Work::Erase { address, length }, duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(flash: &mut SpiFlash, bytes: &[u8], now_ns: u64) -> Vec<u8> {
        flash.select(now_ns);
        let answer = bytes
            .iter()
            .map(|&byte| flash.transfer(byte, now_ns))
            .collect();
        flash.deselect(now_ns);
        answer
    }

    fn status(flash: &mut SpiFlash, now_ns: u64) -> u8 {
        command(flash, &[READ_STATUS_1, 0], now_ns)[1]
    }

    #[test]
    fn jedec_id_names_a_w25q16() {
        let mut flash = SpiFlash::default();
        assert_eq!(
            command(&mut flash, &[JEDEC_ID, 0, 0, 0], 0)[1..],
            [0xEF, 0x40, 0x15]
        );
    }

    #[test]
    fn program_needs_write_enable_and_takes_its_time() {
        let mut flash = SpiFlash::default();
        command(&mut flash, &[PAGE_PROGRAM, 0, 0x10, 0, 0x12, 0x34], 0);
        assert_eq!(status(&mut flash, 0), 0, "no WEL: nothing started");
        command(&mut flash, &[WRITE_ENABLE], 0);
        assert_eq!(status(&mut flash, 0), STATUS_WEL);
        command(&mut flash, &[PAGE_PROGRAM, 0, 0x10, 0, 0x12, 0x34], 0);
        assert_eq!(status(&mut flash, 1000), STATUS_BUSY, "BUSY, WEL cleared");
        // Reads are refused while busy.
        assert_eq!(
            command(&mut flash, &[READ_DATA, 0, 0x10, 0, 0], 1000)[4],
            0xFF
        );
        assert_eq!(status(&mut flash, PAGE_PROGRAM_NS), 0);
        assert_eq!(
            command(
                &mut flash,
                &[READ_DATA, 0, 0x10, 0, 0, 0, 0],
                PAGE_PROGRAM_NS
            )[4..],
            [0x12, 0x34, 0xFF]
        );
        let activity = flash.take_activity();
        assert_eq!(
            (activity.operations, activity.busy_ns),
            (1, PAGE_PROGRAM_NS),
            "benchmarks see the page program's time"
        );
    }

    #[test]
    fn page_program_wraps_inside_its_page() {
        let mut flash = SpiFlash::default();
        command(&mut flash, &[WRITE_ENABLE], 0);
        command(&mut flash, &[PAGE_PROGRAM, 0, 0x01, 0xFF, 0xAA, 0xBB], 0);
        flash.complete(PAGE_PROGRAM_NS);
        assert_eq!(flash.contents()[0x1FF], 0xAA);
        assert_eq!(flash.contents()[0x100], 0xBB, "wrapped to the page's start");
        assert_eq!(flash.contents()[0x200], 0xFF);
    }

    #[test]
    fn erases_sector_block_and_chip() {
        let mut flash = SpiFlash::default();
        flash.load(0, &vec![0; SIZE as usize]);
        let mut now = 0;
        for (instruction, address, length, duration) in [
            (SECTOR_ERASE, 0x1234u32, SECTOR, SECTOR_ERASE_NS),
            (BLOCK_ERASE_64K, 0x2_0000, 0x1_0000, BLOCK_ERASE_64K_NS),
        ] {
            command(&mut flash, &[WRITE_ENABLE], now);
            let [_, high, middle, low] = address.to_be_bytes();
            command(&mut flash, &[instruction, high, middle, low], now);
            assert_ne!(status(&mut flash, now + duration - 1), 0);
            now += duration;
            assert_eq!(status(&mut flash, now), 0);
            let start = (address & !(length - 1)) as usize;
            assert!(
                flash.contents()[start..start + length as usize]
                    .iter()
                    .all(|&b| b == 0xFF)
            );
            assert_eq!(flash.contents()[start + length as usize], 0);
        }
        command(&mut flash, &[WRITE_ENABLE], now);
        command(&mut flash, &[CHIP_ERASE], now);
        flash.complete(now + W25Q16JV.chip_erase_ns);
        assert!(flash.contents().iter().all(|&byte| byte == 0xFF));
    }
}
