//! The STM32H750's QUADSPI (RM0433 23) with a Winbond W25Q64JV (8 MB, `soc::spi_flash`)
//! on bank 1, memory-mapped at 0x9000_0000 (RM0433 23.3.2).
//!
//! Registers (RM0433 23.5): CR, DCR, SR, FCR, DLR, CCR, AR, ABR, DR, PSMKR, PSMAR, PIR,
//! LPTR. A command is the instruction, address (ADSIZE + 1 bytes), alternate bytes
//! (ABSIZE + 1), dummy cycles and data, each phase present when its MODE is not 0
//! (RM0433 23.3.3). It starts (RM0433 23.3.4, 23.3.5): with an address phase when AR is
//! written; else in indirect write mode with data when DR is first written; else when
//! CCR is written. CCR, AR, DLR and the polling registers are ignored while BUSY.
//!
//! - Indirect write (FMODE 00): DR writes queue their bytes (a byte, half-word or word
//!   write queues 1, 2 or 4); at DLR + 1 bytes the command goes to the flash, TCF is set
//!   and BUSY clears.
//! - Indirect read (FMODE 01): the command runs when it starts; its DLR + 1 bytes wait in
//!   the FIFO, TCF is set, and BUSY clears when DR reads have taken them all.
//! - Automatic polling (FMODE 10): the command (DLR + 1 <= 4 bytes, the first in the
//!   low byte) is sent again at each SR or DR read; when the bytes under PSMKR equal
//!   PSMAR's (PMM 0: all of them; PMM 1: any), SMF is set, DR holds the bytes, and with
//!   APMS the polling stops (BUSY clears).
//! - Memory-mapped (FMODE 11): BUSY stays set until ABORT; the window at 0x9000_0000 is
//!   readable while EN is set and CCR's instruction is one of the flash's reads (0x03,
//!   0x0B, 0x6B), and the core executes from it.
//! - CR.ABORT ends any command (BUSY clears, ABORT reads back 0).
//!
//! Approximations: a command takes no time (no QUADSPI clock: PRESCALER, CKMODE, CSHT,
//! SSHIFT, DDRM and SIOO are stored and do nothing); the phases' line counts (IMODE,
//! ADMODE, DMODE 1, 2 or 4 lines) carry the same bytes (the flash model is one byte
//! stream), and the dummy phase is DCYC / 8 bytes (8 dummy cycles, as 0x0B and 0x6B
//! take, are one byte); a DR read takes four bytes from the FIFO whatever its width
//! (register reads here carry no width); polling is evaluated when SR or DR is read,
//! not every PIR cycles, and neither the timeout (LPTR, TOF) nor the interrupts (TEIE
//! ... TOIE) nor DMA act; FTHRES and FLEVEL follow no FIFO (FLEVEL reads the bytes
//! waiting to be read; FTF is set while there are any, and throughout an indirect write,
//! whose FIFO always has room); the memory-mapped window shows the
//! array as the flash last finished it (an operation in progress is not seen until it
//! ends, and reads past DCR.FSIZE are not refused below 8 MB); dual-flash mode (DFM) and
//! bank 2 (FSEL) are not modelled: every command goes to the one flash.

use crate::soc::spi_flash::{self, SpiFlash};
use crate::soc::{FlashEffect, Memory};
use std::collections::VecDeque;

/// QUADSPI registers (RM0433 table 8; 23.5).
pub const QUADSPI_BASE: u32 = 0x5200_5000;
pub const QUADSPI_SIZE: u32 = 0x1000;
/// The memory-mapped window's modelled part: the W25Q64JV's 8 MB.
pub const MEMORY_MAPPED: Memory = Memory {
    base: 0x9000_0000,
    size: spi_flash::SIZE_W25Q64,
};

const CR: u32 = 0x00;
const DCR: u32 = 0x04;
const SR: u32 = 0x08;
const FCR: u32 = 0x0C;
const DLR: u32 = 0x10;
const CCR: u32 = 0x14;
const AR: u32 = 0x18;
const ABR: u32 = 0x1C;
const DR: u32 = 0x20;
const PSMKR: u32 = 0x24;
const PSMAR: u32 = 0x28;
const PIR: u32 = 0x2C;
const LPTR: u32 = 0x30;

