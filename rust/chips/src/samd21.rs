//! SAMD21 (SAM D21/DA1 datasheet DS40001882, "DS"): identification from the DSU, memory
//! map, flash through the NVMCTRL (rows of four 64-byte pages), the chip erase through
//! the DSU, the security bit, and the user row's BOOTPROT and LOCK fields.

use crate::memory_map::{Flash, MemoryMap, Region};
use crate::{Command, Error, Family, Identity, Part, Protection};
use adi::{Memory, poll_memory};
use core::fmt::Write;

/// What `lock_bootprot` takes.
const LOCK_BOOTPROT_ARGUMENTS: &str = "[0-6] (0: 32 KB .. 6: 512 bytes)";

/// JEP106 Atmel (bank 1, 0x1F): the designer of the DSU's ROM table, the top one.
const ATMEL: u16 = 0x01F;
/// CPUID.PARTNO of the Cortex-M0+.
const CORTEX_M0_PLUS: u32 = 0xC60;

/// The DSU's registers as the debugger sees them, its external range at +0x100 (DS 13.11:
/// the only range a protected device answers): CTRL, STATUSA, STATUSB bytes, DID. The
/// three are byte registers, accessed a byte at a time (a word write to CTRL would write
/// STATUSA too), so their bits are masks rather than `adi::register!` words.
const DSU_CTRL: u32 = 0x4100_2100;
const DSU_STATUSA: u32 = 0x4100_2101;
const DSU_STATUSB: u32 = 0x4100_2102;
const DSU_DID: u32 = 0x4100_2118;
const CTRL_CE: u8 = 1 << 4;
const STATUSA_DONE: u8 = 1 << 0;
const STATUSA_FAIL: u8 = 1 << 3;
const STATUSB_PROT: u8 = 1 << 0;

/// NVMCTRL (DS 22.8): PARAM (the flash's size) and ADDR (in 16-bit words); CTRLA, CTRLB,
/// INTFLAG and STATUS below.
const NVMCTRL_PARAM: u32 = 0x4100_4008;
const NVMCTRL_ADDR: u32 = 0x4100_401C;
/// CTRLA.CMD commands (DS 22.8.1 table 22-1): erase row, erase auxiliary row, write
/// auxiliary page, page buffer clear, set security bit.
const CMD_ER: u8 = 0x02;
const CMD_EAR: u8 = 0x05;
const CMD_WAP: u8 = 0x06;
const CMD_PBC: u8 = 0x44;
const CMD_SSB: u8 = 0x45;
/// CTRLA.CMDEX: the key that makes a command run.
const CMDEX_KEY: u8 = 0xA5;

adi::register! {
    /// NVMCTRL CTRLA (DS 22.8.1): a command and its key.
    memory NvmCtrla @ 0x4100_4000 {
        pub u8, cmd, set_cmd: 6, 0;
        pub u8, cmdex, set_cmdex: 15, 8;
    }
}

impl NvmCtrla {
    fn execute(command: u8) -> Self {
        let mut control = Self::default();
        control.set_cmd(command);
        control.set_cmdex(CMDEX_KEY);
        control
    }
}

adi::register! {
    /// NVMCTRL CTRLB (DS 22.8.2): MANW, manual write (a page waits for WP).
    memory NvmCtrlb @ 0x4100_4004 {
        pub manw, set_manw: 7;
    }
}

adi::register! {
    /// NVMCTRL INTFLAG (DS 22.8.5): READY for a command.
    memory NvmIntflag @ 0x4100_4014 {
        pub ready, _: 0;
    }
}

adi::register! {
    /// NVMCTRL STATUS (DS 22.8.6): the error flags, written one to clear.
    memory NvmStatus @ 0x4100_4018 {
        pub proge, set_proge: 2;
        pub locke, set_locke: 3;
        pub nvme, set_nvme: 4;
    }
}

impl NvmStatus {
    /// PROGE, LOCKE and NVME as read, nothing else.
    fn errors(self) -> Self {
        let mut errors = Self::default();
        errors.set_proge(self.proge());
        errors.set_locke(self.locke());
        errors.set_nvme(self.nvme());
        errors
    }
}

