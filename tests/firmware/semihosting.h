/* ARM semihosting calls used by the test firmware ("Semihosting for AArch32 and AArch64",
 * ARM, version 2.0). On M-profile the call is BKPT 0xAB with the operation number in r0
 * and a parameter (a value or the address of a parameter block) in r1; the debugger
 * returns the result in r0 and resumes after the BKPT. */

#ifndef BMP_TEST_SEMIHOSTING_H
#define BMP_TEST_SEMIHOSTING_H

#include <stdint.h>

/* Operation numbers (semihosting spec, "Semihosting operations"). */
#define SYS_OPEN 0x01u
#define SYS_CLOSE 0x02u
#define SYS_WRITE0 0x04u
#define SYS_WRITE 0x05u
#define SYS_READ 0x06u
#define SYS_FLEN 0x0Cu
#define SYS_EXIT 0x18u
#define SYS_EXIT_EXTENDED 0x20u

/* SYS_OPEN modes, the index of the ISO C fopen() mode string (spec, SYS_OPEN). */
#define OPEN_MODE_READ_BINARY 1u  /* "rb" */
#define OPEN_MODE_WRITE 4u        /* "w" */
#define OPEN_MODE_WRITE_BINARY 5u /* "wb" */

/* Reason code of SYS_EXIT and SYS_EXIT_EXTENDED (spec, SYS_EXIT: ADP_Stopped_ApplicationExit). */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

int32_t semihosting_call(uint32_t operation, void *parameter);
int32_t semihosting_open(const char *name, uint32_t mode);
int32_t semihosting_close(int32_t handle);
void semihosting_write0(const char *text);
int32_t semihosting_write(int32_t handle, const void *data, uint32_t length);
int32_t semihosting_read(int32_t handle, void *data, uint32_t length);
int32_t semihosting_flen(int32_t handle);
void semihosting_exit(uint32_t status);

#endif