/// CR (RM0433 23.5.1): EN 0, ABORT 1, APMS 22, PMM 23.
const CR_EN: u32 = 1 << 0;
const CR_ABORT: u32 = 1 << 1;
const CR_APMS: u32 = 1 << 22;
const CR_PMM: u32 = 1 << 23;
/// CR's bits that exist: PRESCALER, PMM, APMS, TOIE ... TEIE, FTHRES, FSEL, DFM, SSHIFT,
/// TCEN, DMAEN, ABORT, EN.
const CR_STORED: u32 = 0xFFDF_1FDF;
/// DCR (RM0433 23.5.2): FSIZE [20:16], CSHT [10:8], CKMODE 0.
const DCR_STORED: u32 = 0x001F_0701;
/// SR and FCR (RM0433 23.5.3, 23.5.4): TEF 0, TCF 1, FTF 2, SMF 3, TOF 4, BUSY 5,
/// FLEVEL [13:8].
const SR_TCF: u32 = 1 << 1;
const SR_FTF: u32 = 1 << 2;
const SR_SMF: u32 = 1 << 3;
const SR_BUSY: u32 = 1 << 5;
const SR_FLEVEL_SHIFT: u32 = 8;
/// The flags FCR clears: CTEF, CTCF, CSMF, CTOF.
const FCR_CLEARS: u32 = 0x1B;
/// CCR fields (RM0433 23.5.6).
const CCR_INSTRUCTION: u32 = 0xFF;
const CCR_IMODE_SHIFT: u32 = 8;
const CCR_ADMODE_SHIFT: u32 = 10;
const CCR_ADSIZE_SHIFT: u32 = 12;
const CCR_ABMODE_SHIFT: u32 = 14;
const CCR_ABSIZE_SHIFT: u32 = 16;
const CCR_DCYC_SHIFT: u32 = 18;
const CCR_DCYC_MASK: u32 = 0x1F;
const CCR_DMODE_SHIFT: u32 = 24;
const CCR_FMODE_SHIFT: u32 = 26;

/// CCR.FMODE (RM0433 23.5.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    IndirectWrite,
    IndirectRead,
    AutoPolling,
    MemoryMapped,
}

/// The command in progress (BUSY).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Transfer {
    /// Indirect write: the data bytes so far.
    Write(Vec<u8>),
    /// Indirect read: the bytes not yet read from DR.
    Read(VecDeque<u8>),
    AutoPolling,
    MemoryMapped,
}

pub struct Quadspi {
    pub flash: SpiFlash,
    registers: [u32; 13],
    /// TEF, TCF, SMF, TOF (FTF, BUSY and FLEVEL follow the transfer).
    flags: u32,
    transfer: Option<Transfer>,
}

impl Default for Quadspi {
    fn default() -> Self {
        Quadspi {
            flash: SpiFlash::new(spi_flash::W25Q64JV),
            registers: [0; 13],
            flags: 0,
            transfer: None,
        }
    }
}

impl Quadspi {
    fn register(&self, offset: u32) -> u32 {
        self.registers[(offset / 4) as usize]
    }

    fn set(&mut self, offset: u32, value: u32) {
        self.registers[(offset / 4) as usize] = value;
    }

    fn field(&self, shift: u32, mask: u32) -> u32 {
        self.register(CCR) >> shift & mask
    }

    fn mode(&self) -> Mode {
        match self.field(CCR_FMODE_SHIFT, 3) {
            0 => Mode::IndirectWrite,
            1 => Mode::IndirectRead,
            2 => Mode::AutoPolling,
            _ => Mode::MemoryMapped,
        }
    }

    fn enabled(&self) -> bool {
        self.register(CR) & CR_EN != 0
    }

    fn has_address(&self) -> bool {
        self.field(CCR_ADMODE_SHIFT, 3) != 0
    }

    fn has_data(&self) -> bool {
        self.field(CCR_DMODE_SHIFT, 3) != 0
    }

    /// A command with no address phase, and no data to write, starts when CCR is written
    /// (RM0433 23.3.4).
    fn starts_on_ccr(&self) -> bool {
        let writes_data = self.mode() == Mode::IndirectWrite && self.has_data();
        !self.has_address() && !writes_data
    }

    /// The window at 0x9000_0000 answers: memory-mapped mode with a read instruction.
    pub fn memory_mapped(&self) -> bool {
        let instruction = (self.register(CCR) & CCR_INSTRUCTION) as u8;
        self.enabled()
            && self.mode() == Mode::MemoryMapped
            && matches!(
                instruction,
                spi_flash::READ_DATA | spi_flash::FAST_READ | spi_flash::FAST_READ_QUAD_OUTPUT
            )
    }

