//! The RP2040 driver against a small model: the boot ROM's function table, a core whose
//! "run" returns at once to LR (every flash function returns) or, run at the driver's
//! loop, does one queued request each time the debugger reads the mailbox's `done` (or,
//! `eager`, after every word the debugger writes), its registers through DCRSR/DCRDR,
//! and the SSI's data register answering a JEDEC ID. It counts the SWD transactions a
//! MEM-AP would make for the accesses (`transactions`).

use super::*;
use crate::RegionKind;
use std::collections::{HashMap, VecDeque};

const DHCSR: u32 = 0xE000_EDF0;
const DCRSR: u32 = 0xE000_EDF4;
const DCRDR: u32 = 0xE000_EDF8;
const S_HALT_REGRDY: u32 = 3 << 16;
const TABLE: u32 = 0x100;
const ENTRIES: [(&[u8; 2], u32); 6] = [
    (b"IF", 0x201),
    (b"EX", 0x205),
    (b"RE", 0x209),
    (b"RP", 0x20D),
    (b"FC", 0x211),
    (b"CX", 0x215),
];

#[derive(Default)]
struct Model {
    bytes: HashMap<u32, u8>,
    registers: [u32; 32],
    dcrdr: u32,
    /// What the flash sends back for the bytes after the command.
    jedec: VecDeque<u8>,
    received: VecDeque<u32>,
    /// The function entries run, with r0-r2.
    calls: Vec<(u32, [u32; 3])>,
    /// The core runs the driver's loop.
    looping: bool,
    /// Bytes written into the data slots while a queued request was not done.
    written_while_busy: usize,
    /// The loop stops (the core halts, as at a breakpoint in the ROM) once this many
    /// functions have run.
    stuck_after: Option<usize>,
    /// The loop looks at the mailbox after every word written, as a core much faster
    /// than the wire does.
    eager: bool,
    /// SWD transactions of the accesses: a word each, and for each 1 KiB block a run
    /// touches, TAR and the RDBUFF and CTRL/STAT reads after it (adi's MEM-AP).
    transactions: usize,
    /// The registers written, by number, in order.
    register_writes: Vec<usize>,
    /// Bytes of the ROM's function table read.
    table_read: usize,
    now: u64,
}

impl Model {
    fn new(jedec: [u8; 3]) -> Self {
        let mut model = Model::default();
        model.put(SYSINFO_CHIP_ID, 0x2000_2927);
        model.put(SIO_CPUID, 0);
        model.bytes.insert(0x14, TABLE as u8);
        model.bytes.insert(0x15, (TABLE >> 8) as u8);
        for (index, (code, address)) in ENTRIES.iter().enumerate() {
            let at = TABLE + 4 * index as u32;
            let entry = u32::from(u16::from_le_bytes(**code)) | address << 16;
            model.put(at, entry);
        }
        model.jedec = VecDeque::from([0xFF].into_iter().chain(jedec).collect::<Vec<_>>());
        model
    }

    fn put(&mut self, address: u32, value: u32) {
        for (offset, byte) in value.to_le_bytes().into_iter().enumerate() {
            self.bytes.insert(address + offset as u32, byte);
        }
    }

    fn word(&self, address: u32) -> u32 {
        u32::from_le_bytes(core::array::from_fn(|offset| {
            self.bytes
                .get(&(address + offset as u32))
                .copied()
                .unwrap_or(0)
        }))
    }

    /// Is request `done` written: its place's sequence word says so?
    fn pending(&self) -> bool {
        let done = self.word(DONE);
        let request = REQUESTS + (done % PLACES) * REQUEST_STRIDE;
        self.word(request + 4 * (REQUEST_WORDS as u32 - 1)) == done
    }

    /// The loop does its next queued request (if any) and answers its `done`; a request
    /// for function 0 halts it at its BKPT.
    fn loop_step(&mut self) -> u32 {
        let done = self.word(DONE);
        if self.looping && self.stuck_after == Some(self.calls.len()) {
            self.looping = false;
        }
        if self.looping && self.pending() {
            let request = REQUESTS + (done % PLACES) * REQUEST_STRIDE;
            let [entry, _, r2, r1, r0] =
                core::array::from_fn(|n| self.word(request + 4 * n as u32));
            if entry == 0 {
                self.looping = false;
                self.registers[15] = LOOP_END;
            } else {
                self.calls.push((entry & !1, [r0, r1, r2]));
                self.put(DONE, done + 1);
            }
        }
        self.word(DONE)
    }

