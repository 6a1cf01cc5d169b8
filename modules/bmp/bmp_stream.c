// bmp: byte streams and TCP servers for the GDB and CMSIS-DAP servers.
//
// Sockets come from the port's own `socket` module (unix, lwIP, esp32 alike), so this file
// holds the QSTRs of that API. Everything here is non-blocking; functions that can fail
// in Python's way raise, and the Rust poll loops call them through bmp_glue_call_protected.
#include <string.h>
#include "py/runtime.h"
#include "py/stream.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "bmp_stream.h"

// Python objects the servers keep between polls: reachable by the GC only from here.
MP_REGISTER_ROOT_POINTER(mp_obj_t bmp_roots[12]);
_Static_assert(BMP_ROOT_COUNT <= 12, "bmp_roots has 12 slots");

mp_obj_t *bmp_stream_root(bmp_root_t slot) {
    return &MP_STATE_VM(bmp_roots)[slot];
}

static mp_obj_t call_method(mp_obj_t object, qstr name, size_t n_args, const mp_obj_t *args) {
    mp_obj_t call[2 + 3];
    mp_load_method(object, name, call);
    for (size_t i = 0; i < n_args; ++i) {
        call[2 + i] = args[i];
    }
    return mp_call_method_n_kw(n_args, 0, call);
}

// socket.socket() bound to host:port, listening, non-blocking.
mp_obj_t bmp_stream_tcp_listen(const char *host, mp_int_t port) {
    mp_obj_t module = mp_import_name(MP_QSTR_socket, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    mp_obj_t listener = mp_call_function_0(mp_load_attr(module, MP_QSTR_socket));
    mp_obj_t reuse[3] = {
        mp_load_attr(module, MP_QSTR_SOL_SOCKET),
        mp_load_attr(module, MP_QSTR_SO_REUSEADDR),
        MP_OBJ_NEW_SMALL_INT(1),
    };
    call_method(listener, MP_QSTR_setsockopt, 3, reuse);
    mp_obj_t lookup[2] = { mp_obj_new_str(host, strlen(host)), MP_OBJ_NEW_SMALL_INT(port) };
    mp_obj_t addresses = mp_call_function_n_kw(mp_load_attr(module, MP_QSTR_getaddrinfo), 2, 0, lookup);
    mp_obj_t first = mp_obj_subscr(addresses, MP_OBJ_NEW_SMALL_INT(0), MP_OBJ_SENTINEL);
    mp_obj_t address = mp_obj_subscr(first, MP_OBJ_NEW_SMALL_INT(-1), MP_OBJ_SENTINEL);
    call_method(listener, MP_QSTR_bind, 1, &address);
    // A client that arrives while another is served waits in the backlog (see connection.rs).
    mp_obj_t backlog = MP_OBJ_NEW_SMALL_INT(2);
    call_method(listener, MP_QSTR_listen, 1, &backlog);
    mp_obj_t blocking = mp_const_false;
    call_method(listener, MP_QSTR_setblocking, 1, &blocking);
    return listener;
}

// TCP_NODELAY: replies go out at once instead of waiting for the client's ACK (Nagle),
// which would stall a request-reply protocol. The socket module names the constants on
// lwIP; on Linux they are the system's numbers. Best effort: failures are ignored.
static void set_no_delay(mp_obj_t client) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t module = mp_import_name(MP_QSTR_socket, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        mp_obj_t option[3];
        mp_obj_t names[2];
        mp_load_method_maybe(module, MP_QSTR_IPPROTO_TCP, names);
        #if defined(__linux__)
        option[0] = names[0] != MP_OBJ_NULL ? names[0] : MP_OBJ_NEW_SMALL_INT(6);
        #else
        option[0] = names[0];
        #endif
        mp_load_method_maybe(module, MP_QSTR_TCP_NODELAY, names);
        #if defined(__linux__)
        option[1] = names[0] != MP_OBJ_NULL ? names[0] : MP_OBJ_NEW_SMALL_INT(1);
        #else
        option[1] = names[0];
        #endif
        option[2] = MP_OBJ_NEW_SMALL_INT(1);
        if (option[0] != MP_OBJ_NULL && option[1] != MP_OBJ_NULL) {
            call_method(client, MP_QSTR_setsockopt, 3, option);
        }
        nlr_pop();
    }
}

// A new client if one is waiting (non-blocking, TCP_NODELAY), else MP_OBJ_NULL. Raises on
// errors other than "nothing waiting".
mp_obj_t bmp_stream_tcp_accept(mp_obj_t listener) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t pair = call_method(listener, MP_QSTR_accept, 0, NULL);
        nlr_pop();
        mp_obj_t client = mp_obj_subscr(pair, MP_OBJ_NEW_SMALL_INT(0), MP_OBJ_SENTINEL);
        mp_obj_t blocking = mp_const_false;
        call_method(client, MP_QSTR_setblocking, 1, &blocking);
        set_no_delay(client);
        return client;
    }
    mp_obj_t exception = MP_OBJ_FROM_PTR(nlr.ret_val);
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exception)), MP_OBJ_FROM_PTR(&mp_type_OSError))) {
        mp_obj_t errno_value = mp_load_attr(exception, MP_QSTR_errno);
        if (mp_obj_is_small_int(errno_value) && mp_is_nonblocking_error(MP_OBJ_SMALL_INT_VALUE(errno_value))) {
            return MP_OBJ_NULL;
        }
    }
    nlr_jump(nlr.ret_val);
}