    /// Reset (RCC or system reset): registers to 0; the flash is a separate chip and keeps
    /// its array and any operation in progress.
    pub fn reset(&mut self) {
        self.registers = [0; 13];
        self.flags = 0;
        self.transfer = None;
    }

    /// The finished operations' changes, for the memory-mapped window.
    pub fn complete(&mut self, now_ns: u64) -> Option<FlashEffect> {
        self.flash.complete(now_ns);
        let (start, end) = self.flash.take_changed()?;
        Some(FlashEffect::Program {
            address: MEMORY_MAPPED.base + start,
            bytes: self.flash.contents()[start as usize..end as usize].to_vec(),
        })
    }

    /// A register as it reads, without side effects.
    pub fn read_register(&self, offset: u32) -> Option<u32> {
        let value = match offset {
            SR => self.status(),
            // DR without taking bytes: the next four.
            DR => match &self.transfer {
                Some(Transfer::Read(bytes)) => little_endian(bytes.iter().take(4)),
                _ => self.register(DR),
            },
            CR | DCR | DLR | CCR | AR | ABR | PSMKR | PSMAR | PIR | LPTR => self.register(offset),
            _ => 0,
        };
        Some(value)
    }

    /// A read by the core or the debugger: DR takes bytes, SR and DR poll.
    pub fn read_register_at(&mut self, offset: u32, now_ns: u64) -> Option<u32> {
        if matches!(offset, SR | DR) && self.transfer == Some(Transfer::AutoPolling) {
            self.poll(now_ns);
        }
        if offset != DR {
            return self.read_register(offset);
        }
        let Some(Transfer::Read(bytes)) = &mut self.transfer else {
            return Some(self.register(DR));
        };
        let taken: Vec<u8> = (0..4).filter_map(|_| bytes.pop_front()).collect();
        if bytes.is_empty() {
            self.transfer = None;
        }
        Some(little_endian(taken.iter()))
    }

    fn status(&self) -> u32 {
        let waiting = match &self.transfer {
            Some(Transfer::Read(bytes)) => bytes.len() as u32,
            _ => 0,
        };
        let mut status = self.flags | waiting.min(32) << SR_FLEVEL_SHIFT;
        // Bytes to read, or room to write (the FIFO empties at once here).
        if waiting > 0 || matches!(self.transfer, Some(Transfer::Write(_))) {
            status |= SR_FTF;
        }
        if self.transfer.is_some() {
            status |= SR_BUSY;
        }
        status
    }

    /// A register write (`lanes`: the bytes written, bit n for byte n).
    pub fn write_register(&mut self, offset: u32, value: u32, lanes: u32, now_ns: u64) {
        let busy = self.transfer.is_some();
        match offset {
            CR => {
                if value & CR_ABORT != 0 {
                    self.transfer = None;
                }
                self.set(CR, value & CR_STORED & !CR_ABORT);
            }
            DCR => self.set(DCR, value & DCR_STORED),
            FCR => self.flags &= !(value & FCR_CLEARS),
            CCR if !busy => {
                self.set(CCR, value);
                if self.mode() == Mode::MemoryMapped {
                    self.transfer = Some(Transfer::MemoryMapped);
                } else if self.starts_on_ccr() {
                    self.start(now_ns);
                }
            }
            AR if !busy => {
                self.set(AR, value);
                if self.has_address() && self.mode() != Mode::MemoryMapped {
                    self.start(now_ns);
                }
            }
            DR => self.write_data(value, lanes, now_ns),
            DLR | ABR | PSMKR | PSMAR | PIR | LPTR if !busy => self.set(offset, value),
            _ => {}
        }
    }

    fn write_data(&mut self, value: u32, lanes: u32, now_ns: u64) {
        if self.mode() != Mode::IndirectWrite {
            self.set(DR, value);
            return;
        }
        if self.transfer.is_none() && !self.has_address() && self.has_data() {
            self.start(now_ns);
        }
        let length = self.register(DLR) as usize + 1;
        let Some(Transfer::Write(bytes)) = &mut self.transfer else {
            return;
        };
        for (byte, value) in value.to_le_bytes().into_iter().enumerate() {
            if lanes & 1 << byte != 0 && bytes.len() < length {
                bytes.push(value);
            }
        }
        if bytes.len() >= length {
            let data = std::mem::take(bytes);
            self.transfer = None;
            self.send(&data, 0, now_ns);
            self.flags |= SR_TCF;
        }
    }