    /// Count a run of `words` word accesses from `address`.
    fn charge(&mut self, address: u32, words: usize) {
        if words > 0 {
            let last = address + 4 * (words as u32 - 1);
            let blocks = (last / 1024 - address / 1024) as usize + 1;
            self.transactions += words + 3 * blocks;
        }
    }

    fn entry_name(&self, address: u32) -> &'static [u8; 2] {
        ENTRIES
            .iter()
            .find(|(_, entry)| entry & !1 == address)
            .map_or(b"??", |(code, _)| code)
    }
}

impl Memory for Model {
    fn read_words(&mut self, address: u32, words: &mut [u32]) -> Result<(), adi::Error> {
        self.charge(address, words.len());
        for (index, word) in words.iter_mut().enumerate() {
            let at = address + 4 * index as u32;
            *word = match at {
                DHCSR => {
                    if self.looping {
                        self.loop_step();
                    }
                    S_HALT_REGRDY
                }
                DCRDR => self.dcrdr,
                DONE => self.loop_step(),
                SSI_DR0 => self.received.pop_front().unwrap_or(0),
                _ => self.word(at),
            };
        }
        Ok(())
    }

    fn write_words(&mut self, address: u32, words: &[u32]) -> Result<(), adi::Error> {
        self.charge(address, words.len());
        let busy = self.pending();
        if busy && (DATA..DATA + SLOTS * SLOT_SIZE).contains(&address) {
            self.written_while_busy += 4 * words.len();
        }
        for (index, &value) in words.iter().enumerate() {
            let at = address + 4 * index as u32;
            match at {
                DCRSR if value & 1 << 16 != 0 => {
                    self.registers[(value & 0x1F) as usize] = self.dcrdr;
                    self.register_writes.push((value & 0x1F) as usize);
                }
                DCRSR => self.dcrdr = self.registers[(value & 0x1F) as usize],
                DCRDR => self.dcrdr = value,
                DHCSR if value & 0b10 == 0 && self.registers[15] == LOOP => self.looping = true,
                // Run: the function returns to LR at once.
                DHCSR if value & 0b10 == 0 => {
                    let r = self.registers;
                    self.calls.push((r[15], [r[0], r[1], r[2]]));
                    self.registers[15] = r[14] & !1;
                }
                SSI_DR0 => {
                    let answer = self.jedec.pop_front().unwrap_or(0xFF);
                    self.received.push_back(answer.into());
                }
                _ => self.put(at, value),
            }
            if self.eager && self.looping {
                self.loop_step();
            }
        }
        Ok(())
    }

    fn write_halves(&mut self, address: u32, halves: &[u16]) -> Result<(), adi::Error> {
        for (index, half) in halves.iter().enumerate() {
            for (offset, byte) in half.to_le_bytes().into_iter().enumerate() {
                self.bytes
                    .insert(address + 2 * index as u32 + offset as u32, byte);
            }
        }
        Ok(())
    }

    fn read_bytes(&mut self, address: u32, bytes: &mut [u8]) -> Result<(), adi::Error> {
        if (TABLE..TABLE + 256).contains(&address) {
            self.table_read += bytes.len();
        }
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = self
                .bytes
                .get(&(address + index as u32))
                .copied()
                .unwrap_or(0);
        }
        Ok(())
    }

    fn write_bytes(&mut self, address: u32, bytes: &[u8]) -> Result<(), adi::Error> {
        let busy = self.pending();
        if busy && (DATA..DATA + SLOTS * SLOT_SIZE).contains(&address) {
            self.written_while_busy += bytes.len();
        }
        for (index, &byte) in bytes.iter().enumerate() {
            self.bytes.insert(address + index as u32, byte);
        }
        Ok(())
    }

    fn now_micros(&mut self) -> u64 {
        self.now += 1;
        self.now
    }
}

