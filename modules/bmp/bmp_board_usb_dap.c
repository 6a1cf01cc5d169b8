// bmp on a probe board: CMSIS-DAP packets on the stm32 port's USB device, for dap.init().
// v2 on the vendor bulk interface of pyb.usb_mode('2xVCP+DAP') or 'VCP+DAP' (patched in by
// micropython/patches/0004), else v1 on the HID interface of
// pyb.usb_mode('VCP+HID', hid=dap.hid_info). Called from the poll loop, not from IRQs.
#include <string.h>

// The USB headers first: they define MIN/MAX unconditionally, py/misc.h only if undefined.
#include "usbd_core.h"
#include "usbd_cdc_msc_hid.h"
#include "usbd_hid_interface.h"
#include "py/mphal.h"
#include "usb.h"
#include "bmp_glue.h"

size_t bmp_board_usb_dap_packet_size(void) {
    uint8_t mode = pyb_usb_dev_mode();
    if (mode & USBD_MODE_IFACE_DAP) {
        return pyb_usb_dap_max_packet();
    }
    if (mode & USBD_MODE_IFACE_HID) {
        return HID_DATA_FS_MAX_PACKET_SIZE;
    }
    return 0;
}

static bool hid_configured(usbd_hid_itf_t *hid) {
    return (pyb_usb_dev_mode() & USBD_MODE_IFACE_HID) && hid->base.usbd != NULL
           && hid->base.usbd->pdev->dev_state == USBD_STATE_CONFIGURED;
}

int bmp_board_usb_dap_receive(uint8_t *buffer, size_t size) {
    if (pyb_usb_dev_mode() & USBD_MODE_IFACE_DAP) {
        return pyb_usb_dap_receive(buffer, size);
    }
    usbd_hid_itf_t *hid = usbd_hid_get();
    if (!hid_configured(hid)) {
        return -1;
    }
    if (!usbd_hid_rx_num(hid)) {
        return 0;
    }
    // A report is there, so this does not wait (and re-arms the OUT endpoint).
    return usbd_hid_rx(hid, size, buffer, 0);
}

int bmp_board_usb_dap_transmit(const uint8_t *data, size_t length) {
    if (pyb_usb_dev_mode() & USBD_MODE_IFACE_DAP) {
        return pyb_usb_dap_transmit(data, length);
    }
    usbd_hid_itf_t *hid = usbd_hid_get();
    if (!hid_configured(hid) || !USBD_HID_CanSendReport(&hid->base) || length > HID_DATA_FS_MAX_PACKET_SIZE) {
        return -1;
    }
    // The IN report is sent from this buffer after the call returns (HID reports are whole:
    // zero padded to the report size, HID 1.11 5.6).
    static uint8_t report[HID_DATA_FS_MAX_PACKET_SIZE];
    memcpy(report, data, length);
    memset(report + length, 0, sizeof(report) - length);
    return USBD_HID_SendReport(&hid->base, report, sizeof(report)) == USBD_OK ? 0 : -1;
}