    /// The command starts (RM0433 23.3.4): only when EN is set.
    fn start(&mut self, now_ns: u64) {
        if !self.enabled() {
            return;
        }
        self.flags &= !SR_TCF;
        match self.mode() {
            Mode::IndirectWrite if self.has_data() => {
                self.transfer = Some(Transfer::Write(Vec::new()))
            }
            Mode::IndirectWrite => {
                self.send(&[], 0, now_ns);
                self.flags |= SR_TCF;
            }
            Mode::IndirectRead => {
                let length = if self.has_data() {
                    self.register(DLR) as usize + 1
                } else {
                    0
                };
                let bytes = self.send(&[], length, now_ns);
                self.flags |= SR_TCF;
                if !bytes.is_empty() {
                    self.transfer = Some(Transfer::Read(bytes.into()));
                }
            }
            Mode::AutoPolling => {
                self.flags &= !SR_SMF;
                self.transfer = Some(Transfer::AutoPolling);
                self.poll(now_ns);
            }
            Mode::MemoryMapped => self.transfer = Some(Transfer::MemoryMapped),
        }
    }

    /// One automatic-polling read and match (RM0433 23.3.6).
    fn poll(&mut self, now_ns: u64) {
        let length = (self.register(DLR) as usize + 1).min(4);
        let value = little_endian(self.send(&[], length, now_ns).iter());
        self.set(DR, value);
        let mask = self.register(PSMKR);
        let differ = (value ^ self.register(PSMAR)) & mask;
        let matched = if self.register(CR) & CR_PMM == 0 {
            differ == 0
        } else {
            differ != mask || mask == 0
        };
        if matched {
            self.flags |= SR_SMF;
            if self.register(CR) & CR_APMS != 0 {
                self.transfer = None;
            }
        }
    }

    /// One command on the flash: its phases, then `data` out or `read` bytes in.
    fn send(&mut self, data: &[u8], read: usize, now_ns: u64) -> Vec<u8> {
        let mut header = Vec::new();
        if self.field(CCR_IMODE_SHIFT, 3) != 0 {
            header.push((self.register(CCR) & CCR_INSTRUCTION) as u8);
        }
        if self.has_address() {
            let size = self.field(CCR_ADSIZE_SHIFT, 3) as usize + 1;
            header.extend_from_slice(&self.register(AR).to_be_bytes()[4 - size..]);
        }
        if self.field(CCR_ABMODE_SHIFT, 3) != 0 {
            let size = self.field(CCR_ABSIZE_SHIFT, 3) as usize + 1;
            header.extend_from_slice(&self.register(ABR).to_be_bytes()[4 - size..]);
        }
        let dummy_bytes = self.field(CCR_DCYC_SHIFT, CCR_DCYC_MASK).div_ceil(8) as usize;
        header.extend(std::iter::repeat_n(0u8, dummy_bytes));
        let flash = &mut self.flash;
        flash.select(now_ns);
        for &byte in header.iter().chain(data) {
            flash.transfer(byte, now_ns);
        }
        let answer = (0..read).map(|_| flash.transfer(0, now_ns)).collect();
        flash.deselect(now_ns);
        answer
    }
}

