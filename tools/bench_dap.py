"""Benchmark the dap path: OpenOCD (cmsis-dap backend tcp) against the host probe with the
simulated STM32F103C8 at SWCLK 4 MHz. Run by tools/bench; alone:

    build/venv/bin/python tools/bench_dap.py [--runs N] [--ram-only | --flash-only | --breakdown]
                                             [--families]

--families adds every other simulated family through OpenOCD's own flash driver and stock
configuration (its adapter speed events included: stm32f4x.cfg runs SWCLK at 2 MHz after
`reset halt`; the bench prints each session's SWCLK).

The probe prints, when each OpenOCD session ends (BMP_SIM_STATISTICS=1), the simulated
wire's counters, the DAP server's (packet size and count, requests, the most waiting at
once) and the flash controller's activity. What each figure includes:

- SRAM: SWCLK cycles of a session that dumps (or loads) 16 KiB minus those of a session
  that only connects and halts, against the wire's limit of 46 SWCLK per 32-bit word
  (ADIv5.2 B4.2: 8 request, 1 turnaround, 3 ACK, 32 data, 1 parity, 1 turnaround). Cycles
  leave out the time requests spend on TCP and in OpenOCD and the probe's CPU: on a real
  probe that is the USB round trips that packets in flight hide.
- Flash (`flash write_image erase`): the flash controller's own time (the sum of its
  operations' datasheet durations, DS5319: 20 ms a page or mass erase, 52.5 us a
  half-word) against the virtual time from the start of its first operation to the end
  of its last (and the limit of a perfect client: the flash's time + the image's upload
  at the wire's speed). The host simulator's virtual time follows the wall clock while
  the probe is idle (OpenOCD times its flash polling on the wall clock), so the span
  includes OpenOCD's
  own waiting and the host's latency: the pauses between operations are where the flash
  waited for OpenOCD or the probe. Connecting, the loader's download before the first
  half-word... are before the first operation or between operations as they fall.
- Where the flash waited (firmware.elf, `--breakdown`, also after the flash runs): the
  probe's request log (BMP_DAP_LOG) decoded into memory accesses, the pauses between the
  flash's operations split by what OpenOCD's requests did, each into its wire time
  (SWCLK cycles, exact) and the rest (OpenOCD, TCP, the probe's CPU, the host's
  scheduling: what virtual time took from the wall clock, at most 1 ms a gap).
"""

import argparse
import importlib.util
import os
import pathlib
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = pathlib.Path(__file__).resolve().parent.parent
FIRMWARE = TOP / "build/firmware"
WORDS = 4096  # 16 KiB of SRAM
WIRE_CYCLES_PER_WORD = 46
PAGE_ERASE_NS = 20_000_000
HALF_WORD_NS = 52_500


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def openocd_binary():
    import glob
    root = pathlib.Path(glob.glob(str(TOP / "build/venv/lib/python3*/site-packages/openocd_esp32"))[0])
    return root / "bin/openocd", root / "share/openocd/scripts"


