/* A small target side of SEGGER's Real Time Transfer protocol, written for the bmp tests
 * from the protocol's description (control block "SEGGER RTT", ring buffers with WrOff
 * and RdOff; see docs/trace.md). Not SEGGER's code. */

#ifndef RTT_H
#define RTT_H

#include <stdint.h>

/* Flags bits 1:0: what a write does when the up buffer is full. */
#define RTT_MODE_SKIP 0u  /* drop a write that does not fit whole */
#define RTT_MODE_TRIM 1u  /* write what fits */
#define RTT_MODE_BLOCK 2u /* wait until the host has read enough */
#define RTT_MODE_MASK 3u

#define RTT_UP_CHANNELS 2u
#define RTT_DOWN_CHANNELS 1u

struct rtt_buffer {
    const char *name;
    char *buffer;
    uint32_t size;
    volatile uint32_t write_offset; /* up: written by the target; down: by the host */
    volatile uint32_t read_offset;  /* up: written by the host; down: by the target */
    volatile uint32_t flags;
};

struct rtt_control_block {
    char id[16];
    int32_t up_count;
    int32_t down_count;
    struct rtt_buffer up[RTT_UP_CHANNELS];
    struct rtt_buffer down[RTT_DOWN_CHANNELS];
};

extern struct rtt_control_block rtt_control_block;

/* Fill the control block in; the ID is written last, so a host finds only a whole block. */
void rtt_init(void);
/* Write to up channel `channel` as its mode says; returns the bytes written. */
uint32_t rtt_write(uint32_t channel, const void *data, uint32_t length);
/* Read up to `length` bytes of down channel `channel`; returns the count. */
uint32_t rtt_read(uint32_t channel, void *data, uint32_t length);

#endif
