"""tools/pack on a pack-shaped zip built here (a .pdsc written below and the FLM built in
tests/firmware/flm): the device's files, then the probe loads them (pack.load) and the
sequences run against the simulated STM32F103CB (DebugDeviceUnlock and DebugCoreStart
at scan and attach, a debugvar overridden, ResetSystem at reset), the FLM flashes, and bad
input gives clear errors (issue 12, items 2 and 3; docs/packs.md)."""

import json
import os
import pathlib
import subprocess
import sys
import zipfile

import pytest

from helpers.gdb import BmpProbe, build_firmware

pytestmark = pytest.mark.timeout(300)

TOP = pathlib.Path(__file__).resolve().parent.parent
TOOL = TOP / "tools" / "pack"
SCRIPT = TOP / "tests" / "sim" / "pack_device.py"

# The statements keep the pdsc's own XML escapes (&amp; &lt;) and comments.
PDSC = """<?xml version="1.0" encoding="UTF-8"?>
<package schemaVersion="1.7.7" xmlns:xs="http://www.w3.org/2001/XMLSchema-instance">
  <vendor>Bmp</vendor>
  <name>Test_DFP</name>
  <description>A pack-shaped zip for bmp's tests</description>
  <devices>
    <family Dfamily="STM32F1 Series" Dvendor="STMicroelectronics:13">
      <processor Dcore="Cortex-M3" DcoreVersion="r1p1" Dfpu="NO_FPU" Dmpu="NO_MPU" Dendian="Little-endian"/>
      <debug svd="STM32F103xx.svd"/>
      <debugvars configfile="STM32F103.dbgconf" version="1.0.0">
        __var DbgMCU_CR = 0x00000007;   // DBG_SLEEP, DBG_STOP, DBG_STANDBY
        __var Marker    = 0x600DF00D;
      </debugvars>
      <sequences>
        <sequence name="DebugDeviceUnlock">
          <block>
            __var answer = Query(1, "Unlock now?", 3);
            Write32(0x20004F00, Marker);  // seen by the test after attach
          </block>
        </sequence>
        <sequence name="DebugCoreStart">
          <block>
            Write32(0xE000EDF0, 0xA05F0001);  // DHCSR: C_DEBUGEN
            Write32(0xE0042004, DbgMCU_CR);   /* DBGMCU_CR */
          </block>
        </sequence>
        <sequence name="ResetSystem">
          <block>
            __var count = Read32(0x20004F04) + 1;
            Write32(0x20004F04, count);
            Write32(0xE000ED0C, 0x05FA0004);  // AIRCR: SYSRESETREQ
          </block>
          <control while="(Read32(0xE000EDF0) &amp; 0x02000000) != 0 &amp;&amp; 1 &lt; 2" timeout="500000"/>
        </sequence>
        <sequence name="TraceStart" disable="1"/>
        <sequence name="TraceStop">
          <block>
            Write32(0x20004F20, Read32(0x20004F20) + 1);
            Message(0, "TraceStop");
          </block>
        </sequence>
        <sequence name="FlashEraseSector">
          <block>FlashWriteBuffer(0, 0, 4, 32);</block>
        </sequence>
        <sequence name="RecoveryAcknowledge">
          <block>RunApplication("x");</block>
        </sequence>
        <sequence name="DebugPortSetup">
          <block atomic="1">
            DAP_SWJ_Sequence(51, 0x0007FFFFFFFFFFFF);  // line reset
            DAP_SWJ_Sequence(16, 0xE79E);              // JTAG to SWD
            DAP_SWJ_Sequence(51, 0x0007FFFFFFFFFFFF);
            DAP_SWJ_Sequence(3, 0x00);
            __var dpidr = ReadDP(0x0);
          </block>
          <block>Message(0, "DebugPortSetup: DPIDR %08x", dpidr);</block>
        </sequence>
        <sequence name="DebugPortStop">
          <block>Message(0, "DebugPortStop");</block>
        </sequence>
        <sequence name="ResetProcessor">
          <block>
            Write32(0x20004F08, Read32(0x20004F08) + 1);
            Write32(0xE000ED0C, 0x05FA0001);  // AIRCR: VECTRESET
          </block>
        </sequence>
        <sequence name="ResetHardwareAssert">
          <block>
            Write32(0x20004F0C, Read32(0x20004F0C) + 1);
            DAP_SWJ_Pins(0x00, 0x80, 0);      // nRESET low
          </block>
        </sequence>
        <sequence name="ResetHardwareDeassert">
          <block>DAP_SWJ_Pins(0x80, 0x80, 100000);</block>
        </sequence>
        <sequence name="FlashInit">
          <block>Write32(0x20004F10, Read32(0x20004F10) + 1);</block>
        </sequence>
        <sequence name="FlashProgramDone">
          <block>
            Write32(0x20004F14, Read32(0x20004F14) + 1);
            Message(0, "FlashProgramDone");
          </block>
        </sequence>
        <sequence name="FlashUninit">
          <block>Message(0, "FlashUninit");</block>
        </sequence>
        <sequence name="RecoverySupportStart">
          <block>
            Write32(0x20004F18, Read32(0x20004F18) + 1);
            Message(0, "RecoverySupportStart");
          </block>
        </sequence>
        <sequence name="RecoverySupportStop">
          <block>
            Write32(0x20004F1C, Read32(0x20004F1C) + 1);
            Message(0, "RecoverySupportStop");
          </block>
        </sequence>
      </sequences>
      <subFamily DsubFamily="STM32F103">
        <device Dname="STM32F103CB">
          <memory name="IROM1" access="rx" start="0x08000000" size="0x00020000" startup="1" default="1"/>
          <memory name="IRAM1" access="rw" start="0x20000000" size="0x00005000" init="0" default="1"/>
          <algorithm name="CMSIS\\Flash\\STM32F10x_128.FLM" start="0x08000000" size="0x00020000" RAMstart="0x20000000" RAMsize="0x00004000" default="1"/>
        </device>
        <device Dname="STM32F103C8">
          <memory name="IROM1" access="rx" start="0x08000000" size="0x00010000" startup="1" default="1"/>
        </device>
      </subFamily>
    </family>
  </devices>
</package>
"""