def bench_gdb():
    """tools/bench_gdb.py, for its 64 KiB test image."""
    spec = importlib.util.spec_from_file_location("bench_gdb", TOP / "tools/bench_gdb.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Probe:
    """The host probe serving dap.init(tcp=port, packet_size=size) with a simulated chip."""

    def __init__(self, packet_size, chip="stm32f103c8", config="target/stm32f1x.cfg"):
        self.config = config
        self.port = free_port()
        script = (f"import dap, time\ndap.init(tcp={self.port}, packet_size={packet_size})\n"
                  "print('serving')\nwhile True:\n    time.sleep(1)\n")
        environment = dict(os.environ, BMP_WIRE=f"sim:{chip}", BMP_SIM_STATISTICS="1")
        self.process = subprocess.Popen([str(TOP / "build/unix/micropython"), "-c", script],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=environment, text=True)
        assert "serving" in self.process.stdout.readline()

    def counters(self):
        """The three report lines of the session that just ended, as one dict."""
        found = {}
        while not {"bmp statistics", "bmp dap", "bmp flash"} <= found.keys():
            line = self.process.stderr.readline()
            assert line, "the probe exited"
            name, _, fields = line.partition(":")
            if name in ("bmp statistics", "bmp dap", "bmp flash"):
                found[name] = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", fields)}
        merged = {}
        for values in found.values():
            merged.update(values)
        return merged

    def openocd(self, commands):
        binary, scripts = openocd_binary()
        arguments = [str(binary), "-s", str(scripts),
                     "-c", "adapter driver cmsis-dap", "-c", "cmsis-dap backend tcp",
                     "-c", "cmsis-dap tcp host 127.0.0.1", "-c", f"cmsis-dap tcp port {self.port}",
                     "-c", "transport select swd", "-c", "gdb_port disabled",
                     "-c", "tcl_port disabled", "-c", "telnet_port disabled",
                     "-f", self.config, "-c", "adapter speed 4000", "-c", "init"]
        for command in commands:
            arguments += ["-c", command]
        arguments += ["-c", "shutdown"]
        started = time.monotonic()
        result = subprocess.run(arguments, capture_output=True, text=True, timeout=300)
        log = result.stdout + result.stderr
        assert "shutdown command invoked" in log, log
        return log, time.monotonic() - started, self.counters()

    def close(self):
        self.process.kill()
        self.process.wait()


def ram(packet_size, runs):
    probe = Probe(packet_size)
    dump = pathlib.Path(tempfile.mkdtemp()) / "ram.bin"
    source = dump.with_name("source.bin")
    source.write_bytes(os.urandom(4 * WORDS))
    try:
        for _ in range(runs):
            _, _, connect = probe.openocd(["reset halt"])
            for label, command in [("dump_image", f"dump_image {dump} 0x20000000 {4 * WORDS}"),
                                   ("load_image", f"load_image {source} 0x20000000 bin")]:
                _, wall, counters = probe.openocd(["reset halt", command])
                cycles = counters["clock_cycles"] - connect["clock_cycles"]
                limit = WIRE_CYCLES_PER_WORD * WORDS
                print(f"  packet {packet_size:4}: {label} 16 KiB: {cycles} SWCLK cycles without the "
                      f"connection ({connect['clock_cycles']}), {100 * limit / cycles:.1f} % of the "
                      f"wire's limit ({limit}); {counters['requests']} requests, the largest "
                      f"{counters['largest_request']} B in and {counters['largest_response']} B out, "
                      f"up to {counters['most_waiting']} waiting at once; wall {wall:.2f} s")
    finally:
        probe.close()


# The flash registers OpenOCD's drivers use (STM32F1: RM0008 3.4; STM32F4: RM0090 3.8),
# the Cortex-M debug registers (ARMv7-M C1.6) and SRAM, for the breakdown.
class Family:
    def __init__(self, registers, status, control, busy, start, erase_ns, sram):
        self.registers, self.status, self.control = registers, status, control
        self.busy, self.start, self.erase_ns, self.sram = busy, start, erase_ns, sram


# OpenOCD's stm32f1x erases pages (20 ms, DS5319); its stm32f2x erases with PSIZE x8 left
# in FLASH_CR (FLASH_SER | SNB | STRT), a 16 KB sector in 400 ms (DS8626 table 40).
STM32F1 = Family(range(0x40022000, 0x40022400), 0x4002200C, 0x40022010, 0x1, 0x40,
                 PAGE_ERASE_NS, range(0x20000000, 0x20010000))
STM32F4 = Family(range(0x40023C00, 0x40024000), 0x40023C0C, 0x40023C10, 1 << 16, 1 << 16,
                 400_000_000, range(0x20000000, 0x20020000))
CORE_DEBUG = range(0xE000EDF0, 0xE000EE00)
SWCLK_NS = 250  # 4 MHz


def memory_accesses(log_path):
    """BMP_DAP_LOG's requests (DAP_Transfer, DAP_TransferBlock: CMSIS-DAP 2.1) as the
    memory accesses they make through the MEM-AP, following SELECT, CSW and TAR as the
    simulated target does (ADIv5.2 C2.2: DRW with auto-increment, which wraps in a 4 KiB
    block on the simulated AHB-AP, rust/sim access_port.rs; BD0-BD3 in bank 1). One dict per
    request: its virtual time before and after (ns), its SWCLK cycles and accesses
    (kind 'r'/'w', address, value)."""
    select = csw = tar = 0
    requests = []
    for line in pathlib.Path(log_path).read_text().splitlines():
        taken, answered, before, after, cycles_before, cycles_after, request, answer = line.split()
        request, answer = bytes.fromhex(request), bytes.fromhex(answer[1:])
        accesses = []

        def access_point(register, read, value):
            nonlocal csw, tar
            bank = (select >> 4) & 0xF
            if bank == 1:  # BD0-BD3: TAR's 16-byte block
                accesses.append(("r" if read else "w", (tar & ~0xF) | register, value))
            elif bank == 0 and register == 0x0 and not read:
                csw = value
            elif bank == 0 and register == 0x4 and not read:
                tar = value
            elif bank == 0 and register == 0xC:
                accesses.append(("r" if read else "w", tar, value))
                if (csw >> 4) & 3 == 1:  # single increment, within a 4 KiB block
                    tar = (tar & ~0xFFF) | ((tar + (1 << (csw & 7))) & 0xFFF)

        for ap, read, register, value in transfers(request, answer):
            if ap:
                access_point(register, read, value)
            elif register == 0x8 and not read:
                select = value
        requests.append({"taken_us": int(taken), "answered_us": int(answered),
                         "before": int(before), "after": int(after),
                         "cycles": int(cycles_after) - int(cycles_before), "accesses": accesses})
    return requests


def transfers(request, answer):
    """A DAP_Transfer's or DAP_TransferBlock's transfers: (APnDP, RnW, A[3:2], value),
    the value written or read (None for a value-match read)."""
    word = lambda data, at: int.from_bytes(data[at:at + 4], "little")
    if request[0] == 0x06:  # DAP_TransferBlock: index, count (2 bytes), one request byte
        count, transfer = int.from_bytes(request[2:4], "little"), request[4]
        read = transfer >> 1 & 1
        for index in range(count):
            value = word(answer, 4 + 4 * index) if read else word(request, 5 + 4 * index)
            yield transfer & 1, read, transfer & 0xC, value
    elif request[0] == 0x05:  # DAP_Transfer: index, count, then request bytes (+ data)
        at, reply = 3, 3
        for _ in range(request[2]):
            transfer = request[at]
            at += 1
            read, value = transfer >> 1 & 1, None
            if not read or transfer & 0x10:  # a write's data or a match value
                value = None if read else word(request, at)
                at += 4
            elif reply + 4 <= len(answer):
                value = word(answer, reply)
                reply += 4
            yield transfer & 1, read, transfer & 0xC, value


def kind(request, family):
    """What a request does, for the breakdown."""
    addresses = [(access, address) for access, address, _ in request["accesses"]]
    sram = family.sram
    if any(address in family.registers for _, address in addresses):
        return "flash registers"
    if any(address in CORE_DEBUG for _, address in addresses):
        return "core registers, run"
    if any(access == "w" and address in sram for access, address in addresses):
        return "SRAM writes"
    if any(address in sram for _, address in addresses):
        return "SRAM reads"
    return "other" if addresses or request["cycles"] else "no wire"


def breakdown(log_path, family=STM32F1, swclk_ns=SWCLK_NS):
    """Where the flash waited during an image that fits one FIFO fill: each erase's end
    to the next erase's start, and the last erase's end to the first programmed unit (the
    FIFO's write pointer), split into OpenOCD's request kinds: their wire time (SWCLK
    cycles) and the rest of their virtual time (OpenOCD, TCP, the probe's CPU: what
    virtual time took from the wall clock, at most 1 ms a gap, rust/sim port pacing)."""
    requests = memory_accesses(log_path)
    starts = [index for index, request in enumerate(requests)
              if any(access == "w" and address == family.control and value & family.start
                     for access, address, value in request["accesses"])]
    # OpenOCD's target_run_flash_async_algorithm writes the FIFO's write pointer, then its
    # read pointer (one word each), starts the loader, fills the FIFO and writes the write
    # pointer again: then the loader programs. The image must fit one fill.
    single_writes = [(index, request["accesses"][0][1]) for index, request in enumerate(requests)
                     if index > starts[-1] and len(request["accesses"]) == 1
                     and request["accesses"][0][0] == "w" and request["accesses"][0][1] in family.sram]
    write_pointer = single_writes[0][1]
    fill_end = next(index for index, address in single_writes[2:] if address == write_pointer)
    rows = []
    for number, start in enumerate(starts):
        erase_end = requests[start]["after"] + family.erase_ns
        seen = next(index for index in range(start + 1, len(requests))
                    if any(access == "r" and address == family.status and not value & family.busy
                           for access, address, value in requests[index]["accesses"]))
        rows.append((f"erase {number + 1} ends: OpenOCD's next FLASH_SR poll sees it",
                     seen - start, requests[seen]["after"] - erase_end, None))
        until = starts[number + 1] if number + 1 < len(starts) else fill_end
        phase, first, wire, total = None, seen + 1, 0, 0
        for index in range(seen + 1, until + 1):
            request = requests[index]
            label = kind(request, family)
            if label != phase and phase is not None:
                rows.append((f"  {phase}", index - first, total, wire))
                first, wire, total = index, 0, 0
            phase = label
            wire += request["cycles"] * swclk_ns
            total += request["after"] - request["before"]
        rows.append((f"  {phase}", until + 1 - first, total, wire))
        then = f"erase {number + 2} starts" if number + 1 < len(starts) else \
            "the loader programs its first half-word"
        rows.append((f"  -> {then}", None, requests[until]["after"] - erase_end, None))
    return rows


def datasheet_ns(elf):
    """The flash's own time for an image written into erased flash: a mass erase if it
    covers the whole 64 KiB (OpenOCD's stm32f1x does that), else 20 ms per page touched, and
    52.5 us per half-word that is not 0xFFFF (OpenOCD's loader writes every half-word)."""
    with tempfile.TemporaryDirectory() as work:
        binary = pathlib.Path(work) / "image.bin"
        subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(elf), str(binary)], check=True)
        image = binary.read_bytes()
    pages = (len(image) + 1023) // 1024
    erase = PAGE_ERASE_NS if pages == 64 else pages * PAGE_ERASE_NS
    return erase + (len(image) + 1) // 2 * HALF_WORD_NS, len(image)


