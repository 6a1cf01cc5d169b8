//! The Cortex-M memory map and the dispatch of every access, from the debugger (AHB-AP)
//! or from the core (unicorn-engine memory-mapped I/O callbacks), to memories and
//! registers. The SoC (`crate::soc`) says where its memories are and answers for its
//! system memory and peripherals; the private peripheral bus is the core's.
//!
//! | addresses | what |
//! |---|---|
//! | 0x0000_0000 .. flash size | flash, aliased (STM32 with BOOT0 = 0): data accesses only, the core cannot execute from the alias here |
//! | the SoC's flash base .. flash size | main flash (0x0800_0000 on STM32, 0 on nRF52 and SAMD21) |
//! | the SoC's system memory | bootloader (reads as the SoC says), IDs, option bytes |
//! | the SoC's RAMs | SRAM (and CCM RAM on the F407) |
//! | the SoC's external memory | the H750's QUADSPI window: read-only, and only while the SoC enables it |
//! | 0x4000_0000 .. the SoC's peripheral size | peripherals: RCC and flash controller modelled by the SoC, the rest plain storage |
//! | 0xE000_0000 .. 0xE00F_FFFF | private peripheral bus: ITM, DWT, FPB, SCS, TPIU, ETM, DBGMCU, ROM table (ARMv6-M: DWT, BPU, SCS, ROM table) |
//!
//! Anything else answers a bus error. Accesses must be aligned to their width. The SoC may
//! refuse the debugger any address (nRF52 APPROTECT, the SAMD21 security bit): a bus error.

use super::cache;
use super::core;
use super::debug;
use super::rom_table::{self, DWT_BASE, ETM_BASE, FPB_BASE, ITM_BASE, SCS_BASE, TPIU_BASE};
use super::system::{Stop, System};
use super::trace;
use crate::bus::{BusError, Width};
use crate::soc::{CoreModel, FlashError};
use unicorn_engine::Unicorn;

pub type Emulator<'a> = Unicorn<'a, System>;

pub const FLASH_ALIAS_BASE: u32 = 0x0000_0000;
pub const PRIVATE_PERIPHERAL_BASE: u32 = 0xE000_0000;
pub const PRIVATE_PERIPHERAL_SIZE: u32 = 0x0010_0000;
/// DBGMCU (RM0008 31.6.1 and 31.16.3, RM0090 38.6.1 and 38.16.3).
pub const DBGMCU_IDCODE: u32 = 0xE004_2000;
pub const DBGMCU_CR: u32 = 0xE004_2004;
const DBGMCU_BASE: u32 = 0xE004_2000;
const DBGMCU_APB1_FZ: u32 = 0xE004_2008;
const DBGMCU_APB2_FZ: u32 = 0xE004_200C;

/// Who makes an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The AHB-AP: can be stalled; may write debug registers.
    Debugger,
    /// The core's own loads and stores.
    Core,
    /// A test or tool looking: no side effects, no stalls.
    Inspect,
}

/// Where an address falls.
enum Region {
    Flash(u32),
    SystemMemory,
    Ram,
    External,
    Peripheral,
    PrivatePeripheral,
    Unmapped,
}

fn decode(system: &System, address: u32) -> Region {
    let soc = &system.soc;
    let flash_size = soc.flash_size();
    let flash_base = soc.flash_base();
    let system_memory = soc.system_memory();
    let inside = |base: u32, size: u32| address.checked_sub(base).is_some_and(|o| o < size);
    if soc.flash_alias_at_zero() && address < FLASH_ALIAS_BASE + flash_size {
        Region::Flash(flash_base + address)
    } else if inside(flash_base, flash_size) {
        Region::Flash(address)
    } else if inside(system_memory.base, system_memory.size) {
        Region::SystemMemory
    } else if soc.rams().iter().any(|ram| inside(ram.base, ram.size)) {
        Region::Ram
    } else if soc
        .external_memory()
        .is_some_and(|memory| inside(memory.base, memory.size))
    {
        Region::External
    } else if soc
        .peripherals()
        .iter()
        .any(|window| inside(window.base, window.size))
    {
        Region::Peripheral
    } else if (PRIVATE_PERIPHERAL_BASE..=PRIVATE_PERIPHERAL_BASE + (PRIVATE_PERIPHERAL_SIZE - 1))
        .contains(&address)
    {
        Region::PrivatePeripheral
    } else {
        Region::Unmapped
    }
}