const FLASH_BASE: u32 = 0x0000_0000;
const RAM_BASE: u32 = 0x2000_0000;
const PAGE_SIZE: u32 = 64;
const ROW_SIZE: u32 = 4 * PAGE_SIZE;
/// The NVM user row (DS 22.6.5) and the serial number words (DS 10.3.3).
const USER_ROW: u32 = 0x0080_4000;
const SERIAL_NUMBER: [u32; 4] = [0x0080_A00C, 0x0080_A040, 0x0080_A044, 0x0080_A048];
/// User row word 0 BOOTPROT [2:0] (7: none), word 1 LOCK [31:16] (1: unlocked).
const BOOTPROT_MASK: u32 = 0x7;
const BOOTPROT_NONE: u32 = 0x7;
const LOCK_MASK: u32 = 0xFFFF_0000;

/// Row erase 6 ms, page write 2.5 ms (DS "NVM characteristics"), chip erase about
/// 240 ms (OpenOCD); leave room.
const NVM_TIMEOUT_MICROS: u64 = 100_000;
const CHIP_ERASE_TIMEOUT_MICROS: u64 = 8_000_000;

/// DID fields (DS 13.13.11): PROCESSOR [31:28] = 1 (Cortex-M0+), FAMILY [27:23] = 0 (D),
/// SERIES [21:16] = 1 (21), DEVSEL [7:0].
const DID_FAMILY_MASK: u32 = 0xFFBF_0000;
const DID_SAMD21: u32 = 0x1001_0000;

/// DEVSEL (DS 10.3.1 "Device Selection"): name and RAM size in KB; flash comes from
/// NVMCTRL PARAM.
const DEVICES: [(u32, &str, u32); 12] = [
    (0x00, "ATSAMD21J18A", 32),
    (0x01, "ATSAMD21J17A", 16),
    (0x02, "ATSAMD21J16A", 8),
    (0x03, "ATSAMD21J15A", 4),
    (0x05, "ATSAMD21G18A", 32),
    (0x06, "ATSAMD21G17A", 16),
    (0x07, "ATSAMD21G16A", 8),
    (0x08, "ATSAMD21G15A", 4),
    (0x0A, "ATSAMD21E18A", 32),
    (0x0B, "ATSAMD21E17A", 16),
    (0x0C, "ATSAMD21E16A", 8),
    (0x0D, "ATSAMD21E15A", 4),
];

/// What the scan reports for a SAMD21 whose security bit is set: only the DSU answers,
/// and its chip erase (`monitor recover` before an attach, `erase_mass` after) lifts it.
pub const PROTECTED: Error = Error::Protected {
    what: "SAMD21 security bit",
    command: "recover",
};

/// Is this a SAMD21 (DSU DID in the external range) with its security bit set
/// (STATUSB.PROT)? Both read in the range a secured device still answers.
pub fn secured(memory: &mut dyn Memory) -> Result<bool, Error> {
    if memory.read_word(DSU_DID)? & DID_FAMILY_MASK != DID_SAMD21 {
        return Ok(false);
    }
    let mut status = [0];
    memory.read_bytes(DSU_STATUSB, &mut status)?;
    Ok(status[0] & STATUSB_PROT != 0)
}

/// The DSU chip erase on a SAMD21 that may not be attached (a secured one): flash and RAM
/// erased, the security bit cleared from the next reset (nRST: the core is out of reach).
pub fn recover(mut memory: &mut dyn Memory) -> Result<(), Error> {
    if memory.read_word(DSU_DID)? & DID_FAMILY_MASK != DID_SAMD21 {
        return Err(Error::Family {
            message: "no SAMD21 DSU here: nothing to recover",
            address: None,
        });
    }
    chip_erase(&mut memory)
}

pub struct Samd21;

pub static SAMD21: Samd21 = Samd21;

impl Family for Samd21 {
    /// A Cortex-M0+ under Atmel's DSU ROM table whose DID names a SAMD21. DID is read in
    /// the DSU's external range, which answers even on a secured device.
    fn identify(
        &'static self,
        memory: &mut dyn Memory,
        identity: &Identity,
    ) -> Result<Option<Part>, Error> {
        if identity.core_part() != CORTEX_M0_PLUS || identity.rom_designer != ATMEL {
            return Ok(None);
        }
        let did = memory.read_word(DSU_DID)?;
        if did & DID_FAMILY_MASK != DID_SAMD21 {
            return Ok(None);
        }
        let Some(&(_, name, ram_kb)) = DEVICES.iter().find(|(devsel, ..)| *devsel == did & 0xFF)
        else {
            return Ok(None);
        };
        // PARAM (DS 22.8.4): NVMP pages of 8 << PSZ bytes. A secured part refuses it:
        // the size its name says then.
        let flash_size = match crate::read_word_if_readable(memory, NVMCTRL_PARAM)? {
            Some(param) => (param & 0xFFFF) * (8 << ((param >> 16) & 0x7)),
            None => ram_kb * 8 * 1024,
        };
        Ok(Some(Part {
            family: self,
            name,
            memory_map: MemoryMap::new()
                .with(Region::flash(
                    FLASH_BASE,
                    flash_size,
                    Flash::new(ROW_SIZE, PAGE_SIZE),
                ))
                .with(Region::ram(RAM_BASE, ram_kb * 1024)),
            // The DSU chip erase also clears the RAM and the security bit: not a plain
            // faster erase (erase_mass does it on purpose).
            mass_erase: None,
            device: did,
            variant: 0,
        }))
    }

