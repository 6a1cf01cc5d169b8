// bmp on a probe board: the boot.py and main.py a fresh filesystem gets (first boot, or the
// factory-reset mode chosen at reset: docs/boards.md), in place of MicroPython's own
// (factory_reset_make_files is MP_WEAK in ports/stm32/factoryreset.c). The texts are the
// frozen module bmp_factory's FILES, the same that machine.factory_reset() writes; the VM
// is up (main.c: mp_init before init_flash_fs), the filesystem not yet mounted, so they
// are written here through FatFs. Each goes to NAME.new first, then is renamed: a reset
// during the write leaves no half-written NAME.
#include "py/mpconfig.h"

#if MICROPY_HW_ENABLE_STORAGE && MICROPY_VFS_FAT

#include <string.h>

#include "py/nlr.h"
#include "py/obj.h"
#include "py/runtime.h"
#include "factoryreset.h"

#define STAGED_SUFFIX ".new"
#define NAME_MAX_LENGTH 32

static void write_file(FATFS *fatfs, mp_obj_t name_obj, mp_obj_t text_obj) {
    size_t name_length, text_length;
    const char *name = mp_obj_str_get_data(name_obj, &name_length);
    const char *text = mp_obj_str_get_data(text_obj, &text_length);
    char staged[NAME_MAX_LENGTH + sizeof(STAGED_SUFFIX)];
    if (name_length > NAME_MAX_LENGTH) {
        mp_raise_ValueError(MP_ERROR_TEXT("factory file name too long"));
    }
    memcpy(staged, name, name_length);
    memcpy(staged + name_length, STAGED_SUFFIX, sizeof(STAGED_SUFFIX));

    FIL file;
    UINT written = 0;
    FRESULT result = f_open(fatfs, &file, staged, FA_WRITE | FA_CREATE_ALWAYS);
    if (result == FR_OK) {
        result = f_write(&file, text, text_length, &written);
        FRESULT closed = f_close(&file);
        result = result != FR_OK ? result : closed;
    }
    if (result == FR_OK && written == text_length) {
        f_unlink(fatfs, name);
        result = f_rename(fatfs, staged, name);
    } else {
        f_unlink(fatfs, staged);
    }
    if (result != FR_OK || written != text_length) {
        mp_printf(&mp_plat_print, "bmp: cannot write %s (FatFs error %d)\n", name, result);
    }
}

void factory_reset_make_files(FATFS *fatfs) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t module = mp_import_name(MP_QSTR_bmp_factory, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        size_t count;
        mp_obj_t *files;
        mp_obj_get_array(mp_load_attr(module, MP_QSTR_FILES), &count, &files);
        for (size_t i = 0; i < count; ++i) {
            mp_obj_t *pair;
            mp_obj_get_array_fixed_n(files[i], 2, &pair);
            write_file(fatfs, pair[0], pair[1]);
        }
        nlr_pop();
    } else {
        mp_printf(&mp_plat_print, "bmp: no factory boot.py/main.py: ");
        mp_obj_print_exception(&mp_plat_print, MP_OBJ_FROM_PTR(nlr.ret_val));
    }
}

#endif
