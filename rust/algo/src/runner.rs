//! Running an algorithm on the target's core.
//!
//! RAM layout, from the start of the RAM given to the algorithm:
//!
//! ```text
//! +0    BKPT #0; BKPT #0       the return address (LR = it | 1): the core halts there
//! +8    image                  code, data (R9, the static base, points at it), zeroes
//!       page buffer 0, 1       ProgramPage's data; two when the RAM allows
//!       page loop, status      the streaming loop below (44 bytes), its two words
//!       slots 0..n             a page, its address, its sequence number (n 2..8)
//!       ...                    stack, down from the end of the RAM
//! ```
//!
//! The first call after loading writes R9, SP and xPSR, clears DFSR and masks interrupts
//! (DHCSR C_MASKINTS, changed only while halted, ARMv7-M C1.6.2); every call writes R0-R3
//! (arguments), LR and PC through DCRSR/DCRDR and resumes (as probe-rs: the functions keep
//! R9 and return with SP as it was). A call ends when DHCSR.S_HALT is set with PC at the
//! breakpoint; R0 is the result. A call that does not end within its FlashDevice timeout (plus `slack_ms`) is
//! halted and reported with its name; one that halts elsewhere (a fault caught by a
//! vector catch, a breakpoint) is reported with its PC.
//!
//! ProgramPage runs from a loop on the target when the RAM has room for two slots or
//! more (the page loop): the probe writes a page into the next free slot, then its address
//! and sequence number; the loop, waiting for that number, calls ProgramPage on it and
//! counts the pages done in its status word (a result other than 0 goes into the second
//! word, and the loop stops at a BKPT). The probe only reads the status when all slots are
//! taken, so a page costs its data and two words on the wire instead of a call's
//! register transfers and polls (74 SWD transactions for a 256-byte page instead of
//! 173). Otherwise ProgramPage is double-buffered by calls: page N+1 is written into the
//! free buffer while page N is programmed. Either way the last pages are left running
//! until the next operation or `finish`. The algorithm is loaded and Init called on the first operation after a
//! `finish`; switching between erase and program calls UnInit and Init again, as pyOCD
//! does. The core registers R0-R12, SP, LR, PC and xPSR are saved before and restored by
//! `finish`; the RAM the algorithm used is not (pyOCD and probe-rs do the same).

use crate::{Algorithm, Error, Function};
use adi::{Memory, poll_memory};
use cortexm::registers::{Dfsr, Dhcsr};
use cortexm::{Core, PC, XPSR, XPSR_THUMB};

/// Two `BKPT #0` (ARMv7-M A7.7.17), little-endian.
const STUB: [u8; 4] = [0x00, 0xBE, 0x00, 0xBE];
const IMAGE_OFFSET: u32 = 8;
/// Stack left below the top of the RAM, at least.
const MIN_STACK: u32 = 256;
/// Core register numbers (GDB order).
const R9: usize = 9;
const SP: usize = 13;
const LR: usize = 14;
/// r0-r12, sp, lr, pc, xpsr.
const SAVED_REGISTERS: usize = 17;
/// Init's `fnc` argument (FlashOS.h): 1 erase, 2 program, 3 verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Erase = 1,
    Program = 2,
    Verify = 3,
}
/// Time allowed for Init, UnInit and calls without a FlashDevice timeout.
const DEFAULT_TIMEOUT_MS: u32 = 1000;
/// Added to every timeout: the probe's clock and the target's do not run alike (a
/// simulated target in a debug build runs slower than the chip).
pub const DEFAULT_SLACK_MS: u32 = 2000;

