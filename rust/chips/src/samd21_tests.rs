//! The SAMD21 driver against a small model (DS40001882): the DSU's DID and STATUSB.PROT,
//! the NVMCTRL (PARAM, ADDR in 16-bit words, CTRLA commands with their key, CTRLB.MANW,
//! STATUS errors written one to clear), the page buffer in automatic mode (DS 22.6.4.2:
//! writing a page's last word starts its write), and the regions the user row locks
//! (LOCK, BOOTPROT) as they were at the last reset.

use super::*;
use crate::{Identity, RegionKind};
use adi::Error as AdiError;

const FLASH_BYTES: usize = 256 * 1024;
const WORDS_PER_PAGE: usize = (PAGE_SIZE / 4) as usize;
/// PARAM: NVMP 4096 pages, PSZ 3 (64 bytes) (DS 22.8.4).
const PARAM_256K: u32 = 3 << 16 | 4096;
/// DID of an ATSAMD21G18A (DEVSEL 0x05), revision D.
const DID_G18A: u32 = 0x1001_0305;
/// DSU CTRL, STATUSA, STATUSB and STATUSC as one word (DS 13.13).
const DSU_WORD: u32 = 0x4100_2100;
/// NVMCTRL LOCK regions: the flash in 16 equal parts (DS 22.6.5).
const LOCK_REGION: u32 = FLASH_BYTES as u32 / 16;
/// The user row's reset word 1: every region unlocked.
const USER_WORD1: u32 = 0xFFFF_FC5D;
/// STATUS bits (DS 22.8.6).
const PROGE: u32 = 1 << 2;
const LOCKE: u32 = 1 << 3;

/// A Cortex-M0+ r0p1 under Atmel's ROM table.
const SAMD21G18A: Identity = Identity {
    dpidr: 0x0BC1_1477,
    cpuid: 0x410C_C601,
    rom_designer: ATMEL,
    rom_part: 0xCD0,
};

struct Model {
    flash: Vec<u8>,
    user_row: [u32; WORDS_PER_PAGE],
    page_buffer: [u32; WORDS_PER_PAGE],
    /// ADDR as written: the address in 16-bit words.
    addr: u32,
    param: u32,
    ctrlb: u32,
    status: u32,
    /// In effect since the last reset: LOCK (a clear bit locks a region) and BOOTPROT.
    lock: u16,
    bootprot: u32,
    /// The security bit: SSB sets it, a reset makes it secure the device.
    security_bit: bool,
    secured: bool,
    /// CTRLA commands run: (CMD, byte address).
    commands: Vec<(u32, u32)>,
    /// Pages written from the page buffer.
    page_writes: Vec<u32>,
    now: u64,
}

impl Model {
    fn new() -> Self {
        let mut user_row = [u32::MAX; WORDS_PER_PAGE];
        user_row[1] = USER_WORD1;
        Self {
            flash: vec![0xFF; FLASH_BYTES],
            user_row,
            page_buffer: [u32::MAX; WORDS_PER_PAGE],
            addr: 0,
            param: PARAM_256K,
            ctrlb: 1 << 7,
            status: 0,
            lock: 0xFFFF,
            bootprot: BOOTPROT_NONE,
            security_bit: false,
            secured: false,
            commands: Vec::new(),
            page_writes: Vec::new(),
            now: 0,
        }
    }

    /// A reset: the user row's LOCK and BOOTPROT and the security bit take effect.
    fn reset(&mut self) {
        self.secured = self.security_bit;
        self.lock = (self.user_row[1] >> 16) as u16;
        self.bootprot = self.user_row[0] & BOOTPROT_MASK;
    }

    /// Is the flash at `address` in a locked region or the BOOTPROT area (DS 22.6.2)?
    fn locked(&self, address: u32) -> bool {
        let boot_bytes = match self.bootprot {
            BOOTPROT_NONE => 0,
            code => 512 << (6 - code),
        };
        address < boot_bytes || self.lock & (1 << (address / LOCK_REGION)) == 0
    }

    fn run(&mut self, control: u32) {
        let (cmd, key) = (control & 0x7F, (control >> 8) & 0xFF);
        let address = self.addr * 2;
        self.commands.push((cmd, address));
        if key != u32::from(CMDEX_KEY) {
            self.status |= PROGE;
            return;
        }
        match cmd as u8 {
            CMD_ER if self.locked(address) => self.status |= LOCKE,
            CMD_ER => {
                let row = (address - address % ROW_SIZE) as usize;
                self.flash[row..row + ROW_SIZE as usize].fill(0xFF);
            }
            CMD_EAR => self.user_row = [u32::MAX; WORDS_PER_PAGE],
            CMD_WAP => {
                for (word, buffered) in self.user_row.iter_mut().zip(self.page_buffer) {
                    *word &= buffered;
                }
                self.page_buffer = [u32::MAX; WORDS_PER_PAGE];
            }
            CMD_PBC => self.page_buffer = [u32::MAX; WORDS_PER_PAGE],
            CMD_SSB => self.security_bit = true,
            _ => self.status |= PROGE,
        }
    }

