"""Trace through `dap` with real clients: OpenOCD (`cmsis-dap backend tcp`) captures the
test firmware's ITM text over DAP_SWO_* with its own `tpiu`/`itm` configuration, the
host probe's SWO receiver reading the simulated blue pill's SWO pin (NRZ and Manchester)."""

import os
import subprocess

import pytest

from helpers.openocd import build_firmware, find_openocd, free_port

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def firmware():
    return build_firmware()


@pytest.fixture
def dap_probe(unix_micropython, firmware):
    """The host probe serving CMSIS-DAP on TCP, the firmware running in the simulator."""
    port = free_port()
    script = (f"import dap, time\ndap.init(tcp={port})\nprint('serving')\n"
              "while True:\n    time.sleep(1)\n")
    environment = dict(os.environ, BMP_WIRE="sim:stm32f103c8",
                       BMP_SIM_FIRMWARE=str(firmware / "firmware.elf"))
    process = subprocess.Popen([str(unix_micropython), "-c", script], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=environment)
    try:
        line = process.stdout.readline().decode()
        assert "serving" in line, line + process.stdout.read().decode()
        yield port
    finally:
        process.kill()
        process.wait(timeout=10)


def openocd(port, commands, timeout=90):
    binary, scripts = find_openocd()
    arguments = [str(binary), "-s", str(scripts),
                 "-c", "adapter driver cmsis-dap", "-c", "cmsis-dap backend tcp",
                 "-c", "cmsis-dap tcp host 127.0.0.1", "-c", f"cmsis-dap tcp port {port}",
                 "-c", "transport select swd", "-c", "adapter speed 4000",
                 "-c", "gdb_port disabled", "-c", "tcl_port disabled",
                 "-c", "telnet_port disabled", "-f", "target/stm32f1x.cfg", "-c", "init"]
    for command in commands:
        arguments += ["-c", command]
    arguments += ["-c", "shutdown"]
    result = subprocess.run(arguments, capture_output=True, text=True, timeout=timeout)
    return result.stdout + result.stderr


def itm_text(data, port=0):
    """The payload of the ITM software source packets of stimulus `port` (ARMv7-M D4.2.8):
    header bits 2:0 give the size (1, 2 or 3 for 1, 2, 4 bytes), bits 7:3 the port.
    Synchronization (zeros then 0x80), overflow (0x70) and timestamp packets are skipped."""
    text = bytearray()
    at = 0
    while at < len(data):
        header = data[at]
        at += 1
        size = header & 0b11
        if header == 0 or header == 0x70 or size == 0:
            if header & 0x80 and header & 0x0F == 0:  # timestamp with continuation bytes
                while at < len(data) and data[at - 1] & 0x80:
                    at += 1
            continue
        length = {1: 1, 2: 2, 3: 4}[size]
        if header & 0b100 == 0 and header >> 3 == port:
            text.extend(data[at:at + length])
        at += length
    return text.decode(errors="replace")


@pytest.mark.parametrize("protocol,pin_hz", [("uart", 2_000_000), ("manchester", 1_000_000)])
def test_openocd_captures_the_firmwares_itm_text_through_dap(dap_probe, tmp_path, protocol,
                                                            pin_hz):
    capture = tmp_path / "swo.bin"
    log = openocd(dap_probe, [
        f"stm32f1x.tpiu configure -protocol {protocol} -output {capture} -traceclk 72000000 "
        f"-pin-freq {pin_hz} -formatter 0",
        "stm32f1x.tpiu enable",
        "itm port 0 on",
        # Until 160 bytes (four lines or so) have arrived, at most 30 s: the simulated core
        # runs in wall time, slower on a loaded machine. The capture is polled meanwhile.
        f"set deadline [expr {{[clock milliseconds] + 30000}}]; "
        f"while {{[clock milliseconds] < $deadline && (![file exists {capture}] || "
        f"[file size {capture}] < 160)}} {{ sleep 100 }}",
        "stm32f1x.tpiu disable",
    ])
    assert "SWO-UART supported" in log and "SWO-MANCHESTER supported" in log, log
    assert "CMSIS-DAP: SWO Trace Buffer Size = 1024 bytes" in log, log
    assert f"SWO frequency: {pin_hz} Hz." in log, log
    assert capture.exists(), log
    text = itm_text(capture.read_bytes())
    lines = [line for line in text.split("\n") if line]
    # A line every 16384 main-loop iterations; the first may be cut by the start.
    assert len(lines) >= 2, (text, log)
    for line in lines[1:]:
        assert line.startswith("itm: counter "), (text, log)
        assert line[len("itm: counter "):].isdigit(), (text, log)
