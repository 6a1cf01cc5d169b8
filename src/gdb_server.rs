//! The GDB server on its connection: rust/gdb's `Server` with the probe's session as its
//! target and MicroPython as its host (client stream, console, semihosting.py, repl_fun).
//! bmp.init() opens the connection and gives the wire to the session; each bmp_loop()
//! step reads what the client sent, answers, and watches a running target.
#![forbid(unsafe_code)]

use crate::connection::{self, Closed, Slots};
use crate::link::ProbeClock;
use crate::mpy::call::{self, Semihosting};
use crate::mpy::exclusive::Exclusive;
use crate::mpy::print;
use crate::mpy::stream::{self, Root};
use crate::probe::{self, Failure, Probe};
use adi::Clock;
use core::fmt::Write;
use gdb::{BreakWatch, FlashRegion, FlashWriter, HaltStatus, Listed, REGISTER_COUNT};

pub const SLOTS: Slots = Slots {
    listener: Root::BMP_ROOT_GDB_LISTENER,
    stream: Root::BMP_ROOT_GDB_STREAM,
};

/// Bytes read from the client per read, and reads per poll step (a step stays short).
const READ_CHUNK: usize = 1024;
const READS_PER_STEP: usize = 8;

pub struct State {
    server: gdb::Server,
    clock: Option<ProbeClock>,
    /// bmp.debug(): show the packets on the console.
    pub debug: bool,
    pub trace: crate::trace::Trace,
    pub rtt: crate::rtt::RttOutput,
}

pub static STATE: Exclusive<State> = Exclusive::new(State {
    server: gdb::Server::new(),
    clock: None,
    debug: false,
    trace: crate::trace::Trace::new(),
    rtt: crate::rtt::RttOutput::new(),
});

impl State {
    /// bmp.init(): a fresh protocol state for the first client.
    pub fn server_connected(&mut self) {
        self.server.disconnected();
        self.server.connected();
    }
}

/// The GDB server takes the wire while it has a client: a TCP client from its arrival
/// until it leaves, a user stream from bmp.init() on. A client that arrives while the
/// CMSIS-DAP server has the wire is refused (closed at once, with a console message).
pub fn take_wire(probe: &mut Probe) -> Result<(), Failure> {
    check_wire(probe)?;
    probe.gdb_active = true;
    Ok(())
}

/// The CMSIS-DAP server does not have the wire.
pub fn check_wire(probe: &mut Probe) -> Result<(), Failure> {
    match probe.dap {
        Some(_) => Err(Failure::WireInUse(
            "the CMSIS-DAP server (dap) is using the wire: call dap.deinit() first",
        )),
        None => Ok(()),
    }
}

/// Stop serving: the client and listener are closed; an attached target stays attached
/// (the `target` module shares the session).
pub fn stop(probe: &mut Probe) {
    connection::close(SLOTS);
    probe.gdb_active = false;
    let _ = STATE.with(|state| state.server.disconnected());
}

/// One poll step (bmp_loop): serve the client, then tracebuf, traceswo and RTT.
pub fn poll() {
    let _ = STATE.with(|state| {
        let _ = probe::with(|probe| {
            if connection::is_open(SLOTS) {
                serve(state, probe);
            }
            state.trace.poll(probe);
            state.rtt.poll(probe);
            Ok(())
        });
    });
}

