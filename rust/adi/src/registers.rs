//! Register addresses and fields (ADIv5.2 chapters B2 and C2).

/// Debug port registers (ADIv5.2 B2.2), address A[3:2] with DPBANKSEL 0.
pub mod dp {
    pub const DPIDR: u8 = 0x0; // read
    pub const ABORT: u8 = 0x0; // write
    pub const CTRL_STAT: u8 = 0x4;
    pub const SELECT: u8 = 0x8;
    pub const RDBUFF: u8 = 0xC;

    // ABORT (B2.2.1)
    pub const ABORT_DAPABORT: u32 = 1 << 0;
    pub const ABORT_STKCMPCLR: u32 = 1 << 1;
    pub const ABORT_STKERRCLR: u32 = 1 << 2;
    pub const ABORT_WDERRCLR: u32 = 1 << 3;
    pub const ABORT_ORUNERRCLR: u32 = 1 << 4;
    pub const ABORT_ALL_STICKY: u32 =
        ABORT_STKCMPCLR | ABORT_STKERRCLR | ABORT_WDERRCLR | ABORT_ORUNERRCLR;

    // CTRL/STAT (B2.2.2)
    pub const CTRL_ORUNDETECT: u32 = 1 << 0;
    pub const CTRL_STICKYORUN: u32 = 1 << 1;
    pub const CTRL_STICKYCMP: u32 = 1 << 4;
    pub const CTRL_STICKYERR: u32 = 1 << 5;
    pub const CTRL_WDATAERR: u32 = 1 << 7;
    pub const CTRL_CDBGPWRUPREQ: u32 = 1 << 28;
    pub const CTRL_CDBGPWRUPACK: u32 = 1 << 29;
    pub const CTRL_CSYSPWRUPREQ: u32 = 1 << 30;
    pub const CTRL_CSYSPWRUPACK: u32 = 1 << 31;
    pub const CTRL_STICKY: u32 = CTRL_STICKYORUN | CTRL_STICKYCMP | CTRL_STICKYERR | CTRL_WDATAERR;
}

/// MEM-AP registers (ADIv5.2 C2.6), as full offsets; bits [7:4] go to SELECT.APBANKSEL.
pub mod ap {
    pub const CSW: u8 = 0x00;
    pub const TAR: u8 = 0x04;
    pub const DRW: u8 = 0x0C;
    pub const BD0: u8 = 0x10;
    pub const CFG: u8 = 0xF4;
    pub const BASE: u8 = 0xF8;
    pub const IDR: u8 = 0xFC;

    // CSW (C2.6.4)
    pub const CSW_SIZE_MASK: u32 = 0x7;
    pub const CSW_SIZE_8: u32 = 0;
    pub const CSW_SIZE_16: u32 = 1;
    pub const CSW_SIZE_32: u32 = 2;
    pub const CSW_ADDRINC_MASK: u32 = 0x3 << 4;
    pub const CSW_ADDRINC_OFF: u32 = 0;
    pub const CSW_ADDRINC_SINGLE: u32 = 1 << 4;
    pub const CSW_DEVICEEN: u32 = 1 << 6;
    pub const CSW_TRINPROG: u32 = 1 << 7;
    /// HPROT1 (privileged) and the DbgSwEnable bit, as debuggers set them for an AHB-AP.
    pub const CSW_AHB_DEFAULT: u32 = (1 << 25) | (1 << 31);

    // IDR (C2.6.5): class in bits [16:13]; a MEM-AP has class 0b1000.
    pub const IDR_CLASS_SHIFT: u32 = 13;
    pub const IDR_CLASS_MASK: u32 = 0xF;
    pub const IDR_CLASS_MEM_AP: u32 = 0x8;

    /// Auto-increment is guaranteed only within a 1 KB block (C2.2.2).
    pub const AUTO_INCREMENT_BLOCK: u32 = 1024;
}
