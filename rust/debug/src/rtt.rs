//! SEGGER Real Time Transfer, the host side: find the control block in target RAM, then
//! move bytes of its ring buffers while the target runs, without halting it.
//!
//! Control block (SEGGER RTT, `SEGGER_RTT.h`): 16 ID bytes ("SEGGER RTT" and NULs), the
//! numbers of up (target to host) and down (host to target) buffers, then one 24-byte
//! descriptor per buffer: name, buffer address, size, WrOff, RdOff, flags. The target
//! writes WrOff of up buffers and RdOff of down buffers; the host the other two.
//!
//! Tear-free access (RTT protocol): an up buffer is read by reading WrOff and RdOff, copying
//! [RdOff, WrOff) (in two pieces after a wrap) and only then writing RdOff; a down buffer is
//! written by copying the data first and then WrOff. One byte of each ring stays unused, so
//! WrOff = RdOff means empty. Every index and buffer is checked against the RAM of the memory
//! map before it is followed: a corrupt block is reported, never read past.
//!
//! Polling adapts as Black Magic Probe's does (UsingRTT.md): the interval starts at the
//! maximum, halves after a poll that moved data and doubles after one that did not,
//! within [min, max]. Too many failed polls in a row switch RTT off.

use adi::Memory;
use chips::{MemoryMap, RegionKind};
use core::fmt;

/// Channels served in each direction (Black Magic Probe serves 16 too).
pub const MAX_CHANNELS: usize = 16;
/// The control block's ID as the target writes it (SEGGER_RTT.c `_DoInit`).
pub const DEFAULT_IDENT: &[u8] = b"SEGGER RTT";
/// Bytes of the ID field.
const ID_LENGTH: usize = 16;
/// ID, MaxNumUpBuffers, MaxNumDownBuffers.
const HEADER_LENGTH: u32 = 24;
const DESCRIPTOR_LENGTH: u32 = 24;
/// Descriptor field offsets (32-bit targets).
const DESCRIPTOR_BUFFER: usize = 4;
const DESCRIPTOR_SIZE: usize = 8;
const DESCRIPTOR_WRITE: u32 = 12;
const DESCRIPTOR_READ: u32 = 16;
const DESCRIPTOR_FLAGS: usize = 20;
/// Flags bits 1:0 are the mode; bits 31:24 are always 0 (SEGGER_RTT.h), a validity check.
const FLAGS_MODE_MASK: u32 = 0b11;
const FLAGS_RESERVED: u32 = 0xFF00_0000;
/// A control block may list at most this many buffers of each kind (an int field, but no
/// sane target has more; probe-rs checks the same bound).
const MAX_LISTED: u32 = 255;
/// RAM read per scan step; a step reads this much plus the overlap for an ID across two.
const SCAN_CHUNK: u32 = 512;
/// Scan bytes per poll, so that one poll step stays short.
const SCAN_PER_POLL: u32 = 4096;
/// Bytes moved per copy; an up channel is drained in up to `PIECES_PER_POLL` of them.
const PIECE: usize = 512;
const PIECES_PER_POLL: usize = 16;

/// Poll limits (Black Magic Probe's defaults: 256 ms, 8 ms, 10 errors).
pub const DEFAULT_MAX_POLL_MS: u32 = 256;
pub const DEFAULT_MIN_POLL_MS: u32 = 8;
pub const DEFAULT_MAX_ERRORS: u32 = 10;

/// What the channel does when its buffer is full (flags bits 1:0, SEGGER_RTT.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// SEGGER_RTT_MODE_NO_BLOCK_SKIP: the target drops a write that does not fit.
    Skip,
    /// SEGGER_RTT_MODE_NO_BLOCK_TRIM: the target writes what fits.
    Trim,
    /// SEGGER_RTT_MODE_BLOCK_IF_FIFO_FULL: the target waits for room.
    Block,
    /// Value 3, not defined.
    Unknown,
}

impl Mode {
    fn from_flags(flags: u32) -> Self {
        match flags & FLAGS_MODE_MASK {
            0 => Mode::Skip,
            1 => Mode::Trim,
            2 => Mode::Block,
            _ => Mode::Unknown,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Skip => "skip",
            Mode::Trim => "trim",
            Mode::Block => "block",
            Mode::Unknown => "?",
        }
    }
}

