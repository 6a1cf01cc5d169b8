// bmp qemu board: the MPS2's spare UARTs as MicroPython streams, for bmp.init(stream=...)
// (GDB on a serial line, as on a probe board): module `mps2`, `mps2.UART(2)`.
// UART0 is the REPL and UART1 the probe's wire (board_link.c).
#include "py/runtime.h"
#include "py/stream.h"
#include "py/mperrno.h"
#include "cmsdk_uart.h"

typedef struct {
    mp_obj_base_t base;
    cmsdk_uart_t *uart;
    uint8_t number;
} mps2_uart_obj_t;

static const mp_obj_type_t mps2_uart_type;

// mps2.UART(n): n = 2 (the first UART nothing else uses on this board).
static mp_obj_t mps2_uart_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 1, 1, false);
    mp_int_t number = mp_obj_get_int(args[0]);
    if (number != 2) {
        mp_raise_ValueError(MP_ERROR_TEXT("UART 2 only: UART0 is the REPL, UART1 the probe's wire"));
    }
    mps2_uart_obj_t *self = mp_obj_malloc(mps2_uart_obj_t, type);
    self->uart = CMSDK_UART2;
    self->number = number;
    cmsdk_uart_enable(self->uart);
    return MP_OBJ_FROM_PTR(self);
}

static void mps2_uart_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    mps2_uart_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "UART(%u)", self->number);
}

// Non-blocking: what has arrived, or EAGAIN when nothing has.
static mp_uint_t mps2_uart_read(mp_obj_t self_in, void *buffer, mp_uint_t size, int *errcode) {
    mps2_uart_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint8_t *out = buffer;
    mp_uint_t count = 0;
    while (count < size && (self->uart->STATE & STATE_RX_FULL)) {
        out[count++] = self->uart->DATA & 0xff;
    }
    if (count == 0 && size > 0) {
        *errcode = MP_EAGAIN;
        return MP_STREAM_ERROR;
    }
    return count;
}

static mp_uint_t mps2_uart_write(mp_obj_t self_in, const void *data, mp_uint_t size, int *errcode) {
    mps2_uart_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const uint8_t *in = data;
    for (mp_uint_t i = 0; i < size; ++i) {
        while (self->uart->STATE & STATE_TX_FULL) {
        }
        self->uart->DATA = in[i];
    }
    return size;
}

static mp_uint_t mps2_uart_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int *errcode) {
    mps2_uart_obj_t *self = MP_OBJ_TO_PTR(self_in);
    switch (request) {
        case MP_STREAM_POLL: {
            mp_uint_t ready = 0;
            if ((arg & MP_STREAM_POLL_RD) && (self->uart->STATE & STATE_RX_FULL)) {
                ready |= MP_STREAM_POLL_RD;
            }
            if ((arg & MP_STREAM_POLL_WR) && !(self->uart->STATE & STATE_TX_FULL)) {
                ready |= MP_STREAM_POLL_WR;
            }
            return ready;
        }
        case MP_STREAM_FLUSH:
        case MP_STREAM_CLOSE:
            return 0;
        default:
            *errcode = MP_EINVAL;
            return MP_STREAM_ERROR;
    }
}

static const mp_rom_map_elem_t mps2_uart_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&mp_stream_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_readinto), MP_ROM_PTR(&mp_stream_readinto_obj) },
    { MP_ROM_QSTR(MP_QSTR_write), MP_ROM_PTR(&mp_stream_write_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&mp_stream_close_obj) },
};
static MP_DEFINE_CONST_DICT(mps2_uart_locals, mps2_uart_locals_table);

static const mp_stream_p_t mps2_uart_stream = {
    .read = mps2_uart_read,
    .write = mps2_uart_write,
    .ioctl = mps2_uart_ioctl,
};

static MP_DEFINE_CONST_OBJ_TYPE(
    mps2_uart_type,
    MP_QSTR_UART,
    MP_TYPE_FLAG_ITER_IS_STREAM,
    make_new, mps2_uart_make_new,
    print, mps2_uart_print,
    protocol, &mps2_uart_stream,
    locals_dict, &mps2_uart_locals
    );

static const mp_rom_map_elem_t mps2_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_mps2) },
    { MP_ROM_QSTR(MP_QSTR_UART), MP_ROM_PTR(&mps2_uart_type) },
};
static MP_DEFINE_CONST_DICT(mps2_module_globals, mps2_module_globals_table);

const mp_obj_module_t mps2_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&mps2_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_mps2, mps2_module);
