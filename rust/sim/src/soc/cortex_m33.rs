//! A generic Cortex-M33 part (ARMv8-M mainline with the Security Extension and the FPU),
//! no vendor's: unicorn-engine's Cortex-M33 model behind the ARMv8-M debug components
//! (`chip::rom_table`: CoreSight class 0x9 SCS, DWT, BPU and ITM of part 0xD21 named by
//! DEVARCH) and DSCSR (ARMv8-M D1.2 "Debug Security Control and Status Register",
//! 0xE000_EE08). It is laid out like the STM32 parts here so the F4 test program runs on
//! it: 512 KB of code memory at 0x0800_0000 aliased at 0, 128 KB of SRAM at 0x2000_0000,
//! peripherals 0x4000_0000..0x5FFF_FFFF as plain storage. No family driver knows it: the
//! engine attaches it as a generic Cortex-M, so its code memory is written by the
//! simulator's loader (`BMP_SIM_FIRMWARE`, `bmp-sim --firmware`), not by the debugger.
//!
//! `cortex-m33-ns` is the same part with Secure debug not permitted (SPIDEN low, as a
//! vendor's part locks it after provisioning): the AHB5-AP's CSW.SPIDEN reads 0 and it
//! refuses Secure transfers, DHCSR.S_SDE reads 0, DAUTHSTATUS says Secure invasive and
//! non-invasive debug are implemented and disabled (0xAF), and the core is shown as a
//! Non-secure one: DSCSR.CDS reads 0 (SBRSELEN/SBRSEL RAZ/WI), DCRSR's MSP_NS, PSP_NS,
//! MSPLIM_NS, PSPLIM_NS and the packed CONTROL_NS/FAULTMASK_NS/BASEPRI_NS/PRIMASK_NS
//! (0x23) are the core's current registers and its Secure selectors (0x1A-0x1D, 0x22)
//! read zero and ignore writes. A sim-side attribution (`Soc::secure_at`)
//! makes the upper half of code memory and of SRAM Secure: the debugger's Non-secure
//! transfers there are bus errors.
//!
//! Approximations: the core stays in Secure state (it resets there; unicorn 2.1.5 has no
//! NVIC device, so the SAU is never configurable and all memory is Secure, and nothing
//! models a change of state: DSCSR.CDS reads 1); DSCSR SBRSELEN/SBRSEL are stored only
//! (they choose the banked memory-mapped SCS registers a debugger sees, ARMv8-M D1.2
//! DSCSR, and the SCS here has no banked copies); DCRSR reaches both banks of the stack
//! pointers, the stack limits and the special registers (0x22, 0x23) through MRS/MSR run
//! by the core (`chip::core` says how
//! and what that leaves out); the DWT is the ARMv8-M one (`chip::dwt`); ID_PFR1 reads
//! 0x210 (Security Extension); DPIDR and the top ROM table's PIDR are the Cortex-M3
//! parts' (a made-up part has no vendor identity of its own); AP0 is an AHB5-AP (IDR
//! 0x04770005: ARM, MEM-AP, TYPE AHB5, revision 0: not a real part's value).
//! `cortex-m33-ns` relabels: unicorn's core really runs in Secure state (it cannot
//! leave it, above), the simulator shows that state to the debugger as Non-secure; the
//! core's own accesses are not checked against the attribution (a Non-secure program
//! reaching the Secure halves would fault on silicon, and none is modelled), the Secure
//! halves are not hidden from it, DAUTHCTRL is plain storage to the core and RAZ/WI to
//! the debugger, and halting is never pended (silicon defers a halt request while the
//! core runs Secure code with Secure debug disabled; this core never does, as shown).

use super::{CoreModel, FlashEffect, FlashError, Memory, Soc, Variant};
use crate::bus::{AccessPortIdentity, Identity};

/// Cortex-M33 r0p4 (CPUID: implementer 0x41, variant 0, architecture 0xF, part 0xD21).
const CPUID: u32 = 0x410F_D214;
const CODE_SIZE: u32 = 512 * 1024;
const SRAM: Memory = Memory {
    base: 0x2000_0000,
    size: 128 * 1024,
};
const PERIPHERALS: Memory = Memory {
    base: 0x4000_0000,
    size: 0x2000_0000,
};

