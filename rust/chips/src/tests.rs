//! The STM32F1 driver against a small model of the chip's identification registers and
//! its flash controller (RM0008 3.3, PM0075): the key sequence and its lock-out, page and
//! mass erase, half-word programming with PGERR on a programmed location, option byte
//! erase and programming, and BSY for a number of status reads.

use crate::memory_map::Flash;
use crate::stm32f1::{self, VARIANT_CLONE};
use crate::{Error, Identity, Part, RegionKind};
use adi::Error as AdiError;

const FLASH_BASE: u32 = 0x0800_0000;
const PAGE: usize = 1024;
const DBGMCU_IDCODE: u32 = 0xE004_2000;
const FLASH_SIZE_WORD: u32 = 0x1FFF_F7E0;
const FLASH_KEYR: u32 = 0x4002_2004;
const FLASH_OPTKEYR: u32 = 0x4002_2008;
const FLASH_SR: u32 = 0x4002_200C;
const FLASH_CR: u32 = 0x4002_2010;
const FLASH_AR: u32 = 0x4002_2014;
const OPTION_BYTES: u32 = 0x1FFF_F800;
const KEYS: [u32; 2] = [0x4567_0123, 0xCDEF_89AB];

const SR_BSY: u32 = 1 << 0;
const SR_PGERR: u32 = 1 << 2;
const SR_EOP: u32 = 1 << 5;
const CR_PG: u32 = 1 << 0;
const CR_PER: u32 = 1 << 1;
const CR_MER: u32 = 1 << 2;
const CR_OPTPG: u32 = 1 << 4;
const CR_OPTER: u32 = 1 << 5;
const CR_STRT: u32 = 1 << 6;
const CR_LOCK: u32 = 1 << 7;
const CR_OPTWRE: u32 = 1 << 9;

/// Cortex-M3 r1p1 and the SW-DP of a genuine STM32F103 (PM0056 4.3.1, RM0008 31.6.3).
const GENUINE: Identity = Identity {
    dpidr: 0x1BA0_1477,
    cpuid: 0x411F_C231,
    rom_designer: 0x020,
    rom_part: 0x410,
};

struct Model {
    flash: Vec<u8>,
    option_bytes: [u16; 8],
    idcode: u32,
    flash_kb: u32,
    /// Keys taken so far (0, 1, 2 = unlocked); a wrong key locks out until reset.
    keys: usize,
    locked_out: bool,
    option_keys: usize,
    cr: u32,
    ar: u32,
    sr: u32,
    /// Status reads for which BSY stays set; `u32::MAX`: it never clears.
    busy_reads: u32,
    busy_for: u32,
    now: u64,
    halves_written: Vec<(u32, u16)>,
    /// A read of this address fails with this error.
    failing_read: Option<(u32, AdiError)>,
}

impl Model {
    /// A medium-density STM32F103 with 64 KB of flash, all erased.
    fn new() -> Self {
        Self {
            flash: vec![0xFF; 64 * 1024],
            option_bytes: [0xFFFF; 8],
            idcode: 0x2000_6410,
            flash_kb: 64,
            keys: 0,
            locked_out: false,
            option_keys: 0,
            cr: CR_LOCK,
            ar: 0,
            sr: 0,
            busy_reads: 0,
            busy_for: 3,
            now: 0,
            halves_written: Vec::new(),
            failing_read: None,
        }
    }

    fn unlocked(&self) -> bool {
        self.keys == 2 && !self.locked_out
    }

    fn busy(&mut self) {
        self.busy_reads = self.busy_for;
        self.sr |= SR_EOP;
    }

    fn flash_offset(&self, address: u32) -> Option<usize> {
        let offset = address.checked_sub(FLASH_BASE)? as usize;
        (offset < self.flash.len()).then_some(offset)
    }

