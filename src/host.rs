//! Pin backends of the host probe (feature `host`): see `link` for how BMP_WIRE picks one.
#![forbid(unsafe_code)]

use crate::link::NoWire;
use dap::SwoMode;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use wire::Pins;
use wire::clock::{Calibration, Clocked};
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

/// A probe board's GPIO pin code against a model of its GPIO registers wired to the
/// simulated blue pill, with the board's calibrated delay between edges.
pub type ModelledBoard = Clocked<
    pins::stm32_gpio::Stm32Pins<pins::gpio_model::GpioModel<sim::port::Sim<sim::chip::Chip>>>,
    pins::SpinDelay,
>;

pub enum HostPins {
    /// The simulated blue pill, in-process.
    Simulated(Box<sim::port::Sim<sim::chip::Chip>>),
    /// `sim:rp2040`: the simulated RP2040, both cores behind the SWD multi-drop wire.
    SimulatedMultiCore(Box<sim::port::Sim<sim::chip::MultiCore>>),
    Remote(Box<RemoteBitbang<TcpLink>>),
    /// `gpio-model[:BOARD]`: the board's pin code on the host (see [`ModelledBoard`]).
    ModelledBoard(Box<ModelledBoard>),
    /// `gpiochip:...`: a Linux GPIO chip's lines (a Raspberry Pi), bit-banged.
    GpioChip(Box<Clocked<pins::gpiochip::GpioChip, pins::SpinDelay>>),
}

/// The delay loop's calibration until `dap.calibrate()` measures or sets one: a guess that
/// keeps the clock below the request (an edge costing nothing, a loop iteration 1 ns).
const UNCALIBRATED: Calibration = Calibration {
    loops_at_1khz: 500_000,
    max_hz: u32::MAX,
};

/// `gpio-model[:BOARD]`: BOARD is stlink3mini (default), pybd_sf2 or devebox_stm32h7.
fn open_modelled_board(setting: &str) -> Result<HostPins, NoWire> {
    use pins::gpio_model::GpioModel;
    use pins::stm32_gpio::Stm32Pins;
    let name = setting
        .strip_prefix("gpio-model")
        .unwrap_or("")
        .trim_start_matches(':');
    let board = if name.is_empty() {
        pins::boards::STLINK3MINI
    } else {
        pins::boards::by_name(name).ok_or(NoWire::Backend(
            "BMP_WIRE=gpio-model:BOARD: BOARD is stlink3mini, pybd_sf2 or devebox_stm32h7",
        ))?
    };
    let HostPins::Simulated(simulator) = open_simulator("sim")? else {
        unreachable!("open_simulator opens the simulator");
    };
    let model = GpioModel::new(*simulator, board.pins);
    let gpio = Stm32Pins::new(model, board.pins)
        .map_err(|_| NoWire::Backend("gpio-model: the board's pin map does not fit"))?;
    Ok(HostPins::ModelledBoard(Box::new(Clocked::new(
        gpio,
        pins::SpinDelay,
        UNCALIBRATED,
    ))))
}

/// `gpiochip:DEVICE:swclk=N,swdio=N[,srst=N][,tdi=N][,tdo=N]`.
fn open_gpiochip(setting: &str) -> Result<HostPins, NoWire> {
    let spec = pins::gpiochip_spec::Spec::parse(setting)
        .map_err(|error| NoWire::Backend(error.message()))?;
    let chip =
        pins::gpiochip::GpioChip::open(&spec).map_err(|error| NoWire::Backend(error.message()))?;
    Ok(HostPins::GpioChip(Box::new(Clocked::new(
        chip,
        pins::SpinDelay,
        UNCALIBRATED,
    ))))
}

impl HostPins {
    /// Bit-banged pins take the delay loop's calibration; the simulator and
    /// remote_bitbang keep their own clocks.
    pub fn set_calibration(&mut self, calibration: Calibration) {
        match self {
            HostPins::ModelledBoard(pins) => pins.set_calibration(calibration),
            HostPins::GpioChip(pins) => pins.set_calibration(calibration),
            HostPins::Simulated(_) | HostPins::SimulatedMultiCore(_) | HostPins::Remote(_) => {}
        }
    }

