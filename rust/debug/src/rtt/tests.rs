//! The RTT host against a control block in a plain byte array (the protocol logic only; the
//! engine over the simulated blue pill is in tests/rtt_over_the_simulated_blue_pill.rs).

use super::*;
use chips::Region;

const RAM: u32 = 0x2000_0000;
const RAM_SIZE: u32 = 0x1000;
const BLOCK: u32 = RAM + 0x100;
const UP_BUFFER: u32 = RAM + 0x400;
const DOWN_BUFFER: u32 = RAM + 0x800;
/// What the wire reports for an access outside RAM (CTRL/STAT STICKYERR).
const BUS_FAULT: adi::Error = adi::Error::Fault { ctrl_stat: 0x20 };

/// Target RAM; every access is logged so that tests can check the order of accesses.
struct Target {
    ram: Vec<u8>,
    log: Vec<(bool, u32, usize)>,
    /// Run before each access: the target writing concurrently.
    concurrent: Option<fn(&mut Vec<u8>)>,
}

impl Target {
    fn new() -> Self {
        Self {
            ram: vec![0; RAM_SIZE as usize],
            log: Vec::new(),
            concurrent: None,
        }
    }

    fn offset(address: u32, length: usize) -> Result<usize, adi::Error> {
        let offset = address.checked_sub(RAM).ok_or(BUS_FAULT)? as usize;
        if offset + length > RAM_SIZE as usize {
            return Err(BUS_FAULT);
        }
        Ok(offset)
    }

    fn put(&mut self, address: u32, bytes: &[u8]) {
        let offset = (address - RAM) as usize;
        self.ram[offset..offset + bytes.len()].copy_from_slice(bytes);
    }

    fn put_word(&mut self, address: u32, value: u32) {
        self.put(address, &value.to_le_bytes());
    }

    fn word(&self, address: u32) -> u32 {
        let offset = (address - RAM) as usize;
        u32::from_le_bytes(self.ram[offset..offset + 4].try_into().unwrap())
    }

    /// A block with `up` and `down` descriptors; up 0 and down 0 get buffers.
    fn with_block(up: u32, down: u32) -> Self {
        let mut target = Self::new();
        target.put(BLOCK, b"SEGGER RTT\0\0\0\0\0\0");
        target.put_word(BLOCK + 16, up);
        target.put_word(BLOCK + 20, down);
        target.set_descriptor(Direction::Up, 0, UP_BUFFER, 64, 0, 0, 0);
        target.set_descriptor(Direction::Down, 0, DOWN_BUFFER, 16, 0, 0, 0);
        target
    }

    #[allow(clippy::too_many_arguments)]
    fn set_descriptor(
        &mut self,
        direction: Direction,
        channel: u32,
        buffer: u32,
        size: u32,
        write: u32,
        read: u32,
        flags: u32,
    ) {
        let at = descriptor_address(direction, channel);
        for (index, value) in [0, buffer, size, write, read, flags]
            .into_iter()
            .enumerate()
        {
            self.put_word(at + 4 * index as u32, value);
        }
    }

    /// The target's side of an up buffer: write and advance WrOff.
    fn target_write(&mut self, text: &[u8]) {
        let at = descriptor_address(Direction::Up, 0);
        let (buffer, size) = (self.word(at + 4), self.word(at + 8));
        let mut write = self.word(at + 12);
        for &byte in text {
            self.put(buffer + write, &[byte]);
            write = (write + 1) % size;
        }
        self.put_word(at + 12, write);
    }
}

fn descriptor_address(direction: Direction, channel: u32) -> u32 {
    let index = match direction {
        Direction::Up => channel,
        Direction::Down => 3 + channel,
    };
    BLOCK + 24 + 24 * index
}