@pytest.fixture(scope="module")
def firmware():
    return build_firmware()


@pytest.fixture(scope="module")
def pack_file(tmp_path_factory, firmware):
    path = tmp_path_factory.mktemp("pack") / "Bmp.Test_DFP.1.0.0.pack"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Bmp.Test_DFP.pdsc", PDSC)
        archive.write(firmware / "stm32f1.flm", "CMSIS/Flash/STM32F10x_128.FLM")
    return path


def run_tool(*arguments):
    return subprocess.run([sys.executable, str(TOOL), *map(str, arguments)],
                          capture_output=True, text=True, timeout=60)


def test_tool_writes_the_device(pack_file, firmware, tmp_path):
    listed = run_tool(pack_file)
    assert listed.stdout.split() == ["STM32F103CB", "STM32F103C8"], listed
    result = run_tool(pack_file, "STM32F103CB", tmp_path)
    assert result.returncode == 0, result
    # Sequences the probe cannot run are left out, and said so.
    assert "sequence FlashEraseSector left out" in result.stderr, result
    assert "sequence RecoveryAcknowledge left out: it calls RunApplication" in result.stderr
    device = json.loads((tmp_path / "device.json").read_text())
    assert device["format"] == 1 and device["device"] == "STM32F103CB"
    assert device["memory"] == [
        {"name": "IROM1", "start": 0x08000000, "size": 0x20000, "access": "rx",
         "default": True, "startup": True},
        {"name": "IRAM1", "start": 0x20000000, "size": 0x5000, "access": "rw",
         "default": True, "startup": False}]
    assert device["algorithms"] == [{"file": "STM32F10x_128.FLM", "start": 0x08000000,
                                     "size": 0x20000, "default": True,
                                     "ram_start": 0x20000000, "ram_size": 0x4000}]
    assert (tmp_path / "STM32F10x_128.FLM").read_bytes() == (firmware / "stm32f1.flm").read_bytes()
    text = (tmp_path / "sequences.txt").read_text()
    assert "debugvars {\n  __var DbgMCU_CR = 0x00000007;\n" in text, text
    assert ("  control while ((Read32(0xE000EDF0) & 0x02000000) != 0 && 1 < 2) "
            "timeout (500000) {\n  }\n") in text, text
    assert "sequence TraceStart {\n}\n" in text, text
    assert "//" not in text and "/*" not in text and "FlashEraseSector" not in text, text
    # The Flash* sequences the probe runs around its flash work are kept; atomic blocks too.
    assert "sequence FlashInit {\n  block {\n    Write32(0x20004F10" in text, text
    assert "  block atomic {\n    DAP_SWJ_Sequence(51, 0x0007FFFFFFFFFFFF);" in text, text


