// bmp on a probe board: the boot.py and main.py a fresh filesystem gets (first boot, or the
// factory-reset mode chosen at reset: docs/boards.md), in place of MicroPython's own
// (factory_reset_make_files is MP_WEAK in ports/stm32/factoryreset.c). GDB on the second USB
// serial port by default; CMSIS-DAP, the calibration and Wi-Fi ready to uncomment.
// tests/test_builds.py compiles both texts as Python.
#include "py/mpconfig.h"

#if MICROPY_HW_ENABLE_STORAGE && MICROPY_VFS_FAT

#include "py/misc.h"
#include "factoryreset.h"

static const char bmp_boot_py[] =
    "# boot.py: runs first at every boot, before USB starts (bmp: docs/boards.md).\r\n"
    "import pyb\r\n"
    "\r\n"
    "# Two serial ports: the REPL and the GDB server (main.py).\r\n"
    "pyb.usb_mode('2xVCP', vid=0x1d50, pid=0x6018)\r\n"
    "\r\n"
    "# ... and CMSIS-DAP v2 for OpenOCD, pyOCD and probe-rs (WinUSB on Windows):\r\n"
    "# pyb.usb_mode('2xVCP+DAP', vid=0x1d50, pid=0x6019)\r\n"
    "# or CMSIS-DAP v1 over HID:\r\n"
    "# import dap\r\n"
    "# pyb.usb_mode('VCP+HID', vid=0x1d50, pid=0x601a, hid=dap.hid_info)\r\n"
    "\r\n"
    "# The SWCLK delay loop's calibration, from one run of dap.calibrate() on this board:\r\n"
    "# import dap\r\n"
    "# dap.calibrate(cal=(125000, 20000000))\r\n"
;

static const char bmp_main_py[] =
    "# main.py: runs after boot.py (bmp: docs/boards.md).\r\n"
    "import bmp\r\n"
    "import pyb\r\n"
    "\r\n"
    "# The GDB server on the second USB serial port.\r\n"
    "bmp.init(stream=pyb.USB_VCP(1))\r\n"
    "\r\n"
    "# CMSIS-DAP on USB (a '+DAP' or '+HID' mode in boot.py):\r\n"
    "# import dap\r\n"
    "# dap.init()\r\n"
    "\r\n"
    "# Wi-Fi (PYBD_SF2): the GDB server on TCP port 3333 instead.\r\n"
    "# import network\r\n"
    "# wlan = network.WLAN(network.STA_IF)\r\n"
    "# wlan.active(True)\r\n"
    "# wlan.connect('ssid', 'key')\r\n"
    "# bmp.init(tcp=3333, host='0.0.0.0')\r\n"
;

void factory_reset_make_files(FATFS *fatfs) {
    static const struct {
        const char *name;
        const char *text;
        size_t length;
    } files[] = {
        {"boot.py", bmp_boot_py, sizeof(bmp_boot_py) - 1},
        {"main.py", bmp_main_py, sizeof(bmp_main_py) - 1},
    };
    for (size_t i = 0; i < MP_ARRAY_SIZE(files); ++i) {
        FIL file;
        if (f_open(fatfs, &file, files[i].name, FA_WRITE | FA_CREATE_ALWAYS) == FR_OK) {
            UINT written;
            f_write(&file, files[i].text, files[i].length, &written);
            f_close(&file);
        }
    }
}

#endif
