//! RP2040 (RP2040 datasheet, "DS"): two Cortex-M0+ cores, each behind its own SW-DP on
//! one SWD multi-drop wire (DS 2.3.4.2: TARGETSEL 0x0100_2927 core 0, 0x1100_2927 core 1;
//! the rescue DP 0xF100_2927 has no access port and is not listed), identified by SYSINFO
//! CHIP_ID (DS 2.20.2). The flash is an external QSPI part behind XIP at 0x1000_0000 (a
//! W25Q16JV, 2 MB, on the Raspberry Pi Pico), erased and programmed by the boot ROM's
//! flash functions (DS 2.8.3.1.3) run on the attached core: their addresses from the ROM's
//! function table (DS 2.8.3, the table `rom_table_lookup` walks, read here directly),
//! arguments in r0-r3, LR at a BKPT in SRAM where the core halts when the function
//! returns. No flash controller, no read protection (DS 2.3.4).
//!
//! A flash session (`Session`, one per load: opened by the first erase or program,
//! closed by `Family::end_session`) saves the core's registers the ROM may change and
//! starts a small loop in SRAM5 on the core (`LOOP_CODE`) that calls the ROM functions
//! the debugger queues in an eight-place mailbox: connect_internal_flash and
//! flash_exit_xip once, then the erases and programs of every call; at the end
//! flash_flush_cache and flash_enter_cmd_xip (slow 0x03-read XIP: boot2 sets up fast XIP
//! again at the next boot), the core halts at the loop's BKPT and its registers are put
//! back. While the ROM erases or programs, the debugger writes the next data into the
//! four 1 KiB SRAM4 slots in turn, across calls: a sector's erase hides the upload of
//! the next 4 KiB. `reset_usb_boot` (Black Magic Probe's name) calls the ROM's
//! reset_to_usb_boot ('UB', DS 2.8.3) the same way; it does not return: the chip reboots
//! into the ROM's USB boot mode (BOOTSEL), and the core is halted there after the reset.
//! It uses SRAM4 and SRAM5 (0x2004_0000-0x2004_1FFF, what pico-sdk
//! programs use as the cores' stacks) for its data, BKPT and stack.

use crate::memory_map::{Flash, MemoryMap, Region};
use crate::{Command, Error, Family, Identity, Part};
use adi::{Memory, poll_memory};
use core::fmt::Write;
use cortexm::registers::{Dhcsr, THUMB_BKPT};
use cortexm::{Core, PC, XPSR, XPSR_THUMB};

/// TARGETID (DS 2.3.4.2): TPARTNO 0x1002, TDESIGNER 0x493 (Raspberry Pi); TINSTANCE
/// [31:28] is the core.
const TARGET_ID: u32 = 0x0100_2927;
const CORE_1: u32 = 1 << 28;
/// The DPs worth selecting: core 0 and core 1.
pub const TARGET_SELECTS: [u32; 2] = [TARGET_ID, CORE_1 | TARGET_ID];
/// Each core's DPIDR: DPv2, MINDP, Arm designer (DS 2.3.4).
const DPIDR: u32 = 0x0BC1_2477;
const CORTEX_M0_PLUS: u32 = 0xC60;
/// SYSINFO CHIP_ID (DS 2.20.2): REVISION [31:28], PART [27:12] = 2, MANUFACTURER [11:0]
/// = 0x927.
const SYSINFO_CHIP_ID: u32 = 0x4000_0000;
const CHIP_ID_MASK: u32 = 0x0FFF_FFFF;
const CHIP_ID_RP2040: u32 = 0x0000_2927;
/// SIO CPUID (DS 2.3.1.7): 0 on core 0, 1 on core 1.
const SIO_CPUID: u32 = 0xD000_0000;

/// Memory map (DS 2.2): boot ROM, XIP (cached, allocating), SRAM0-5 (striped 256 KB,
/// SRAM4, SRAM5).
const ROM_BASE: u32 = 0x0000_0000;
const ROM_SIZE: u32 = 16 * 1024;
pub const XIP_BASE: u32 = 0x1000_0000;
/// The W25Q16JV's 2 MB (the Pico's flash): the size until the part's JEDEC ID says
/// otherwise at attach.
pub const FLASH_SIZE: u32 = 2 * 1024 * 1024;
/// JEDEC ID capacity bytes (size = 1 << capacity) that fit the 16 MB XIP window (DS 2.6.3)
/// from 64 KB up; anything else (no part: 0x00 or 0xFF) leaves the default size.
const CAPACITIES: core::ops::RangeInclusive<u8> = 0x10..=0x18;
/// IO_QSPI GPIO_QSPI_SS_CTRL (DS 2.19.6.3) OUTOVER [9:8]: 2 drives chip select low, 3
/// high; the SSI's data register DR0 (DS 4.10.13) exchanges a byte per write.
const QSPI_SS_CTRL: u32 = 0x4001_800C;
const OUTOVER_LOW: u32 = 2 << 8;
const OUTOVER_HIGH: u32 = 3 << 8;
const SSI_DR0: u32 = 0x1800_0060;
/// Read JEDEC ID: manufacturer, memory type, capacity (W25Q16JV datasheet 8.2.29).
const READ_JEDEC_ID: u32 = 0x9F;
const SRAM_BASE: u32 = 0x2000_0000;
const SRAM_SIZE: u32 = 264 * 1024;
/// flash_range_erase works on 4 KB sectors, flash_range_program on 256-byte pages (DS
/// 2.8.3.1.3).
const SECTOR_SIZE: u32 = 4096;
const PAGE_SIZE: u32 = 256;
/// The 64 KB block erase (W25Q16JV 0xD8) flash_range_erase uses where a whole aligned
/// block is to be erased.
const BLOCK_SIZE: u32 = 64 * 1024;
const BLOCK_ERASE: u32 = 0xD8;

