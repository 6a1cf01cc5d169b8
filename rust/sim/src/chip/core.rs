//! The Cortex-M core on unicorn-engine (the SoC names the model), and what the debug logic does to it: run for a
//! share of virtual time, halt, step, reset, and move registers through DCRSR/DCRDR.
//!
//! Approximations, all on purpose:
//! - One instruction per cycle at 72 MHz. A slice of virtual time lets the core start as
//!   many instructions as the slice has cycles.
//! - Exceptions are not modelled (there is no NVIC): a fault, an SVC, an undefined
//!   instruction, a bus error on a core access, or a BKPT with debug disabled lock the
//!   core up (DHCSR.S_LOCKUP) at the instruction. Interrupts never arrive, so WFI and WFE
//!   sleep until a halt or a reset.
//! - While the flash controller is busy, a core running from flash does not advance
//!   (its fetches would stall); a core running from SRAM runs on. A core store to the
//!   array takes effect when the controller finishes; a store while busy waits for the
//!   operation in progress to end (the bus stalls the core) and starts the next then.
//! - The core's halt on a DWT match comes after the accessing instruction, before the
//!   next one (ARMv7-M C1.8.1 allows the halt to be imprecise; here it is exact).
//! - unicorn-engine is created without its MCLASS mode flag, which would make it run a
//!   Cortex-M33 whatever model is asked for (unicorn 2.1.5 `cpu.c`); the model is the
//!   SoC's (M3, M4, M7, M33; the M0+ runs on unicorn's M0). unicorn's FPU is always enabled
//!   (it ignores CPACR); the simulator checks CPACR itself: on a core with an FPU, an
//!   instruction in the coprocessor space for CP10/CP11 (T32 first half-word 0b111x11xx,
//!   coproc 0b101x: ARMv7-M A5.3.18) while CPACR.CP10 is 0b00 (its reset value) is a NOCP
//!   UsageFault (B3.2.20): CFSR.NOCP is set and, with DEMCR.VC_NOCPERR and debug enabled,
//!   the core halts (DFSR.VCATCH) at that instruction instead of at the handler (no
//!   exception entry is modelled); without it the core locks up, as for every exception
//!   the simulator does not model. CPACR.CP10 0b01 counts as full access (privilege is
//!   not checked).
//! - The Cortex-M33 has the Security Extension and stays in Secure state (it resets there;
//!   unicorn 2.1.5 has no NVIC device, so its SAU stays off and all memory is Secure):
//!   DSCSR.CDS reads 1. DCRSR's ARMv8-M selectors (ARMv8-M ARM D1.2 DCRSR: MSP_NS 0x18,
//!   PSP_NS 0x19, MSP_S 0x1A, PSP_S 0x1B, MSPLIM_S 0x1C, PSPLIM_S 0x1D, MSPLIM_NS 0x1E,
//!   PSPLIM_NS 0x1F) reach the core's own banked registers: unicorn exposes only the
//!   current bank's MSP and PSP, so the others move through an MRS or MSR (SYSm 0x88,
//!   0x89, 0x0A, 0x0B, 0x8A, 0x8B) that the halted core executes once in place of the
//!   instruction at its PC (r0 and the instruction put back after, the IT bits cleared
//!   meanwhile; a branch to itself follows it, for the one instruction unicorn may run
//!   past a one-instruction run). So, as on silicon for software, they read as zero and ignore writes
//!   while the core is unprivileged (CONTROL.nPRIV in Thread mode), which a debugger's
//!   DCRSR transfer on silicon is not subject to; the PC must be in executable memory.
//!   DCRSR 0x22 (CONTROL_S, FAULTMASK_S, BASEPRI_S, PRIMASK_S packed as in 0x14) is the
//!   core's current word; 0x23 (the Non-secure ones) moves each through an MRS/MSR the
//!   same way (SYSm 0x90, 0x91, 0x93, 0x94). CONTROL keeps only nPRIV and SPSEL, as 0x14.
//!   A part shown Non-secure (`cortex-m33-ns`, `soc::cortex_m33`) relabels: its core's
//!   current (really Secure) bank is what the Non-secure selectors (0x18, 0x19, 0x1E,
//!   0x1F, 0x23) reach, and the Secure selectors read zero and ignore writes.
//! - A SoC's external memory (the H750's QUADSPI window) is unicorn memory, read-only
//!   and executable, that the SoC's part updates through flash effects; while the SoC
//!   disables it, the core's fetches and reads there lock it up (bus error).
//! - The Cortex-M7's caches are not in the core's path (unicorn has none): its loads,
//!   stores and fetches reach memory. The debugger's writes to cacheable RAM with CCR.DC
//!   or IC set stay hidden from the core until the maintenance operations a debugger owes
//!   (clean and invalidate, invalidate the instruction cache); `cache` says how.
//! - System memory a SoC backs with host memory (`Soc::executable_system_memory`: the
//!   RP2040's XIP window) is plain unicorn memory, read and executed without the SoC's
//!   register dispatch; the SoC keeps it in step with its flash, and the core drops its
//!   translations of it whenever `Soc::code_generation` moves on (before each slice and
//!   after a boot ROM host function).