    /// ER per row (DS 22.6.4.3).
    fn erase(
        &self,
        _: &Part,
        _: &mut crate::Session,
        mut memory: &mut dyn Memory,
        region: &Region,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        let end = u64::from(address) + u64::from(length);
        let mut row = address - (address - region.start) % ROW_SIZE;
        while u64::from(row) < end {
            command(&mut memory, CMD_ER, row)?;
            row += ROW_SIZE;
        }
        Ok(())
    }

    /// The page buffer in automatic mode (CTRLB.MANW = 0, DS 22.6.4.2): the write that
    /// fills a page starts its WP, and the next page's writes stall while it runs, so the
    /// pages go back to back without a READY poll between them, from one call to the next
    /// too (`done` waits for the last). Every page is written whole (16 words), so whatever
    /// the page buffer held is overwritten. Erased pages are skipped.
    fn program(
        &self,
        _: &Part,
        _: &mut crate::Session,
        mut memory: &mut dyn Memory,
        _: &Region,
        address: u32,
        data: &[u8],
    ) -> Result<(), Error> {
        if !address.is_multiple_of(PAGE_SIZE) {
            return Err(Error::Adi(adi::Error::Unaligned { address }));
        }
        let mut control: NvmCtrlb = (&mut memory).load()?;
        if control.manw() {
            wait_ready(&mut memory, address)?;
            control.set_manw(false);
            (&mut memory).store(control)?;
        }
        program_pages(&mut memory, address, data)
    }

    /// The last page written: READY, and its errors (NVME). A secured device (after
    /// `set_security_bit` or `erase_mass`) wrote nothing and answers only in the DSU.
    fn done(&self, part: &Part, mut memory: &mut dyn Memory) -> Result<(), Error> {
        if self.protection(part, memory)? != Protection::None {
            return Ok(());
        }
        wait_ready(&mut memory, FLASH_BASE)?;
        check_status(&mut memory, FLASH_BASE)
    }

    fn mass_erase(
        &self,
        _: &Part,
        _: &mut crate::Session,
        mut memory: &mut dyn Memory,
    ) -> Result<(), Error> {
        chip_erase(&mut memory)
    }

    /// The security bit (DSU STATUSB.PROT): only the DSU's chip erase lifts it.
    fn protection(&self, _: &Part, memory: &mut dyn Memory) -> Result<Protection, Error> {
        let mut status = [0];
        memory.read_bytes(DSU_STATUSB, &mut status)?;
        Ok(if status[0] & STATUSB_PROT != 0 {
            Protection::ReadProtected {
                what: "SAMD21 security bit",
                command: "erase_mass",
            }
        } else {
            Protection::None
        })
    }

    fn recover(&self, _: &Part, mut memory: &mut dyn Memory) -> Result<(), Error> {
        chip_erase(&mut memory)
    }

    fn commands(&self) -> &'static [Command] {
        &[
            Command {
                name: "erase_mass",

                arguments: "",
                run: erase_mass_command,
                help: "Erase the flash and RAM and clear the security bit (DSU chip erase); reset afterwards",
            },
            Command {
                name: "lock_flash",

                arguments: "",
                run: lock_flash_command,
                help: "Lock every flash region (user row LOCK bits; from the next reset)",
            },
            Command {
                name: "unlock_flash",

                arguments: "",
                run: unlock_flash_command,
                help: "Unlock every flash region (user row LOCK bits; from the next reset)",
            },
            Command {
                name: "lock_bootprot",

                arguments: LOCK_BOOTPROT_ARGUMENTS,
                run: lock_bootprot_command,
                help: "Protect the boot loader area: 'lock_bootprot [0-6]' (user row BOOTPROT; 0 is 32 KB)",
            },
            Command {
                name: "unlock_bootprot",

                arguments: "",
                run: unlock_bootprot_command,
                help: "Remove the boot loader protection (user row BOOTPROT 7)",
            },
            Command {
                name: "user_row",

                arguments: "",
                run: user_row_command,
                help: "Show the user row's first two words",
            },
            Command {
                name: "serial",

                arguments: "",
                run: serial_command,
                help: "Show the 128-bit serial number",
            },
            Command {
                name: "set_security_bit",

                arguments: "",
                run: set_security_bit_command,
                help: "Set the security bit (from the next reset only erase_mass reaches the chip)",
            },
        ]
    }
}