/// Up or down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// Why a control block, or one of its channels, is not followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// MaxNumUpBuffers or MaxNumDownBuffers negative or above 255.
    Counts { up: u32, down: u32 },
    /// The descriptors run past the RAM the block is in.
    BlockPastRam,
    /// A buffer that is not wholly inside one RAM region (or smaller than 2 bytes).
    BufferOutsideRam {
        direction: Direction,
        channel: u8,
        address: u32,
        size: u32,
    },
    /// WrOff or RdOff not below the buffer size.
    IndexOutOfRange {
        direction: Direction,
        channel: u8,
        write: u32,
        read: u32,
        size: u32,
    },
    /// Flags bits 31:24 set.
    Flags {
        direction: Direction,
        channel: u8,
        flags: u32,
    },
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Up => "up",
            Direction::Down => "down",
        })
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Corruption::Counts { up, down } => write!(
                f,
                "control block lists {up} up and {down} down buffers (at most {MAX_LISTED})"
            ),
            Corruption::BlockPastRam => write!(f, "control block runs past the end of RAM"),
            Corruption::BufferOutsideRam {
                direction,
                channel,
                address,
                size,
            } => write!(
                f,
                "{direction} channel {channel}: buffer 0x{address:08X} size {size} is not in RAM"
            ),
            Corruption::IndexOutOfRange {
                direction,
                channel,
                write,
                read,
                size,
            } => write!(
                f,
                "{direction} channel {channel}: WrOff {write} / RdOff {read} not below size {size}"
            ),
            Corruption::Flags {
                direction,
                channel,
                flags,
            } => write!(
                f,
                "{direction} channel {channel}: flags 0x{flags:08X} have reserved bits set"
            ),
        }
    }
}

/// Where the bytes go and come from.
pub trait RttIo {
    /// Bytes of up channel `channel`; returns how many were taken. Bytes not taken stay in
    /// the target's buffer on a blocking channel and are dropped on the others.
    fn up(&mut self, channel: u8, data: &[u8]) -> usize;
    /// Bytes for down channel `channel`: fill at most `buffer.len()`, return the count.
    fn down(&mut self, channel: u8, buffer: &mut [u8]) -> usize;
}

/// One buffer descriptor as last read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    pub name: u32,
    pub buffer: u32,
    pub size: u32,
    pub write: u32,
    pub read: u32,
    pub flags: u32,
}

impl Descriptor {
    fn parse(bytes: &[u8]) -> Self {
        let word = |offset: usize| {
            u32::from_le_bytes([
                bytes[offset],
                bytes[offset + 1],
                bytes[offset + 2],
                bytes[offset + 3],
            ])
        };
        Self {
            name: word(0),
            buffer: word(DESCRIPTOR_BUFFER),
            size: word(DESCRIPTOR_SIZE),
            write: word(DESCRIPTOR_WRITE as usize),
            read: word(DESCRIPTOR_READ as usize),
            flags: word(DESCRIPTOR_FLAGS),
        }
    }

    pub fn mode(&self) -> Mode {
        Mode::from_flags(self.flags)
    }

    /// A channel the target has not set up (no buffer).
    fn is_unused(&self) -> bool {
        self.buffer == 0 && self.size == 0
    }

    fn check(&self, direction: Direction, channel: u8, ram: &RamRanges) -> Result<(), Corruption> {
        if self.size < 2 || !ram.holds(self.buffer, self.size) {
            return Err(Corruption::BufferOutsideRam {
                direction,
                channel,
                address: self.buffer,
                size: self.size,
            });
        }
        if self.write >= self.size || self.read >= self.size {
            return Err(Corruption::IndexOutOfRange {
                direction,
                channel,
                write: self.write,
                read: self.read,
                size: self.size,
            });
        }
        if self.flags & FLAGS_RESERVED != 0 {
            return Err(Corruption::Flags {
                direction,
                channel,
                flags: self.flags,
            });
        }
        Ok(())
    }

    /// Bytes waiting in an up buffer (RTT: empty when WrOff = RdOff).
    fn filled(&self) -> u32 {
        if self.write >= self.read {
            self.write - self.read
        } else {
            self.size - self.read + self.write
        }
    }

    /// Room in a down buffer: one byte always stays free.
    fn free(&self) -> u32 {
        self.size - 1 - self.filled()
    }
}