fn serve(state: &mut State, probe: &mut Probe) {
    let clock = state.clock.get_or_insert_with(ProbeClock::new);
    let mut host = MpyHost {
        clock,
        debug: state.debug,
        closed: false,
    };
    if connection::accept(SLOTS) == Ok(true) {
        if take_wire(probe).is_err() {
            print::console("bmp: GDB client refused: the CMSIS-DAP server (dap) has the wire\n");
            connection::hang_up(SLOTS);
            return;
        }
        state.server.connected();
    }
    if !probe.gdb_active {
        return;
    }
    let mut target = ProbeTarget {
        probe,
        trace: &mut state.trace,
    };
    let mut buffer = [0u8; READ_CHUNK];
    for _ in 0..READS_PER_STEP {
        match connection::read(SLOTS, &mut buffer) {
            Ok(0) => break,
            Ok(count) => {
                if host.debug {
                    show("gdb <", &buffer[..count]);
                }
                state
                    .server
                    .receive(&mut target, &mut host, &buffer[..count]);
            }
            Err(Closed::Hangup | Closed::Error(_)) => {
                host.closed = true;
                break;
            }
        }
    }
    if state.server.is_running() {
        state.server.poll(&mut target, &mut host);
    }
    if host.closed {
        #[cfg(feature = "host")]
        target
            .probe
            .session
            .with_transport(|wire| crate::host::report_statistics(wire.pins()));
        connection::hang_up(SLOTS);
        state.server.disconnected();
        // A TCP server gives the wire back until its next client; a stream is gone.
        target.probe.gdb_active = false;
    }
}

/// bmp.debug(): a line of traffic on the console, cut to 120 bytes.
fn show(direction: &str, data: &[u8]) {
    let mut line = crate::mpy::text::FixedText::<160>::new();
    let _ = write!(line, "{direction} ");
    for &byte in data.iter().take(120) {
        let _ = line.write_char(if (0x20..0x7F).contains(&byte) {
            byte as char
        } else {
            '.'
        });
    }
    let _ = writeln!(line);
    print::console(core::str::from_utf8(line.as_bytes()).unwrap_or(""));
}

/// The session behind the GDB server.
struct ProbeTarget<'a> {
    probe: &'a mut Probe,
    /// tracebuf/traceswo, for `monitor traceswo`.
    trace: &'a mut crate::trace::Trace,
}

impl ProbeTarget<'_> {
    fn session<R>(
        &mut self,
        work: impl FnOnce(&mut debug::Session<crate::link::Wire, ProbeClock>) -> Result<R, debug::Error>,
    ) -> Result<R, Failure> {
        work(&mut self.probe.session).map_err(Failure::Session)
    }
}

