//! nRF52840 (nRF52840 Product Specification v1.7, "PS"): identification from the FICR,
//! memory map, and flash and UICR through the NVMC.
//!
//! APPROTECT (PS 4.4.1) closes the AHB-AP: the chip cannot be identified, only its CTRL-AP
//! answers. [`protected`] asks the CTRL-AP (the scan reports [`PROTECTED`], naming the
//! `recover` command) and [`recover`] erases flash and UICR through it (ERASEALL), which
//! lifts the protection; both work on the debug port's access ports ([`AccessPorts`]).

use crate::memory_map::{Flash, MemoryMap, Region};
use crate::{Command, Error, Family, Identity, Part};
use adi::{Clock, DebugPort, Memory, Transport, poll_memory};
use core::fmt::Write;

/// What `read` takes.
const READ_ARGUMENTS: &str = "deviceid|deviceaddr|deviceinfo";

/// JEP106 Nordic Semiconductor (bank 3, 0x44), the designer of the nRF52's ROM table.
const NORDIC: u16 = 0x244;
/// CPUID.PARTNO of the Cortex-M4.
const CORTEX_M4: u32 = 0xC24;

/// FICR (PS 4.4): CODEPAGESIZE, CODESIZE, DEVICEID, DEVICEADDR, INFO.PART, INFO.VARIANT,
/// INFO.RAM (KB).
const FICR_CODEPAGESIZE: u32 = 0x1000_0010;
const FICR_CODESIZE: u32 = 0x1000_0014;
const FICR_DEVICEID: u32 = 0x1000_0060;
const FICR_DEVICEADDR: u32 = 0x1000_00A4;
const FICR_INFO_PART: u32 = 0x1000_0100;
const FICR_INFO_VARIANT: u32 = 0x1000_0104;
const FICR_INFO_RAM: u32 = 0x1000_010C;
const PART_NRF52840: u32 = 0x0005_2840;

const FLASH_BASE: u32 = 0x0000_0000;
const UICR_BASE: u32 = 0x1000_1000;
const UICR_SIZE: u32 = 0x1000;
const RAM_BASE: u32 = 0x2000_0000;

/// NVMC registers (PS 4.3.9).
const NVMC_READY: u32 = 0x4001_E400;
const NVMC_CONFIG: u32 = 0x4001_E504;
const NVMC_ERASEPAGE: u32 = 0x4001_E508;
const NVMC_ERASEALL: u32 = 0x4001_E50C;
const NVMC_ERASEUICR: u32 = 0x4001_E514;
/// CONFIG.WEN: read only, write, erase.
const WEN_READ_ONLY: u32 = 0;
const WEN_WRITE: u32 = 1;
const WEN_ERASE: u32 = 2;

/// Page erase 85 ms, ERASEALL up to 340 ms (PS 4.3 electrical specification; OpenOCD's
/// nrf5 allows 340 ms): leave room.
const ERASE_TIMEOUT_MICROS: u64 = 1_000_000;
const WRITE_TIMEOUT_MICROS: u64 = 100_000;

/// The CTRL-AP (PS 4.5 "CTRL-AP"): its IDR, and RESET, ERASEALL, ERASEALLSTATUS,
/// APPROTECTSTATUS (0: protected).
pub const CTRL_AP_IDR_VALUE: u32 = 0x0288_0000;
const CTRL_AP_IDR: u8 = 0xFC;
const CTRL_AP_RESET: u8 = 0x00;
const CTRL_AP_ERASEALL: u8 = 0x04;
const CTRL_AP_ERASEALLSTATUS: u8 = 0x08;
const CTRL_AP_APPROTECTSTATUS: u8 = 0x0C;
/// The CTRL-AP is AP1; look that far (APs are numbered from 0 up, ADIv5.2 C1.2.1).
const LAST_ACCESS_PORT: u8 = 3;
/// OpenOCD's nrf52_recover waits 15 s, pyOCD too.
const RECOVER_TIMEOUT_MICROS: u64 = 15_000_000;

/// What the scan reports for an nRF52 under APPROTECT.
pub const PROTECTED: Error = Error::Protected {
    what: "nRF52 APPROTECT",
    command: "recover",
};

/// The debug port's access-port registers (the CTRL-AP is not memory).
pub trait AccessPorts {
    fn read_ap(&mut self, ap: u8, register: u8) -> Result<u32, adi::Error>;
    fn write_ap(&mut self, ap: u8, register: u8, value: u32) -> Result<(), adi::Error>;
    fn now_micros(&mut self) -> u64;
}

impl<T: Transport, C: Clock> AccessPorts for DebugPort<T, C> {
    fn read_ap(&mut self, ap: u8, register: u8) -> Result<u32, adi::Error> {
        DebugPort::read_ap(self, ap, register)
    }
    fn write_ap(&mut self, ap: u8, register: u8, value: u32) -> Result<(), adi::Error> {
        DebugPort::write_ap(self, ap, register, value)
    }
    fn now_micros(&mut self) -> u64 {
        DebugPort::now_micros(self)
    }
}

