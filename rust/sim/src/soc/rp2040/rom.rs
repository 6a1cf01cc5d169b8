//! The simulated boot ROM's image (RP2040 datasheet 2.8): written for the simulator, not
//! Raspberry Pi's code. What hosts rely on is where the datasheet puts it: the vector
//! table at 0, the magic 'M' 'u' 1 and the version at 0x10, the 16-bit pointers to the
//! function table (0x14), the data table (0x16) and `rom_table_lookup` (0x18), and tables
//! of (16-bit code, 16-bit address) pairs ending with code 0 (2.8.3).

use super::qspi::{ROM_FUNCTIONS, RomFunction};

/// Initial SP and reset PC (datasheet 2.8.1; chips.md 5.2: SP 0x20041F00, PC 0xEF).
const STACK_TOP: u32 = 0x2004_1F00;
pub const RESET_HANDLER: u32 = 0xEE;
/// Header (2.8.2): magic, ROM version 3 (B2), table pointers.
const MAGIC: [u8; 4] = [b'M', b'u', 0x01, 0x03];
pub const FUNCTION_TABLE: u16 = 0x100;
pub const DATA_TABLE: u16 = 0x140;
pub const TABLE_LOOKUP: u16 = 0x180;

/// The flash functions' entries (`nop; bx lr` each): the simulator performs a function
/// when a core reaches its entry (`Soc::call_host_function`); the core then waits at the
/// `bx lr` while the flash is busy (where the ROM polls the flash's status register,
/// datasheet 2.8.3.1.3), and returns.
const FUNCTIONS: u32 = 0x200;
const FUNCTION_CODE: [u16; 2] = [0xBF00, 0x4770];
/// Where a core waits in a flash function: the `bx lr` after the entry.
const WAIT_OFFSET: u32 = 2;

/// The flash function whose entry is at `address`.
pub fn function_at(address: u32) -> Option<RomFunction> {
    let index = address.checked_sub(FUNCTIONS)?;
    if !index.is_multiple_of(4) {
        return None;
    }
    ROM_FUNCTIONS
        .get((index / 4) as usize)
        .map(|&(_, function)| function)
}

/// A core at `address` waits there while the flash is busy.
pub fn waits_at(address: u32) -> bool {
    address
        .checked_sub(WAIT_OFFSET)
        .and_then(function_at)
        .is_some()
}

/// `wfi; b reset`: a core out of reset sleeps (boot2 and core 1's launch protocol are
/// not simulated).
const RESET_CODE: [u16; 2] = [0xBF30, 0xE7FD];

/// `uint16_t *rom_table_lookup(uint16_t *table, uint32_t code)`: walk (code, address)
/// pairs until `code` or the terminating 0; answers the address or 0.
const LOOKUP_CODE: [u16; 11] = [
    0x8802, // loop:  ldrh r2, [r0]
    0x2A00, //        cmp r2, #0
    0xD005, //        beq none
    0x428A, //        cmp r2, r1
    0xD001, //        beq found
    0x3004, //        adds r0, #4
    0xE7F8, //        b loop
    0x8840, // found: ldrh r0, [r0, #2]
    0x4770, //        bx lr
    0x2000, // none:  movs r0, #0
    0x4770, //        bx lr
];

fn put_halfwords(image: &mut [u8], at: usize, code: &[u16]) {
    for (index, half) in code.iter().enumerate() {
        image[at + 2 * index..at + 2 * index + 2].copy_from_slice(&half.to_le_bytes());
    }
}

/// The 16 KB ROM.
pub fn image() -> Vec<u8> {
    let mut image = vec![0u8; super::ROM.size as usize];
    image[0..4].copy_from_slice(&STACK_TOP.to_le_bytes());
    // Reset, NMI and HardFault all go to the sleeping loop.
    for vector in 1..4 {
        let at = 4 * vector;
        image[at..at + 4].copy_from_slice(&(RESET_HANDLER | 1).to_le_bytes());
    }
    image[0x10..0x14].copy_from_slice(&MAGIC);
    put_halfwords(
        &mut image,
        0x14,
        &[FUNCTION_TABLE, DATA_TABLE, TABLE_LOOKUP | 1],
    );
    put_halfwords(&mut image, RESET_HANDLER as usize, &RESET_CODE);
    let mut table = Vec::new();
    for (index, (code, _)) in ROM_FUNCTIONS.iter().enumerate() {
        let entry = FUNCTIONS as usize + 4 * index;
        put_halfwords(&mut image, entry, &FUNCTION_CODE);
        table.extend([*code, entry as u16 | 1]);
    }
    table.extend([0, 0]);
    put_halfwords(&mut image, FUNCTION_TABLE.into(), &table);
    // The data table is empty.
    put_halfwords(&mut image, DATA_TABLE.into(), &[0, 0]);
    put_halfwords(&mut image, TABLE_LOOKUP.into(), &LOOKUP_CODE);
    image
}