/// The SoC keeps the debugger out of `address` (APPROTECT, security bit).
fn refused(system: &System, address: u32, origin: Origin) -> bool {
    origin == Origin::Debugger && !system.soc.debugger_may_access(address)
}

/// ITM, TPIU and ETM exist: not on ARMv6-M (ARMv6-M C1.1), where their blocks are bus
/// errors.
fn has_trace(uc: &Emulator) -> bool {
    !uc.get_data().soc.core().is_armv6m()
}

/// The bits of `word` that an access of `width` at `address` sees, right-aligned.
pub fn extract(word: u32, address: u32, width: Width) -> u32 {
    let shifted = word >> (8 * (address & 3));
    match width {
        Width::Byte => shifted & 0xFF,
        Width::Half => shifted & 0xFFFF,
        Width::Word => shifted,
    }
}

/// `word` with the bytes an access of `width` at `address` writes replaced by `value`.
pub fn merge(word: u32, address: u32, width: Width, value: u32) -> u32 {
    let shift = 8 * (address & 3);
    let mask = match width {
        Width::Byte => 0xFF,
        Width::Half => 0xFFFF,
        Width::Word => return value,
    } << shift;
    (word & !mask) | ((value << shift) & mask)
}

pub fn read(
    uc: &mut Emulator,
    address: u32,
    width: Width,
    origin: Origin,
) -> Result<u32, BusError> {
    if !address.is_multiple_of(width.bytes()) || refused(uc.get_data(), address, origin) {
        return Err(BusError::Fault);
    }
    match decode(uc.get_data(), address) {
        Region::Flash(address) => read_flash(uc, address, width, origin),
        Region::SystemMemory => {
            let word = uc.get_data().soc.read_system_memory(address & !3);
            Ok(extract(word, address, width))
        }
        Region::Ram if origin == Origin::Debugger => {
            match cache::debugger_read(uc.get_data(), address, width.bytes() as usize) {
                Some(bytes) => Ok(u32::from_le_bytes(bytes)),
                None => read_memory(uc, address, width),
            }
        }
        Region::Ram => read_memory(uc, address, width),
        Region::External if origin == Origin::Inspect || external_enabled(uc.get_data()) => {
            read_memory(uc, address, width)
        }
        Region::External => Err(BusError::Fault),
        Region::Peripheral if origin != Origin::Inspect => {
            let system = uc.get_data_mut();
            let now = system.now_ns;
            match system.soc.read_register_at(address & !3, now) {
                Some(word) => Ok(extract(word, address, width)),
                None => Ok(read_peripheral(system, address, width)),
            }
        }
        Region::Peripheral => Ok(read_peripheral(uc.get_data(), address, width)),
        Region::PrivatePeripheral => {
            let word = read_private_word(uc, address & !3, origin)?;
            Ok(extract(word, address, width))
        }
        Region::Unmapped => Err(BusError::Fault),
    }
}

pub fn write(
    uc: &mut Emulator,
    address: u32,
    width: Width,
    value: u32,
    origin: Origin,
) -> Result<(), BusError> {
    if !address.is_multiple_of(width.bytes()) || refused(uc.get_data(), address, origin) {
        return Err(BusError::Fault);
    }
    match decode(uc.get_data(), address) {
        Region::Flash(address) => write_flash(uc, address, width, value, origin),
        Region::SystemMemory => {
            let system = uc.get_data_mut();
            let now = system.now_ns;
            system
                .soc
                .write_system_memory(address, width.bytes(), value, now)
                .map_err(bus_error)
        }
        Region::Ram
            if origin == Origin::Debugger
                && cache::debugger_write(
                    uc,
                    address,
                    &value.to_le_bytes()[..width.bytes() as usize],
                ) =>
        {
            Ok(())
        }
        Region::Ram => write_memory(uc, address, width, value),
        // Written only by the SoC's part (FlashEffects), as the flash programs.
        Region::External => Err(BusError::Fault),
        Region::Peripheral => write_peripheral(uc.get_data_mut(), address, width, value),
        Region::PrivatePeripheral if address < trace::ITM_STIMULUS_END && has_trace(uc) => {
            // A stimulus write keeps its size: it is the ITM packet's size.
            let system = uc.get_data_mut();
            system.trace.stimulus(
                address >> 2 & 31,
                value,
                width.bytes(),
                system.debug.monitor_control,
                system.now_ns,
            );
            Ok(())
        }
        Region::PrivatePeripheral => {
            let word = match width {
                Width::Word => value,
                _ => merge(
                    read_private_word(uc, address & !3, Origin::Inspect)?,
                    address,
                    width,
                    value,
                ),
            };
            write_private_word(uc, address & !3, word, origin)
        }
        Region::Unmapped => Err(BusError::Fault),
    }
}

