//! A MEM-AP onto the system bus (ADIv5.2 chapter C2), the AHB-AP of a Cortex-M: the chip
//! says which APSELs have one, with which IDR and BASE, and whether it is enabled
//! (`Bus::access_port`). APSELs with nothing read as zero and ignore writes (the debug
//! port's job).
//!
//! On a chip with TrustZone (`Bus::secure_debug_permitted` Some) CSW.SPIDEN (bit 23) shows
//! the SPIDEN input and CSW.HNONSEC (bit 30) makes a transfer Non-secure; with SPIDEN low
//! a Secure transfer is not started and answers a bus error (ADIv6 C2.6.? CSW.SDeviceEn,
//! the same bit: "Secure access is disabled"; the simulator's choice of error over a
//! Non-secure retry).

use crate::bus::{AccessPortIdentity, Bus, BusError, Width};

/// MEM-AP register offsets (ADIv5.2 C2.6).
pub const CSW: u8 = 0x00;
pub const TAR: u8 = 0x04;
pub const DRW: u8 = 0x0C;
pub const BD0: u8 = 0x10;
pub const BD3: u8 = 0x1C;
pub const CFG: u8 = 0xF4;
pub const BASE: u8 = 0xF8;
pub const IDR: u8 = 0xFC;

/// AHB-AP of the Cortex-M3 r1p1 (Cortex-M3 TRM, AHB-AP; ADIv5.2 C2.6.5); other chips
/// report theirs through `Bus::access_port`.
pub const AHB_AP_IDR: u32 = AccessPortIdentity::CORTEX_M3.idr;
/// The ROM table at 0xE00FF000, format bit 1 and entry present bit 0 (ADIv5.2 C2.6.1).
pub const AHB_AP_BASE: u32 = AccessPortIdentity::CORTEX_M3.base;

/// CSW fields (ADIv5.2 C2.6.4).
const CSW_SIZE: u32 = 0x7;
const CSW_ADDRINC_SINGLE: u32 = 1 << 4;
const CSW_DEVICE_ENABLED: u32 = 1 << 6;
const CSW_TRANSFER_IN_PROGRESS: u32 = 1 << 7;
/// Prot (HPROT) and the top bit are stored as written.
const CSW_PROT: u32 = 0xFF00_0000;
/// CSW.SPIDEN, read-only, and CSW.HNONSEC (Prot bit 6) on an AHB5-AP.
const CSW_SPIDEN: u32 = 1 << 23;
const CSW_HNONSEC: u32 = 1 << 30;
/// The Cortex-M3 AHB-AP after reset: HPROT1 and HPROT0 set, byte size, no increment.
const CSW_RESET: u32 = 0x0300_0000;

/// Auto-increment stays inside a block: ADIv5.2 C2.2.2 guarantees at least 1 KB; the
/// Cortex-M3's AHB-AP counts TAR[11:0], a 4 KB block, and OpenOCD relies on that for
/// Cortex-M3/M4 (its cortex_m.c sets a 4096-byte auto-increment range).
const INCREMENT_BLOCK_MASK: u32 = 0xFFF;

/// One AP register access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApAccess {
    pub access_port: u8,
    /// APBANKSEL and A[3:2] together: the register offset.
    pub register: u8,
    pub read: bool,
    pub value: u32,
}

#[derive(Clone, Debug)]
pub struct AhbAp {
    /// The writable CSW bits.
    csw: u32,
    tar: u32,
}

impl Default for AhbAp {
    fn default() -> Self {
        Self {
            csw: CSW_RESET,
            tar: 0,
        }
    }
}

impl AhbAp {
    /// Do one access. On `Err(BusError::Stall)` nothing changed and the access can be
    /// tried again; `transfer_in_progress` is what CSW.TrInProg shows.
    /// `identity` and `enabled` are what the chip says of this AP: a disabled AP's
    /// CSW.DeviceEn reads 0 and its transfers are bus errors.
    pub fn access(
        &mut self,
        bus: &mut dyn Bus,
        access: ApAccess,
        transfer_in_progress: bool,
        identity: AccessPortIdentity,
        enabled: bool,
    ) -> Result<u32, BusError> {
        let touches_bus = access.register == DRW || (BD0..=BD3).contains(&access.register);
        if touches_bus && !enabled {
            return Err(BusError::Fault);
        }
        if touches_bus && bus.secure_debug_permitted() == Some(false) && !self.nonsecure() {
            return Err(BusError::Fault);
        }
        if access.read {
            self.read(
                bus,
                access.register,
                transfer_in_progress,
                identity,
                enabled,
            )
        } else {
            self.write(bus, access.register, access.value).map(|()| 0)
        }
    }

