// bmp: byte streams and TCP servers (bmp_stream.c), for the Rust servers.
#ifndef BMP_STREAM_H
#define BMP_STREAM_H

#include "py/obj.h"

// Slots of the GC root array that keeps the servers' Python objects alive.
typedef enum {
    BMP_ROOT_GDB_LISTENER,
    BMP_ROOT_GDB_STREAM,
    BMP_ROOT_DAP_LISTENER,
    BMP_ROOT_DAP_STREAM,
    BMP_ROOT_REPL_FUN,
    BMP_ROOT_DISP_FUN,
    BMP_ROOT_SWO_STREAM,
    BMP_ROOT_RTT_LISTENER,
    BMP_ROOT_RTT_STREAM,
    BMP_ROOT_RTT_FUN,
    BMP_ROOT_COUNT,
} bmp_root_t;

mp_obj_t *bmp_stream_root(bmp_root_t slot);

mp_obj_t bmp_stream_tcp_listen(const char *host, mp_int_t port);
mp_obj_t bmp_stream_tcp_accept(mp_obj_t listener);
void bmp_stream_check(mp_obj_t stream);
mp_int_t bmp_stream_read(mp_obj_t stream, uint8_t *buffer, size_t size);
mp_int_t bmp_stream_write(mp_obj_t stream, const uint8_t *data, size_t size);
mp_int_t bmp_stream_write_some(mp_obj_t stream, const uint8_t *data, size_t size);
void bmp_stream_close(mp_obj_t stream);
// How many of the host's idle waits a server's socket ended (0 on boards).
uint32_t bmp_stream_socket_wakeups(void);

#endif // BMP_STREAM_H
