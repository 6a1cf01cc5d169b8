//! The DP registers that SW-DP and JTAG-DP share (ADIv5.2 chapter B2), the AP transaction
//! in progress, and the posted read result.
//!
//! An AP access that stalls on the bus (a busy flash) is held, and the next transactions
//! are answered WAIT; it is carried out at the virtual time the stall ends (the bus's
//! `stall_ends_ns`), as an AHB-AP completes it when the slave is ready, but only checked
//! when the next transaction comes.

use super::access_port::{AhbAp, ApAccess, BD0, BD3, DRW};
use crate::bus::{AccessPortKind, Bus, BusError, MultidropTarget};

/// DP register addresses, A[3:2] (ADIv5.2 B2.2).
pub const DPIDR: u8 = 0x0; // read; ABORT on write
pub const CTRL_STAT: u8 = 0x4;
pub const SELECT: u8 = 0x8; // write; RESEND on read (SW-DP)
pub const RDBUFF: u8 = 0xC; // read; TARGETSEL on write (SW-DP version 2)
pub const TARGETSEL: u8 = 0xC;
/// DPBANKSEL values of the DPv2 registers at 0x4 (ADIv5.2 B2.2): TARGETID 2, DLPIDR 3.
const BANK_TARGETID: u32 = 2;
const BANK_DLPIDR: u32 = 3;

/// ABORT (ADIv5.2 B2.2.1).
pub const DAPABORT: u32 = 1 << 0;
pub const STKCMPCLR: u32 = 1 << 1;
pub const STKERRCLR: u32 = 1 << 2;
pub const WDERRCLR: u32 = 1 << 3;
pub const ORUNERRCLR: u32 = 1 << 4;

/// CTRL/STAT (ADIv5.2 B2.2.3).
pub const ORUNDETECT: u32 = 1 << 0;
pub const STICKYORUN: u32 = 1 << 1;
pub const STICKYCMP: u32 = 1 << 4;
pub const STICKYERR: u32 = 1 << 5;
pub const READOK: u32 = 1 << 6;
pub const WDATAERR: u32 = 1 << 7;
pub const CDBGRSTREQ: u32 = 1 << 26;
pub const CDBGRSTACK: u32 = 1 << 27;
pub const CDBGPWRUPREQ: u32 = 1 << 28;
pub const CDBGPWRUPACK: u32 = 1 << 29;
pub const CSYSPWRUPREQ: u32 = 1 << 30;
pub const CSYSPWRUPACK: u32 = 1 << 31;
/// The flags that block AP transactions until cleared (ADIv5.2 B2.2.3, B4.2.4).
pub const STICKY_ERRORS: u32 = STICKYORUN | STICKYCMP | STICKYERR | WDATAERR;
/// ORUNDETECT, TRNMODE, MASKLANE, TRNCNT and the three requests are read/write.
const CONTROL_WRITABLE: u32 =
    ORUNDETECT | (0x3 << 2) | (0xF << 8) | (0xFFF << 12) | CDBGRSTREQ | CDBGPWRUPREQ | CSYSPWRUPREQ;
/// On JTAG-DP the sticky flags are cleared by writing 1 to them (ADIv5.2 B2.2.3).
const JTAG_WRITE_ONE_TO_CLEAR: u32 = STICKYORUN | STICKYCMP | STICKYERR;

/// WCR, the SW-DP wire control register at 0x4 with CTRLSEL/DPBANKSEL 1 (ADIv5.2 B2.2.10):
/// WIREMODE 0b01 (synchronous) after reset; TURNROUND in bits [9:8].
const WIRE_CONTROL_RESET: u32 = 0x40;
const WIRE_CONTROL_WRITABLE: u32 = 0x3 << 8 | 0x7;

/// Which protocol is asking: a few registers differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    Swd,
    Jtag,
}

/// Why the DP did not take a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// An earlier AP transaction is still waiting for the bus.
    Wait,
    /// A sticky error flag is set.
    Fault,
}

#[derive(Clone, Debug)]
pub struct DebugPort {
    /// The writable CTRL/STAT bits.
    control: u32,
    /// STICKYORUN, STICKYCMP, STICKYERR, WDATAERR, READOK.
    status: u32,
    select: u32,
    wire_control: u32,
    /// RDBUFF: the result of the last AP read (ADIv5.2 B2.2.7).
    posted: u32,
    /// RESEND: the last data the SW-DP sent for an AP or RDBUFF read (B2.2.8).
    resend: u32,
    /// An AP transaction the bus stalled: the AP is busy with it (WAIT to the next).
    pending: Option<ApAccess>,
    /// A stalled transaction that DAPABORT gave up on; it is still on the bus
    /// (CSW.TrInProg reads 1 until it completes).
    abandoned: Option<ApAccess>,
    /// The MEM-APs' own state (CSW, TAR) by APSEL, made when first used.
    memory_access_ports: Vec<(u8, AhbAp)>,
    /// A DP on a multi-drop wire: its TARGETID and DLPIDR.
    multidrop: Option<MultidropTarget>,
}

