//! The SoCs the simulator can be, one module per family, behind the [`Soc`] trait.
//!
//! `chip` holds what every Cortex-M has (the core on unicorn-engine, the SCS debug
//! registers, FPB, DWT, the ROM table's layout) and asks the SoC for the rest: its
//! identity (DPIDR, CPUID, ROM table part number, DBGMCU_IDCODE), its memory map, its
//! flash controller and the peripherals it models. Adding a family is a module here that
//! implements [`Soc`], its variants in [`Variant`] and one arm in [`Variant::soc`].

pub mod cortex_m33;
pub mod flash;
pub mod nrf52;
pub mod rp2040;
pub mod samd21;
pub mod spi_flash;
pub mod stm32f1;
pub mod stm32f4;
pub mod stm32h7;
pub mod usart;

use crate::bus::{AccessPortIdentity, AccessPortKind, Identity};

/// Every chip the simulator can be (`bmp-sim --chip NAME`, `BMP_WIRE=sim:NAME`).
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
    /// STM32F407VG: 1 MB flash in 12 sectors, 128 KB SRAM + 64 KB CCM RAM (DS8626 table 2).
    Stm32f407vg,
    /// STM32F411CE: 512 KB flash in 8 sectors, 128 KB SRAM (DS10314 table 2).
    Stm32f411ce,
    /// STM32F401CC: 256 KB flash in 6 sectors, 64 KB SRAM (DS10086 table 2).
    Stm32f401cc,
    /// STM32H743ZI: Cortex-M7, 2 MB flash in two banks of 8 x 128 KB sectors, 1 MB RAM
    /// (DS12110 table 2).
    Stm32h743zi,
    /// STM32H750VB: Cortex-M7, 128 KB flash (one sector), 1 MB RAM (DS12556 table 2).
    Stm32h750vb,
    /// nRF52840 (QIAA, build code C0): Cortex-M4F, 1 MB flash in 4 KB pages, 256 KB RAM,
    /// NVMC, UICR, APPROTECT and the CTRL-AP (nRF52840 PS v1.7).
    Nrf52840,
    /// ATSAMD21G18A: Cortex-M0+, 256 KB flash in 64-byte pages and 256-byte rows, 32 KB
    /// SRAM, DSU and NVMCTRL (SAM D21 datasheet DS40001882).
    Atsamd21g18a,
    /// Raspberry Pi RP2040: two Cortex-M0+ behind SWD multi-drop, boot ROM, 264 KB SRAM,
    /// a 2 MB W25Q16JV QSPI flash behind XIP (RP2040 datasheet).
    Rp2040,
    /// A generic Cortex-M33 (ARMv8-M mainline, Security Extension, FPU): no vendor's part,
    /// see `cortex_m33`.
    CortexM33,
    /// The same part with Secure debug not permitted (SPIDEN low) and its core shown to the
    /// debugger in Non-secure state, with a Secure half of code memory and SRAM the
    /// debugger cannot reach (`cortex_m33`).
    CortexM33NonSecure,
}

impl Variant {
    pub const ALL: [Variant; 14] = [
        Variant::Stm32f103c8,
        Variant::Stm32f103cb,
        Variant::Stm32f103rc,
        Variant::Cks32f103c8,
        Variant::Stm32f407vg,
        Variant::Stm32f411ce,
        Variant::Stm32f401cc,
        Variant::Stm32h743zi,
        Variant::Stm32h750vb,
        Variant::Nrf52840,
        Variant::Atsamd21g18a,
        Variant::Rp2040,
        Variant::CortexM33,
        Variant::CortexM33NonSecure,
    ];

