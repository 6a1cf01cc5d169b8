//! Registers as typed bitfields, each declared once with its address (as probe-rs does):
//! the debug port's and the MEM-AP's here (ADIv5.2 chapters B2 and C2), and through
//! [`register!`](crate::register) those of the layers above (a core's debug registers, a
//! chip's peripherals). Registers without fields we use stay plain addresses.

pub use bitfield::{Bit, BitRange};

/// A debug port register (ADIv5.2 B2.2): its address A[3:2], with DPBANKSEL 0.
pub trait DpRegister: Copy + From<u32> + Into<u32> {
    const ADDRESS: u8;
}

/// A MEM-AP register (ADIv5.2 C2.6): its full offset; bits [7:4] go to SELECT.APBANKSEL.
pub trait ApRegister: Copy + From<u32> + Into<u32> {
    const ADDRESS: u8;
}

/// A memory-mapped register: read and written with [`crate::Memory::load`] and
/// [`crate::Memory::store`].
pub trait MemoryMapped: Copy + From<u32> + Into<u32> {
    const ADDRESS: u32;
}

/// Declare a 32-bit register: a `bitfield` struct (its field syntax: `pub name, set_name:
/// bit;` or `pub type, name, set_name: msb, lsb;`, `_` for no setter) tied to its address
/// as a `dp`, `ap` or `memory` register.
///
/// ```
/// adi::register! {
///     /// DEMCR (ARMv7-M C1.6.5).
///     memory Demcr @ 0xE000_EDFC {
///         pub vc_corereset, set_vc_corereset: 0;
///     }
/// }
/// let mut demcr = Demcr::default();
/// demcr.set_vc_corereset(true);
/// assert_eq!(u32::from(demcr), 1);
/// ```
#[macro_export]
macro_rules! register {
    (@address dp $name:ident $address:expr) => {
        impl $crate::registers::DpRegister for $name {
            const ADDRESS: u8 = $address;
        }
    };
    (@address ap $name:ident $address:expr) => {
        impl $crate::registers::ApRegister for $name {
            const ADDRESS: u8 = $address;
        }
    };
    (@address memory $name:ident $address:expr) => {
        impl $crate::registers::MemoryMapped for $name {
            const ADDRESS: u32 = $address;
        }
    };
    ($(#[$meta:meta])* $kind:ident $name:ident @ $address:literal { $($fields:tt)* }) => {
        $crate::bitfield::bitfield! {
            $(#[$meta])*
            #[derive(Clone, Copy, PartialEq, Eq, Default)]
            pub struct $name(u32);
            impl Debug;
            $($fields)*
        }
        $crate::register!(@address $kind $name $address);
        impl From<u32> for $name {
            fn from(bits: u32) -> Self {
                Self(bits)
            }
        }
        impl From<$name> for u32 {
            fn from(register: $name) -> u32 {
                register.0
            }
        }
    };
}

/// Debug port registers (ADIv5.2 B2.2), address A[3:2] with DPBANKSEL 0.
pub mod dp {
    pub const DPIDR: u8 = 0x0; // read
    pub const CTRL_STAT: u8 = 0x4;
    pub const RDBUFF: u8 = 0xC;
    /// SELECT.DPBANKSEL for DLPIDR at 0x4 (SW-DP version 2, ADIv5.2 B2.2.5).
    pub const BANK_DLPIDR: u32 = 3;

    crate::register! {
        /// ABORT, write only, at DPIDR's address (B2.2.1).
        dp Abort @ 0x0 {
            pub dapabort, set_dapabort: 0;
            pub stkcmpclr, set_stkcmpclr: 1;
            pub stkerrclr, set_stkerrclr: 2;
            pub wderrclr, set_wderrclr: 3;
            pub orunerrclr, set_orunerrclr: 4;
        }
    }

    impl Abort {
        /// Cancel the transaction in progress (DAPABORT).
        pub fn dap_abort() -> Self {
            let mut abort = Self::default();
            abort.set_dapabort(true);
            abort
        }

        /// Clear every sticky flag of CTRL/STAT.
        pub fn clear_sticky() -> Self {
            let mut abort = Self::default();
            abort.set_stkcmpclr(true);
            abort.set_stkerrclr(true);
            abort.set_wderrclr(true);
            abort.set_orunerrclr(true);
            abort
        }
    }

    crate::register! {
        /// CTRL/STAT (B2.2.2).
        dp CtrlStat @ 0x4 {
            pub orundetect, set_orundetect: 0;
            pub stickyorun, _: 1;
            pub stickycmp, _: 4;
            pub stickyerr, _: 5;
            pub wdataerr, _: 7;
            pub cdbgpwrupreq, set_cdbgpwrupreq: 28;
            pub cdbgpwrupack, _: 29;
            pub csyspwrupreq, set_csyspwrupreq: 30;
            pub csyspwrupack, _: 31;
        }
    }

    impl CtrlStat {
        /// A sticky error flag is set: overrun, compare, error or write data error.
        pub fn sticky(&self) -> bool {
            self.stickyorun() || self.stickycmp() || self.stickyerr() || self.wdataerr()
        }

        /// Both power-up requests (B2.2.2: debug and system power domains).
        pub fn power_up_request() -> Self {
            let mut request = Self::default();
            request.set_cdbgpwrupreq(true);
            request.set_csyspwrupreq(true);
            request
        }

        /// Both power-ups acknowledged.
        pub fn powered_up(&self) -> bool {
            self.cdbgpwrupack() && self.csyspwrupack()
        }
    }

    crate::register! {
        /// SELECT (B2.2.9): the AP and its register bank for AP accesses.
        dp Select @ 0x8 {
            pub u8, apsel, set_apsel: 31, 24;
            pub u8, apbanksel, set_apbanksel: 7, 4;
        }
    }
}

/// MEM-AP registers (ADIv5.2 C2.6), as full offsets; bits [7:4] go to SELECT.APBANKSEL.
pub mod ap {
    pub const TAR: u8 = 0x04;
    pub const DRW: u8 = 0x0C;
    pub const BD0: u8 = 0x10;
    pub const CFG: u8 = 0xF4;
    pub const BASE: u8 = 0xF8;

    crate::register! {
        /// CSW, Control/Status Word (C2.6.4).
        ap Csw @ 0x00 {
            pub u8, size, set_size: 2, 0;
            pub u8, addrinc, set_addrinc: 5, 4;
            pub deviceen, _: 6;
            pub trinprog, _: 7;
            /// SPIDEN (SDeviceEn in ADIv6): Secure transfers permitted; read-only, on an
            /// AP with TrustZone (AHB5-AP).
            pub spiden, _: 23;
            /// HNONSEC (Prot bit 6 on an AHB5-AP): the transfers are Non-secure.
            pub hnonsec, set_hnonsec: 30;
        }
    }

    impl Csw {
        pub const SIZE_8: u8 = 0;
        pub const SIZE_16: u8 = 1;
        pub const SIZE_32: u8 = 2;
        pub const ADDRINC_OFF: u8 = 0;
        pub const ADDRINC_SINGLE: u8 = 1;

        /// The bits an access leaves as the AP had them (protection, mode): all but Size,
        /// AddrInc, TrInProg and the low status byte.
        pub fn kept(self) -> Self {
            Self(self.0 & !0xFF)
        }
    }

    crate::register! {
        /// IDR, identification (C2.6.5).
        ap Idr @ 0xFC {
            pub u8, class, _: 16, 13;
            pub u8, ap_type, _: 3, 0;
        }
    }

    impl Idr {
        /// The class of a MEM-AP.
        pub const CLASS_MEM_AP: u8 = 0b1000;

        pub fn is_memory_ap(self) -> bool {
            self.class() == Self::CLASS_MEM_AP
        }

        /// An AHB5-AP (TYPE 0x5, or 0x8 with enhanced HPROT; ADIv5.2 C2.6.5): the bus
        /// with TrustZone's HNONSEC.
        pub fn is_ahb5(self) -> bool {
            matches!(self.ap_type(), 0x5 | 0x8)
        }
    }

    /// Auto-increment is guaranteed only within a 1 KB block (C2.2.2).
    pub const AUTO_INCREMENT_BLOCK: u32 = 1024;
}
