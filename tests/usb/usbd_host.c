// The stm32 port's USB device stack (MicroPython's usbdev core, its CDC/MSC/HID class with
// bmp's patches, and usbd_desc.c) run on the host: control requests go in through
// USBD_LL_SetupStage as the USB IRQ would pass them, and what the stack answers on EP0 is
// printed, one line per request: "<name> <hex bytes>" or "<name> STALL".
//
//   usbd_host MODE SPEED [HID_REPORT_DESCRIPTOR_HEX]
//
// MODE is a pyb.usb_mode() name (VCP, VCP+HID, 2xVCP, VCP+DAP, 2xVCP+DAP); SPEED is fs or
// hs. The low-level driver (USBD_LL_*) is this file: it records EP0 data and stalls.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usbd_core.h"
#include "usbd_desc.h"
#include "usbd_cdc_msc_hid.h"

const uint8_t bmp_host_unique_id[12] = {0x30, 0x00, 0x3a, 0x00, 0x0c, 0x51, 0x33, 0x30, 0x32, 0x38, 0x37, 0x35};

#define EP0_MAX_PACKET (64)

static uint8_t ep0_data[1024];
static size_t ep0_length;
static int ep0_stalled;
// Where the next EP0 IN packet starts: the OTG driver sends one packet per EP0 transfer and
// hands the stack the advanced buffer pointer when it completes (HAL PCD EP0 handling).
static uint8_t *ep0_next;
static int ep0_sent;

// Low-level driver: the hardware side, recorded.
USBD_StatusTypeDef USBD_LL_Init(USBD_HandleTypeDef *pdev, int high_speed, const uint8_t *fifo_size) {
    return USBD_OK;
}
USBD_StatusTypeDef USBD_LL_DeInit(USBD_HandleTypeDef *pdev) {
    return USBD_OK;
}
USBD_StatusTypeDef USBD_LL_Start(USBD_HandleTypeDef *pdev) {
    return USBD_OK;
}
USBD_StatusTypeDef USBD_LL_Stop(USBD_HandleTypeDef *pdev) {
    return USBD_OK;
}
USBD_StatusTypeDef USBD_LL_OpenEP(USBD_HandleTypeDef *pdev, uint8_t ep_addr, uint8_t ep_type, uint16_t ep_mps) {
    return USBD_OK;
}
USBD_StatusTypeDef USBD_LL_CloseEP(USBD_HandleTypeDef *pdev, uint8_t ep_addr) {
    return USBD_OK;
}
USBD_StatusTypeDef USBD_LL_FlushEP(USBD_HandleTypeDef *pdev, uint8_t ep_addr) {
    return USBD_OK;
}
USBD_StatusTypeDef USBD_LL_StallEP(USBD_HandleTypeDef *pdev, uint8_t ep_addr) {
    if ((ep_addr & 0x7f) == 0) {
        ep0_stalled = 1;
    }
    return USBD_OK;
}
USBD_StatusTypeDef USBD_LL_ClearStallEP(USBD_HandleTypeDef *pdev, uint8_t ep_addr) {
    return USBD_OK;
}
uint8_t USBD_LL_IsStallEP(USBD_HandleTypeDef *pdev, uint8_t ep_addr) {
    return 0;
}
USBD_StatusTypeDef USBD_LL_SetUSBAddress(USBD_HandleTypeDef *pdev, uint8_t dev_addr) {
    return USBD_OK;
}
USBD_StatusTypeDef USBD_LL_Transmit(USBD_HandleTypeDef *pdev, uint8_t ep_addr, uint8_t *pbuf, uint16_t size) {
    if ((ep_addr & 0x7f) == 0) {
        size_t chunk = size < EP0_MAX_PACKET ? size : EP0_MAX_PACKET;
        if (ep0_length + chunk > sizeof(ep0_data)) {
            fprintf(stderr, "usbd_host: EP0 reply longer than %zu bytes\n", sizeof(ep0_data));
            exit(2);
        }
        if (chunk > 0) {
            memcpy(ep0_data + ep0_length, pbuf, chunk);
        }
        ep0_length += chunk;
        ep0_next = pbuf + chunk;
        ep0_sent = 1;
    }
    return USBD_OK;
}
USBD_StatusTypeDef USBD_LL_PrepareReceive(USBD_HandleTypeDef *pdev, uint8_t ep_addr, uint8_t *pbuf, uint16_t size) {
    return USBD_OK;
}
uint32_t USBD_LL_GetRxDataSize(USBD_HandleTypeDef *pdev, uint8_t ep_addr) {
    return 0;
}
void USBD_LL_Delay(uint32_t delay) {
}

