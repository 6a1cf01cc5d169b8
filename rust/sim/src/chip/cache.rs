//! The Cortex-M7's L1 cache registers in the SCB (ARMv7-M B4.8, Cortex-M7 TRM "L1 cache"),
//! and the FPU's feature registers MVFR0-MVFR2 (ARMv7-M B4.6).
//!
//! unicorn-engine has no caches: every access reaches memory at once. So the cache
//! maintenance operations (ICIALLU ... BPIALL) are accepted and do nothing, CCR.IC/DC are
//! stored without effect, and the identification registers describe the STM32H7's caches
//! (16 KB instruction, 16 KB data, 32-byte lines; RM0433 2.1) so that a debugger that
//! cleans and invalidates around its writes finds what silicon would show.

use crate::soc::CoreModel;

/// MVFR0..MVFR2 (ARMv7-M B4.6.2-B4.6.4).
pub const MVFR0: u32 = 0xE000_EF40;
pub const MVFR2: u32 = 0xE000_EF48;
/// CLIDR, CTR, CCSIDR (of the cache CSSELR selects), CSSELR (ARMv7-M B4.8.1).
pub const CLIDR: u32 = 0xE000_ED78;
pub const CTR: u32 = 0xE000_ED7C;
pub const CCSIDR: u32 = 0xE000_ED80;
pub const CSSELR: u32 = 0xE000_ED84;
/// The write-only maintenance operations ICIALLU 0xE000_EF50, ICIMVAU 0xE000_EF58,
/// DCIMVAC 0xE000_EF5C, DCISW, DCCMVAU, DCCMVAC, DCCSW, DCCIMVAC 0xE000_EF70, DCCISW,
/// BPIALL 0xE000_EF78 (ARMv7-M B4.8.2 table B4-3).
pub const MAINTENANCE_FIRST: u32 = 0xE000_EF50;
pub const MAINTENANCE_LAST: u32 = 0xE000_EF78;

/// CLIDR: separate level 1 instruction and data caches (Ctype1 0b011), LoUU and LoC 1.
const CACHE_LEVELS: u32 = 1 << 27 | 1 << 24 | 0b011;
/// CTR: format 0b100, CWG and ERG 8 words, DminLine and IminLine 8 words (32 bytes)
/// (Cortex-M7 TRM, "Cache Type Register" reset value).
const CACHE_TYPE: u32 = 0x8303_C003;
/// CCSIDR fields (ARMv7-M B4.8.3): WT 31, WB 30, RA 29, WA 28, NumSets-1 [27:13],
/// Associativity-1 [12:3], LineSize [2:0] = log2(words per line) - 2.
const fn cache_size_id(sets: u32, ways: u32) -> u32 {
    0xF << 28 | (sets - 1) << 13 | (ways - 1) << 3 | 1
}
/// 16 KB data cache: 4 ways of 128 sets of 32 bytes.
const DATA_CACHE: u32 = cache_size_id(128, 4);
/// 16 KB instruction cache: 2 ways of 256 sets of 32 bytes.
const INSTRUCTION_CACHE: u32 = cache_size_id(256, 2);

/// A read of one of these registers on `core`; None if the address is not one of them
/// (or the core does not have it), `selection` being CSSELR.
pub fn read(core: CoreModel, address: u32, selection: u32) -> Option<u32> {
    if (MVFR0..=MVFR2).contains(&address) {
        return Some(core.media_and_fp_features()[((address - MVFR0) / 4) as usize]);
    }
    if core != CoreModel::CortexM7 {
        return None;
    }
    match address {
        CLIDR => Some(CACHE_LEVELS),
        CTR => Some(CACHE_TYPE),
        // CSSELR.InD (bit 0) selects the instruction cache.
        CCSIDR if selection & 1 != 0 => Some(INSTRUCTION_CACHE),
        CCSIDR => Some(DATA_CACHE),
        MAINTENANCE_FIRST..=MAINTENANCE_LAST => Some(0),
        _ => None,
    }
}

/// Writes that do nothing here: the identification registers and the maintenance
/// operations (no caches to maintain). CSSELR is stored by the caller.
pub fn ignores_write(core: CoreModel, address: u32) -> bool {
    (MVFR0..=MVFR2).contains(&address)
        || core == CoreModel::CortexM7
            && matches!(
                address,
                CLIDR | CTR | CCSIDR | MAINTENANCE_FIRST..=MAINTENANCE_LAST
            )
}