fn read_memory(uc: &Emulator, address: u32, width: Width) -> Result<u32, BusError> {
    let mut bytes = [0u8; 4];
    let length = width.bytes() as usize;
    uc.mem_read(u64::from(address), &mut bytes[..length])
        .map_err(|_| BusError::Fault)?;
    Ok(u32::from_le_bytes(bytes))
}

fn write_memory(uc: &mut Emulator, address: u32, width: Width, value: u32) -> Result<(), BusError> {
    let length = width.bytes() as usize;
    store(uc, address, &value.to_le_bytes()[..length]).map_err(|_| BusError::Fault)
}

/// Write memory from outside the core (the debugger, the flash controller, the loader)
/// and drop unicorn's translations of code there: unicorn notices the core's own stores
/// to code, not these, and would otherwise run the old instructions (e.g. one flash
/// loader after another at the same SRAM address).
pub fn store(
    uc: &mut Emulator,
    address: u32,
    bytes: &[u8],
) -> Result<(), unicorn_engine::unicorn_const::uc_error> {
    uc.mem_write(u64::from(address), bytes)?;
    let start = u64::from(address);
    let _ = uc.ctl_remove_cache(start, start + bytes.len() as u64);
    Ok(())
}

/// Reading the array while the controller is busy stalls the bus (RM0008 3.3.3); with
/// read protection the debugger's reads are bus errors (RM0090 3.6.3).
fn read_flash(uc: &Emulator, address: u32, width: Width, origin: Origin) -> Result<u32, BusError> {
    let soc = &uc.get_data().soc;
    if origin == Origin::Debugger && soc.flash_busy_at(address) {
        return Err(BusError::Stall);
    }
    if origin == Origin::Debugger && soc.flash_read_protected() {
        return Err(BusError::Fault);
    }
    read_memory(uc, address, width)
}

fn write_flash(
    uc: &mut Emulator,
    address: u32,
    width: Width,
    value: u32,
    origin: Origin,
) -> Result<(), BusError> {
    if origin == Origin::Inspect {
        return write_memory(uc, address, width, value);
    }
    let current = read_memory(uc, address, Width::Word).unwrap_or(u32::MAX);
    let system = uc.get_data_mut();
    let now = system.now_ns;
    system
        .soc
        .write_flash(address, width.bytes(), value, current, now)
        .map_err(bus_error)
}

fn bus_error(error: FlashError) -> BusError {
    match error {
        FlashError::Busy => BusError::Stall,
        FlashError::Fault => BusError::Fault,
    }
}

fn read_peripheral(system: &System, address: u32, width: Width) -> u32 {
    if let Some(word) = system.soc.read_register(address & !3) {
        return extract(word, address, width);
    }
    let word = system
        .peripherals
        .get(&(address & !3))
        .copied()
        .unwrap_or(0);
    extract(word, address, width)
}

fn write_peripheral(
    system: &mut System,
    address: u32,
    width: Width,
    value: u32,
) -> Result<(), BusError> {
    if let Some(old) = system.soc.read_register(address & !3) {
        let word = merge(old, address, width, value);
        let now = system.now_ns;
        let lanes = (0..4).fold(0, |mask, byte| {
            let written = merge(0, address, width, u32::MAX) >> (8 * byte) & 0xFF != 0;
            mask | u32::from(written) << byte
        });
        if let Some(result) = system
            .soc
            .write_register_lanes(address & !3, word, lanes, now)
        {
            return result.map_err(bus_error);
        }
    }
    let word = system.peripherals.entry(address & !3).or_insert(0);
    *word = merge(*word, address, width, value);
    Ok(())
}

