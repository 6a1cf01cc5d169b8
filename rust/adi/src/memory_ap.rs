//! The MEM-AP (ADIv5.2 C2): target memory through CSW, TAR and DRW, with auto-increment
//! inside 1 KB blocks, and the [`Memory`] trait the layers above use.

use crate::debug_port::{DebugPort, RunError};
use crate::error::Error;
use crate::registers::ap::{self, Csw, Idr};
use crate::registers::{ApRegister, MemoryMapped};
use crate::transport::{Clock, Transport};
use core::ops::Range;

/// Target memory as the core and flash drivers see it, plus the clock for their timeouts.
pub trait Memory {
    fn read_words(&mut self, address: u32, words: &mut [u32]) -> Result<(), Error>;
    fn write_words(&mut self, address: u32, words: &[u32]) -> Result<(), Error>;
    /// Half-words at an even address (e.g. STM32F1 flash programming).
    fn write_halves(&mut self, address: u32, halves: &[u16]) -> Result<(), Error>;
    /// Any address and length; bytes outside word alignment go as byte accesses.
    fn read_bytes(&mut self, address: u32, bytes: &mut [u8]) -> Result<(), Error>;
    fn write_bytes(&mut self, address: u32, bytes: &[u8]) -> Result<(), Error>;
    fn now_micros(&mut self) -> u64;

    /// Word accesses within the 16-byte block at `block` (a multiple of
    /// [`BANKED_BLOCK`]), in order; each read's value goes to the next slot of `reads`.
    /// A MEM-AP makes them through its banked data registers (ADIv5.2 C2.2.7: TAR holds
    /// the block and stays, so consecutive calls on one block write no TAR); the default
    /// is one word access each. A failed write is not repeated here: the caller knows
    /// whether it may be.
    ///
    /// Panics if an index is over 3 or `reads` has not one slot a read.
    fn access_block(
        &mut self,
        block: u32,
        accesses: &[BlockAccess],
        reads: &mut [u32],
    ) -> Result<(), Error> {
        check_block(block, accesses, reads)?;
        let mut slots = reads.iter_mut();
        for access in accesses {
            match *access {
                BlockAccess::Read(index) => {
                    let slot = slots.next().expect("checked: a slot a read");
                    *slot = self.read_word(block + 4 * u32::from(index))?;
                }
                BlockAccess::Write(index, value) => {
                    self.write_word(block + 4 * u32::from(index), value)?
                }
            }
        }
        Ok(())
    }

    fn read_word(&mut self, address: u32) -> Result<u32, Error> {
        let mut word = [0];
        self.read_words(address, &mut word)?;
        Ok(word[0])
    }

    fn write_word(&mut self, address: u32, value: u32) -> Result<(), Error> {
        self.write_words(address, &[value])
    }

    /// Read a typed memory-mapped register at its address.
    fn load<R: MemoryMapped>(&mut self) -> Result<R, Error>
    where
        Self: Sized,
    {
        self.read_word(R::ADDRESS).map(R::from)
    }

    /// Write a typed memory-mapped register at its address.
    fn store<R: MemoryMapped>(&mut self, value: R) -> Result<(), Error>
    where
        Self: Sized,
    {
        self.write_word(R::ADDRESS, value.into())
    }
}