    fn read(&mut self, address: u32) -> Result<u32, AdiError> {
        self.now += 10;
        if let Some((_, error)) = self.failing_read.filter(|&(at, _)| at == address) {
            return Err(error);
        }
        if let Some(offset) = self.flash_offset(address) {
            let bytes = &self.flash[offset..offset + 4];
            return Ok(u32::from_le_bytes(bytes.try_into().unwrap()));
        }
        if (OPTION_BYTES..OPTION_BYTES + 16).contains(&address) {
            let index = ((address - OPTION_BYTES) / 2) as usize;
            let [low, high] = [self.option_bytes[index], self.option_bytes[index + 1]];
            return Ok(u32::from(low) | u32::from(high) << 16);
        }
        Ok(match address {
            DBGMCU_IDCODE => self.idcode,
            FLASH_SIZE_WORD => self.flash_kb,
            FLASH_SR => {
                let mut status = self.sr;
                if self.busy_reads > 0 {
                    self.busy_reads = self.busy_reads.saturating_sub(1);
                    if self.busy_for == u32::MAX {
                        self.busy_reads = u32::MAX;
                    }
                    status |= SR_BSY;
                }
                status
            }
            FLASH_CR => {
                let lock = if self.unlocked() { 0 } else { CR_LOCK };
                let optwre = if self.option_keys == 2 { CR_OPTWRE } else { 0 };
                self.cr & !(CR_LOCK | CR_OPTWRE) | lock | optwre
            }
            _ => 0,
        })
    }

    fn write(&mut self, address: u32, value: u32) -> Result<(), AdiError> {
        self.now += 10;
        match address {
            FLASH_KEYR if !self.locked_out && self.keys < 2 && value == KEYS[self.keys] => {
                self.keys += 1;
            }
            FLASH_KEYR => self.locked_out = true,
            FLASH_OPTKEYR if self.unlocked() && self.option_keys < 2 => {
                if value == KEYS[self.option_keys] {
                    self.option_keys += 1;
                }
            }
            FLASH_SR => self.sr &= !value, // write one to clear
            FLASH_AR if self.unlocked() => self.ar = value,
            FLASH_CR if value & CR_LOCK != 0 => {
                self.keys = 0;
                self.option_keys = 0;
                self.cr = 0;
            }
            FLASH_CR if self.unlocked() => {
                self.cr = value;
                if value & CR_STRT != 0 {
                    self.start();
                }
            }
            _ => return Err(AdiError::Bus { address }),
        }
        Ok(())
    }

    /// STRT: the erase the CR bits ask for.
    fn start(&mut self) {
        if self.cr & CR_PER != 0
            && let Some(offset) = self.flash_offset(self.ar)
        {
            let page = offset - offset % PAGE;
            self.flash[page..page + PAGE].fill(0xFF);
        } else if self.cr & CR_MER != 0 {
            self.flash.fill(0xFF);
        } else if self.cr & CR_OPTER != 0 && self.option_keys == 2 {
            self.option_bytes = [0xFFFF; 8];
        }
        self.busy();
    }

    fn program(&mut self, address: u32, half: u16) -> Result<(), AdiError> {
        self.halves_written.push((address, half));
        if self.cr & CR_PG != 0
            && let Some(offset) = self.flash_offset(address)
        {
            if self.flash[offset..offset + 2] != [0xFF, 0xFF] {
                self.sr |= SR_PGERR;
            } else {
                self.flash[offset..offset + 2].copy_from_slice(&half.to_le_bytes());
            }
        } else if self.cr & CR_OPTPG != 0 && self.option_keys == 2 {
            let index = ((address - OPTION_BYTES) / 2) as usize;
            // The FPEC stores the complement in the upper byte (PM0075 2.5).
            self.option_bytes[index] = (half & 0xFF) | (!half & 0xFF) << 8;
        }
        self.busy();
        Ok(())
    }
}

crate::word_model::memory_by_words!(Model, halves: program);

fn stm32f1(model: &mut Model) -> Part {
    let part = Part::identify(model, GENUINE).unwrap();
    assert!(part.has_flash_driver(), "not identified as an STM32F1");
    part
}

