//! A Cortex-M that no family knows: memory, registers and run control work; there is no
//! flash driver, and every flash operation says so.
//!
//! Its memory map is the ARMv7-M/ARMv6-M default map (ARMv7-M B3.1 table B3-1): the Code
//! region, where vendors put their flash, is given to GDB as flash, so `load` into it goes
//! through vFlashErase and fails with "no flash driver" instead of writing the array as
//! memory (which does nothing, or faults, on a real chip). The SRAM region and the rest of
//! the address space are RAM to GDB, so memory and peripherals stay reachable. A program
//! linked to run from RAM in the Code region (an M7's ITCM) cannot be loaded with `load`.

use crate::memory_map::Flash;
use crate::{Command, Error, Family, Identity, MemoryMap, Part, Protection, Region};
use adi::Memory;
use core::fmt::Write;

/// CPUID (ARMv7-M B3.2.3), and the part numbers of the ARMv8-M mainline cores with the
/// Security Extension option: Cortex-M23 0xD20, M33 0xD21, M35P 0xD31, M55 0xD22, M85 0xD23.
const CPUID: u32 = 0xE000_ED00;
const ARMV8M_PARTS: [u32; 5] = [0xD20, 0xD21, 0xD31, 0xD22, 0xD23];
/// DSCSR (ARMv8-M D1.2, present with the Security Extension): SBRSELEN 0, SBRSEL 1, CDS 16,
/// CDSKEY 17 (a write changes CDS only with CDSKEY 0: ours write it 1, CDS stays).
const DSCSR: u32 = 0xE000_EE08;
const DSCSR_SBRSEL_FIELDS: u32 = 0b11;
const DSCSR_CDSKEY: u32 = 1 << 17;
/// `security sbrsel` arguments and the SBRSELEN/SBRSEL they write.
const SBRSEL_CHOICES: [(&str, u32); 3] = [("current", 0b00), ("nonsecure", 0b01), ("secure", 0b11)];
/// DAUTHSTATUS (ARMv8-M D1.2): SID [5:4], 0b11 Secure invasive debug enabled, 0b10
/// implemented and disabled.
const DAUTHSTATUS: u32 = 0xE000_EFB8;
/// DHCSR.S_SDE (ARMv8-M C1.2): Secure debug is enabled.
const DHCSR: u32 = 0xE000_EDF0;
const DHCSR_S_SDE: u32 = 1 << 20;

pub struct Generic;

pub static GENERIC: Generic = Generic;

/// The Code region (0x0000_0000-0x1FFF_FFFF), the SRAM region (0x2000_0000-0x3FFF_FFFF)
/// and everything above (peripherals, external memory, the PPB).
const CODE_END: u32 = 0x2000_0000;
const SRAM_END: u32 = 0x4000_0000;
/// An erase unit for GDB's memory map; nothing is erased.
const NOMINAL_BLOCK: u32 = 0x400;

/// The generic part.
pub fn part() -> Part {
    Part {
        family: &GENERIC,
        name: "ARM Cortex-M",
        memory_map: MemoryMap::new()
            .with(Region::flash(0, CODE_END, Flash::new(NOMINAL_BLOCK, 4)))
            .with(Region::ram(CODE_END, SRAM_END - CODE_END))
            .with(Region::ram(SRAM_END, 0u32.wrapping_sub(SRAM_END))),
        mass_erase: None,
        device: 0,
        variant: 0,
    }
}

impl Family for Generic {
    fn identify(&'static self, _: &mut dyn Memory, _: &Identity) -> Result<Option<Part>, Error> {
        Ok(Some(part()))
    }

    fn erase(
        &self,
        _: &Part,
        _: &mut crate::Session,
        _: &mut dyn Memory,
        _: &Region,
        _: u32,
        _: u32,
    ) -> Result<(), Error> {
        Err(Error::NoFlashDriver)
    }

    fn program(
        &self,
        _: &Part,
        _: &mut crate::Session,
        _: &mut dyn Memory,
        _: &Region,
        _: u32,
        _: &[u8],
    ) -> Result<(), Error> {
        Err(Error::NoFlashDriver)
    }

