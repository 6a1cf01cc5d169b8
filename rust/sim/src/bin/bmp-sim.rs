//! bmp-sim: the simulated blue pill as a remote_bitbang server (OpenOCD's protocol with its
//! SWD extension), one client at a time.

use sim::bus::Bus;
use sim::chip::{Chip, MultiCore, Variant};
use sim::port::remote_bitbang::{Ending, serve_client};
use sim::{FaultConfig, Sim};
use std::fmt;
use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: bmp-sim [OPTIONS]

A simulated STM32F103 \"blue pill\" at its SWD/JTAG pins, served over TCP with OpenOCD's
remote_bitbang protocol (JTAG and SWD requests). Once listening it prints
\"bmp-sim: <chip> listening on <address>\".

options:
  --chip NAME            the simulated chip (default stm32f103c8; the list is below)
  --firmware FILE        an ELF or a raw .bin to load into flash first
  --listen ADDRESS       where to listen (default 127.0.0.1:3335; port 0 picks one)
  --statistics           after each client, print the wire counters to stderr
  --virtual-time         time passes only with clock cycles and sleeps, deterministically
                         (for benchmarks); the default is the wall clock: the target runs
                         while the client is quiet, as silicon does, so clients that wait
                         on their own clock (OpenOCD's flash drivers) work
  --real-time            the wall clock (the default)
  --help                 this text

fault injection (probabilities from 0 to 1, per transaction; default 0):
  --seed N               seed of the pseudo-random choices (default 1)
  --wait P               the DP answers WAIT, the transaction does not happen
  --fault P              an AP transaction fails with a bus error (STICKYERR, FAULT)
  --no-answer P          the target does not answer a request
  --read-parity P        read data comes with a wrong parity bit
  --power-off P          the target loses power (no answer, then a power-on reset)
  --power-off-time US    how long a power loss lasts, in microseconds of virtual time
                         (default 1000)
";

const DEFAULT_LISTEN: &str = "127.0.0.1:3335";

struct Options {
    chip: &'static str,
    variant: Variant,
    firmware: Option<PathBuf>,
    listen: String,
    statistics: bool,
    real_time: bool,
    faults: FaultConfig,
}

enum Command {
    Help,
    Run(Options),
}

#[derive(Debug, PartialEq, Eq)]
enum UsageError {
    UnknownOption(String),
    MissingValue(String),
    /// A value given to an option that takes none (`--statistics=yes`).
    UnexpectedValue(String),
    BadValue {
        option: String,
        value: String,
        expected: &'static str,
    },
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::UnknownOption(option) => write!(f, "unknown option {option}"),
            UsageError::MissingValue(option) => write!(f, "{option} needs a value"),
            UsageError::UnexpectedValue(option) => write!(f, "{option} takes no value"),
            UsageError::BadValue {
                option,
                value,
                expected,
            } => write!(f, "{option} {value}: expected {expected}"),
        }
    }
}

fn bad_value(option: &str, value: &str, expected: &'static str) -> UsageError {
    UsageError::BadValue {
        option: option.to_string(),
        value: value.to_string(),
        expected,
    }
}

fn parse_chip(option: &str, value: &str) -> Result<(&'static str, Variant), UsageError> {
    Variant::from_name(value)
        .map(|variant| (variant.name(), variant))
        .ok_or_else(|| bad_value(option, value, "one of the chips --help lists"))
}

fn parse_probability(option: &str, value: &str) -> Result<f64, UsageError> {
    match value.parse::<f64>() {
        Ok(probability) if (0.0..=1.0).contains(&probability) => Ok(probability),
        _ => Err(bad_value(option, value, "a probability from 0 to 1")),
    }
}

fn parse_number(option: &str, value: &str) -> Result<u64, UsageError> {
    value
        .parse()
        .map_err(|_| bad_value(option, value, "a whole number"))
}

fn parse(arguments: impl IntoIterator<Item = String>) -> Result<Command, UsageError> {
    use lexopt::Arg::{Long, Short, Value};
    let mut options = Options {
        chip: Variant::Stm32f103c8.name(),
        variant: Variant::Stm32f103c8,
        firmware: None,
        listen: DEFAULT_LISTEN.to_string(),
        statistics: false,
        real_time: true,
        faults: FaultConfig::default(),
    };
    let mut parser = lexopt::Parser::from_iter(std::iter::once(String::new()).chain(arguments));
    while let Some(argument) = parser.next()? {
        let option = match argument {
            Long("help") | Short('h') => return Ok(Command::Help),
            Long("statistics") => {
                options.statistics = true;
                continue;
            }
            Long("real-time") => {
                options.real_time = true;
                continue;
            }
            Long("virtual-time") => {
                options.real_time = false;
                continue;
            }
            Long(name) => format!("--{name}"),
            Short(letter) => return Err(UsageError::UnknownOption(format!("-{letter}"))),
            Value(value) => return Err(UsageError::UnknownOption(value.to_string_lossy().into())),
        };
        if !is_valued(&option) {
            return Err(UsageError::UnknownOption(option));
        }
        let value = parser.value()?;
        apply(&mut options, &option, &value.to_string_lossy())?;
    }
    Ok(Command::Run(options))
}

impl From<lexopt::Error> for UsageError {
    fn from(error: lexopt::Error) -> Self {
        match error {
            lexopt::Error::MissingValue {
                option: Some(option),
            } => UsageError::MissingValue(option),
            lexopt::Error::UnexpectedValue { option, .. } => UsageError::UnexpectedValue(option),
            other => UsageError::UnknownOption(other.to_string()),
        }
    }
}

fn is_valued(option: &str) -> bool {
    matches!(
        option,
        "--chip"
            | "--firmware"
            | "--listen"
            | "--seed"
            | "--wait"
            | "--fault"
            | "--no-answer"
            | "--read-parity"
            | "--power-off"
            | "--power-off-time"
    )
}