    /// The pins without a calibrated delay, as `dap.calibrate()` measures them.
    pub fn raw(&mut self) -> &mut dyn Pins {
        match self {
            HostPins::Simulated(pins) => &mut **pins,
            HostPins::SimulatedMultiCore(pins) => &mut **pins,
            HostPins::Remote(pins) => &mut **pins,
            HostPins::ModelledBoard(pins) => pins.pins_mut(),
            HostPins::GpioChip(pins) => pins.pins_mut(),
        }
    }

    fn pins(&mut self) -> &mut dyn Pins {
        match self {
            HostPins::Simulated(pins) => &mut **pins,
            HostPins::SimulatedMultiCore(pins) => &mut **pins,
            HostPins::Remote(pins) => &mut **pins,
            HostPins::ModelledBoard(pins) => &mut **pins,
            HostPins::GpioChip(pins) => &mut **pins,
        }
    }
}

/// `sim[:CHIP]`: the simulated target, with BMP_SIM_FIRMWARE preloaded if set.
fn open_simulator(setting: &str) -> Result<HostPins, NoWire> {
    use sim::chip::{Chip, Variant};
    let variant = match setting
        .strip_prefix("sim")
        .unwrap_or("")
        .trim_start_matches(':')
    {
        "" => Variant::Stm32f103c8,
        name => Variant::from_name(name).ok_or(NoWire::Backend(
            "BMP_WIRE=sim:CHIP: CHIP is one of the chips `bmp-sim --help` lists",
        ))?,
    };
    if variant == Variant::Rp2040 {
        if std::env::var_os("BMP_SIM_FIRMWARE").is_some() {
            return Err(NoWire::Backend(
                "BMP_SIM_FIRMWARE is not supported for the rp2040 (its flash is behind XIP): load it through the probe",
            ));
        }
        let mut simulator = sim::port::Sim::new(sim::chip::MultiCore::rp2040());
        configure_simulator(&mut simulator)?;
        return Ok(HostPins::SimulatedMultiCore(Box::new(simulator)));
    }
    let mut chip = Chip::new(variant);
    if let Ok(path) = std::env::var("BMP_SIM_FIRMWARE") {
        chip.load_firmware(std::path::Path::new(&path))
            .map_err(|_| {
                NoWire::Backend("BMP_SIM_FIRMWARE: cannot load that file (ELF or .bin)")
            })?;
    }
    let mut simulator = sim::port::Sim::new(chip);
    configure_simulator(&mut simulator)?;
    Ok(HostPins::Simulated(Box::new(simulator)))
}

/// The simulator's clock and faults as the environment says.
fn configure_simulator<B: sim::bus::Bus>(simulator: &mut sim::port::Sim<B>) -> Result<(), NoWire> {
    // The target keeps running in wall-clock time between probe accesses, as a real one
    // does (clients' timeouts are in wall time); BMP_SIM_REALTIME=0 leaves only the
    // virtual clock of the wire (deterministic benchmarks).
    simulator.set_real_time(std::env::var("BMP_SIM_REALTIME").map_or(true, |value| value != "0"));
    // Fault injection (fault campaigns, docs/reliability.md): BMP_SIM_FAULTS=wait=1e-3,...
    if let Ok(faults) = std::env::var("BMP_SIM_FAULTS") {
        let config = sim::FaultConfig::parse(&faults).map_err(|_| {
            NoWire::Backend(
                "BMP_SIM_FAULTS: KIND=RATE,... with KIND one of bmp-sim's fault options",
            )
        })?;
        simulator.set_faults(config);
    }
    Ok(())
}

/// `bmp.pinout()` on the host: what BMP_WIRE names (a modelled board's pins in full).
pub fn write_pinout(out: &mut dyn core::fmt::Write) -> core::fmt::Result {
    let setting = std::env::var("BMP_WIRE").unwrap_or_default();
    if let Some(name) = setting.strip_prefix("gpio-model") {
        let name = name.trim_start_matches(':');
        let board = if name.is_empty() {
            Some(pins::boards::STLINK3MINI)
        } else {
            pins::boards::by_name(name)
        };
        if let Some(board) = board {
            writeln!(
                out,
                "BMP_WIRE={setting}: the board's GPIO code on a model of its registers"
            )?;
            return board.write_pinout(out);
        }
    }
    if setting.is_empty() || setting.starts_with("sim") {
        return writeln!(
            out,
            "BMP_WIRE=sim: the in-process simulated target, no pins"
        );
    }
    writeln!(out, "BMP_WIRE={setting}")
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
        return Ok(HostPins::Remote(Box::new(RemoteBitbang::new(TcpLink(
            stream,
        )))));
    }
    if setting.is_empty() || setting.starts_with("sim") {
        return open_simulator(&setting);
    }
    if setting.starts_with("gpio-model") {
        return open_modelled_board(&setting);
    }
    if setting.starts_with("gpiochip") {
        return open_gpiochip(&setting);
    }
    Err(NoWire::Backend(
        "BMP_WIRE must be sim[:CHIP], remote_bitbang:HOST:PORT, gpio-model[:BOARD] or gpiochip:DEVICE:swclk=N,swdio=N[,srst=N]",
    ))
}