/// SRAM the driver uses: data for flash_range_program (SRAM4, four slots), the BKPT the
/// functions return to, the loop, its mailbox and the stack (SRAM5).
const DATA: u32 = 0x2004_0000;
const SLOT_SIZE: u32 = 1024;
const SLOTS: u32 = 4;
/// Requests the mailbox holds: more than the slots, so that erases queued between
/// programs leave every slot to data.
const PLACES: u32 = 8;
const RETURN_BKPT: u32 = 0x2004_1000;
const LOOP: u32 = 0x2004_1010;
const STACK_TOP: u32 = 0x2004_2000;

/// The loop (Thumb, ARMv6-M). r4 = MAILBOX: `done` (+0, the count of requests the core
/// has done, written by the core only), the registers it puts back at its end (+4: r0-r3,
/// r12, SP, LR, as the probe saved them), then eight places of one request each (24
/// bytes at +32 + 24 * place), request n in place n & 7: function, r3, r2, r1, r0 and
/// its sequence word n, written last. The loop runs request `done` once its place's
/// sequence word says `done`; function 0 ends it: it puts those registers back and halts
/// at the BKPT (`LOOP_END`), so that the probe writes back only r4, PC and xPSR. Besides
/// r4, which the ROM's functions keep (AAPCS callee-saved), it uses only registers they
/// may change anyway: r0-r3, r12 and LR.
///
/// Why the loop never runs a request not fully written: the probe writes a request's
/// words in one run of ascending addresses, its sequence word last, and a slot's data
/// in an earlier run. A MEM-AP makes its bus accesses in the order of the SWD
/// transactions, one at a time: a write is performed before the AP takes the next
/// transaction (the DP answers WAIT meanwhile, ADIv5.2 B4.2), so when the core reads
/// the new sequence word, every word written before it (the request's other words and
/// its data) is already in SRAM. The DMB (ARMv6-M's data memory barrier) keeps the
/// core's reads of those words after its read of the sequence word. A place's words
/// are rewritten only once the core has done the request they held before (`done`
/// read), and a place not yet used in this session holds sequence word 0xFFFF_FFFF,
/// written with the loop before the core runs, never a count the loop looks for.
const LOOP_CODE: [u16; 36] = [
    0x6821, // 0:  ldr  r1, [r4, #0]     done: the number of the request to run next
    0x074A, // 2:  lsls r2, r1, #29
    0x0E92, // 4:  lsrs r2, r2, #26      (done & 7) * 8
    0x18A0, // 6:  adds r0, r4, r2
    0x0052, // 8:  lsls r2, r2, #1       (done & 7) * 16
    0x1880, // 10: adds r0, r0, r2       r0 = MAILBOX + 24 * place (its request at +32)
    0x6B42, // 12: ldr  r2, [r0, #52]    the place's sequence word
    0x428A, // 14: cmp  r2, r1
    0xD1F6, // 16: bne  0                not this request (yet): look again
    0xF3BF, // 18: dmb  sy               the request's other words are read after its
    0x8F5F, //     (dmb, second half)    sequence word
    0x6A01, // 22: ldr  r1, [r0, #32]    function
    0x2900, // 24: cmp  r1, #0
    0xD009, // 26: beq  48               function 0: end
    0x468C, // 28: mov  r12, r1
    0x6A43, // 30: ldr  r3, [r0, #36]
    0x6A82, // 32: ldr  r2, [r0, #40]
    0x6AC1, // 34: ldr  r1, [r0, #44]
    0x6B00, // 36: ldr  r0, [r0, #48]    r0 last: it pointed at the request
    0x47E0, // 38: blx  r12              the ROM function, back here with r4 kept
    0x6820, // 40: ldr  r0, [r4, #0]
    0x3001, // 42: adds r0, #1
    0x6020, // 44: str  r0, [r4, #0]     done + 1
    0xE7E7, // 46: b    0
    0x69A0, // 48: ldr  r0, [r4, #24]    the end: SP, LR, r12, r3-r0 put back
    0x4685, // 50: mov  sp, r0
    0x69E0, // 52: ldr  r0, [r4, #28]
    0x4686, // 54: mov  lr, r0
    0x6960, // 56: ldr  r0, [r4, #20]
    0x4684, // 58: mov  r12, r0
    0x6923, // 60: ldr  r3, [r4, #16]
    0x68E2, // 62: ldr  r2, [r4, #12]
    0x68A1, // 64: ldr  r1, [r4, #8]
    0x6860, // 66: ldr  r0, [r4, #4]
    0xBE00, // 68: bkpt #0               the probe takes the core back
    0xBF00, // 70: nop                   (never run: the mailbox starts word-aligned)
];
const LOOP_END: u32 = LOOP + 68;
/// `done` right after the loop's code, the registers the loop puts back and the places
/// after it: the loop and an empty mailbox go in one run of word writes.
const MAILBOX: u32 = LOOP + 2 * LOOP_CODE.len() as u32;
const DONE: u32 = MAILBOX;
/// The registers the loop's end puts back, in the order of its words at MAILBOX + 4.
const PUT_BACK_BY_LOOP: [usize; 7] = [0, 1, 2, 3, 12, SP, LR];
const REQUESTS: u32 = MAILBOX + 32;
/// A request's words in a place, in the order written: what changes least first, the
/// sequence word last.
const REQUEST_WORDS: usize = 6;
const REQUEST_STRIDE: u32 = 4 * REQUEST_WORDS as u32;
/// The sequence word of a place not used yet in a session.
const UNUSED: u32 = 0xFFFF_FFFF;
const R4: usize = 4;
/// The registers the loop and the ROM's functions may change, saved and put back: r0-r3
/// (the arguments and the loop's own), r4 (the mailbox), r12, SP, LR, PC and xPSR. The
/// functions keep r4-r11 and SP (AAPCS callee-saved: pico-sdk calls them as C
/// functions), and touch neither the other stack pointer nor PRIMASK, BASEPRI,
/// FAULTMASK, CONTROL.
const CLOBBERED: [usize; 10] = [0, 1, 2, 3, R4, 12, SP, LR, PC, XPSR];

