"""The USB descriptors a probe board sends, checked against the rules hosts apply.

The stm32 port's USB device stack (MicroPython's usbdev core and CDC/MSC/HID class with
bmp's patches from micropython/patches/, and the port's usbd_desc.c) is compiled for the
host with each board's own mpconfigboard.h (tests/usb/usbd_host.c). The harness enumerates it
through USBD_LL_SetupStage as the USB interrupt would, and these tests parse what it answers
on EP0 and check it against:

- USB 2.0 chapter 9 (descriptor layouts, 9.6) and 5.8.3 (bulk packet sizes), the Interface
  Association ECN (IADs for the CDC functions of a 0xEF/0x02/0x01 device);
- CMSIS-DAP (v2: a vendor interface 0xFF/0x00/0x00 whose string contains "CMSIS-DAP", bulk
  OUT then bulk IN; v1: a HID interface with 64-byte reports and "CMSIS-DAP" in the product
  string), which is what OpenOCD's cmsis_dap_usb_bulk.c/cmsis_dap_usb_hid.c and pyOCD match;
- the Microsoft OS 2.0 Descriptors Specification (bcdUSB >= 2.01, a BOS platform capability,
  the descriptor set with the WINUSB compatible ID and DeviceInterfaceGUIDs), which Windows
  needs to bind WinUSB without a driver package.

What this cannot show without hardware: that the OTG core moves these bytes (the FIFO split,
the PHY), that a real host enumerates the board, and the data path's timing.
"""

import pathlib
import re
import struct
import subprocess
import uuid

import pytest

TOP = pathlib.Path(__file__).resolve().parent.parent
HARNESS = TOP / "tests" / "usb"
PROBE_BOARDS = sorted(path.parent.name for path in (TOP / "boards").glob("*/pins.csv"))

DESCRIPTOR_DEVICE = 1
DESCRIPTOR_CONFIGURATION = 2
DESCRIPTOR_STRING = 3
DESCRIPTOR_INTERFACE = 4
DESCRIPTOR_ENDPOINT = 5
DESCRIPTOR_IAD = 0x0B
DESCRIPTOR_BOS = 0x0F
DESCRIPTOR_DEVICE_CAPABILITY = 0x10
CAPABILITY_PLATFORM = 0x05
TRANSFER_BULK = 2
TRANSFER_INTERRUPT = 3
MS_OS_20_PLATFORM_UUID = uuid.UUID("D8DD60DF-4589-4CC7-9CD2-659D9E648A9F")
CMSIS_DAP_V2_GUID = "{CDB3B5AD-293B-4663-AA36-1AAE46463776}"
MS_OS_20_DESCRIPTOR_INDEX = 7
WINDOWS_8_1 = 0x06030000


