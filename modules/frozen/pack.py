# Load what tools/pack wrote for one device of a CMSIS-Pack (docs/packs.md): its debug
# sequences and debugvars, and its flash algorithm, into the target module.
#
#   import pack
#   pack.load('/flash/STM32F103CB', debugvars='DbgMCU_CR = 0;')
#
# Then scan and attach as usual: the sequences replace the built-in steps they name.
import json
import target


def load(directory, debugvars=None, algorithm=True):
    """Use the device in `directory` (device.json, sequences.txt, *.FLM); `debugvars`
    overrides debugvars ('name = value;' statements); `algorithm` False leaves the flash
    algorithm as it is. Returns device.json's dict."""
    with open(directory + "/device.json") as file:
        device = json.load(file)
    if not isinstance(device, dict) or device.get("format") != 1:
        raise ValueError("not a tools/pack device.json (format 1)")
    text = None
    if device.get("sequences"):
        with open(directory + "/" + device["sequences"]) as file:
            text = file.read()
    target.sequences(text, device.get("processor") or "")
    if debugvars:
        target.debugvars(debugvars)
    # The session keeps one algorithm: the pack's default one (tools/pack lists it first).
    algorithms = device.get("algorithms") or []
    if algorithm and algorithms:
        chosen = algorithms[0]
        target.flash_algorithm(
            directory + "/" + chosen["file"], chosen.get("ram_start"), chosen.get("ram_size")
        )
    return device
