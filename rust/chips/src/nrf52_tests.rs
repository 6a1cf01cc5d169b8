//! The nRF52840 driver against a small model (PS 4.3, 4.4, 4.5): the FICR, the NVMC
//! (CONFIG.WEN gating writes and erases, READY low for a number of reads after each
//! operation, ERASEPAGE, ERASEUICR, ERASEALL) and the CTRL-AP (ERASEALL, its status,
//! APPROTECTSTATUS, RESET).

use super::*;
use crate::{Identity, RegionKind};
use adi::Error as AdiError;

const PAGE: u32 = 4096;
const FLASH_BYTES: usize = 1024 * 1024;
const CTRL_AP: u8 = 1;

/// A Cortex-M4 r0p1 and Nordic's ROM table.
const NRF52840: Identity = Identity {
    dpidr: 0x2BA0_1477,
    cpuid: 0x410F_C241,
    rom_designer: NORDIC,
    rom_part: 0x008,
};

struct Model {
    flash: Vec<u8>,
    uicr: Vec<u8>,
    config: u32,
    /// READY reads low for this many reads after an operation (`u32::MAX`: for ever).
    busy_for: u32,
    busy_reads: u32,
    /// NVMC task writes, in order: (register, value, CONFIG at the time).
    tasks: Vec<(u32, u32, u32)>,
    /// Array words written: (address, value).
    written: Vec<(u32, u32)>,
    approtect: bool,
    ctrl_erase_reads: u32,
    ctrl_writes: Vec<(u8, u32)>,
    now: u64,
}

impl Model {
    fn new() -> Self {
        Self {
            flash: vec![0xFF; FLASH_BYTES],
            uicr: vec![0xFF; UICR_SIZE as usize],
            config: 0,
            busy_for: 2,
            busy_reads: 0,
            tasks: Vec::new(),
            written: Vec::new(),
            approtect: false,
            ctrl_erase_reads: 0,
            ctrl_writes: Vec::new(),
            now: 0,
        }
    }

    fn read(&mut self, address: u32) -> Result<u32, AdiError> {
        self.now += 10;
        Ok(match address {
            FICR_CODEPAGESIZE => PAGE,
            FICR_CODESIZE => FLASH_BYTES as u32 / PAGE,
            FICR_DEVICEID => 0x1234_5678,
            0x1000_0064 => 0x9ABC_DEF0,
            FICR_INFO_PART => PART_NRF52840,
            FICR_INFO_VARIANT => u32::from_be_bytes(*b"AAD0"),
            FICR_INFO_RAM => 256,
            NVMC_READY if self.busy_reads > 0 => {
                if self.busy_reads != u32::MAX {
                    self.busy_reads -= 1;
                }
                0
            }
            NVMC_READY => 1,
            NVMC_CONFIG => self.config,
            _ if (address as usize) < FLASH_BYTES => {
                let at = address as usize;
                u32::from_le_bytes(self.flash[at..at + 4].try_into().unwrap())
            }
            _ => return Err(AdiError::Bus { address }),
        })
    }

    fn write(&mut self, address: u32, value: u32) -> Result<(), AdiError> {
        self.now += 10;
        match address {
            NVMC_CONFIG => self.config = value,
            NVMC_ERASEPAGE | NVMC_ERASEUICR | NVMC_ERASEALL => {
                self.tasks.push((address, value, self.config));
                if self.config == WEN_ERASE {
                    match address {
                        NVMC_ERASEPAGE => {
                            let at = value as usize;
                            self.flash[at..at + PAGE as usize].fill(0xFF);
                        }
                        NVMC_ERASEUICR => self.uicr.fill(0xFF),
                        _ => {
                            self.flash.fill(0xFF);
                            self.uicr.fill(0xFF);
                        }
                    }
                }
            }
            _ if (address as usize) < FLASH_BYTES && self.config == WEN_WRITE => {
                self.written.push((address, value));
                let at = address as usize;
                let old = u32::from_le_bytes(self.flash[at..at + 4].try_into().unwrap());
                self.flash[at..at + 4].copy_from_slice(&(old & value).to_le_bytes());
            }
            _ => return Err(AdiError::Bus { address }),
        }
        self.busy_reads = self.busy_for;
        Ok(())
    }
}

crate::word_model::memory_by_words!(Model);

/// AP0 the AHB-AP (another IDR), AP1 the CTRL-AP, nothing after.
impl AccessPorts for Model {
    fn read_ap(&mut self, ap: u8, register: u8) -> Result<u32, AdiError> {
        self.now += 10;
        Ok(match (ap, register) {
            (0, CTRL_AP_IDR) => 0x2477_0011,
            (CTRL_AP, CTRL_AP_IDR) => CTRL_AP_IDR_VALUE,
            (CTRL_AP, CTRL_AP_APPROTECTSTATUS) => u32::from(!self.approtect),
            (CTRL_AP, CTRL_AP_ERASEALLSTATUS) if self.ctrl_erase_reads > 0 => {
                if self.ctrl_erase_reads != u32::MAX {
                    self.ctrl_erase_reads -= 1;
                }
                1
            }
            _ => 0,
        })
    }

