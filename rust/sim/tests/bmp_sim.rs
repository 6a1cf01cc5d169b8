//! The bmp-sim binary end to end: it announces its address, serves remote_bitbang over
//! loopback TCP, one client after the other, and rejects bad options clearly.

use sim::bus::Bus;
use sim::chip::{Chip, Variant};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use wire::Port;
use wire::remote_bitbang::{ByteStream, LinkLost, RemoteBitbang};

const BINARY: &str = env!("CARGO_BIN_EXE_bmp-sim");

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start bmp-sim on a free loopback port; returns it and the address it announced.
fn start(arguments: &[&str]) -> (Server, String) {
    let mut child = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0"])
        .args(arguments)
        .stdout(Stdio::piped())
        .spawn()
        .expect("bmp-sim runs");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let address = line
        .trim()
        .strip_prefix("bmp-sim: stm32f103c8 listening on ")
        .unwrap_or_else(|| panic!("unexpected announcement {line:?}"))
        .to_string();
    (server, address)
}

struct Link(TcpStream);

impl ByteStream for Link {
    fn write_all(&mut self, data: &[u8]) -> Result<(), LinkLost> {
        self.0.write_all(data).map_err(|_| LinkLost)
    }

    fn read_byte(&mut self) -> Result<u8, LinkLost> {
        let mut byte = [0];
        match self.0.read(&mut byte) {
            Ok(1) => Ok(byte[0]),
            _ => Err(LinkLost),
        }
    }
}

fn connect(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

#[test]
fn serves_swd_and_jtag_to_one_client_after_another() {
    let identity = Chip::new(Variant::Stm32f103c8).identity();
    let (_server, address) = start(&[]);

    let stream = connect(&address);
    let mut pins = RemoteBitbang::new(Link(stream.try_clone().unwrap()));
    let mut swd = wire::swd::Swd::new(&mut pins);
    swd.switch_from_jtag();
    assert_eq!(swd.read(Port::Dp, 0x0), Ok(identity.dpidr));
    (&stream).write_all(b"Q").unwrap();
    drop(pins);

    // A power-on default: the next client finds the same target, still in SWD.
    let stream = connect(&address);
    let mut pins = RemoteBitbang::new(Link(stream));
    let mut swd = wire::swd::Swd::new(&mut pins);
    swd.line_reset();
    assert_eq!(swd.read(Port::Dp, 0x0), Ok(identity.dpidr));
    // Back to JTAG (SWD-to-JTAG, ADIv5.2 B5.2.3) and scan the chain.
    swd.write_bits(u32::MAX, 32);
    swd.write_bits(u32::MAX, 24);
    swd.write_bits(0xE73C, 16);
    let mut jtag = wire::jtag::Jtag::new(&mut pins);
    let mut devices = [wire::jtag::Device {
        idcode: 0,
        ir_length: 0,
    }; wire::jtag::MAX_DEVICES];
    jtag.scan_chain(&[4, 5], &mut devices).unwrap();
    assert_eq!(devices[0].idcode, identity.jtag_idcode);
    assert_eq!(devices[1].idcode, identity.boundary_scan_idcode);
}

#[test]
fn help_documents_every_option() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for option in [
        "--chip",
        "--firmware",
        "--listen",
        "--statistics",
        "--real-time",
        "--seed",
        "--wait",
        "--fault",
        "--no-answer",
        "--read-parity",
        "--power-off",
        "--power-off-time",
    ] {
        assert!(text.contains(option), "{option} is documented");
    }
}

#[test]
fn bad_options_fail_clearly() {
    let output = Command::new(BINARY).arg("--chip=z80").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8(output.stderr).unwrap();
    assert!(text.contains("--chip z80"), "{text}");
    let output = Command::new(BINARY)
        .args([
            "--firmware",
            "/nonexistent/firmware.elf",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "a missing firmware file is an error"
    );
}