/// The page loop (Thumb, ARMv6-M and up). R4: status (pages done, last result), R5: the
/// slot to program next, R6: ProgramPage | 1, R7: the sequence number it waits for, R8:
/// the first slot, R10: the end of the slots, R11: the page size; R9 and SP as for calls
/// (AAPCS: ProgramPage keeps R4-R11).
///
/// ```text
/// loop:   mov r0, r11; adds r1, r5, r0       @ r1: the slot's address word
/// wait:   ldr r2, [r1, #4]; cmp r2, r7; bne wait
///         ldr r0, [r1]; mov r1, r11; mov r2, r5; blx r6
///         cmp r0, #0; bne failed
///         str r7, [r4]; adds r7, #1           @ done: this sequence number
///         mov r0, r11; adds r0, #8; adds r5, r5, r0
///         cmp r5, r10; bne loop; mov r5, r8; b loop
/// failed: str r0, [r4, #4]; bkpt #0
/// ```
const PAGE_LOOP: [u16; 22] = [
    0x4658, 0x1829, 0x684A, 0x42BA, 0xD1FC, 0x6808, 0x4659, 0x462A, 0x47B0, 0x2800, 0xD108, 0x6027,
    0x3701, 0x4658, 0x3008, 0x182D, 0x4555, 0xD1ED, 0x4645, 0xE7EB, 0x6060, 0xBE00,
];
/// Slots of the page loop, at most.
const MAX_SLOTS: usize = 8;
/// Pages of up to this many words are written with their address and sequence number in
/// one MEM-AP run (a word buffer on the stack).
const SMALL_PAGE_WORDS: usize = 64;
/// Core register numbers of the page loop's state.
const R4: usize = 4;
const R5: usize = 5;
const R6: usize = 6;
const R7: usize = 7;
const R8: usize = 8;
const R10: usize = 10;
const R11: usize = 11;

fn align8(value: u32) -> u32 {
    value.div_ceil(8) * 8
}

/// Where the pieces go in the RAM given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub stub: u32,
    pub image: u32,
    pub buffers: [u32; 2],
    /// 1 or 2 page buffers.
    pub buffer_count: usize,
    pub stack_top: u32,
    /// The page loop, when the RAM has room for it.
    pub page_loop: Option<PageLoop>,
}

/// Where the page loop, its status words and its slots are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLoop {
    pub code: u32,
    pub status: u32,
    pub slots: u32,
    /// A page, then its address and sequence number.
    pub slot_size: u32,
    pub slot_count: u32,
}

impl PageLoop {
    /// After `start` (the end of the page buffers), below `stack_bottom`, if two slots fit.
    fn place(start: u64, stack_bottom: u64, page: u32) -> Option<Self> {
        let code = align8(u32::try_from(start).ok()?);
        let status = code + 2 * PAGE_LOOP.len() as u32;
        let slots = align8(status + 8);
        let slot_size = page + 8;
        let room = stack_bottom.checked_sub(u64::from(slots))?;
        let slot_count = (room / u64::from(slot_size)).min(MAX_SLOTS as u64) as u32;
        (slot_count >= 2).then_some(Self {
            code,
            status,
            slots,
            slot_size,
            slot_count,
        })
    }

    fn slot(&self, sequence: u32) -> u32 {
        self.slots + (sequence - 1) % self.slot_count * self.slot_size
    }
}

impl Layout {
    pub fn new(algorithm: &Algorithm, ram_start: u32, ram_size: u32) -> Result<Self, Error> {
        let image = ram_start + IMAGE_OFFSET;
        let page = align8(algorithm.device.page_size);
        let first_buffer = u64::from(align8(image + algorithm.image.len() as u32));
        let ram_end = u64::from(ram_start) + u64::from(ram_size);
        let needed = first_buffer + u64::from(page) + u64::from(MIN_STACK);
        if !ram_start.is_multiple_of(4) || needed > ram_end {
            return Err(Error::NoRoom {
                needed: (needed - u64::from(ram_start)) as u32,
                available: ram_size,
            });
        }
        let two = first_buffer + 2 * u64::from(page) + 2 * u64::from(MIN_STACK) <= ram_end;
        let buffer_count = if two { 2 } else { 1 };
        let page_loop = PageLoop::place(
            first_buffer + buffer_count * u64::from(page),
            ram_end - u64::from(MIN_STACK),
            page,
        );
        Ok(Self {
            stub: ram_start,
            image,
            buffers: [first_buffer as u32, first_buffer as u32 + page],
            buffer_count: buffer_count as usize,
            stack_top: (ram_end as u32) & !7,
            page_loop,
        })
    }

    fn entry(&self, algorithm: &Algorithm, function: Function) -> Option<u32> {
        algorithm
            .entries
            .get(function)
            .map(|offset| self.image + offset)
    }
}

/// The page loop running: the next sequence number to hand it, the pages it reported
/// done, when it last made progress, and the address of each slot's page.
#[derive(Clone, Copy, Debug)]
struct Streaming {
    next: u32,
    done: u32,
    progress_at: u64,
    millis: u32,
    addresses: [u32; MAX_SLOTS],
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    function: Function,
    address: u32,
    started: u64,
    millis: u32,
}

