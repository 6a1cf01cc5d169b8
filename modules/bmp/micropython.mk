# bmp user module for make-based ports (unix, qemu, stm32).
#
# The C files here hold what MicroPython's QSTR scanner must see (module tables, QSTRs,
# root pointers); the functions behind them are Rust, in the repository's root package,
# built here once per firmware build because QSTR numbers and struct layouts are per build.
#
# A board or variant may set:
#   BMP_RUST_TARGET      Rust target triple for an MCU (default: the host)
#   BMP_CARGO_FEATURES   features of the root package (board-link: the board provides a
#                        remote_bitbang link, bmp_board_link_* in bmp_glue.h; board-gpio:
#                        the debug connector on the stm32 board's GPIO, bmp_board_gpio.c)
#   BMP_CARGO_NO_DEFAULT=1  only BMP_CARGO_FEATURES, without the root package's default
#                        features (every subsystem and chip family): a board that must
#                        leave some out to fit lists what it keeps (docs/boards.md)
#   BMP_CARGO_PROFILE    Cargo profile of the Rust archive for an MCU triple (default
#                        release; board-gpio builds default to board: the engine for size,
#                        the SWD/JTAG bit loop for speed, Cargo.toml)
#   BMP_WHOLE_ARCHIVE=1  link the Rust archive with --whole-archive (ports whose link line
#                        puts LDFLAGS before the objects: qemu, stm32)

BMP_MOD_DIR := $(USERMOD_DIR)
BMP_TOP := $(abspath $(BMP_MOD_DIR)/../..)

SRC_USERMOD_C += $(BMP_MOD_DIR)/modbmp.c
SRC_USERMOD_C += $(BMP_MOD_DIR)/modtarget.c
SRC_USERMOD_C += $(BMP_MOD_DIR)/moddap.c
SRC_USERMOD_C += $(BMP_MOD_DIR)/bmp_glue.c
SRC_USERMOD_C += $(BMP_MOD_DIR)/bmp_stream.c
SRC_USERMOD_C += $(BMP_MOD_DIR)/bmp_call.c
CFLAGS_USERMOD += -I$(BMP_MOD_DIR)
ifneq ($(filter board-gpio,$(BMP_CARGO_FEATURES)),)
SRC_USERMOD_C += $(BMP_MOD_DIR)/bmp_board_gpio.c
SRC_USERMOD_C += $(BMP_MOD_DIR)/bmp_board_usb_dap.c
SRC_USERMOD_C += $(BMP_MOD_DIR)/bmp_board_factory.c
BMP_CARGO_PROFILE ?= board
endif
BMP_CARGO_PROFILE ?= release

BMP_RUST_DIR := $(abspath $(BUILD))/rust
BMP_RUST_LIB := $(BMP_RUST_DIR)/libbmp.a
BMP_CFLAGS_FILE := $(BMP_RUST_DIR)/cflags.txt

ifeq ($(BMP_WHOLE_ARCHIVE),1)
LDFLAGS_USERMOD += -Wl,--whole-archive $(BMP_RUST_LIB) -Wl,--no-whole-archive
else
LDFLAGS_USERMOD += $(BMP_RUST_LIB)
endif
# Native libraries the Rust standard library needs on a hosted target.
ifeq ($(BMP_RUST_TARGET),)
LDFLAGS_USERMOD += -lpthread -ldl
endif

# Cargo decides whether anything changed, so ask it every time (FORCE). The flags file
# holds the compiler's -I/-D/-std flags, one per line, unquoted by the shell, for bindgen.
$(BMP_RUST_LIB): $(HEADER_BUILD)/qstrdefs.generated.h $(HEADER_BUILD)/root_pointers.h $(HEADER_BUILD)/moduledefs.h FORCE
	$(ECHO) "CARGO $(notdir $@) $(BMP_RUST_TARGET)"
	$(Q)mkdir -p $(BMP_RUST_DIR)
	$(Q)printf '%s\n' $(filter -I% -D% -std=%,$(CFLAGS)) > $(BMP_CFLAGS_FILE).new
	$(Q)cmp -s $(BMP_CFLAGS_FILE).new $(BMP_CFLAGS_FILE) || mv $(BMP_CFLAGS_FILE).new $(BMP_CFLAGS_FILE)
	+$(Q)BMP_CARGO_PROFILE=$(BMP_CARGO_PROFILE) BMP_MPY_CFLAGS=$(BMP_CFLAGS_FILE) BMP_MPY_PORT_DIR=$(CURDIR) BMP_MPY_BUILD_DIR=$(abspath $(BUILD)) \
		$(BMP_TOP)/tools/cargo-staticlib $(BMP_RUST_DIR) $@ "$(BMP_RUST_TARGET)" "$(BMP_CARGO_FEATURES)" \
		$(if $(filter 1,$(BMP_CARGO_NO_DEFAULT)),no-default)

# bindgen reads py/misc.h, which includes the compressed error texts when the port
# compresses them; without this a parallel make may run cargo before the header exists.
ifeq ($(MICROPY_ROM_TEXT_COMPRESSION),1)
$(BMP_RUST_LIB): $(HEADER_BUILD)/compressed.data.h
endif

# The glue object depends on the library so that a new library relinks the firmware.
$(BUILD)/bmp/bmp_glue.o: $(BMP_RUST_LIB)