    /// A write into the page buffer; in automatic mode its last word writes the page.
    fn buffer(&mut self, address: u32, value: u32) {
        let index = (address % PAGE_SIZE / 4) as usize;
        self.page_buffer[index] &= value;
        if self.ctrlb & (1 << 7) != 0 || index != WORDS_PER_PAGE - 1 {
            return;
        }
        let page = address - address % PAGE_SIZE;
        if self.locked(page) {
            self.status |= LOCKE;
        } else {
            self.page_writes.push(page);
            for (index, word) in self.page_buffer.iter().enumerate() {
                let at = page as usize + 4 * index;
                let old = u32::from_le_bytes(self.flash[at..at + 4].try_into().unwrap());
                self.flash[at..at + 4].copy_from_slice(&(old & word).to_le_bytes());
            }
        }
        self.page_buffer = [u32::MAX; WORDS_PER_PAGE];
    }

    fn read(&mut self, address: u32) -> Result<u32, AdiError> {
        self.now += 10;
        Ok(match address {
            DSU_DID => DID_G18A,
            DSU_WORD => u32::from(self.secured) << 16,
            _ if self.secured => return Err(AdiError::Bus { address }),
            NVMCTRL_PARAM => self.param,
            NVMCTRL_ADDR => self.addr,
            0x4100_4000 => 0,
            0x4100_4004 => self.ctrlb,
            0x4100_4014 => 1,
            0x4100_4018 => self.status,
            _ if (address as usize) < FLASH_BYTES => {
                let at = address as usize;
                u32::from_le_bytes(self.flash[at..at + 4].try_into().unwrap())
            }
            _ if (USER_ROW..USER_ROW + PAGE_SIZE).contains(&address) => {
                self.user_row[((address - USER_ROW) / 4) as usize]
            }
            _ => return Err(AdiError::Bus { address }),
        })
    }

    fn write(&mut self, address: u32, value: u32) -> Result<(), AdiError> {
        self.now += 10;
        match address {
            _ if self.secured => return Err(AdiError::Bus { address }),
            NVMCTRL_ADDR => self.addr = value,
            0x4100_4000 => self.run(value),
            0x4100_4004 => self.ctrlb = value,
            0x4100_4018 => self.status &= !value,
            _ if (address as usize) < FLASH_BYTES => self.buffer(address, value),
            _ if (USER_ROW..USER_ROW + PAGE_SIZE).contains(&address) => {
                self.page_buffer[((address - USER_ROW) / 4) as usize] &= value;
            }
            _ => return Err(AdiError::Bus { address }),
        }
        Ok(())
    }
}

crate::word_model::memory_by_words!(Model);

fn samd21g18a(model: &mut Model) -> Part {
    let part = Part::identify(model, SAMD21G18A).unwrap();
    assert_eq!(part.name(), "ATSAMD21G18A");
    part
}

/// The name from DID's DEVSEL, the flash from PARAM, the RAM from the name; secured,
/// only the DSU answers: the flash size the name says, and the protection reported.
#[test]
fn identified_from_the_dsu_and_sized_from_param() {
    let regions = |part: &Part| -> Vec<_> {
        part.memory_map()
            .regions()
            .map(|region| {
                let flash = matches!(region.kind, RegionKind::Flash(_));
                (region.start, region.length, flash)
            })
            .collect()
    };
    let mut model = Model::new();
    model.param = 3 << 16 | 2048;
    let part = samd21g18a(&mut model);
    assert_eq!(
        regions(&part),
        [(0, 128 * 1024, true), (RAM_BASE, 32 * 1024, false)]
    );
    assert_eq!(part.protection(&mut model), Ok(Protection::None));
    assert_eq!(secured(&mut model), Ok(false));

    model.secured = true;
    assert_eq!(secured(&mut model), Ok(true));
    let part = samd21g18a(&mut model);
    assert_eq!(regions(&part)[0], (0, 256 * 1024, true));
    assert_eq!(
        part.protection(&mut model),
        Ok(Protection::ReadProtected {
            what: "SAMD21 security bit",
            command: "erase_mass"
        })
    );
}

