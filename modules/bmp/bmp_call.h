// bmp: calls from the GDB server into Python (semihosting.py, bmp.repl_fun, bmp.disp_fun).
// Every call catches what Python raises, prints it on the console and reports failure,
// so the Rust side never sees an exception.
#ifndef BMP_CALL_H
#define BMP_CALL_H

#include "py/obj.h"

// The functions of the frozen module `semihosting` the server calls.
typedef enum {
    BMP_SEMIHOSTING_OPEN,          // open(name: str, mode: int) -> handle >= 3, or -1
    BMP_SEMIHOSTING_CLOSE,         // close(handle) -> 0 or -1
    BMP_SEMIHOSTING_WRITE,         // write(handle, data: bytes) -> bytes NOT written
    BMP_SEMIHOSTING_READ,          // read(handle, count) -> bytes (b'' at the end)
    BMP_SEMIHOSTING_CONSOLE_READ,  // console_read(count) -> bytes, a line from the console
    BMP_SEMIHOSTING_SEEK,          // seek(handle, position) -> 0 or -1
    BMP_SEMIHOSTING_FLEN,          // flen(handle) -> length or -1
    BMP_SEMIHOSTING_REMOVE,        // remove(name) -> 0, or -1 (errno() says why)
    BMP_SEMIHOSTING_RENAME,        // rename(old, new) -> 0, or -1
    BMP_SEMIHOSTING_SYSTEM,        // system(command) -> status
    BMP_SEMIHOSTING_ERRNO,         // errno() -> errno of the last failed call
    BMP_SEMIHOSTING_TIME,          // time() -> seconds since 1970
} bmp_semihosting_t;

// One argument: an int, or text passed as str (name) or bytes (data).
typedef enum { BMP_ARG_INT, BMP_ARG_STR, BMP_ARG_BYTES } bmp_arg_kind_t;

typedef struct {
    bmp_arg_kind_t kind;
    mp_int_t number;
    const uint8_t *data;
    size_t length;
} bmp_arg_t;

// semihosting.<function>(*args). With `out`, the result must be bytes-like: up to
// `out_size` bytes are copied and their count returned. Without, the result must be an
// int and is returned. -1 on any failure (printed on the console).
mp_int_t bmp_call_semihosting(bmp_semihosting_t function, size_t n_args, const bmp_arg_t *args,
    uint8_t *out, size_t out_size);

// function(text) -> str or bytes, copied to `out` (cut at out_size); the count, or -1.
mp_int_t bmp_call_text(mp_obj_t function, const uint8_t *text, size_t length,
    uint8_t *out, size_t out_size);

// function(bytearray(data)); false if it raised (printed).
bool bmp_call_display(mp_obj_t function, const uint8_t *data, size_t length);

// A file on the probe's filesystem read in pieces (the GDB server's `monitor algorithm
// load`): open(name, 'rb') -> the file object, its size in *size; MP_OBJ_NULL if it cannot
// be opened, the errno in *size (ENOMEM for a MemoryError, EIO for other exceptions).
mp_obj_t bmp_call_file_open(const uint8_t *name, size_t length, mp_int_t *size);
// Read `count` bytes at `offset` into `out`; the count read (short at the end), or -1.
mp_int_t bmp_call_file_read_at(mp_obj_t file, size_t offset, uint8_t *out, size_t count);
// Close it (errors ignored).
void bmp_call_file_close(mp_obj_t file);

// Write bytes to the console as they are.
void bmp_call_console_write(const uint8_t *data, size_t length);

#endif // BMP_CALL_H
