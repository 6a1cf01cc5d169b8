# dap.process() answers DAP_Info requests (CMSIS-DAP DAP_Info): vendor, protocol version
# (Len counts the NUL), packet size and count, capabilities; and refuses bad buffers.
import dap

response = bytearray(64)


def info(id):
    produced = dap.process(bytes([0x00, id]), response)
    return produced, bytes(response[: 2 + response[1]])


print("vendor", info(0x01))
print("product", info(0x02))
print("version", info(0x04))
print("packet count", info(0xFE))
print("packet size", info(0xFF))
# SWO bits 2, 3 and UART bit 7 masked: set on the host probe (the simulator's SWO pin
# and USART1), clear on qemu.
produced, answer = info(0xF0)
print("capabilities", produced, answer[:2], hex(answer[2] & ~0x8C))
print("unknown info id", info(0x42))
print("unknown command", dap.process(b"\xe0", response), response[0])
print("transfer abort", dap.process(b"\x07", response), response[0])
print("short DAP_Transfer", dap.process(b"\x05\x00", response), bytes(response[:3]))
for label, arguments in (
    ("empty request", (b"", response)),
    ("response too small", (b"\x00\x01", bytearray(1))),
    ("response is bytes", (b"\x00\x01", bytes(64))),
    ("request is str", ("\x00\x01", response)),
):
    try:
        dap.process(*arguments)
    except (ValueError, TypeError) as error:
        print(label, type(error).__name__, error)
# A larger response buffer works as well.
large = bytearray(200)
print("large buffer", dap.process(b"\x00\xff", large), bytes(large[:4]))
dap.deinit()
# One bytearray as request and response (the original's HID loop does this): the request
# is copied before the response is written. DAP_ExecuteCommands reads its second command
# after answering the first, so answering in place would corrupt it.
request = bytes([0x7F, 0x02, 0x00, 0x01, 0x00, 0xFF])
separate = bytearray(64)
print("separate buffers", dap.process(request, separate), bytes(separate[:12]))
shared = bytearray(64)
shared[: len(request)] = request
print("same bytearray", dap.process(shared, shared), shared == separate)
shared = bytearray(64)
shared[: len(request)] = request
view = memoryview(shared)
print("same memoryview", dap.process(view, view), shared == separate)
# Overlapping views: the request starts 3 bytes into the response.
shared = bytearray(67)
shared[3 : 3 + len(request)] = request
print("overlapping views", dap.process(memoryview(shared)[3:], memoryview(shared)[:64]), shared[:64] == separate)
dap.deinit()
