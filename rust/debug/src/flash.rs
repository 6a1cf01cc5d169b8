//! Flash buffering: writes at any address and length are gathered a page at a time, and
//! each page is programmed once, aligned, when the writes move on or finish.

use crate::error::Error;
use adi::Memory;
use chips::{Chip, RegionKind};

/// Largest flash page buffered (STM32F1 high density: 2 KB).
const MAX_PAGE: usize = 2048;

pub struct FlashBuffer {
    page: Option<u32>,
    page_size: u32,
    data: [u8; MAX_PAGE],
    /// Bytes of the page written since it was started: [first, end).
    dirty: Option<(usize, usize)>,
}

impl FlashBuffer {
    pub const fn new() -> Self {
        Self {
            page: None,
            page_size: 0,
            data: [0xFF; MAX_PAGE],
            dirty: None,
        }
    }

    pub fn write<M: Memory>(
        &mut self,
        memory: &mut M,
        chip: &mut Chip,
        address: u32,
        data: &[u8],
    ) -> Result<(), Error> {
        let mut offset = 0;
        while offset < data.len() {
            let at = address.wrapping_add(offset as u32);
            let (page, page_size) = page_of(chip, at)?;
            if self.page != Some(page) {
                self.flush(memory, chip)?;
                self.page = Some(page);
                self.page_size = page_size;
                self.data[..page_size as usize].fill(0xFF);
            }
            let start = (at - page) as usize;
            let length = (data.len() - offset).min(page_size as usize - start);
            self.data[start..start + length].copy_from_slice(&data[offset..offset + length]);
            self.dirty = Some(match self.dirty {
                Some((first, end)) => (first.min(start), end.max(start + length)),
                None => (start, start + length),
            });
            offset += length;
        }
        Ok(())
    }

    /// Program the buffered page, if any.
    pub fn flush<M: Memory>(&mut self, memory: &mut M, chip: &mut Chip) -> Result<(), Error> {
        let (Some(page), Some((first, end))) = (self.page, self.dirty.take()) else {
            self.page = None;
            return Ok(());
        };
        self.page = None;
        // Whole half-words: an odd edge is padded with the erased value.
        let first = first & !1;
        let end = (end + 1) & !1;
        chip.flash_program(memory, page + first as u32, &self.data[first..end])?;
        Ok(())
    }

    /// Program what is buffered and lock the flash controller.
    pub fn finish<M: Memory>(&mut self, memory: &mut M, chip: &mut Chip) -> Result<(), Error> {
        let flushed = self.flush(memory, chip);
        let locked = chip.flash_done(memory).map_err(Error::from);
        flushed.and(locked)
    }
}

fn page_of(chip: &Chip, address: u32) -> Result<(u32, u32), Error> {
    let map = chip.memory_map();
    let region = map
        .flash_at(address)
        .ok_or(Error::Chip(chips::Error::OutsideFlash { address }))?;
    let RegionKind::Flash { block_size } = region.kind else {
        unreachable!("flash_at returns flash")
    };
    let block_size = block_size.min(MAX_PAGE as u32);
    Ok((address - (address - region.start) % block_size, block_size))
}