// Check that `stream` can be read, written and polled; raises TypeError-like OSError if not.
void bmp_stream_check(mp_obj_t stream) {
    mp_get_stream_raise(stream, MP_STREAM_OP_READ | MP_STREAM_OP_WRITE | MP_STREAM_OP_IOCTL);
}

// Bytes read (> 0), 0 at end of stream, -MP_EAGAIN when nothing is there, -errno on error.
mp_int_t bmp_stream_read(mp_obj_t stream, uint8_t *buffer, size_t size) {
    const mp_stream_p_t *protocol = mp_get_stream(stream);
    uintptr_t ready = MP_STREAM_POLL_RD;
    int error = 0;
    // Streams such as UARTs block in read(): ask first.
    mp_uint_t mask = protocol->ioctl(stream, MP_STREAM_POLL, ready, &error);
    if (mask != MP_STREAM_ERROR && !(mask & (MP_STREAM_POLL_RD | MP_STREAM_POLL_HUP | MP_STREAM_POLL_ERR))) {
        return -MP_EAGAIN;
    }
    mp_uint_t count = protocol->read(stream, buffer, size, &error);
    if (count == MP_STREAM_ERROR) {
        return mp_is_nonblocking_error(error) ? -MP_EAGAIN : -error;
    }
    return count;
}

// Write all of `data`, waiting while the stream is full. Returns 0, or -errno.
mp_int_t bmp_stream_write(mp_obj_t stream, const uint8_t *data, size_t size) {
    const mp_stream_p_t *protocol = mp_get_stream(stream);
    while (size > 0) {
        int error = 0;
        mp_uint_t count = protocol->write(stream, data, size, &error);
        if (count == MP_STREAM_ERROR) {
            if (!mp_is_nonblocking_error(error)) {
                return -error;
            }
            // Not mp_event_wait_ms: it may raise a pending KeyboardInterrupt into Rust.
            mp_hal_delay_us(100);
            continue;
        }
        data += count;
        size -= count;
    }
    return 0;
}

// Write what the stream takes now, without waiting. Returns the count (0 when it is full),
// or -errno.
mp_int_t bmp_stream_write_some(mp_obj_t stream, const uint8_t *data, size_t size) {
    const mp_stream_p_t *protocol = mp_get_stream(stream);
    int error = 0;
    mp_uint_t count = protocol->write(stream, data, size, &error);
    if (count == MP_STREAM_ERROR) {
        return mp_is_nonblocking_error(error) ? 0 : -error;
    }
    return count;
}

void bmp_stream_close(mp_obj_t stream) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_stream_close(stream);
        nlr_pop();
    }
}

// Idle waits that a server's socket ended (the host's time.sleep; 0 elsewhere).
static uint32_t socket_wakeups;

uint32_t bmp_stream_socket_wakeups(void) {
    return socket_wakeups;
}

#ifdef BMP_IDLE_WAIT_ON_SOCKETS
#include <sys/select.h>

// The file descriptor of a server's socket to wait on, or -1: its client's while one is
// connected, else its listener's (a newcomer waits in the backlog while a client is served,
// connection.rs, so the listener is not watched then: it would stay readable).
static int server_fd(bmp_root_t listener, bmp_root_t stream) {
    mp_obj_t object = *bmp_stream_root(stream);
    if (object == MP_OBJ_NULL) {
        object = *bmp_stream_root(listener);
    }
    if (object == MP_OBJ_NULL) {
        return -1;
    }
    // A user's stream may be a Python class whose ioctl raises: then there is no fd.
    int fd = -1;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        const mp_stream_p_t *protocol = mp_get_stream(object);
        int error = 0;
        if (protocol != NULL && protocol->ioctl != NULL) {
            mp_uint_t result = protocol->ioctl(object, MP_STREAM_GET_FILENO, 0, &error);
            if (result != MP_STREAM_ERROR) {
                fd = (int)result;
            }
        }
        nlr_pop();
    }
    return fd;
}

// MICROPY_INTERNAL_WFE of the host build: wait up to `us` microseconds, or until the GDB
// or CMSIS-DAP server's socket has something to read (a request, a client, a hang-up).
void bmp_stream_idle_wait_us(unsigned int us) {
    const bmp_root_t servers[2][2] = {
        { BMP_ROOT_GDB_LISTENER, BMP_ROOT_GDB_STREAM },
        { BMP_ROOT_DAP_LISTENER, BMP_ROOT_DAP_STREAM },
    };
    fd_set readable;
    FD_ZERO(&readable);
    int highest = -1;
    for (size_t i = 0; i < 2; ++i) {
        int fd = server_fd(servers[i][0], servers[i][1]);
        if (fd >= 0 && fd < FD_SETSIZE) {
            FD_SET(fd, &readable);
            highest = fd > highest ? fd : highest;
        }
    }
    if (highest < 0) {
        mp_hal_delay_us(us);
        return;
    }
    struct timeval timeout = { .tv_sec = 0, .tv_usec = us };
    MP_THREAD_GIL_EXIT();
    int ready = select(highest + 1, &readable, NULL, NULL, &timeout);
    MP_THREAD_GIL_ENTER();
    if (ready > 0) {
        ++socket_wakeups;
    }
}
#endif