use super::cache;
use super::debug;
use super::debug::{
    DCRSR_REGSEL, DCRSR_REGWNR, DFSR_BKPT, DFSR_DWTTRAP, DFSR_HALTED, DFSR_VCATCH, ResetRequest,
    RunRequest,
};
use super::memory_map::{
    self, Emulator, FLASH_ALIAS_BASE, Origin, PRIVATE_PERIPHERAL_BASE, PRIVATE_PERIPHERAL_SIZE,
};
use super::system::{RunState, Stop, System};
use crate::bus::Width;
use crate::soc::{CoreModel, FlashEffect, Soc};
use unicorn_engine::unicorn_const::{Arch, HookType, MemType, Mode, Prot, uc_error};
use unicorn_engine::{ArmCpuModel, RegisterARM, Unicorn};

/// QEMU's EXCP_BKPT, the number unicorn-engine passes to interrupt hooks for BKPT.
const EXCEPTION_BREAKPOINT: u32 = 7;
/// The xPSR Thumb bit (ARMv7-M B1.4.2); always set on an M-profile core.
const XPSR_THUMB: u32 = 1 << 24;
/// DCRSR REGSEL values (ARMv7-M C1.6.4 table C1-10).
const SELECT_STACK_POINTER: u32 = 13;
const SELECT_LINK_REGISTER: u32 = 14;
const SELECT_DEBUG_RETURN_ADDRESS: u32 = 15;
const SELECT_XPSR: u32 = 16;
const SELECT_MAIN_STACK_POINTER: u32 = 17;
const SELECT_PROCESS_STACK_POINTER: u32 = 18;
/// CONTROL [31:24], FAULTMASK [23:16], BASEPRI [15:8], PRIMASK [7:0].
const SELECT_SPECIAL: u32 = 20;
/// ARMv8-M with the Security Extension (ARMv8-M ARM D1.2 DCRSR): the banked stack
/// pointers and the stack limits, MSP_NS 0x18 to PSPLIM_NS 0x1F.
const SELECT_MSP_NS: u32 = 0x18;
const SELECT_PSPLIM_NS: u32 = 0x1F;
const SELECT_PSP_NS: u32 = 0x19;
const SELECT_MSP_S: u32 = 0x1A;
const SELECT_PSP_S: u32 = 0x1B;
const SELECT_MSPLIM_NS: u32 = 0x1E;
/// Each security state's CONTROL, FAULTMASK, BASEPRI and PRIMASK, packed as in 0x14
/// (ARMv8-M ARM D1.2 DCRSR: 0x22 Secure, 0x23 Non-secure).
const SELECT_SPECIAL_S: u32 = 0x22;
const SELECT_SPECIAL_NS: u32 = 0x23;
/// The SYSm of the Non-secure special registers from Secure state (ARMv8-M ARM C2.4 MRS:
/// bit 7 chooses the Non-secure bank): PRIMASK_NS 0x90, BASEPRI_NS 0x91, FAULTMASK_NS
/// 0x93, CONTROL_NS 0x94, in SPECIAL_REGISTERS' order.
const SPECIAL_NS_SYSM: [u32; 4] = [0x90, 0x94, 0x91, 0x93];
/// The current state's stack limits (SYSm 0x0A, 0x0B).
const SYSM_MSPLIM: u32 = 0x0A;
const SYSM_PSPLIM: u32 = 0x0B;
/// The SYSm of MRS/MSR (ARMv8-M ARM B5.1.? "special register encodings") for 0x18-0x1F
/// from Secure state: MSP_NS 0x88, PSP_NS 0x89, (MSP_S, PSP_S: the current MSP, PSP),
/// MSPLIM 0x0A, PSPLIM 0x0B, MSPLIM_NS 0x8A, PSPLIM_NS 0x8B.
const BANKED_SYSM: [u32; 8] = [0x88, 0x89, 0x08, 0x09, 0x0A, 0x0B, 0x8A, 0x8B];
/// B . (Thumb, ARMv7-M A7.7.12 encoding T2 with offset -4: 0xE7FE).
const BRANCH_TO_SELF: u16 = 0xE7FE;
/// xPSR's IT/ICI bits [26:25] and [15:10] (ARMv7-M B1.4.2).
const XPSR_IT: u32 = 0x0600_FC00;
/// With an FPU (ARMv7-M C1.6.4): FPSCR 0x21, S0-S31 0x40-0x5F.
const SELECT_FPSCR: u32 = 0x21;
const SELECT_S0: u32 = 0x40;

const FLOATING_POINT_REGISTERS: [RegisterARM; 32] = [
    RegisterARM::S0,
    RegisterARM::S1,
    RegisterARM::S2,
    RegisterARM::S3,
    RegisterARM::S4,
    RegisterARM::S5,
    RegisterARM::S6,
    RegisterARM::S7,
    RegisterARM::S8,
    RegisterARM::S9,
    RegisterARM::S10,
    RegisterARM::S11,
    RegisterARM::S12,
    RegisterARM::S13,
    RegisterARM::S14,
    RegisterARM::S15,
    RegisterARM::S16,
    RegisterARM::S17,
    RegisterARM::S18,
    RegisterARM::S19,
    RegisterARM::S20,
    RegisterARM::S21,
    RegisterARM::S22,
    RegisterARM::S23,
    RegisterARM::S24,
    RegisterARM::S25,
    RegisterARM::S26,
    RegisterARM::S27,
    RegisterARM::S28,
    RegisterARM::S29,
    RegisterARM::S30,
    RegisterARM::S31,
];

const GENERAL_REGISTERS: [RegisterARM; 13] = [
    RegisterARM::R0,
    RegisterARM::R1,
    RegisterARM::R2,
    RegisterARM::R3,
    RegisterARM::R4,
    RegisterARM::R5,
    RegisterARM::R6,
    RegisterARM::R7,
    RegisterARM::R8,
    RegisterARM::R9,
    RegisterARM::R10,
    RegisterARM::R11,
    RegisterARM::R12,
];