/// A `&mut dyn Memory` is a memory too, so code generic over `M: Memory` (with the typed
/// `load`/`store`) runs on the trait object the chip drivers receive.
impl<M: Memory + ?Sized> Memory for &mut M {
    fn read_words(&mut self, address: u32, words: &mut [u32]) -> Result<(), Error> {
        (**self).read_words(address, words)
    }
    fn write_words(&mut self, address: u32, words: &[u32]) -> Result<(), Error> {
        (**self).write_words(address, words)
    }
    fn write_halves(&mut self, address: u32, halves: &[u16]) -> Result<(), Error> {
        (**self).write_halves(address, halves)
    }
    fn read_bytes(&mut self, address: u32, bytes: &mut [u8]) -> Result<(), Error> {
        (**self).read_bytes(address, bytes)
    }
    fn write_bytes(&mut self, address: u32, bytes: &[u8]) -> Result<(), Error> {
        (**self).write_bytes(address, bytes)
    }
    fn now_micros(&mut self) -> u64 {
        (**self).now_micros()
    }
    fn access_block(
        &mut self,
        block: u32,
        accesses: &[BlockAccess],
        reads: &mut [u32],
    ) -> Result<(), Error> {
        (**self).access_block(block, accesses, reads)
    }
    fn read_word(&mut self, address: u32) -> Result<u32, Error> {
        (**self).read_word(address)
    }
    fn write_word(&mut self, address: u32, value: u32) -> Result<(), Error> {
        (**self).write_word(address, value)
    }
}

/// One word access of [`Memory::access_block`]: the word's index in its 16-byte block
/// (0-3), and for a write the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockAccess {
    Read(u8),
    Write(u8, u32),
}

impl BlockAccess {
    pub fn index(self) -> u8 {
        match self {
            BlockAccess::Read(index) | BlockAccess::Write(index, _) => index,
        }
    }
}

/// The block a MEM-AP's four banked data registers BD0-BD3 reach: TAR[31:4] (ADIv5.2
/// C2.2.7).
pub const BANKED_BLOCK: u32 = 16;

/// Which way a run moves data: reads may always be repeated, writes only to plain memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Read,
    Write,
}

/// Access size of one MEM-AP transfer (CSW.Size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Size {
    Byte,
    Half,
    Word,
}

impl Size {
    fn csw_bits(self) -> u8 {
        match self {
            Size::Byte => Csw::SIZE_8,
            Size::Half => Csw::SIZE_16,
            Size::Word => Csw::SIZE_32,
        }
    }

    fn bytes(self) -> u32 {
        match self {
            Size::Byte => 1,
            Size::Half => 2,
            Size::Word => 4,
        }
    }
}

/// The SRAM region of the ARMv6-M/ARMv7-M/ARMv8-M memory map (ARMv7-M B3.1, Table B3-1):
/// Normal memory, where storing a value twice has the effect of storing it once.
pub const SRAM_REGION: Range<u32> = 0x2000_0000..0x4000_0000;
/// How many address ranges a MEM-AP knows as plain memory.
pub const PLAIN_MEMORY_RANGES: usize = 4;

/// One MEM-AP: its number, its CSW, what is known of TAR, and where a write is a plain
/// store.
///
/// # Retries after transient errors
///
/// A run of transfers inside one auto-increment block (CSW, TAR, the data, the RDBUFF and
/// CTRL/STAT checks) that fails with a transient error (FAULT, no answer, parity:
/// [`Error::is_transient`]) goes on from the last value surely done, TAR rewritten, at
/// most [`crate::TRANSIENT_RETRIES`] times in a row without progress
/// ([`DebugPort::may_retry`] says when):
/// - reads, always: TAR moved on, so the run goes on from the first value whose data did
///   not arrive (each posted read carries the one before), TAR rewritten;
/// - writes only where every store of the run is a plain store to memory, so that storing
///   a value again (the one before the failure may be stored twice) has the effect of
///   storing it once: an address range of [`MemoryAp::add_plain_memory`] (by default the architecture's SRAM region,
///   [`SRAM_REGION`]). Elsewhere a write is never repeated: a flash array half-word
///   programmed twice, or a flash controller register written twice (a second STRT starts
///   a second erase), is not the same as once. Those fail with the error, for the flash
///   driver to decide (e.g. read back and go on).
#[derive(Clone, Copy, Debug)]
pub struct MemoryAp {
    ap: u8,
    /// CSW bits to keep (protection, mode) as the AP reset them.
    csw_base: Csw,
    csw: Option<u32>,
    tar: Option<u32>,
    plain_memory: [Option<(u32, u32)>; PLAIN_MEMORY_RANGES],
}

