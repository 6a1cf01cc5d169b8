@ CRC-32 of blocks of target memory, run on the target's own core by the probe (bmp,
@ rust/debug/src/crc.rs). GDB's CRC for qCRC / compare-sections: polynomial 0x04C11DB7,
@ MSB first, initial value all ones, no final XOR (libiberty's xcrc32).
@ ARMv6-M Thumb only (no Thumb-2), so every Cortex-M runs it.
@
@ In (words the probe patches into `arguments`, loaded into r0-r4): r0 first byte, r1
@      bytes per block, r2 number of blocks (>= 1), r3 where the CRCs go (one word per
@      block), r4 a 1 KiB word-aligned table area, or the address of `nibbles` (below) for
@      the 16-entry table instead; `erased_crc`: the CRC of r1 bytes of 0xFF; `saved`: the
@      core's r0-r7, put back before the BKPT (the probe then restores only PC and xPSR).
@ The 1 KiB table takes 11 instructions a byte; the 16-entry one 16, but the probe need
@ not save and restore 1 KiB of the target's SRAM around a short run.
@ Out: the CRCs at r3; r0-r7 as in `saved`; the core halts on BKPT #0 at `done`.
@ A word-aligned block is first scanned a word at a time: if every word is 0xFFFFFFFF
@ (erased flash) its CRC is `erased_crc`, about 7 times faster than the bytes' CRC.
@ Assemble: arm-none-eabi-as -mcpu=cortex-m0 -mthumb crc32.S -o crc32.o
@           arm-none-eabi-objcopy -O binary crc32.o crc32.bin
    .syntax unified
    .cpu cortex-m0
    .thumb
    .text
    .global crc32_blocks
crc32_blocks:
    adr     r7, arguments
    ldmia   r7!, {r0-r4}
    adr     r6, nibbles
    cmp     r4, r6
    beq     block               @ the 16-entry table is already there
    @ table[i] = (i << 24) shifted through 8 steps of the polynomial; r5 = 4 * i.
    ldr     r7, polynomial
    movs    r5, #0
table_entry:
    lsls    r6, r5, #22
    .rept 8
    lsls    r6, r6, #1
    bcc     1f
    eors    r6, r7
1:
    .endr
    str     r6, [r4, r5]
    adds    r5, #4
    lsrs    r6, r5, #10
    beq     table_entry
block:
    adds    r7, r0, r1          @ end of this block
    movs    r6, #3
    mov     r5, r0
    orrs    r5, r1
    tst     r5, r6
    bne     crc_bytes           @ not word-aligned: no scan
    mov     r6, r0
scan:
    cmp     r6, r7
    beq     erased
    ldmia   r6!, {r5}
    adds    r5, #1              @ zero (Z set) for 0xFFFFFFFF
    beq     scan
crc_bytes:
    movs    r5, #0
    mvns    r5, r5              @ crc = 0xFFFFFFFF
    cmp     r0, r7
    beq     store
    adr     r6, nibbles
    cmp     r4, r6
    beq     nibble_byte
byte:
    @ crc = (crc << 8) ^ table[(crc >> 24) ^ byte]
    ldrb    r6, [r0]
    lsls    r6, r6, #24
    eors    r5, r6
    lsrs    r6, r5, #24
    lsls    r6, r6, #2
    ldr     r6, [r4, r6]
    lsls    r5, r5, #8
    eors    r5, r6
    adds    r0, #1
    cmp     r0, r7
    bne     byte
store:
    str     r5, [r3]
    adds    r3, #4
    subs    r2, #1
    bne     block
    adr     r7, saved
    ldm     r7, {r0-r7}         @ r7 in the list: no write-back
done:
    bkpt    #0
erased:
    ldr     r5, erased_crc
    mov     r0, r7              @ the next block starts at this one's end
    b       store
nibble_byte:
    @ crc ^= byte << 24, then twice: crc = (crc << 4) ^ nibbles[crc >> 28]
    ldrb    r6, [r0]
    lsls    r6, r6, #24
    eors    r5, r6
    .rept 2
    lsrs    r6, r5, #28
    lsls    r6, r6, #2
    ldr     r6, [r4, r6]
    lsls    r5, r5, #4
    eors    r5, r6
    .endr
    adds    r0, #1
    cmp     r0, r7
    bne     nibble_byte
    b       store
    .balign 4
polynomial:
    .word   0x04C11DB7
erased_crc:
    .word   0xFFFFFFFF
arguments:
    .word   0, 0, 0, 0, 0
saved:
    .word   0, 0, 0, 0, 0, 0, 0, 0
nibbles:
    @ nibbles[i] = (i << 28) shifted through 4 steps of the polynomial.

    .word   0x00000000, 0x04C11DB7, 0x09823B6E, 0x0D4326D9
    .word   0x130476DC, 0x17C56B6B, 0x1A864DB2, 0x1E475005
    .word   0x2608EDB8, 0x22C9F00F, 0x2F8AD6D6, 0x2B4BCB61
    .word   0x350C9B64, 0x31CD86D3, 0x3C8EA00A, 0x384FBDBD