/// The ROM header (DS 2.8.2, 2.8.3): the 16-bit pointer to the function table at 0x14;
/// entries are (16-bit code, 16-bit address), code = c1 | c2 << 8, ending with code 0.
const FUNCTION_TABLE_POINTER: u32 = 0x14;
const TABLE_ENTRIES: usize = 64;
const TABLE_CHUNK: usize = 16;

/// W25Q16JV maxima (datasheet 9.6: page program 3 ms, sector erase 400 ms, 64 KB block
/// 2 s; a 4 KB sector's share of a block is less than a sector's), and the rest.
const PAGE_TIMEOUT_MICROS: u64 = 3_000;
const SECTOR_TIMEOUT_MICROS: u64 = 400_000;
const CALL_TIMEOUT_MICROS: u64 = 100_000;

/// reset_to_usb_boot's code (DS 2.8.3), and how long its reboot may take to show in
/// DHCSR.S_RESET_ST (ARMv6-M C1.6.3).
const RESET_TO_USB_BOOT: u16 = b'U' as u16 | (b'B' as u16) << 8;
const REBOOT_TIMEOUT_MICROS: u64 = 100_000;

const SP: usize = 13;
const LR: usize = 14;

/// The flash functions by their codes (DS 2.8.3.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Function {
    ConnectInternalFlash,
    FlashExitXip,
    FlashRangeErase,
    FlashRangeProgram,
    FlashFlushCache,
    FlashEnterCmdXip,
}

impl Function {
    const ALL: [Function; 6] = [
        Function::ConnectInternalFlash,
        Function::FlashExitXip,
        Function::FlashRangeErase,
        Function::FlashRangeProgram,
        Function::FlashFlushCache,
        Function::FlashEnterCmdXip,
    ];

    fn code(self) -> u16 {
        let name = match self {
            Function::ConnectInternalFlash => b"IF",
            Function::FlashExitXip => b"EX",
            Function::FlashRangeErase => b"RE",
            Function::FlashRangeProgram => b"RP",
            Function::FlashFlushCache => b"FC",
            Function::FlashEnterCmdXip => b"CX",
        };
        u16::from(name[0]) | u16::from(name[1]) << 8
    }
}

pub struct Rp2040;

pub static RP2040: Rp2040 = Rp2040;

impl Family for Rp2040 {
    /// A Cortex-M0+ behind the RP2040's DPIDR whose SYSINFO CHIP_ID names the RP2040.
    fn identify(
        &'static self,
        memory: &mut dyn Memory,
        identity: &Identity,
    ) -> Result<Option<Part>, Error> {
        if identity.core_part() != CORTEX_M0_PLUS || identity.dpidr != DPIDR {
            return Ok(None);
        }
        let chip_id = memory.read_word(SYSINFO_CHIP_ID)?;
        if chip_id & CHIP_ID_MASK != CHIP_ID_RP2040 {
            return Ok(None);
        }
        let name = match memory.read_word(SIO_CPUID)? {
            0 => "RP2040 core 0",
            _ => "RP2040 core 1",
        };
        Ok(Some(part(self, name, chip_id, FLASH_SIZE)))
    }

    /// The flash's size from its JEDEC ID, read through the SSI with chip select forced
    /// (as after flash_exit_xip, between the ROM calls that leave and enter XIP).
    fn attached(&self, identified: &Part, mut memory: &mut dyn Memory) -> Result<Part, Error> {
        let mut id = [0u8; 3];
        let mut session = crate::Session::Closed;
        let read = in_session(&mut session, &mut memory, |memory, queue| {
            queue.wait_idle(memory)?;
            read_jedec_id(memory, &mut id)
        });
        end(&mut session, &mut memory, read)?;
        let size = if CAPACITIES.contains(&id[2]) {
            1 << id[2]
        } else {
            FLASH_SIZE
        };
        Ok(part(&RP2040, identified.name, identified.device, size))
    }