/// A core with the chip's memories mapped and the debug hooks in place.
pub fn create(soc: Box<dyn Soc>) -> Result<Emulator<'static>, uc_error> {
    // Not Mode::MCLASS: see the approximations above.
    let mut uc = Unicorn::new_with_data(Arch::ARM, Mode::THUMB, System::new(soc))?;
    let soc = &uc.get_data().soc;
    let model = match soc.core() {
        CoreModel::CortexM3 => ArmCpuModel::CORTEX_M3,
        CoreModel::CortexM4F => ArmCpuModel::CORTEX_M4,
        CoreModel::CortexM7 => ArmCpuModel::CORTEX_M7,
        CoreModel::CortexM33 => ArmCpuModel::CORTEX_M33,
        // unicorn has no M0+ model; its M0 runs the same ARMv6-M instruction set.
        CoreModel::CortexM0Plus => ArmCpuModel::CORTEX_M0,
    };
    let flash_alias = soc.flash_alias_at_zero();
    let flash_size = soc.flash_size();
    let flash_base = soc.flash_base();
    let rams = soc.rams();
    let system_memory = soc.system_memory();
    let peripherals = soc.peripherals();
    let initial = soc
        .initial_flash()
        .unwrap_or_else(|| vec![0xFF; flash_size as usize]);
    let shared_ram = soc.shared_ram();
    let external = soc.external_memory();
    uc.ctl_set_cpu_model(model as i32)?;
    uc.mem_map(u64::from(flash_base), u64::from(flash_size), Prot::ALL)?;
    uc.mem_write(u64::from(flash_base), &initial)?;
    for (index, ram) in rams.into_iter().enumerate() {
        match shared_ram.filter(|_| index == 0) {
            // SAFETY: the SoC keeps the block (ram.size bytes) alive as long as this
            // instance, which owns the SoC (`rp2040::Shared`).
            Some(pointer) => unsafe {
                uc.mem_map_ptr(
                    u64::from(ram.base),
                    u64::from(ram.size),
                    Prot::ALL,
                    pointer.cast(),
                )?
            },
            None => uc.mem_map(u64::from(ram.base), u64::from(ram.size), Prot::ALL)?,
        }
    }
    if let Some(memory) = external {
        let (base, size) = (u64::from(memory.base), u64::from(memory.size));
        uc.mem_map(base, size, Prot::READ | Prot::EXEC)?;
        uc.mem_write(base, &vec![0xFF; memory.size as usize])?;
        uc.add_mem_hook(HookType::MEM_READ, base, base + size - 1, on_external_read)?;
    }
    if flash_alias {
        map_registers(&mut uc, FLASH_ALIAS_BASE, flash_size)?;
    }
    // unicorn maps whole 4 KB pages.
    let system_memory_size = system_memory.size.next_multiple_of(0x1000);
    match uc.get_data().soc.executable_system_memory() {
        // SAFETY: the SoC keeps the block (system_memory.size bytes, a multiple of 4 KB)
        // alive as long as this instance, which owns the SoC (`rp2040::Shared`).
        Some(pointer) => unsafe {
            uc.mem_map_ptr(
                u64::from(system_memory.base),
                u64::from(system_memory_size),
                Prot::READ | Prot::EXEC,
                pointer.cast(),
            )?
        },
        None => map_registers(&mut uc, system_memory.base, system_memory_size)?,
    }
    for window in peripherals {
        map_registers(&mut uc, window.base, window.size.next_multiple_of(0x1000))?;
    }
    map_registers(&mut uc, PRIVATE_PERIPHERAL_BASE, PRIVATE_PERIPHERAL_SIZE)?;
    uc.add_code_hook(1, 0, on_instruction)?;
    uc.add_intr_hook(on_interrupt)?;
    let flash_end = u64::from(flash_base + flash_size - 1);
    uc.add_mem_hook(
        HookType::MEM_WRITE,
        u64::from(flash_base),
        flash_end,
        on_flash_write,
    )?;
    Ok(uc)
}

/// The core's accesses to a register region go through the same dispatch as the
/// debugger's.
fn map_registers(uc: &mut Emulator<'static>, base: u32, size: u32) -> Result<(), uc_error> {
    let read = move |uc: &mut Unicorn<'_, System>, offset: u64, size: usize| -> u64 {
        let address = base.wrapping_add(offset as u32);
        match memory_map::read(uc, address, width_of(size), Origin::Core) {
            Ok(value) => u64::from(value),
            Err(_) => {
                core_bus_fault(uc);
                0
            }
        }
    };
    let write = move |uc: &mut Unicorn<'_, System>, offset: u64, size: usize, value: u64| {
        let address = base.wrapping_add(offset as u32);
        if memory_map::write(uc, address, width_of(size), value as u32, Origin::Core).is_err() {
            core_bus_fault(uc);
        }
    };
    uc.mmio_map(u64::from(base), u64::from(size), Some(read), Some(write))
}

fn width_of(size: usize) -> Width {
    match size {
        1 => Width::Byte,
        2 => Width::Half,
        _ => Width::Word,
    }
}

fn core_bus_fault(uc: &mut Unicorn<'_, System>) {
    uc.get_data_mut().run.stop = Some(Stop::Lockup);
    let _ = uc.emu_stop();
}