    /// The name on the command line (`bmp-sim --chip`, `BMP_WIRE=sim:NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Variant::Stm32f103c8 => "stm32f103c8",
            Variant::Stm32f103cb => "stm32f103cb",
            Variant::Stm32f103rc => "stm32f103rc",
            Variant::Cks32f103c8 => "cks32f103c8",
            Variant::Stm32f407vg => "stm32f407vg",
            Variant::Stm32f411ce => "stm32f411ce",
            Variant::Stm32f401cc => "stm32f401cc",
            Variant::Stm32h743zi => "stm32h743zi",
            Variant::Stm32h750vb => "stm32h750vb",
            Variant::Nrf52840 => "nrf52840",
            Variant::Atsamd21g18a => "atsamd21g18a",
            Variant::Rp2040 => "rp2040",
            Variant::CortexM33 => "cortex-m33",
            Variant::CortexM33NonSecure => "cortex-m33-ns",
        }
    }

    /// The variant a command-line name names, ignoring case.
    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL
            .into_iter()
            .find(|variant| variant.name().eq_ignore_ascii_case(name))
    }

    /// The SoC model of this variant, just powered on.
    pub fn soc(self) -> Box<dyn Soc> {
        match self {
            Variant::Stm32f103c8
            | Variant::Stm32f103cb
            | Variant::Stm32f103rc
            | Variant::Cks32f103c8 => Box::new(stm32f1::Stm32f1::new(self)),
            Variant::Stm32f407vg | Variant::Stm32f411ce | Variant::Stm32f401cc => {
                Box::new(stm32f4::Stm32f4::new(self))
            }
            Variant::Stm32h743zi | Variant::Stm32h750vb => Box::new(stm32h7::Stm32h7::new(self)),
            Variant::Nrf52840 => Box::new(nrf52::Nrf52::new(self)),
            Variant::Atsamd21g18a => Box::new(samd21::Samd21::new(self)),
            // Core 0 alone; `chip::MultiCore` builds both cores around one shared state.
            Variant::Rp2040 => Box::new(rp2040::Rp2040::new(0, Default::default())),
            Variant::CortexM33 => Box::new(cortex_m33::CortexM33::new(true)),
            Variant::CortexM33NonSecure => Box::new(cortex_m33::CortexM33::new(false)),
        }
    }
}

/// The Cortex-M core a SoC is built around: unicorn-engine's CPU model and the ARM
/// CoreSight part numbers of its debug components.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreModel {
    /// ARMv7-M, no FPU.
    CortexM3,
    /// ARMv7E-M with the single-precision FPv4-SP: S0-S31 and FPSCR through DCRSR.
    CortexM4F,
    /// ARMv7E-M with the double-precision FPv5 (D0-D15 are S0-S31 in pairs), L1 caches
    /// and the version 2 FPB (Cortex-M7 TRM).
    CortexM7,
    /// ARMv6-M (unicorn's Cortex-M0 model): no FPU, BASEPRI or FAULTMASK; the debug
    /// unit of ARMv6-M (BPU, a DWT without cycle counter, no ITM/TPIU/ETM).
    CortexM0Plus,
    /// ARMv8-M mainline with the Security Extension and the FPv5 single-precision FPU
    /// (unicorn's Cortex-M33): the ARMv8-M debug components (CoreSight class 0x9, part
    /// 0xD21), a version 2 FPB (BPU) with 8 comparators, DSCSR.
    CortexM33,
}

impl CoreModel {
    pub fn has_fpu(self) -> bool {
        matches!(
            self,
            CoreModel::CortexM4F | CoreModel::CortexM7 | CoreModel::CortexM33
        )
    }

    /// ARMv6-M rather than ARMv7-M.
    pub fn is_armv6m(self) -> bool {
        self == CoreModel::CortexM0Plus
    }

    /// ARMv8-M mainline (its DWT, DSCSR, banked and stack-limit registers).
    pub fn is_armv8m(self) -> bool {
        self == CoreModel::CortexM33
    }

    /// MVFR0, MVFR1, MVFR2 (ARMv7-M B4.6; Cortex-M4 TRM 7.2, Cortex-M7 TRM 3.3): what the
    /// FPU implements; zero without one.
    pub fn media_and_fp_features(self) -> [u32; 3] {
        match self {
            CoreModel::CortexM3 | CoreModel::CortexM0Plus => [0; 3],
            CoreModel::CortexM4F => [0x1011_0021, 0x1100_0011, 0],
            CoreModel::CortexM7 => [0x1011_0221, 0x1200_0011, 0x0000_0040],
            // Cortex-M33 TRM "Floating-point unit": single precision, 16 double words.
            CoreModel::CortexM33 => [0x1011_0021, 0x1100_0011, 0x0000_0040],
        }
    }
}