    /// flash_range_erase over the sectors touched, 64 KB block erases where whole.
    fn erase(
        &self,
        _: &Part,
        session: &mut crate::Session,
        mut memory: &mut dyn Memory,
        region: &Region,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        let start = address - (address - region.start) % SECTOR_SIZE;
        let end = (u64::from(address) + u64::from(length)).next_multiple_of(SECTOR_SIZE.into());
        let count = (end - u64::from(start)) as u32;
        in_session(session, &mut memory, |memory, queue| {
            erase_range(memory, queue, start - XIP_BASE, count)
        })
    }

    /// flash_range_program from the slots in SRAM4 in turn: a slot's data goes over the
    /// wire while the ROM programs another's or erases (the wire is slower than
    /// programming: 64 AP writes a page, 736 us at SWCLK 4 MHz, against the W25Q16JV's
    /// 0.4 ms typical page program). Returns with the last slots' programs queued.
    fn program(
        &self,
        _: &Part,
        session: &mut crate::Session,
        mut memory: &mut dyn Memory,
        _: &Region,
        address: u32,
        data: &[u8],
    ) -> Result<(), Error> {
        if !address.is_multiple_of(PAGE_SIZE) || !data.len().is_multiple_of(PAGE_SIZE as usize) {
            return Err(Error::Adi(adi::Error::Unaligned { address }));
        }
        in_session(session, &mut memory, |memory, queue| {
            for (index, chunk) in data.chunks(SLOT_SIZE as usize).enumerate() {
                let at = address + index as u32 * SLOT_SIZE;
                let pages = chunk.len() as u64 / u64::from(PAGE_SIZE);
                let arguments = [at - XIP_BASE, 0, chunk.len() as u32, 0];
                let timeout = CALL_TIMEOUT_MICROS + pages * PAGE_TIMEOUT_MICROS;
                queue.push(
                    memory,
                    Function::FlashRangeProgram,
                    arguments,
                    chunk,
                    timeout,
                )?;
            }
            Ok(())
        })
    }

    fn mass_erase(
        &self,
        part: &Part,
        session: &mut crate::Session,
        mut memory: &mut dyn Memory,
    ) -> Result<(), Error> {
        let size = part.mass_erase.map_or(FLASH_SIZE, |(_, length)| length);
        in_session(session, &mut memory, |memory, queue| {
            erase_range(memory, queue, 0, size)
        })
    }

    /// Flush the XIP cache, enter XIP, end the loop and put the registers back.
    fn end_session(
        &self,
        _: &Part,
        session: &mut crate::Session,
        mut memory: &mut dyn Memory,
    ) -> Result<(), Error> {
        end(session, &mut memory, Ok(()))
    }

    fn multidrop_targets(&self) -> &'static [u32] {
        &TARGET_SELECTS
    }

    fn commands(&self) -> &'static [Command] {
        &[
            Command {
                name: "erase_mass",
                arguments: "",
                run: erase_mass_command,
                help: "Erase the whole QSPI flash through the boot ROM's flash_range_erase",
            },
            Command {
                name: "erase_sector",
                arguments: ERASE_SECTOR_USAGE,
                run: erase_sector_command,
                help: "Erase the 4 KB sectors (64 KB blocks where whole) of a range: [start address] length",
            },
            Command {
                name: "reset_usb_boot",
                arguments: "",
                run: reset_usb_boot_command,
                help: "Reboot into the boot ROM's USB boot mode (BOOTSEL) through reset_to_usb_boot",
            },
        ]
    }
}

const ERASE_SECTOR_USAGE: &str = "[ADDRESS] LENGTH (ADDRESS in XIP, default its start)";

/// A number as C reads it: decimal, or hex after 0x.
fn number(text: &str) -> Option<u32> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn erase_sector_command(
    part: &Part,
    memory: &mut dyn Memory,
    arguments: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let usage = Error::Usage {
        command: "erase_sector",
        arguments: ERASE_SECTOR_USAGE,
    };
    let Some((address, length)) = address_and_length(arguments).filter(|&(_, length)| length > 0)
    else {
        return Err(usage);
    };
    part.erase(memory, address, length)?;
    let _ = writeln!(
        out,
        "erased 0x{address:08x}, {length} bytes (whole sectors)"
    );
    Ok(())
}

/// "LENGTH" (from the flash's start) or "ADDRESS LENGTH".
fn address_and_length(text: &str) -> Option<(u32, u32)> {
    let mut words = text.split_whitespace().map(number);
    match (words.next(), words.next(), words.next()) {
        (Some(length), None, None) => Some((XIP_BASE, length?)),
        (Some(address), Some(length), None) => Some((address?, length?)),
        _ => None,
    }
}

fn erase_mass_command(
    part: &Part,
    memory: &mut dyn Memory,
    _: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    part.mass_erase(memory)?;
    let _ = writeln!(out, "flash erased");
    Ok(())
}

