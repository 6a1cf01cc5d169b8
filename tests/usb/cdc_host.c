// The stm32 port's CDC data path (usbd_cdc_interface.c over the usbdev core and class) run
// on the host, to show what goes out on a VCP's bulk IN endpoint after a write:
//
//   cdc_host LENGTH...
//
// For each LENGTH: the host opens the second VCP (SET_CONTROL_LINE_STATE DTR, then the 8 SOFs
// the port waits), the probe writes LENGTH bytes with usbd_cdc_tx(), and every IN transfer
// the stack queues is completed as the host would read it. Prints the transfer sizes, e.g.
// "64: 64 0" (a zero-length packet ends a write of exactly one full packet, USB 2.0 5.8.3).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usbd_core.h"
#include "usbd_desc.h"
#include "usbd_cdc_msc_hid.h"
#include "usbd_cdc_interface.h"
#include "cdc_host_shim.h"

#define CDC_INDEX (1)
#define CDC_INTERFACE (2)
#define CDC_IN_ENDPOINT (0x85)

const uint8_t bmp_host_unique_id[12] = {0};
int mp_interrupt_char = -1;
void mp_sched_keyboard_interrupt(void) {
}
uint32_t HAL_GetTick(void) {
    return 0;
}
void HAL_PCD_SOFCallback(PCD_HandleTypeDef *hpcd);
void usbd_cdc_rx_event_callback(usbd_cdc_itf_t *cdc) {
}
const uint8_t USBD_MSC_Mode_Sense6_Data[4] = {0};
const uint8_t USBD_MSC_Mode_Sense10_Data[8] = {0};
uint8_t *usbd_hid_init(usbd_hid_state_t *hid) {
    static uint8_t buffer[64];
    return buffer;
}
int8_t usbd_hid_receive(usbd_hid_state_t *hid, size_t len) {
    return USBD_OK;
}

static int in_sizes[64];
static int in_count;
static int in_queued; // a transfer is queued on the IN endpoint, not yet completed

// Low-level driver: records transfers on the CDC IN endpoint.
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
    if (ep_addr == CDC_IN_ENDPOINT) {
        if (in_queued || in_count == 64) {
            fprintf(stderr, "cdc_host: a transfer queued while one is in flight\n");
            exit(2);
        }
        in_sizes[in_count++] = size;
        in_queued = 1;
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

static USBD_HandleTypeDef device;
static usbd_cdc_msc_hid_state_t state;
static usbd_cdc_itf_t cdc_interfaces[MICROPY_HW_USB_CDC_NUM];
static usbd_hid_state_t hid_state;
static USB_OTG_GlobalTypeDef otg_core;
static PCD_HandleTypeDef pcd = {&otg_core, &device};

static void control(uint8_t bm_request_type, uint8_t b_request, uint16_t w_value, uint16_t w_index) {
    uint8_t setup[8] = {bm_request_type, b_request, w_value & 0xff, w_value >> 8, w_index & 0xff, w_index >> 8, 0, 0};
    USBD_LL_SetupStage(&device, setup);
}

int main(int argc, char **argv) {
    device.dev_speed = USBD_SPEED_FULL;
    device.pDesc = (USBD_DescriptorsTypeDef *)&USBD_Descriptors;
    device.pClass = &USBD_CDC_MSC_HID;
    device.pData = &pcd;
    state.pdev = &device;
    for (int i = 0; i < MICROPY_HW_USB_CDC_NUM; ++i) {
        cdc_interfaces[i].cdc_idx = i;
        state.cdc[i] = &cdc_interfaces[i].base;
    }
    state.hid = &hid_state;
    device.pClassData = &state;
    USBD_SetVIDPIDRelease(&state, 0x1d50, 0x6018, 0x0200, 0);
    if (USBD_SelectMode(&state, USBD_MODE_CDC2, NULL, 8) != 0) {
        return 1;
    }
    USBD_LL_Reset(&device);
    control(0x00, USB_REQ_SET_ADDRESS, 5, 0);
    control(0x00, USB_REQ_SET_CONFIGURATION, 1, 0);
    usbd_cdc_itf_t *cdc = &cdc_interfaces[CDC_INDEX];
    control(0x21, 0x22, 0x0001, CDC_INTERFACE); // SET_CONTROL_LINE_STATE: DTR (CDC PSTN 6.3.12)
    for (int sof = 0; sof < 9; ++sof) {
        HAL_PCD_SOFCallback(&pcd);
    }
    if (!usbd_cdc_is_connected(cdc)) {
        fprintf(stderr, "cdc_host: the VCP did not connect\n");
        return 1;
    }
    static uint8_t data[1024];
    for (int arg = 1; arg < argc; ++arg) {
        int length = atoi(argv[arg]);
        in_count = 0;
        if (usbd_cdc_tx(cdc, data, length, 0) != length) {
            fprintf(stderr, "cdc_host: usbd_cdc_tx took less than %d bytes\n", length);
            return 1;
        }
        // The host reads until a short packet: complete each transfer the stack queued.
        while (in_queued) {
            in_queued = 0;
            USBD_LL_DataInStage(&device, CDC_IN_ENDPOINT & 0x7f, NULL);
        }
        printf("%d:", length);
        for (int i = 0; i < in_count; ++i) {
            printf(" %d", in_sizes[i]);
        }
        printf("\n");
    }
    return 0;
}
