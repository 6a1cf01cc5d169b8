//! Pin backends of the host probe (feature `host`): see `link` for how BMP_WIRE picks one.

use crate::link::NoWire;
use std::io::{Read, Write};
use std::net::TcpStream;
use wire::Pins;
use wire::remote_bitbang::{ByteStream, LinkLost, RemoteBitbang};

/// A TCP connection to a remote_bitbang server.
pub struct TcpLink(TcpStream);

impl ByteStream for TcpLink {
    fn write_all(&mut self, data: &[u8]) -> Result<(), LinkLost> {
        self.0.write_all(data).map_err(|_| LinkLost)
    }

    fn read_byte(&mut self) -> Result<u8, LinkLost> {
        let mut byte = [0u8];
        match self.0.read(&mut byte) {
            Ok(1) => Ok(byte[0]),
            _ => Err(LinkLost),
        }
    }
}

pub enum HostPins {
    /// The simulated blue pill, in-process.
    Simulated(Box<sim::port::Sim<sim::chip::Chip>>),
    Remote(RemoteBitbang<TcpLink>),
}

/// `sim[:CHIP]`: the simulated target, with BMP_SIM_FIRMWARE preloaded if set.
fn open_simulator(setting: &str) -> Result<HostPins, NoWire> {
    use sim::chip::{Chip, Variant};
    let variant = match setting
        .strip_prefix("sim")
        .unwrap_or("")
        .trim_start_matches(':')
    {
        "" | "stm32f103c8" => Variant::Stm32f103c8,
        "stm32f103cb" => Variant::Stm32f103cb,
        "stm32f103rc" => Variant::Stm32f103rc,
        "cks32f103c8" => Variant::Cks32f103c8,
        _ => {
            return Err(NoWire::Backend(
                "BMP_WIRE=sim:CHIP: CHIP is stm32f103c8, stm32f103cb, stm32f103rc or cks32f103c8",
            ));
        }
    };
    let mut chip = Chip::new(variant);
    if let Ok(path) = std::env::var("BMP_SIM_FIRMWARE") {
        chip.load_firmware(std::path::Path::new(&path))
            .map_err(|_| {
                NoWire::Backend("BMP_SIM_FIRMWARE: cannot load that file (ELF or .bin)")
            })?;
    }
    let mut simulator = sim::port::Sim::new(chip);
    // The target keeps running in wall-clock time between probe accesses, as a real one
    // does (clients' timeouts are in wall time); BMP_SIM_REALTIME=0 leaves only the
    // virtual clock of the wire (deterministic benchmarks).
    simulator.set_real_time(std::env::var("BMP_SIM_REALTIME").map_or(true, |value| value != "0"));
    Ok(HostPins::Simulated(Box::new(simulator)))
}

/// Open the backend BMP_WIRE names.
pub fn open() -> Result<HostPins, NoWire> {
    let setting = std::env::var("BMP_WIRE").unwrap_or_default();
    if let Some(address) = setting.strip_prefix("remote_bitbang:") {
        let stream = TcpStream::connect(address).map_err(|_| {
            NoWire::Backend("cannot connect to the remote_bitbang server in BMP_WIRE")
        })?;
        stream
            .set_nodelay(true)
            .map_err(|_| NoWire::Backend("cannot set TCP_NODELAY"))?;
        // A server that stops answering must not hang the probe forever.
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .map_err(|_| NoWire::Backend("cannot set a read timeout"))?;
        return Ok(HostPins::Remote(RemoteBitbang::new(TcpLink(stream))));
    }
    if setting.is_empty() || setting.starts_with("sim") {
        return open_simulator(&setting);
    }
    Err(NoWire::Backend(
        "BMP_WIRE must be sim[:CHIP] or remote_bitbang:HOST:PORT",
    ))
}

impl Pins for HostPins {
    fn set_swclk(&mut self, high: bool) {
        match self {
            HostPins::Simulated(pins) => pins.set_swclk(high),
            HostPins::Remote(pins) => pins.set_swclk(high),
        }
    }
    fn set_swdio(&mut self, high: bool) {
        match self {
            HostPins::Simulated(pins) => pins.set_swdio(high),
            HostPins::Remote(pins) => pins.set_swdio(high),
        }
    }
    fn swdio_output(&mut self, enable: bool) {
        match self {
            HostPins::Simulated(pins) => pins.swdio_output(enable),
            HostPins::Remote(pins) => pins.swdio_output(enable),
        }
    }
    fn read_swdio(&mut self) -> bool {
        match self {
            HostPins::Simulated(pins) => pins.read_swdio(),
            HostPins::Remote(pins) => pins.read_swdio(),
        }
    }
    fn set_tdi(&mut self, high: bool) {
        match self {
            HostPins::Simulated(pins) => pins.set_tdi(high),
            HostPins::Remote(pins) => pins.set_tdi(high),
        }
    }
    fn read_tdo(&mut self) -> bool {
        match self {
            HostPins::Simulated(pins) => pins.read_tdo(),
            HostPins::Remote(pins) => pins.read_tdo(),
        }
    }
    fn read_reset(&mut self) -> bool {
        match self {
            HostPins::Simulated(pins) => pins.read_reset(),
            HostPins::Remote(pins) => pins.read_reset(),
        }
    }
    fn set_reset(&mut self, asserted: bool) {
        match self {
            HostPins::Simulated(pins) => pins.set_reset(asserted),
            HostPins::Remote(pins) => pins.set_reset(asserted),
        }
    }
    fn set_frequency(&mut self, hz: u32) -> u32 {
        match self {
            HostPins::Simulated(pins) => pins.set_frequency(hz),
            HostPins::Remote(pins) => pins.set_frequency(hz),
        }
    }
}

/// With BMP_SIM_STATISTICS=1, print the simulated wire's counters since the last report to
/// stderr (tools/bench reads them after a client disconnects from the dap or GDB server).
pub fn report_statistics(pins: &mut HostPins) {
    use std::sync::Mutex;
    static LAST: Mutex<Option<sim::Statistics>> = Mutex::new(None);
    if std::env::var("BMP_SIM_STATISTICS").map_or(true, |value| value != "1") {
        return;
    }
    let HostPins::Simulated(simulator) = pins else {
        return;
    };
    let now = simulator.statistics();
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let before = last.unwrap_or_default();
    let cycles = now.clock_cycles - before.clock_cycles;
    eprintln!(
        "bmp statistics: swclk_hz={} clock_cycles={} transactions={} wait={} fault={} virtual_ns={}",
        simulator.frequency(),
        cycles,
        now.transactions - before.transactions,
        now.wait - before.wait,
        now.fault - before.fault,
        now.virtual_time_ns - before.virtual_time_ns,
    );
    *last = Some(now);
}