/// Why a flash-side access did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashError {
    /// The controller is busy: the bus stalls until it is done.
    Busy,
    /// A bus error (wrong key, a write the controller refuses).
    Fault,
}

/// What a write to a SoC's own access port asks of the chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessPortAction {
    Nothing,
    /// Hold the chip in reset (true) or let it go (false), as nRST does (the nRF52
    /// CTRL-AP's RESET register).
    HoldReset(bool),
}

/// A change to the flash array to apply when an operation ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlashEffect {
    /// The bytes replace what is there.
    Program { address: u32, bytes: Vec<u8> },
    /// The bytes are ANDed into what is there: NOR programming only clears bits (a
    /// second write to a word without erase, nRF52 PS 4.3 and SAM D21 22.6.4).
    Clear { address: u32, bytes: Vec<u8> },
    /// Bytes to 0 (RAM cleared by a SAMD21 chip erase, DS40001882 13.7).
    Zero { address: u32, length: u32 },
    /// Bytes to 0xFF.
    Erase { address: u32, length: u32 },
    /// Several of these, in order.
    Several(Vec<FlashEffect>),
}

/// A memory the core and the debugger use directly (unicorn RAM).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub base: u32,
    pub size: u32,
}

/// Main flash is at 0x0800_0000 on every STM32, aliased at 0 when booting from flash.
pub const FLASH_BASE: u32 = 0x0800_0000;

/// One family's SoC: everything the chip asks that is not the Cortex-M core.
///
/// Addresses are absolute; register values are whole aligned words. Timing is virtual
/// (`now_ns`); an operation's effect on the flash array is handed back as a
/// [`FlashEffect`] for the chip to apply to the core's memory.
pub trait Soc: Send {
    fn variant(&self) -> Variant;
    fn core(&self) -> CoreModel;
    /// SCB CPUID (ARMv7-M B3.2.3).
    fn cpuid(&self) -> u32;
    /// What the debug port reports (DPIDR, JTAG IDCODE, boundary-scan IDCODE).
    fn identity(&self) -> Identity;
    /// PIDR of the top ROM table (0xE00F_F000), PIDR4 in bits 39:32 down to PIDR0: on
    /// STM32 the designer is ST and the part number the DBGMCU device ID.
    fn rom_table_peripheral_id(&self) -> u64;
    /// DBGMCU_IDCODE (0xE004_2000 on STM32F1/F4).
    fn dbgmcu_idcode(&self) -> u32;
    /// The DBGMCU_CR bits that exist and hold what is written.
    fn dbgmcu_cr_mask(&self) -> u32;
    /// DBGMCU_APB1_FZ and DBGMCU_APB2_FZ (0xE004_2008, 0xE004_200C) exist (F2/F4).
    fn dbgmcu_freeze_registers(&self) -> bool {
        false
    }