/// Run an NVMCTRL command on `address` and wait for READY; errors in STATUS are cleared
/// and reported (LOCKE: a locked region or the BOOTPROT area).
fn command<M: Memory>(memory: &mut M, command: u8, address: u32) -> Result<(), Error> {
    wait_ready(memory, address)?;
    memory.write_word(NVMCTRL_ADDR, address >> 1)?;
    memory.store(NvmCtrla::execute(command))?;
    wait_ready(memory, address)?;
    check_status(memory, address)
}

/// STATUS's error flags: cleared (write one) and reported.
fn check_status<M: Memory>(memory: &mut M, address: u32) -> Result<(), Error> {
    let status = memory.load::<NvmStatus>()?.errors();
    if status == NvmStatus::default() {
        return Ok(());
    }
    memory.store(status)?;
    Err(if status.locke() {
        Error::WriteProtected { address }
    } else {
        Error::Family {
            message: "NVMCTRL refused the command (STATUS.PROGE or NVME)",
            address: Some(address),
        }
    })
}

fn wait_ready<M: Memory>(memory: &mut M, address: u32) -> Result<(), Error> {
    poll_memory(
        memory,
        NVM_TIMEOUT_MICROS,
        Error::Timeout { address },
        |memory| Ok(memory.load::<NvmIntflag>()?.ready().then_some(())),
    )
}

/// Pages that are not erased, in runs inside one 1 KiB block (so never across a 16 KB
/// lock region), each run written whole: 32-bit writes only (the page buffer takes 16 or
/// 32 bits, DS 22.6.4.2), a short last page padded with the erased value. A refused page
/// (LOCKE, PROGE) shows in STATUS at once: checked after each run.
fn program_pages<M: Memory>(memory: &mut M, address: u32, data: &[u8]) -> Result<(), Error> {
    const BLOCK: u32 = 1024;
    const WORDS_PER_PAGE: usize = (PAGE_SIZE / 4) as usize;
    let mut words = [u32::MAX; (BLOCK / 4) as usize];
    let mut run: Option<(u32, usize)> = None;
    for (index, page) in data.chunks(PAGE_SIZE as usize).enumerate() {
        let at = address + index as u32 * PAGE_SIZE;
        let erased = page.iter().all(|&byte| byte == 0xFF);
        if let Some((start, count)) = run
            && (erased || at.is_multiple_of(BLOCK))
        {
            write_run(memory, start, &words[..count])?;
            run = None;
        }
        if erased {
            continue;
        }
        let (start, count) = run.unwrap_or((at, 0));
        let slots = &mut words[count..count + WORDS_PER_PAGE];
        slots.fill(u32::MAX);
        for (word, bytes) in slots.iter_mut().zip(page.chunks(4)) {
            let mut padded = [0xFF; 4];
            padded[..bytes.len()].copy_from_slice(bytes);
            *word = u32::from_le_bytes(padded);
        }
        run = Some((start, count + WORDS_PER_PAGE));
    }
    match run {
        Some((start, count)) => write_run(memory, start, &words[..count]),
        None => Ok(()),
    }
}

fn write_run<M: Memory>(memory: &mut M, address: u32, words: &[u32]) -> Result<(), Error> {
    memory.write_words(address, words)?;
    check_status(memory, address)
}