    fn write_ap(&mut self, ap: u8, register: u8, value: u32) -> Result<(), AdiError> {
        self.now += 10;
        assert_eq!(ap, CTRL_AP);
        self.ctrl_writes.push((register, value));
        if register == CTRL_AP_ERASEALL && value == 1 {
            self.flash.fill(0xFF);
            self.approtect = false;
            self.ctrl_erase_reads = self.ctrl_erase_reads.max(3);
        }
        Ok(())
    }

    fn now_micros(&mut self) -> u64 {
        self.now
    }
}

fn nrf52840(model: &mut Model) -> Part {
    let part = Part::identify(model, NRF52840).unwrap();
    assert_eq!(part.name(), "nRF52840");
    part
}

#[test]
fn identified_and_sized_from_the_ficr() {
    let mut model = Model::new();
    let part = nrf52840(&mut model);
    let regions: Vec<_> = part
        .memory_map()
        .regions()
        .map(|region| {
            let flash = matches!(region.kind, RegionKind::Flash(_));
            (region.start, region.length, flash)
        })
        .collect();
    assert_eq!(
        regions,
        [
            (0, FLASH_BYTES as u32, true),
            (UICR_BASE, UICR_SIZE, true),
            (RAM_BASE, 256 * 1024, false)
        ]
    );
    let mut out = String::new();
    part.command(&mut model, "read", "deviceid", &mut out)
        .unwrap()
        .unwrap();
    assert_eq!(out, "Device ID: 0x9ABCDEF012345678\n");
}

/// Erases page by page with CONFIG = erase, programs with CONFIG = write (erased words
/// skipped), and leaves CONFIG read-only.
#[test]
fn erase_and_program_under_the_right_config() {
    let mut model = Model::new();
    let part = nrf52840(&mut model);
    model.flash[..3 * PAGE as usize].fill(0);
    part.erase(&mut model, PAGE - 4, 8).unwrap();
    assert_eq!(
        model.tasks,
        [
            (NVMC_ERASEPAGE, 0, WEN_ERASE),
            (NVMC_ERASEPAGE, PAGE, WEN_ERASE)
        ]
    );
    assert!(
        model.flash[..2 * PAGE as usize]
            .iter()
            .all(|&byte| byte == 0xFF)
    );
    assert_eq!(model.flash[2 * PAGE as usize], 0);
    let data = [1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF, 5, 6, 7, 8];
    part.program(&mut model, 0x100, &data).unwrap();
    assert_eq!(model.written, [(0x100, 0x0403_0201), (0x108, 0x0807_0605)]);
    assert_eq!(model.config, WEN_READ_ONLY);
    part.erase(&mut model, UICR_BASE, 4).unwrap();
    assert_eq!(model.tasks[2], (NVMC_ERASEUICR, 1, WEN_ERASE));
    assert_eq!(
        part.program(&mut model, 0x102, &data[..4]),
        Err(Error::Adi(AdiError::Unaligned { address: 0x102 }))
    );
}

#[test]
fn an_nvmc_that_never_gets_ready_times_out() {
    let mut model = Model::new();
    let part = nrf52840(&mut model);
    model.busy_for = u32::MAX;
    assert_eq!(
        part.erase(&mut model, 0, 4),
        Err(Error::Timeout {
            address: NVMC_CONFIG
        })
    );
}

/// APPROTECT is seen through the CTRL-AP; recover erases all, waits for ERASEALLSTATUS,
/// resets the chip; an erase that never ends is a timeout.
#[test]
fn protection_and_recover_through_the_ctrl_ap() {
    let mut model = Model::new();
    model.approtect = true;
    model.flash[..4].fill(0);
    assert_eq!(ctrl_ap(&mut model), Ok(Some(CTRL_AP)));
    assert_eq!(protected(&mut model), Ok(true));
    recover(&mut model).unwrap();
    assert_eq!(protected(&mut model), Ok(false));
    assert_eq!(model.flash[..4], [0xFF; 4]);
    assert_eq!(
        model.ctrl_writes,
        [
            (CTRL_AP_ERASEALL, 0),
            (CTRL_AP_ERASEALL, 1),
            (CTRL_AP_RESET, 1),
            (CTRL_AP_RESET, 0),
            (CTRL_AP_ERASEALL, 0)
        ]
    );
    model.ctrl_erase_reads = u32::MAX;
    assert_eq!(
        recover(&mut model),
        Err(Error::Timeout {
            address: FLASH_BASE
        })
    );
    assert!(model.now > RECOVER_TIMEOUT_MICROS);
}