    /// Main flash size in bytes, at [`Soc::flash_base`] (and aliased at 0 where
    /// [`Soc::flash_alias_at_zero`]).
    fn flash_size(&self) -> u32;
    /// Where main flash is: [`FLASH_BASE`] on STM32, 0 on the nRF52 and SAMD21.
    fn flash_base(&self) -> u32 {
        FLASH_BASE
    }
    /// What the flash array holds at power-on: erased (None) or this image (the RP2040's
    /// boot ROM, which stands where the simulator keeps a flash array).
    fn initial_flash(&self) -> Option<Vec<u8>> {
        None
    }
    /// Host memory backing the first RAM, shared with another core's SoC (the RP2040's
    /// two cores); None: the core's own.
    fn shared_ram(&self) -> Option<*mut u8> {
        None
    }
    /// Host memory holding what the core sees in `system_memory`, mapped into the core
    /// for reading and executing (the RP2040's XIP window, a copy of the QSPI flash kept
    /// by the SoC); None: system memory answers through `read_system_memory`.
    fn executable_system_memory(&self) -> Option<*mut u8> {
        None
    }
    /// Changes so far to that memory: the core drops its translations of code there
    /// when this moves on.
    fn code_generation(&self) -> u64 {
        0
    }
    /// A boot ROM function the simulator performs itself when the core reaches its entry
    /// (the RP2040's flash functions); the instruction there then runs (`bx lr`).
    fn is_host_function(&self, _address: u32) -> bool {
        false
    }
    /// Perform the host function at `address` with the core's r0-r3.
    fn call_host_function(&mut self, _address: u32, _arguments: [u32; 4], _now_ns: u64) {}
    /// The core at `pc` is inside a host function waiting for the flash (the RP2040's
    /// ROM polling the flash's status register): running, but the PC stays until
    /// `flash_busy_until`.
    fn core_waits_at(&self, _pc: u32) -> bool {
        false
    }
    /// A host function asked for a chip reset (the RP2040's reset_to_usb_boot): true once.
    fn take_reset_request(&mut self) -> bool {
        false
    }
    /// Memory outside the chip that the core executes from, mapped in the core (unicorn
    /// memory): the H750's QUADSPI window at 0x9000_0000. The SoC keeps it in step with
    /// its part through [`FlashEffect`]s from `complete_flash`.
    fn external_memory(&self) -> Option<Memory> {
        None
    }
    /// That memory answers now (the QUADSPI is in memory-mapped mode); else an access
    /// there, by the core or the debugger, is a bus error.
    fn external_memory_enabled(&self) -> bool {
        false
    }
    /// The RAMs (first: the one at 0x2000_0000).
    fn rams(&self) -> Vec<Memory>;
    /// The system memory block (bootloader, IDs, option bytes): base and size; every
    /// access there goes to `read_system_memory` / `write_system_memory`.
    fn system_memory(&self) -> Memory;
    fn read_system_memory(&self, address: u32) -> u32;
    fn write_system_memory(
        &mut self,
        address: u32,
        bytes: u32,
        value: u32,
        now_ns: u64,
    ) -> Result<(), FlashError>;
    /// Peripheral windows (the first from 0x4000_0000); words the SoC does not model hold
    /// what was written.
    fn peripherals(&self) -> Vec<Memory>;
    /// AP0's IDR and BASE (where the ROM table is).
    fn access_port(&self) -> AccessPortIdentity {
        AccessPortIdentity::CORTEX_M3
    }
    /// The access port at APSEL `index`: by default AP0 only, the MEM-AP `access_port`
    /// describes.
    fn access_port_at(&self, index: u8) -> Option<AccessPortKind> {
        (index == 0).then_some(AccessPortKind::Memory {
            identity: self.access_port(),
            enabled: true,
        })
    }
    /// A register of an [`AccessPortKind::Own`] access port.
    fn read_access_port(&mut self, _index: u8, _register: u8, _now_ns: u64) -> u32 {
        0
    }
    fn write_access_port(
        &mut self,
        _index: u8,
        _register: u8,
        _value: u32,
        _now_ns: u64,
    ) -> AccessPortAction {
        AccessPortAction::Nothing
    }
    /// A part with the Security Extension: whether Secure debug is permitted (SPIDEN,
    /// DHCSR.S_SDE, DAUTHSTATUS.SID); None without it.
    fn secure_debug(&self) -> Option<bool> {
        None
    }
    /// The part's Security attribution (its IDAU and SAU as a debugger's Non-secure
    /// transfer meets them): true where `address` is Secure, which a Non-secure access
    /// may not reach.
    fn secure_at(&self, _address: u32) -> bool {
        false
    }
    /// May the debugger's MEM-AP reach `address` now? False under nRF52 APPROTECT
    /// (everything) or the SAMD21 security bit (all but the DSU's external range).
    fn debugger_may_access(&self, _address: u32) -> bool {
        true
    }
    /// The flash is aliased at 0 (STM32F1/F4 booting from flash); the H7 has its ITCM
    /// RAM there instead.
    fn flash_alias_at_zero(&self) -> bool {
        true
    }
    /// DBGMCU sits at 0xE004_2000 on the private peripheral bus (F1/F4); the H7's is a
    /// peripheral the SoC models itself.
    fn dbgmcu_in_private_peripheral_bus(&self) -> bool {
        true
    }
    /// A modelled peripheral register word, None for plain storage.
    fn read_register(&self, address: u32) -> Option<u32>;
    /// Write a modelled peripheral register word; None for plain storage.
    fn write_register(
        &mut self,
        address: u32,
        value: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>>;
    /// A write of the byte lanes `lanes` (bit n: byte n) of a modelled register word;
    /// `value` is the whole word with the other bytes as read. Registers with
    /// write-one-to-clear bytes next to others (SAMD21 DSU STATUSA) need the lanes.
    fn write_register_lanes(
        &mut self,
        address: u32,
        value: u32,
        _lanes: u32,
        now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        self.write_register(address, value, now_ns)
    }
    /// A read by the core or the debugger of a register whose value depends on the time or
    /// changes when read (a USART's SR and DR); None for the others, which
    /// `read_register` answers. Inspection without side effects uses `read_register`.
    fn read_register_at(&mut self, _address: u32, _now_ns: u64) -> Option<u32> {
        None
    }
    /// The UART wired to the probe's UART bridge (USART1 on STM32F1): the bytes it has sent
    /// whose last bit has left by `now_ns`, appended to `out`, and its line format (None
    /// when off or when the SoC has none).
    fn take_uart(&mut self, _now_ns: u64, _out: &mut Vec<u8>) -> Option<usart::LineFormat> {
        None
    }
    /// Bytes from the probe to that UART, sent in `format` from `now_ns`: the count the line
    /// took.
    fn send_uart(&mut self, _data: &[u8], _format: usart::LineFormat, _now_ns: u64) -> usize {
        0
    }
    /// nRST or SYSRESETREQ: peripherals and the flash controller to reset values. An
    /// operation in progress is finished at once (its effects are returned).
    fn reset(&mut self) -> Vec<FlashEffect>;

    /// The flash controller, which the flash methods below use by default; None: no flash
    /// the debugger writes through the SoC (they then answer idle, and a write a fault).
    fn flash(&self) -> Option<&dyn flash::Controller> {
        None
    }
    fn flash_mut(&mut self) -> Option<&mut dyn flash::Controller> {
        None
    }
    /// An erase of the whole chip ended: what it does beyond the array (protection ends).
    fn chip_erased(&mut self) {}

    /// What the flash did since the last call (benchmarks).
    fn take_flash_activity(&mut self) -> flash::FlashActivity {
        self.flash_mut()
            .map(|flash| flash.take_activity())
            .unwrap_or_default()
    }
    /// When the flash controller's operation ends, if it is busy.
    fn flash_busy_until(&self) -> Option<u64> {
        self.flash()?.busy_until_ns()
    }
    fn flash_busy(&self) -> bool {
        self.flash_busy_until().is_some()
    }
    /// Reading or fetching at `address` in the flash must wait for an operation (a dual
    /// bank flash reads one bank while the other works).
    fn flash_busy_at(&self, address: u32) -> bool {
        self.flash().is_some_and(|flash| flash.busy_at(address))
    }
    /// Finish an operation whose time has come; called until it answers None.
    fn complete_flash(&mut self, now_ns: u64) -> Option<FlashEffect> {
        let flash = self.flash_mut()?;
        let effect = flash.complete(now_ns);
        if flash.take_chip_erased() {
            self.chip_erased();
        }
        effect
    }
    /// Finish an operation now, whatever the time (a core access that must wait); called
    /// until it answers None.
    fn complete_flash_now(&mut self) -> Option<FlashEffect> {
        self.complete_flash(u64::MAX)
    }
    /// A write of `bytes` (1, 2, 4) to the flash array at `address` (in FLASH_BASE..);
    /// `current` holds the four bytes there now, little-endian.
    fn write_flash(
        &mut self,
        address: u32,
        bytes: u32,
        value: u32,
        current: u32,
        now_ns: u64,
    ) -> Result<(), FlashError> {
        match self.flash_mut() {
            Some(flash) => flash.write_array(address, bytes, value, current, now_ns),
            None => Err(FlashError::Fault),
        }
    }
    /// Debugger reads of the flash array answer a bus error (read protection).
    fn flash_read_protected(&self) -> bool {
        self.flash().is_some_and(|flash| flash.read_protected())
    }
}