impl MemoryAp {
    /// Check that `ap` is a MEM-AP (IDR class, ADIv5.2 C2.6.5) and learn its CSW.
    pub fn open<T: Transport, C: Clock>(port: &mut DebugPort<T, C>, ap: u8) -> Result<Self, Error> {
        let idr = Idr::from(port.read_ap(ap, Idr::ADDRESS)?);
        if !idr.is_memory_ap() {
            let idr = idr.into();
            return Err(Error::NotMemoryAp { ap, idr });
        }
        let mut csw_base = Csw::from(port.read_ap(ap, Csw::ADDRESS)?).kept();
        // An AHB5-AP whose SPIDEN is low refuses Secure transfers: every transfer is made
        // Non-secure (HNONSEC), and the part's attribution decides what it may reach.
        if idr.is_ahb5() && !csw_base.spiden() {
            csw_base.set_hnonsec(true);
        }
        let mut plain_memory = [None; PLAIN_MEMORY_RANGES];
        plain_memory[0] = Some((SRAM_REGION.start, SRAM_REGION.end));
        Ok(Self {
            ap,
            csw_base,
            csw: None,
            tar: None,
            plain_memory,
        })
    }

    /// Also count `range` as plain memory, where a failed write run is written again
    /// (RAM outside the SRAM region, e.g. an STM32F4's CCM at 0x1000_0000 or a Cortex-M7's
    /// ITCM). False if the list is full.
    pub fn add_plain_memory(&mut self, range: Range<u32>) -> bool {
        match self.plain_memory.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => {
                *slot = Some((range.start, range.end));
                true
            }
            None => false,
        }
    }

    /// Is every byte of `length` bytes from `address` plain memory?
    pub fn is_plain_memory(&self, address: u32, length: u32) -> bool {
        let Some(end) = address.checked_add(length) else {
            return false;
        };
        self.plain_memory
            .iter()
            .flatten()
            .any(|&(start, limit)| start <= address && end <= limit)
    }

    pub fn number(&self) -> u8 {
        self.ap
    }

    /// Transfers are Non-secure: an AHB5-AP without SPIDEN (Secure debug not permitted).
    pub fn nonsecure(&self) -> bool {
        self.csw_base.hnonsec()
    }

    /// BASE: the ROM table address of this AP (ADIv5.2 C2.6.1), if it has one.
    pub fn rom_table_base<T: Transport, C: Clock>(
        &self,
        port: &mut DebugPort<T, C>,
    ) -> Result<Option<u32>, Error> {
        let base = port.read_ap(self.ap, ap::BASE)?;
        // Bit 0: present (ADIv5 format); 0xFFFFFFFF: legacy "no debug entries".
        if base == 0xFFFF_FFFF || base & 1 == 0 {
            return Ok(None);
        }
        Ok(Some(base & 0xFFFF_F000))
    }

    /// Forget cached CSW and TAR (after an error, or when another agent used the AP).
    pub fn invalidate(&mut self) {
        self.csw = None;
        self.tar = None;
    }

    fn set_csw<T: Transport, C: Clock>(
        &mut self,
        port: &mut DebugPort<T, C>,
        size: Size,
    ) -> Result<(), Error> {
        let mut csw = self.csw_base;
        csw.set_size(size.csw_bits());
        csw.set_addrinc(Csw::ADDRINC_SINGLE);
        let csw = u32::from(csw);
        if self.csw != Some(csw) {
            port.write_ap(self.ap, Csw::ADDRESS, csw)?;
            self.csw = Some(csw);
        }
        Ok(())
    }

    fn set_tar<T: Transport, C: Clock>(
        &mut self,
        port: &mut DebugPort<T, C>,
        address: u32,
    ) -> Result<(), Error> {
        if self.tar != Some(address) {
            port.write_ap(self.ap, ap::TAR, address)?;
            self.tar = Some(address);
        }
        Ok(())
    }

    /// Transfers of one size from `address` on, in runs that stay inside a 1 KB
    /// auto-increment block (ADIv5.2 C2.2.2), rewriting TAR at each block. A run that
    /// fails with a transient error goes on from its last value surely done, if
    /// `direction` allows it (see the type's rule).
    fn transfer<T: Transport, C: Clock>(
        &mut self,
        port: &mut DebugPort<T, C>,
        size: Size,
        direction: Direction,
        address: u32,
        count: usize,
        mut run: impl FnMut(&mut DebugPort<T, C>, usize, usize) -> Result<(), RunError>,
    ) -> Result<(), Error> {
        let mut done = 0;
        while done < count {
            let here = address.wrapping_add(done as u32 * size.bytes());
            let room =
                (ap::AUTO_INCREMENT_BLOCK - (here % ap::AUTO_INCREMENT_BLOCK)) / size.bytes();
            let length = (count - done).min(room as usize);
            let repeatable = match direction {
                Direction::Read => true,
                Direction::Write => self.is_plain_memory(here, length as u32 * size.bytes()),
            };
            // Repeats in a row without progress, bounded by `DebugPort::may_retry`.
            let mut attempts = 0;
            let mut offset = 0;
            while offset < length {
                let at = here.wrapping_add(offset as u32 * size.bytes());
                let remaining = length - offset;
                let result = self
                    .set_csw(port, size)
                    .and_then(|()| self.set_tar(port, at))
                    .map_err(RunError::at(0))
                    .and_then(|()| {
                        // TAR is unknown after a partial run; known after a complete one.
                        self.tar = None;
                        run(port, done + offset, remaining)
                    })
                    // A sticky flag found after the run: which access failed is unknown
                    // (a JTAG-DP answers no FAULT; the AP accesses after a failure are not
                    // made, ADIv5.2 B2.2.2), so the whole run again.
                    .and_then(|()| port.check_sticky_errors().map_err(RunError::at(0)));
                let Err(RunError { error, completed }) = result else {
                    break;
                };
                self.invalidate();
                if completed > 0 {
                    attempts = 0;
                }
                if !(repeatable && port.may_retry(&error, &mut attempts)) {
                    return Err(bus_error(error, at));
                }
                offset += completed;
            }
            let next = here.wrapping_add(length as u32 * size.bytes());
            self.tar = if next.is_multiple_of(ap::AUTO_INCREMENT_BLOCK) {
                None
            } else {
                Some(next)
            };
            done += length;
        }
        Ok(())
    }

    pub fn read_words<T: Transport, C: Clock>(
        &mut self,
        port: &mut DebugPort<T, C>,
        address: u32,
        words: &mut [u32],
    ) -> Result<(), Error> {
        check_alignment(address, 4)?;
        let ap = self.ap;
        self.transfer(
            port,
            Size::Word,
            Direction::Read,
            address,
            words.len(),
            |port, start, length| {
                port.read_ap_repeated(ap, ap::DRW, &mut words[start..start + length])
            },
        )
    }

    pub fn write_words<T: Transport, C: Clock>(
        &mut self,
        port: &mut DebugPort<T, C>,
        address: u32,
        words: &[u32],
    ) -> Result<(), Error> {
        check_alignment(address, 4)?;
        let ap = self.ap;
        self.transfer(
            port,
            Size::Word,
            Direction::Write,
            address,
            words.len(),
            |port, start, length| {
                port.write_ap_repeated(ap, ap::DRW, &words[start..start + length])
            },
        )
    }

    pub fn write_halves<T: Transport, C: Clock>(
        &mut self,
        port: &mut DebugPort<T, C>,
        address: u32,
        halves: &[u16],
    ) -> Result<(), Error> {
        check_alignment(address, 2)?;
        let ap = self.ap;
        self.transfer(
            port,
            Size::Half,
            Direction::Write,
            address,
            halves.len(),
            |port, start, length| {
                for (index, &half) in halves[start..start + length].iter().enumerate() {
                    let lane = (address.wrapping_add(2 * (start + index) as u32) & 2) * 8;
                    port.write_ap(ap, ap::DRW, u32::from(half) << lane)
                        .map_err(RunError::at(index.saturating_sub(1)))?;
                }
                port.read_dp(crate::registers::dp::RDBUFF)
                    .map(|_| ())
                    .map_err(RunError::at(length.saturating_sub(1)))
            },
        )
    }

    /// Byte accesses: data sits in the byte lane of its address (ADIv5.2 C2.2.6).
    fn read_byte_run<T: Transport, C: Clock>(
        &mut self,
        port: &mut DebugPort<T, C>,
        address: u32,
        bytes: &mut [u8],
    ) -> Result<(), Error> {
        let ap = self.ap;
        let mut lanes = [0u32; 16];
        let mut done = 0;
        while done < bytes.len() {
            let length = (bytes.len() - done).min(lanes.len());
            let start = address.wrapping_add(done as u32);
            self.transfer(
                port,
                Size::Byte,
                Direction::Read,
                start,
                length,
                |port, offset, run| {
                    port.read_ap_repeated(ap, ap::DRW, &mut lanes[offset..offset + run])
                },
            )?;
            for index in 0..length {
                let lane = (start.wrapping_add(index as u32) & 3) * 8;
                bytes[done + index] = (lanes[index] >> lane) as u8;
            }
            done += length;
        }
        Ok(())
    }

    fn write_byte_run<T: Transport, C: Clock>(
        &mut self,
        port: &mut DebugPort<T, C>,
        address: u32,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let ap = self.ap;
        self.transfer(
            port,
            Size::Byte,
            Direction::Write,
            address,
            bytes.len(),
            |port, start, length| {
                for (index, &byte) in bytes[start..start + length].iter().enumerate() {
                    let lane = (address.wrapping_add((start + index) as u32) & 3) * 8;
                    port.write_ap(ap, ap::DRW, u32::from(byte) << lane)
                        .map_err(RunError::at(index.saturating_sub(1)))?;
                }
                port.read_dp(crate::registers::dp::RDBUFF)
                    .map(|_| ())
                    .map_err(RunError::at(length.saturating_sub(1)))
            },
        )
    }

    /// Word accesses within one 16-byte block through BD0-BD3 (ADIv5.2 C2.2.7; see
    /// [`Memory::access_block`]): CSW word-sized and TAR at the block, each written only
    /// if it is not so already (a banked access leaves TAR as it is), the posted reads
    /// pipelined, then the sticky flags checked. Not repeated after an error.
    pub fn access_block<T: Transport, C: Clock>(
        &mut self,
        port: &mut DebugPort<T, C>,
        block: u32,
        accesses: &[BlockAccess],
        reads: &mut [u32],
    ) -> Result<(), Error> {
        check_block(block, accesses, reads)?;
        let result = self
            .set_csw(port, Size::Word)
            .and_then(|()| self.set_tar(port, block))
            .and_then(|()| port.access_ap_bank(self.ap, ap::BD0, accesses, reads))
            .and_then(|()| port.check_sticky_errors());
        if let Err(error) = result {
            self.invalidate();
            return Err(bus_error(error, block));
        }
        Ok(())
    }

    /// Any alignment: bytes up to a word boundary, whole words, then the remaining bytes.
    pub fn read_bytes<T: Transport, C: Clock>(
        &mut self,
        port: &mut DebugPort<T, C>,
        address: u32,
        bytes: &mut [u8],
    ) -> Result<(), Error> {
        let (head, middle, tail) = split_aligned(address, bytes.len());
        self.read_byte_run(port, address, &mut bytes[..head])?;
        let mut words = [0u32; 64];
        let mut done = 0;
        while done < middle {
            let count = ((middle - done) / 4).min(words.len());
            let at = address.wrapping_add((head + done) as u32);
            self.read_words(port, at, &mut words[..count])?;
            for (index, word) in words[..count].iter().enumerate() {
                let offset = head + done + 4 * index;
                bytes[offset..offset + 4].copy_from_slice(&word.to_le_bytes());
            }
            done += 4 * count;
        }
        let tail_address = address.wrapping_add((head + middle) as u32);
        self.read_byte_run(
            port,
            tail_address,
            &mut bytes[head + middle..head + middle + tail],
        )
    }

    pub fn write_bytes<T: Transport, C: Clock>(
        &mut self,
        port: &mut DebugPort<T, C>,
        address: u32,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let (head, middle, tail) = split_aligned(address, bytes.len());
        self.write_byte_run(port, address, &bytes[..head])?;
        let mut words = [0u32; 64];
        let mut done = 0;
        while done < middle {
            let count = ((middle - done) / 4).min(words.len());
            for (index, word) in words[..count].iter_mut().enumerate() {
                let offset = head + done + 4 * index;
                *word = u32::from_le_bytes([
                    bytes[offset],
                    bytes[offset + 1],
                    bytes[offset + 2],
                    bytes[offset + 3],
                ]);
            }
            let at = address.wrapping_add((head + done) as u32);
            self.write_words(port, at, &words[..count])?;
            done += 4 * count;
        }
        let tail_address = address.wrapping_add((head + middle) as u32);
        self.write_byte_run(
            port,
            tail_address,
            &bytes[head + middle..head + middle + tail],
        )
    }
}