/// RAM the block and its buffers must be in: the user's range, else the memory map's RAM.
#[derive(Clone, Copy, Debug)]
struct RamRanges {
    ranges: [Option<(u32, u32)>; 4],
}

impl RamRanges {
    fn new(map: &MemoryMap, user: Option<(u32, u32)>) -> Self {
        let mut ranges = [None; 4];
        if let Some(range) = user {
            ranges[0] = Some(range);
            return Self { ranges };
        }
        let ram = map
            .regions()
            .filter(|region| region.kind == RegionKind::Ram);
        for (slot, region) in ranges.iter_mut().zip(ram) {
            *slot = Some((region.start, region.start.saturating_add(region.length)));
        }
        if ranges[0].is_none() {
            // No memory map: the SRAM region of the ARMv7-M address map (B3.1).
            ranges[0] = Some((0x2000_0000, 0x4000_0000));
        }
        Self { ranges }
    }

    /// [address, address + size) is inside one range.
    fn holds(&self, address: u32, size: u32) -> bool {
        let end = u64::from(address) + u64::from(size);
        self.ranges
            .iter()
            .flatten()
            .any(|&(start, stop)| address >= start && end <= u64::from(stop))
    }

    fn get(&self, index: usize) -> Option<(u32, u32)> {
        self.ranges.get(index).copied().flatten()
    }
}

/// Where a scan has got to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ScanCursor {
    range: usize,
    address: u32,
}

/// RTT settings, as `monitor rtt` changes them.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub enabled: bool,
    /// A fixed control-block address; None: scan.
    pub address: Option<u32>,
    /// Scan only [start, end); None: every RAM region of the memory map.
    pub scan_range: Option<(u32, u32)>,
    ident: [u8; ID_LENGTH],
    ident_length: u8,
    /// Up channels served (bit n: channel n).
    pub up_channels: u16,
    /// The down channel that gets input.
    pub down_channel: Option<u8>,
    pub max_poll_ms: u32,
    pub min_poll_ms: u32,
    pub max_errors: u32,
}

impl Config {
    pub const fn new() -> Self {
        let mut ident = [0u8; ID_LENGTH];
        let mut index = 0;
        while index < DEFAULT_IDENT.len() {
            ident[index] = DEFAULT_IDENT[index];
            index += 1;
        }
        Self {
            enabled: false,
            address: None,
            scan_range: None,
            ident,
            ident_length: DEFAULT_IDENT.len() as u8,
            up_channels: 1,
            down_channel: Some(0),
            max_poll_ms: DEFAULT_MAX_POLL_MS,
            min_poll_ms: DEFAULT_MIN_POLL_MS,
            max_errors: DEFAULT_MAX_ERRORS,
        }
    }

    pub fn ident(&self) -> &[u8] {
        &self.ident[..usize::from(self.ident_length)]
    }

    /// Search for `ident` (1..=15 bytes) instead of "SEGGER RTT"; empty: the default.
    pub fn set_ident(&mut self, ident: &[u8]) -> Result<(), RttError> {
        let ident = if ident.is_empty() {
            DEFAULT_IDENT
        } else {
            ident
        };
        if ident.len() >= ID_LENGTH || ident.contains(&0) {
            return Err(RttError::BadIdent);
        }
        self.ident = [0; ID_LENGTH];
        self.ident[..ident.len()].copy_from_slice(ident);
        self.ident_length = ident.len() as u8;
        Ok(())
    }

    /// Poll limits in ms; min must be at least 1 and at most max.
    pub fn set_poll(&mut self, max_ms: u32, min_ms: u32, max_errors: u32) -> Result<(), RttError> {
        if min_ms == 0 || min_ms > max_ms {
            return Err(RttError::BadPoll);
        }
        self.max_poll_ms = max_ms;
        self.min_poll_ms = min_ms;
        self.max_errors = max_errors;
        Ok(())
    }

    /// [start, end) to scan; None: all RAM.
    pub fn set_scan_range(&mut self, range: Option<(u32, u32)>) -> Result<(), RttError> {
        if let Some((start, end)) = range
            && end <= start
        {
            return Err(RttError::BadRange);
        }
        self.scan_range = range;
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// Bad settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RttError {
    BadIdent,
    BadPoll,
    BadRange,
    BadChannel,
}

impl fmt::Display for RttError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RttError::BadIdent => "rtt ident: 1 to 15 characters",
            RttError::BadPoll => "rtt poll: MAX MIN ERRORS, with 1 <= MIN <= MAX (ms)",
            RttError::BadRange => "rtt ram: START END with END above START",
            RttError::BadChannel => "rtt channel: numbers 0..15 of listed channels",
        })
    }
}