def flash(packet_size, runs, chip="stm32f103c8", config="target/stm32f1x.cfg", images=None,
          before=()):
    """`flash write_image erase` of each image (an ELF, or (binary, address)) `runs` times:
    the flash's busy time against the span of its operations. `before`: OpenOCD commands
    after `reset halt` (an adapter speed)."""
    images = images or [FIRMWARE / "firmware.elf", bench_gdb().full_image("bench64k")]
    probe = Probe(packet_size, chip, config)
    try:
        for image in images:
            elf, address = (image, None) if isinstance(image, pathlib.Path) else image
            # The F1's figure from the image, as a check of the simulator's own count.
            expected, length = datasheet_ns(elf) if chip.startswith("stm32f1") else (0, 0)
            write = f"flash write_image erase {elf}" + (f" 0x{address:x} bin" if address is not None else "")
            spans = []
            for _ in range(runs):
                log, wall, counters = probe.openocd(["reset halt", *before, write])
                assert re.search(r"wrote \d+ bytes from file", log), log
                busy, span = counters["busy_ns"], counters["span_ns"]
                spans.append(span)
                check = f" (datasheet {expected / 1e6:.1f} ms, {length} B)" if expected else ""
                print(f"  packet {packet_size:4}: {chip} write_image {elf.name}: flash busy "
                      f"{busy / 1e6:.1f} ms in {counters['operations']} operations{check}; first to last operation {span / 1e6:.1f} ms: the "
                      f"flash's own time is {100 * busy / span:.1f} % of it; idle between operations "
                      f"{counters['idle_ns'] / 1e6:.1f} ms, longest {counters['longest_idle_ns'] / 1e6:.2f} ms; "
                      f"SWCLK {counters['swclk_hz'] / 1e6:g} MHz at the end, {counters['clock_cycles']} cycles, "
                      f"{counters['wait']} WAIT, {counters['requests']} requests; wall {wall:.2f} s")
            if runs > 1:
                print(f"  packet {packet_size:4}: {chip} {elf.name}: span median {statistics.median(spans) / 1e6:.1f} ms")
    finally:
        probe.close()


