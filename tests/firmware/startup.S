/* Start-up code and vector table of the bmp test firmware (Cortex-M3, STM32F103).
 *
 * The vector table holds the initial main stack pointer and the 15 system exception
 * vectors (ARMv7-M B1.5.3); the firmware enables no interrupt, so the device's IRQ
 * vectors (RM0008 10.1.2) are left out. It is placed first in flash at 0x0800_0000, where
 * the boot pins' default (BOOT0 = 0) aliases it at address 0 (RM0008 3.4). */

    .syntax unified
    .thumb

    .section .vectors, "a", %progbits
    .global vector_table
    .type vector_table, %object
vector_table:
    .word _stack_top            /* initial SP */
    .word reset_handler         /* Reset */
    .word fault_handler         /* NMI */
    .word fault_handler         /* HardFault */
    .word fault_handler         /* MemManage */
    .word fault_handler         /* BusFault */
    .word fault_handler         /* UsageFault */
    .word 0, 0, 0, 0            /* reserved */
    .word fault_handler         /* SVCall */
    .word fault_handler         /* DebugMonitor */
    .word 0                     /* reserved */
    .word fault_handler         /* PendSV */
    .word fault_handler         /* SysTick */
    .size vector_table, . - vector_table

    .section .text.reset_handler, "ax", %progbits
    .global reset_handler
    .type reset_handler, %function
    .thumb_func
reset_handler:
    /* Copy .data from its load address in flash to SRAM. */
    ldr r0, =_data_load
    ldr r1, =_data_start
    ldr r2, =_data_end
1:  cmp r1, r2
    bhs 2f
    ldm r0!, {r3}
    stm r1!, {r3}
    b 1b
    /* Zero .bss. */
2:  ldr r1, =_bss_start
    ldr r2, =_bss_end
    movs r3, #0
3:  cmp r1, r2
    bhs 4f
    stm r1!, {r3}
    b 3b
4:  bl main
    /* main does not return; if it did, stay here. */
5:  b 5b
    .size reset_handler, . - reset_handler

    /* Every exception but reset ends here: a place to break on, never left. */
    .section .text.fault_handler, "ax", %progbits
    .global fault_handler
    .type fault_handler, %function
    .thumb_func
fault_handler:
    b fault_handler
    .size fault_handler, . - fault_handler
