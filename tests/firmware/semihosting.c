/* ARM semihosting calls of the test firmware; see semihosting.h. */

#include "semihosting.h"

/* The one place that traps to the debugger. Not inlined, so a debugger can break on it
 * and a disassembly shows the BKPT 0xAB at one address. */
__attribute__((noinline)) int32_t semihosting_call(uint32_t operation, void *parameter) {
    register uint32_t r0 __asm__("r0") = operation;
    register void *r1 __asm__("r1") = parameter;
    /* "memory": the debugger reads the parameter block and may write the buffer. */
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

static uint32_t string_length(const char *text) {
    uint32_t length = 0;
    while (text[length] != '\0') {
        length++;
    }
    return length;
}

int32_t semihosting_open(const char *name, uint32_t mode) {
    /* Parameter block: name, mode, length of the name without its NUL (spec, SYS_OPEN). */
    uint32_t block[3] = {(uint32_t)name, mode, string_length(name)};
    return semihosting_call(SYS_OPEN, block);
}

int32_t semihosting_close(int32_t handle) {
    uint32_t block[1] = {(uint32_t)handle};
    return semihosting_call(SYS_CLOSE, block);
}

void semihosting_write0(const char *text) {
    /* r1 is the address of the NUL-terminated string itself (spec, SYS_WRITE0). */
    semihosting_call(SYS_WRITE0, (void *)text);
}

int32_t semihosting_write(int32_t handle, const void *data, uint32_t length) {
    /* Returns the number of bytes not written: 0 on success (spec, SYS_WRITE). */
    uint32_t block[3] = {(uint32_t)handle, (uint32_t)data, length};
    return semihosting_call(SYS_WRITE, block);
}

int32_t semihosting_read(int32_t handle, void *data, uint32_t length) {
    /* Returns the number of bytes not read: 0 when all were read (spec, SYS_READ). */
    uint32_t block[3] = {(uint32_t)handle, (uint32_t)data, length};
    return semihosting_call(SYS_READ, block);
}

int32_t semihosting_flen(int32_t handle) {
    uint32_t block[1] = {(uint32_t)handle};
    return semihosting_call(SYS_FLEN, block);
}

void semihosting_exit(uint32_t status) {
    /* SYS_EXIT_EXTENDED: r1 points to {reason, subcode}; with ADP_Stopped_ApplicationExit
     * the subcode is the exit status (spec, SYS_EXIT_EXTENDED). Used on every exit, success included,
     * so a debugger sees one form only. The plain AArch32 SYS_EXIT carries the reason
     * alone, with no status. */
    uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, status};
    semihosting_call(SYS_EXIT_EXTENDED, block);
}
