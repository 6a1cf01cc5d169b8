//! `monitor` commands (GDB's qRcmd): the probe's own commands and the attached chip's.

use crate::target::{FlashRegion, FlashWriter, Host, ResetKind, Target};
use core::fmt::Write;

/// How long a halt may take before the target counts as lost, unless set.
const DEFAULT_HALT_TIMEOUT_MS: u32 = 2000;

/// Settings the monitor commands change. All zero at start, so a server in a static costs
/// no flash for its initial value (it lands in .bss).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Hold nRST while scanning (connect under reset).
    pub connect_under_reset: bool,
    /// `halt_timeout` in milliseconds; None: the default.
    halt_timeout_ms: Option<core::num::NonZeroU32>,
    /// Why the last vFlash packet failed (gdb says only "Error writing data to flash"),
    /// for `flash_report`; empty after a load that went through.
    last_flash_error: heapless::String<LAST_FLASH_ERROR_BYTES>,
}

/// Bytes of a flash error kept for `flash_report` (an algorithm's timeout message fits).
const LAST_FLASH_ERROR_BYTES: usize = 160;

impl Settings {
    pub const fn new() -> Self {
        Self {
            connect_under_reset: false,
            halt_timeout_ms: None,
            last_flash_error: heapless::String::new(),
        }
    }

    /// Keep why a vFlash packet failed (cut at LAST_FLASH_ERROR_BYTES); None: it went through.
    pub fn set_flash_error(&mut self, error: Option<&dyn core::fmt::Display>) {
        self.last_flash_error.clear();
        if let Some(error) = error {
            let _ = write!(Cut(&mut self.last_flash_error), "{error}");
        }
    }

    pub fn halt_timeout_ms(&self) -> u32 {
        self.halt_timeout_ms
            .map_or(DEFAULT_HALT_TIMEOUT_MS, |ms| ms.get())
    }

    /// 0 means the default.
    pub fn set_halt_timeout_ms(&mut self, ms: u32) {
        self.halt_timeout_ms = core::num::NonZeroU32::new(ms);
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::new()
    }
}

/// One monitor command: its name, what runs it and its help line (as Black Magic Probe's
/// command table keeps them together).
struct Command<T, H> {
    name: &'static str,
    run: fn(&mut Call<'_, T, H>) -> Result<(), Failed>,
    help: &'static str,
}

/// What a command works on: its arguments (trimmed), the target, the host, the settings and
/// the output.
struct Call<'a, T, H> {
    arguments: &'a str,
    target: &'a mut T,
    host: &'a mut H,
    settings: &'a mut Settings,
    out: &'a mut dyn Write,
}

