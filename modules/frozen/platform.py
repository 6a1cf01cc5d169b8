"""platform, extended for bmp with pinout() (the issue's name for bmp.pinout()).

MicroPython imports a module file before an extensible built-in of the same name, and
`uplatform` is the built-in itself, so everything of the port's platform stays here.
"""

from uplatform import *  # noqa: F403


def pinout():
    """Print the debug connector's pins on this board (BMP_SWCLK, BMP_SWDIO, ...)."""
    import bmp

    bmp.pinout()