/// Why a caller's RTT read or write (target.rtt_read/rtt_write) was not served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unserved {
    /// No control block in the RAM searched (or at the address given).
    NotFound,
    /// The block lists no such channel, or its descriptor is unused.
    NoChannel(Direction, u8),
    /// The block or the channel's descriptor failed the checks.
    Corrupt(Corruption),
    Wire(adi::Error),
}

impl From<adi::Error> for Unserved {
    fn from(error: adi::Error) -> Self {
        Unserved::Wire(error)
    }
}

impl fmt::Display for Unserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unserved::NotFound => write!(
                f,
                "no RTT control block found in the target's RAM (has the program set it up?)"
            ),
            Unserved::NoChannel(direction, channel) => {
                write!(
                    f,
                    "the RTT control block has no {direction} channel {channel}"
                )
            }
            Unserved::Corrupt(corruption) => write!(f, "corrupt RTT control block: {corruption}"),
            Unserved::Wire(error) => error.fmt(f),
        }
    }
}

/// What the last poll saw, for `monitor rtt status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Found {
    /// Not looked yet, or looking.
    #[default]
    Searching,
    /// The scan went through all RAM without a match; it starts again at the next poll.
    NotFound,
    /// The control block is at this address.
    At(u32),
}

/// Byte counts since RTT was enabled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub up_bytes: u64,
    pub down_bytes: u64,
    /// Up bytes a client did not take, on non-blocking channels.
    pub dropped: u64,
    pub polls: u64,
    pub searches: u32,
}

/// The RTT host: settings, the block found and its channels.
#[derive(Clone, Copy, Debug)]
pub struct Rtt {
    pub config: Config,
    pub found: Found,
    scan: ScanCursor,
    pub up: [Option<Descriptor>; MAX_CHANNELS],
    pub down: [Option<Descriptor>; MAX_CHANNELS],
    pub up_listed: u32,
    pub down_listed: u32,
    /// The last corruption seen (kept until RTT is enabled again).
    pub corruption: Option<Corruption>,
    pub interval_ms: u32,
    last_poll_us: Option<u64>,
    pub errors: u32,
    pub counters: Counters,
    /// RTT switched itself off after too many errors.
    pub gave_up: bool,
}

impl Default for Rtt {
    fn default() -> Self {
        Self::new()
    }
}

impl Rtt {
    pub const fn new() -> Self {
        Self {
            config: Config::new(),
            found: Found::Searching,
            scan: ScanCursor {
                range: 0,
                address: 0,
            },
            up: [None; MAX_CHANNELS],
            down: [None; MAX_CHANNELS],
            up_listed: 0,
            down_listed: 0,
            corruption: None,
            interval_ms: DEFAULT_MAX_POLL_MS,
            last_poll_us: None,
            errors: 0,
            counters: Counters {
                up_bytes: 0,
                down_bytes: 0,
                dropped: 0,
                polls: 0,
                searches: 0,
            },
            gave_up: false,
        }
    }

    /// Switch on (and search again) or off.
    pub fn enable(&mut self, on: bool) {
        self.config.enabled = on;
        self.gave_up = false;
        self.corruption = None;
        self.counters = Counters::default();
        self.search_again();
    }

    /// Forget the block: the next poll looks for it again (after a reset or new settings).
    pub fn search_again(&mut self) {
        self.found = Found::Searching;
        self.scan = ScanCursor::default();
        self.up = [None; MAX_CHANNELS];
        self.down = [None; MAX_CHANNELS];
        self.up_listed = 0;
        self.down_listed = 0;
        self.errors = 0;
        self.interval_ms = self.config.max_poll_ms;
        self.last_poll_us = None;
    }