def flash_breakdown(runs, chip="stm32f103c8", config="target/stm32f1x.cfg", elf=None,
                    family=STM32F1, uploaded=None, before=()):
    """An image through OpenOCD with the probe's request log (BMP_DAP_LOG): where the
    flash waited, against the limit of a client that erases, uploads the image once at the
    wire's speed (46 SWCLK a word) and programs it: the flash's time + the upload's wire.
    `uploaded`: the bytes OpenOCD writes (write_image pads to the last sector's end),
    if not the image's."""
    elf = elf or FIRMWARE / "firmware.elf"
    expected, length = datasheet_ns(elf) if family is STM32F1 else (None, 0)
    uploaded = uploaded or length
    with tempfile.TemporaryDirectory() as work:
        log = pathlib.Path(work) / "requests.log"
        os.environ["BMP_DAP_LOG"] = str(log)
        try:
            probe = Probe(1024, chip, config)
        finally:
            del os.environ["BMP_DAP_LOG"]
        try:
            for _ in range(runs):
                log.write_text("")  # the probe appends each session's requests
                _, _, counters = probe.openocd(["reset halt", *before,
                                                f"flash write_image erase {elf}"])
                span, busy = counters["span_ns"], counters["busy_ns"]
                # The wire's speed after `reset halt` (stm32f4x.cfg lowers it to 2 MHz).
                swclk_ns = 1e9 / counters["swclk_hz"]
                upload_ns = (uploaded + 3) // 4 * WIRE_CYCLES_PER_WORD * swclk_ns
                limit = busy + upload_ns
                check = f" (datasheet {expected / 1e6:.1f})" if expected else ""
                print(f"  {chip} {elf.name} ({uploaded} B written, SWCLK {counters['swclk_hz'] / 1e6:g} MHz): flash busy {busy / 1e6:.1f} ms"
                      f"{check}, first to last operation {span / 1e6:.1f} ms, "
                      f"idle {counters['idle_ns'] / 1e6:.2f} ms; the limit (flash + {upload_ns / 1e6:.2f} ms "
                      f"of upload at 46 SWCLK a word) {limit / 1e6:.1f} ms is {100 * limit / span:.1f} % of "
                      f"the span, the flash alone {100 * busy / span:.1f} %")
                for label, count, total, wire in breakdown(log, family, swclk_ns):
                    requests = "" if count is None else f"{count:4} requests"
                    wire = "" if wire is None else f"  wire {wire / 1e6:6.3f} ms, the rest {(total - wire) / 1e6:6.3f} ms"
                    print(f"    {label:58} {requests:>13} {total / 1e6:7.3f} ms{wire}")
        finally:
            probe.close()


