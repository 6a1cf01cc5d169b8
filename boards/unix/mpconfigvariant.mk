# bmp host probe (unix port). Debian's source package has no micropython-lib, mbedtls or
# berkeley-db submodules: leave out what needs them.
FROZEN_MANIFEST ?= $(VARIANT_DIR)/manifest.py
MICROPY_PY_BTREE = 0
MICROPY_PY_SSL = 0