    /// Channel numbers as Black Magic Probe's `rtt channel` counts them: up channels first,
    /// then down channels (with 3 up channels, down 0 is 3). None: automatic (up 0, down 0).
    pub fn select_channels(&mut self, numbers: Option<&[u32]>) -> Result<(), RttError> {
        let Some(numbers) = numbers else {
            self.config.up_channels = 1;
            self.config.down_channel = Some(0);
            return Ok(());
        };
        let up_listed = self.up_listed.min(MAX_CHANNELS as u32);
        let mut up_channels = 0u16;
        let mut down_channel = None;
        for &number in numbers {
            if number >= MAX_CHANNELS as u32 {
                return Err(RttError::BadChannel);
            }
            // Before the block is found, every number is an up channel.
            if number < up_listed || self.found == Found::Searching {
                up_channels |= 1 << number;
            } else {
                let down = number - up_listed;
                if down >= self.down_listed.min(MAX_CHANNELS as u32) {
                    return Err(RttError::BadChannel);
                }
                down_channel = Some(down as u8);
            }
        }
        self.config.up_channels = up_channels;
        self.config.down_channel = down_channel;
        Ok(())
    }

    /// Time for a poll at `now_us`? (the adaptive interval)
    pub fn due(&self, now_us: u64) -> bool {
        self.config.enabled
            && self.last_poll_us.is_none_or(|last| {
                now_us.saturating_sub(last) >= u64::from(self.interval_ms) * 1000
            })
    }

    /// One poll, if due: search for the block or move the channels' bytes. Wire errors
    /// count; past `max_errors` RTT switches off. Returns the bytes moved.
    pub fn poll<M: Memory>(
        &mut self,
        memory: &mut M,
        map: &MemoryMap,
        now_us: u64,
        io: &mut dyn RttIo,
    ) -> usize {
        if !self.due(now_us) {
            return 0;
        }
        self.last_poll_us = Some(now_us);
        self.counters.polls += 1;
        let ram = RamRanges::new(map, self.config.scan_range);
        let result = match self.found {
            Found::At(address) => self.transfer(memory, &ram, address, io),
            Found::Searching | Found::NotFound => self.search(memory, &ram).map(|_| 0),
        };
        let moved = match result {
            Ok(moved) => {
                self.errors = 0;
                moved
            }
            Err(_) => {
                self.errors += 1;
                if self.errors > self.config.max_errors {
                    self.config.enabled = false;
                    self.gave_up = true;
                }
                0
            }
        };
        if self.found == Found::Searching {
            // Part of RAM is still to be scanned: go on soon.
            self.interval_ms = self.config.min_poll_ms;
            return moved;
        }
        self.interval_ms = if moved > 0 {
            self.interval_ms / 2
        } else {
            self.interval_ms.saturating_mul(2)
        }
        .clamp(self.config.min_poll_ms, self.config.max_poll_ms);
        moved
    }

    /// Look for the block: at the given address, or a part of the next RAM range.
    fn search<M: Memory>(&mut self, memory: &mut M, ram: &RamRanges) -> Result<(), adi::Error> {
        if let Some(address) = self.config.address {
            let mut id = [0u8; ID_LENGTH];
            memory.read_bytes(address, &mut id)?;
            self.found = if self.matches(&id) {
                self.attach_block(memory, ram, address)?;
                Found::At(address)
            } else {
                Found::NotFound
            };
            return Ok(());
        }
        if self.scan == ScanCursor::default() {
            self.counters.searches += 1;
        }
        let mut scanned = 0;
        while scanned < SCAN_PER_POLL {
            let Some((start, end)) = ram.get(self.scan.range) else {
                self.found = Found::NotFound;
                self.scan = ScanCursor::default();
                return Ok(());
            };
            let from = start.max(self.scan.address) & !3;
            if u64::from(from) + ID_LENGTH as u64 > u64::from(end) {
                self.scan = ScanCursor {
                    range: self.scan.range + 1,
                    address: 0,
                };
                continue;
            }
            // Read a chunk plus the overlap an ID may straddle.
            let length = (end - from).min(SCAN_CHUNK + ID_LENGTH as u32);
            let mut chunk = [0u8; SCAN_CHUNK as usize + ID_LENGTH];
            let chunk = &mut chunk[..length as usize];
            memory.read_bytes(from, chunk)?;
            // The block holds 32-bit fields, so a C compiler aligns it to 4 (AAPCS 4.3.1).
            let hit = (0..chunk.len().saturating_sub(ID_LENGTH - 1))
                .step_by(4)
                .find(|&offset| self.matches(&chunk[offset..offset + ID_LENGTH]));
            if let Some(offset) = hit {
                let address = from + offset as u32;
                self.attach_block(memory, ram, address)?;
                self.found = Found::At(address);
                return Ok(());
            }
            let advance = length.saturating_sub(ID_LENGTH as u32).max(4);
            self.scan.address = from.saturating_add(advance);
            scanned += advance;
        }
        Ok(())
    }

