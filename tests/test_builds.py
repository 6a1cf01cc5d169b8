"""What the builds contain: the Rust library linked into the qemu firmware as Thumb code."""

import subprocess


def tool_output(*command):
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_qemu_firmware_links_the_rust_poll_loops(qemu_firmware):
    symbols = tool_output("arm-none-eabi-nm", str(qemu_firmware))
    defined = {line.split()[-1]: line.split()[1] for line in symbols.splitlines() if len(line.split()) == 3}
    for name in ("bmp_loop", "dap_loop", "bmp_event_hook", "bmp_help", "target_help", "dap_help"):
        assert defined.get(name) == "T", f"{name} not linked as code"


def test_qemu_firmware_is_thumb_for_cortex_m3(qemu_firmware):
    attributes = tool_output("arm-none-eabi-readelf", "-A", str(qemu_firmware))
    assert "Tag_CPU_arch: v7" in attributes
    assert "Tag_CPU_arch_profile: Microcontroller" in attributes
    # The Rust library itself was built for a Thumb-2 M-profile triple (thumbv7m-none-eabi).
    library = qemu_firmware.parent / "obj" / "rust" / "libbmp.a"
    library_attributes = tool_output("arm-none-eabi-readelf", "-A", str(library))
    assert "Tag_CPU_arch_profile: Microcontroller" in library_attributes
    assert "Tag_THUMB_ISA_use: Thumb-2" in library_attributes
