// What usbd_cdc_interface.c needs from the port and the HAL when it is compiled for the host
// (tests/usb/cdc_host.c): IRQ priority calls, the tick, the OTG core's interrupt mask.
#ifndef BMP_CDC_HOST_SHIM_H
#define BMP_CDC_HOST_SHIM_H
#include <stdint.h>

#define MICROPY_HW_USB_IS_MULTI_OTG (1)
#define IRQ_PRI_OTG_FS (6)
#define IRQ_STATE_DISABLED (0)
#define IRQ_STATE_ENABLED (1)
static inline uint32_t raise_irq_pri(uint32_t pri) {
    return 0;
}
static inline void restore_irq_pri(uint32_t state) {
}
static inline uint32_t disable_irq(void) {
    return IRQ_STATE_ENABLED;
}
static inline void enable_irq(uint32_t state) {
}
static inline uint32_t query_irq(void) {
    return IRQ_STATE_ENABLED;
}
uint32_t HAL_GetTick(void);
static inline void __WFI(void) {
}

#define USB_OTG_GINTMSK_SOFM (1u << 3)
typedef struct {
    uint32_t GINTMSK;
} USB_OTG_GlobalTypeDef;
typedef struct {
    USB_OTG_GlobalTypeDef *Instance;
    void *pData;
} PCD_HandleTypeDef;

#define MICROPY_BOARD_USBD_CDC_RX_EVENT(cdc) (void)(cdc)
extern int mp_interrupt_char;
void mp_sched_keyboard_interrupt(void);
#endif