/// reset_to_usb_boot(0, 0) (no activity LED, both USB interfaces) on the attached core;
/// once the reset shows (S_RESET_ST) the core is halted where the ROM has it.
fn reset_usb_boot_command(
    _: &Part,
    mut memory: &mut dyn Memory,
    _: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let mut core = Core::attach(&mut memory).map_err(core_error)?;
    let (table, entries) = function_entries(&mut memory)?;
    let entry = find_entry(&entries, RESET_TO_USB_BOOT).ok_or(Error::Family {
        message: "the RP2040 boot ROM has no reset_to_usb_boot ('UB')",
        address: Some(table),
    })?;
    memory.write_bytes(RETURN_BKPT, &THUMB_BKPT.to_le_bytes())?;
    let registers = [(0, 0), (1, 0), (SP, STACK_TOP), (LR, RETURN_BKPT | 1)];
    for (number, value) in registers
        .into_iter()
        .chain([(PC, entry & !1), (XPSR, XPSR_THUMB)])
    {
        core.write_register(&mut memory, number, value)
            .map_err(core_error)?;
    }
    (&mut memory).load::<Dhcsr>()?; // clears S_RESET_ST
    (&mut memory).store(control(false, false))?;
    let timeout = Error::Timeout { address: entry };
    let status = poll_memory(&mut memory, REBOOT_TIMEOUT_MICROS, timeout, |memory| {
        let status = memory.load::<Dhcsr>()?;
        Ok((status.s_reset_st() || status.s_halt()).then_some(status))
    });
    core.halt(&mut memory).map_err(core_error)?;
    let pc = core.read_register(&mut memory, PC).map_err(core_error)?;
    if !status?.s_reset_st() {
        return Err(Error::Family {
            message: "reset_to_usb_boot returned instead of rebooting (core at this pc)",
            address: Some(pc),
        });
    }
    let _ = writeln!(
        out,
        "rebooted into the boot ROM's USB boot mode (BOOTSEL); core halted in the ROM at \
         0x{pc:08x}; flash is not run until the next reset"
    );
    Ok(())
}

/// The RP2040 with `flash_size` bytes of QSPI flash.
fn part(family: &'static Rp2040, name: &'static str, chip_id: u32, flash_size: u32) -> Part {
    Part {
        family,
        name,
        memory_map: MemoryMap::new()
            .with(Region::rom(ROM_BASE, ROM_SIZE))
            .with(Region::flash(
                XIP_BASE,
                flash_size,
                Flash::new(SECTOR_SIZE, PAGE_SIZE),
            ))
            .with(Region::ram(SRAM_BASE, SRAM_SIZE)),
        mass_erase: Some((XIP_BASE, flash_size)),
        device: chip_id,
        variant: 0,
    }
}

/// 0x9F and three bytes with chip select low; the answers to those three.
fn read_jedec_id<M: Memory>(memory: &mut M, id: &mut [u8; 3]) -> Result<(), Error> {
    memory.write_word(QSPI_SS_CTRL, OUTOVER_LOW)?;
    for byte in [READ_JEDEC_ID, 0, 0, 0] {
        memory.write_word(SSI_DR0, byte)?;
    }
    let mut answers = [0u32; 4];
    for answer in &mut answers {
        *answer = memory.read_word(SSI_DR0)?;
    }
    memory.write_word(QSPI_SS_CTRL, OUTOVER_HIGH)?;
    for (byte, answer) in id.iter_mut().zip(&answers[1..]) {
        *byte = *answer as u8;
    }
    Ok(())
}

/// flash_range_erase(offset, count, 64 KB, 0xD8).
fn erase_range<M: Memory>(
    memory: &mut M,
    queue: &mut Queue,
    offset: u32,
    count: u32,
) -> Result<(), Error> {
    let sectors = u64::from(count.div_ceil(SECTOR_SIZE));
    let timeout = CALL_TIMEOUT_MICROS + sectors * SECTOR_TIMEOUT_MICROS;
    let arguments = [offset, count, BLOCK_SIZE, BLOCK_ERASE];
    queue.push(memory, Function::FlashRangeErase, arguments, &[], timeout)
}

/// The boot ROM's flash functions on the attached core.
struct BootRom {
    core: Core,
    entries: [u32; Function::ALL.len()],
}

/// An open flash session: the loop running on the core with XIP off, and the registers
/// it saved.
pub struct Session {
    queue: Queue,
    saved: [u32; CLOBBERED.len()],
}

/// `work` on the session's queue, the session opened first if closed. A failure closes
/// it (XIP back, registers put back): the chip is usable, and the next call opens anew.
fn in_session<M: Memory>(
    session: &mut crate::Session,
    memory: &mut M,
    work: impl FnOnce(&mut M, &mut Queue) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut open = match core::mem::take(session) {
        crate::Session::Rp2040(open) => open,
        _ => Session::open(memory)?,
    };
    match work(memory, &mut open.queue) {
        Ok(()) => {
            *session = crate::Session::Rp2040(open);
            Ok(())
        }
        Err(error) => open.close(memory, Err(error)),
    }
}

/// Close `session` if open, after `worked`.
fn end<M: Memory>(
    session: &mut crate::Session,
    memory: &mut M,
    worked: Result<(), Error>,
) -> Result<(), Error> {
    match core::mem::take(session) {
        crate::Session::Rp2040(open) => open.close(memory, worked),
        _ => worked,
    }
}

