"""The bmp module on the host probe: tracebuf against the simulated blue pill, traceswo
from a stream of ITM packets, the GDB server on a Python stream and on a TCP port, and the
frozen semihosting.py on the unix filesystem. Argument errors are in tests/mpy/bmp_misuse.py
(host probe and qemu)."""

import os
import pathlib
import socket
import subprocess
import time

import pytest

SIM_SCRIPTS = pathlib.Path(__file__).parent / "sim"


def run_script(micropython, script, *arguments, stdin="", timeout=120):
    """(stdout, stderr) of a tests/sim script on the host probe with the simulated target."""
    environment = dict(os.environ, BMP_WIRE="sim")
    result = subprocess.run([str(micropython), str(SIM_SCRIPTS / script), *map(str, arguments)],
                            input=stdin, capture_output=True, text=True, timeout=timeout,
                            env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, result.stderr


def assert_checks(output, expected_count):
    """Every line of a check script says "<check> ok"."""
    lines = [line for line in output.splitlines() if line.strip()]
    failed = [line for line in lines if not line.endswith(" ok")]
    assert not failed, output
    assert len(lines) == expected_count, output


# tracebuf ------------------------------------------------------------------------------

LONG_TRACE = "".join(f"line {n:03d} of a long trace buffer\n" for n in range(40))

TRACEBUF_EXPECTED = f"""['STM32F1 medium density M3']

== plain
enabled True
hello from the target

head 22 tail 22

== more text, then nothing new
second line

head 34 tail 34

== wrapped
wrapped-around!

head 8 tail 8

== wrapped, head at 0
end

head 0 tail 0

== disp_fun
['bytearray'] b'to the callback'

head 15 tail 15

== ena=False
enabled False

head 25 tail 15
enabled True
held back

head 25 tail 25

== bad indexes

head 64 tail 25

head 3 tail 1000
enabled True

== a long buffer read in pieces
enabled True
{LONG_TRACE}
head 1280 tail 1280

== not attached

head 10 tail 0
enabled False

== a disp_fun that raises
enabled True

head 4 tail 4
still going

head 16 tail 16

== reading fails
enabled True

bmp: tracebuf: reading the target failed; tracebuf is off
enabled False

head 8 tail 0
"""


def test_tracebuf_shows_the_target_ring_buffer(unix_micropython):
    # [tail, head) on the console (or to disp_fun), then tail = head; wrapped buffers in
    # order; nothing for ena=False, indexes outside the buffer, or no attached target; a
    # failed read turns tracebuf off with a message.
    stdout, stderr = run_script(unix_micropython, "bmp_tracebuf.py")
    assert stdout == TRACEBUF_EXPECTED
    # What disp_fun raises is reported, and tracebuf goes on.
    assert "bmp: disp_fun: Traceback" in stderr and "ValueError: disp_fun failed" in stderr, stderr


# traceswo ------------------------------------------------------------------------------

SWO_LINES = "".join(f"swo line {n:02d}\n" for n in range(60))
# The overflow packet in the mixed stream shows where data was lost, whatever the ports.

TRACESWO_EXPECTED = f"""
== all ports
on True
port 0 says hi
[itm overflow: data lost]port one
port 31
port 5
bye from 0

== ports 1 and 31
on True
[itm overflow: data lost]port one
port 31

== port 5
on True
[itm overflow: data lost]port 5

== packet sizes mixed by hand
on True
abcdefg
z

== payload bytes that look like headers, to disp_fun
on True
b'\\x00p\\x80\\x05\\x00\\x00'

== more than one read: packets across read boundaries
True
on True
{SWO_LINES}
== traceswo() turns it off
on True
on False

== a new stream starts a new decoder
on True
ab
on True
whole
on False
"""


def test_traceswo_shows_the_chosen_stimulus_ports(unix_micropython):
    stdout, stderr = run_script(unix_micropython, "bmp_traceswo.py")
    assert stderr == ""
    assert stdout == TRACESWO_EXPECTED


# The GDB server on a stream and on TCP -------------------------------------------------

def test_gdb_server_on_a_python_stream(unix_micropython):
    stdout, stderr = run_script(unix_micropython, "bmp_stream.py")
    assert stderr == ""
    assert_checks(stdout, 8)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def packet(body):
    return b"$%s#%02x" % (body, sum(body) & 0xFF)


def receive_answer(client, timeout=10.0):
    """Bytes up to and including the first whole "$...#xx" packet."""
    client.settimeout(timeout)
    data = b""
    while True:
        start = data.find(b"$")
        end = data.find(b"#", start + 1) if start >= 0 else -1
        if end >= 0 and len(data) >= end + 3:
            return data[:end + 3]
        chunk = client.recv(4096)
        assert chunk, f"connection closed; received {data!r}"
        data += chunk


def assert_supported(answer):
    assert answer.startswith(b"+$PacketSize=1000;"), answer
    body = answer[2:-3]
    assert answer[-2:] == b"%02x" % (sum(body) & 0xFF), answer


def closed_by_peer(client, timeout=5.0):
    client.settimeout(timeout)
    try:
        return client.recv(100) == b""
    except ConnectionResetError:
        return True


@pytest.fixture
def gdb_port(unix_console):
    """bmp.init(tcp=PORT) at the host probe's REPL, which polls while it waits for a key."""
    port = free_port()
    output = unix_console.line(f"import bmp; bmp.init(tcp={port})")
    assert output == "", output
    yield port
    unix_console.line("bmp.deinit()")


def test_tcp_answers_a_client(gdb_port):
    with socket.create_connection(("127.0.0.1", gdb_port), timeout=10) as client:
        client.sendall(packet(b"qSupported"))
        assert_supported(receive_answer(client))
        client.sendall(b"+$qSupported#00")  # a bad checksum
        client.settimeout(10)
        assert client.recv(1) == b"-"


def test_tcp_serves_one_client_at_a_time(gdb_port):
    with socket.create_connection(("127.0.0.1", gdb_port), timeout=10) as first:
        first.sendall(packet(b"qSupported"))
        assert_supported(receive_answer(first))
        # A second client waits in the listen backlog: not answered, not closed.
        second = socket.create_connection(("127.0.0.1", gdb_port), timeout=10)
        second.sendall(packet(b"qSupported"))
        second.settimeout(1.0)
        with pytest.raises(socket.timeout):
            second.recv(1)
        # The first client is still served.
        first.sendall(b"+" + packet(b"qSupported"))
        assert_supported(receive_answer(first))
    # When it leaves, the waiting client is served.
    with second:
        second.settimeout(10)
        assert_supported(receive_answer(second))


def test_tcp_deinit_closes_the_port_and_the_client(unix_console):
    port = free_port()
    assert unix_console.line(f"import bmp; bmp.init(tcp={port})") == ""
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        client.sendall(packet(b"qSupported"))
        assert_supported(receive_answer(client))
        assert unix_console.line("bmp.deinit()") == ""
        assert closed_by_peer(client)
    finally:
        client.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
    # And it can serve again.
    assert unix_console.line(f"bmp.init(tcp={port})") == ""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(packet(b"qSupported"))
        assert_supported(receive_answer(client))
    assert unix_console.line("bmp.deinit()") == ""


# semihosting.py ------------------------------------------------------------------------

def test_semihosting_files(unix_micropython, tmp_path):
    stdout, stderr = run_script(unix_micropython, "semihosting_files.py", tmp_path,
                                int(time.time()), stdin="typed line\n")
    assert stderr == ""
    assert_checks(stdout, 39)
    assert sorted(os.listdir(tmp_path)) == ["text.txt", "update.bin"]


def test_semihosting_text_mode_reads_bytes(unix_micropython, tmp_path):
    """SYS_OPEN text modes read bytes, not characters (files are opened in binary)."""
    stdout, stderr = run_script(unix_micropython, "semihosting_text_mode.py", tmp_path)
    assert stderr == ""
    assert_checks(stdout, 3)


def test_semihosting_sandbox(unix_micropython, tmp_path):
    """Target file names stay in the sandbox: "..", absolute names, drive letters, NUL and
    symbolic links out of it are refused with -1 and errno EACCES; normal use works."""
    (tmp_path / "secret.txt").write_text("secret")
    box = tmp_path / "box"
    (box / "sub").mkdir(parents=True)
    (box / "inside.txt").write_text("inside")
    (box / "link_out").symlink_to("..")
    (box / "file_link").symlink_to("../secret.txt")
    result = subprocess.run([str(unix_micropython), str(SIM_SCRIPTS / "semihosting_sandbox.py"),
                             str(tmp_path)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stdout + result.stderr
    assert_checks(result.stdout, 51)


def test_semihosting_default_sandbox(unix_micropython, tmp_path):
    """With no init() call, the first file call makes ./semihosting the sandbox."""
    script = ("import semihosting\n"
              "h = semihosting.open('made.txt', 4); semihosting.write(h, b'x'); semihosting.close(h)\n"
              "print(semihosting.ROOT, semihosting.open('../escape.txt', 4), semihosting.errno())\n")
    result = subprocess.run([str(unix_micropython), "-c", script], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stdout + result.stderr
    assert result.stdout.split() == [str(tmp_path / "semihosting"), "-1", "13"]
    assert (tmp_path / "semihosting" / "made.txt").read_bytes() == b"x"
    assert sorted(os.listdir(tmp_path)) == ["semihosting"]
