"""machine, extended on bmp's probe boards with factory_reset().

MicroPython imports a module file before an extensible built-in of the same name, and
`umachine` is the built-in itself, so everything of the port's machine stays here.
Costs heap when imported: the built-in's names copied into this module's dict (about
40 entries on the stm32 port, 8 bytes a slot: an estimate of under 1 KB, not measured).
"""

from umachine import *  # noqa: F403


def factory_reset(directory=None):
    """Write bmp's boot.py and main.py (modules/frozen/bmp_factory.py) into `directory`,
    by default the board's filesystem (/flash, or /sd); the old ones become boot.py.bak
    and main.py.bak. Takes effect at the next reset. Returns the paths written."""
    import bmp_factory

    return bmp_factory.install(directory or bmp_factory.root())
