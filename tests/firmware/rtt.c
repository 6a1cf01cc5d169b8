/* The target side of RTT for the test firmware (see rtt.h). */

#include "rtt.h"

#define UP_TERMINAL_SIZE 2048u
#define UP_ECHO_SIZE 256u
#define DOWN_TERMINAL_SIZE 64u

static char up_terminal[UP_TERMINAL_SIZE];
static char up_echo[UP_ECHO_SIZE];
static char down_terminal[DOWN_TERMINAL_SIZE];

/* In .bss: zero after every reset until rtt_init() runs, so a host that scanned before the
 * reset searches again. */
struct rtt_control_block rtt_control_block;

/* Data before indices, indices before the next access (ARMv7-M A3.7.3). */
static inline void memory_barrier(void) {
    __asm__ volatile("dmb" ::: "memory");
}

static void set_buffer(struct rtt_buffer *descriptor, const char *name, char *buffer,
                       uint32_t size) {
    descriptor->name = name;
    descriptor->buffer = buffer;
    descriptor->size = size;
    descriptor->write_offset = 0;
    descriptor->read_offset = 0;
    descriptor->flags = RTT_MODE_SKIP;
}

void rtt_init(void) {
    struct rtt_control_block *block = &rtt_control_block;
    block->id[0] = '\0';
    memory_barrier();
    block->up_count = RTT_UP_CHANNELS;
    block->down_count = RTT_DOWN_CHANNELS;
    set_buffer(&block->up[0], "Terminal", up_terminal, UP_TERMINAL_SIZE);
    set_buffer(&block->up[1], "Echo", up_echo, UP_ECHO_SIZE);
    set_buffer(&block->down[0], "Terminal", down_terminal, DOWN_TERMINAL_SIZE);
    /* The ID is kept reversed in flash, so a scan of flash or of .data never finds it. */
    static const char reversed[] = "TTR REGGES";
    const uint32_t length = sizeof reversed - 1u;
    for (uint32_t index = 1; index < sizeof block->id; index++) {
        block->id[index] = index < length ? reversed[length - 1u - index] : '\0';
    }
    memory_barrier();
    block->id[0] = reversed[length - 1u];
    memory_barrier();
}

static uint32_t free_space(const struct rtt_buffer *descriptor) {
    uint32_t write = descriptor->write_offset;
    uint32_t read = descriptor->read_offset;
    if (read > write) {
        return read - write - 1u;
    }
    return descriptor->size - (write - read) - 1u;
}

static void copy_in(struct rtt_buffer *descriptor, const char *data, uint32_t length) {
    uint32_t write = descriptor->write_offset;
    for (uint32_t index = 0; index < length; index++) {
        descriptor->buffer[write] = data[index];
        write = write + 1u == descriptor->size ? 0u : write + 1u;
    }
    memory_barrier();
    descriptor->write_offset = write;
}

uint32_t rtt_write(uint32_t channel, const void *data, uint32_t length) {
    if (channel >= RTT_UP_CHANNELS) {
        return 0;
    }
    struct rtt_buffer *descriptor = &rtt_control_block.up[channel];
    const char *bytes = data;
    switch (descriptor->flags & RTT_MODE_MASK) {
    case RTT_MODE_BLOCK: {
        uint32_t done = 0;
        while (done < length) {
            uint32_t room = free_space(descriptor);
            uint32_t piece = length - done < room ? length - done : room;
            copy_in(descriptor, bytes + done, piece);
            done += piece;
        }
        return done;
    }
    case RTT_MODE_TRIM: {
        uint32_t room = free_space(descriptor);
        uint32_t piece = length < room ? length : room;
        copy_in(descriptor, bytes, piece);
        return piece;
    }
    default:
        if (free_space(descriptor) < length) {
            return 0;
        }
        copy_in(descriptor, bytes, length);
        return length;
    }
}

uint32_t rtt_read(uint32_t channel, void *data, uint32_t length) {
    if (channel >= RTT_DOWN_CHANNELS) {
        return 0;
    }
    struct rtt_buffer *descriptor = &rtt_control_block.down[channel];
    char *bytes = data;
    uint32_t read = descriptor->read_offset;
    uint32_t write = descriptor->write_offset;
    memory_barrier();
    uint32_t count = 0;
    while (read != write && count < length) {
        bytes[count++] = descriptor->buffer[read];
        read = read + 1u == descriptor->size ? 0u : read + 1u;
    }
    memory_barrier();
    descriptor->read_offset = read;
    return count;
}
