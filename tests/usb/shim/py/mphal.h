// The unique-ID address usbd_desc.c reads for the serial number: a fixed 96-bit ID here.
#include <stdint.h>
extern const uint8_t bmp_host_unique_id[12];
#define MP_HAL_UNIQUE_ID_ADDRESS (bmp_host_unique_id)