impl gdb::Target for ProbeTarget<'_> {
    type Error = Failure;

    fn swdp_scan(&mut self, connect_under_reset: bool) -> Result<(), Failure> {
        self.probe.swdp_scan(connect_under_reset).map(|_| ())
    }

    fn jtag_scan(&mut self, connect_under_reset: bool) -> Result<(), Failure> {
        self.probe.jtag_scan(connect_under_reset, &[]).map(|_| ())
    }

    fn for_each_target(&self, each: &mut dyn FnMut(Listed<'_>)) {
        for (index, target) in self.probe.session.targets().enumerate() {
            each(Listed {
                number: index + 1,
                driver: target.driver_name(),
                core: target.core_name(),
            });
        }
    }

    fn attach(&mut self, number: usize) -> Result<(), Failure> {
        self.session(|session| session.attach(number))
    }

    fn detach(&mut self) -> Result<(), Failure> {
        self.session(|session| session.detach())
    }

    fn attached(&self) -> Option<usize> {
        self.probe.session.attached_number()
    }

    fn frequency(&mut self) -> Option<u32> {
        Some(self.probe.frequency())
    }

    fn set_frequency(&mut self, hz: u32) -> Result<u32, Failure> {
        self.probe.set_frequency(hz)
    }

    fn hard_reset(&mut self) -> Result<(), Failure> {
        self.probe.pulse_reset()
    }

    fn memory_map_xml(&self, mut out: &mut dyn Write) -> core::fmt::Result {
        let map = self.probe.session.memory_map().unwrap_or_default();
        map.write_xml(&mut out)
    }

    fn read_memory(&mut self, address: u32, data: &mut [u8]) -> Result<(), Failure> {
        self.session(|session| session.read_memory(address, data))
    }

    fn write_memory(&mut self, address: u32, data: &[u8]) -> Result<(), Failure> {
        self.session(|session| session.write_memory(address, data))
    }

    fn read_registers(&mut self, values: &mut [u32; REGISTER_COUNT]) -> Result<(), Failure> {
        self.session(|session| session.read_registers(values))
    }

    fn write_registers(&mut self, values: &[u32; REGISTER_COUNT]) -> Result<(), Failure> {
        self.session(|session| session.write_registers(values))
    }

    fn read_register(&mut self, number: usize) -> Result<u32, Failure> {
        self.session(|session| session.read_register(number))
    }

    fn write_register(&mut self, number: usize, value: u32) -> Result<(), Failure> {
        self.session(|session| session.write_register(number, value))
    }

    fn target_description(&self) -> &'static str {
        self.probe.session.target_description()
    }

    fn register_size(&self, number: usize) -> Option<usize> {
        self.probe.session.register_size(number)
    }

    fn read_register_wide(&mut self, number: usize) -> Result<u64, Failure> {
        self.session(|session| session.read_register_wide(number))
    }

    fn write_register_wide(&mut self, number: usize, value: u64) -> Result<(), Failure> {
        self.session(|session| session.write_register_wide(number, value))
    }

    fn halt_request(&mut self) -> Result<(), Failure> {
        self.session(|session| session.halt_request())
    }

    fn halt_poll(&mut self) -> Result<HaltStatus, Failure> {
        self.session(|session| session.halt_poll())
    }

    fn take_notice(&mut self, out: &mut dyn Write) -> bool {
        let Some(reconnected) = self.probe.session.take_reconnected() else {
            return false;
        };
        let _ = writeln!(out, "{reconnected}");
        true
    }

    fn resume(&mut self, step: bool) -> Result<(), Failure> {
        self.session(|session| session.resume(step))
    }

    fn reset(&mut self, halt: bool) -> Result<(), Failure> {
        self.session(|session| session.reset(halt))
    }

    fn reset_kind(&mut self, kind: debug::ResetKind, halt: bool) -> Result<(), Failure> {
        self.session(|session| session.reset_kind(kind, halt))
    }

    fn set_breakwatch(
        &mut self,
        kind: BreakWatch,
        address: u32,
        length: u32,
    ) -> Result<(), Failure> {
        self.session(|session| session.set_breakwatch(kind, address, length))
    }

    fn clear_breakwatch(
        &mut self,
        kind: BreakWatch,
        address: u32,
        length: u32,
    ) -> Result<(), Failure> {
        self.session(|session| session.clear_breakwatch(kind, address, length))
    }

    fn flash_erase(&mut self, address: u32, length: u32) -> Result<(), Failure> {
        self.session(|session| session.flash_erase(address, length))
    }

    fn flash_write(&mut self, address: u32, data: &[u8]) -> Result<(), Failure> {
        self.session(|session| session.flash_write(address, data))
    }

    fn flash_done(&mut self) -> Result<(), Failure> {
        self.session(|session| session.flash_done())
    }

    fn flash_mass_erase(&mut self) -> Result<(), Failure> {
        self.session(|session| session.flash_mass_erase())
    }

    fn recover(&mut self) -> Result<(), Failure> {
        self.session(|session| session.recover())
    }

    fn crc32(&mut self, address: u32, length: u32) -> Result<u32, Failure> {
        self.session(|session| session.crc32(address, length).map(|(crc, _)| crc))
    }

    fn crc_routine(&self) -> (bool, Option<u64>) {
        let options = self.probe.session.crc_options();
        (options.on_target, options.timeout_micros)
    }

    fn set_crc_routine(&mut self, on_target: bool, timeout_micros: Option<u64>) {
        self.probe
            .session
            .set_crc_options(on_target, timeout_micros);
    }

    fn flash_report(&mut self, out: &mut dyn Write) -> Result<(), Failure> {
        let report =
            self.session(|session| session.flash_report().ok_or(debug::Error::NotAttached))?;
        let _ = write!(out, "{report}");
        if let Some(reconnected) = self.probe.session.reconnected() {
            let _ = writeln!(out, "{reconnected}");
            // Told: not again after this command (Target::take_notice).
            self.probe.session.take_reconnected();
        }
        Ok(())
    }

    fn flash_regions(&self, each: &mut dyn FnMut(FlashRegion<'_>)) -> Result<(), Failure> {
        let session = &self.probe.session;
        let map = session.memory_map().map_err(Failure::Session)?;
        let driver = session.attached().map_or("", |target| target.driver_name());
        let algorithm = session.flash_algorithm().map(|algorithm| &algorithm.device);
        for region in map.regions() {
            let Some(flash) = region.as_flash() else {
                continue;
            };
            let writer = match algorithm {
                Some(device) if device.start <= region.start && region.end() <= device.end() => {
                    FlashWriter::Algorithm(device.name.as_str())
                }
                _ => FlashWriter::Driver(driver),
            };
            each(FlashRegion {
                start: region.start,
                length: region.length,
                sector: flash.block_size,
                writer,
            });
        }
        Ok(())
    }

    fn load_flash_algorithm(&mut self, path: &str) -> Result<(u32, u32), Failure> {
        let mut file = call::File::open(path.as_bytes()).map_err(Failure::File)?;
        self.session(|session| {
            session.set_flash_algorithm(
                |algorithm| debug::algo::flm::load(algorithm, &mut file),
                None,
            )?;
            let device = session.flash_algorithm().map(|algorithm| &algorithm.device);
            Ok(device.map_or((0, 0), |device| (device.start, device.size)))
        })
    }

    fn clear_flash_algorithm(&mut self) -> Result<(), Failure> {
        self.session(|session| session.clear_flash_algorithm())
    }

    fn chip_commands(&self, each: &mut dyn FnMut(&str, &str)) {
        for command in self.probe.session.chip_commands() {
            each(command.name, command.help);
        }
    }

    fn chip_command(
        &mut self,
        name: &str,
        arguments: &str,
        out: &mut dyn Write,
    ) -> Result<(), Failure> {
        self.session(|session| session.chip_command(name, arguments, out))
    }

    fn command_line(&self, out: &mut [u8]) -> usize {
        let line = self.probe.command_line();
        let length = line.len().min(out.len());
        out[..length].copy_from_slice(&line[..length]);
        length
    }

    fn heap_info(&self) -> [u32; 4] {
        self.probe.heap_info
    }

    fn rtt(&mut self) -> Option<&mut debug::rtt::Rtt> {
        Some(&mut self.probe.session.rtt)
    }

    fn traceswo(&mut self, channels: u32) -> Result<(), &'static str> {
        let has_stream = crate::trace::swo_stream().is_set();
        if channels != 0 && !has_stream && !cfg!(feature = "host") {
            return Err("traceswo: no SWO input on this board: bmp.traceswo(uart=...) gives one");
        }
        // A device's TraceStart before the stream is taken, TraceStop after it stops.
        let was_on = self.trace.swo_channels != 0;
        if channels != 0 && !was_on {
            self.probe
                .session
                .trace(true)
                .map_err(|_| "traceswo: the device's TraceStart failed (target.sequence_log())")?;
        }
        self.trace.start_swo(channels);
        if channels == 0 && was_on {
            self.probe
                .session
                .trace(false)
                .map_err(|_| "traceswo: the device's TraceStop failed (target.sequence_log())")?;
        }
        Ok(())
    }
}

