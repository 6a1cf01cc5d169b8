# CMake ports (esp32, rp2): include every bmp user module.
include(${CMAKE_CURRENT_LIST_DIR}/bmp/micropython.cmake)