def test_tool_refuses_bad_input(pack_file, tmp_path):
    garbage = tmp_path / "garbage.pack"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    result = run_tool(garbage, "STM32F103CB", tmp_path / "out")
    assert result.returncode == 1 and result.stderr.startswith("pack: "), result
    result = run_tool(pack_file, "STM32F103", tmp_path / "out")
    assert result.returncode == 1, result
    assert "no device STM32F103 in Bmp.Test_DFP.pdsc (did you mean STM32F103C8, STM32F103CB?)" \
        in result.stderr, result
    broken = tmp_path / "broken.pack"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("x.pdsc", PDSC.replace("</devices>", ""))
    result = run_tool(broken, "STM32F103CB", tmp_path / "out")
    assert result.returncode == 1 and "not XML" in result.stderr, result


def test_the_probe_runs_the_packs_device(unix_micropython, pack_file, firmware, tmp_path):
    assert run_tool(pack_file, "STM32F103CB", tmp_path).returncode == 0
    environment = dict(os.environ, BMP_WIRE="sim:stm32f103cb")
    result = subprocess.run(
        [str(unix_micropython), str(SCRIPT), str(tmp_path), str(firmware / "firmware.bin")],
        capture_output=True, text=True, timeout=240, env=environment)
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    assert all(" ok" in line for line in lines) and len(lines) == 24, output


def test_gdb_through_the_packs_device(unix_micropython, pack_file, firmware, tmp_path):
    """gdb against bmp with the device loaded before bmp.init(): the scan and attach run the
    pack's sequences (DebugPortSetup's atomic block among them), `load` goes through the
    pack's FLM with FlashInit and FlashUninit around its program operation and
    FlashProgramDone after it, `monitor reset` through its ResetSystem, `monitor reset
    processor` its ResetProcessor, `monitor reset hardware` its ResetHardwareAssert/
    Deassert, `stepi` RecoverySupportStart/Stop."""
    device = tmp_path / "device"
    assert run_tool(pack_file, "STM32F103CB", device).returncode == 0
    probe = BmpProbe(unix_micropython, tmp_path, chip="stm32f103cb", repl_fun=True, setup=[
        "import pack", f"pack.load({str(device)!r}, debugvars='DbgMCU_CR = 0x5;')"])
    try:
        run = probe.gdb(probe.connect() + [
            "x/wx 0x20004F00", "set mem inaccessible-by-default off", "x/wx 0xE0042004",
            "set *(int *) 0x20004F10 = 0", "set *(int *) 0x20004F14 = 0",
            "set *(int *) 0x20004F18 = 0", "set *(int *) 0x20004F1C = 0",
            "load", "compare-sections", "x/2wx 0x20004F10",
            "set *(int *) 0x20004F04 = 0", "monitor reset", "x/wx 0x20004F04",
            "set *(int *) 0x20004F08 = 0", "set *(int *) 0x20004F0C = 0",
            "monitor reset processor", "x/wx 0x20004F08",
            "monitor reset hardware", "x/wx 0x20004F0C", "monitor reset warm",
            "set *(int *) 0x20004F20 = 0", "monitor traceswo", "monitor traceswo disable",
            "x/wx 0x20004F20",
            "stepi", "x/2wx 0x20004F18"],
            elf=firmware / "firmware.elf", timeout=200)
    finally:
        probe.close()
    assert "0x600df00d" in run.output("x/wx 0x20004F00"), f"{run}"
    assert "0x00000005" in run.output("x/wx 0xE0042004"), f"{run}"
    compare = run.output("compare-sections")
    assert "matched" in compare and "MIS-MATCHED" not in compare, f"{run}"
    assert "halted at the reset vector" in run.output("monitor reset"), f"{run}"
    assert "0x00000001" in run.output("x/wx 0x20004F04"), f"{run}"
    # FlashInit and FlashProgramDone once each for the load.
    assert "0x00000001\t0x00000001" in run.output("x/2wx 0x20004F10"), f"{run}"
    assert "Target reset (processor), halted" in run.output("monitor reset processor"), f"{run}"
    assert "0x00000001" in run.output("x/wx 0x20004F08"), f"{run}"
    assert "Target reset (hardware), halted" in run.output("monitor reset hardware"), f"{run}"
    assert "0x00000001" in run.output("x/wx 0x20004F0C"), f"{run}"
    assert "system, processor or hardware, not warm" in run.output("monitor reset warm")
    # SWO off again: the pack's TraceStop (its TraceStart is disabled, an empty body).
    assert "0x00000001" in run.output("x/wx 0x20004F20"), f"{run}"
    # RecoverySupportStart before the step, RecoverySupportStop at its halt.
    assert "0x00000001\t0x00000001" in run.output("x/2wx 0x20004F18"), f"{run}"
