//! The seam between the two halves of the simulated target.
//!
//! The debug-port half (SW-DP, JTAG-DP, AHB-AP; `port` modules) turns wire traffic into
//! system-bus accesses and keeps the virtual clock. The chip half (`chip` modules: the
//! Cortex-M3 core, its debug registers, the ROM table, the STM32F103 peripherals) answers
//! those accesses and runs the core as virtual time passes.

/// Width of one system-bus access (ADIv5.2 C2.2.1, CSW.Size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    Byte,
    Half,
    Word,
}

impl Width {
    pub fn bytes(self) -> u32 {
        match self {
            Width::Byte => 1,
            Width::Half => 2,
            Width::Word => 4,
        }
    }
}

/// Why an access did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusError {
    /// The slave answered with an error (unmapped address, a bus fault): the AP access
    /// ends with STICKYERR set and the DP answers FAULT from then on (ADIv5.2 B2.2.4).
    Fault,
    /// The slave stalls the bus (flash busy, RM0008 3.3.3 "reading the flash while BSY
    /// stalls the bus"): the access is not done and the DP answers WAIT; the probe retries.
    Stall,
}

/// Who the chip is, as the debug port reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    /// SW-DP DPIDR (ADIv5.2 B2.2.5).
    pub dpidr: u32,
    /// JTAG-DP IDCODE of the ARM TAP.
    pub jtag_idcode: u32,
    /// IDCODE of the boundary-scan TAP that follows it on the chain.
    pub boundary_scan_idcode: u32,
}

/// What the target is doing now, for faults injected only then (`port::faults::Window`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// The core executes code in the SRAM region (0x2000_0000-0x3FFF_FFFF, ARMv7-M B3.1):
    /// a routine a debugger loaded there (a CRC run, a flash algorithm).
    pub routine_running: bool,
    /// The flash controller is programming or erasing.
    pub flash_busy: bool,
}

/// The system bus as seen from the AHB-AP, plus the things that are not bus accesses:
/// virtual time and the reset pin.
///
/// Values are right-aligned: a byte read of 0x2000_0001 returns the byte in bits 7..0.
/// The AP moves it to its byte lane in DRW (ADIv5.2 C2.2.6).
pub trait Bus {
    fn read(&mut self, address: u32, width: Width) -> Result<u32, BusError>;
    fn write(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError>;
    /// Let the chip catch up with virtual time: run the core (72 MHz when not halted),
    /// finish flash operations whose time has come. `now_ns` never decreases.
    fn advance_to(&mut self, now_ns: u64);
    /// When the operation that may stall an access now (a flash program or erase) ends.
    fn stall_ends_ns(&self) -> Option<u64> {
        None
    }
    /// Carry out the next accesses at `now_ns` (not before the chip's time) instead of the
    /// port's time, until called with None: an AP access that stalled completes when the
    /// bus frees, not when the next SWD transaction comes (`port::debug_port`).
    fn access_at(&mut self, _now_ns: Option<u64>) {}
    /// An access with the MEM-AP's HNONSEC set (CSW bit 30, ADIv5.2 C2.6.4 for an AHB5-AP):
    /// a Non-secure transfer, which a chip with the Security Extension refuses where its
    /// attribution says Secure. By default the same as `read`/`write`.
    fn read_nonsecure(&mut self, address: u32, width: Width) -> Result<u32, BusError> {
        self.read(address, width)
    }
    fn write_nonsecure(&mut self, address: u32, width: Width, value: u32) -> Result<(), BusError> {
        self.write(address, width, value)
    }
    /// The SPIDEN authentication input as the AP shows it in CSW.SPIDEN (bit 23): None on
    /// an AP without TrustZone (the bit reads 0 and HNONSEC means nothing), Some(false)
    /// when Secure debug is not permitted: the AP refuses Secure transfers.
    fn secure_debug_permitted(&self) -> Option<bool> {
        None
    }
    /// Power returns: reset what only a power-on reset resets (the debug domain's
    /// registers); the system reset follows through `set_reset`. Nothing by default.
    fn power_on_reset(&mut self) {}
    /// Drive the nRST pin (true = asserted, held in reset).
    fn set_reset(&mut self, asserted: bool);
    /// What the debug port must report for this chip.
    fn identity(&self) -> Identity;
    /// The access port at APSEL `index`, None where there is none (reads as zero): by
    /// default AP0 only, the Cortex-M3's AHB-AP with its ROM table at 0xE00F_F000.
    fn access_port(&self, index: u8) -> Option<AccessPortKind> {
        (index == 0).then_some(AccessPortKind::Memory {
            identity: AccessPortIdentity::CORTEX_M3,
            enabled: true,
        })
    }
    /// A register of an [`AccessPortKind::Own`] access port.
    fn read_access_port(&mut self, _index: u8, _register: u8) -> Result<u32, BusError> {
        Ok(0)
    }
    fn write_access_port(
        &mut self,
        _index: u8,
        _register: u8,
        _value: u32,
    ) -> Result<(), BusError> {
        Ok(())
    }
    /// SWD multi-drop (DPv2, ADIv5.2 B4.3.4): the DPs sharing the wire, one entry each;
    /// empty for a chip with a single SWJ-DP.
    fn multidrop_targets(&self) -> Vec<MultidropTarget> {
        Vec::new()
    }
    /// The AP accesses that follow come through DP `index` of `multidrop_targets`.
    fn select_debug_port(&mut self, _index: usize) {}
    /// What the target is doing now (by default nothing that a fault window names).
    fn activity(&self) -> Activity {
        Activity::default()
    }
}

/// A DP on a multi-drop wire (ADIv5.2 B2.2.11 TARGETID, B2.2.5 DLPIDR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultidropTarget {
    /// TARGETID: TREVISION [31:28], TPARTNO [27:12], TDESIGNER [11:1], bit 0 set.
    pub target_id: u32,
    /// TINSTANCE, DLPIDR [31:28] and TARGETSEL [31:28].
    pub instance: u8,
}

