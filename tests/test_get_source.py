"""micropython/get-source derives its deb-src entry for trixie from the machine's own
Debian sources (APT_ETC points it at a test directory instead of /etc/apt)."""

import pathlib
import subprocess

GET_SOURCE = pathlib.Path(__file__).parent.parent / "micropython" / "get-source"
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def deb_src(apt_etc):
    result = subprocess.run([str(GET_SOURCE), "--deb-src"], env={"APT_ETC": str(apt_etc),
                            "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    fields = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert fields["Types"] == "deb-src" and fields["Suites"] == "trixie", result.stdout
    assert fields["Components"] == "main", result.stdout
    return fields["URIs"], fields["Signed-By"]


def write(apt_etc, name, text):
    path = apt_etc / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_deb822_local_mirror(tmp_path):
    # Security first in the file: it is skipped; a disabled stanza too.
    write(tmp_path, "sources.list.d/debian.sources", """\
Types: deb
URIs: http://mirror.lan/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://old.lan/debian
Suites: bookworm
Components: main
Enabled: no

# a comment
Types: deb deb-src
URIs: http://mirror.lan/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /etc/apt/keyrings/lan.gpg
""")
    assert deb_src(tmp_path) == ("http://mirror.lan/debian", "/etc/apt/keyrings/lan.gpg")


def test_one_line_sources_list(tmp_path):
    write(tmp_path, "sources.list", """\
# deb http://commented.out/debian bookworm main
deb http://security.debian.org/debian-security bookworm-security main
deb [arch=amd64 signed-by=/usr/share/keyrings/mirror.gpg] http://10.0.0.2:3142/debian bookworm main non-free-firmware
""")
    write(tmp_path, "sources.list.d/other.list", "deb https://packages.example.com/apt stable-tools extra\n")
    assert deb_src(tmp_path) == ("http://10.0.0.2:3142/debian", "/usr/share/keyrings/mirror.gpg")


def test_entry_without_signed_by_takes_debians_keyring(tmp_path):
    write(tmp_path, "sources.list", "deb http://ftp.de.debian.org/debian bookworm main\n")
    assert deb_src(tmp_path) == ("http://ftp.de.debian.org/debian", DEBIAN_KEYRING)


def test_no_debian_entry_falls_back_to_deb_debian_org(tmp_path):
    write(tmp_path, "sources.list.d/vendor.sources",
          "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n")
    assert deb_src(tmp_path) == ("http://deb.debian.org/debian", DEBIAN_KEYRING)
    assert deb_src(tmp_path / "missing") == ("http://deb.debian.org/debian", DEBIAN_KEYRING)