/// The probe's commands, in the order `monitor help` lists them.
fn commands<T: Target, H: Host>() -> [Command<T, H>; 18] {
    [
        Command {
            name: "version",
            run: version,
            help: "Display the firmware version",
        },
        Command {
            name: "help",
            run: |call| help::<T, H>(call.target, call.out),
            help: "Display help for monitor commands",
        },
        Command {
            name: "swdp_scan",
            run: |call| scan("swdp_scan", call),
            help: "Scan SW-DP for devices: [connect_rst]",
        },
        Command {
            name: "jtag_scan",
            run: |call| scan("jtag_scan", call),
            help: "Scan JTAG chain for devices: [connect_rst]",
        },
        Command {
            name: "targets",
            run: |call| {
                list_targets(call.target, call.out);
                Ok(())
            },
            help: "Display list of available targets",
        },
        Command {
            name: "frequency",
            run: frequency,
            help: "Set or show the SWCLK/TCK frequency: [Hz, or with k/M]",
        },
        Command {
            name: "reset",
            run: reset,
            help: "Reset the attached target and halt it at the reset vector: [system|processor|hardware] (SYSRESETREQ, VECTRESET, nRST; a device's debug sequences if loaded)",
        },
        Command {
            name: "halt_timeout",
            run: halt_timeout,
            help: "Timeout to wait for a target to halt: [ms] (0: the default, 2000)",
        },
        Command {
            name: "connect_rst",
            run: connect_rst,
            help: "Hold nRST while scanning: [enable|disable]",
        },
        Command {
            name: "hard_srst",
            run: |call| report(call.target.hard_reset(), call.out),
            help: "Pulse nRST",
        },
        Command {
            name: "erase_mass",
            run: erase_mass,
            help: "Erase all of the target's flash",
        },
        Command {
            name: "recover",
            run: recover,
            help: "Erase and unlock a protected chip the scan named (nRF52 APPROTECT: CTRL-AP ERASEALL; SAMD21 security bit: DSU chip erase, then hard_srst); scan again after",
        },
        Command {
            name: "flash_report",
            run: flash_report,
            help: "Show what loads did (pages skipped, erased, programmed) and how CRCs were taken",
        },
        Command {
            name: "algorithm",
            run: algorithm,
            help: "Flash algorithms: [load <FLM file on the probe> [address it must write] | off]; alone: the flash regions and what writes each",
        },
        Command {
            name: "crc_routine",
            run: crc_routine,
            help: "CRCs on the target's core or read back: [on|off|timeout <us> (0: default)]",
        },
        Command {
            name: "python",
            run: python,
            help: "Evaluate Python on the probe: <expression> (bmp.repl_fun)",
        },
        Command {
            name: "traceswo",
            run: traceswo,
            help: "Start trace capture and decoding: [decode [CHANNEL_NR ...]] | disable",
        },
        Command {
            name: "rtt",
            run: rtt,
            help: "SEGGER RTT: [enable|disable|status|channel [N...]|ident [STR]|ram [START END]|poll [MAX MIN ERRS]|cblock]",
        },
    ]
}

/// Why a command failed; the text has been written to the output already.
#[derive(Debug, PartialEq, Eq)]
pub struct Failed;

/// Run one command line.
pub fn run<T: Target, H: Host>(
    line: &str,
    target: &mut T,
    host: &mut H,
    settings: &mut Settings,
    out: &mut dyn Write,
) -> Result<(), Failed> {
    let line = line.trim();
    let (name, arguments) = match line.split_once(char::is_whitespace) {
        Some((name, arguments)) => (name, arguments.trim()),
        None => (line, ""),
    };
    if name.is_empty() {
        return help::<T, H>(target, out);
    }
    let mut chip = false;
    target.chip_commands(&mut |command, _| chip |= command == name);
    if chip {
        return report(target.chip_command(name, arguments, out), out);
    }
    // An exact name, or else a unique prefix, as in GDB itself ("mon swd" for swdp_scan).
    let commands = commands::<T, H>();
    let exact = commands.iter().find(|command| command.name == name);
    let mut prefixed = commands
        .iter()
        .filter(|command| command.name.starts_with(name));
    let command = match (exact, prefixed.next(), prefixed.next()) {
        (Some(command), _, _) | (None, Some(command), None) => command,
        (None, Some(_), Some(_)) => {
            return fail(out, format_args!("Ambiguous command: {name}\n"));
        }
        (None, None, _) => {
            return fail(
                out,
                format_args!("Unknown command: {name} (monitor help lists them)\n"),
            );
        }
    };
    (command.run)(&mut Call {
        arguments,
        target,
        host,
        settings,
        out,
    })
}

fn version<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    let _ = writeln!(call.out, "{}", call.host.version());
    Ok(())
}

fn reset<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    let kind = match call.arguments {
        "" => None,
        name => match ResetKind::from_name(name) {
            Some(kind) => Some(kind),
            None => {
                return fail(
                    call.out,
                    format_args!("reset: system, processor or hardware, not {name}\n"),
                );
            }
        },
    };
    match kind {
        None => report(call.target.reset(true), call.out)?,
        Some(kind) => report(call.target.reset_kind(kind, true), call.out)?,
    }
    let _ = match kind {
        None => writeln!(call.out, "Target reset, halted at the reset vector"),
        Some(kind) => writeln!(
            call.out,
            "Target reset ({}), halted at the reset vector",
            kind.name()
        ),
    };
    Ok(())
}