/// ER once per row touched, ADDR in 16-bit words (DS 22.8.8).
#[test]
fn erase_runs_er_on_each_row_touched() {
    let mut model = Model::new();
    let part = samd21g18a(&mut model);
    model.flash[..3 * ROW_SIZE as usize].fill(0);
    part.erase(&mut model, ROW_SIZE - 4, 8).unwrap();
    assert_eq!(model.commands, [(2, 0), (2, ROW_SIZE)]);
    let erased = 2 * ROW_SIZE as usize;
    assert!(model.flash[..erased].iter().all(|&byte| byte == 0xFF));
    assert_eq!(model.flash[erased], 0);
    assert_eq!(model.status, 0);
}

/// Automatic mode (MANW cleared), whole pages, erased pages skipped, a short last page
/// padded with 0xFF; an unaligned start refused.
#[test]
fn program_writes_whole_pages_in_automatic_mode() {
    let mut model = Model::new();
    let part = samd21g18a(&mut model);
    let mut data = vec![0xFF; 2 * PAGE_SIZE as usize + 6];
    data[..PAGE_SIZE as usize].fill(0x5A);
    data[2 * PAGE_SIZE as usize..].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
    let at = 0x400;
    part.program(&mut model, at, &data).unwrap();
    part.done(&mut model).unwrap();
    assert_eq!(model.ctrlb & (1 << 7), 0);
    assert_eq!(model.page_writes, [at, at + 2 * PAGE_SIZE]);
    let start = at as usize;
    assert_eq!(model.flash[start..start + data.len()], data[..]);
    assert!(
        model.flash[start + data.len()..start + 3 * PAGE_SIZE as usize]
            .iter()
            .all(|&byte| byte == 0xFF)
    );
    assert_eq!(
        part.program(&mut model, 0x402, &data[..4]),
        Err(Error::Adi(AdiError::Unaligned { address: 0x402 }))
    );
}

/// `lock_bootprot 6` writes BOOTPROT into the user row (EAR, PBC, WAP, the rest of the
/// row kept); after a reset the first 512 bytes refuse erase and program with LOCKE,
/// reported as write protection and cleared; a LOCK region is refused the same way.
#[test]
fn bootprot_and_lock_regions_refuse_with_locke() {
    let mut model = Model::new();
    model.user_row[0] = 0xD8E0_C7FF;
    let part = samd21g18a(&mut model);
    let mut out = String::new();
    part.command(&mut model, "lock_bootprot", "6", &mut out)
        .unwrap()
        .unwrap();
    assert_eq!(
        out,
        "boot loader area of 512 bytes protected from the next reset\n"
    );
    assert_eq!(model.user_row[..2], [0xD8E0_C7FE, USER_WORD1]);
    assert_eq!(
        model.commands,
        [(5, USER_ROW), (0x44, USER_ROW), (6, USER_ROW)]
    );
    model.reset();
    assert_eq!(
        part.erase(&mut model, ROW_SIZE, 4),
        Err(Error::WriteProtected { address: ROW_SIZE })
    );
    assert_eq!(model.status, 0);
    part.erase(&mut model, 2 * ROW_SIZE, 4).unwrap();
    assert_eq!(
        part.program(&mut model, 0, &[0; 64]),
        Err(Error::WriteProtected { address: 0 })
    );
    assert_eq!(model.status, 0);
    assert!(model.flash[..64].iter().all(|&byte| byte == 0xFF));

    part.command(&mut model, "lock_flash", "", &mut out)
        .unwrap()
        .unwrap();
    assert_eq!(model.user_row[1], USER_WORD1 & 0xFFFF);
    model.reset();
    assert_eq!(
        part.erase(&mut model, 3 * LOCK_REGION, 4),
        Err(Error::WriteProtected {
            address: 3 * LOCK_REGION
        })
    );
}

/// A command the NVMCTRL refuses sets STATUS.PROGE: reported by name and cleared.
/// `set_security_bit` runs SSB; after a reset only the DSU answers.
#[test]
fn a_refused_command_names_proge() {
    let mut model = Model::new();
    assert_eq!(
        command(&mut model, 0x7F, 0x100),
        Err(Error::Family {
            message: "NVMCTRL refused the command (STATUS.PROGE or NVME)",
            address: Some(0x100)
        })
    );
    assert_eq!(model.status, 0);
    let part = samd21g18a(&mut model);
    let mut out = String::new();
    part.command(&mut model, "set_security_bit", "", &mut out)
        .unwrap()
        .unwrap();
    assert_eq!(model.commands.last(), Some(&(0x45, 0)));
    model.reset();
    assert_eq!(secured(&mut model), Ok(true));
}