@pytest.fixture(scope="module")
def micropython_source():
    """The patched MicroPython tree (Debian's source package, or MICROPY_DIR's checkout)."""
    result = subprocess.run([str(TOP / "micropython" / "get-source")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return pathlib.Path(result.stdout.strip().splitlines()[-1])


def usb_defaults(source):
    """The port's MICROPY_HW_USB_* defaults: the #ifndef blocks of mpconfigboard_common.h."""
    text = (source / "ports" / "stm32" / "mpconfigboard_common.h").read_text()
    blocks = re.findall(r"^#ifndef (MICROPY_HW_USB_\w+)\n((?:#define .*\n)+)#endif\n", text, re.M)
    assert blocks, "no MICROPY_HW_USB_ defaults found"
    return "".join(f"#ifndef {name}\n{body}#endif\n" for name, body in blocks)


def board_mcu(board):
    makefile = (TOP / "boards" / board / "mpconfigboard.mk").read_text()
    found = re.search(r"^CMSIS_MCU\s*\??=\s*(\w+)", makefile, re.M)
    if found:
        return found.group(1)
    included = re.search(r"include \$\(BOARD_DIR\)/\.\./(\w+)/mpconfigboard\.mk", makefile)
    return board_mcu(included.group(1)) if included else "STM32F722xx"


def build_host_program(source, board, main, out, with_cdc_interface=False):
    """The port's USB stack with the board's configuration and a harness main, for the host."""
    port = source / "ports" / "stm32"
    sources = [port / "usbdev" / "core" / "src" / name for name in ("usbd_core.c", "usbd_ctlreq.c", "usbd_ioreq.c")]
    sources += [port / "usbdev" / "class" / "src" / name
                for name in ("usbd_cdc_msc_hid.c", "usbd_msc_bot.c", "usbd_msc_scsi.c")]
    sources += [port / "usbd_desc.c", HARNESS / main]
    if with_cdc_interface:
        # Copied so that its own #include "irq.h" etc. find the host shims first.
        copy = out / "usbd_cdc_interface.c"
        copy.write_text((port / "usbd_cdc_interface.c").read_text())
        sources.append(copy)
    (out / "usb_defaults.h").write_text(usb_defaults(source))
    executable = out / main.removesuffix(".c")
    command = ["gcc", "-std=gnu99", "-O1", "-w", "-o", str(executable),
               f"-I{HARNESS / 'shim'}", f"-I{out}", f"-I{port}",
               f"-I{port / 'usbdev' / 'core' / 'inc'}", f"-I{port / 'usbdev' / 'class' / 'inc'}",
               f"-I{source}",
               '-DSTM32_HAL_H="stm32_hal_shim.h"', f"-D{board_mcu(board)}",
               f'-DBOARD_HEADER="{TOP / "boards" / board / "mpconfigboard.h"}"',
               "-DMICROPY_HW_ENABLE_USB=1"] + [str(path) for path in sources]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    return executable


@pytest.fixture(scope="module")
def harness(micropython_source, tmp_path_factory):
    """{board: path of usbd_host built with that board's configuration}."""
    return {board: build_host_program(micropython_source, board, "usbd_host.c", tmp_path_factory.mktemp(board))
            for board in PROBE_BOARDS}


def dap_report_descriptor():
    """dap.hid_info's report descriptor, from the C glue that defines it."""
    source = (TOP / "modules" / "bmp" / "moddap.c").read_text()
    body = re.search(r"dap_hid_report_descriptor\[\] = \{(.*?)\};", source, re.S).group(1)
    body = re.sub(r"//.*", "", body)
    return bytes(int(value, 16) for value in re.findall(r"0x[0-9a-fA-F]+", body))


REPORT_ID_TAG = 0x84


def hid_items(report):
    """(tag with type, data) of each short item of a report descriptor (HID 1.11 6.2.2.2)."""
    items, offset = [], 0
    while offset < len(report):
        prefix = report[offset]
        size = (0, 1, 2, 4)[prefix & 3]
        items.append((prefix & 0xFC, report[offset + 1:offset + 1 + size]))
        offset += 1 + size
    assert offset == len(report), "a report descriptor item runs past the end"
    return items


def enumerate_board(harness, board, mode, speed="fs"):
    """{request name: bytes or None (stalled)} as the stack answered them."""
    command = [str(harness[board]), mode, speed]
    if "HID" in mode:
        command.append(dap_report_descriptor().hex())
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    answers = {}
    for line in result.stdout.splitlines():
        name, _, data = line.partition(" ")
        answers[name] = None if data == "STALL" else bytes.fromhex(data)
    return answers


def string(answers, index):
    """A string descriptor's text (USB 2.0 9.6.7: UTF-16LE after bLength, bDescriptorType)."""
    data = answers[f"string{index}"]
    assert data is not None, f"string {index} stalled"
    assert data[0] == len(data) and data[1] == DESCRIPTOR_STRING
    return data[2:].decode("utf-16-le")


def parse_configuration(data):
    """(configuration header, [interfaces with their endpoints], [IADs]) from a configuration."""
    length, kind, total, interface_count = struct.unpack_from("<BBHB", data)
    assert (length, kind) == (9, DESCRIPTOR_CONFIGURATION)
    assert total == len(data), "wTotalLength must cover the whole configuration (USB 2.0 9.6.3)"
    interfaces, associations, offset = [], [], 0
    while offset < len(data):
        length, kind = data[offset], data[offset + 1]
        assert length >= 2 and offset + length <= len(data), f"descriptor at {offset} overruns"
        body = data[offset:offset + length]
        if kind == DESCRIPTOR_INTERFACE:
            assert length == 9
            interfaces.append({"number": body[2], "alternate": body[3], "endpoint_count": body[4],
                               "class": tuple(body[5:8]), "string": body[8], "endpoints": []})
        elif kind == DESCRIPTOR_ENDPOINT:
            assert length == 7
            address, attributes, packet, interval = struct.unpack_from("<BBHB", body, 2)
            interfaces[-1]["endpoints"].append({"address": address, "type": attributes & 3,
                                                "packet": packet, "interval": interval})
        elif kind == DESCRIPTOR_IAD:
            assert length == 8
            associations.append({"first": body[2], "count": body[3], "class": tuple(body[4:7])})
        offset += length
    return {"interface_count": interface_count}, interfaces, associations


def check_usb2_rules(answers, speed):
    """What every USB 2.0 host checks while enumerating (chapter 9)."""
    device = answers["device"]
    assert len(device) == 18 and device[0] == 18 and device[1] == DESCRIPTOR_DEVICE
    bcd_usb, device_class, subclass, protocol, ep0_packet = struct.unpack_from("<HBBBB", device, 2)
    assert bcd_usb >= 0x0200
    assert ep0_packet == 64, "EP0 is 64 bytes at full and high speed (USB 2.0 5.5.3)"
    assert answers["set_configuration"] is not None
    header, interfaces, associations = parse_configuration(answers["configuration"])
    numbers = sorted({interface["number"] for interface in interfaces})
    assert numbers == list(range(header["interface_count"])), "interfaces numbered 0..n-1 (9.6.5)"
    seen = set()
    for interface in interfaces:
        assert len(interface["endpoints"]) == interface["endpoint_count"]
        for endpoint in interface["endpoints"]:
            assert endpoint["address"] & 0x0F, "endpoint 0 is not in a configuration"
            assert endpoint["address"] not in seen, f"endpoint {endpoint['address']:#x} used twice"
            seen.add(endpoint["address"])
            if endpoint["type"] == TRANSFER_BULK:
                allowed = (512,) if speed == "hs" else (8, 16, 32, 64)
                assert endpoint["packet"] in allowed, f"bulk packet size {endpoint['packet']} at {speed} (5.8.3)"
            if endpoint["type"] == TRANSFER_INTERRUPT:
                assert 1 <= endpoint["packet"] <= (1024 if speed == "hs" else 64)
                assert endpoint["interval"] >= 1
        if interface["string"]:
            assert string(answers, interface["string"]), "an interface string index must resolve"
    if device_class == 0xEF:
        assert (subclass, protocol) == (0x02, 0x01), "IAD device class triple (IAD ECN)"
        for interface in interfaces:
            if interface["class"][0] == 0x02:  # CDC communication interface: in an IAD with its data interface
                assert any(association["first"] == interface["number"] and association["count"] == 2
                           for association in associations)
    for index in (device[14], device[15], device[16]):
        assert string(answers, index)
    language = answers["string0"]
    assert language[:2] == bytes([4, DESCRIPTOR_STRING]) and language[2:4] == b"\x09\x04"
    return interfaces


def interface_named(answers, interfaces, text):
    return [interface for interface in interfaces
            if interface["string"] and text in string(answers, interface["string"])]


def check_bos_and_ms_os_20(answers, dap_interface_number):
    """MS OS 2.0: the BOS platform capability and the descriptor set it points to."""
    bcd_usb = struct.unpack_from("<H", answers["device"], 2)[0]
    assert bcd_usb >= 0x0201, "Windows reads the BOS only from bcdUSB 2.01 on"
    bos = answers["bos"]
    assert bos is not None, "GET_DESCRIPTOR(BOS) stalled"
    length, kind, total, capability_count = struct.unpack_from("<BBHB", bos)
    assert (length, kind, total) == (5, DESCRIPTOR_BOS, len(bos))
    offset, platform = 5, None
    for _ in range(capability_count):
        cap_length, cap_kind, cap_type = bos[offset:offset + 3]
        assert cap_kind == DESCRIPTOR_DEVICE_CAPABILITY
        if cap_type == CAPABILITY_PLATFORM and uuid.UUID(bytes_le=bos[offset + 4:offset + 20]) == MS_OS_20_PLATFORM_UUID:
            platform = bos[offset:offset + cap_length]
        offset += cap_length
    assert offset == len(bos)
    assert platform is not None and len(platform) == 28, "no MS OS 2.0 platform capability"
    windows_version, set_length, vendor_code, alternate = struct.unpack_from("<IHBB", platform, 20)
    assert windows_version >= WINDOWS_8_1
    descriptor_set = answers[f"vendor{vendor_code}"]
    assert descriptor_set is not None, f"vendor request {vendor_code}, wIndex 7 stalled"
    assert len(descriptor_set) == set_length, "the set's length is what the BOS announced"
    for code in range(4):
        if code != vendor_code:
            assert answers[f"vendor{code}"] is None, "other vendor requests must stall"

    # Set header, then nested subsets (MS OS 2.0 spec tables 10-14).
    header_length, header_type, version, total = struct.unpack_from("<HHIH", descriptor_set)
    assert (header_length, header_type, total) == (10, 0, len(descriptor_set))
    assert version >= WINDOWS_8_1
    offset, function_interface, compatible, properties = 10, None, None, {}
    configuration_end = len(descriptor_set)
    function_end = None
    while offset < len(descriptor_set):
        length, kind = struct.unpack_from("<HH", descriptor_set, offset)
        assert length >= 4 and offset + length <= len(descriptor_set)
        if kind == 1:  # configuration subset header
            subset_total = struct.unpack_from("<H", descriptor_set, offset + 6)[0]
            configuration_end = offset + subset_total
            assert configuration_end <= len(descriptor_set)
        elif kind == 2:  # function subset header
            function_interface = descriptor_set[offset + 4]
            function_end = offset + struct.unpack_from("<H", descriptor_set, offset + 6)[0]
            assert function_end <= configuration_end
        elif kind == 3:  # compatible ID
            assert length == 20 and function_end is not None and offset < function_end
            compatible = descriptor_set[offset + 4:offset + 12].rstrip(b"\0").decode()
        elif kind == 4:  # registry property
            data_type, name_length = struct.unpack_from("<HH", descriptor_set, offset + 4)
            name = descriptor_set[offset + 8:offset + 8 + name_length].decode("utf-16-le")
            value_length = struct.unpack_from("<H", descriptor_set, offset + 8 + name_length)[0]
            value = descriptor_set[offset + 10 + name_length:offset + 10 + name_length + value_length]
            assert 10 + name_length + value_length == length
            assert name.endswith("\0")
            properties[name.rstrip("\0")] = (data_type, value.decode("utf-16-le"))
        offset += length
    assert function_interface == dap_interface_number, "the WinUSB function is the DAP interface"
    assert compatible == "WINUSB"
    data_type, value = properties["DeviceInterfaceGUIDs"]
    assert data_type == 7, "DeviceInterfaceGUIDs is REG_MULTI_SZ"
    assert value.endswith("\0\0"), "REG_MULTI_SZ ends with two NULs"
    guids = value.rstrip("\0").split("\0")
    assert guids == [CMSIS_DAP_V2_GUID]
    uuid.UUID(guids[0])  # a well-formed GUID


def dap_boards():
    return [board for board in PROBE_BOARDS if "MICROPY_HW_USB_DAP" in board_header_text(board)]


def board_header_text(board):
    header = (TOP / "boards" / board / "mpconfigboard.h").read_text()
    for included in re.findall(r'#include "(\.\./[\w/]+\.h)"', header):
        header += board_header_text_of(TOP / "boards" / board / included)
    return header


def board_header_text_of(path):
    text = path.read_text()
    for included in re.findall(r'#include "(\.\./[\w/]+\.h)"', text):
        text += board_header_text_of(path.parent / included)
    return text


def speeds(board):
    # High speed only where the board has an HS PHY (the F723's embedded one).
    return ["fs", "hs"] if board_mcu(board) in ("STM32F723xx", "STM32F733xx") else ["fs"]


@pytest.mark.parametrize("board", PROBE_BOARDS)
def test_gdb_serial_ports_are_named(harness, board):
    """pyb.usb_mode('2xVCP'): two CDC functions, the second named for the GDB server."""
    for speed in speeds(board):
        answers = enumerate_board(harness, board, "2xVCP", speed)
        interfaces = check_usb2_rules(answers, speed)
        communication = [interface for interface in interfaces if interface["class"] == (0x02, 0x02, 0x01)]
        assert len(communication) == 2
        assert "GDB" in string(answers, communication[1]["string"])
        assert string(answers, communication[0]["string"]) != string(answers, communication[1]["string"])
        assert answers["bos"] is None, "no BOS without the DAP interface"


@pytest.mark.parametrize("board", PROBE_BOARDS)
def test_cmsis_dap_v1_hid(harness, board):
    """pyb.usb_mode('VCP+HID', hid=dap.hid_info): what OpenOCD's and pyOCD's HID backends match."""
    answers = enumerate_board(harness, board, "VCP+HID")
    interfaces = check_usb2_rules(answers, "fs")
    product = string(answers, answers["device"][15])
    assert "CMSIS-DAP" in product, "hidapi discovery without VID/PID matches the product string"
    hid = [interface for interface in interfaces if interface["class"][0] == 0x03]
    assert len(hid) == 1
    assert hid[0]["class"] == (0x03, 0x00, 0x00), "pyOCD wants HID subclass 0 (no boot protocol)"
    endpoints = hid[0]["endpoints"]
    assert [endpoint["type"] for endpoint in endpoints] == [TRANSFER_INTERRUPT] * 2
    assert endpoints[0]["address"] & 0x80 and not endpoints[1]["address"] & 0x80, "interrupt IN, then OUT"
    assert all(endpoint["packet"] == 64 for endpoint in endpoints)
    report = answers[f"report{hid[0]['number']}"]
    assert report == dap_report_descriptor()
    # HID 1.11 6.2.2: vendor page, 64 one-byte input and output fields, no report ID.
    assert report.startswith(bytes([0x06, 0x00, 0xFF]))
    assert bytes([0x75, 0x08, 0x95, 0x40]) in report and bytes([0x95, 0x40, 0x09, 0x01, 0x91, 0x02]) in report
    assert REPORT_ID_TAG not in [tag for tag, _ in hid_items(report)], "no report ID: OpenOCD sends 64 bytes after ID 0"
    if hid[0]["string"]:
        assert "CMSIS-DAP" in string(answers, hid[0]["string"])


@pytest.mark.parametrize("board", PROBE_BOARDS)
def test_cmsis_dap_v2_bulk_with_ms_os_20(harness, board):
    """pyb.usb_mode('2xVCP+DAP'): the interface OpenOCD, pyOCD and probe-rs pick, bound to
    WinUSB on Windows by the MS OS 2.0 descriptors."""
    assert board in dap_boards(), f"{board} does not enable MICROPY_HW_USB_DAP"
    for mode in ("VCP+DAP", "2xVCP+DAP"):
        for speed in speeds(board):
            answers = enumerate_board(harness, board, mode, speed)
            interfaces = check_usb2_rules(answers, speed)
            device_class = answers["device"][4]
            assert device_class in (0x00, 0xEF), "pyOCD's pyusb backend accepts class 0x00 or 0xEF"
            dap = interface_named(answers, interfaces, "CMSIS-DAP")
            assert len(dap) == 1, "exactly one interface string contains CMSIS-DAP"
            dap = dap[0]
            assert dap["class"] == (0xFF, 0x00, 0x00)
            endpoints = dap["endpoints"]
            assert len(endpoints) in (2, 3)
            assert endpoints[0]["type"] == TRANSFER_BULK and not endpoints[0]["address"] & 0x80, "bulk OUT first"
            assert endpoints[1]["type"] == TRANSFER_BULK and endpoints[1]["address"] & 0x80, "then bulk IN"
            assert endpoints[0]["packet"] == endpoints[1]["packet"] == (512 if speed == "hs" else 64)
            check_bos_and_ms_os_20(answers, dap["number"])
            serial_ports = [interface for interface in interfaces if interface["class"] == (0x02, 0x02, 0x01)]
            assert len(serial_ports) == (2 if mode.startswith("2x") else 1)


def test_vcp_write_of_whole_packets_is_flushed(micropython_source, tmp_path):
    """A GDB reply of exactly 64 bytes must reach gdb at once: a bulk IN transfer that ends
    with a full packet is only complete for the host after a short packet (USB 2.0 5.8.3),
    so the stack must send a zero-length packet after it (the original project's CDC patch).
    MicroPython 1.25's usbd_cdc_interface.c does (tx_need_empty_packet); checked here on its
    real code for every write length up to past the 1 KB ring, at full speed."""
    program = build_host_program(micropython_source, "DEVEBOX_STM32H743", "cdc_host.c", tmp_path,
                                 with_cdc_interface=True)
    lengths = list(range(1, 300)) + [448, 512, 576, 960, 1000, 1023, 1024, 64, 128]
    result = subprocess.run([str(program)] + [str(length) for length in lengths], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    max_packet = 64
    lines = result.stdout.splitlines()
    assert len(lines) == len(lengths)
    for length, line in zip(lengths, lines):
        name, _, sizes = line.partition(":")
        sizes = [int(size) for size in sizes.split()]
        assert int(name) == length
        assert sum(sizes) == length, line
        data = [size for size in sizes if size]
        ends_with_full_packet = data[-1] % max_packet == 0
        assert (sizes[-1] == 0) == ends_with_full_packet, f"write of {length}: transfers {sizes}"
        assert sizes.count(0) <= 1 and 0 not in sizes[:-1], f"write of {length}: stray ZLP in {sizes}"