#[test]
fn identifies_density_sizes_and_clones() {
    let mut model = Model::new();
    let chip = stm32f1(&mut model);
    assert_eq!(chip.name(), "STM32F1 medium density");
    assert_eq!((chip.device, chip.variant), (0x410, 0));
    let regions: Vec<_> = chip.memory_map().regions().copied().collect();
    assert_eq!(
        regions,
        [
            crate::Region::flash(FLASH_BASE, 65536, Flash::new(1024, 2)),
            crate::Region::ram(0x2000_0000, 20480),
        ]
    );
    assert_eq!(chip.mass_erase, Some((FLASH_BASE, 65536)));
    let flash = chip
        .memory_map()
        .flash_at(FLASH_BASE + 100)
        .copied()
        .unwrap();
    assert_eq!(flash.kind, RegionKind::Flash(Flash::new(1024, 2)));
    assert_eq!(chip.commands()[0].name, "option");
    let clone = Identity {
        dpidr: 0x2BA0_1477,
        ..GENUINE
    };
    let chip = Part::identify(&mut model, clone).unwrap();
    assert_eq!(chip.name(), "STM32F1 (clone) medium density");
    assert_eq!(chip.variant, VARIANT_CLONE);
    // Not a Cortex-M3, or an unknown device: a generic Cortex-M without flash.
    let m4 = Identity {
        cpuid: 0x410F_C241,
        ..GENUINE
    };
    let generic = Part::identify(&mut model, m4).unwrap();
    assert_eq!(generic, crate::generic::part());
    assert_eq!(generic.name(), "ARM Cortex-M");
    assert_eq!(
        generic.program(&mut model, FLASH_BASE, &[0, 0]),
        Err(Error::NoFlashDriver)
    );
    assert_eq!(generic.erase(&mut model, 0, 4), Err(Error::NoFlashDriver));
    assert_eq!(generic.protection(&mut model), Err(Error::NoFlashDriver));
    // GDB sees the Code region as flash (so `load` asks vFlashErase, which is refused),
    // the rest as RAM.
    let mut xml = String::new();
    generic.memory_map().write_xml(&mut xml).unwrap();
    assert!(xml.contains("<memory type=\"flash\" start=\"0x00000000\" length=\"0x20000000\">"));
    assert!(xml.contains("<memory type=\"ram\" start=\"0x40000000\" length=\"0xc0000000\"/>"));
    model.idcode = 0x2000_6999;
    assert_eq!(
        Part::identify(&mut model, GENUINE).unwrap(),
        crate::generic::part()
    );
}

#[test]
fn a_refused_size_register_means_the_default_size_a_wire_fault_no_identification() {
    // The bus refusing the flash size word: the density's largest size (128 KB).
    let mut model = Model::new();
    model.failing_read = Some((
        FLASH_SIZE_WORD,
        AdiError::Bus {
            address: FLASH_SIZE_WORD,
        },
    ));
    let chip = stm32f1(&mut model);
    assert_eq!(
        chip.memory_map().flash_at(FLASH_BASE).unwrap().length,
        128 * 1024
    );
    // The wire failing there: an error, never a part with a guessed (short) memory map.
    for error in [AdiError::Protocol, AdiError::NoResponse] {
        model.failing_read = Some((FLASH_SIZE_WORD, error));
        assert_eq!(Part::identify(&mut model, GENUINE), Err(Error::Adi(error)));
    }
    model.failing_read = None;
    let chip = stm32f1(&mut model);
    assert_eq!(
        chip.memory_map().flash_at(FLASH_BASE).unwrap().length,
        65536
    );
}

