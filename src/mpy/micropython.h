// The MicroPython API the Rust side uses; build.rs runs bindgen on this.
#include "py/obj.h"
#include "py/objstr.h"
#include "py/runtime.h"
#include "py/stream.h"
#include "py/mperrno.h"
#include "py/gc.h"
#include "py/qstr.h"
#include "bmp_glue.h"