    fn read(
        &mut self,
        bus: &mut dyn Bus,
        register: u8,
        transfer_in_progress: bool,
        identity: AccessPortIdentity,
        enabled: bool,
    ) -> Result<u32, BusError> {
        match register {
            CSW => Ok(self.csw_value(transfer_in_progress, enabled)
                | match bus.secure_debug_permitted() {
                    Some(true) => CSW_SPIDEN,
                    _ => 0,
                }),
            TAR => Ok(self.tar),
            DRW => self.read_data(bus),
            BD0..=BD3 => self.bus_read(bus, self.banked_address(register), Width::Word),
            CFG => Ok(0),
            BASE => Ok(identity.base),
            IDR => Ok(identity.idr),
            _ => Ok(0),
        }
    }

    fn write(&mut self, bus: &mut dyn Bus, register: u8, value: u32) -> Result<(), BusError> {
        match register {
            CSW => self.write_csw(value),
            TAR => self.tar = value,
            DRW => self.write_data(bus, value)?,
            BD0..=BD3 => self.bus_write(bus, self.banked_address(register), Width::Word, value)?,
            _ => {}
        }
        Ok(())
    }

    fn csw_value(&self, transfer_in_progress: bool, enabled: bool) -> u32 {
        let progress = if transfer_in_progress {
            CSW_TRANSFER_IN_PROGRESS
        } else {
            0
        };
        let device = if enabled { CSW_DEVICE_ENABLED } else { 0 };
        self.csw | device | progress
    }

    /// Size 8, 16 or 32 bits; other sizes are not implemented and leave Size as it was.
    /// AddrInc off or single (no packed transfers on this AP).
    fn write_csw(&mut self, value: u32) {
        let size = match value & CSW_SIZE {
            size @ 0..=2 => size,
            _ => self.csw & CSW_SIZE,
        };
        self.csw = (value & (CSW_PROT | CSW_ADDRINC_SINGLE)) | size;
    }

    /// HNONSEC set (meaningful on an AP with TrustZone only).
    fn nonsecure(&self) -> bool {
        self.csw & CSW_HNONSEC != 0
    }

    fn bus_read(&self, bus: &mut dyn Bus, address: u32, width: Width) -> Result<u32, BusError> {
        if self.nonsecure() && bus.secure_debug_permitted().is_some() {
            bus.read_nonsecure(address, width)
        } else {
            bus.read(address, width)
        }
    }

    fn bus_write(
        &self,
        bus: &mut dyn Bus,
        address: u32,
        width: Width,
        value: u32,
    ) -> Result<(), BusError> {
        if self.nonsecure() && bus.secure_debug_permitted().is_some() {
            bus.write_nonsecure(address, width, value)
        } else {
            bus.write(address, width, value)
        }
    }

    fn width(&self) -> Width {
        match self.csw & CSW_SIZE {
            0 => Width::Byte,
            1 => Width::Half,
            _ => Width::Word,
        }
    }

    /// Where the data sits in DRW: byte lanes by TAR[1:0] (ADIv5.2 C2.2.6).
    fn lane_shift(&self, width: Width) -> u32 {
        match width {
            Width::Byte => (self.tar & 3) * 8,
            Width::Half => (self.tar & 2) * 8,
            Width::Word => 0,
        }
    }

    fn read_data(&mut self, bus: &mut dyn Bus) -> Result<u32, BusError> {
        let width = self.width();
        let value = self.bus_read(bus, self.tar, width)?;
        let lanes = value << self.lane_shift(width);
        self.increment(width);
        Ok(lanes)
    }

    fn write_data(&mut self, bus: &mut dyn Bus, value: u32) -> Result<(), BusError> {
        let width = self.width();
        let mask = match width {
            Width::Byte => 0xFF,
            Width::Half => 0xFFFF,
            Width::Word => u32::MAX,
        };
        self.bus_write(
            bus,
            self.tar,
            width,
            (value >> self.lane_shift(width)) & mask,
        )?;
        self.increment(width);
        Ok(())
    }

    /// After a completed DRW access (ADIv5.2 C2.2.2).
    fn increment(&mut self, width: Width) {
        if self.csw & CSW_ADDRINC_SINGLE != 0 {
            let low = self.tar.wrapping_add(width.bytes()) & INCREMENT_BLOCK_MASK;
            self.tar = (self.tar & !INCREMENT_BLOCK_MASK) | low;
        }
    }

    /// BD0-BD3 reach the four words at TAR[31:4] (ADIv5.2 C2.6.1).
    fn banked_address(&self, register: u8) -> u32 {
        (self.tar & !0xF) | u32::from(register & 0xC)
    }
}