// The CDC and HID interface implementations the class calls (usbd_cdc_interface.c and
// usbd_hid_interface.c on the board): buffers only.
static uint8_t rx_buffer[512];
uint8_t *usbd_cdc_init(usbd_cdc_state_t *cdc) {
    return rx_buffer;
}
void usbd_cdc_deinit(usbd_cdc_state_t *cdc) {
}
void usbd_cdc_tx_ready(usbd_cdc_state_t *cdc) {
}
int8_t usbd_cdc_control(usbd_cdc_state_t *cdc, uint8_t cmd, uint8_t *pbuf, uint16_t length) {
    return USBD_OK;
}
int8_t usbd_cdc_receive(usbd_cdc_state_t *cdc, size_t len) {
    return USBD_OK;
}
uint8_t *usbd_hid_init(usbd_hid_state_t *hid) {
    return rx_buffer;
}
int8_t usbd_hid_receive(usbd_hid_state_t *hid, size_t len) {
    return USBD_OK;
}

// The MSC interface's SCSI mode-sense data (usbd_msc_interface.c on the board); MSC modes
// are not enumerated here.
const uint8_t USBD_MSC_Mode_Sense6_Data[4] = {0};
const uint8_t USBD_MSC_Mode_Sense10_Data[8] = {0};

static const struct {
    const char *name;
    uint8_t mode;
} modes[] = {
    {"VCP", USBD_MODE_CDC},
    {"VCP+HID", USBD_MODE_CDC_HID},
    #if MICROPY_HW_USB_CDC_NUM >= 2
    {"2xVCP", USBD_MODE_CDC2},
    #endif
    #if MICROPY_HW_USB_DAP
    {"VCP+DAP", USBD_MODE_CDC_DAP},
    #if MICROPY_HW_USB_CDC_NUM >= 2
    {"2xVCP+DAP", USBD_MODE_CDC2_DAP},
    #endif
    #endif
};

static USBD_HandleTypeDef device;
static usbd_cdc_msc_hid_state_t state;
static usbd_cdc_state_t cdc_states[MICROPY_HW_USB_CDC_NUM];
static usbd_hid_state_t hid_state;

// One control transfer: SETUP, then the IN data stage the stack queues on EP0.
static void request(const char *name, uint8_t bm_request_type, uint8_t b_request, uint16_t w_value, uint16_t w_index, uint16_t w_length) {
    uint8_t setup[8] = {
        bm_request_type, b_request, w_value & 0xff, w_value >> 8, w_index & 0xff, w_index >> 8, w_length & 0xff, w_length >> 8,
    };
    ep0_length = 0;
    ep0_stalled = 0;
    ep0_sent = 0;
    USBD_LL_SetupStage(&device, setup);
    // The stack queues the first packet at once and each next one as an IN completes.
    for (int packets = 0; device.ep0_state == USBD_EP0_DATA_IN && ep0_sent && !ep0_stalled; ++packets) {
        if (packets > 64) {
            fprintf(stderr, "usbd_host: %s: the data stage does not end\n", name);
            exit(2);
        }
        ep0_sent = 0;
        USBD_LL_DataInStage(&device, 0, ep0_next);
    }
    printf("%s ", name);
    if (ep0_stalled) {
        printf("STALL\n");
        return;
    }
    for (size_t i = 0; i < ep0_length; ++i) {
        printf("%02x", ep0_data[i]);
    }
    printf("\n");
}