const RP2040_IDENTITY: Identity = Identity {
    dpidr: 0x0BC1_2477,
    cpuid: 0x410C_C601,
    rom_designer: 0x23B,
    rom_part: 0x4C0,
};

fn flash_length(part: &Part) -> u32 {
    part.memory_map()
        .regions()
        .find(|region| matches!(region.kind, RegionKind::Flash(_)))
        .map(|region| region.length)
        .unwrap()
}

#[test]
fn identified_by_chip_id_then_sized_by_the_jedec_id_at_attach() {
    let mut model = Model::new([0xEF, 0x40, 0x17]);
    let part = Part::identify(&mut model, RP2040_IDENTITY).unwrap();
    assert_eq!(part.name(), "RP2040 core 0");
    assert_eq!(flash_length(&part), FLASH_SIZE);
    let attached = part.attached(&mut model).unwrap();
    assert_eq!(
        flash_length(&attached),
        8 * 1024 * 1024,
        "capacity 0x17: 8 MB"
    );
    assert_eq!(attached.mass_erase, Some((XIP_BASE, 8 * 1024 * 1024)));
    let names: Vec<_> = model
        .calls
        .iter()
        .map(|&(entry, _)| model.entry_name(entry))
        .collect();
    assert_eq!(names, [b"IF", b"EX", b"FC", b"CX"]);
    // No flash answering: the default size.
    let mut model = Model::new([0xFF; 3]);
    assert_eq!(
        flash_length(&part.attached(&mut model).unwrap()),
        FLASH_SIZE
    );
    // Not an RP2040: another DPIDR, or another CHIP_ID.
    let other = Identity {
        dpidr: 0x0BC1_1477,
        ..RP2040_IDENTITY
    };
    assert_eq!(
        Part::identify(&mut model, other).unwrap().name(),
        "ARM Cortex-M"
    );
    model.put(SYSINFO_CHIP_ID, 0x1000_1927);
    assert_eq!(
        Part::identify(&mut model, RP2040_IDENTITY).unwrap().name(),
        "ARM Cortex-M"
    );
}

#[test]
fn erase_and_program_call_the_rom_with_flash_offsets() {
    let mut model = Model::new([0xEF, 0x40, 0x15]);
    let part = Part::identify(&mut model, RP2040_IDENTITY).unwrap();
    model.registers[4] = 0x1234;
    part.erase(&mut model, XIP_BASE + 0x1_0000, 0x1_0000)
        .unwrap();
    let data: Vec<u8> = (0..512u32).map(|n| n as u8).collect();
    part.program(&mut model, XIP_BASE + 0x1_0100, &data)
        .unwrap();
    let calls: Vec<_> = model
        .calls
        .iter()
        .map(|&(entry, arguments)| (model.entry_name(entry), arguments))
        .collect();
    assert_eq!(calls[2], (b"RE", [0x1_0000, 0x1_0000, BLOCK_SIZE]));
    assert_eq!(calls[7], (b"RP", [0x1_0100, DATA, 512]));
    assert_eq!(calls.len(), 10);
    let mut staged = vec![0; 512];
    model.read_bytes(DATA, &mut staged).unwrap();
    assert_eq!(staged, data);
    assert_eq!(model.registers[4], 0x1234, "registers put back");
    // Not whole pages: refused before any call.
    assert!(part.program(&mut model, XIP_BASE + 0x80, &data).is_err());
    assert_eq!(model.calls.len(), 10);
}