impl Session {
    /// Halt the core, save its registers, start the loop and queue the leaving of XIP.
    fn open<M: Memory>(memory: &mut M) -> Result<Self, Error> {
        let core = Core::attach(memory).map_err(core_error)?;
        let rom = BootRom {
            core,
            entries: read_function_table(memory)?,
        };
        let mut queue = Queue {
            rom,
            queued: 0,
            done: 0,
            entries: [0; PLACES as usize],
            timeouts: [0; PLACES as usize],
            programs: 0,
            slot_free_at: [0; SLOTS as usize],
            places: [[0, 0, 0, 0, 0, UNUSED]; PLACES as usize],
            running: false,
        };
        let mut saved = [0; CLOBBERED.len()];
        for (value, &number) in saved.iter_mut().zip(&CLOBBERED) {
            *value = queue
                .rom
                .core
                .read_register(memory, number)
                .map_err(core_error)?;
        }
        let mut session = Session { queue, saved };
        let (queue, saved) = (&mut session.queue, &session.saved);
        // The first two requests go into the mailbox with the loop, before it runs.
        let none = [0; 4];
        let timeout = CALL_TIMEOUT_MICROS;
        let started = queue
            .push(memory, Function::ConnectInternalFlash, none, &[], timeout)
            .and_then(|_| queue.push(memory, Function::FlashExitXip, none, &[], timeout))
            .and_then(|_| queue.start(memory, saved));
        match started {
            Ok(()) => Ok(session),
            Err(error) => {
                let closed = session.close(memory, Err(error));
                Err(closed.err().unwrap_or(error))
            }
        }
    }

    /// Enter XIP again (also after a failure, `worked`), end the loop and put the
    /// registers back: r4, PC and xPSR after a loop that ended at its BKPT (it put the
    /// others back itself), all of them otherwise.
    fn close<M: Memory>(self, memory: &mut M, mut worked: Result<(), Error>) -> Result<(), Error> {
        let Session { mut queue, saved } = self;
        // XIP back even after a failed erase or program: the program runs from it.
        let leave = [Function::FlashFlushCache, Function::FlashEnterCmdXip];
        let ended = worked.and_then(|_| {
            for function in leave {
                queue.push(memory, function, [0; 4], &[], CALL_TIMEOUT_MICROS)?;
            }
            queue.end(memory)
        });
        let put_back_by_loop = ended.is_ok();
        if let Err(error) = ended {
            worked = Err(error);
            // The loop stopped short (or never ran): let it finish what it has (a flash
            // operation in flight), halt it, and XIP back by direct calls.
            let _ = queue.wait_idle(memory);
            let rom = &mut queue.rom;
            let halted = rom.core.halt(memory).map_err(core_error);
            memory.write_bytes(RETURN_BKPT, &THUMB_BKPT.to_le_bytes())?;
            for function in leave {
                let done =
                    halted.and_then(|_| rom.call(memory, function, [0; 4], CALL_TIMEOUT_MICROS));
                worked = worked.and(done.map(|_| ()));
            }
        }
        // Interrupts unmasked again, while halted (ARMv6-M C1.6.3).
        let unmasked = memory.store(control(true, false)).map_err(Error::Adi);
        let core = &mut queue.rom.core;
        let restored = CLOBBERED
            .iter()
            .zip(saved)
            .filter(|(number, _)| !(put_back_by_loop && PUT_BACK_BY_LOOP.contains(number)))
            .try_for_each(|(&number, value)| {
                core.write_register(memory, number, value)
                    .map_err(core_error)
            });
        worked.and(unmasked).and(restored)
    }
}

/// The ROM calls queued to the loop on the core: `queued` requests written, `done` of
/// them seen done (read from the core only when a place or slot must be reused); the
/// function and timeout of those that may be outstanding, by mailbox place; program
/// requests queued, and for each data slot the count of requests that must be done
/// before it is free (its last user and those before it); the words each place holds
/// (written, or for `start` to write), so that a request writes only those that differ.
struct Queue {
    rom: BootRom,
    queued: u32,
    done: u32,
    entries: [u32; PLACES as usize],
    timeouts: [u64; PLACES as usize],
    programs: u32,
    slot_free_at: [u32; SLOTS as usize],
    places: [[u32; REQUEST_WORDS]; PLACES as usize],
    running: bool,
}

impl Queue {
    /// Write the loop and the mailbox (`done` 0, the registers the loop puts back at its
    /// end from `saved`, the requests queued so far, the other places unused) in one run,
    /// and run the loop with interrupts masked.
    fn start<M: Memory>(
        &mut self,
        memory: &mut M,
        saved: &[u32; CLOBBERED.len()],
    ) -> Result<(), Error> {
        const CODE_WORDS: usize = LOOP_CODE.len() / 2;
        const PLACES_AT: usize = CODE_WORDS + ((REQUESTS - MAILBOX) / 4) as usize;
        const WORDS: usize = PLACES_AT + REQUEST_WORDS * PLACES as usize;
        let mut words = [0u32; WORDS];
        for (word, halves) in words.iter_mut().zip(LOOP_CODE.chunks_exact(2)) {
            *word = u32::from(halves[0]) | u32::from(halves[1]) << 16;
        }
        words[CODE_WORDS] = 0; // done
        for (word, number) in words[CODE_WORDS + 1..].iter_mut().zip(PUT_BACK_BY_LOOP) {
            let index = CLOBBERED.iter().position(|&n| n == number).unwrap_or(0);
            *word = saved[index];
        }
        let places = words[PLACES_AT..].chunks_exact_mut(REQUEST_WORDS);
        for (place, held) in places.zip(&self.places) {
            place.copy_from_slice(held);
        }
        memory.write_words(LOOP, &words)?;
        self.running = true;
        for (number, value) in [
            (R4, MAILBOX),
            (SP, STACK_TOP),
            (PC, LOOP),
            (XPSR, XPSR_THUMB),
        ] {
            self.rom
                .core
                .write_register(memory, number, value)
                .map_err(core_error)?;
        }
        // Interrupts masked while halted, then run (ARMv6-M C1.6.3).
        memory.store(control(true, true))?;
        memory.store(control(false, true))?;
        Ok(())
    }