    /// The ID bytes, then NULs up to 16 (SEGGER_RTT.c `_DoInit`).
    fn matches(&self, id: &[u8]) -> bool {
        let ident = self.config.ident();
        id.len() == ID_LENGTH && id.starts_with(ident) && id[ident.len()] == 0
    }

    /// Read the header and the descriptors; a corrupt header leaves the block not found.
    fn attach_block<M: Memory>(
        &mut self,
        memory: &mut M,
        ram: &RamRanges,
        address: u32,
    ) -> Result<(), adi::Error> {
        self.refresh(memory, ram, address).map(|_| ())
    }

    /// Re-read the header and the descriptors at `address`. Ok(false) when the ID is gone
    /// (the target reset or re-initialised): the block is searched for again.
    fn refresh<M: Memory>(
        &mut self,
        memory: &mut M,
        ram: &RamRanges,
        address: u32,
    ) -> Result<bool, adi::Error> {
        let mut header = [0u8; HEADER_LENGTH as usize];
        memory.read_bytes(address, &mut header)?;
        if !self.matches(&header[..ID_LENGTH]) {
            self.search_again();
            return Ok(false);
        }
        let up = u32::from_le_bytes([header[16], header[17], header[18], header[19]]);
        let down = u32::from_le_bytes([header[20], header[21], header[22], header[23]]);
        self.up = [None; MAX_CHANNELS];
        self.down = [None; MAX_CHANNELS];
        if up > MAX_LISTED || down > MAX_LISTED {
            self.report(Corruption::Counts { up, down });
            self.up_listed = 0;
            self.down_listed = 0;
            return Ok(true);
        }
        self.up_listed = up;
        self.down_listed = down;
        let block_length = HEADER_LENGTH + DESCRIPTOR_LENGTH * (up + down);
        if !ram.holds(address, block_length) {
            self.report(Corruption::BlockPastRam);
            return Ok(true);
        }
        // All served descriptors in one read: up ones, then down ones.
        let served_up = up.min(MAX_CHANNELS as u32);
        let served_down = down.min(MAX_CHANNELS as u32);
        for (direction, first, count) in [
            (Direction::Up, 0, served_up),
            (Direction::Down, up, served_down),
        ] {
            let mut bytes = [0u8; DESCRIPTOR_LENGTH as usize * MAX_CHANNELS];
            let bytes = &mut bytes[..(DESCRIPTOR_LENGTH * count) as usize];
            memory.read_bytes(address + HEADER_LENGTH + DESCRIPTOR_LENGTH * first, bytes)?;
            for (channel, raw) in bytes.chunks_exact(DESCRIPTOR_LENGTH as usize).enumerate() {
                let descriptor = Descriptor::parse(raw);
                if descriptor.is_unused() {
                    continue;
                }
                match descriptor.check(direction, channel as u8, ram) {
                    Ok(()) => {
                        let slot = match direction {
                            Direction::Up => &mut self.up[channel],
                            Direction::Down => &mut self.down[channel],
                        };
                        *slot = Some(descriptor);
                    }
                    Err(corruption) => self.report(corruption),
                }
            }
        }
        Ok(true)
    }

    /// Find the block now, scanning all of the RAM in this call if need be (a caller that
    /// waits for the answer: target.rtt_*), and re-read its descriptors. `None`: no block.
    pub fn locate<M: Memory>(
        &mut self,
        memory: &mut M,
        map: &MemoryMap,
    ) -> Result<Option<u32>, adi::Error> {
        let ram = RamRanges::new(map, self.config.scan_range);
        if self.found == Found::NotFound {
            // Not there at the last search: the program may have set it up since.
            self.found = Found::Searching;
            self.scan = ScanCursor::default();
        }
        loop {
            match self.found {
                Found::At(address) => {
                    if self.refresh(memory, &ram, address)? {
                        return Ok(Some(address));
                    }
                }
                Found::NotFound => return Ok(None),
                Found::Searching => self.search(memory, &ram)?,
            }
        }
    }