#[test]
fn program_writes_the_next_slot_while_the_rom_programs_the_last() {
    let mut model = Model::new([0xEF, 0x40, 0x15]);
    let part = Part::identify(&mut model, RP2040_IDENTITY).unwrap();
    model.registers[4] = 0x1234;
    let slot = SLOT_SIZE;
    let data: Vec<u8> = (0..2 * slot + 512).map(|n| (n / 7) as u8).collect();
    part.program(&mut model, XIP_BASE + 0x2000, &data).unwrap();
    let calls: Vec<_> = model
        .calls
        .iter()
        .map(|&(entry, arguments)| (model.entry_name(entry), arguments))
        .collect();
    // The programs take the data slots in turn.
    assert_eq!(
        calls,
        [
            (b"IF", [0, 0, 0]),
            (b"EX", [0, 0, 0]),
            (b"RP", [0x2000, DATA, slot]),
            (b"RP", [0x2000 + slot, DATA + slot, slot]),
            (b"RP", [0x2000 + 2 * slot, DATA + 2 * slot, 512]),
            (b"FC", [0, 0, 0]),
            (b"CX", [0, 0, 0]),
        ]
    );
    assert_eq!(
        model.written_while_busy,
        data.len(),
        "each slot's data went in while the core was busy with the request before"
    );
    let mut staged = vec![0; 512];
    model.read_bytes(DATA + 2 * slot, &mut staged).unwrap();
    assert_eq!(
        staged,
        data[2 * slot as usize..],
        "the third piece in the third slot"
    );
    assert_eq!(model.registers[4], 0x1234, "registers put back");
}

#[test]
fn erase_sector_takes_a_length_or_an_address_and_a_length() {
    let mut model = Model::new([0xEF, 0x40, 0x15]);
    let part = Part::identify(&mut model, RP2040_IDENTITY).unwrap();
    let mut out = String::new();
    let mut run = |model: &mut Model, arguments: &str| {
        part.command(model, "erase_sector", arguments, &mut out)
            .unwrap()
    };
    run(&mut model, "0x10010000 0x10000").unwrap();
    run(&mut model, "100").unwrap();
    let erases: Vec<_> = model
        .calls
        .iter()
        .filter(|&&(entry, _)| model.entry_name(entry) == b"RE")
        .map(|&(_, arguments)| arguments)
        .collect();
    assert_eq!(
        erases,
        [
            [0x1_0000, 0x1_0000, BLOCK_SIZE],
            [0, SECTOR_SIZE, BLOCK_SIZE]
        ]
    );
    for bad in ["", "0x10000000 0", "ten", "1 2 3"] {
        assert!(
            matches!(run(&mut model, bad), Err(Error::Usage { .. })),
            "{bad:?}"
        );
    }
    assert_eq!(
        run(&mut model, "0x20000000 4096"),
        Err(Error::OutsideFlash {
            address: 0x2000_0000
        })
    );
}

/// The names of the functions the model's core ran.
fn call_names(model: &Model) -> Vec<&'static [u8; 2]> {
    model
        .calls
        .iter()
        .map(|&(entry, _)| model.entry_name(entry))
        .collect()
}

#[test]
fn a_session_leaves_xip_once_for_every_erase_and_program_of_a_load() {
    let mut model = Model::new([0xEF, 0x40, 0x15]);
    let part = Part::identify(&mut model, RP2040_IDENTITY).unwrap();
    model.registers[4] = 0x1234;
    let mut session = crate::Session::Closed;
    let data: Vec<u8> = (0..SECTOR_SIZE).map(|n| (n / 3) as u8).collect();
    for sector in 0..3 {
        let at = XIP_BASE + sector * SECTOR_SIZE;
        part.erase_in(&mut session, &mut model, at, SECTOR_SIZE)
            .unwrap();
        part.program_in(&mut session, &mut model, at, &data)
            .unwrap();
        assert!(session.is_open() && model.looping, "the loop runs on");
    }
    part.end_session(&mut session, &mut model).unwrap();
    assert!(!session.is_open() && !model.looping);
    let sector: [&[u8; 2]; 5] = [b"RE", b"RP", b"RP", b"RP", b"RP"];
    let expected: Vec<&[u8; 2]> = [[b"IF", b"EX"].as_slice(), &sector, &sector, &sector]
        .concat()
        .into_iter()
        .chain([b"FC", b"CX"])
        .collect();
    assert_eq!(call_names(&model), expected);
    assert_eq!(
        model.registers[4], 0x1234,
        "registers put back once, at the end"
    );
    // Ending a closed session does nothing.
    part.end_session(&mut session, &mut model).unwrap();
    assert_eq!(model.calls.len(), expected.len());
}