/// The CTRL-AP's number, if this debug port has one.
pub fn ctrl_ap(ports: &mut dyn AccessPorts) -> Result<Option<u8>, Error> {
    for ap in 0..=LAST_ACCESS_PORT {
        match ports.read_ap(ap, CTRL_AP_IDR)? {
            0 => break,
            CTRL_AP_IDR_VALUE => return Ok(Some(ap)),
            _ => {}
        }
    }
    Ok(None)
}

/// Is an nRF52 behind this debug port under APPROTECT (its CTRL-AP says so)?
pub fn protected(ports: &mut dyn AccessPorts) -> Result<bool, Error> {
    Ok(match ctrl_ap(ports)? {
        Some(ap) => ports.read_ap(ap, CTRL_AP_APPROTECTSTATUS)? & 1 == 0,
        None => false,
    })
}

/// Erase flash and UICR through the CTRL-AP and reset the chip: APPROTECT is lifted (PS
/// 4.4.1, OpenOCD's nrf52_recover). Every flash contents is lost.
pub fn recover(ports: &mut dyn AccessPorts) -> Result<(), Error> {
    let Some(ap) = ctrl_ap(ports)? else {
        return Err(Error::Family {
            message: "no nRF52 CTRL-AP on this debug port: nothing to recover",
            address: None,
        });
    };
    ports.write_ap(ap, CTRL_AP_ERASEALL, 0)?;
    ports.write_ap(ap, CTRL_AP_ERASEALL, 1)?;
    adi::deadline::poll(
        ports,
        |ports| ports.now_micros(),
        RECOVER_TIMEOUT_MICROS,
        Error::Timeout {
            address: FLASH_BASE,
        },
        |ports| Ok((ports.read_ap(ap, CTRL_AP_ERASEALLSTATUS)? == 0).then_some(())),
    )?;
    ports.write_ap(ap, CTRL_AP_RESET, 1)?;
    ports.write_ap(ap, CTRL_AP_RESET, 0)?;
    ports.write_ap(ap, CTRL_AP_ERASEALL, 0)?;
    Ok(())
}

pub struct Nrf52;

pub static NRF52: Nrf52 = Nrf52;

/// Flash and UICR erase by 4 KB page and program 32-bit words (PS 4.3).
const fn flash(page_size: u32) -> Flash {
    Flash::new(page_size, 4)
}

impl Family for Nrf52 {
    /// A Cortex-M4 under a Nordic ROM table whose FICR says nRF52840.
    fn identify(
        &'static self,
        memory: &mut dyn Memory,
        identity: &Identity,
    ) -> Result<Option<Part>, Error> {
        if identity.core_part() != CORTEX_M4 || identity.rom_designer != NORDIC {
            return Ok(None);
        }
        if memory.read_word(FICR_INFO_PART)? != PART_NRF52840 {
            return Ok(None);
        }
        let page_size = memory.read_word(FICR_CODEPAGESIZE)?;
        let flash_size = page_size * memory.read_word(FICR_CODESIZE)?;
        let ram_size = memory.read_word(FICR_INFO_RAM)? * 1024;
        Ok(Some(Part {
            family: self,
            name: "nRF52840",
            memory_map: MemoryMap::new()
                .with(Region::flash(FLASH_BASE, flash_size, flash(page_size)))
                .with(Region::flash(UICR_BASE, UICR_SIZE, flash(UICR_SIZE)))
                .with(Region::ram(RAM_BASE, ram_size)),
            // ERASEALL erases the UICR too: not a faster way to erase the flash alone.
            mass_erase: None,
            device: PART_NRF52840,
            variant: memory.read_word(FICR_INFO_VARIANT)?,
        }))
    }

    /// ERASEPAGE per page of the flash, ERASEUICR for the UICR (PS 4.3.2).
    fn erase(
        &self,
        _: &Part,
        _: &mut crate::Session,
        mut memory: &mut dyn Memory,
        region: &Region,
        address: u32,
        length: u32,
    ) -> Result<(), Error> {
        let page_size = region.as_flash().ok_or(Error::NoFlashDriver)?.block_size;
        configure(&mut memory, WEN_ERASE)?;
        let result = if region.start == UICR_BASE {
            memory
                .write_word(NVMC_ERASEUICR, 1)
                .map_err(Error::from)
                .and_then(|()| wait_ready(&mut memory, UICR_BASE, ERASE_TIMEOUT_MICROS))
        } else {
            erase_pages(&mut memory, region, address, length, page_size)
        };
        configure(&mut memory, WEN_READ_ONLY)?;
        result
    }

    /// Word writes with CONFIG.WEN = 1 (PS 4.3.1): the AHB-AP stalls while one is
    /// written, so they go back to back; erased words are skipped.
    fn program(
        &self,
        _: &Part,
        _: &mut crate::Session,
        mut memory: &mut dyn Memory,
        _: &Region,
        address: u32,
        data: &[u8],
    ) -> Result<(), Error> {
        if !address.is_multiple_of(4) || !data.len().is_multiple_of(4) {
            return Err(Error::Adi(adi::Error::Unaligned { address }));
        }
        configure(&mut memory, WEN_WRITE)?;
        let result = program_words(&mut memory, address, data);
        configure(&mut memory, WEN_READ_ONLY)?;
        result
    }