fn halt_timeout<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    let arguments = call.arguments;
    if !arguments.is_empty() {
        let Some(value) = parse_number(arguments) else {
            return fail(
                call.out,
                format_args!("halt_timeout: not a number: {arguments}\n"),
            );
        };
        call.settings.set_halt_timeout_ms(value);
    }
    let ms = call.settings.halt_timeout_ms();
    let _ = writeln!(call.out, "Halt timeout: {ms} ms");
    Ok(())
}

fn connect_rst<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    let settings = &mut call.settings;
    match call.arguments {
        "" => {}
        "enable" | "on" | "1" => settings.connect_under_reset = true,
        "disable" | "off" | "0" => settings.connect_under_reset = false,
        _ => return fail(call.out, format_args!("connect_rst: enable or disable\n")),
    }
    let state = if settings.connect_under_reset {
        "enabled"
    } else {
        "disabled"
    };
    let _ = writeln!(call.out, "Assert nRST during scan: {state}");
    Ok(())
}

fn crc_routine<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    let (mut on_target, mut timeout) = call.target.crc_routine();
    let mut words = call.arguments.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (None, _, _) => {}
        (Some("on" | "enable"), None, _) => on_target = true,
        (Some("off" | "disable"), None, _) => on_target = false,
        (Some("timeout"), Some(micros), None) => match parse_number(micros) {
            Some(0) => timeout = None,
            Some(micros) => timeout = Some(u64::from(micros)),
            None => {
                return fail(
                    call.out,
                    format_args!("crc_routine: not a number: {micros}\n"),
                );
            }
        },
        _ => {
            return fail(
                call.out,
                format_args!("crc_routine: on, off or timeout <microseconds>\n"),
            );
        }
    }
    call.target.set_crc_routine(on_target, timeout);
    let state = if on_target {
        "on the target's core"
    } else {
        "read back"
    };
    let _ = match timeout {
        Some(micros) => writeln!(call.out, "CRCs: {state}; routine time limit {micros} us"),
        None => writeln!(call.out, "CRCs: {state}; routine time limit: the default"),
    };
    Ok(())
}

fn flash_report<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    let error = &call.settings.last_flash_error;
    if !error.is_empty() {
        let _ = writeln!(call.out, "The last load failed: {error}");
    }
    report(call.target.flash_report(call.out), call.out)
}

/// Text written into a fixed string, cut (at a character boundary) where it is full.
struct Cut<'a, const N: usize>(&'a mut heapless::String<N>);

impl<const N: usize> Write for Cut<'_, N> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        for character in text.chars() {
            if self.0.push(character).is_err() {
                break;
            }
        }
        Ok(())
    }
}

fn erase_mass<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    report(call.target.flash_mass_erase(), call.out)?;
    let _ = writeln!(call.out, "Flash erased");
    Ok(())
}

fn recover<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    report(call.target.recover(), call.out)?;
    let _ = writeln!(call.out, "Chip erased and unlocked: scan again");
    Ok(())
}

/// `algorithm`: list the flash regions and their writers; `algorithm load FILE
/// [ADDRESS]`: use an FLM from the probe's filesystem (ADDRESS: refuse one that does not
/// write it); `algorithm off`: back to the chip's driver.
fn algorithm<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    let mut words = call.arguments.split_whitespace();
    match (words.next(), words.next(), words.next(), words.next()) {
        (None, ..) => return flash_regions(call.target, call.out),
        (Some("off"), None, ..) => {
            report(call.target.clear_flash_algorithm(), call.out)?;
            let _ = writeln!(
                call.out,
                "No flash algorithm: the chip's driver writes its flash"
            );
        }
        (Some("load"), Some(path), address, None) => {
            let address = match address.map(parse_number) {
                None => None,
                Some(Some(address)) => Some(address),
                Some(None) => {
                    return fail(
                        call.out,
                        format_args!("algorithm: not an address: {}\n", address.unwrap_or("")),
                    );
                }
            };
            let (start, length) = match call.target.load_flash_algorithm(path) {
                Ok(flash) => flash,
                Err(error) => {
                    return fail(call.out, format_args!("algorithm load {path}: {error}\n"));
                }
            };
            let end = u64::from(start) + u64::from(length);
            if let Some(address) = address.filter(|&a| a < start || u64::from(a) >= end) {
                let _ = call.target.clear_flash_algorithm();
                return fail(
                    call.out,
                    format_args!(
                        "algorithm load {path}: it writes 0x{start:08x}-0x{end:08x}, not 0x{address:08x}; no algorithm in use\n"
                    ),
                );
            }
            let _ = writeln!(
                call.out,
                "Flash algorithm {path} writes 0x{start:08x}-0x{end:08x}"
            );
            if call.target.attached().is_some() {
                flash_regions(call.target, call.out)?;
                let _ = writeln!(
                    call.out,
                    "gdb reads the memory map when it attaches: attach again for it to see this"
                );
            }
        }
        _ => {
            return fail(
                call.out,
                format_args!("algorithm: [load <FLM file> [address] | off]\n"),
            );
        }
    }
    Ok(())
}