# Every other simulated family through OpenOCD's own driver and stock configuration (the
# chip, its configuration, the test firmware built for it, the flash's base for a raw image).
FAMILIES = [
    ("stm32f407vg", "target/stm32f4x.cfg", "firmware-f4.elf", 0x08000000),
    ("stm32h743zi", "target/stm32h7x.cfg", "firmware-f4.elf", 0x08000000),
    ("nrf52840", "target/nordic/nrf52.cfg", "firmware-nrf52.elf", 0x00000000),
    ("atsamd21g18a", "target/at91samdXX.cfg", "firmware-samd21.elf", 0x00000000),
    ("rp2040", "target/rp2040.cfg", "firmware-rp2040.elf", 0x10000000),
]
FAST = "adapter speed 4000"


def families(runs):
    """The test firmware and a 64 KiB image of random bytes into each family's flash at
    packet size 1024; the F4 also at 4 MHz after `reset halt` (stm32f4x.cfg's reset-start
    lowers SWCLK to 2 MHz: the F4 runs on its 16 MHz HSI after a reset) and where its
    flash waited during the firmware's write."""
    random64k = pathlib.Path(tempfile.mkdtemp()) / "random64k.bin"
    random64k.write_bytes(os.urandom(64 * 1024))
    for chip, config, firmware, base in FAMILIES:
        print(f"flash write_image through OpenOCD ({config}) and dap, packet size 1024:")
        images = [FIRMWARE / firmware, (random64k, base)]
        flash(1024, runs, chip, config, images)
        if chip.startswith("stm32f4"):
            print(f"  ... with `{FAST}` after `reset halt`:")
            flash(1024, runs, chip, config, images, before=[FAST])
            for before in ((), (FAST,)):
                print(f"  where the flash waited ({' '.join(before) or 'stock configuration'}):")
                # write_image pads the image to its 16 KB sector's end (OpenOCD's core.c).
                flash_breakdown(1, chip, config, FIRMWARE / firmware, STM32F4, 16384, before)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--ram-only", action="store_true")
    parser.add_argument("--flash-only", action="store_true")
    parser.add_argument("--breakdown", action="store_true",
                        help="only firmware.elf's write_image, with where the flash waited")
    parser.add_argument("--families", action="store_true",
                        help="also every other simulated family through OpenOCD's drivers")
    options = parser.parse_args()
    subprocess.run(["make", "-s", "-C", str(TOP / "tests/firmware"), f"BUILD={FIRMWARE}"], check=True)
    if options.breakdown:
        print("flash write_image of firmware.elf through OpenOCD and dap, SWCLK 4 MHz, packet size 1024:")
        return flash_breakdown(options.runs)
    for packet_size in (1024, 512):
        if not options.flash_only:
            print(f"SRAM through OpenOCD and dap, SWCLK 4 MHz, packet size {packet_size}:")
            ram(packet_size, options.runs)
        if not options.ram_only:
            print(f"flash write_image through OpenOCD and dap, SWCLK 4 MHz, packet size {packet_size}:")
            flash(packet_size, options.runs)
    if not options.ram_only:
        print("where the flash waited during firmware.elf's write_image, packet size 1024:")
        flash_breakdown(options.runs)
    if options.families:
        families(options.runs)

if __name__ == "__main__":
    sys.exit(main())