/// The runner's state between calls.
#[derive(Clone, Copy, Debug)]
pub struct Runner {
    layout: Option<Layout>,
    operation: Option<Operation>,
    in_flight: Option<InFlight>,
    streaming: Option<Streaming>,
    next_buffer: usize,
    saved: [u32; SAVED_REGISTERS],
    /// A call timed out or stopped: UnInit is not called on such an algorithm.
    broken: bool,
    /// R9, SP and xPSR are set and C_MASKINTS is on: the next calls write only R0-R3, LR
    /// and PC (as probe-rs does: the functions keep R9 and return with SP as it was).
    prepared: bool,
    /// Added to every timeout (see DEFAULT_SLACK_MS).
    pub slack_ms: u32,
}

impl Default for Runner {
    fn default() -> Self {
        Self::new()
    }
}

impl Runner {
    pub const fn new() -> Self {
        Self {
            layout: None,
            operation: None,
            in_flight: None,
            streaming: None,
            next_buffer: 0,
            saved: [0; SAVED_REGISTERS],
            broken: false,
            prepared: false,
            slack_ms: DEFAULT_SLACK_MS,
        }
    }

    /// Forget the target's state (a new attach, a new algorithm); nothing is restored.
    pub fn forget(&mut self) {
        *self = Self {
            slack_ms: self.slack_ms,
            ..Self::new()
        };
    }

    /// Between `begin` and `finish`: the algorithm is in RAM and the core's registers are
    /// saved (an operation may have been ended by `end_operation`).
    pub fn is_active(&self) -> bool {
        self.operation.is_some() || self.layout.is_some()
    }

