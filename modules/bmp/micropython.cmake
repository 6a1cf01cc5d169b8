# bmp on CMake ports (esp32, rp2) is not built yet: the Rust library needs the port's
# compiler flags and genhdr for bindgen, which the make rule in micropython.mk provides and
# no CMake rule does so far. Fail clearly rather than build a firmware without the modules.
message(FATAL_ERROR "bmp: CMake ports (esp32, rp2) are not supported yet; build a make port (tools/mkfw unix|qemu)")