/// A MEM-AP together with its debug port: the [`Memory`] the layers above use.
pub struct MemoryPort<'a, T: Transport, C: Clock> {
    pub port: &'a mut DebugPort<T, C>,
    pub ap: &'a mut MemoryAp,
}

impl<T: Transport, C: Clock> Memory for MemoryPort<'_, T, C> {
    fn read_words(&mut self, address: u32, words: &mut [u32]) -> Result<(), Error> {
        self.ap.read_words(self.port, address, words)
    }
    fn write_words(&mut self, address: u32, words: &[u32]) -> Result<(), Error> {
        self.ap.write_words(self.port, address, words)
    }
    fn write_halves(&mut self, address: u32, halves: &[u16]) -> Result<(), Error> {
        self.ap.write_halves(self.port, address, halves)
    }
    fn read_bytes(&mut self, address: u32, bytes: &mut [u8]) -> Result<(), Error> {
        self.ap.read_bytes(self.port, address, bytes)
    }
    fn write_bytes(&mut self, address: u32, bytes: &[u8]) -> Result<(), Error> {
        self.ap.write_bytes(self.port, address, bytes)
    }
    fn now_micros(&mut self) -> u64 {
        self.port.now_micros()
    }
    fn access_block(
        &mut self,
        block: u32,
        accesses: &[BlockAccess],
        reads: &mut [u32],
    ) -> Result<(), Error> {
        self.ap.access_block(self.port, block, accesses, reads)
    }
}