    fn mass_erase(
        &self,
        _: &Part,
        _: &mut crate::Session,
        _: &mut dyn Memory,
    ) -> Result<(), Error> {
        Err(Error::NoFlashDriver)
    }

    fn drives_flash(&self) -> bool {
        false
    }

    fn commands(&self) -> &'static [Command] {
        &[Command {
            name: "security",
            arguments: "[sbrsel current|secure|nonsecure]",
            run: security_command,
            help: "ARMv8-M: the core's security state and banked-register selection (DSCSR); sbrsel: which bank of the memory-mapped banked registers the debugger sees (DSCSR.SBRSELEN/SBRSEL)",
        }]
    }

    /// Nothing is known of its flash: every flash operation stops here, before any work.
    fn protection(&self, _: &Part, _: &mut dyn Memory) -> Result<Protection, Error> {
        Err(Error::NoFlashDriver)
    }
}

const SECURITY_USAGE: Error = Error::Usage {
    command: "security",
    arguments: "[sbrsel current|secure|nonsecure]",
};

/// `monitor security [sbrsel current|secure|nonsecure]`: DSCSR and DHCSR.S_SDE; with
/// `sbrsel`, DSCSR.SBRSELEN/SBRSEL written first and read back (ARMv8-M D1.2 DSCSR).
fn security_command(
    _: &Part,
    memory: &mut dyn Memory,
    arguments: &str,
    output: &mut dyn Write,
) -> Result<(), Error> {
    let mut words = arguments.split_whitespace();
    let choice = match (words.next(), words.next(), words.next()) {
        (None, ..) => None,
        (Some("sbrsel"), Some(choice), None) => Some(
            SBRSEL_CHOICES
                .iter()
                .find(|(name, _)| *name == choice)
                .map(|&(_, bits)| bits)
                .ok_or(SECURITY_USAGE)?,
        ),
        _ => return Err(SECURITY_USAGE),
    };
    let part = (memory.read_word(CPUID)? >> 4) & 0xFFF;
    if !ARMV8M_PARTS.contains(&part) {
        let _ = writeln!(
            output,
            "no Security Extension: the core (CPUID part 0x{part:03X}) is not ARMv8-M mainline"
        );
        return Ok(());
    }
    if let Some(bits) = choice {
        memory.write_word(DSCSR, bits | DSCSR_CDSKEY)?;
        if memory.read_word(DSCSR)? & DSCSR_SBRSEL_FIELDS != bits {
            return Err(Error::Family {
                message: "DSCSR.SBRSELEN/SBRSEL not taken: the part does not let the debugger \
                          choose the bank (Secure debug not permitted)",
                address: Some(DSCSR),
            });
        }
    }
    let dscsr = memory.read_word(DSCSR)?;
    let dhcsr = memory.read_word(DHCSR)?;
    let state = if dscsr & 1 << 16 != 0 {
        "Secure"
    } else {
        "Non-secure"
    };
    let banks = match dscsr & 0b11 {
        0b11 => "the Secure ones (SBRSELEN 1, SBRSEL 1)",
        0b01 => "the Non-secure ones (SBRSELEN 1, SBRSEL 0)",
        _ => "the current state's (SBRSELEN 0)",
    };
    let debug = if dhcsr & DHCSR_S_SDE != 0 {
        "enabled"
    } else {
        "disabled"
    };
    let _ = writeln!(
        output,
        "DSCSR 0x{dscsr:08X}: the core is in {state} state (CDS)"
    );
    let _ = writeln!(output, "Memory-mapped banked registers: {banks}");
    let _ = writeln!(output, "Secure debug {debug} (DHCSR.S_SDE)");
    let authentication = memory.read_word(DAUTHSTATUS)?;
    let secure_invasive = match authentication >> 4 & 0b11 {
        0b11 => "enabled",
        0b10 => "disabled: the debugger reaches Non-secure memory and registers only",
        _ => "not implemented",
    };
    let _ = writeln!(
        output,
        "Secure invasive debug {secure_invasive} (DAUTHSTATUS 0x{authentication:02X}, SID)"
    );
    Ok(())
}