fn little_endian<'a>(bytes: impl Iterator<Item = &'a u8>) -> u32 {
    bytes.enumerate().fold(0, |word, (index, &byte)| {
        word | u32::from(byte) << (8 * index)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENABLE: u32 = CR_EN;
    /// Instruction on one line, 24-bit address on one line, data on one line.
    const INSTRUCTION_1: u32 = 1 << CCR_IMODE_SHIFT;
    const ADDRESS_24: u32 = 1 << CCR_ADMODE_SHIFT | 2 << CCR_ADSIZE_SHIFT;
    const DATA_1: u32 = 1 << CCR_DMODE_SHIFT;
    const READ: u32 = 1 << CCR_FMODE_SHIFT;
    const POLL: u32 = 2 << CCR_FMODE_SHIFT;
    const MAPPED: u32 = 3 << CCR_FMODE_SHIFT;

    fn word(q: &mut Quadspi, offset: u32, value: u32, now: u64) {
        q.write_register(offset, value, 0xF, now);
    }

    fn write_enable(q: &mut Quadspi, now: u64) {
        word(
            q,
            CCR,
            INSTRUCTION_1 | u32::from(spi_flash::WRITE_ENABLE),
            now,
        );
    }

    #[test]
    fn jedec_id_through_an_indirect_read() {
        let mut q = Quadspi::default();
        word(&mut q, CR, ENABLE, 0);
        word(&mut q, DLR, 2, 0);
        word(&mut q, CCR, INSTRUCTION_1 | DATA_1 | READ | 0x9F, 0);
        assert_eq!(
            q.read_register(SR).unwrap() & (SR_BUSY | SR_TCF),
            SR_BUSY | SR_TCF
        );
        assert_eq!(q.read_register_at(DR, 0), Some(0x17_40EF));
        assert_eq!(q.read_register(SR).unwrap() & SR_BUSY, 0);
    }

    #[test]
    fn page_program_polls_busy_then_maps_the_result() {
        let mut q = Quadspi::default();
        word(&mut q, CR, ENABLE | CR_APMS, 0);
        write_enable(&mut q, 0);
        word(&mut q, DLR, 3, 0);
        word(&mut q, CCR, INSTRUCTION_1 | ADDRESS_24 | DATA_1 | 0x02, 0);
        word(&mut q, AR, 0x1000, 0);
        assert_eq!(q.read_register(SR).unwrap() & SR_BUSY, SR_BUSY);
        // A byte, then three: the command goes when DLR + 1 bytes are in.
        q.write_register(DR, 0xAA, 0x1, 0);
        q.write_register(DR, 0x4433_2200, 0xE, 0);
        assert_eq!(q.read_register(SR).unwrap() & (SR_BUSY | SR_TCF), SR_TCF);
        // Poll status register 1 until BUSY (bit 0) is clear.
        word(&mut q, PSMKR, 1, 0);
        word(&mut q, PSMAR, 0, 0);
        word(&mut q, DLR, 0, 0);
        word(&mut q, CCR, INSTRUCTION_1 | DATA_1 | POLL | 0x05, 0);
        assert_eq!(q.read_register_at(SR, 1000).unwrap() & SR_SMF, 0);
        assert_eq!(q.read_register_at(DR, 1000), Some(1), "BUSY");
        let done = spi_flash::PAGE_PROGRAM_NS;
        let status = q.read_register_at(SR, done).unwrap();
        assert_eq!(status & (SR_SMF | SR_BUSY), SR_SMF, "matched and stopped");
        assert_eq!(
            q.complete(done),
            Some(FlashEffect::Program {
                address: 0x9000_1000,
                bytes: [[0xAA, 0x22, 0x33, 0x44].as_slice(), &[0xFF; 252]].concat(),
            })
        );
        assert!(!q.memory_mapped());
        word(
            &mut q,
            CCR,
            INSTRUCTION_1 | ADDRESS_24 | DATA_1 | MAPPED | 0x03,
            done,
        );
        assert!(q.memory_mapped());
        // CCR is locked while memory-mapped (BUSY) until ABORT.
        word(&mut q, CCR, 0, done);
        assert!(q.memory_mapped());
        word(&mut q, CR, ENABLE | CR_ABORT, done);
        word(&mut q, CCR, 0, done);
        assert!(!q.memory_mapped());
        assert_eq!(q.read_register(CR), Some(ENABLE));
    }

    #[test]
    fn sector_erase_takes_its_time() {
        let mut q = Quadspi::default();
        q.flash.load(0x2000, &[0; 0x2000]);
        assert_eq!(q.flash.take_changed(), Some((0x2000, 0x4000)));
        word(&mut q, CR, ENABLE, 0);
        write_enable(&mut q, 0);
        word(&mut q, CCR, INSTRUCTION_1 | ADDRESS_24 | 0x20, 0);
        word(&mut q, AR, 0x2345, 0);
        assert_eq!(q.flash.busy_until_ns(), Some(spi_flash::SECTOR_ERASE_NS));
        assert_eq!(q.complete(spi_flash::SECTOR_ERASE_NS - 1), None);
        assert_eq!(
            q.complete(spi_flash::SECTOR_ERASE_NS),
            Some(FlashEffect::Program {
                address: 0x9000_2000,
                bytes: vec![0xFF; 0x1000]
            })
        );
        assert_eq!(q.flash.contents()[0x3000], 0);
    }

    #[test]
    fn nothing_starts_while_disabled() {
        let mut q = Quadspi::default();
        write_enable(&mut q, 0);
        word(&mut q, CCR, INSTRUCTION_1 | ADDRESS_24 | 0x20, 0);
        word(&mut q, AR, 0, 0);
        assert_eq!(q.flash.busy_until_ns(), None);
    }
}