/// The simulated target's virtual time (ns) as the wire last left it, and whether the wire
/// is a simulator at all: the debug session's clock (`link::ProbeClock::target`) counts the
/// engine's limits in it, not in the host's time. The simulated core runs only when the wire
/// moves (BMP_SIM_REALTIME=0) or as fast as the host lets it, a backlog dropped, so a
/// wall-clock limit can expire while the host is busy and the target had no time at all.
static SIMULATED_NS: AtomicU64 = AtomicU64::new(0);
static SIMULATED: AtomicBool = AtomicBool::new(false);

/// The simulated target's clock in microseconds, if the wire is a simulator.
pub fn simulated_micros() -> Option<u64> {
    SIMULATED
        .load(Ordering::Relaxed)
        .then(|| SIMULATED_NS.load(Ordering::Relaxed) / 1000)
}

impl HostPins {
    /// Publish the simulator's clock for [`simulated_micros`].
    fn publish_simulated_time(&mut self) {
        let now = match self {
            HostPins::Simulated(simulator) => simulator.now_ns(),
            HostPins::SimulatedMultiCore(simulator) => simulator.now_ns(),
            HostPins::ModelledBoard(board) => board.pins_mut().bus().far().now_ns(),
            HostPins::Remote(_) | HostPins::GpioChip(_) => return,
        };
        SIMULATED_NS.store(now, Ordering::Relaxed);
        SIMULATED.store(true, Ordering::Relaxed);
    }
}

impl Pins for HostPins {
    /// Virtual time passes at a rising edge: then it is published.
    fn set_swclk(&mut self, high: bool) {
        self.pins().set_swclk(high);
        if high {
            self.publish_simulated_time();
        }
    }
    fn set_swdio(&mut self, high: bool) {
        self.pins().set_swdio(high)
    }
    fn swdio_output(&mut self, enable: bool) {
        self.pins().swdio_output(enable)
    }
    fn read_swdio(&mut self) -> bool {
        self.pins().read_swdio()
    }
    fn set_tdi(&mut self, high: bool) {
        self.pins().set_tdi(high)
    }
    fn read_tdo(&mut self) -> bool {
        self.pins().read_tdo()
    }
    fn read_reset(&mut self) -> bool {
        self.pins().read_reset()
    }
    fn set_reset(&mut self, asserted: bool) {
        self.pins().set_reset(asserted)
    }
    /// On the modelled board the simulated target's clock follows what the calibrated
    /// delay gives, so its virtual time is the board's.
    fn set_frequency(&mut self, hz: u32) -> u32 {
        let actual = self.pins().set_frequency(hz);
        if let HostPins::ModelledBoard(pins) = self {
            pins.pins_mut().bus().far().set_frequency(actual);
        }
        actual
    }
}

/// The simulated target, if the wire is one.
fn simulator(pins: &mut HostPins) -> Option<&mut sim::port::Sim<sim::chip::Chip>> {
    match pins {
        HostPins::Simulated(simulator) => Some(&mut **simulator),
        HostPins::ModelledBoard(board) => Some(board.pins_mut().bus().far()),
        _ => None,
    }
}

/// The SWO bytes the simulated target has sent since the last call (its TPIU's output,
/// timed in virtual time; virtual time first catches up with the wall clock). None when the
/// wire is not the simulator.
pub fn take_swo(pins: &mut HostPins) -> Option<Vec<u8>> {
    take_swo_sent(pins).map(|sent| sent.into_iter().map(|(byte, _)| byte).collect())
}