/// `cortex-m33-ns`: the Secure halves the debugger's Non-secure transfers cannot reach,
/// the upper 256 KB of code memory (and its alias at 0) and the upper 64 KB of SRAM (the
/// test program lives in the lower halves).
const SECURE_CODE: core::ops::Range<u32> = 0x0804_0000..0x0808_0000;
const SECURE_CODE_ALIAS: core::ops::Range<u32> = 0x0004_0000..0x0008_0000;
const SECURE_SRAM: core::ops::Range<u32> = 0x2001_0000..0x2002_0000;

pub struct CortexM33 {
    /// SPIDEN: Secure debug permitted (`cortex-m33`), or not (`cortex-m33-ns`).
    secure_debug: bool,
}

impl CortexM33 {
    pub fn new(secure_debug: bool) -> Self {
        CortexM33 { secure_debug }
    }
}

impl Soc for CortexM33 {
    fn variant(&self) -> Variant {
        if self.secure_debug {
            Variant::CortexM33
        } else {
            Variant::CortexM33NonSecure
        }
    }

    fn secure_debug(&self) -> Option<bool> {
        Some(self.secure_debug)
    }

    /// Nothing is Secure to the debugger on `cortex-m33` (its transfers are Secure anyway);
    /// on `cortex-m33-ns` the upper halves are.
    fn secure_at(&self, address: u32) -> bool {
        !self.secure_debug
            && [SECURE_CODE, SECURE_CODE_ALIAS, SECURE_SRAM]
                .iter()
                .any(|range| range.contains(&address))
    }

    /// An AHB5-AP (TrustZone: CSW.SPIDEN and HNONSEC).
    fn access_port(&self) -> AccessPortIdentity {
        AccessPortIdentity::AHB5
    }

    fn core(&self) -> CoreModel {
        CoreModel::CortexM33
    }

    fn cpuid(&self) -> u32 {
        CPUID
    }

    /// An ARM SW-DP (DPv1, as the F103's) and JTAG-DP.
    fn identity(&self) -> Identity {
        Identity {
            dpidr: 0x1BA0_1477,
            jtag_idcode: 0x4BA0_0477,
            boundary_scan_idcode: 0,
        }
    }

    /// An ARM ROM table (designer ARM, part 0x4C4 as the Cortex-M4's): no vendor.
    fn rom_table_peripheral_id(&self) -> u64 {
        crate::chip::designer_id(0x4, 0x3B, 0x4C4, 0)
    }

    fn dbgmcu_idcode(&self) -> u32 {
        0
    }

    fn dbgmcu_cr_mask(&self) -> u32 {
        0
    }

    fn dbgmcu_in_private_peripheral_bus(&self) -> bool {
        false
    }

    fn flash_size(&self) -> u32 {
        CODE_SIZE
    }

    fn rams(&self) -> Vec<Memory> {
        vec![SRAM]
    }

    /// A 4 KB block that reads as zero (the part has no boot ROM of interest).
    fn system_memory(&self) -> Memory {
        Memory {
            base: 0x1FFF_0000,
            size: 0x1000,
        }
    }

    fn read_system_memory(&self, _address: u32) -> u32 {
        0
    }

    fn write_system_memory(
        &mut self,
        _address: u32,
        _bytes: u32,
        _value: u32,
        _now_ns: u64,
    ) -> Result<(), FlashError> {
        Err(FlashError::Fault)
    }

    fn peripherals(&self) -> Vec<Memory> {
        vec![PERIPHERALS]
    }

    fn read_register(&self, _address: u32) -> Option<u32> {
        None
    }

    fn write_register(
        &mut self,
        _address: u32,
        _value: u32,
        _now_ns: u64,
    ) -> Option<Result<(), FlashError>> {
        None
    }

    fn reset(&mut self) -> Vec<FlashEffect> {
        Vec::new()
    }
}