fn read_private_word(uc: &mut Emulator, address: u32, origin: Origin) -> Result<u32, BusError> {
    let offset = address & 0xFFF;
    if let Some(id) = rom_table::component_id(uc.get_data().soc.as_ref(), address)
        && let Some(value) = rom_table::read_id_register(id, offset)
    {
        return Ok(value);
    }
    if let Some(value) = rom_table::device_architecture(uc.get_data().soc.core(), address, offset) {
        return Ok(value);
    }
    let clear = origin != Origin::Inspect;
    if let Some(table) = rom_table::rom_table_at(uc.get_data().soc.as_ref(), address) {
        return Ok(rom_table::read_rom_table(&table, offset));
    }
    let dbgmcu = uc.get_data().soc.dbgmcu_in_private_peripheral_bus();
    match address & !0xFFF {
        ITM_BASE | TPIU_BASE | ETM_BASE if !has_trace(uc) => Err(BusError::Fault),
        DWT_BASE => {
            let sample = core::program_counter_sample(uc);
            Ok(uc
                .get_data_mut()
                .dwt
                .read(offset, clear, sample)
                .unwrap_or(0))
        }
        FPB_BASE => Ok(uc.get_data().fpb.read(offset).unwrap_or(0)),
        SCS_BASE => Ok(read_system_control(uc.get_data_mut(), address, origin)),
        ITM_BASE if address < trace::ITM_STIMULUS_END => {
            let system = uc.get_data();
            Ok(system.trace.read_stimulus(system.now_ns))
        }
        ITM_BASE | TPIU_BASE => Ok(uc.get_data().trace.read(address)),
        ETM_BASE => Ok(0),
        DBGMCU_BASE if dbgmcu => read_debug_mcu(uc.get_data(), address),
        // The SoC's own debug components (the H7's debug APB behind AP2).
        _ => uc
            .get_data()
            .soc
            .read_register(address)
            .ok_or(BusError::Fault),
    }
}

fn read_debug_mcu(system: &System, address: u32) -> Result<u32, BusError> {
    match address {
        DBGMCU_IDCODE => Ok(system.soc.dbgmcu_idcode()),
        DBGMCU_CR => Ok(system.debug_mcu_control),
        DBGMCU_APB1_FZ | DBGMCU_APB2_FZ if system.soc.dbgmcu_freeze_registers() => {
            Ok(system.debug_mcu_freeze[((address - DBGMCU_APB1_FZ) / 4) as usize])
        }
        _ => Err(BusError::Fault),
    }
}

/// A debugger access of a part whose Secure debug is not permitted: every one of its
/// transfers is Non-secure (the AP refuses the others).
fn nonsecure_debugger(system: &System, origin: Origin) -> bool {
    origin != Origin::Core && system.soc.secure_debug() == Some(false)
}

fn read_system_control(system: &mut System, address: u32, origin: Origin) -> u32 {
    let clear = origin != Origin::Inspect;
    match address {
        debug::CPUID => system.soc.cpuid(),
        debug::ID_PFR1 if system.soc.core().is_armv8m() => debug::ID_PFR1_M33,
        debug::AIRCR => system.debug.read_interrupt_control(),
        debug::DFSR => system.debug.fault_status,
        debug::DHCSR => {
            let status = system.core_status();
            let secure_debug = match system.soc.secure_debug() {
                Some(true) => debug::DHCSR_S_SDE,
                _ => 0,
            };
            system.debug.read_halting_status(status, clear) | secure_debug
        }
        debug::DAUTHSTATUS if system.soc.core().is_armv8m() => match system.soc.secure_debug() {
            Some(false) => debug::DAUTHSTATUS_NONSECURE_ONLY,
            _ => debug::DAUTHSTATUS_ALL_ENABLED,
        },
        debug::DAUTHCTRL if nonsecure_debugger(system, origin) => 0,
        debug::DCRSR => 0,
        // Shown Non-secure, without Secure debug: CDS 0, SBRSELEN/SBRSEL RAZ/WI.
        debug::DSCSR if system.soc.secure_debug() == Some(false) => 0,
        debug::DSCSR if system.soc.core() == CoreModel::CortexM33 => {
            let stored = system.system_control.get(&address).copied().unwrap_or(0);
            stored & debug::DSCSR_STORED | debug::DSCSR_CDS
        }
        debug::DCRDR => system.debug.data,
        debug::DEMCR => system.debug.monitor_control,
        _ => {
            let selection = system.system_control.get(&cache::CSSELR).copied();
            cache::read(system.soc.core(), address, selection.unwrap_or(0))
                .unwrap_or_else(|| system.system_control.get(&address).copied().unwrap_or(0))
        }
    }
}