    /// Make sure the algorithm is loaded and initialised for `operation`.
    fn begin<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        algorithm: &Algorithm,
        ram: (u32, u32),
        operation: Operation,
    ) -> Result<(), Error> {
        if self.operation == Some(operation) {
            return Ok(());
        }
        self.settle(memory, core)?;
        if self.operation.is_some() {
            self.call(
                memory,
                core,
                algorithm,
                Function::UnInit,
                [operation_code(self.operation), 0, 0, 0],
                0,
            )?;
            self.operation = None;
        } else if self.layout.is_none() {
            let layout = Layout::new(algorithm, ram.0, ram.1)?;
            let dhcsr: Dhcsr = memory.load()?;
            if !dhcsr.s_halt() || dhcsr.s_lockup() {
                return Err(Error::NotHalted);
            }
            for (number, value) in self.saved.iter_mut().enumerate() {
                *value = core.read_register(memory, number)?;
            }
            memory.write_bytes(layout.stub, &STUB)?;
            for (index, piece) in algorithm.image.chunks(1024).enumerate() {
                memory.write_bytes(layout.image + (index * 1024) as u32, piece)?;
            }
            if let Some(page_loop) = layout.page_loop {
                memory.write_halves(page_loop.code, &PAGE_LOOP)?;
            }
            self.layout = Some(layout);
            self.prepared = false;
        }
        // Marked active before Init: if Init fails, finish() still restores the registers.
        self.operation = Some(operation);
        self.call(
            memory,
            core,
            algorithm,
            Function::Init,
            [algorithm.device.start, 0, operation as u32, 0],
            0,
        )?;
        Ok(())
    }

    /// Erase the sectors that `[address, address + length)` touches.
    pub fn erase<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        algorithm: &Algorithm,
        ram: (u32, u32),
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        let device = &algorithm.device;
        if length == 0 {
            return Ok(());
        }
        if !device.contains(address, length) {
            return Err(Error::OutsideDevice { address });
        }
        self.begin(memory, core, algorithm, ram, Operation::Erase)?;
        let end = u64::from(address) + u64::from(length);
        let mut at = address;
        while u64::from(at) < end {
            let (sector, size) = device
                .sector_at(at)
                .ok_or(Error::OutsideDevice { address: at })?;
            self.call(
                memory,
                core,
                algorithm,
                Function::EraseSector,
                [sector, 0, 0, 0],
                device.erase_timeout_ms,
            )?;
            match sector.checked_add(size) {
                Some(next) => at = next,
                None => break,
            }
        }
        Ok(())
    }

    /// Erase the whole device: EraseChip if the algorithm has it, else every sector.
    pub fn erase_chip<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        algorithm: &Algorithm,
        ram: (u32, u32),
    ) -> Result<(), Error> {
        let device = &algorithm.device;
        if algorithm.entries.erase_chip.is_none() {
            return self.erase(memory, core, algorithm, ram, device.start, device.size);
        }
        self.begin(memory, core, algorithm, ram, Operation::Erase)?;
        let sectors: u32 = device.runs().map(|(_, length, size)| length / size).sum();
        let millis = device.erase_timeout_ms.saturating_mul(sectors.max(1));
        self.call(memory, core, algorithm, Function::EraseChip, [0; 4], millis)?;
        Ok(())
    }

    /// Program `data` at `address` (erased flash), a page at a time, double-buffered. A
    /// partial page is padded with the erased value; pages of only that value are skipped.
    /// The last page may still be running on return (see `settle`).
    pub fn program<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        algorithm: &Algorithm,
        ram: (u32, u32),
        address: u32,
        data: &[u8],
    ) -> Result<(), Error> {
        let device = &algorithm.device;
        if data.is_empty() {
            return Ok(());
        }
        if !device.contains(address, data.len() as u32) {
            return Err(Error::OutsideDevice { address });
        }
        self.begin(memory, core, algorithm, ram, Operation::Program)?;
        let layout = self.layout.ok_or(Error::NotHalted)?;
        let page_size = device.page_size;
        let first_page = address - (address - device.start) % page_size;
        let end = u64::from(address) + data.len() as u64;
        let mut page = first_page;
        while u64::from(page) < end {
            let page_end = (u64::from(page) + u64::from(page_size)).min(device.end());
            let size = (page_end - u64::from(page)) as u32;
            let from = address.max(page);
            let to = end.min(page_end) as u32;
            let bytes = &data[(from - address) as usize..(to - address) as usize];
            let padded_before = from - page;
            let padded_after = size - padded_before - bytes.len() as u32;
            let streamed = layout.page_loop.filter(|_| {
                size == page_size && algorithm.entries.get(Function::ProgramPage).is_some()
            });
            if let Some(page_loop) = streamed.filter(|_| bytes.iter().any(|&b| b != device.erased))
            {
                if self.in_flight.is_some() {
                    self.settle(memory, core)?;
                }
                let sequence = self.stream_slot(memory, core, algorithm, layout, page_loop)?;
                let slot = page_loop.slot(sequence);
                // The sequence number last: the loop takes the slot when it sees it. A
                // whole page of up to 256 bytes goes with its two words in one run.
                let words = page_size as usize / 4;
                if padded_before == 0
                    && padded_after == 0
                    && page_size.is_multiple_of(4)
                    && words <= SMALL_PAGE_WORDS
                {
                    let mut run = [0u32; SMALL_PAGE_WORDS + 2];
                    for (word, chunk) in run.iter_mut().zip(bytes.chunks_exact(4)) {
                        *word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                    }
                    run[words] = page;
                    run[words + 1] = sequence;
                    memory.write_words(slot, &run[..words + 2])?;
                } else {
                    write_padded(
                        memory,
                        slot,
                        padded_before,
                        bytes,
                        padded_after,
                        device.erased,
                    )?;
                    memory.write_words(slot + page_size, &[page, sequence])?;
                }
                if let Some(streaming) = self.streaming.as_mut() {
                    streaming.addresses[(sequence as usize - 1) % MAX_SLOTS] = page;
                    streaming.next = sequence + 1;
                }
            } else if bytes.iter().any(|&byte| byte != device.erased) {
                if self.streaming.is_some() {
                    self.settle(memory, core)?;
                }
                if layout.buffer_count == 1 {
                    self.settle(memory, core)?;
                }
                let buffer = layout.buffers[self.next_buffer];
                write_padded(
                    memory,
                    buffer,
                    padded_before,
                    bytes,
                    padded_after,
                    device.erased,
                )?;
                self.settle(memory, core)?;
                self.start(
                    memory,
                    core,
                    algorithm,
                    Function::ProgramPage,
                    [page, size, buffer, 0],
                    device.program_timeout_ms,
                )?;
                self.next_buffer = (self.next_buffer + 1) % layout.buffer_count;
            }
            page = page_end as u32;
        }
        Ok(())
    }

    /// Init and UnInit for Verify (`fnc` 3), the registers restored: an external flash's
    /// algorithm leaves it readable at its addresses (a QUADSPI in memory-mapped mode),
    /// which the flash is not after a reset, before its CRCs can be taken.
    pub fn set_up_for_reading<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        algorithm: &Algorithm,
        ram: (u32, u32),
    ) -> Result<(), Error> {
        let began = self.begin(memory, core, algorithm, ram, Operation::Verify);
        let finished = self.finish(memory, core, algorithm);
        began.and(finished)
    }

    /// The sequence number of a free slot of the page loop (started if it is not running):
    /// waits for the loop while every slot holds a page not yet programmed.
    fn stream_slot<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        algorithm: &Algorithm,
        layout: Layout,
        page_loop: PageLoop,
    ) -> Result<u32, Error> {
        let Some(streaming) = self.streaming else {
            self.start_page_loop(memory, core, algorithm, layout, page_loop)?;
            return Ok(1);
        };
        let mut streaming = streaming;
        while streaming.next - streaming.done > page_loop.slot_count {
            self.poll_page_loop(memory, core, page_loop, &mut streaming)?;
        }
        self.streaming = Some(streaming);
        Ok(streaming.next)
    }

    /// Set the page loop's registers (and R9, SP, xPSR if not done yet), clear its status
    /// and the slots' sequence numbers, and let it run.
    fn start_page_loop<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        algorithm: &Algorithm,
        layout: Layout,
        page_loop: PageLoop,
    ) -> Result<(), Error> {
        let entry = layout
            .entry(algorithm, Function::ProgramPage)
            .ok_or(Error::Malformed("the algorithm lacks a function it needs"))?;
        self.prepare(memory, core, algorithm, layout)?;
        memory.write_words(page_loop.status, &[0, 0])?;
        for index in 0..page_loop.slot_count {
            let sequence_word =
                page_loop.slots + index * page_loop.slot_size + algorithm.device.page_size + 4;
            memory.write_words(sequence_word, &[0])?;
        }
        let end = page_loop.slots + page_loop.slot_count * page_loop.slot_size;
        for (number, value) in [
            (R4, page_loop.status),
            (R5, page_loop.slots),
            (R6, entry | 1),
            (R7, 1),
            (R8, page_loop.slots),
            (R10, end),
            (R11, algorithm.device.page_size),
            (LR, layout.stub | 1),
            (PC, page_loop.code),
        ] {
            core.write_register(memory, number, value)?;
        }
        memory.store(control(false, true))?;
        self.streaming = Some(Streaming {
            next: 1,
            done: 0,
            progress_at: memory.now_micros(),
            millis: algorithm.device.program_timeout_ms.max(1),
            addresses: [0; MAX_SLOTS],
        });
        Ok(())
    }

    /// Read the page loop's count of pages done once; a loop that stopped (a result other
    /// than 0, a fault) or made no progress within a page's timeout is an error, the core
    /// halted.
    fn poll_page_loop<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        page_loop: PageLoop,
        streaming: &mut Streaming,
    ) -> Result<(), Error> {
        let mut status = [0u32; 2];
        memory.read_words(page_loop.status, &mut status)?;
        let now = memory.now_micros();
        if status[0] != streaming.done {
            streaming.done = status[0];
            streaming.progress_at = now;
            return Ok(());
        }
        let failed_at = streaming.addresses[streaming.done as usize % MAX_SLOTS];
        let dhcsr: Dhcsr = memory.load()?;
        let limit = u64::from(streaming.millis.saturating_add(self.slack_ms)) * 1000;
        if !dhcsr.s_halt() && now.saturating_sub(streaming.progress_at) <= limit {
            return Ok(());
        }
        self.streaming = None;
        self.broken = true;
        if !dhcsr.s_halt() {
            memory.store(control(true, true))?;
            core.halt(memory)?;
            memory.store(control(true, false))?;
            self.prepared = false;
            return Err(Error::Timeout {
                function: Function::ProgramPage,
                millis: streaming.millis,
                pc: core.read_register(memory, PC)?,
            });
        }
        self.prepared = false;
        memory.read_words(page_loop.status, &mut status)?;
        if status[1] != 0 {
            return Err(Error::Failed {
                function: Function::ProgramPage,
                code: status[1],
                address: failed_at,
            });
        }
        Err(Error::Stopped {
            function: Function::ProgramPage,
            pc: core.read_register(memory, PC)?,
        })
    }

    /// Wait until the page loop has programmed every page handed to it, then halt it
    /// (in its wait for the next page).
    fn drain_page_loop<M: Memory>(&mut self, memory: &mut M, core: &mut Core) -> Result<(), Error> {
        let (Some(mut streaming), Some(page_loop)) = (
            self.streaming,
            self.layout.and_then(|layout| layout.page_loop),
        ) else {
            return Ok(());
        };
        while streaming.done + 1 < streaming.next {
            self.poll_page_loop(memory, core, page_loop, &mut streaming)?;
        }
        self.streaming = None;
        memory.store(control(true, true))?;
        core.halt(memory)?;
        // Masked again while halted (the halt request wrote C_MASKINTS clear, C1.6.2).
        memory.store(control(true, true))?;
        Ok(())
    }

    /// Wait for the ProgramPage still running, if any, and check its result.
    pub fn settle<M: Memory>(&mut self, memory: &mut M, core: &mut Core) -> Result<(), Error> {
        if self.streaming.is_some() {
            return self.drain_page_loop(memory, core);
        }
        let Some(call) = self.in_flight else {
            return Ok(());
        };
        let code = self.wait(memory, core)?;
        if code != 0 {
            return Err(Error::Failed {
                function: call.function,
                code,
                address: call.address,
            });
        }
        Ok(())
    }

    /// End the erase, program or verify operation under way: wait for the last page and
    /// call UnInit. The algorithm stays in RAM and the registers saved: the next
    /// operation's Init follows without loading it again (the session runs a debug
    /// description's FlashUninit in between).
    pub fn end_operation<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        algorithm: &Algorithm,
    ) -> Result<(), Error> {
        let Some(operation) = self.operation else {
            return Ok(());
        };
        self.settle(memory, core)?;
        if !self.broken {
            let arguments = [operation as u32, 0, 0, 0];
            self.call(memory, core, algorithm, Function::UnInit, arguments, 0)?;
        }
        self.operation = None;
        Ok(())
    }

    /// End the work: wait for the last page, UnInit, put the core registers back. The
    /// registers are restored even when a call failed (unless the wire is gone).
    pub fn finish<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        algorithm: &Algorithm,
    ) -> Result<(), Error> {
        if !self.is_active() {
            return Ok(());
        }
        let settled = self.settle(memory, core);
        let uninit = match (settled, self.operation) {
            (Ok(()), _) if self.broken => Ok(()),
            (Ok(()), Some(operation)) => self
                .call(
                    memory,
                    core,
                    algorithm,
                    Function::UnInit,
                    [operation as u32, 0, 0, 0],
                    0,
                )
                .map(|_| ()),
            (Ok(()), None) => Ok(()),
            (Err(error), _) => Err(error),
        };
        let restored = self.restore(memory, core);
        self.operation = None;
        self.in_flight = None;
        self.streaming = None;
        self.layout = None;
        self.broken = false;
        self.prepared = false;
        uninit.and(restored)
    }

    fn restore<M: Memory>(&mut self, memory: &mut M, core: &mut Core) -> Result<(), Error> {
        if !core.is_halted(memory)? {
            memory.store(control(true, true))?;
            core.halt(memory)?;
        }
        // Interrupts unmasked again, while halted (C1.6.2).
        memory.store(control(true, false))?;
        self.prepared = false;
        for (number, &value) in self.saved.iter().enumerate() {
            core.write_register(memory, number, value)?;
        }
        memory.store(Dfsr::all())?;
        Ok(())
    }

    /// Call `function` and wait for it; its R0. Init, UnInit: a non-zero result fails.
    fn call<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        algorithm: &Algorithm,
        function: Function,
        arguments: [u32; 4],
        millis: u32,
    ) -> Result<u32, Error> {
        if self
            .layout
            .and_then(|layout| layout.entry(algorithm, function))
            .is_none()
            && matches!(function, Function::Init | Function::UnInit)
        {
            return Ok(0); // optional in probe-rs descriptions
        }
        self.settle(memory, core)?;
        self.start(memory, core, algorithm, function, arguments, millis)?;
        let code = self.wait(memory, core)?;
        if code != 0 && function != Function::Verify {
            return Err(Error::Failed {
                function,
                code,
                address: arguments[0],
            });
        }
        Ok(code)
    }

    fn start<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        algorithm: &Algorithm,
        function: Function,
        arguments: [u32; 4],
        millis: u32,
    ) -> Result<(), Error> {
        let layout = self.layout.ok_or(Error::NotHalted)?;
        let entry = layout
            .entry(algorithm, function)
            .ok_or(Error::Malformed("the algorithm lacks a function it needs"))?;
        self.prepare(memory, core, algorithm, layout)?;
        for (number, &value) in arguments.iter().enumerate() {
            core.write_register(memory, number, value)?;
        }
        core.write_register(memory, LR, layout.stub | 1)?;
        // PC without the Thumb bit, xPSR.T set instead (the reference's safer reading).
        core.write_register(memory, PC, entry & !1)?;
        memory.store(control(false, true))?;
        let millis = if millis == 0 {
            DEFAULT_TIMEOUT_MS
        } else {
            millis
        };
        self.in_flight = Some(InFlight {
            function,
            address: arguments[0],
            started: memory.now_micros(),
            millis,
        });
        Ok(())
    }

    /// R9, SP and xPSR, DFSR cleared and interrupts masked, once after loading.
    fn prepare<M: Memory>(
        &mut self,
        memory: &mut M,
        core: &mut Core,
        algorithm: &Algorithm,
        layout: Layout,
    ) -> Result<(), Error> {
        if !self.prepared {
            core.write_register(memory, R9, layout.image + algorithm.static_base)?;
            core.write_register(memory, SP, layout.stack_top)?;
            core.write_register(memory, XPSR, XPSR_THUMB)?;
            memory.store(Dfsr::all())?;
            memory.store(control(true, true))?;
            self.prepared = true;
        }
        Ok(())
    }

    /// Wait for the call in flight to halt; its R0.
    fn wait<M: Memory>(&mut self, memory: &mut M, core: &mut Core) -> Result<u32, Error> {
        let Some(call) = self.in_flight.take() else {
            return Ok(0);
        };
        let limit = u64::from(call.millis.saturating_add(self.slack_ms)) * 1000;
        // The limit counts from the call's start; Err(None): it passed.
        let left = limit.saturating_sub(memory.now_micros().saturating_sub(call.started));
        let halted = match poll_memory(memory, left, None, |memory| {
            let dhcsr: Dhcsr = memory.load().map_err(|error| Some(Error::from(error)))?;
            Ok(dhcsr.s_halt().then_some(()))
        }) {
            Ok(()) => true,
            Err(None) => false,
            Err(Some(error)) => return Err(error),
        };
        if !halted {
            // Halt with interrupts still masked, then unmask while halted (C1.6.2).
            memory.store(control(true, true))?;
            core.halt(memory)?;
            memory.store(control(true, false))?;
            self.prepared = false;
            self.broken = true;
            return Err(Error::Timeout {
                function: call.function,
                millis: call.millis,
                pc: core.read_register(memory, PC)?,
            });
        }
        let pc = core.read_register(memory, PC)?;
        let stub = self.layout.map_or(0, |layout| layout.stub);
        if pc != stub && pc != stub + 2 {
            self.broken = true;
            return Err(Error::Stopped {
                function: call.function,
                pc,
            });
        }
        Ok(core.read_register(memory, 0)?)
    }
}

fn operation_code(operation: Option<Operation>) -> u32 {
    operation.map_or(0, |operation| operation as u32)
}

/// DHCSR with C_DEBUGEN, and C_HALT and C_MASKINTS as asked.
fn control(halt: bool, maskints: bool) -> Dhcsr {
    let mut dhcsr = Dhcsr::debug();
    dhcsr.set_c_halt(halt);
    dhcsr.set_c_maskints(maskints);
    dhcsr
}

/// `before` erased bytes, `bytes`, `after` erased bytes, at `address`.
fn write_padded<M: Memory>(
    memory: &mut M,
    address: u32,
    before: u32,
    bytes: &[u8],
    after: u32,
    erased: u8,
) -> Result<(), Error> {
    let pad = [erased; 64];
    let mut at = address;
    let fill = |memory: &mut M, mut count: u32, at: &mut u32| -> Result<(), Error> {
        while count > 0 {
            let piece = count.min(pad.len() as u32);
            memory.write_bytes(*at, &pad[..piece as usize])?;
            *at += piece;
            count -= piece;
        }
        Ok(())
    };
    fill(memory, before, &mut at)?;
    memory.write_bytes(at, bytes)?;
    at += bytes.len() as u32;
    fill(memory, after, &mut at)
}