/// [`take_swo`], each byte with the rate and protocol it was sent in.
fn take_swo_sent(pins: &mut HostPins) -> Option<Vec<(u8, sim::chip::SwoFormat)>> {
    let simulator = simulator(pins)?;
    simulator.idle(0);
    let mut sent = Vec::new();
    simulator.bus_mut().take_swo_sent(&mut sent);
    Some(sent)
}

/// The host probe's serial lines for `dap`, both to the simulated target.
///
/// SWO receiver (DAP_SWO_*): the target's SWO pin, read as a UART (NRZ) or Manchester
/// receiver at the rate DAP_SWO_Baudrate set. The bytes get through only when the
/// receiver's mode is the TPIU's protocol (TPIU_SPPR) and its rate is within 3% of the
/// TPIU's (TRACECLKIN / (TPIU_ACPR + 1)): the tolerance OpenOCD asks of a probe's UART
/// (`cmsis_dap.c`, `calculate_swo_prescaler`). Otherwise they are lost and reported as
/// framing errors, as a receiver at the wrong rate would see them.
///
/// UART bridge (DAP_UART_*): wired to the target's USART1 (PA9/PA10 on the blue pill;
/// `sim::soc::usart`). Any format CMSIS-DAP names and any rate up to 4.5 Mbit/s (the
/// USART's fastest at 72 MHz). A byte gets through when both ends use the same format and
/// rates within 3%; else it is lost with a framing error.
#[derive(Default)]
pub struct SimulatedSerial {
    /// The wire is the simulator (else neither line).
    simulated: bool,
    /// SWO received, not yet handed to the processor.
    swo_pending: VecDeque<u8>,
    /// The UART's format, once configured.
    uart_format: Option<sim::soc::usart::LineFormat>,
    /// UART bytes received, not yet handed to the processor.
    uart_pending: VecDeque<u8>,
}

/// Received bytes kept for the processor before new ones are dropped.
const PENDING_LIMIT: usize = 64 * 1024;
/// Fastest SWO the receiver takes: the simulated TPIU's fastest, TPIU_ACPR = 0.
const SWO_MAX_BAUDRATE: u32 = sim::chip::CORE_HZ as u32;
/// Fastest UART: 72 MHz / 16 (RM0008 27.3.4, 16x oversampling).
const UART_MAX_BAUDRATE: u32 = (sim::chip::CORE_HZ / 16) as u32;

impl SimulatedSerial {
    pub fn new(pins: &mut HostPins) -> Self {
        Self {
            simulated: simulator(pins).is_some(),
            ..Self::default()
        }
    }
}

/// `rate` within 3% of `baudrate`.
fn rates_match(rate: u64, baudrate: u32) -> bool {
    let baudrate = u64::from(baudrate);
    rate.abs_diff(baudrate) * 100 <= 3 * rate
}

/// Hand out up to `buffer.len()` bytes of `pending`.
fn hand_out(pending: &mut VecDeque<u8>, buffer: &mut [u8]) -> usize {
    let count = buffer.len().min(pending.len());
    for (slot, byte) in buffer.iter_mut().zip(pending.drain(..count)) {
        *slot = byte;
    }
    count
}

/// Keep `bytes`, as many as there is room for.
fn keep(pending: &mut VecDeque<u8>, bytes: Vec<u8>) {
    let room = PENDING_LIMIT.saturating_sub(pending.len());
    pending.extend(bytes.into_iter().take(room));
}

impl dap::pins::Serial<HostPins> for SimulatedSerial {
    fn swo_modes(&self) -> [Option<SwoMode>; 2] {
        if self.simulated {
            [Some(SwoMode::Uart), Some(SwoMode::Manchester)]
        } else {
            [None, None]
        }
    }

    fn swo_baudrate(&mut self, requested: u32) -> u32 {
        if self.simulated && (1..=SWO_MAX_BAUDRATE).contains(&requested) {
            requested
        } else {
            0
        }
    }

    fn swo_read(
        &mut self,
        pins: &mut HostPins,
        mode: SwoMode,
        baudrate: u32,
        buffer: &mut [u8],
    ) -> (usize, bool) {
        let mut framing_error = false;
        let mut received = Vec::new();
        for (byte, sent) in take_swo_sent(pins).unwrap_or_default() {
            if sent.nrz == (mode == SwoMode::Uart) && rates_match(sent.rate, baudrate) {
                received.push(byte);
            } else {
                framing_error = true;
            }
        }
        keep(&mut self.swo_pending, received);
        (hand_out(&mut self.swo_pending, buffer), framing_error)
    }