fn write_private_word(
    uc: &mut Emulator,
    address: u32,
    value: u32,
    origin: Origin,
) -> Result<(), BusError> {
    if rom_table::rom_table_at(uc.get_data().soc.as_ref(), address).is_some() {
        return Ok(());
    }
    let trace = has_trace(uc);
    let system = uc.get_data_mut();
    let dbgmcu = system.soc.dbgmcu_in_private_peripheral_bus();
    match address & !0xFFF {
        ITM_BASE | TPIU_BASE | ETM_BASE if !trace => Err(BusError::Fault),
        ETM_BASE => Ok(()),
        ITM_BASE | TPIU_BASE => {
            system.trace.write(address, value);
            Ok(())
        }
        DWT_BASE => {
            system.dwt.write(address & 0xFFF, value);
            system.watchpoints_changed = true;
            Ok(())
        }
        FPB_BASE => {
            system.fpb.write(address & 0xFFF, value);
            Ok(())
        }
        SCS_BASE => {
            write_system_control(uc, address, value, origin);
            Ok(())
        }
        DBGMCU_BASE if dbgmcu => match address {
            DBGMCU_IDCODE => Ok(()),
            DBGMCU_CR => {
                system.debug_mcu_control = value & system.soc.dbgmcu_cr_mask();
                Ok(())
            }
            DBGMCU_APB1_FZ | DBGMCU_APB2_FZ if system.soc.dbgmcu_freeze_registers() => {
                system.debug_mcu_freeze[((address - DBGMCU_APB1_FZ) / 4) as usize] = value;
                Ok(())
            }
            _ => Err(BusError::Fault),
        },
        _ => {
            let now = system.now_ns;
            match system.soc.write_register(address, value, now) {
                Some(result) => result.map_err(bus_error),
                None => Err(BusError::Fault),
            }
        }
    }
}

fn write_system_control(uc: &mut Emulator, address: u32, value: u32, origin: Origin) {
    let armv6m = uc.get_data().soc.core().is_armv6m();
    let system = uc.get_data_mut();
    match address {
        debug::CPUID | debug::ID_PFR1 => {}
        debug::AIRCR => {
            let value = if armv6m {
                value & !debug::VECTRESET
            } else {
                value
            };
            if let Some(request) = system.debug.write_interrupt_control(value) {
                if origin == Origin::Core {
                    system.run.stop = Some(Stop::Reset(request));
                    let _ = uc.emu_stop();
                } else {
                    core::reset(uc, request);
                }
            }
        }
        debug::DFSR => system.debug.clear_fault_status(value),
        // Software cannot drive halting debug (ARMv7-M C1.6.3: C_DEBUGEN is writable
        // only from the DAP); the core's writes to DHCSR, DCRSR are ignored here.
        debug::DHCSR if origin != Origin::Core => {
            let halted = system.run.halted;
            let request = system.debug.write_halting_control(value, halted);
            core::apply_run_request(uc, request);
        }
        debug::DCRSR if origin != Origin::Core => {
            if system.run.halted {
                core::transfer_register(uc, value);
            }
        }
        debug::DHCSR | debug::DCRSR => {}
        debug::DCRDR => system.debug.data = value,
        debug::DSCSR | debug::DAUTHCTRL if nonsecure_debugger(system, origin) => {}
        debug::DSCSR if system.soc.core() == CoreModel::CortexM33 => {
            system
                .system_control
                .insert(address, value & debug::DSCSR_STORED);
        }
        debug::DEMCR if armv6m => system
            .debug
            .write_monitor_control(value & debug::ARMV6M_DEMCR_STORED),
        debug::DEMCR => system.debug.write_monitor_control(value),
        cache::CCR => {
            system.system_control.insert(address, value);
            cache::settle(uc);
        }
        _ if cache::is_maintenance(system.soc.core(), address) => {
            cache::maintain(uc, address, value)
        }
        _ if cache::ignores_write(system.soc.core(), address) => {}
        _ => {
            system.system_control.insert(address, value);
        }
    }
}

/// The stack pointer and entry point the core takes at reset: words 0 and 1 of the flash
/// through the alias at 0 (PM0056 2.3.2 "vector table").
pub fn reset_vector(uc: &Emulator) -> (u32, u32) {
    let base = uc.get_data().soc.flash_base();
    let stack = read_memory(uc, base, Width::Word).unwrap_or(u32::MAX);
    let entry = read_memory(uc, base + 4, Width::Word).unwrap_or(u32::MAX);
    (stack, entry)
}

/// The SoC's external memory answers now.
pub fn external_enabled(system: &System) -> bool {
    system.soc.external_memory_enabled()
}

/// Is `address` in the SoC's external memory?
pub fn in_external(system: &System, address: u32) -> bool {
    system
        .external
        .is_some_and(|memory| address.wrapping_sub(memory.base) < memory.size)
}

/// Is `address` in the flash array or its alias?
pub fn in_flash(system: &System, address: u32) -> bool {
    matches!(decode(system, address), Region::Flash(_))
}