/// Before every instruction: put back flash the core stored to, and stop for a halt,
/// a breakpoint or the end of the slice.
fn on_instruction(uc: &mut Unicorn<'_, System>, address: u64, _size: u32) {
    if uc.get_data().run.internal {
        return;
    }
    restore_flash(uc);
    let system = uc.get_data_mut();
    match stop_before(system, address as u32) {
        Some(stop) => {
            system.run.stop = Some(stop);
            let _ = uc.emu_stop();
        }
        None if memory_map::in_external(system, address as u32)
            && !memory_map::external_enabled(system) =>
        {
            core_bus_fault(uc);
        }
        None => {
            if no_coprocessor(uc, address as u32) {
                return;
            }
            let system = uc.get_data_mut();
            system.run.executed += 1;
            if system.soc.is_host_function(address as u32) {
                call_host_function(uc, address as u32);
                forget_changed_code(uc);
                let system = uc.get_data_mut();
                if system.soc.take_reset_request() {
                    system.run.stop = Some(Stop::Reset(ResetRequest::System));
                    let _ = uc.emu_stop();
                }
            }
        }
    }
}

/// The instruction at `address` uses the FPU while CPACR has it off: a NOCP UsageFault
/// (see the opening comments); true if the core stopped for it.
fn no_coprocessor(uc: &mut Unicorn<'_, System>, address: u32) -> bool {
    let system = uc.get_data();
    if !system.soc.core().has_fpu() {
        return false;
    }
    let cpacr = system.system_control.get(&debug::CPACR).copied();
    if cpacr.unwrap_or(0) & debug::CPACR_CP10 != 0 {
        return false;
    }
    let mut code = [0u8; 4];
    if uc.mem_read(u64::from(address), &mut code).is_err() {
        return false;
    }
    let first = u16::from_le_bytes([code[0], code[1]]);
    let second = u16::from_le_bytes([code[2], code[3]]);
    if first & 0xEC00 != 0xEC00 || second & 0x0E00 != 0x0A00 {
        return false;
    }
    let system = uc.get_data_mut();
    *system.system_control.entry(debug::CFSR).or_default() |= debug::CFSR_NOCP;
    if system.debug.enabled() && system.debug.monitor_control & debug::VC_NOCPERR != 0 {
        system.halt(DFSR_VCATCH);
        system.run.stop = Some(Stop::Halt);
    } else {
        system.run.stop = Some(Stop::Lockup);
    }
    let _ = uc.emu_stop();
    true
}

/// The SoC changed the code the core executes from system memory (the RP2040's flash
/// behind XIP): drop unicorn's translations of it.
pub fn forget_changed_code(uc: &mut Emulator) {
    let system = uc.get_data_mut();
    let generation = system.soc.code_generation();
    if generation == system.code_generation_seen {
        return;
    }
    system.code_generation_seen = generation;
    let memory = system.soc.system_memory();
    let start = u64::from(memory.base);
    let _ = uc.ctl_remove_cache(start, start + u64::from(memory.size));
}

/// A boot ROM function the SoC performs on the host (`Soc::is_host_function`), with the
/// AAPCS arguments r0-r3.
fn call_host_function(uc: &mut Unicorn<'_, System>, address: u32) {
    let registers = [
        RegisterARM::R0,
        RegisterARM::R1,
        RegisterARM::R2,
        RegisterARM::R3,
    ];
    let arguments = registers.map(|register| uc.reg_read(register).unwrap_or(0) as u32);
    let system = uc.get_data_mut();
    // The time at this instruction, not the slice's start.
    let now = super::time_at(super::cycles_at(system.now_ns) + system.run.executed);
    system.soc.call_host_function(address, arguments, now);
    if system.soc.flash_busy() {
        // End the slice: the core waits at the next instruction until the flash is done.
        system.run.stop = Some(Stop::FlashStarted);
    }
}

fn stop_before(system: &mut System, address: u32) -> Option<Stop> {
    if let Some(stop) = system.run.stop {
        return Some(stop);
    }
    if system.run.halt_pending {
        system.halt(DFSR_DWTTRAP);
        return Some(Stop::Halt);
    }
    if system.run.executed >= system.run.budget {
        return Some(Stop::Budget);
    }
    // An FPB match on an instruction fetch halts before the instruction (ARMv7-M C1.11).
    if system.debug.enabled() && system.fpb.breaks_at(address) {
        system.halt(DFSR_BKPT);
        return Some(Stop::Halt);
    }
    None
}

/// A core read of the external memory while the SoC disables it: a bus error.
fn on_external_read(
    uc: &mut Unicorn<'_, System>,
    _kind: MemType,
    _address: u64,
    _size: usize,
    _value: i64,
) -> bool {
    if !memory_map::external_enabled(uc.get_data()) {
        core_bus_fault(uc);
    }
    true
}

/// BKPT halts with the PC at the BKPT instruction (ARMv7-M C1.5.1 "breakpoint debug
/// event"); BKPT 0xAB is the semihosting call and halts the same way. Any other
/// exception is not modelled and locks the core up.
fn on_interrupt(uc: &mut Unicorn<'_, System>, number: u32) {
    let system = uc.get_data_mut();
    if system.run.internal {
        system.run.stop = Some(Stop::Lockup);
        let _ = uc.emu_stop();
        return;
    }
    if number == EXCEPTION_BREAKPOINT && system.debug.enabled() {
        system.halt(DFSR_BKPT);
        system.run.stop = Some(Stop::Halt);
    } else {
        system.run.stop = Some(Stop::Lockup);
    }
    // The BKPT was counted when it started; it did not complete.
    system.run.executed = system.run.executed.saturating_sub(1);
    let _ = uc.emu_stop();
}

