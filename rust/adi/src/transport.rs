//! What the ADI layer needs from the wire, and from the passing of time.

pub use wire::{Port, TransferError};

/// One DP or AP register transaction at a time.
///
/// Reads of the debug port return the register. Reads of an access port are posted
/// (ADIv5.2 B2.2.1 for SWD, B3.3.2 for JTAG-DP): each returns the result of the previous AP
/// read, and the last one is collected by reading DP RDBUFF.
pub trait Transport {
    /// `address` is the register offset, 0x0 to 0xC (A[3:2]).
    fn read(&mut self, port: Port, address: u8) -> Result<u32, TransferError>;
    fn write(&mut self, port: Port, address: u8, value: u32) -> Result<(), TransferError>;
    /// Bring the line back to a known state after a protocol error or a lost target
    /// (SWD: line reset and a DPIDR read; JTAG: Test-Logic-Reset).
    fn resynchronise(&mut self) -> Result<(), TransferError>;
    /// Start or end a burst: back-to-back transactions with no idle cycles between them
    /// where the wire allows it (SWD, ADIv5.2 B4.1). The caller ends the burst before its
    /// last transaction. Does nothing by default.
    fn set_burst(&mut self, _on: bool) {}
    /// SWD multi-drop (ADIv5.2 B4.3.4): reset the line and select the DP whose TARGETSEL
    /// is `target_select`, now and after every line reset; a DPIDR read must follow.
    /// False for a wire without multi-drop (JTAG).
    fn select_target(&mut self, _target_select: u32) -> bool {
        false
    }
    /// Bring dormant DPs to SWD (ADIv5.2 B5.3: JTAG-to-dormant, selection alert, SWD
    /// activation code, line reset), as multi-drop DPs are at power-on; TARGETSEL must
    /// follow. False for a wire that cannot (JTAG).
    fn wake_from_dormant(&mut self) -> bool {
        false
    }
    /// The wire speaks JTAG (a debug sequence's `__protocol`).
    fn is_jtag(&self) -> bool {
        false
    }
    /// The wire-level operations of CMSIS-Pack debug sequences (DAP_SWJ_Sequence,
    /// DAP_SWJ_Pins, DAP_SWJ_Clock, DAP_JTAG_Sequence); None where the wire cannot.
    fn swj(&mut self) -> Option<&mut dyn Swj> {
        None
    }
}

/// Direct control of the SWJ pins, as CMSIS-DAP's DAP_SWJ_* commands give a host.
pub trait Swj {
    /// `count` bits of `bits` on SWDIO/TMS, LSB first, one SWCLK/TCK cycle each.
    fn sequence(&mut self, count: u32, bits: u64);
    /// Drive the `select`ed pins to `output` (bit 0 SWCLK/TCK, 1 SWDIO/TMS, 2 TDI,
    /// 7 nRESET; others ignored); the pins read back: bit 7 the nRESET line as sensed, the
    /// other bits as driven.
    fn pins(&mut self, output: u8, select: u8) -> u8;
    /// SWCLK/TCK frequency asked for; the one in effect.
    fn clock(&mut self, hz: u32) -> u32;
    /// JTAG: `count` TCK cycles with TMS held at `tms` and TDI from `tdi`, LSB first; the
    /// TDO bits. None on an SWD wire.
    fn jtag_sequence(&mut self, count: u32, tms: bool, tdi: u64) -> Option<u64>;
}

/// A monotonic clock in microseconds, for timeouts.
pub trait Clock {
    fn now_micros(&mut self) -> u64;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn read(&mut self, port: Port, address: u8) -> Result<u32, TransferError> {
        (**self).read(port, address)
    }
    fn write(&mut self, port: Port, address: u8, value: u32) -> Result<(), TransferError> {
        (**self).write(port, address, value)
    }
    fn resynchronise(&mut self) -> Result<(), TransferError> {
        (**self).resynchronise()
    }
    fn set_burst(&mut self, on: bool) {
        (**self).set_burst(on)
    }
    fn select_target(&mut self, target_select: u32) -> bool {
        (**self).select_target(target_select)
    }
    fn wake_from_dormant(&mut self) -> bool {
        (**self).wake_from_dormant()
    }
    fn is_jtag(&self) -> bool {
        (**self).is_jtag()
    }
    fn swj(&mut self) -> Option<&mut dyn Swj> {
        (**self).swj()
    }
}

impl<C: Clock + ?Sized> Clock for &mut C {
    fn now_micros(&mut self) -> u64 {
        (**self).now_micros()
    }
}