impl Default for DebugPort {
    fn default() -> Self {
        Self {
            control: 0,
            status: 0,
            select: 0,
            wire_control: WIRE_CONTROL_RESET,
            posted: 0,
            resend: 0,
            pending: None,
            abandoned: None,
            memory_access_ports: Vec::new(),
            multidrop: None,
        }
    }
}

impl DebugPort {
    /// A DP version 2 on a multi-drop wire.
    pub fn multidrop(target: MultidropTarget) -> Self {
        DebugPort {
            multidrop: Some(target),
            ..DebugPort::default()
        }
    }

    /// SW-DP turnaround period in cycles (WCR.TURNROUND + 1).
    pub fn turnaround(&self) -> u32 {
        (self.wire_control >> 8 & 3) + 1
    }

    pub fn overrun_detection(&self) -> bool {
        self.control & ORUNDETECT != 0
    }

    pub fn sticky_error(&self) -> bool {
        self.status & STICKY_ERRORS != 0
    }

    pub fn posted(&self) -> u32 {
        self.posted
    }

    pub fn set_resend(&mut self, value: u32) {
        self.resend = value;
    }

    /// A bus error or an injected fault (ADIv5.2 B2.2.3 STICKYERR).
    pub fn set_sticky_error(&mut self) {
        self.status = (self.status | STICKYERR) & !READOK;
    }

    /// Bad parity in SWD write data: the write is discarded (ADIv5.2 B4.2.4 WDATAERR).
    pub fn set_write_data_error(&mut self) {
        self.status |= WDATAERR;
    }

    /// A WAIT or FAULT answer with overrun detection on sets STICKYORUN (B2.2.3).
    pub fn note_refusal(&mut self) {
        if self.overrun_detection() {
            self.status |= STICKYORUN;
        }
    }

    pub fn ctrl_stat(&self) -> u32 {
        let mut value = self.control | self.status;
        for (request, acknowledge) in [
            (CDBGRSTREQ, CDBGRSTACK),
            (CDBGPWRUPREQ, CDBGPWRUPACK),
            (CSYSPWRUPREQ, CSYSPWRUPACK),
        ] {
            if self.control & request != 0 {
                value |= acknowledge;
            }
        }
        value
    }

    fn bank(&self) -> u32 {
        self.select & 0xF
    }

    /// A DP register read. Only an SW-DP RDBUFF read waits for the AP (B2.2.7); JTAG-DP
    /// returns AP results through the scans themselves, its RDBUFF reads as zero.
    pub fn read_register(
        &mut self,
        wire: Wire,
        address: u8,
        bus: &mut dyn Bus,
    ) -> Result<u32, Refusal> {
        let value = match (wire, address) {
            (Wire::Swd, DPIDR) => bus.identity().dpidr,
            (_, CTRL_STAT) if self.bank() == 0 => self.ctrl_stat(),
            (Wire::Swd, CTRL_STAT) if self.bank() == 1 => self.wire_control,
            (Wire::Swd, CTRL_STAT) if self.bank() == BANK_TARGETID => {
                self.multidrop.map_or(0, |target| target.target_id)
            }
            (Wire::Swd, CTRL_STAT) if self.bank() == BANK_DLPIDR => {
                self.multidrop.map_or(0, MultidropTarget::dlpidr)
            }
            (Wire::Swd, SELECT) => self.resend,
            (Wire::Swd, RDBUFF) => {
                if !self.settle(bus) {
                    return Err(Refusal::Wait);
                }
                // Only DPIDR and CTRL/STAT reads and ABORT writes are answered OK while a
                // sticky flag is set (ADIv5.2 B4.2.5); a failed posted read shows here.
                if self.sticky_error() {
                    return Err(Refusal::Fault);
                }
                self.resend = self.posted;
                self.posted
            }
            _ => 0,
        };
        Ok(value)
    }

    /// A DP register write. ABORT at address 0 is an SW-DP register; JTAG-DP has its own
    /// instruction for it (B3.2.1).
    pub fn write_register(&mut self, wire: Wire, address: u8, value: u32) {
        match (wire, address) {
            (Wire::Swd, DPIDR) => self.abort(value),
            (_, CTRL_STAT) if self.bank() == 0 => self.write_ctrl_stat(wire, value),
            (Wire::Swd, CTRL_STAT) if self.bank() == 1 => {
                self.wire_control = WIRE_CONTROL_RESET | (value & WIRE_CONTROL_WRITABLE);
            }
            (_, SELECT) => self.select = value,
            _ => {}
        }
    }