/// A watched data access: with DEMCR.TRCENA set MATCHED is set, and with debug enabled
/// the core halts after the instruction (DFSR.DWTTRAP).
fn on_data_access(
    uc: &mut Unicorn<'_, System>,
    kind: MemType,
    address: u64,
    size: usize,
    _value: i64,
) -> bool {
    let system = uc.get_data_mut();
    let write = kind == MemType::WRITE;
    if system.debug.dwt_enabled()
        && system.dwt.access(address as u32, size as u32, write)
        && system.debug.enabled()
    {
        system.run.halt_pending = true;
    }
    true
}

/// A core store into the flash array: unicorn writes it to the array's memory at once;
/// the controller decides, and the old bytes go back before the next instruction.
fn on_flash_write(
    uc: &mut Unicorn<'_, System>,
    _kind: MemType,
    address: u64,
    size: usize,
    value: i64,
) -> bool {
    // The time at this store. A store while the controller is busy waits on the bus until
    // the operation ends (the core stalls), so it starts the next one then, not beside it.
    let system = uc.get_data_mut();
    let started = super::cycles_at(system.now_ns);
    let mut now = super::time_at(started + system.run.executed);
    if let Some(end) = system.soc.flash_busy_until().filter(|&end| end > now) {
        system.run.executed = super::cycles_at(end).saturating_sub(started);
        now = end;
    }
    while let Some(effect) = uc.get_data_mut().soc.complete_flash_now() {
        apply_flash_effect(uc, &effect);
    }
    let address = address as u32;
    let mut before = vec![0u8; size];
    let _ = uc.mem_read(u64::from(address), &mut before);
    let mut current = [0xFF_u8; 4];
    let _ = uc.mem_read(u64::from(address), &mut current);
    let current = u32::from_le_bytes(current);
    let system = uc.get_data_mut();
    system.flash_restores.push((address, before));
    if system
        .soc
        .write_flash(address, size as u32, value as u32, current, now)
        .is_err()
    {
        core_bus_fault(uc);
    } else if system.soc.flash_busy() {
        // End the slice here so that the chip sees when the operation ends.
        system.run.stop = Some(Stop::FlashStarted);
    }
    true
}

fn restore_flash(uc: &mut Unicorn<'_, System>) {
    if uc.get_data().flash_restores.is_empty() {
        return;
    }
    let restores = std::mem::take(&mut uc.get_data_mut().flash_restores);
    for (address, bytes) in restores {
        let _ = memory_map::store(uc, address, &bytes);
    }
}

pub fn apply_flash_effect(uc: &mut Unicorn<'_, System>, effect: &FlashEffect) {
    let _ = match effect {
        FlashEffect::Program { address, bytes } => memory_map::store(uc, *address, bytes),
        FlashEffect::Clear { address, bytes } => {
            let mut current = vec![0xFF; bytes.len()];
            let _ = uc.mem_read(u64::from(*address), &mut current);
            for (old, new) in current.iter_mut().zip(bytes) {
                *old &= new;
            }
            memory_map::store(uc, *address, &current)
        }
        FlashEffect::Erase { address, length } => {
            memory_map::store(uc, *address, &vec![0xFF; *length as usize])
        }
        FlashEffect::Zero { address, length } => {
            memory_map::store(uc, *address, &vec![0; *length as usize])
        }
        FlashEffect::Several(effects) => {
            for effect in effects {
                apply_flash_effect(uc, effect);
            }
            Ok(())
        }
    };
}

/// Finish the flash operation whose time has come.
pub fn complete_flash(uc: &mut Emulator) {
    let now = uc.get_data().now_ns;
    while let Some(effect) = uc.get_data_mut().soc.complete_flash(now) {
        apply_flash_effect(uc, &effect);
    }
}

/// Can the core execute now?
pub fn can_run(uc: &Emulator) -> bool {
    let system = uc.get_data();
    let run = &system.run;
    if run.halted || run.sleeping || run.locked_up || run.reset_held {
        return false;
    }
    let pc = program_counter(uc);
    let stalled = memory_map::in_flash(system, pc) && system.soc.flash_busy_at(pc);
    !(stalled || system.soc.core_waits_at(pc))
}

pub fn program_counter(uc: &Emulator) -> u32 {
    uc.reg_read(RegisterARM::PC).unwrap_or(0) as u32
}

/// DWT_PCSR: the PC while running, 0xFFFF_FFFF when halted or in reset (ARMv7-M C1.8.11).
pub fn program_counter_sample(uc: &Emulator) -> u32 {
    let run = &uc.get_data().run;
    if run.halted || run.reset_held {
        u32::MAX
    } else {
        program_counter(uc)
    }
}

/// Let the core start up to `budget` instructions; how many it started.
pub fn run(uc: &mut Emulator, budget: u64) -> u64 {
    refresh_watch_hooks(uc);
    forget_changed_code(uc);
    let run = &mut uc.get_data_mut().run;
    run.budget = budget;
    run.executed = 0;
    run.stop = None;
    let start = program_counter(uc);
    let result = uc.emu_start(u64::from(start | 1), 0, 0, 0);
    restore_flash(uc);
    let system = uc.get_data_mut();
    let executed = system.run.executed;
    if executed > 0 {
        system.debug.retired_since_read = true;
    }
    system.dwt.count_cycles(executed);
    match (result, system.run.stop) {
        (_, Some(Stop::Reset(request))) => reset(uc, request),
        (_, Some(Stop::Lockup)) | (Err(_), _) => lock_up(uc.get_data_mut()),
        (Ok(()), None) => after_unasked_return(uc, executed),
        (Ok(()), Some(Stop::Budget | Stop::Halt | Stop::FlashStarted)) => {}
    }
    let system = uc.get_data_mut();
    if system.run.halt_pending {
        system.halt(DFSR_DWTTRAP);
    }
    executed
}

