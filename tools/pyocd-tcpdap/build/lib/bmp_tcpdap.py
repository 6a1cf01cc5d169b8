"""pyOCD probe plugin: a CMSIS-DAP probe reached over TCP.

The framing is OpenOCD's `cmsis-dap backend tcp`: each packet follows an 8-byte header
(u32 "DAP\\0" signature, u16 payload length, u8 type 1 = request / 2 = response, u8 0), all
little-endian. pyOCD's own CMSIS-DAP stack (DAPAccessCMSISDAP) runs on top, unchanged.

    pyocd commander -u tcpdap:127.0.0.1:4441 -t stm32f103rc
"""

import socket
import struct

from pyocd.core.plugin import Plugin
from pyocd.probe.cmsis_dap_probe import CMSISDAPProbe
from pyocd.probe.pydapaccess.dap_access_api import DAPAccessIntf
from pyocd.probe.pydapaccess.dap_access_cmsis_dap import DAPAccessCMSISDAP
from pyocd.probe.pydapaccess.interface.interface import Interface

SIGNATURE = 0x00504144
HEADER = struct.Struct("<IHBB")
REQUEST = 1
RESPONSE = 2
TIMEOUT_SECONDS = 10


class TcpDapInterface(Interface):
    """A CMSIS-DAP interface on a TCP connection, with bulk (v2) semantics: packets of
    any length, no padding."""

    def __init__(self, host, port):
        super().__init__()
        self.host = host
        self.port = port
        self.vendor_name = "bmp"
        self.product_name = "CMSIS-DAP over TCP"
        self.serial_number = f"{host}:{port}"
        self.packet_size = 1024
        self._socket = None

    @property
    def is_bulk(self):
        return True

    def open(self):
        try:
            self._socket = socket.create_connection((self.host, self.port), timeout=TIMEOUT_SECONDS)
        except OSError as error:
            raise DAPAccessIntf.DeviceError(f"cannot connect to {self.host}:{self.port}: {error}") from error
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def write(self, data):
        payload = bytes(data)
        self._socket.sendall(HEADER.pack(SIGNATURE, len(payload), REQUEST, 0) + payload)

    def _receive(self, count):
        data = bytearray()
        while len(data) < count:
            try:
                chunk = self._socket.recv(count - len(data))
            except OSError as error:
                raise DAPAccessIntf.DeviceError(f"reading from {self.serial_number}: {error}") from error
            if not chunk:
                raise DAPAccessIntf.DeviceError(f"{self.serial_number} closed the connection")
            data += chunk
        return bytes(data)

    def read(self):
        signature, length, kind, _ = HEADER.unpack(self._receive(HEADER.size))
        if signature != SIGNATURE or kind != RESPONSE:
            raise DAPAccessIntf.DeviceError(f"{self.serial_number}: not a CMSIS-DAP TCP response")
        return self._receive(length)

    def read_swo(self):
        raise DAPAccessIntf.DeviceError("SWO is not available over CMSIS-DAP TCP")


class TcpDapProbe(CMSISDAPProbe):
    """pyOCD's CMSIS-DAP probe over TcpDapInterface. Probes are named host:port and
    found only when named (`-u tcpdap:HOST:PORT`): TCP has no enumeration."""

    @classmethod
    def get_all_connected_probes(cls, unique_id=None, is_explicit=False):
        probe = cls.get_probe_with_id(unique_id, is_explicit) if unique_id else None
        return [probe] if probe is not None else []

    @classmethod
    def get_probe_with_id(cls, unique_id, is_explicit=False):
        if not is_explicit or not unique_id:
            return None
        host, _, port = unique_id.rpartition(":")
        try:
            port = int(port)
        except ValueError:
            return None
        interface = TcpDapInterface(host or "127.0.0.1", port)
        return cls(DAPAccessCMSISDAP(None, interface=interface))


class TcpDapProbePlugin(Plugin):
    """Plugin class for TcpDapProbe."""

    def load(self):
        return TcpDapProbe

    @property
    def name(self):
        return "tcpdap"

    @property
    def description(self):
        return "CMSIS-DAP over TCP (bmp dap.init(tcp=...))"