/// The attached target's flash regions, each with what writes it.
fn flash_regions<T: Target>(target: &T, out: &mut dyn Write) -> Result<(), Failed> {
    let mut count = 0;
    let listed = target.flash_regions(&mut |region: FlashRegion<'_>| {
        if count == 0 {
            let _ = writeln!(out, "Flash regions:");
        }
        count += 1;
        let end = u64::from(region.start) + u64::from(region.length);
        let _ = write!(
            out,
            "  0x{:08x}-0x{end:08x} sectors 0x{:x}: ",
            region.start, region.sector
        );
        let _ = match region.writer {
            FlashWriter::Driver(name) => writeln!(out, "driver {name}"),
            FlashWriter::Algorithm(name) => writeln!(out, "algorithm \"{name}\""),
        };
    });
    report(listed, out)?;
    if count == 0 {
        let _ = writeln!(
            out,
            "No flash regions: no driver for this chip (monitor algorithm load <FLM file>)"
        );
    }
    Ok(())
}

fn python<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    match call.host.python(call.arguments, call.out) {
        Ok(()) => {
            let _ = writeln!(call.out);
            Ok(())
        }
        Err(message) => fail(call.out, format_args!("{message}\n")),
    }
}

/// Black Magic Probe's `traceswo [decode [CHANNEL ...]]`: on (all stimulus ports, or
/// those listed), `traceswo disable`: off. The decoded text goes to the probe's console
/// (or bmp.disp_fun()); the SWO baud rate is the receiver's business, not an argument here.
fn traceswo<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    let mut words = call.arguments.split_whitespace();
    let mut channels = u32::MAX;
    match words.next() {
        None => {}
        Some("disable") => channels = 0,
        Some("decode") => {
            let mut listed = 0u32;
            for word in words {
                match word.parse::<u32>() {
                    Ok(port) if port < 32 => listed |= 1 << port,
                    _ => {
                        return fail(
                            call.out,
                            format_args!("traceswo: channels are stimulus ports 0..31\n"),
                        );
                    }
                }
            }
            if listed != 0 {
                channels = listed;
            }
        }
        Some(_) => {
            return fail(
                call.out,
                format_args!("traceswo: [decode [CHANNEL_NR ...]] or disable\n"),
            );
        }
    }
    if let Err(message) = call.target.traceswo(channels) {
        return fail(call.out, format_args!("{message}\n"));
    }
    let _ = match channels {
        0 => writeln!(call.out, "Trace disabled"),
        u32::MAX => writeln!(call.out, "Trace enabled, decoding all channels"),
        _ => {
            let _ = write!(call.out, "Trace enabled, decoding channels");
            for port in (0..32).filter(|port| channels & (1 << port) != 0) {
                let _ = write!(call.out, " {port}");
            }
            writeln!(call.out)
        }
    };
    Ok(())
}

fn rtt<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    let Some(rtt) = call.target.rtt() else {
        return fail(call.out, format_args!("rtt: not available on this probe\n"));
    };
    crate::monitor_rtt::run(call.arguments, rtt, call.out)
        .or_else(|message| fail(call.out, format_args!("{message}\n")))
}