fn lock_up(system: &mut System) {
    system.run.locked_up = true;
    system.run.sleeping = false;
}

/// unicorn returns without a stop of ours after WFI or WFE (it has no interrupt to wait
/// for), even when that was the last instruction of the budget: the core sleeps.
fn after_unasked_return(uc: &mut Emulator, executed: u64) {
    if after_wait_instruction(uc) {
        uc.get_data_mut().run.sleeping = true;
    } else if executed == 0 {
        lock_up(uc.get_data_mut());
    }
}

/// Is the instruction before the PC a WFI or WFE (ARMv7-M A7.7.261, A7.7.260: 0xBF30,
/// 0xBF20; wide forms 0xF3AF 0x8003, 0xF3AF 0x8002)?
fn after_wait_instruction(uc: &Emulator) -> bool {
    let pc = program_counter(uc);
    let half = |address: u32| {
        let mut bytes = [0u8; 2];
        uc.mem_read(u64::from(address), &mut bytes)
            .ok()
            .map(|()| u16::from_le_bytes(bytes))
    };
    let narrow = matches!(half(pc.wrapping_sub(2)), Some(0xBF30 | 0xBF20));
    let wide = half(pc.wrapping_sub(4)) == Some(0xF3AF)
        && matches!(half(pc.wrapping_sub(2)), Some(0x8003 | 0x8002));
    narrow || wide
}

/// The longest data access unicorn reports in one hook call (LDRD/STRD, VLDR.64).
const LONGEST_ACCESS: u32 = 8;

/// The DWT comparators changed: watch the new ranges.
fn refresh_watch_hooks(uc: &mut Emulator) {
    if !uc.get_data().watchpoints_changed {
        return;
    }
    let system = uc.get_data_mut();
    system.watchpoints_changed = false;
    let old = std::mem::take(&mut system.watch_hooks);
    let ranges = system.dwt.watched_ranges();
    for hook in old {
        let _ = uc.remove_hook(hook);
    }
    let kinds = HookType::MEM_READ | HookType::MEM_WRITE;
    for (start, end) in ranges {
        // unicorn calls a hook for an access that starts in its range: one starting up to
        // 7 bytes lower (a word or double word) may still reach the watched bytes, and
        // `Dwt::access` decides by overlap.
        let start = u64::from(start.saturating_sub(LONGEST_ACCESS - 1));
        if let Ok(hook) = uc.add_mem_hook(kinds, start, u64::from(end), on_data_access) {
            uc.get_data_mut().watch_hooks.push(hook);
        }
    }
}

/// Carry out what a DHCSR write asked for.
pub fn apply_run_request(uc: &mut Emulator, request: RunRequest) {
    let system = uc.get_data_mut();
    match request {
        RunRequest::Nothing => {}
        RunRequest::Halt => system.halt(DFSR_HALTED),
        RunRequest::Resume => {
            system.run.halted = false;
            system.caches.core_runs();
        }
        RunRequest::Step => {
            system.run.halted = false;
            system.caches.core_runs();
            // A core waiting in a host function stays where it is (its poll loop).
            let pc = program_counter(uc);
            let system = uc.get_data();
            if !system.run.reset_held && !system.soc.core_waits_at(pc) {
                run(uc, 1);
            }
            let system = uc.get_data_mut();
            if !system.run.halted {
                system.halt(DFSR_HALTED);
            }
        }
    }
}

/// SYSRESETREQ resets the chip but the debug logic, VECTRESET the core only
/// (ARMv7-M B1.5.16, B3.2.6).
pub fn reset(uc: &mut Emulator, request: ResetRequest) {
    if request == ResetRequest::System {
        reset_peripherals(uc);
    }
    reset_core(uc);
}

/// Peripherals and the flash controller to reset values (nRST, SYSRESETREQ).
pub fn reset_peripherals(uc: &mut Emulator) {
    for effect in uc.get_data_mut().soc.reset() {
        apply_flash_effect(uc, &effect);
    }
    uc.get_data_mut().reset_peripherals();
}

/// The core's reset (ARMv7-M B1.5.5 TakeReset): MSP and PC from the vector table, xPSR
/// with only the Thumb bit, CONTROL, masks and LR to reset values. With C_DEBUGEN and
/// DEMCR.VC_CORERESET the core halts before the first instruction (DFSR.VCATCH).
pub fn reset_core(uc: &mut Emulator) {
    let (stack, entry) = memory_map::reset_vector(uc);
    let stack = u64::from(stack & !3);
    for register in GENERAL_REGISTERS {
        let _ = uc.reg_write(register, 0);
    }
    let values = [
        (RegisterARM::CONTROL, 0),
        (RegisterARM::PRIMASK, 0),
        (RegisterARM::BASEPRI, 0),
        (RegisterARM::FAULTMASK, 0),
        (RegisterARM::PSP, 0),
        (RegisterARM::MSP, stack),
        (RegisterARM::SP, stack),
        (RegisterARM::LR, u64::from(u32::MAX)),
        (RegisterARM::XPSR, u64::from(XPSR_THUMB)),
        (RegisterARM::PC, u64::from(entry & !1)),
    ];
    for (register, value) in values {
        let _ = uc.reg_write(register, value);
    }
    cache::reset(uc);
    let system = uc.get_data_mut();
    let reset_held = system.run.reset_held;
    system.run = RunState {
        reset_held,
        ..RunState::default()
    };
    system.flash_restores.clear();
    system.system_control.remove(&debug::CPACR);
    system.debug.core_reset();
    if system.debug.catches_reset() {
        system.halt(DFSR_VCATCH);
    }
}