    /// Locate the block and the checked descriptor of one of its channels. A corruption
    /// seen in this look is the error; `monitor rtt status` keeps showing the last one.
    fn locate_channel<M: Memory>(
        &mut self,
        memory: &mut M,
        map: &MemoryMap,
        direction: Direction,
        channel: u8,
    ) -> Result<(u32, Descriptor), Unserved> {
        let earlier = self.corruption.take();
        let located = self.locate(memory, map);
        let seen = self.corruption;
        if seen.is_none() {
            self.corruption = earlier;
        }
        let address = located?.ok_or(Unserved::NotFound)?;
        let descriptors = match direction {
            Direction::Up => &self.up,
            Direction::Down => &self.down,
        };
        if let Some(descriptor) = descriptors.get(usize::from(channel)).copied().flatten() {
            return Ok((address, descriptor));
        }
        let about_this_channel = |corruption: Corruption| match corruption {
            Corruption::Counts { .. } | Corruption::BlockPastRam => true,
            Corruption::BufferOutsideRam {
                direction: d,
                channel: c,
                ..
            }
            | Corruption::IndexOutOfRange {
                direction: d,
                channel: c,
                ..
            }
            | Corruption::Flags {
                direction: d,
                channel: c,
                ..
            } => d == direction && c == channel,
        };
        match seen {
            Some(corruption) if about_this_channel(corruption) => {
                Err(Unserved::Corrupt(corruption))
            }
            _ => Err(Unserved::NoChannel(direction, channel)),
        }
    }

    /// What up channel `channel` holds now, at most `buffer.len()` bytes, into `buffer`;
    /// the rest stays in the target's buffer whatever the channel's mode. Works whether
    /// polling is on or off; the target keeps running.
    pub fn read_channel<M: Memory>(
        &mut self,
        memory: &mut M,
        map: &MemoryMap,
        channel: u8,
        buffer: &mut [u8],
    ) -> Result<usize, Unserved> {
        let (address, descriptor) = self.locate_channel(memory, map, Direction::Up, channel)?;
        let mut sink = Sink {
            buffer,
            length: 0,
            channel,
        };
        self.drain_up(memory, address, channel, descriptor, &mut sink, true)?;
        Ok(sink.length)
    }

    /// Write `data` to down channel `channel`, as much as its buffer has room for now; the
    /// count written.
    pub fn write_channel<M: Memory>(
        &mut self,
        memory: &mut M,
        map: &MemoryMap,
        channel: u8,
        data: &[u8],
    ) -> Result<usize, Unserved> {
        let (address, mut descriptor) =
            self.locate_channel(memory, map, Direction::Down, channel)?;
        let mut written = 0;
        while written < data.len() {
            let mut source = Source {
                data: &data[written..],
                channel,
            };
            let count = self.fill_down(memory, address, channel, descriptor, &mut source)?;
            if count == 0 {
                break;
            }
            written += count;
            // fill_down stored the advanced WrOff; RdOff may have moved meanwhile.
            descriptor = self.down[usize::from(channel)].unwrap_or(descriptor);
        }
        Ok(written)
    }

    fn report(&mut self, corruption: Corruption) {
        self.corruption = Some(corruption);
    }

    /// Move the bytes of the served channels; the count moved.
    fn transfer<M: Memory>(
        &mut self,
        memory: &mut M,
        ram: &RamRanges,
        address: u32,
        io: &mut dyn RttIo,
    ) -> Result<usize, adi::Error> {
        if !self.refresh(memory, ram, address)? {
            return self.search(memory, ram).map(|_| 0);
        }
        let mut moved = 0;
        for channel in 0..MAX_CHANNELS {
            if self.config.up_channels & (1 << channel) == 0 {
                continue;
            }
            if let Some(descriptor) = self.up[channel] {
                moved += self.drain_up(memory, address, channel as u8, descriptor, io, false)?;
            }
        }
        if let Some(channel) = self.config.down_channel
            && let Some(descriptor) = self.down.get(usize::from(channel)).copied().flatten()
        {
            moved += self.fill_down(memory, address, channel, descriptor, io)?;
        }
        Ok(moved)
    }