#[test]
fn program_skips_erased_half_words_and_pads_an_odd_end() {
    let mut model = Model::new();
    let chip = stm32f1(&mut model);
    let data = [0x11, 0x22, 0xFF, 0xFF, 0x33, 0x44, 0x55];
    chip.program(&mut model, FLASH_BASE + 0x100, &data).unwrap();
    assert_eq!(
        &model.flash[0x100..0x108],
        &[0x11, 0x22, 0xFF, 0xFF, 0x33, 0x44, 0x55, 0xFF]
    );
    // The erased half-word at 0x102 was not written; the odd last byte was padded.
    let written: Vec<u32> = model.halves_written.iter().map(|&(at, _)| at).collect();
    assert_eq!(
        written,
        [FLASH_BASE + 0x100, FLASH_BASE + 0x104, FLASH_BASE + 0x106]
    );
    assert_eq!(model.cr & CR_PG, 0, "PG cleared after programming");
}

#[test]
fn programming_a_programmed_location_is_pgerr() {
    let mut model = Model::new();
    let chip = stm32f1(&mut model);
    model.flash[0x200] = 0x00;
    assert_eq!(
        chip.program(&mut model, FLASH_BASE + 0x200, &[0x12, 0x34]),
        Err(Error::NotErased {
            address: FLASH_BASE + 0x200
        })
    );
    assert_eq!(model.sr & SR_PGERR, 0, "the error flag is cleared");
    assert_eq!(
        chip.program(&mut model, FLASH_BASE + 1, &[0]),
        Err(Error::Adi(AdiError::Unaligned {
            address: FLASH_BASE + 1
        }))
    );
    assert_eq!(
        chip.program(&mut model, FLASH_BASE + 0x1_0000, &[0, 0]),
        Err(Error::OutsideFlash {
            address: FLASH_BASE + 0x1_0000
        })
    );
}

#[test]
fn erase_takes_every_page_the_range_touches() {
    let mut model = Model::new();
    let chip = stm32f1(&mut model);
    model.flash.fill(0);
    chip.erase(&mut model, FLASH_BASE + 0x3FE, 4).unwrap();
    assert!(model.flash[..2 * PAGE].iter().all(|&byte| byte == 0xFF));
    assert!(model.flash[2 * PAGE..].iter().all(|&byte| byte == 0));
    chip.mass_erase(&mut model).unwrap();
    assert!(model.flash.iter().all(|&byte| byte == 0xFF));
}

#[test]
fn a_flash_that_stays_busy_times_out() {
    let mut model = Model::new();
    let chip = stm32f1(&mut model);
    model.busy_for = u32::MAX;
    assert_eq!(
        chip.erase(&mut model, FLASH_BASE, 4),
        Err(Error::Timeout {
            address: FLASH_BASE
        })
    );
    assert!(model.now > 500_000);
}

#[test]
fn a_locked_out_controller_is_reported() {
    let mut model = Model::new();
    let chip = stm32f1(&mut model);
    model.locked_out = true;
    assert_eq!(chip.mass_erase(&mut model), Err(Error::Locked));
}

#[test]
fn option_bytes_erase_unprotects_and_program_with_complements() {
    let mut model = Model::new();
    let chip = stm32f1(&mut model);
    model.option_bytes = [0x5AA5, 0x00FF, 0, 0, 0, 0, 0, 0];
    stm32f1::erase_option_bytes(&mut model).unwrap();
    let bytes = stm32f1::read_option_bytes(&mut model).unwrap();
    assert_eq!(bytes.byte(0), Some(0xA5), "RDP programmed to unprotected");
    assert_eq!(bytes.raw[1..], [0xFFFF; 7]);
    stm32f1::write_option_byte(&mut model, 2, 0x42).unwrap();
    assert_eq!(model.option_bytes[2], 0xBD42);
    assert!(!model.unlocked(), "locked again afterwards");
    assert!(matches!(
        stm32f1::write_option_byte(&mut model, 8, 0),
        Err(Error::Family { address: None, .. })
    ));
    // The `option` command row shows them.
    let mut text = String::new();
    chip.command(&mut model, "option", "", &mut text)
        .unwrap()
        .unwrap();
    assert!(text.starts_with("0x1FFFF800: RDP   0x5AA5\n"), "{text}");
    assert!(
        chip.command(&mut model, "nonesuch", "", &mut text)
            .is_none()
    );
}