static int hex_value(char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: usbd_host MODE fs|hs [HID_REPORT_DESCRIPTOR_HEX]\n");
        return 2;
    }
    uint8_t mode = 0;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); ++i) {
        if (strcmp(argv[1], modes[i].name) == 0) {
            mode = modes[i].mode;
        }
    }
    if (mode == 0) {
        fprintf(stderr, "usbd_host: mode %s not in this build\n", argv[1]);
        return 2;
    }
    static uint8_t report_descriptor[255];
    USBD_HID_ModeInfoTypeDef hid_info = {0, 0, 64, 1, 0, report_descriptor};
    if (argc > 3) {
        size_t length = strlen(argv[3]) / 2;
        if (length > sizeof(report_descriptor)) {
            fprintf(stderr, "usbd_host: report descriptor too long\n");
            return 2;
        }
        for (size_t i = 0; i < length; ++i) {
            report_descriptor[i] = hex_value(argv[3][2 * i]) << 4 | hex_value(argv[3][2 * i + 1]);
        }
        hid_info.report_desc_len = length;
    }

    // As pyb_usb_dev_init() sets the device up (ports/stm32/usb.c).
    device.id = 0;
    device.dev_state = USBD_STATE_DEFAULT;
    device.dev_speed = strcmp(argv[2], "hs") == 0 ? USBD_SPEED_HIGH : USBD_SPEED_FULL;
    device.pDesc = (USBD_DescriptorsTypeDef *)&USBD_Descriptors;
    device.pClass = &USBD_CDC_MSC_HID;
    state.pdev = &device;
    for (int i = 0; i < MICROPY_HW_USB_CDC_NUM; ++i) {
        state.cdc[i] = &cdc_states[i];
    }
    state.hid = &hid_state;
    device.pClassData = &state;
    USBD_LL_Reset(&device); // bus reset: EP0 opened with its 64-byte packets
    int cdc_only = mode == USBD_MODE_CDC;
    USBD_SetVIDPIDRelease(&state, MICROPY_HW_USB_VID, 0x6018, 0x0200, cdc_only);
    if (USBD_SelectMode(&state, mode, &hid_info, 8) != 0) {
        fprintf(stderr, "usbd_host: USBD_SelectMode refused %s\n", argv[1]);
        return 1;
    }

    // What a host asks while enumerating and binding drivers (USB 2.0 9.4.3, HID 1.11
    // 7.1.1, MS OS 2.0 descriptors).
    request("device", 0x80, USB_REQ_GET_DESCRIPTOR, USB_DESC_TYPE_DEVICE << 8, 0, 0xff);
    request("set_address", 0x00, USB_REQ_SET_ADDRESS, 5, 0, 0);
    request("set_configuration", 0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0);
    request("configuration", 0x80, USB_REQ_GET_DESCRIPTOR, USB_DESC_TYPE_CONFIGURATION << 8, 0, 0xffff);
    for (int index = 0; index <= 10; ++index) {
        char name[16];
        snprintf(name, sizeof(name), "string%d", index);
        request(name, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DESC_TYPE_STRING << 8 | index, 0x0409, 0xff);
    }
    request("bos", 0x80, USB_REQ_GET_DESCRIPTOR, 0x0f << 8, 0, 0xff);
    for (int code = 0; code < 4; ++code) {
        char name[16];
        snprintf(name, sizeof(name), "vendor%d", code);
        request(name, 0xc0, code, 0, 7, 0xffff);
    }
    // Report descriptors: interface-recipient GET_DESCRIPTOR(REPORT) to each interface.
    for (int interface = 0; interface < 8; ++interface) {
        char name[16];
        snprintf(name, sizeof(name), "report%d", interface);
        if (mode & USBD_MODE_IFACE_HID && interface == hid_state.iface_num) {
            request(name, 0x81, USB_REQ_GET_DESCRIPTOR, 0x22 << 8, interface, 0xff);
        }
    }
    return 0;
}