    fn mass_erase(
        &self,
        _: &Part,
        _: &mut crate::Session,
        mut memory: &mut dyn Memory,
    ) -> Result<(), Error> {
        erase_all(&mut memory)
    }

    fn commands(&self) -> &'static [Command] {
        &[
            Command {
                name: "erase_mass",

                arguments: "",
                run: erase_mass_command,
                help: "Erase the whole flash and the UICR (NVMC ERASEALL)",
            },
            Command {
                name: "read",

                arguments: READ_ARGUMENTS,
                run: read_command,
                help: "Read FICR values: 'read deviceid', 'read deviceaddr', 'read deviceinfo'",
            },
        ]
    }
}

/// CONFIG, then READY (PS 4.3: wait for READY after changing CONFIG).
fn configure<M: Memory>(memory: &mut M, mode: u32) -> Result<(), Error> {
    memory.write_word(NVMC_CONFIG, mode)?;
    wait_ready(memory, NVMC_CONFIG, WRITE_TIMEOUT_MICROS)
}

fn wait_ready<M: Memory>(memory: &mut M, address: u32, timeout: u64) -> Result<(), Error> {
    poll_memory(memory, timeout, Error::Timeout { address }, |memory| {
        Ok((memory.read_word(NVMC_READY)? & 1 != 0).then_some(()))
    })
}

fn erase_pages<M: Memory>(
    memory: &mut M,
    region: &Region,
    address: u32,
    length: u32,
    page_size: u32,
) -> Result<(), Error> {
    let end = u64::from(address) + u64::from(length);
    let mut page = address - (address - region.start) % page_size;
    while u64::from(page) < end {
        memory.write_word(NVMC_ERASEPAGE, page)?;
        wait_ready(memory, page, ERASE_TIMEOUT_MICROS)?;
        page += page_size;
    }
    Ok(())
}

fn program_words<M: Memory>(memory: &mut M, address: u32, data: &[u8]) -> Result<(), Error> {
    let mut words = [0u32; 256];
    let mut offset = 0;
    while offset < data.len() {
        // A run of words to write, up to the next erased one.
        let mut count = 0;
        while offset + 4 * count < data.len() && count < words.len() {
            let at = offset + 4 * count;
            let word = u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
            if word == u32::MAX {
                break;
            }
            words[count] = word;
            count += 1;
        }
        if count > 0 {
            let at = address + offset as u32;
            memory.write_words(at, &words[..count])?;
            wait_ready(memory, at, WRITE_TIMEOUT_MICROS)?;
            offset += 4 * count;
        } else {
            offset += 4;
        }
    }
    Ok(())
}

/// ERASEALL: flash and UICR (PS 4.3.9.5).
fn erase_all<M: Memory>(memory: &mut M) -> Result<(), Error> {
    configure(memory, WEN_ERASE)?;
    memory.write_word(NVMC_ERASEALL, 1)?;
    let result = wait_ready(memory, FLASH_BASE, ERASE_TIMEOUT_MICROS);
    configure(memory, WEN_READ_ONLY)?;
    result
}

fn erase_mass_command(
    _: &Part,
    mut memory: &mut dyn Memory,
    _: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    erase_all(&mut memory)?;
    let _ = writeln!(out, "flash and UICR erased");
    Ok(())
}

/// `read deviceid|deviceaddr|deviceinfo`: FICR values (Black Magic Probe's nRF51/52
/// `read` command, subcommands of its names).
fn read_command(
    part: &Part,
    memory: &mut dyn Memory,
    arguments: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let two = |memory: &mut dyn Memory, address: u32| -> Result<[u32; 2], Error> {
        let mut words = [0; 2];
        memory.read_words(address, &mut words)?;
        Ok(words)
    };
    match arguments {
        "deviceid" => {
            let [low, high] = two(memory, FICR_DEVICEID)?;
            let _ = writeln!(out, "Device ID: 0x{high:08X}{low:08X}");
        }
        "deviceaddr" => {
            let [low, high] = two(memory, FICR_DEVICEADDR)?;
            let _ = writeln!(out, "Device address: 0x{:04X}{low:08X}", high & 0xFFFF);
        }
        "deviceinfo" => {
            let variant = part.variant.to_be_bytes();
            let variant = core::str::from_utf8(&variant).unwrap_or("?");
            let ram = memory.read_word(FICR_INFO_RAM)?;
            let _ = writeln!(
                out,
                "Part: nRF{:X}, variant {variant}, RAM {ram} KB, flash {} KB",
                part.device,
                part.memory_map
                    .flash_at(FLASH_BASE)
                    .map_or(0, |region| region.length / 1024)
            );
        }
        _ => {
            return Err(Error::Usage {
                command: "read",
                arguments: READ_ARGUMENTS,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "nrf52_tests.rs"]
mod tests;