    /// Queue `function` (its entry, or 0 to end the loop) with `arguments`; `data` (if
    /// any) goes into the next data slot first, whose address becomes r1. Waits until the
    /// request last in this mailbox place is done, and the slot's last user.
    fn push<M: Memory>(
        &mut self,
        memory: &mut M,
        function: Function,
        mut arguments: [u32; 4],
        data: &[u8],
        timeout_micros: u64,
    ) -> Result<(), Error> {
        let entry = self.entry(function) | 1;
        self.request(memory, entry, &mut arguments, data, timeout_micros)
    }

    fn request<M: Memory>(
        &mut self,
        memory: &mut M,
        entry: u32,
        arguments: &mut [u32; 4],
        data: &[u8],
        timeout_micros: u64,
    ) -> Result<(), Error> {
        let place = (self.queued % PLACES) as usize;
        self.wait_done(memory, self.queued.saturating_sub(PLACES - 1))?;
        if !data.is_empty() {
            let slot = (self.programs % SLOTS) as usize;
            self.wait_done(memory, self.slot_free_at[slot])?;
            let address = DATA + slot as u32 * SLOT_SIZE;
            write_slot(memory, address, data)?;
            arguments[1] = address;
            self.programs += 1;
            self.slot_free_at[slot] = self.queued + 1;
        }
        // The request's words from the first that differs from what the place holds,
        // its sequence word (always new) last: one run of word writes.
        let [r0, r1, r2, r3] = *arguments;
        let words = [entry, r3, r2, r1, r0, self.queued];
        let held = &mut self.places[place];
        let first = (0..REQUEST_WORDS)
            .find(|&index| held[index] != words[index])
            .unwrap_or(REQUEST_WORDS - 1);
        *held = words;
        if self.running {
            let request = REQUESTS + place as u32 * REQUEST_STRIDE;
            memory.write_words(request + 4 * first as u32, &words[first..])?;
        }
        self.entries[place] = entry;
        self.timeouts[place] = timeout_micros;
        self.queued += 1;
        Ok(())
    }

    /// Wait until the core has done `count` requests; a request not done within its
    /// timeout is an error (the caller halts the core), and so is a core that halted
    /// before (a breakpoint or fault in the ROM function).
    fn wait_done<M: Memory>(&mut self, memory: &mut M, count: u32) -> Result<(), Error> {
        while self.done < count {
            let place = (self.done % PLACES) as usize;
            let entry = self.entries[place];
            let done = self.done;
            let timeout = Error::Timeout { address: entry };
            let now = poll_memory(memory, self.timeouts[place], timeout, |memory| {
                let now = memory.read_word(DONE)?;
                if now != done {
                    return Ok(Some(Ok(now)));
                }
                if !memory.load::<Dhcsr>()?.s_halt() {
                    return Ok(None);
                }
                // Halted: at the loop's end, maybe after requests done since the read
                // above, or in a function.
                let now = memory.read_word(DONE)?;
                Ok(Some(if now != done { Ok(now) } else { Err(()) }))
            })?;
            self.done = match now {
                Ok(now) => now,
                Err(()) => {
                    let pc = self
                        .rom
                        .core
                        .read_register(memory, PC)
                        .map_err(core_error)?;
                    return Err(Error::Family {
                        message: "the boot ROM's flash function stopped before returning \
                                  (core at this pc)",
                        address: Some(pc),
                    });
                }
            };
        }
        Ok(())
    }

    /// Wait until every request queued is done (the flash is idle, XIP as they left it).
    fn wait_idle<M: Memory>(&mut self, memory: &mut M) -> Result<(), Error> {
        self.wait_done(memory, self.queued)
    }

    /// End the loop: it halts at its BKPT once every request is done.
    fn end<M: Memory>(&mut self, memory: &mut M) -> Result<(), Error> {
        self.request(memory, 0, &mut [0; 4], &[], CALL_TIMEOUT_MICROS)?;
        self.wait_done(memory, self.queued - 1)?;
        let timeout = Error::Timeout { address: LOOP_END };
        poll_memory(memory, CALL_TIMEOUT_MICROS, timeout, |memory| {
            Ok(memory.load::<Dhcsr>()?.s_halt().then_some(()))
        })?;
        let pc = self
            .rom
            .core
            .read_register(memory, PC)
            .map_err(core_error)?;
        if pc != LOOP_END {
            return Err(Error::Family {
                message: "the RP2040 flash loop stopped away from its end (core at this pc)",
                address: Some(pc),
            });
        }
        Ok(())
    }

    fn entry(&self, function: Function) -> u32 {
        let index = Function::ALL
            .iter()
            .position(|&f| f == function)
            .unwrap_or(0);
        self.rom.entries[index]
    }
}