    /// Copy [RdOff, WrOff) out, then write RdOff (RTT: the target may be writing behind).
    /// With `keep`, bytes `io` does not take stay in the buffer whatever the channel's mode.
    fn drain_up<M: Memory>(
        &mut self,
        memory: &mut M,
        address: u32,
        channel: u8,
        mut descriptor: Descriptor,
        io: &mut dyn RttIo,
        keep: bool,
    ) -> Result<usize, adi::Error> {
        let read_field =
            address + HEADER_LENGTH + DESCRIPTOR_LENGTH * u32::from(channel) + DESCRIPTOR_READ;
        let write_field = read_field - DESCRIPTOR_READ + DESCRIPTOR_WRITE;
        let blocking = keep || descriptor.mode() == Mode::Block;
        let mut moved = 0;
        for _ in 0..PIECES_PER_POLL {
            if descriptor.filled() == 0 {
                break;
            }
            // One piece: up to the end of the buffer or WrOff, whichever comes first.
            let end = if descriptor.write >= descriptor.read {
                descriptor.write
            } else {
                descriptor.size
            };
            let length = (end - descriptor.read).min(PIECE as u32);
            let mut piece = [0u8; PIECE];
            let piece = &mut piece[..length as usize];
            memory.read_bytes(descriptor.buffer + descriptor.read, piece)?;
            let taken = io.up(channel, piece).min(piece.len()) as u32;
            let consumed = if blocking { taken } else { length };
            self.counters.up_bytes += u64::from(taken);
            self.counters.dropped += u64::from(consumed - taken);
            if consumed == 0 {
                break; // a blocking channel whose client takes nothing: leave it full
            }
            descriptor.read = (descriptor.read + consumed) % descriptor.size;
            memory.write_word(read_field, descriptor.read)?;
            moved += consumed as usize;
            if taken < length {
                break;
            }
            if descriptor.filled() == 0 {
                // Drained what was there: see whether the target wrote more meanwhile.
                let write = memory.read_word(write_field)?;
                if write >= descriptor.size {
                    break; // checked again, and reported, at the next refresh
                }
                descriptor.write = write;
            }
        }
        self.up[usize::from(channel)] = Some(descriptor);
        Ok(moved)
    }

    /// Copy the client's bytes in at WrOff, then write WrOff (RTT: the target reads up to it).
    fn fill_down<M: Memory>(
        &mut self,
        memory: &mut M,
        address: u32,
        channel: u8,
        mut descriptor: Descriptor,
        io: &mut dyn RttIo,
    ) -> Result<usize, adi::Error> {
        let free = descriptor.free().min(PIECE as u32);
        if free == 0 {
            return Ok(0);
        }
        let mut data = [0u8; PIECE];
        let count = io
            .down(channel, &mut data[..free as usize])
            .min(free as usize) as u32;
        if count == 0 {
            return Ok(0);
        }
        let first = count.min(descriptor.size - descriptor.write);
        memory.write_bytes(
            descriptor.buffer + descriptor.write,
            &data[..first as usize],
        )?;
        if first < count {
            memory.write_bytes(descriptor.buffer, &data[first as usize..count as usize])?;
        }
        descriptor.write = (descriptor.write + count) % descriptor.size;
        let field = address
            + HEADER_LENGTH
            + DESCRIPTOR_LENGTH * (self.up_listed + u32::from(channel))
            + DESCRIPTOR_WRITE;
        memory.write_word(field, descriptor.write)?;
        self.counters.down_bytes += u64::from(count);
        self.down[usize::from(channel)] = Some(descriptor);
        Ok(count as usize)
    }
}

/// The up bytes of one channel into a caller's buffer.
struct Sink<'a> {
    buffer: &'a mut [u8],
    length: usize,
    channel: u8,
}

impl RttIo for Sink<'_> {
    fn up(&mut self, channel: u8, data: &[u8]) -> usize {
        if channel != self.channel {
            return 0;
        }
        let count = data.len().min(self.buffer.len() - self.length);
        self.buffer[self.length..self.length + count].copy_from_slice(&data[..count]);
        self.length += count;
        count
    }

    fn down(&mut self, _channel: u8, _buffer: &mut [u8]) -> usize {
        0
    }
}

/// A caller's bytes for one down channel.
struct Source<'a> {
    data: &'a [u8],
    channel: u8,
}

impl RttIo for Source<'_> {
    fn up(&mut self, _channel: u8, _data: &[u8]) -> usize {
        0
    }

    fn down(&mut self, channel: u8, buffer: &mut [u8]) -> usize {
        if channel != self.channel {
            return 0;
        }
        let count = buffer.len().min(self.data.len());
        buffer[..count].copy_from_slice(&self.data[..count]);
        count
    }
}

#[cfg(test)]
mod tests;