fn help<T: Target, H: Host>(target: &T, out: &mut dyn Write) -> Result<(), Failed> {
    let _ = writeln!(out, "General commands:");
    for command in commands::<T, H>() {
        let _ = writeln!(out, "\t{} -- {}", command.name, command.help);
    }
    let mut first = true;
    target.chip_commands(&mut |name, text| {
        if first {
            let _ = writeln!(out, "Target commands:");
            first = false;
        }
        let _ = writeln!(out, "\t{name} -- {text}");
    });
    Ok(())
}

fn scan<T: Target, H: Host>(command: &str, call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    let (arguments, target, out) = (call.arguments, &mut *call.target, &mut *call.out);
    let under_reset = match arguments {
        "" => call.settings.connect_under_reset,
        "connect_rst" | "rst" => true,
        _ => {
            return fail(
                out,
                format_args!("{command}: unknown argument {arguments}\n"),
            );
        }
    };
    let result = match command {
        "swdp_scan" => target.swdp_scan(under_reset),
        _ => target.jtag_scan(under_reset),
    };
    if let Err(error) = result {
        let wire = if command == "swdp_scan" {
            "SW-DP"
        } else {
            "JTAG"
        };
        return fail(out, format_args!("{wire} scan failed: {error}\n"));
    }
    list_targets(target, out);
    Ok(())
}

fn list_targets<T: Target>(target: &T, out: &mut dyn Write) {
    let attached = target.attached();
    let mut count = 0;
    target.for_each_target(&mut |listed| {
        if count == 0 {
            let _ = writeln!(out, "Available Targets:\nNo. Att Driver");
        }
        count += 1;
        let mark = if attached == Some(listed.number) {
            "*"
        } else {
            " "
        };
        let _ = writeln!(
            out,
            "{:2}   {mark} {} {}",
            listed.number, listed.driver, listed.core
        );
    });
    if count == 0 {
        let _ = writeln!(out, "No usable targets found.");
    }
}

fn frequency<T: Target, H: Host>(call: &mut Call<'_, T, H>) -> Result<(), Failed> {
    let (arguments, target, out) = (call.arguments, &mut *call.target, &mut *call.out);
    if !arguments.is_empty() {
        let Some(hz) = parse_frequency(arguments) else {
            return fail(
                out,
                format_args!("frequency: not a frequency: {arguments}\n"),
            );
        };
        report(target.set_frequency(hz).map(|_| ()), out)?;
    }
    match target.frequency() {
        Some(hz) => {
            let _ = writeln!(out, "Current SWCLK/TCK frequency: {hz} Hz");
        }
        None => {
            let _ = writeln!(out, "The wire's frequency is not known until a scan");
        }
    }
    Ok(())
}

fn parse_number(text: &str) -> Option<u32> {
    match text.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// "4000000", "4000k", "4M", "4MHz".
fn parse_frequency(text: &str) -> Option<u32> {
    let text = text.trim_end_matches("Hz").trim_end_matches("hz");
    let (digits, scale) = match text.as_bytes().last()? {
        b'k' | b'K' => (&text[..text.len() - 1], 1_000),
        b'M' | b'm' => (&text[..text.len() - 1], 1_000_000),
        _ => (text, 1),
    };
    digits
        .parse::<u32>()
        .ok()?
        .checked_mul(scale)
        .filter(|&hz| hz > 0)
}

fn report<E: core::fmt::Display>(result: Result<(), E>, out: &mut dyn Write) -> Result<(), Failed> {
    result.or_else(|error| fail(out, format_args!("{error}\n")))
}

fn fail(out: &mut dyn Write, message: core::fmt::Arguments<'_>) -> Result<(), Failed> {
    let _ = out.write_fmt(message);
    Err(Failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies() {
        assert_eq!(parse_frequency("4000000"), Some(4_000_000));
        assert_eq!(parse_frequency("4M"), Some(4_000_000));
        assert_eq!(parse_frequency("4MHz"), Some(4_000_000));
        assert_eq!(parse_frequency("250k"), Some(250_000));
        assert_eq!(parse_frequency("0"), None);
        assert_eq!(parse_frequency("fast"), None);
        assert_eq!(parse_frequency("99999999M"), None);
    }
}
