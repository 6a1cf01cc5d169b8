# bmp.poll() runs one step of each server by hand and returns the GDB server's step count.
import bmp

first = bmp.poll()
second = bmp.poll()
print(type(first) is int, second - first)