/// Lengths of the unaligned head, the whole words, and the tail of a byte range.
fn split_aligned(address: u32, length: usize) -> (usize, usize, usize) {
    let head = (((4 - (address & 3)) & 3) as usize).min(length);
    let middle = (length - head) & !3;
    (head, middle, length - head - middle)
}

/// `block` on a 16-byte boundary (else an error); indexes 0-3 and a slot a read (else a
/// panic: the caller's mistake).
fn check_block(block: u32, accesses: &[BlockAccess], reads: &[u32]) -> Result<(), Error> {
    let read_count = accesses
        .iter()
        .filter(|access| matches!(access, BlockAccess::Read(_)))
        .count();
    assert!(
        accesses.iter().all(|access| access.index() < 4) && read_count == reads.len(),
        "block accesses: indexes 0-3 and one slot a read"
    );
    check_alignment(block, BANKED_BLOCK)
}

fn check_alignment(address: u32, size: u32) -> Result<(), Error> {
    if !address.is_multiple_of(size) {
        return Err(Error::Unaligned { address });
    }
    Ok(())
}

/// A sticky error during a memory access is a bus error at that address.
fn bus_error(error: Error, address: u32) -> Error {
    match error {
        Error::Fault { .. } => Error::Bus { address },
        other => other,
    }
}
