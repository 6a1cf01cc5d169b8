"""Real clients against `dap` on the host probe with the simulated blue pill: OpenOCD
(`cmsis-dap backend tcp`, from the PyPI package openocd-esp32) over SWD and JTAG, and pyOCD
through bmp's probe plugin (tcpdap)."""

import os
import pathlib
import re
import socket
import struct
import subprocess
import time

import pytest

from helpers.openocd import (build_firmware, cmsis_dap_arguments, free_port, read_symbols,
                             run_cmsis_dap_openocd)

TOP = pathlib.Path(__file__).resolve().parent.parent
VENV = TOP / "build" / "venv"


@pytest.fixture(scope="session")
def firmware():
    return build_firmware()


def symbol(firmware, name):
    return read_symbols(firmware / "firmware.nm")[name]


class DapServer:
    """The host probe serving CMSIS-DAP on a TCP port, with the simulated target."""

    def __init__(self, micropython, chip="stm32f103c8", packet_size=None, environment=None):
        self.port = free_port()
        size = "" if packet_size is None else f", packet_size={packet_size}"
        script = (f"import dap, time\ndap.init(tcp={self.port}{size})\nprint('serving')\n"
                  "while True:\n    time.sleep(1)\n")
        # The wire's and the server's counters go to the output when a client leaves.
        environment = dict(os.environ, BMP_WIRE=f"sim:{chip}", BMP_SIM_STATISTICS="1",
                           **(environment or {}))
        self.process = subprocess.Popen([str(micropython), "-c", script], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, env=environment)
        line = self.process.stdout.readline().decode()
        assert "serving" in line, line + self.process.stdout.read().decode()

    def close(self):
        self.process.kill()
        self.process.wait(timeout=10)

    def output(self):
        """What the probe printed, once it is closed. The server prints a client's counters
        when it notices the hang-up, at its next poll, which may come after the client has
        exited; so first one more exchange: the server takes a new client from the listen
        backlog only after it has hung up the previous one, so an answer means the counters
        are out. The process is killed before this client closes (no counters of its own)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as client:
                client.sendall(struct.pack("<IHBB", 0x00504144, 2, 1, 0) + b"\x00\x02")
                header = client.recv(8, socket.MSG_WAITALL)
                assert len(header) == 8 and header[6] == 2, header
                self.close()
        except OSError:
            self.close()  # the probe died or stopped serving: its output says why
        return self.process.stdout.read().decode()


@pytest.fixture
def dap_server(unix_micropython):
    servers = []

    def start(chip="stm32f103c8", packet_size=None, environment=None):
        server = DapServer(unix_micropython, chip, packet_size, environment)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def openocd(port, transport, commands):
    return run_cmsis_dap_openocd(port, commands, transport)


def test_openocd_flashes_and_debugs_over_swd(dap_server, firmware):
    server = dap_server()
    elf = firmware / "firmware.elf"
    blink_step = symbol(firmware, "blink_step")
    counter = symbol(firmware, "counter")
    log = openocd(server.port, "swd", [
        "reset halt",
        "mdw 0xe0042000",
        f"flash write_image erase {elf}",
        f"verify_image {elf}",
        "reset halt",
        f"bp {blink_step:#x} 2 hw",
        "resume",
        "wait_halt 2000",
        "reg pc",
        f"rbp {blink_step:#x}",
        f"mdw {counter:#x}",
        "resume", "sleep 100", "halt",
        f"mdw {counter:#x}",
        "reset run",
    ])
    assert "0xe0042000: 20036410" in log.lower(), log
    assert re.search(r"wrote \d+ bytes from file", log), log
    assert "verified" in log, log
    assert re.search(rf"pc \(/32\): 0x0*{blink_step:x}", log, re.IGNORECASE), log
    values = [int(v, 16) for v in re.findall(rf"0x{counter:08x}: ([0-9a-f]+)", log, re.IGNORECASE)]
    assert len(values) == 2 and values[1] > values[0], log


@pytest.mark.parametrize("packet_size", [512, 1024])
def test_openocd_uses_the_probes_packet_size(dap_server, packet_size, tmp_path):
    """512 is the high-speed USB size (dap.init(packet_size=512) tries it over TCP), 1024
    the TCP default: OpenOCD sends requests up to DAP_Info 0xFF, never beyond (the server
    would close the connection), and 16 KiB of SRAM go there and back intact."""
    server = dap_server(packet_size=packet_size)
    data = os.urandom(16384)
    (tmp_path / "in.bin").write_bytes(data)
    log = openocd(server.port, "swd", [
        "reset halt",
        f"load_image {tmp_path / 'in.bin'} 0x20000000 bin",
        f"dump_image {tmp_path / 'out.bin'} 0x20000000 16384",
    ])
    assert "dumped 16384 bytes" in log, log
    assert (tmp_path / "out.bin").read_bytes() == data
    output = server.output()
    found = re.search(r"bmp dap: packet_size=(\d+) packet_count=(\d+) requests=\d+ "
                      r"largest_request=(\d+) largest_response=(\d+) most_waiting=(\d+)", output)
    assert found, output
    size, count, request, response, waiting = (int(value) for value in found.groups())
    assert (size, count) == (packet_size, 8), output
    # Block transfers fill the packets both ways: more than half of one, never more than one.
    assert packet_size // 2 < request <= packet_size, output
    assert packet_size // 2 < response <= packet_size, output
    assert waiting >= 1, output


def test_dap_init_refuses_a_bad_packet_size(unix_micropython):
    script = ("import dap\n"
              "for size in (63, 1025, -1):\n"
              "    try:\n        dap.init(tcp=4441, packet_size=size)\n"
              "    except ValueError as error:\n        print(error)\n")
    result = subprocess.run([str(unix_micropython), "-c", script], capture_output=True, text=True,
                            timeout=30)
    assert result.stdout.splitlines() == ["packet_size must be 64..1024"] * 3, result.stdout + result.stderr


def test_openocd_nrf5_loader_waits_for_each_word(dap_server, firmware):
    """OpenOCD's nRF5 loader stores its words back to back without reading NVMC READY; the
    bus holds each store until the word before it is written, so the simulated flash's
    operations follow one another and their span is their datasheet time plus the pauses
    between them (before the simulator held the store, the 531 words went in 0.15 ms and
    the span came out shorter than the flash's busy time)."""
    server = dap_server("nrf52840")
    elf = firmware / "firmware-nrf52.elf"
    result = subprocess.run(cmsis_dap_arguments(server.port, [
        "reset halt", f"flash write_image erase {elf}", f"verify_image {elf}",
    ], target="target/nordic/nrf52.cfg"), capture_output=True, text=True, timeout=120)
    log = result.stdout + result.stderr
    wrote = re.search(r"wrote (\d+) bytes from file", log)
    assert wrote, log
    assert re.search(r"verified \d+ bytes", log), log
    output = server.output()
    found = re.search(r"bmp flash: operations=(\d+) busy_ns=(\d+) idle_ns=(\d+) "
                      r"longest_idle_ns=\d+ span_ns=(\d+)", output)
    assert found, output
    operations, busy, idle, span = (int(value) for value in found.groups())
    size = int(wrote.group(1))
    pages, words = -(-size // 4096), -(-size // 4)  # 4 KB pages, 32-bit words (PS 4.3)
    assert operations == pages + words, output
    assert span == busy + idle, output


def test_openocd_flashes_over_jtag(dap_server, firmware):
    server = dap_server()
    elf = firmware / "firmware.elf"
    blink_step = symbol(firmware, "blink_step")
    log = openocd(server.port, "jtag", [
        "reset halt",
        "mdw 0xe0042000",
        f"flash write_image erase {elf}",
        f"verify_image {elf}",
        "reset halt",
        f"bp {blink_step:#x} 2 hw",
        "resume",
        "wait_halt 2000",
        "reg pc",
        "reset run",
    ])
    assert "0xe0042000: 20036410" in log.lower(), log
    assert re.search(r"wrote \d+ bytes from file", log), log
    assert "verified" in log, log
    assert re.search(rf"pc \(/32\): 0x0*{blink_step:x}", log, re.IGNORECASE), log


def test_openocd_over_jtag_finds_both_taps(dap_server):
    server = dap_server()
    log = openocd(server.port, "jtag", ["scan_chain"])
    assert "0x3ba00477" in log.lower(), log
    assert "0x16410041" in log.lower(), log


def pyocd(*arguments, timeout=300):
    result = subprocess.run([str(VENV / "bin" / "pyocd"), *arguments], capture_output=True, text=True,
                            timeout=timeout)
    return result.returncode, result.stdout + result.stderr


def test_pyocd_commander(dap_server):
    server = dap_server("stm32f103rc")
    code, log = pyocd("commander", "-u", f"tcpdap:127.0.0.1:{server.port}", "-t", "stm32f103rc",
                      "-c", "halt", "-c", "write32 0x20000100 0xcafef00d", "-c", "read32 0x20000100 4",
                      "-c", "continue", "-c", "halt")
    assert code == 0, log
    assert "cafef00d" in log.lower(), log


def test_pyocd_load(dap_server, firmware):
    server = dap_server("stm32f103rc")
    probe = f"tcpdap:127.0.0.1:{server.port}"
    code, log = pyocd("load", "-u", probe, "-t", "stm32f103rc", str(firmware / "firmware.elf"))
    assert code == 0, log
    image = (firmware / "firmware.bin").read_bytes()
    first = int.from_bytes(image[:4], "little")
    code, log = pyocd("commander", "-u", probe, "-t", "stm32f103rc", "-c", "halt", "-c", "read32 0x08000000 4")
    assert code == 0, log
    assert f"{first:08x}" in log.lower(), log


def test_pyocd_keeps_requests_in_flight_at_512(dap_server, tmp_path):
    """pyOCD sends up to DAP_Info 0xFE (8) requests before reading a response, each answer
    within DAP_Info 0xFF (512 here, the high-speed USB size)."""
    server = dap_server("stm32f103rc", packet_size=512)
    code, log = pyocd("commander", "-u", f"tcpdap:127.0.0.1:{server.port}", "-t", "stm32f103rc",
                      "-c", "halt", "-c", f"savemem 0x20000000 16384 {tmp_path / 'ram.bin'}")
    assert code == 0, log
    assert (tmp_path / "ram.bin").stat().st_size == 16384
    output = server.output()
    found = re.findall(r"bmp dap: packet_size=512 packet_count=8 requests=\d+ largest_request=\d+ "
                       r"largest_response=(\d+) most_waiting=(\d+)", output)
    assert found, output
    response, waiting = max((int(size), int(count)) for size, count in found)
    assert 256 < response <= 512, output
    # More than one request was waiting for the probe at once: pipelined.
    assert waiting >= 2, output


def test_a_request_wakes_the_sleeping_probe(dap_server):
    """The host probe sleeps in time.sleep() between polls; a request that arrives then
    ends its wait (bmp_stream_idle_wait_us) instead of waiting out the port's 500 us
    slice, which once added up to 0.5 ms to every OpenOCD round trip. `woken` counts the
    waits a socket ended. The client pauses before each request, so the probe is asleep
    when it comes; only one arriving just as a slice times out is found without a wake."""
    server = dap_server()
    requests = 20
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        for _ in range(requests):
            time.sleep(0.002)  # the probe goes back to sleep
            client.sendall(struct.pack("<IHBB", 0x00504144, 2, 1, 0) + b"\x00\xff")
            header = client.recv(8, socket.MSG_WAITALL)
            assert len(header) == 8 and header[6] == 2, header
            payload = client.recv(struct.unpack("<H", header[4:6])[0], socket.MSG_WAITALL)
            assert payload == b"\x00\x02\x00\x04", payload  # DAP_Info 0xFF: 1024
    output = server.output()
    found = re.search(rf"bmp dap: .*requests={requests} .* woken=(\d+)", output)
    assert found, output
    assert int(found.group(1)) >= requests // 2, output


def test_the_request_log_shows_each_memory_access(dap_server, tmp_path):
    """BMP_DAP_LOG: every request with its virtual time and SWCLK cycles; tools/bench_dap.py
    decodes it into the MEM-AP accesses (the breakdown of a flash write)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_dap", TOP / "tools" / "bench_dap.py")
    bench_dap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_dap)
    log = tmp_path / "requests.log"
    server = dap_server(environment={"BMP_DAP_LOG": str(log)})
    output = openocd(server.port, "swd", ["reset halt", "mww 0x20000100 0x12345678",
                                          "mdw 0xe0042000", "mdw 0x20000100"])
    assert "0x20000100: 12345678" in output.lower(), output
    server.output()  # the session is over: its log is complete
    requests = bench_dap.memory_accesses(log)
    accesses = [access for request in requests for access in request["accesses"]]
    assert ("r", 0xE0042000, 0x20036410) in accesses  # DBGMCU_IDCODE of the F103
    written = accesses.index(("w", 0x20000100, 0x12345678))
    assert ("r", 0x20000100, 0x12345678) in accesses[written:]
    # Virtual time moves on with the wire: 250 ns a SWCLK cycle at 4 MHz, at least.
    for request in requests:
        assert request["after"] - request["before"] >= request["cycles"] * 250
    assert sum(request["cycles"] for request in requests) > 0