#[test]
fn a_failure_in_a_session_closes_it_with_xip_back_and_the_next_load_opens_anew() {
    let mut model = Model::new([0xEF, 0x40, 0x15]);
    let part = Part::identify(&mut model, RP2040_IDENTITY).unwrap();
    model.registers[4] = 0x1234;
    let mut session = crate::Session::Closed;
    let data = vec![0x5A; 2 * SECTOR_SIZE as usize];
    // The core stops in the erase (after the connect and exit): the erase is queued, the
    // first four slots' programs too, and the fifth waits for the first slot in vain.
    model.stuck_after = Some(2);
    part.erase_in(&mut session, &mut model, XIP_BASE, 2 * SECTOR_SIZE)
        .unwrap();
    let failed = part.program_in(&mut session, &mut model, XIP_BASE, &data);
    assert!(matches!(failed, Err(Error::Family { .. })), "{failed:?}");
    assert!(!session.is_open(), "a failure closes the session");
    let names = call_names(&model);
    assert_eq!(
        names,
        [b"IF", b"EX", b"FC", b"CX"],
        "XIP back by direct calls"
    );
    assert_eq!(model.registers[4], 0x1234, "registers put back");
    // The next load opens a session of its own and finishes.
    model.stuck_after = None;
    model.calls.clear();
    let sector = &data[..SECTOR_SIZE as usize];
    part.program_in(&mut session, &mut model, XIP_BASE, sector)
        .unwrap();
    part.end_session(&mut session, &mut model).unwrap();
    let names = call_names(&model);
    assert_eq!(
        names,
        [b"IF", b"EX", b"RP", b"RP", b"RP", b"RP", b"FC", b"CX"]
    );
    assert_eq!(model.registers[4], 0x1234);
}

/// Erase four sectors and program them in one session, on a model whose core looks at
/// the mailbox after every word written; the transactions of the second half's
/// programs (every mailbox place used before).
fn eager_load(model: &mut Model, data: &[u8]) -> usize {
    let part = Part::identify(model, RP2040_IDENTITY).unwrap();
    model.eager = true;
    let mut session = crate::Session::Closed;
    part.erase_in(&mut session, model, XIP_BASE, data.len() as u32)
        .unwrap();
    let (first, second) = data.split_at(data.len() / 2);
    part.program_in(&mut session, model, XIP_BASE, first)
        .unwrap();
    let before = model.transactions;
    let at = XIP_BASE + first.len() as u32;
    part.program_in(&mut session, model, at, second).unwrap();
    let programs = model.transactions - before;
    part.end_session(&mut session, model).unwrap();
    programs
}

#[test]
fn the_loop_never_runs_a_request_before_its_last_word_is_written() {
    let mut model = Model::new([0xEF, 0x40, 0x15]);
    let data: Vec<u8> = (0..4 * SECTOR_SIZE).map(|n| (n / 5) as u8).collect();
    eager_load(&mut model, &data);
    // Each request ran with its own words, none with what its place held before.
    let programs = (0..data.len() as u32 / SLOT_SIZE).map(|slot| {
        let staged = DATA + slot % SLOTS * SLOT_SIZE;
        (b"RP", [slot * SLOT_SIZE, staged, SLOT_SIZE])
    });
    let expected: Vec<_> = [(b"IF", [0; 3]), (b"EX", [0; 3])]
        .into_iter()
        .chain([(b"RE", [0, 4 * SECTOR_SIZE, BLOCK_SIZE])])
        .chain(programs)
        .chain([(b"FC", [0; 3]), (b"CX", [0; 3])])
        .collect();
    let calls: Vec<_> = model
        .calls
        .iter()
        .map(|&(entry, arguments)| (model.entry_name(entry), arguments))
        .collect();
    assert_eq!(calls, expected);
}

