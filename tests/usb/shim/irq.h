// Host build of usbd_cdc_interface.c: see cdc_host_shim.h.
#include "cdc_host_shim.h"