/// DCRSR written while halted: move one register to or from DCRDR (ARMv7-M C1.6.4).
pub fn transfer_register(uc: &mut Emulator, request: u32) {
    let selector = request & DCRSR_REGSEL;
    let write = request & DCRSR_REGWNR != 0;
    if is_banked_special(uc, selector) {
        let value = write.then(|| uc.get_data().debug.data);
        if let Some(read) = move_banked_special(uc, selector, value) {
            uc.get_data_mut().debug.data = read;
        }
    } else if is_banked(uc, selector) {
        let value = write.then(|| uc.get_data().debug.data);
        if let Some(read) = move_banked(uc, selector, value) {
            uc.get_data_mut().debug.data = read;
        }
    } else if write {
        let value = uc.get_data().debug.data;
        write_core_register(uc, selector, value);
    } else if let Some(value) = read_core_register(uc, selector) {
        uc.get_data_mut().debug.data = value;
    }
}

/// An ARMv8-M banked stack pointer or stack limit (DCRSR 0x18-0x1F) on a core with them.
fn is_banked(uc: &Emulator, selector: u32) -> bool {
    uc.get_data().soc.core().is_armv8m() && (SELECT_MSP_NS..=SELECT_PSPLIM_NS).contains(&selector)
}

/// Read (`value` None) or write a banked register: MSP_S and PSP_S are unicorn's current
/// MSP and PSP (the core is Secure), the others move through one MRS r0 or MSR executed
/// at the PC (see the module's approximations). The value read, if any.
fn move_banked(uc: &mut Emulator, selector: u32, value: Option<u32>) -> Option<u32> {
    if uc.get_data().soc.secure_debug() == Some(false) {
        return move_shown_nonsecure(uc, selector, value);
    }
    let current = match selector {
        SELECT_MSP_S => Some(RegisterARM::MSP),
        SELECT_PSP_S => Some(RegisterARM::PSP),
        _ => None,
    };
    if let Some(register) = current {
        if let Some(value) = value {
            uc.reg_write(register, u64::from(value)).ok()?;
        }
        return uc.reg_read(register).ok().map(|read| read as u32);
    }
    let sysm = BANKED_SYSM[(selector - SELECT_MSP_NS) as usize];
    execute_special_move(uc, sysm, value)
}

/// A part shown Non-secure without Secure debug (`cortex-m33-ns`): the Non-secure
/// selectors reach the core's current registers (MSP, PSP, MSPLIM 0x0A, PSPLIM 0x0B);
/// the Secure ones (0x1A-0x1D) read zero and ignore writes.
fn move_shown_nonsecure(uc: &mut Emulator, selector: u32, value: Option<u32>) -> Option<u32> {
    let register = match selector {
        SELECT_MSP_NS => RegisterARM::MSP,
        SELECT_PSP_NS => RegisterARM::PSP,
        SELECT_MSPLIM_NS => return execute_special_move(uc, SYSM_MSPLIM, value),
        SELECT_PSPLIM_NS => return execute_special_move(uc, SYSM_PSPLIM, value),
        _ => return value.is_none().then_some(0),
    };
    if let Some(value) = value {
        uc.reg_write(register, u64::from(value)).ok()?;
    }
    uc.reg_read(register).ok().map(|read| read as u32)
}

/// DCRSR 0x22 or 0x23 on an ARMv8-M core (the simulated M33 has the Security Extension).
fn is_banked_special(uc: &Emulator, selector: u32) -> bool {
    uc.get_data().soc.core().is_armv8m() && matches!(selector, SELECT_SPECIAL_S | SELECT_SPECIAL_NS)
}

/// Read (`value` None) or write one security state's packed special registers. The core
/// is Secure, so 0x22 is the current state's (as 0x14) and 0x23 moves each Non-secure
/// register through an MRS/MSR at the PC (`execute_special_move`); on a part shown
/// Non-secure (`cortex-m33-ns`) 0x23 is the current state's and 0x22 reads zero and
/// ignores writes. The value read (None after a write: DCRDR keeps the value written).
fn move_banked_special(uc: &mut Emulator, selector: u32, value: Option<u32>) -> Option<u32> {
    let shown_nonsecure = uc.get_data().soc.secure_debug() == Some(false);
    let current = if shown_nonsecure {
        SELECT_SPECIAL_NS
    } else {
        SELECT_SPECIAL_S
    };
    if selector == current {
        return match value {
            Some(value) => {
                write_core_register(uc, SELECT_SPECIAL, value);
                None
            }
            None => read_core_register(uc, SELECT_SPECIAL),
        };
    }
    if shown_nonsecure {
        return value.is_none().then_some(0);
    }
    let mut packed = 0;
    for (&(_, shift, mask), &sysm) in SPECIAL_REGISTERS.iter().zip(&SPECIAL_NS_SYSM) {
        let field = value.map(|value| (value >> shift) & mask);
        packed |= (execute_special_move(uc, sysm, field)? & mask) << shift;
    }
    value.is_none().then_some(packed)
}