#[test]
fn a_slot_costs_its_data_and_at_most_ten_transactions_more() {
    let mut model = Model::new([0xEF, 0x40, 0x15]);
    let data: Vec<u8> = (0..4 * SECTOR_SIZE).map(|n| (n / 5) as u8).collect();
    let transactions = eager_load(&mut model, &data);
    let slots = data.len() / 2 / SLOT_SIZE as usize;
    let beyond = transactions - data.len() / 2 / 4;
    // The slot's run (TAR, RDBUFF, CTRL/STAT), the request's new words (offset and
    // sequence) in a run of their own, and a read of `done` when a slot is reused.
    assert!(
        beyond <= 10 * slots,
        "{beyond} transactions beyond the data for {slots} slots"
    );
}

/// The function table with `filler` other entries first, then `functions` of the six,
/// then the ending code 0.
fn put_table(model: &mut Model, filler: u32, functions: usize) {
    for index in 0..filler {
        let code = u32::from(u16::from_le_bytes([b'Z', b'A' + index as u8]));
        model.put(TABLE + 4 * index, code | 0x300 << 16);
    }
    for (index, (code, address)) in ENTRIES.iter().take(functions).enumerate() {
        let at = TABLE + 4 * (filler + index as u32);
        model.put(at, u32::from(u16::from_le_bytes(**code)) | address << 16);
    }
    model.put(TABLE + 4 * (filler + functions as u32), 0);
}

#[test]
fn the_function_table_is_read_until_the_six_functions_are_found() {
    // Found in the first 16 entries: 64 bytes read.
    let mut model = Model::new([0xEF, 0x40, 0x15]);
    let part = Part::identify(&mut model, RP2040_IDENTITY).unwrap();
    let mut session = crate::Session::Closed;
    part.erase_in(&mut session, &mut model, XIP_BASE, SECTOR_SIZE)
        .unwrap();
    assert_eq!(model.table_read, 64);
    part.end_session(&mut session, &mut model).unwrap();
    // Behind 20 other entries: the next 16 too, and the session works the same.
    put_table(&mut model, 20, ENTRIES.len());
    model.calls.clear();
    model.table_read = 0;
    part.erase_in(&mut session, &mut model, XIP_BASE, SECTOR_SIZE)
        .unwrap();
    assert_eq!(model.table_read, 128);
    part.end_session(&mut session, &mut model).unwrap();
    assert_eq!(call_names(&model), [b"IF", b"EX", b"RE", b"FC", b"CX"]);
    // A table without flash_enter_cmd_xip: a clear error, nothing run.
    put_table(&mut model, 20, ENTRIES.len() - 1);
    model.calls.clear();
    let failed = part.erase_in(&mut session, &mut model, XIP_BASE, SECTOR_SIZE);
    assert!(matches!(failed, Err(Error::Family { .. })), "{failed:?}");
    assert!(model.calls.is_empty() && !session.is_open());
}

#[test]
fn after_the_loop_ended_at_its_bkpt_only_r4_pc_and_xpsr_are_written_back() {
    let mut model = Model::new([0xEF, 0x40, 0x15]);
    let part = Part::identify(&mut model, RP2040_IDENTITY).unwrap();
    let mut session = crate::Session::Closed;
    for (number, register) in model.registers.iter_mut().enumerate().take(16) {
        *register = 0x100 + number as u32;
    }
    let saved = [0, 1, 2, 3, 12, 13, 14].map(|n| model.registers[n]);
    part.erase_in(&mut session, &mut model, XIP_BASE, SECTOR_SIZE)
        .unwrap();
    // The loop puts back r0-r3, r12, SP and LR from the words after `done`.
    let put_back: Vec<u32> = (0..7).map(|n| model.word(DONE + 4 + 4 * n)).collect();
    assert_eq!(put_back, saved);
    model.register_writes.clear();
    part.end_session(&mut session, &mut model).unwrap();
    assert_eq!(model.register_writes, [R4, PC, XPSR]);
    // A loop that stops short (after connect, exit XIP and the erase): all ten from the
    // probe's copy.
    model.stuck_after = Some(model.calls.len() + 3);
    part.erase_in(&mut session, &mut model, XIP_BASE, SECTOR_SIZE)
        .unwrap();
    model.register_writes.clear();
    assert!(part.end_session(&mut session, &mut model).is_err());
    let written = &model.register_writes;
    assert_eq!(written[written.len() - CLOBBERED.len()..], CLOBBERED);
}