/// MicroPython's side of the server.
struct MpyHost<'a> {
    clock: &'a mut ProbeClock,
    debug: bool,
    /// Writing to the client failed: hang up after this step.
    closed: bool,
}

use call::Argument;

/// Text for the user: to bmp.disp_fun() if one is registered, else the console.
pub fn display(data: &[u8]) {
    let function = stream::root(Root::BMP_ROOT_DISP_FUN);
    if function.is_set() {
        call::display(function, data);
    } else {
        call::console_write(data);
    }
}

impl gdb::Host for MpyHost<'_> {
    fn send(&mut self, data: &[u8]) {
        if self.debug {
            show("gdb >", data);
        }
        if connection::write(SLOTS, data).is_err() {
            self.closed = true;
        }
    }

    fn now_micros(&mut self) -> u64 {
        self.clock.now_micros()
    }

    fn version(&self) -> &str {
        VERSION
    }

    fn python(&mut self, expression: &str, out: &mut dyn Write) -> Result<(), &'static str> {
        let function = stream::root(Root::BMP_ROOT_REPL_FUN);
        if !function.is_set() {
            return Err("repl_fun() not registered");
        }
        let mut result = [0u8; 1024];
        let count = call::text(function, expression.as_bytes(), &mut result);
        if count < 0 {
            return Err(
                "python: the expression raised an exception (shown on the probe's console)",
            );
        }
        let text = &result[..count as usize];
        match core::str::from_utf8(text) {
            Ok(text) => out.write_str(text).map_err(|_| "python: output lost"),
            Err(error) => {
                // Cut at the last whole character.
                let valid = core::str::from_utf8(&text[..error.valid_up_to()]).unwrap_or("");
                out.write_str(valid).map_err(|_| "python: output lost")
            }
        }
    }

    fn console_write(&mut self, data: &[u8]) {
        display(data);
    }

    fn console_read(&mut self, data: &mut [u8]) -> i32 {
        call::semihosting_bytes(
            Semihosting::BMP_SEMIHOSTING_CONSOLE_READ,
            &[Argument::int(data.len() as i64)],
            data,
        )
    }

    fn open(&mut self, name: &[u8], mode: u32) -> i32 {
        call::semihosting_int(
            Semihosting::BMP_SEMIHOSTING_OPEN,
            &[Argument::str(name), Argument::int(i64::from(mode))],
        )
    }

    fn close(&mut self, handle: i32) -> i32 {
        call::semihosting_int(
            Semihosting::BMP_SEMIHOSTING_CLOSE,
            &[Argument::int(i64::from(handle))],
        )
    }

    fn write(&mut self, handle: i32, data: &[u8]) -> i32 {
        call::semihosting_int(
            Semihosting::BMP_SEMIHOSTING_WRITE,
            &[Argument::int(i64::from(handle)), Argument::bytes(data)],
        )
    }

    fn read(&mut self, handle: i32, data: &mut [u8]) -> i32 {
        call::semihosting_bytes(
            Semihosting::BMP_SEMIHOSTING_READ,
            &[
                Argument::int(i64::from(handle)),
                Argument::int(data.len() as i64),
            ],
            data,
        )
    }

    fn seek(&mut self, handle: i32, position: u32) -> i32 {
        call::semihosting_int(
            Semihosting::BMP_SEMIHOSTING_SEEK,
            &[
                Argument::int(i64::from(handle)),
                Argument::int(i64::from(position)),
            ],
        )
    }

    fn flen(&mut self, handle: i32) -> i32 {
        call::semihosting_int(
            Semihosting::BMP_SEMIHOSTING_FLEN,
            &[Argument::int(i64::from(handle))],
        )
    }

    fn remove(&mut self, name: &[u8]) -> i32 {
        call::semihosting_int(Semihosting::BMP_SEMIHOSTING_REMOVE, &[Argument::str(name)])
    }

    fn rename(&mut self, from: &[u8], to: &[u8]) -> i32 {
        call::semihosting_int(
            Semihosting::BMP_SEMIHOSTING_RENAME,
            &[Argument::str(from), Argument::str(to)],
        )
    }

    fn system(&mut self, command: &[u8]) -> i32 {
        call::semihosting_int(
            Semihosting::BMP_SEMIHOSTING_SYSTEM,
            &[Argument::str(command)],
        )
    }

    fn errno(&mut self) -> i32 {
        call::semihosting_int(Semihosting::BMP_SEMIHOSTING_ERRNO, &[])
    }

    fn time(&mut self) -> u32 {
        call::semihosting_int(Semihosting::BMP_SEMIHOSTING_TIME, &[]) as u32
    }
}

#[cfg(feature = "host")]
const VERSION: &str = concat!(
    "bmp ",
    env!("CARGO_PKG_VERSION"),
    ": GDB server of the host probe (MicroPython unix port)"
);
#[cfg(not(feature = "host"))]
const VERSION: &str = concat!(
    "bmp ",
    env!("CARGO_PKG_VERSION"),
    ": GDB server on MicroPython firmware"
);