fn apply(options: &mut Options, option: &str, value: &str) -> Result<(), UsageError> {
    let faults = &mut options.faults;
    match option {
        "--chip" => (options.chip, options.variant) = parse_chip(option, value)?,
        "--firmware" => options.firmware = Some(PathBuf::from(value)),
        "--listen" => options.listen = value.to_string(),
        "--seed" => faults.seed = parse_number(option, value)?,
        "--wait" => faults.wait = parse_probability(option, value)?,
        "--fault" => faults.fault = parse_probability(option, value)?,
        "--no-answer" => faults.no_answer = parse_probability(option, value)?,
        "--read-parity" => faults.read_parity = parse_probability(option, value)?,
        "--power-off" => faults.power_off = parse_probability(option, value)?,
        "--power-off-time" => faults.power_off_ns = parse_number(option, value)? * 1000,
        _ => return Err(UsageError::UnknownOption(option.to_string())),
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            let names: Vec<&str> = Variant::ALL.iter().map(|variant| variant.name()).collect();
            println!("\nchips: {}", names.join(", "));
            ExitCode::SUCCESS
        }
        Ok(Command::Run(options)) => run(options),
        Err(error) => {
            eprintln!("bmp-sim: {error} (see bmp-sim --help)");
            ExitCode::from(2)
        }
    }
}

fn run(options: Options) -> ExitCode {
    let bus: Box<dyn Bus> = if options.variant == Variant::Rp2040 {
        if options.firmware.is_some() {
            eprintln!(
                "bmp-sim: --firmware is not supported for the rp2040 yet (its flash is behind XIP)"
            );
            return ExitCode::FAILURE;
        }
        Box::new(MultiCore::rp2040())
    } else {
        let mut chip = Chip::new(options.variant);
        if let Some(path) = &options.firmware {
            let loaded = std::fs::metadata(path)
                .map_err(|error| error.to_string())
                .and_then(|_| chip.load_firmware(path));
            if let Err(error) = loaded {
                eprintln!("bmp-sim: {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
        }
        Box::new(chip)
    };
    let listener = match TcpListener::bind(&options.listen) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("bmp-sim: cannot listen on {}: {error}", options.listen);
            return ExitCode::FAILURE;
        }
    };
    let address = listener
        .local_addr()
        .map_or(options.listen.clone(), |address| address.to_string());
    let mut sim = Sim::new(bus);
    sim.set_faults(options.faults);
    sim.set_real_time(options.real_time);
    println!("bmp-sim: {} listening on {address}", options.chip);
    let _ = std::io::stdout().flush();
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(error) => {
                eprintln!("bmp-sim: accept: {error}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match serve_client(&mut sim, stream) {
            Ok(Ending::Quit) | Ok(Ending::Closed) => {}
            Err(error) => eprintln!("bmp-sim: client: {error}"),
        }
        if options.statistics {
            eprintln!("bmp-sim: {:?}", sim.statistics());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_options(arguments: &[&str]) -> Result<Options, UsageError> {
        match parse(arguments.iter().map(|argument| argument.to_string()))? {
            Command::Run(options) => Ok(options),
            Command::Help => panic!("help"),
        }
    }

    #[test]
    fn defaults() {
        let options = run_options(&[]).unwrap();
        assert_eq!(options.chip, "stm32f103c8");
        assert_eq!(options.listen, DEFAULT_LISTEN);
        assert_eq!(options.faults, FaultConfig::default());
        assert!(options.real_time, "the wall clock is the default");
    }

    #[test]
    fn virtual_time_for_benchmarks() {
        assert!(!run_options(&["--virtual-time"]).unwrap().real_time);
        assert!(
            run_options(&["--virtual-time", "--real-time"])
                .unwrap()
                .real_time
        );
    }

    #[test]
    fn every_option() {
        let options = run_options(&[
            "--chip",
            "cks32f103c8",
            "--firmware=blink.elf",
            "--listen",
            "127.0.0.1:0",
            "--statistics",
            "--real-time",
            "--seed",
            "7",
            "--wait",
            "0.1",
            "--fault=0.2",
            "--no-answer",
            "0.3",
            "--read-parity",
            "0.4",
            "--power-off",
            "0.5",
            "--power-off-time",
            "20",
        ])
        .unwrap();
        assert_eq!(options.chip, "cks32f103c8");
        assert_eq!(options.firmware, Some(PathBuf::from("blink.elf")));
        assert_eq!(options.listen, "127.0.0.1:0");
        assert!(options.statistics && options.real_time);
        let faults = options.faults;
        assert_eq!((faults.seed, faults.wait, faults.fault), (7, 0.1, 0.2));
        assert_eq!((faults.no_answer, faults.read_parity), (0.3, 0.4));
        assert_eq!((faults.power_off, faults.power_off_ns), (0.5, 20_000));
    }

    #[test]
    fn clear_errors() {
        let error = |arguments: &[&str]| run_options(arguments).err().unwrap().to_string();
        assert_eq!(error(&["--bogus"]), "unknown option --bogus");
        assert_eq!(error(&["--chip"]), "--chip needs a value");
        assert_eq!(
            error(&["--chip", "stm32f407"]),
            "--chip stm32f407: expected one of the chips --help lists"
        );
        assert_eq!(
            error(&["--wait", "2"]),
            "--wait 2: expected a probability from 0 to 1"
        );
        assert_eq!(error(&["stray"]), "unknown option stray");
        assert_eq!(error(&["--statistics=1"]), "--statistics takes no value");
        assert!(matches!(parse(["--help".to_string()]), Ok(Command::Help)));
    }
}