/// `data` (whole pages, at most a slot) into the slot at `address` in one run of word
/// writes: TAR once (the slot is within one 1 KiB auto-increment block, ADIv5.2 C2.2.2).
fn write_slot<M: Memory>(memory: &mut M, address: u32, data: &[u8]) -> Result<(), Error> {
    let mut words = [0u32; (SLOT_SIZE / 4) as usize];
    let words = &mut words[..data.len() / 4];
    for (word, bytes) in words.iter_mut().zip(data.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    Ok(memory.write_words(address, words)?)
}

/// The address of the ROM's function table: the low half of the word at 0x14 (one
/// word read; the data table's pointer is the high half).
fn function_table<M: Memory>(memory: &mut M) -> Result<u32, Error> {
    Ok(memory.read_word(FUNCTION_TABLE_POINTER)? & 0xFFFF)
}

/// The ROM's function table: its address and its (code, address) entries as read.
fn function_entries<M: Memory>(memory: &mut M) -> Result<(u32, [u8; 4 * TABLE_ENTRIES]), Error> {
    let table = function_table(memory)?;
    let mut bytes = [0u8; 4 * TABLE_ENTRIES];
    memory.read_bytes(table, &mut bytes)?;
    Ok((table, bytes))
}

/// The address of the function `code` in the table's entries, up to the ending code 0.
fn find_entry(entries: &[u8], code: u16) -> Option<u32> {
    entries
        .chunks_exact(4)
        .map(|pair| {
            let found = u16::from_le_bytes([pair[0], pair[1]]);
            (found, u16::from_le_bytes([pair[2], pair[3]]))
        })
        .take_while(|&(found, _)| found != 0)
        .find(|&(found, _)| found == code)
        .map(|(_, address)| u32::from(address))
}

/// The six functions' addresses, from the ROM's function table, read `TABLE_CHUNK`
/// entries at a time until the six are found or the table ends (a load's session
/// opening reads the part it needs, not all 256 bytes).
fn read_function_table<M: Memory>(memory: &mut M) -> Result<[u32; Function::ALL.len()], Error> {
    let table = function_table(memory)?;
    let mut bytes = [0u8; 4 * TABLE_ENTRIES];
    let mut read = 0;
    let found = loop {
        let end = read + 4 * TABLE_CHUNK;
        memory.read_bytes(table + read as u32, &mut bytes[read..end])?;
        read = end;
        let found = Function::ALL.map(|function| find_entry(&bytes[..read], function.code()));
        let ended = bytes[..read]
            .chunks_exact(4)
            .any(|pair| pair[..2] == [0, 0]);
        if ended || read == bytes.len() || found.iter().all(Option::is_some) {
            break found;
        }
    };
    let mut entries = [0; Function::ALL.len()];
    for (entry, found) in entries.iter_mut().zip(found) {
        *entry = found.ok_or(Error::Family {
            message: "the RP2040 boot ROM lacks a flash function (not a B0-B2 ROM?)",
            address: Some(table),
        })?;
    }
    Ok(entries)
}

impl BootRom {
    /// Run `function` with AAPCS arguments r0-r3 until it returns to the BKPT in SRAM
    /// (ARMv6-M C1.4: BKPT halts a core with debug enabled); its r0.
    fn call<M: Memory>(
        &mut self,
        memory: &mut M,
        function: Function,
        arguments: [u32; 4],
        timeout_micros: u64,
    ) -> Result<u32, Error> {
        let index = Function::ALL
            .iter()
            .position(|&f| f == function)
            .unwrap_or(0);
        let entry = self.entries[index];
        let core = &mut self.core;
        let mut set = |number: usize, value: u32| {
            core.write_register(memory, number, value)
                .map_err(core_error)
        };
        for (number, &value) in arguments.iter().enumerate() {
            set(number, value)?;
        }
        set(SP, STACK_TOP)?;
        set(LR, RETURN_BKPT | 1)?;
        set(PC, entry & !1)?;
        set(XPSR, XPSR_THUMB)?;
        // Interrupts masked while halted, then run (ARMv6-M C1.6.3).
        memory.store(control(true, true))?;
        memory.store(control(false, true))?;
        let timeout = Error::Timeout { address: entry };
        let returned = poll_memory(memory, timeout_micros, timeout, |memory| {
            Ok(memory.load::<Dhcsr>()?.s_halt().then_some(()))
        });
        if returned == Err(timeout) {
            self.core.halt(memory).map_err(core_error)?;
        }
        returned?;
        let pc = self.core.read_register(memory, PC).map_err(core_error)?;
        if pc != RETURN_BKPT {
            return Err(Error::Family {
                message: "the boot ROM's flash function stopped before returning (core at this pc)",
                address: Some(pc),
            });
        }
        self.core.read_register(memory, 0).map_err(core_error)
    }
}

fn control(halt: bool, mask_interrupts: bool) -> Dhcsr {
    let mut dhcsr = Dhcsr::debug();
    dhcsr.set_c_halt(halt);
    dhcsr.set_c_maskints(mask_interrupts);
    dhcsr
}

fn core_error(error: cortexm::Error) -> Error {
    match error {
        cortexm::Error::Adi(error) => Error::Adi(error),
        _ => Error::Family {
            message: "the RP2040 core did not halt or answer for a boot ROM flash call",
            address: None,
        },
    }
}

#[cfg(test)]
#[path = "rp2040_tests.rs"]
mod tests;
