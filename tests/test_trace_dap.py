"""Trace and the UART through `dap`: OpenOCD (`cmsis-dap backend tcp`) captures the
test firmware's ITM text over DAP_SWO_* with its own `tpiu`/`itm` configuration, the
host probe's SWO receiver reading the simulated blue pill's SWO pin (NRZ and Manchester);
a client written from the CMSIS-DAP specification uses DAP_UART_* to talk to the firmware's
USART1 through the host probe's UART bridge."""

import os
import subprocess

import pytest

from helpers.openocd import build_firmware, free_port, run_cmsis_dap_openocd

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
    return run_cmsis_dap_openocd(port, commands, timeout=timeout)


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


def tpiu_deframe(data):
    """The trace data in TPIU formatter frames (CoreSight Architecture Specification,
    "Formatter"): after a full synchronization (FF FF FF 7F), 16-byte frames whose even
    bytes are data (bit 0 in byte 15's matching bit) or ID changes (bit 0 set; aux bit set:
    after the next byte), odd bytes data. The data of every ID but the null ID 0."""
    start = data.find(b"\xff\xff\xff\x7f")
    assert start >= 0, data[:64]
    at, stream_id, out = start + 4, 0, bytearray()
    while at + 16 <= len(data):
        if data[at:at + 4] == b"\xff\xff\xff\x7f":
            at += 4
            continue
        frame, at = data[at:at + 16], at + 16
        delayed = None
        for index in range(15):
            byte, aux = frame[index], frame[15] >> (index // 2) & 1
            if index % 2 == 0 and byte & 1:
                if aux:
                    delayed = byte >> 1
                else:
                    stream_id = byte >> 1
                continue
            if stream_id != 0:
                out.append(byte | aux if index % 2 == 0 else byte)
            if delayed is not None:
                stream_id, delayed = delayed, None
    return bytes(out)


@pytest.mark.parametrize("protocol,pin_hz,formatter", [("uart", 2_000_000, 0),
                                                       ("manchester", 1_000_000, 0),
                                                       ("uart", 2_000_000, 1)])
def test_openocd_captures_the_firmwares_itm_text_through_dap(dap_probe, tmp_path, protocol,
                                                            pin_hz, formatter):
    """OpenOCD's tpiu/itm configuration through dap; with `-formatter 1` the simulated TPIU
    frames the stream (OpenOCD writes the frames as they come; the test unwraps them)."""
    capture = tmp_path / "swo.bin"
    log = openocd(dap_probe, [
        f"stm32f1x.tpiu configure -protocol {protocol} -output {capture} -traceclk 72000000 "
        f"-pin-freq {pin_hz} -formatter {formatter}",
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
    data = capture.read_bytes()
    if formatter:
        assert data.startswith(b"\xff\xff\xff\x7f"), data[:32]
        data = tpiu_deframe(data)
    text = itm_text(data)
    lines = [line for line in text.split("\n") if line]
    # A line every 16384 main-loop iterations; the first may be cut by the start.
    assert len(lines) >= 2, (text, log)
    for line in lines[1:]:
        assert line.startswith("itm: counter "), (text, log)
        assert line[len("itm: counter "):].isdigit(), (text, log)


class DapClient:
    """A CMSIS-DAP client over the probe's TCP transport, written from the specifications:
    OpenOCD's `cmsis-dap backend tcp` framing (an 8-byte header: signature 0x00504144 "DAP",
    payload length, type 1 request / 2 response, reserved) around CMSIS-DAP v2.1 packets.
    Neither OpenOCD nor pyOCD sends the DAP_UART_* commands, so this is the client."""

    SIGNATURE = 0x00504144

    def __init__(self, port):
        import socket
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)

    def ask(self, request):
        import struct
        self.socket.sendall(struct.pack("<IHBB", self.SIGNATURE, len(request), 1, 0) + request)
        header = self._read(8)
        signature, length, kind, _ = struct.unpack("<IHBB", header)
        assert (signature, kind) == (self.SIGNATURE, 2), header
        return self._read(length)

    def _read(self, count):
        data = b""
        while len(data) < count:
            piece = self.socket.recv(count - len(data))
            assert piece, "the probe closed the connection"
            data += piece
        return data

    def close(self):
        self.socket.close()


def uart_configure(client, control, baudrate):
    import struct
    return client.ask(bytes([0x20, control]) + struct.pack("<I", baudrate))


def uart_transfer(client, send=b"", receive=1000):
    """DAP_UART_Transfer: (status, bytes accepted, bytes received)."""
    import struct
    answer = client.ask(bytes([0x21]) + struct.pack("<HH", receive, len(send)) + send)
    assert answer[0] == 0x21, answer
    status, accepted, count = struct.unpack("<BHH", answer[1:6])
    assert len(answer) == 6 + count, answer
    return status, accepted, answer[6:]


def uart_collect(client, until, seconds=30):
    import time
    text = b""
    statuses = 0
    deadline = time.monotonic() + seconds
    while until not in text and time.monotonic() < deadline:
        status, _, data = uart_transfer(client)
        statuses |= status
        text += data
        if not data:
            time.sleep(0.02)
    return text, statuses


def test_dap_uart_bridges_to_the_simulated_usart(dap_probe):
    """DAP_UART_* through the dap TCP server: the firmware's USART1 lines arrive, a line
    sent comes back echoed, a wrong rate gives framing errors, bad requests are refused."""
    import struct
    client = DapClient(dap_probe)
    try:
        capabilities = client.ask(bytes([0x00, 0xF0]))
        assert capabilities[:2] == bytes([0x00, 0x01]) and capabilities[2] & 0x80, capabilities
        assert client.ask(bytes([0x00, 0xFB])) == bytes([0x00, 4]) + struct.pack("<I", 512)
        assert client.ask(bytes([0x00, 0xFC])) == bytes([0x00, 4]) + struct.pack("<I", 512)
        # Before transport 2 nothing is configured; transport 1 (USB COM port) is refused.
        assert uart_configure(client, 0x00, 115200) == bytes([0x20, 0x07, 0, 0, 0, 0])
        assert client.ask(bytes([0x1F, 1])) == bytes([0x1F, 0xFF])
        assert client.ask(bytes([0x1F, 2])) == bytes([0x1F, 0x00])
        # Enabling before configuring is refused; reserved parity 3 names the field.
        assert client.ask(bytes([0x22, 0x11])) == bytes([0x22, 0xFF])
        assert uart_configure(client, 0x30, 115200) == bytes([0x20, 0x02, 0, 0, 0, 0])
        # 8N1 at 115200, as the firmware's USART1; receive and transmit on.
        assert uart_configure(client, 0x00, 115200) == bytes([0x20, 0x00]) + \
            struct.pack("<I", 115200)
        assert client.ask(bytes([0x22, 0x11])) == bytes([0x22, 0x00])
        text, statuses = uart_collect(client, b"\n")
        more, more_statuses = uart_collect(client, b"\n")
        text += more
        # The first piece may start mid-line; the line after it is whole.
        line = text.split(b"\n")[1]
        assert line.startswith(b"uart: counter ") and line[14:].isdigit(), text
        assert (statuses | more_statuses) & 0x0E == 0, (statuses, more_statuses, text)
        # A line to the target comes back.
        status, accepted, _ = uart_transfer(client, b"hello uart\n", receive=0)
        assert accepted == 11 and status & 0x11 == 0x11, status
        text, _ = uart_collect(client, b"uart echo: hello uart\n")
        assert b"uart echo: hello uart\n" in text, text
        status = client.ask(bytes([0x23]))
        assert status[0] == 0x23 and status[1] & 0x11 == 0x11 and status[6:10] == bytes(4), status
        # At 9600 the probe cannot read the target's 115200: framing errors, no text.
        assert uart_configure(client, 0x00, 9600)[1] == 0x00
        assert client.ask(bytes([0x22, 0x01])) == bytes([0x22, 0x00])
        text, statuses = uart_collect(client, b"never", seconds=3)
        assert statuses & 0x04 and text == b"", (statuses, text)
        # A short transfer request changes nothing; it answers 0xFF.
        assert client.ask(bytes([0x21, 4, 0, 3, 0, 0x41])) == bytes([0xFF])
        assert client.ask(bytes([0x22, 0x08])) == bytes([0x22, 0xFF])  # reserved bit
    finally:
        client.close()