/// The DSU chip erase (DS 13.7): CTRL.CE, then STATUSA.DONE (or FAIL).
fn chip_erase<M: Memory>(memory: &mut M) -> Result<(), Error> {
    memory.write_bytes(DSU_STATUSA, &[0xFF])?;
    memory.write_bytes(DSU_CTRL, &[CTRL_CE])?;
    let status = poll_memory(
        memory,
        CHIP_ERASE_TIMEOUT_MICROS,
        Error::Timeout {
            address: FLASH_BASE,
        },
        |memory| {
            let mut status = [0];
            memory.read_bytes(DSU_STATUSA, &mut status)?;
            Ok((status[0] & (STATUSA_DONE | STATUSA_FAIL) != 0).then_some(status[0]))
        },
    )?;
    if status & STATUSA_FAIL != 0 {
        return Err(Error::Family {
            message: "the DSU chip erase failed (STATUSA.FAIL)",
            address: None,
        });
    }
    Ok(())
}

/// Rewrite the user row's first two words: EAR, then its first page with `update` applied
/// (DS 22.6.5; the rest of the page is kept).
fn update_user_row<M: Memory>(memory: &mut M, update: impl Fn(&mut [u32; 2])) -> Result<(), Error> {
    let mut page = [0u32; (PAGE_SIZE / 4) as usize];
    memory.read_words(USER_ROW, &mut page)?;
    let mut fields = [page[0], page[1]];
    update(&mut fields);
    page[0] = fields[0];
    page[1] = fields[1];
    let mut control: NvmCtrlb = memory.load()?;
    control.set_manw(true);
    memory.store(control)?;
    command(memory, CMD_EAR, USER_ROW)?;
    command(memory, CMD_PBC, USER_ROW)?;
    memory.write_words(USER_ROW, &page)?;
    command(memory, CMD_WAP, USER_ROW)
}

fn erase_mass_command(
    _: &Part,
    mut memory: &mut dyn Memory,
    _: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    chip_erase(&mut memory)?;
    let _ = writeln!(out, "chip erased (flash and RAM); reset to apply");
    Ok(())
}

fn lock_flash_command(
    _: &Part,
    mut memory: &mut dyn Memory,
    _: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    update_user_row(&mut memory, |words| words[1] &= !LOCK_MASK)?;
    let _ = writeln!(out, "flash regions locked from the next reset");
    Ok(())
}

fn unlock_flash_command(
    _: &Part,
    mut memory: &mut dyn Memory,
    _: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    update_user_row(&mut memory, |words| words[1] |= LOCK_MASK)?;
    let _ = writeln!(out, "flash regions unlocked from the next reset");
    Ok(())
}

fn lock_bootprot_command(
    _: &Part,
    mut memory: &mut dyn Memory,
    arguments: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let code = match arguments {
        "" => 0,
        text => match text.parse::<u32>() {
            Ok(code) if code < BOOTPROT_NONE => code,
            _ => {
                return Err(Error::Usage {
                    command: "lock_bootprot",
                    arguments: LOCK_BOOTPROT_ARGUMENTS,
                });
            }
        },
    };
    update_user_row(&mut memory, |words| {
        words[0] = (words[0] & !BOOTPROT_MASK) | code;
    })?;
    let bytes = (1u32 << (7 - code)) * ROW_SIZE;
    let _ = writeln!(
        out,
        "boot loader area of {bytes} bytes protected from the next reset"
    );
    Ok(())
}

fn unlock_bootprot_command(
    _: &Part,
    mut memory: &mut dyn Memory,
    _: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    update_user_row(&mut memory, |words| words[0] |= BOOTPROT_NONE)?;
    let _ = writeln!(out, "boot loader protection removed from the next reset");
    Ok(())
}

fn user_row_command(
    _: &Part,
    memory: &mut dyn Memory,
    _: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let mut words = [0; 2];
    memory.read_words(USER_ROW, &mut words)?;
    let _ = writeln!(
        out,
        "User row: 0x{:08X} 0x{:08X} (BOOTPROT {}, LOCK 0x{:04X})",
        words[0],
        words[1],
        words[0] & BOOTPROT_MASK,
        words[1] >> 16
    );
    Ok(())
}

fn serial_command(
    _: &Part,
    memory: &mut dyn Memory,
    _: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let _ = write!(out, "Serial number: 0x");
    for address in SERIAL_NUMBER {
        let _ = write!(out, "{:08X}", memory.read_word(address)?);
    }
    let _ = writeln!(out);
    Ok(())
}

fn set_security_bit_command(
    _: &Part,
    mut memory: &mut dyn Memory,
    _: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    command(&mut memory, CMD_SSB, FLASH_BASE)?;
    let _ = writeln!(
        out,
        "security bit set: from the next reset only 'monitor erase_mass' reaches the chip"
    );
    Ok(())
}

#[cfg(test)]
#[path = "samd21_tests.rs"]
mod tests;
