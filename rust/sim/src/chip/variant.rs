//! The chips the simulator can be: three genuine STM32F103 densities and a clone.

use crate::bus::Identity;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Medium density, 64 KB flash, 20 KB SRAM (DS5319 table 2).
    Stm32f103c8,
    /// Medium density, 128 KB flash, 20 KB SRAM (DS5319 table 2).
    Stm32f103cb,
    /// High density, 256 KB flash, 48 KB SRAM (DS5286 table 2).
    Stm32f103rc,
    /// The China Key System CKS32F103C8 (also marked CS32F103C8) found on many blue pills.
    Cks32f103c8,
}

/// Flash operation durations in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashTiming {
    pub program_half_word_ns: u64,
    pub page_erase_ns: u64,
    pub mass_erase_ns: u64,
}

/// DS5319 table "Flash memory characteristics": tPROG 52.5 us typical per half-word,
/// tERASE 20 ms typical per page, tME 20 ms typical.
const GENUINE_FLASH_TIMING: FlashTiming = FlashTiming {
    program_half_word_ns: 52_500,
    page_erase_ns: 20_000_000,
    mass_erase_ns: 20_000_000,
};

/// The clone programs and erases 8 times faster. The original probe's README measured
/// 18 KB/s on a genuine part and 66-73 KB/s on a CKS32. Per 1 KB page a genuine part spends
/// 20 ms erasing and 512 x 52.5 us = 26.9 ms programming, 46.9 ms in all; 18 KB/s is
/// 55.6 ms per KB, which leaves about 8.7 ms of wire traffic. With the same traffic and
/// flash operations 8 times shorter (5.9 ms) a KB takes 14.6 ms: 69 KB/s, in the measured
/// range. No datasheet figure is used: CKS does not publish one we could find.
const CLONE_FLASH_TIMING: FlashTiming = FlashTiming {
    program_half_word_ns: 52_500 / 8,
    page_erase_ns: 20_000_000 / 8,
    mass_erase_ns: 20_000_000 / 8,
};

impl Variant {
    pub const ALL: [Variant; 4] = [
        Variant::Stm32f103c8,
        Variant::Stm32f103cb,
        Variant::Stm32f103rc,
        Variant::Cks32f103c8,
    ];

    /// The name on the command line (`bmp-sim --chip`, `BMP_WIRE=sim:NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Variant::Stm32f103c8 => "stm32f103c8",
            Variant::Stm32f103cb => "stm32f103cb",
            Variant::Stm32f103rc => "stm32f103rc",
            Variant::Cks32f103c8 => "cks32f103c8",
        }
    }

    /// The variant a command-line name names, ignoring case.
    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL
            .into_iter()
            .find(|variant| variant.name().eq_ignore_ascii_case(name))
    }

    pub fn is_clone(self) -> bool {
        self == Variant::Cks32f103c8
    }

    pub fn is_high_density(self) -> bool {
        self == Variant::Stm32f103rc
    }

    pub fn flash_size(self) -> u32 {
        match self {
            Variant::Stm32f103c8 | Variant::Cks32f103c8 => 64 * 1024,
            Variant::Stm32f103cb => 128 * 1024,
            Variant::Stm32f103rc => 256 * 1024,
        }
    }

    /// RM0008 3.3.3 (table 5 and 6): 1 KB pages on medium density, 2 KB on high density.
    pub fn flash_page_size(self) -> u32 {
        if self.is_high_density() { 2048 } else { 1024 }
    }

    pub fn sram_size(self) -> u32 {
        if self.is_high_density() {
            48 * 1024
        } else {
            20 * 1024
        }
    }

    /// DBGMCU_IDCODE (RM0008 31.6.1): REV_ID in [31:16], DEV_ID in [11:0]. Medium density
    /// 0x410 revision 0x2003 ("revision Y, 1, 2, X"), high density 0x414 revision 0x1003.
    /// The CKS32 reports a genuine medium-density code: st-flash prints
    /// "F1 Medium-density device, id 0x20036410" for it (stlink issue #756).
    pub fn dbgmcu_idcode(self) -> u32 {
        if self.is_high_density() {
            0x1003_6414
        } else {
            0x2003_6410
        }
    }

    /// CPUID (ARMv7-M B3.2.3, PM0056 4.4.1): a genuine STM32F1 is a Cortex-M3 r1p1,
    /// 0x411FC231. The clones that report DPIDR 0x2BA01477 carry a newer r2p1 core,
    /// 0x412FC231 (the same pair as GD32F103; Black Magic Probe tells these "clone parts
    /// with core rev 2" apart from genuine F1 by the revision, issue/PR #661).
    pub fn cpuid(self) -> u32 {
        if self.is_clone() {
            0x412F_C231
        } else {
            0x411F_C231
        }
    }

    /// What the debug port reports.
    ///
    /// Genuine: SW-DP DPIDR 0x1BA01477 and JTAG-DP IDCODE 0x3BA00477 (RM0008 31.6.3 and
    /// 31.6.2); the boundary-scan TAP IDCODE is 0x16410041 on medium density and
    /// 0x06414041 on high density (RM0008 31.6.2).
    ///
    /// Clone: the CKS32F103/CS32F103 SW-DP answers 0x2BA01477, which tools written for
    /// genuine F1 reject as an unknown core ID (stlink PR #805 and #834, OpenOCD users see
    /// "UNEXPECTED idcode"). That is ARM's SW-DP of the r2 Cortex-M3, whose JTAG-DP IDCODE
    /// is 0x4BA00477 (as on STM32F2/F4, RM0033 32.6.2). The clone copies ST's
    /// medium-density boundary-scan IDCODE.
    pub fn identity(self) -> Identity {
        match self {
            Variant::Stm32f103c8 | Variant::Stm32f103cb => Identity {
                dpidr: 0x1BA0_1477,
                jtag_idcode: 0x3BA0_0477,
                boundary_scan_idcode: 0x1641_0041,
            },
            Variant::Stm32f103rc => Identity {
                dpidr: 0x1BA0_1477,
                jtag_idcode: 0x3BA0_0477,
                boundary_scan_idcode: 0x0641_4041,
            },
            Variant::Cks32f103c8 => Identity {
                dpidr: 0x2BA0_1477,
                jtag_idcode: 0x4BA0_0477,
                boundary_scan_idcode: 0x1641_0041,
            },
        }
    }

    pub fn flash_timing(self) -> FlashTiming {
        if self.is_clone() {
            CLONE_FLASH_TIMING
        } else {
            GENUINE_FLASH_TIMING
        }
    }

    /// The 96-bit unique ID (RM0008 30.2): made up, fixed per variant so runs repeat.
    pub fn unique_id(self) -> [u8; 12] {
        let last = self as u8;
        [
            0x35, 0xFF, 0xD8, 0x05, 0x42, 0x4E, 0x39, 0x33, 0x28, 0x51, 0x17, last,
        ]
    }
}