    fn has_uart(&self) -> bool {
        self.simulated
    }

    fn uart_configure(
        &mut self,
        _pins: &mut HostPins,
        format: dap::UartFormat,
        baudrate: u32,
    ) -> Result<u32, dap::UartFault> {
        use sim::soc::usart::{LineFormat, Parity};
        if !self.simulated {
            return Err(dap::UartFault::all());
        }
        if !(1..=UART_MAX_BAUDRATE).contains(&baudrate) {
            return Ok(0);
        }
        self.uart_format = Some(LineFormat {
            baudrate,
            data_bits: format.data_bits,
            parity: match format.parity {
                dap::Parity::None => Parity::None,
                dap::Parity::Even => Parity::Even,
                dap::Parity::Odd => Parity::Odd,
            },
            stop_half_bits: 2 * format.stop_bits,
        });
        self.uart_pending.clear();
        Ok(baudrate)
    }

    fn uart_read(&mut self, pins: &mut HostPins, buffer: &mut [u8]) -> (usize, dap::UartErrors) {
        let mut errors = dap::UartErrors::empty();
        if let (Some(ours), Some(simulator)) = (self.uart_format, simulator(pins)) {
            simulator.idle(0);
            let mut bytes = Vec::new();
            let sent_as = simulator.bus_mut().take_uart(&mut bytes);
            if sent_as.is_some_and(|theirs| ours.reads(&theirs)) {
                keep(&mut self.uart_pending, bytes);
            } else if !bytes.is_empty() {
                errors |= dap::UartErrors::FRAMING;
            }
        }
        (hand_out(&mut self.uart_pending, buffer), errors)
    }

    fn uart_write(&mut self, pins: &mut HostPins, data: &[u8]) -> usize {
        let (Some(ours), Some(simulator)) = (self.uart_format, simulator(pins)) else {
            return 0;
        };
        simulator.idle(0);
        simulator.bus_mut().send_uart(data, ours)
    }
}

/// The simulated wire's counters now (virtual time, SWCLK cycles), if the pins are a
/// simulator's: the CMSIS-DAP server's request log (BMP_DAP_LOG) stamps requests with them.
pub fn simulated_clock(pins: &mut HostPins) -> Option<sim::Statistics> {
    match pins {
        HostPins::Simulated(simulator) => Some(simulator.statistics()),
        HostPins::ModelledBoard(board) => Some(board.pins_mut().bus().far().statistics()),
        HostPins::SimulatedMultiCore(simulator) => Some(simulator.statistics()),
        _ => None,
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
    let (now, frequency, flash) = match pins {
        HostPins::Simulated(simulator) => {
            let flash = simulator.bus_mut().take_flash_activity();
            (simulator.statistics(), simulator.frequency(), flash)
        }
        HostPins::ModelledBoard(board) => {
            let simulator = board.pins_mut().bus().far();
            let flash = simulator.bus_mut().take_flash_activity();
            (simulator.statistics(), simulator.frequency(), flash)
        }
        // The RP2040's cores share one QSPI flash: core 0's SoC reports it.
        HostPins::SimulatedMultiCore(simulator) => {
            let flash = simulator
                .bus_mut()
                .core(0)
                .map(|core| core.take_flash_activity())
                .unwrap_or_default();
            (simulator.statistics(), simulator.frequency(), flash)
        }
        _ => return,
    };
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let before = last.unwrap_or_default();
    let cycles = now.clock_cycles - before.clock_cycles;
    eprintln!(
        "bmp statistics: swclk_hz={} clock_cycles={} transactions={} wait={} fault={} virtual_ns={}",
        frequency,
        cycles,
        now.transactions - before.transactions,
        now.wait - before.wait,
        now.fault - before.fault,
        now.virtual_time_ns - before.virtual_time_ns,
    );
    // The flash's own time against the span of its operations (virtual time).
    eprintln!(
        "bmp flash: operations={} busy_ns={} idle_ns={} longest_idle_ns={} span_ns={}",
        flash.operations,
        flash.busy_ns,
        flash.idle_ns,
        flash.longest_idle_ns,
        flash
            .first_start_ns
            .map_or(0, |first| flash.last_end_ns - first),
    );
    *last = Some(now);
}
