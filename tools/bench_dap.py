"""Benchmark the dap path: OpenOCD (cmsis-dap backend tcp) against the host probe with the
simulated blue pill. Reports the simulated wire's counters for each OpenOCD run: SWCLK
cycles / frequency is the time on the wire; virtual time also includes the wall-clock time
OpenOCD spends waiting (the host sim follows the wall clock while the probe is idle).
Run by tools/bench."""

import glob
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time

TOP = pathlib.Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def openocd(port, commands):
    root = pathlib.Path(glob.glob(str(TOP / "build/venv/lib/python3*/site-packages/openocd_esp32"))[0])
    arguments = [str(root / "bin/openocd"), "-s", str(root / "share/openocd/scripts"),
                 "-c", "adapter driver cmsis-dap", "-c", "cmsis-dap backend tcp",
                 "-c", "cmsis-dap tcp host 127.0.0.1", "-c", f"cmsis-dap tcp port {port}",
                 "-c", "transport select swd", "-f", "target/stm32f1x.cfg",
                 "-c", "adapter speed 4000", "-c", "init"]
    for command in commands:
        arguments += ["-c", command]
    arguments += ["-c", "shutdown"]
    started = time.monotonic()
    result = subprocess.run(arguments, capture_output=True, text=True, timeout=300)
    return result.stdout + result.stderr, time.monotonic() - started


def main():
    port = free_port()
    script = f"import dap, time\ndap.init(tcp={port})\nprint('serving')\nwhile True:\n    time.sleep(1)\n"
    environment = dict(os.environ, BMP_WIRE="sim:stm32f103c8", BMP_SIM_STATISTICS="1")
    server = subprocess.Popen([str(TOP / "build/unix/micropython"), "-c", script],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment, text=True)
    assert "serving" in server.stdout.readline()
    elf = TOP / "build/firmware/firmware.elf"
    dump = pathlib.Path(tempfile.mkdtemp()) / "ram.bin"
    runs = [
        ("flash write_image erase + verify of firmware.elf (1312 bytes)",
         ["reset halt", f"flash write_image erase {elf}", f"verify_image {elf}"]),
        ("16 KB RAM dump", ["reset halt", f"dump_image {dump} 0x20000000 16384"]),
        ("connect and reset halt only", ["reset halt"]),
    ]
    cycles_of = {}
    try:
        for label, commands in runs:
            log, wall = openocd(port, commands)
            assert "shutdown command invoked" in log, log
            line = server.stderr.readline()
            fields = dict(re.findall(r"(\w+)=(\d+)", line))
            hz, cycles = int(fields["swclk_hz"]), int(fields["clock_cycles"])
            cycles_of[label] = cycles
            print(f"{label}: SWCLK {hz // 1000} kHz, {cycles} cycles = {cycles / hz:.3f} s on the wire, "
                  f"{fields['transactions']} transactions, {fields['wait']} WAIT, "
                  f"virtual {int(fields['virtual_ns']) / 1e9:.3f} s, wall {wall:.2f} s")
        # The dump alone: the dump run minus the connect-only run, against the wire's limit
        # of 46 SWCLK per 32-bit word (ADIv5.2 B4.2).
        alone = cycles_of["16 KB RAM dump"] - cycles_of["connect and reset halt only"]
        print(f"16 KB RAM dump without the connection: {alone} cycles, "
              f"{100 * 46 * 4096 / alone:.1f} % of the wire's limit ({46 * 4096} cycles)")
    finally:
        server.kill()


if __name__ == "__main__":
    sys.exit(main())