impl MultidropTarget {
    /// The TARGETSEL value that selects this DP: TINSTANCE and TARGETID [27:0]
    /// (ADIv5.2 B2.2.12).
    pub fn target_select(self) -> u32 {
        u32::from(self.instance) << 28 | (self.target_id & 0x0FFF_FFFF)
    }

    /// DLPIDR: TINSTANCE and PROTVSN 1, SWD protocol version 2 (ADIv5.2 B2.2.5).
    pub fn dlpidr(self) -> u32 {
        u32::from(self.instance) << 28 | 1
    }
}

/// An access port on the DP (ADIv5.2 C1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessPortKind {
    /// A MEM-AP onto the system bus (ADIv5.2 C2) with its IDR and BASE. `enabled` false
    /// makes CSW.DeviceEn read 0 and every transfer a bus error (nRF52 APPROTECT, PS v1.7
    /// 4.4.1).
    Memory {
        identity: AccessPortIdentity,
        enabled: bool,
    },
    /// An access port the chip answers register by register (the nRF52's CTRL-AP).
    Own,
}

/// What a MEM-AP (AP0: the AHB-AP in front of the core) reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessPortIdentity {
    pub idr: u32,
    /// BASE: the ROM table's address with the format (bit 1) and present (bit 0) bits.
    pub base: u32,
}

impl AccessPortIdentity {
    /// An AHB5-AP (IDR TYPE 0x5, ADIv5.2 C2.6.5; designer ARM, class MEM-AP), as in front
    /// of a Cortex-M33, with the ROM table at 0xE00F_F000.
    pub const AHB5: AccessPortIdentity = AccessPortIdentity {
        idr: 0x0477_0005,
        base: 0xE00F_F003,
    };

    /// The Cortex-M3 r1p1's AHB-AP (Cortex-M3 TRM, AHB-AP) and the ROM table at
    /// 0xE00F_F000.
    pub const CORTEX_M3: AccessPortIdentity = AccessPortIdentity {
        idr: 0x1477_0011,
        base: 0xE00F_F003,
    };
}
