// bmp: calls from the GDB server into Python; see bmp_call.h.
#include <string.h>
#include "py/runtime.h"
#include "py/mphal.h"
#include "py/builtin.h"
#include "py/stream.h"
#include "py/mperrno.h"
#include "bmp_call.h"

static const qstr semihosting_names[] = {
    [BMP_SEMIHOSTING_OPEN] = MP_QSTR_open,
    [BMP_SEMIHOSTING_CLOSE] = MP_QSTR_close,
    [BMP_SEMIHOSTING_WRITE] = MP_QSTR_write,
    [BMP_SEMIHOSTING_READ] = MP_QSTR_read,
    [BMP_SEMIHOSTING_CONSOLE_READ] = MP_QSTR_console_read,
    [BMP_SEMIHOSTING_SEEK] = MP_QSTR_seek,
    [BMP_SEMIHOSTING_FLEN] = MP_QSTR_flen,
    [BMP_SEMIHOSTING_REMOVE] = MP_QSTR_remove,
    [BMP_SEMIHOSTING_RENAME] = MP_QSTR_rename,
    [BMP_SEMIHOSTING_SYSTEM] = MP_QSTR_system,
    [BMP_SEMIHOSTING_ERRNO] = MP_QSTR_errno,
    [BMP_SEMIHOSTING_TIME] = MP_QSTR_time,
};

#define MAX_ARGS (3)

static void report(const char *what, mp_obj_t exception) {
    mp_printf(MICROPY_ERROR_PRINTER, "bmp: %s: ", what);
    mp_obj_print_exception(MICROPY_ERROR_PRINTER, exception);
}

static mp_obj_t new_arg(const bmp_arg_t *arg) {
    switch (arg->kind) {
        case BMP_ARG_INT:
            return mp_obj_new_int(arg->number);
        case BMP_ARG_STR:
            return mp_obj_new_str((const char *)arg->data, arg->length);
        default:
            return mp_obj_new_bytes(arg->data, arg->length);
    }
}

// Copy a bytes-like result to `out`, or return an int result. Raises on a wrong type.
static mp_int_t take_result(mp_obj_t result, uint8_t *out, size_t out_size) {
    if (out == NULL) {
        return mp_obj_get_int(result);
    }
    mp_buffer_info_t buffer;
    mp_get_buffer_raise(result, &buffer, MP_BUFFER_READ);
    size_t count = buffer.len < out_size ? buffer.len : out_size;
    memcpy(out, buffer.buf, count);
    return count;
}

mp_int_t bmp_call_semihosting(bmp_semihosting_t function, size_t n_args, const bmp_arg_t *args,
    uint8_t *out, size_t out_size) {
    if (n_args > MAX_ARGS || function >= MP_ARRAY_SIZE(semihosting_names)) {
        return -1;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t module = mp_import_name(MP_QSTR_semihosting, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        mp_obj_t callable = mp_load_attr(module, semihosting_names[function]);
        mp_obj_t objects[MAX_ARGS];
        for (size_t i = 0; i < n_args; ++i) {
            objects[i] = new_arg(&args[i]);
        }
        mp_int_t value = take_result(mp_call_function_n_kw(callable, n_args, 0, objects), out, out_size);
        nlr_pop();
        return value;
    }
    report("semihosting", MP_OBJ_FROM_PTR(nlr.ret_val));
    return -1;
}

mp_int_t bmp_call_text(mp_obj_t function, const uint8_t *text, size_t length,
    uint8_t *out, size_t out_size) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t argument = mp_obj_new_str((const char *)text, length);
        mp_obj_t result = mp_call_function_1(function, argument);
        mp_int_t count = take_result(result, out, out_size);
        nlr_pop();
        return count;
    }
    report("repl_fun", MP_OBJ_FROM_PTR(nlr.ret_val));
    return -1;
}

bool bmp_call_display(mp_obj_t function, const uint8_t *data, size_t length) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_call_function_1(function, mp_obj_new_bytearray(length, data));
        nlr_pop();
        return true;
    }
    report("disp_fun", MP_OBJ_FROM_PTR(nlr.ret_val));
    return false;
}

// The errno of an OSError, ENOMEM for a MemoryError, else EIO.
static mp_int_t errno_of(mp_obj_t exception) {
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exception)),
        MP_OBJ_FROM_PTR(&mp_type_OSError))) {
        mp_obj_t value = mp_obj_exception_get_value(exception);
        if (mp_obj_is_small_int(value)) {
            return MP_OBJ_SMALL_INT_VALUE(value);
        }
    }
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exception)),
        MP_OBJ_FROM_PTR(&mp_type_MemoryError))) {
        return MP_ENOMEM;
    }
    return MP_EIO;
}

mp_obj_t bmp_call_file_open(const uint8_t *name, size_t length, mp_int_t *size) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t open_args[2] = {
            mp_obj_new_str((const char *)name, length), MP_OBJ_NEW_QSTR(MP_QSTR_rb)
        };
        mp_obj_t file = mp_builtin_open(2, open_args, (mp_map_t *)&mp_const_empty_map);
        mp_get_stream_raise(file, MP_STREAM_OP_READ | MP_STREAM_OP_IOCTL);
        // A first byte read, so a directory (EISDIR) fails here rather than as a short file.
        int error = 0;
        uint8_t first;
        mp_stream_rw(file, &first, 1, &error, MP_STREAM_RW_READ);
        *size = error != 0 ? -1 : mp_stream_seek(file, 0, MP_SEEK_END, &error);
        nlr_pop();
        if (*size < 0) {
            bmp_call_file_close(file);
            *size = error != 0 ? error : MP_EIO;
            return MP_OBJ_NULL;
        }
        return file;
    }
    *size = errno_of(MP_OBJ_FROM_PTR(nlr.ret_val));
    return MP_OBJ_NULL;
}

mp_int_t bmp_call_file_read_at(mp_obj_t file, size_t offset, uint8_t *out, size_t count) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_int_t result = -1;
        int error = 0;
        if (mp_stream_seek(file, offset, MP_SEEK_SET, &error) == (mp_off_t)offset) {
            mp_uint_t read = mp_stream_rw(file, out, count, &error, MP_STREAM_RW_READ);
            result = error != 0 ? -1 : (mp_int_t)read;
        }
        nlr_pop();
        return result;
    }
    return -1;
}

void bmp_call_file_close(mp_obj_t file) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_stream_close(file);
        nlr_pop();
    }
}

void bmp_call_console_write(const uint8_t *data, size_t length) {
    mp_hal_stdout_tx_strn((const char *)data, length);
}