/// MRS r0, SYSm (0xF3EF 0x8000 | SYSm) or MSR SYSm, r0 (0xF380 0x8800 | SYSm: mask 0b10),
/// ARMv8-M ARM C2.4, executed once at the halted core's PC with every hook standing aside.
fn execute_special_move(uc: &mut Emulator, sysm: u32, value: Option<u32>) -> Option<u32> {
    let pc = program_counter(uc);
    let mut original = [0u8; 6];
    uc.mem_read(u64::from(pc), &mut original).ok()?;
    let r0 = uc.reg_read(RegisterARM::R0).ok()?;
    let xpsr = uc.reg_read(RegisterARM::XPSR).ok()?;
    let (first, second): (u16, u16) = match value {
        None => (0xF3EF, 0x8000 | sysm as u16),
        Some(value) => {
            uc.reg_write(RegisterARM::R0, u64::from(value)).ok()?;
            (0xF380, 0x8800 | sysm as u16)
        }
    };
    let mut instruction = first.to_le_bytes().to_vec();
    instruction.extend(second.to_le_bytes());
    // A branch to itself after it: unicorn stops a one-instruction run at the next
    // instruction's hook, but after an MSR (which ends QEMU's translation block) that next
    // instruction may still run once; it must change nothing.
    instruction.extend(BRANCH_TO_SELF.to_le_bytes());
    memory_map::store(uc, pc, &instruction).ok()?;
    let _ = uc.reg_write(RegisterARM::XPSR, xpsr & !u64::from(XPSR_IT));
    let saved = uc.get_data().run.clone();
    // The stop that halted the core is still recorded: this one instruction has none yet.
    uc.get_data_mut().run.stop = None;
    uc.get_data_mut().run.internal = true;
    let result = uc.emu_start(u64::from(pc | 1), 0, 0, 1);
    let failed = result.is_err() || uc.get_data().run.stop.is_some();
    uc.get_data_mut().run = saved;
    let read = uc.reg_read(RegisterARM::R0).ok().map(|read| read as u32);
    let _ = memory_map::store(uc, pc, &original);
    let _ = uc.reg_write(RegisterARM::PC, u64::from(pc));
    let _ = uc.reg_write(RegisterARM::R0, r0);
    let _ = uc.reg_write(RegisterARM::XPSR, xpsr);
    if failed { None } else { read }
}

fn register_of(uc: &Emulator, selector: u32) -> Option<RegisterARM> {
    let fpu = uc.get_data().soc.core().has_fpu();
    match selector {
        SELECT_FPSCR if fpu => Some(RegisterARM::FPSCR),
        SELECT_S0..=0x5F if fpu => Some(FLOATING_POINT_REGISTERS[(selector - SELECT_S0) as usize]),
        0..=12 => Some(GENERAL_REGISTERS[selector as usize]),
        SELECT_STACK_POINTER => Some(RegisterARM::SP),
        SELECT_LINK_REGISTER => Some(RegisterARM::LR),
        SELECT_DEBUG_RETURN_ADDRESS => Some(RegisterARM::PC),
        SELECT_XPSR => Some(RegisterARM::XPSR),
        SELECT_MAIN_STACK_POINTER => Some(RegisterARM::MSP),
        SELECT_PROCESS_STACK_POINTER => Some(RegisterARM::PSP),
        _ => None,
    }
}

const SPECIAL_REGISTERS: [(RegisterARM, u32, u32); 4] = [
    (RegisterARM::PRIMASK, 0, 0x1),
    (RegisterARM::CONTROL, 24, 0x3),
    (RegisterARM::BASEPRI, 8, 0xFF),
    (RegisterARM::FAULTMASK, 16, 0x1),
];

/// The packed special registers the core has: ARMv6-M has only PRIMASK and CONTROL
/// (ARMv6-M C1.6.3).
fn special_registers(uc: &Emulator) -> &'static [(RegisterARM, u32, u32)] {
    if uc.get_data().soc.core().is_armv6m() {
        &SPECIAL_REGISTERS[..2]
    } else {
        &SPECIAL_REGISTERS
    }
}

/// A core register by DCRSR REGSEL number, or None for a number the core does not have.
pub fn read_core_register(uc: &Emulator, selector: u32) -> Option<u32> {
    if selector == SELECT_SPECIAL {
        let packed = special_registers(uc)
            .iter()
            .fold(0, |packed, &(register, shift, mask)| {
                let value = uc.reg_read(register).unwrap_or(0) as u32;
                packed | (value & mask) << shift
            });
        return Some(packed);
    }
    let value = uc.reg_read(register_of(uc, selector)?).ok()? as u32;
    // unicorn keeps the Thumb state outside its xPSR; this core is always in Thumb state.
    Some(if selector == SELECT_XPSR {
        value | XPSR_THUMB
    } else {
        value
    })
}

/// Write a core register by DCRSR REGSEL number; false if there is no such register.
/// The PC's bit 0 is ignored and xPSR keeps its Thumb bit: the M-profile core cannot
/// leave Thumb state, and a real core would fault on the next instruction.
pub fn write_core_register(uc: &mut Emulator, selector: u32, value: u32) -> bool {
    if selector == SELECT_SPECIAL {
        for &(register, shift, mask) in special_registers(uc) {
            let _ = uc.reg_write(register, u64::from((value >> shift) & mask));
        }
        return true;
    }
    let Some(register) = register_of(uc, selector) else {
        return false;
    };
    let value = match selector {
        SELECT_DEBUG_RETURN_ADDRESS => value & !1,
        SELECT_XPSR => value | XPSR_THUMB,
        _ => value,
    };
    uc.reg_write(register, u64::from(value)).is_ok()
}