impl Memory for Target {
    fn read_words(&mut self, address: u32, words: &mut [u32]) -> Result<(), adi::Error> {
        let mut bytes = vec![0; words.len() * 4];
        self.read_bytes(address, &mut bytes)?;
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
            *word = u32::from_le_bytes(chunk.try_into().unwrap());
        }
        Ok(())
    }

    fn write_words(&mut self, address: u32, words: &[u32]) -> Result<(), adi::Error> {
        let bytes: Vec<u8> = words.iter().flat_map(|word| word.to_le_bytes()).collect();
        self.write_bytes(address, &bytes)
    }

    fn write_halves(&mut self, _: u32, _: &[u16]) -> Result<(), adi::Error> {
        unreachable!("RTT writes no half-words")
    }

    fn read_bytes(&mut self, address: u32, bytes: &mut [u8]) -> Result<(), adi::Error> {
        if let Some(concurrent) = self.concurrent {
            concurrent(&mut self.ram);
        }
        let offset = Self::offset(address, bytes.len())?;
        self.log.push((false, address, bytes.len()));
        bytes.copy_from_slice(&self.ram[offset..offset + bytes.len()]);
        Ok(())
    }

    fn write_bytes(&mut self, address: u32, bytes: &[u8]) -> Result<(), adi::Error> {
        let offset = Self::offset(address, bytes.len())?;
        self.log.push((true, address, bytes.len()));
        self.ram[offset..offset + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    fn now_micros(&mut self) -> u64 {
        0
    }
}

fn map() -> MemoryMap {
    MemoryMap::new().with(Region {
        kind: RegionKind::Ram,
        start: RAM,
        length: RAM_SIZE,
    })
}

/// Collects up bytes (taking at most `room` per call); gives `input` to the down channel.
#[derive(Default)]
struct Client {
    received: Vec<u8>,
    room: Option<usize>,
    input: Vec<u8>,
}

impl RttIo for Client {
    fn up(&mut self, channel: u8, data: &[u8]) -> usize {
        assert_eq!(channel, 0);
        let taken = data.len().min(self.room.unwrap_or(usize::MAX));
        self.received.extend_from_slice(&data[..taken]);
        taken
    }

    fn down(&mut self, _: u8, buffer: &mut [u8]) -> usize {
        let count = buffer.len().min(self.input.len());
        buffer[..count].copy_from_slice(&self.input[..count]);
        self.input.drain(..count);
        count
    }
}

/// Poll until `polls` polls have run, a second of virtual time apart (always due).
fn run(rtt: &mut Rtt, target: &mut Target, client: &mut Client, polls: usize) {
    for _ in 0..polls {
        let now = rtt.counters.polls * 1_000_000 + 1_000_000;
        rtt.poll(target, &map(), now, client);
    }
}

fn enabled() -> Rtt {
    let mut rtt = Rtt::new();
    rtt.enable(true);
    rtt
}

#[test]
fn finds_the_block_by_scanning_and_reads_up_text() {
    let mut target = Target::with_block(3, 3);
    target.target_write(b"hello");
    let mut rtt = enabled();
    let mut client = Client::default();
    run(&mut rtt, &mut target, &mut client, 2);
    assert_eq!(rtt.found, Found::At(BLOCK));
    assert_eq!((rtt.up_listed, rtt.down_listed), (3, 3));
    assert_eq!(client.received, b"hello");
    // RdOff now equals WrOff.
    let at = descriptor_address(Direction::Up, 0);
    assert_eq!(target.word(at + 16), 5);
    assert_eq!(rtt.corruption, None);
}

#[test]
fn reads_across_the_wrap_in_order() {
    let mut target = Target::with_block(3, 3);
    // WrOff 10, RdOff 60 of 64: 4 bytes at the end, then 10 at the start.
    target.set_descriptor(Direction::Up, 0, UP_BUFFER, 64, 10, 60, 0);
    target.put(UP_BUFFER + 60, b"abcd");
    target.put(UP_BUFFER, b"efghijklmn");
    let mut rtt = enabled();
    let mut client = Client::default();
    run(&mut rtt, &mut target, &mut client, 2);
    assert_eq!(client.received, b"abcdefghijklmn");
    assert_eq!(target.word(descriptor_address(Direction::Up, 0) + 16), 10);
}

#[test]
fn read_offset_is_written_after_the_data_is_read() {
    let mut target = Target::with_block(3, 3);
    target.target_write(b"ordered");
    let mut rtt = enabled();
    let mut client = Client::default();
    run(&mut rtt, &mut target, &mut client, 2);
    let rdoff = descriptor_address(Direction::Up, 0) + 16;
    let data_read = target
        .log
        .iter()
        .position(|&(write, address, _)| !write && address == UP_BUFFER)
        .expect("the data was read");
    let rdoff_write = target
        .log
        .iter()
        .position(|&(write, address, _)| write && address == rdoff)
        .expect("RdOff was written");
    assert!(data_read < rdoff_write);
    // The host never writes an up buffer's WrOff.
    assert!(
        !target
            .log
            .iter()
            .any(|&(write, address, _)| write && address == rdoff - 4)
    );
}

#[test]
fn bytes_the_target_writes_meanwhile_are_neither_lost_nor_repeated() {
    let mut target = Target::with_block(3, 3);
    // The target appends one byte (a counter) before every access of the host.
    target.concurrent = Some(|ram| {
        let at = (descriptor_address(Direction::Up, 0) - RAM) as usize;
        let word = |ram: &Vec<u8>, offset: usize| {
            u32::from_le_bytes(ram[offset..offset + 4].try_into().unwrap())
        };
        let (write, read) = (word(ram, at + 12), word(ram, at + 16));
        if (write + 1) % 64 == read {
            return; // full: a skip-mode target drops the write
        }
        let next = ram[(UP_BUFFER - RAM) as usize + 64 + 0x300];
        ram[(UP_BUFFER - RAM + write) as usize] = next;
        ram[(UP_BUFFER - RAM) as usize + 64 + 0x300] = next.wrapping_add(1);
        ram[at + 12..at + 16].copy_from_slice(&((write + 1) % 64).to_le_bytes());
    });
    let mut rtt = enabled();
    let mut client = Client::default();
    run(&mut rtt, &mut target, &mut client, 50);
    assert!(client.received.len() > 100, "{}", client.received.len());
    for (index, &byte) in client.received.iter().enumerate() {
        assert_eq!(byte, index as u8, "byte {index}");
    }
}

#[test]
fn writes_input_to_the_down_buffer_then_its_write_offset() {
    let mut target = Target::with_block(3, 3);
    let mut rtt = enabled();
    let mut client = Client {
        input: b"0123456789abcdefXYZ".to_vec(),
        ..Client::default()
    };
    run(&mut rtt, &mut target, &mut client, 2);
    // 16-byte buffer: 15 bytes fit, the rest waits in the client.
    let at = descriptor_address(Direction::Down, 0);
    assert_eq!(target.word(at + 12), 15);
    assert_eq!(&target.ram[0x800..0x80F], b"0123456789abcde");
    assert_eq!(client.input, b"fXYZ");
    let data = target
        .log
        .iter()
        .position(|&(write, address, _)| write && address == DOWN_BUFFER)
        .unwrap();
    let wroff = target
        .log
        .iter()
        .position(|&(write, address, _)| write && address == at + 12)
        .unwrap();
    assert!(data < wroff);
    // The target reads 10 bytes; the rest goes in across the wrap.
    target.put_word(at + 16, 10);
    run(&mut rtt, &mut target, &mut client, 1);
    assert_eq!(target.word(at + 12), 3);
    assert_eq!(&target.ram[0x80F..0x810], b"f");
    assert_eq!(&target.ram[0x800..0x803], b"XYZ");
    assert!(client.input.is_empty());
}

#[test]
fn a_given_address_is_used_without_scanning() {
    let mut target = Target::with_block(3, 3);
    target.target_write(b"x");
    let mut rtt = enabled();
    rtt.config.address = Some(BLOCK + 4);
    let mut client = Client::default();
    run(&mut rtt, &mut target, &mut client, 2);
    assert_eq!(rtt.found, Found::NotFound);
    rtt.config.address = Some(BLOCK);
    rtt.search_again();
    run(&mut rtt, &mut target, &mut client, 2);
    assert_eq!(rtt.found, Found::At(BLOCK));
    assert_eq!(client.received, b"x");
}

#[test]
fn an_own_ident_is_searched_for() {
    let mut target = Target::with_block(3, 3);
    target.put(BLOCK, b"MY RTT\0\0\0\0\0\0\0\0\0\0");
    let mut rtt = enabled();
    let mut client = Client::default();
    run(&mut rtt, &mut target, &mut client, 2);
    assert_eq!(rtt.found, Found::NotFound);
    rtt.config.set_ident(b"MY RTT").unwrap();
    rtt.search_again();
    run(&mut rtt, &mut target, &mut client, 1);
    assert_eq!(rtt.found, Found::At(BLOCK));
    assert_eq!(rtt.config.set_ident(&[b'x'; 16]), Err(RttError::BadIdent));
}

#[test]
fn an_id_in_a_chunk_overlap_is_found() {
    // Put the block where a 1024-byte scan chunk ends inside its ID.
    let mut target = Target::new();
    let at = RAM + SCAN_CHUNK - 8;
    target.put(at, b"SEGGER RTT\0\0\0\0\0\0");
    let mut rtt = enabled();
    run(&mut rtt, &mut target, &mut Client::default(), 1);
    assert_eq!(rtt.found, Found::At(at));
}

#[test]
fn corrupt_buffers_and_indices_are_reported_and_not_followed() {
    // Buffer, size, WrOff, RdOff, flags of up channel 0; what is reported.
    type Case = (u32, u32, u32, u32, u32, fn(&Corruption) -> bool);
    let cases: [Case; 4] = [
        // Buffer past the end of RAM.
        (RAM + RAM_SIZE - 8, 64, 0, 0, 0, |c| {
            matches!(c, Corruption::BufferOutsideRam { .. })
        }),
        // Buffer in flash, not RAM.
        (0x0800_0000, 64, 0, 0, 0, |c| {
            matches!(c, Corruption::BufferOutsideRam { .. })
        }),
        // WrOff past the size.
        (UP_BUFFER, 64, 64, 0, 0, |c| {
            matches!(c, Corruption::IndexOutOfRange { write: 64, .. })
        }),
        // Reserved flag bits.
        (UP_BUFFER, 64, 4, 0, 0x0100_0000, |c| {
            matches!(c, Corruption::Flags { .. })
        }),
    ];
    for (buffer, size, write, read, flags, expected) in cases {
        let mut target = Target::with_block(3, 3);
        target.set_descriptor(Direction::Up, 0, buffer, size, write, read, flags);
        let mut rtt = enabled();
        let mut client = Client::default();
        run(&mut rtt, &mut target, &mut client, 3);
        let corruption = rtt.corruption.expect("reported");
        assert!(expected(&corruption), "{corruption}");
        assert_eq!(rtt.up[0], None);
        assert!(client.received.is_empty());
        // Nothing was read outside RAM, nothing written.
        assert!(!target.log.iter().any(|&(write, _, _)| write));
        assert!(rtt.config.enabled);
    }
}

#[test]
fn corrupt_counts_are_reported() {
    let mut target = Target::with_block(3, 3);
    target.put_word(BLOCK + 16, 0x7FFF_FFFF);
    let mut rtt = enabled();
    run(&mut rtt, &mut target, &mut Client::default(), 2);
    assert_eq!(
        rtt.corruption,
        Some(Corruption::Counts {
            up: 0x7FFF_FFFF,
            down: 3
        })
    );
    // Counts that fit 255 but whose descriptors run past RAM.
    let mut target = Target::new();
    let at = RAM + RAM_SIZE - 64;
    target.put(at, b"SEGGER RTT\0\0\0\0\0\0");
    target.put_word(at + 16, 3);
    target.put_word(at + 20, 3);
    let mut rtt = enabled();
    run(&mut rtt, &mut target, &mut Client::default(), 2);
    assert_eq!(rtt.corruption, Some(Corruption::BlockPastRam));
    assert_eq!(rtt.up, [None; MAX_CHANNELS]);
}

#[test]
fn a_reset_that_clears_the_block_is_followed_by_a_new_search() {
    let mut target = Target::with_block(3, 3);
    let mut rtt = enabled();
    let mut client = Client::default();
    run(&mut rtt, &mut target, &mut client, 1);
    assert_eq!(rtt.found, Found::At(BLOCK));
    // Reset: RAM cleared, the program puts the block elsewhere.
    target.ram.fill(0);
    run(&mut rtt, &mut target, &mut client, 1);
    assert_ne!(rtt.found, Found::At(BLOCK));
    let moved = BLOCK + 0x40;
    target.put(moved, b"SEGGER RTT\0\0\0\0\0\0");
    target.put_word(moved + 16, 1);
    target.put_word(moved + 20, 0);
    run(&mut rtt, &mut target, &mut client, 2);
    assert_eq!(rtt.found, Found::At(moved));
    assert!(rtt.counters.searches >= 2);
}

#[test]
fn a_client_that_does_not_read_drops_bytes_of_a_skip_channel() {
    let mut target = Target::with_block(3, 3);
    target.target_write(b"dropped");
    let mut rtt = enabled();
    let mut client = Client {
        room: Some(0),
        ..Client::default()
    };
    run(&mut rtt, &mut target, &mut client, 2);
    // The buffer is emptied for the target, the bytes counted as dropped.
    assert_eq!(target.word(descriptor_address(Direction::Up, 0) + 16), 7);
    assert_eq!(rtt.counters.dropped, 7);
}

#[test]
fn a_client_that_does_not_read_leaves_a_blocking_channel_full() {
    let mut target = Target::with_block(3, 3);
    target.set_descriptor(Direction::Up, 0, UP_BUFFER, 64, 0, 0, 2);
    target.target_write(b"kept for later");
    let mut rtt = enabled();
    let mut client = Client {
        room: Some(4),
        ..Client::default()
    };
    run(&mut rtt, &mut target, &mut client, 2);
    assert_eq!(client.received, b"kept");
    assert_eq!(target.word(descriptor_address(Direction::Up, 0) + 16), 4);
    client.room = Some(0);
    run(&mut rtt, &mut target, &mut client, 3);
    assert_eq!(target.word(descriptor_address(Direction::Up, 0) + 16), 4);
    client.room = None;
    run(&mut rtt, &mut target, &mut client, 1);
    assert_eq!(client.received, b"kept for later");
    assert_eq!(rtt.counters.dropped, 0);
}

#[test]
fn the_interval_adapts_and_wire_errors_switch_rtt_off() {
    let mut target = Target::with_block(3, 3);
    let mut rtt = enabled();
    let mut client = Client::default();
    assert_eq!(rtt.interval_ms, DEFAULT_MAX_POLL_MS);
    run(&mut rtt, &mut target, &mut client, 1);
    for _ in 0..6 {
        target.target_write(b"data");
        run(&mut rtt, &mut target, &mut client, 1);
    }
    assert_eq!(rtt.interval_ms, DEFAULT_MIN_POLL_MS);
    run(&mut rtt, &mut target, &mut client, 1);
    assert_eq!(rtt.interval_ms, 2 * DEFAULT_MIN_POLL_MS);
    // Not due before the interval has passed.
    let last = rtt.last_poll_us.unwrap();
    assert!(!rtt.due(last + 1000));
    assert!(rtt.due(last + 16_000));
    // A block at an address the wire faults on: errors add up until RTT gives up.
    rtt.config.address = Some(0x1000_0000);
    rtt.search_again();
    run(
        &mut rtt,
        &mut target,
        &mut client,
        DEFAULT_MAX_ERRORS as usize + 1,
    );
    assert!(!rtt.config.enabled);
    assert!(rtt.gave_up);
}

#[test]
fn channel_numbers_count_up_channels_first() {
    let mut target = Target::with_block(3, 3);
    let mut rtt = enabled();
    run(&mut rtt, &mut target, &mut Client::default(), 1);
    rtt.select_channels(Some(&[0, 1, 4])).unwrap();
    assert_eq!(rtt.config.up_channels, 0b11);
    assert_eq!(rtt.config.down_channel, Some(1));
    assert_eq!(rtt.select_channels(Some(&[6])), Err(RttError::BadChannel));
    assert_eq!(rtt.select_channels(Some(&[16])), Err(RttError::BadChannel));
    rtt.select_channels(None).unwrap();
    assert_eq!(rtt.config.up_channels, 1);
}

#[test]
fn settings_are_checked() {
    let mut config = Config::new();
    assert_eq!(config.set_poll(8, 16, 10), Err(RttError::BadPoll));
    assert_eq!(config.set_poll(8, 0, 10), Err(RttError::BadPoll));
    config.set_poll(100, 1, 3).unwrap();
    assert_eq!(
        config.set_scan_range(Some((10, 10))),
        Err(RttError::BadRange)
    );
    assert_eq!(config.ident(), b"SEGGER RTT");
}

#[test]
fn read_channel_finds_the_block_at_once_and_keeps_what_does_not_fit() {
    // The block is found in one call (no polling), with RTT off.
    let mut target = Target::with_block(3, 3);
    target.target_write(b"hello, world");
    let mut rtt = Rtt::new();
    let mut buffer = [0u8; 5];
    assert_eq!(rtt.read_channel(&mut target, &map(), 0, &mut buffer), Ok(5));
    assert_eq!(&buffer, b"hello");
    assert_eq!(rtt.found, Found::At(BLOCK));
    // A skip channel still keeps the bytes that did not fit in this buffer.
    let mut rest = [0u8; 64];
    assert_eq!(rtt.read_channel(&mut target, &map(), 0, &mut rest), Ok(7));
    assert_eq!(&rest[..7], b", world");
    assert_eq!(rtt.read_channel(&mut target, &map(), 0, &mut rest), Ok(0));
    // RdOff caught up with WrOff.
    let at = descriptor_address(Direction::Up, 0);
    assert_eq!(target.word(at + 16), target.word(at + 12));
    assert!(!rtt.config.enabled);
}

#[test]
fn write_channel_fills_what_has_room_and_says_how_much() {
    let mut target = Target::with_block(3, 3);
    let mut rtt = Rtt::new();
    // 16-byte ring: 15 bytes fit.
    assert_eq!(
        rtt.write_channel(&mut target, &map(), 0, b"0123456789abcdefXYZ"),
        Ok(15)
    );
    let at = descriptor_address(Direction::Down, 0);
    assert_eq!(target.word(at + 12), 15);
    assert_eq!(&target.ram[0x800..0x80F], b"0123456789abcde");
    assert_eq!(rtt.write_channel(&mut target, &map(), 0, b"more"), Ok(0));
    // The target reads 10: the next write goes in across the wrap.
    target.put_word(at + 16, 10);
    assert_eq!(rtt.write_channel(&mut target, &map(), 0, b"fXYZ"), Ok(4));
    assert_eq!(&target.ram[0x80F..0x810], b"f");
    assert_eq!(&target.ram[0x800..0x803], b"XYZ");
}

#[test]
fn read_and_write_channel_refuse_what_is_not_there() {
    // No block in RAM.
    let mut empty = Target::new();
    let mut rtt = Rtt::new();
    let mut buffer = [0u8; 8];
    assert_eq!(
        rtt.read_channel(&mut empty, &map(), 0, &mut buffer),
        Err(Unserved::NotFound)
    );
    // A channel the block does not list, or lists unused.
    let mut target = Target::with_block(3, 3);
    assert_eq!(
        rtt.read_channel(&mut target, &map(), 5, &mut buffer),
        Err(Unserved::NoChannel(Direction::Up, 5))
    );
    assert_eq!(
        rtt.write_channel(&mut target, &map(), 1, b"x"),
        Err(Unserved::NoChannel(Direction::Down, 1))
    );
    // A corrupt descriptor is reported and not followed.
    target.set_descriptor(Direction::Up, 0, UP_BUFFER, 64, 64, 0, 0);
    target.log.clear();
    let error = rtt.read_channel(&mut target, &map(), 0, &mut buffer);
    assert!(
        matches!(
            error,
            Err(Unserved::Corrupt(Corruption::IndexOutOfRange {
                write: 64,
                ..
            }))
        ),
        "{error:?}"
    );
    assert!(!target.log.iter().any(|&(write, _, _)| write));
    // A block that appears later is found by the next call.
    empty.put(BLOCK, b"SEGGER RTT\0\0\0\0\0\0");
    empty.put_word(BLOCK + 16, 3);
    empty.put_word(BLOCK + 20, 3);
    empty.set_descriptor(Direction::Up, 0, UP_BUFFER, 64, 2, 0, 0);
    empty.put(UP_BUFFER, b"ok");
    let mut rtt = Rtt::new();
    assert_eq!(
        rtt.read_channel(&mut Target::new(), &map(), 0, &mut buffer),
        Err(Unserved::NotFound)
    );
    assert_eq!(rtt.read_channel(&mut empty, &map(), 0, &mut buffer), Ok(2));
    assert_eq!(&buffer[..2], b"ok");
}
