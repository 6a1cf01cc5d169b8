// bmp: declare a module function implemented in Rust and its function object.
#ifndef BMP_FUN_H
#define BMP_FUN_H

#include "py/obj.h"

// Positional arguments only, between MIN and MAX of them.
#define BMP_FUN_VAR(NAME, MIN, MAX) \
    mp_obj_t NAME(size_t n_args, const mp_obj_t *args); \
    static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(NAME##_obj, MIN, MAX, NAME)

// Keyword arguments allowed, at least MIN positional ones.
#define BMP_FUN_KW(NAME, MIN) \
    mp_obj_t NAME(size_t n_args, const mp_obj_t *args, mp_map_t *kw_args); \
    static MP_DEFINE_CONST_FUN_OBJ_KW(NAME##_obj, MIN, NAME)

#define BMP_ENTRY(QSTR_NAME, NAME) { MP_ROM_QSTR(QSTR_NAME), MP_ROM_PTR(&NAME##_obj) }

#endif // BMP_FUN_H