    fn write_ctrl_stat(&mut self, wire: Wire, value: u32) {
        self.control = value & CONTROL_WRITABLE;
        if wire == Wire::Jtag {
            self.status &= !(value & JTAG_WRITE_ONE_TO_CLEAR);
        }
    }

    /// ABORT (ADIv5.2 B2.2.1).
    pub fn abort(&mut self, value: u32) {
        if value & DAPABORT != 0 && self.pending.is_some() {
            self.abandoned = self.pending.take();
        }
        for (clear, flag) in [
            (STKCMPCLR, STICKYCMP),
            (STKERRCLR, STICKYERR),
            (WDERRCLR, WDATAERR),
            (ORUNERRCLR, STICKYORUN),
        ] {
            if value & clear != 0 {
                self.status &= !flag;
            }
        }
    }

    /// May a new AP transaction start? Retries a stalled one first.
    pub fn access_port_ready(&mut self, bus: &mut dyn Bus) -> Result<(), Refusal> {
        if !self.settle(bus) {
            return Err(Refusal::Wait);
        }
        if self.sticky_error() {
            return Err(Refusal::Fault);
        }
        Ok(())
    }

    /// Retry what waits for the bus. True when the AP is free for a new transaction.
    pub fn settle(&mut self, bus: &mut dyn Bus) -> bool {
        if let Some(access) = self.abandoned
            && self.run_abandoned(bus, access)
        {
            self.abandoned = None;
        }
        match self.pending {
            Some(access) => {
                // The AP completes a stalled transfer as soon as the bus frees (AMBA AHB:
                // the slave's HREADY), not when the next SWD transaction arrives.
                bus.access_at(bus.stall_ends_ns());
                let done = self.run(bus, access);
                bus.access_at(None);
                if done {
                    self.pending = None;
                }
                done
            }
            None => true,
        }
    }

    /// Start an AP transaction on the register SELECT and `address` name. A read's result
    /// lands in RDBUFF when it completes.
    pub fn start_access(&mut self, bus: &mut dyn Bus, read: bool, address: u8, value: u32) {
        let access = ApAccess {
            access_port: (self.select >> 24) as u8,
            register: (self.select & 0xF0) as u8 | (address & 0xC),
            read,
            value,
        };
        if !self.run(bus, access) {
            self.pending = Some(access);
        }
    }

    /// Do it; false if the bus stalled (then nothing happened).
    fn run(&mut self, bus: &mut dyn Bus, access: ApAccess) -> bool {
        if self.abandoned.is_some() && touches_bus_or_writes(access) {
            // The AP refuses new transfers until the abandoned one completes.
            self.set_sticky_error();
            return true;
        }
        let in_progress = self.abandoned.is_some();
        match self.access_port_access(bus, access, in_progress) {
            Ok(value) => {
                if access.read {
                    self.posted = value;
                    self.status |= READOK;
                }
                true
            }
            Err(BusError::Stall) => false,
            Err(BusError::Fault) => {
                self.set_sticky_error();
                true
            }
        }
    }

    /// The abandoned transfer finishing on the bus; its result goes nowhere.
    fn run_abandoned(&mut self, bus: &mut dyn Bus, access: ApAccess) -> bool {
        !matches!(
            self.access_port_access(bus, access, true),
            Err(BusError::Stall)
        )
    }

    /// One access to the AP that APSEL names: a MEM-AP, the chip's own AP, or nothing
    /// (reads zero, writes ignored).
    fn access_port_access(
        &mut self,
        bus: &mut dyn Bus,
        access: ApAccess,
        transfer_in_progress: bool,
    ) -> Result<u32, BusError> {
        let index = access.access_port;
        match bus.access_port(index) {
            None => Ok(0),
            Some(AccessPortKind::Own) if access.read => {
                bus.read_access_port(index, access.register)
            }
            Some(AccessPortKind::Own) => bus
                .write_access_port(index, access.register, access.value)
                .map(|()| 0),
            Some(AccessPortKind::Memory { identity, enabled }) => self
                .memory_access_port(index)
                .access(bus, access, transfer_in_progress, identity, enabled),
        }
    }

    fn memory_access_port(&mut self, index: u8) -> &mut AhbAp {
        let position = match self
            .memory_access_ports
            .iter()
            .position(|(apsel, _)| *apsel == index)
        {
            Some(position) => position,
            None => {
                self.memory_access_ports.push((index, AhbAp::default()));
                self.memory_access_ports.len() - 1
            }
        };
        &mut self.memory_access_ports[position].1
    }

    /// CSW.TrInProg as the AP would show it.
    pub fn transfer_in_progress(&self) -> bool {
        self.pending.is_some() || self.abandoned.is_some()
    }
}

fn touches_bus_or_writes(access: ApAccess) -> bool {
    !access.read || access.register == DRW || (BD0..=BD3).contains(&access.register)
}
