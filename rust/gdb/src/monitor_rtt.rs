//! `monitor rtt`: Black Magic Probe's RTT subcommands (UsingRTT.md), on the engine's RTT
//! host (debug::rtt). Subcommands match by prefix.
//!
//! | command | effect |
//! |---|---|
//! | `rtt`, `rtt enable` / `rtt disable` | on (and search again) / off |
//! | `rtt status` | on/off, found, ident, channels, RAM range, poll limits, counters |
//! | `rtt channel` / `rtt channel N...` | automatic (up 0, down 0) / these (up first, then down) |
//! | `rtt ident STR` / `rtt ident` | search for STR (`_` for a space) / for "SEGGER RTT" |
//! | `rtt ram` / `rtt ram START END` | scan all RAM / only [START, END) (hex) |
//! | `rtt poll MAX MIN ERRS` | poll interval limits (ms) and errors before giving up |
//! | `rtt cblock` | the control block's address and every channel's descriptor |

use core::fmt::Write;
use debug::rtt::{Descriptor, Found, MAX_CHANNELS, Rtt};
use heapless::Vec;

/// One subcommand: its name (matched by prefix), what runs it with the words after the
/// name, and its usage for `rtt help` (empty: not listed).
struct Subcommand {
    name: &'static str,
    run: fn(&mut Rtt, Words<'_>, &mut dyn Write) -> Result<(), &'static str>,
    usage: &'static str,
}

type Words<'a> = core::str::SplitWhitespace<'a>;

const SUBCOMMANDS: [Subcommand; 9] = [
    Subcommand {
        name: "enable",
        run: |rtt, _, out| enable(rtt, true, out),
        usage: "enable",
    },
    Subcommand {
        name: "disable",
        run: |rtt, _, out| enable(rtt, false, out),
        usage: "disable",
    },
    Subcommand {
        name: "status",
        run: |rtt, _, out| {
            status(rtt, out);
            Ok(())
        },
        usage: "status",
    },
    Subcommand {
        name: "channel",
        run: channel,
        usage: "channel [N...]",
    },
    Subcommand {
        name: "ident",
        run: ident,
        usage: "ident [STR]",
    },
    Subcommand {
        name: "ram",
        run: ram_range,
        usage: "ram [START END]",
    },
    Subcommand {
        name: "poll",
        run: poll_limits,
        usage: "poll [MAX MIN ERRS]",
    },
    Subcommand {
        name: "cblock",
        run: |rtt, _, out| {
            cblock(rtt, out);
            Ok(())
        },
        usage: "cblock",
    },
    Subcommand {
        name: "help",
        run: |_, _, out| {
            help(out);
            Ok(())
        },
        usage: "",
    },
];

/// Run `rtt ARGUMENTS`; Err with the text for the user.
pub fn run(arguments: &str, rtt: &mut Rtt, out: &mut dyn Write) -> Result<(), &'static str> {
    let mut words = arguments.split_whitespace();
    let Some(word) = words.next() else {
        return enable(rtt, true, out);
    };
    let mut matches = SUBCOMMANDS
        .iter()
        .filter(|subcommand| subcommand.name.starts_with(word));
    let (Some(subcommand), None) = (matches.next(), matches.next()) else {
        return Err("rtt: unknown or ambiguous subcommand (monitor rtt help lists them)");
    };
    (subcommand.run)(rtt, words, out)
}

fn enable(rtt: &mut Rtt, on: bool, out: &mut dyn Write) -> Result<(), &'static str> {
    rtt.enable(on);
    let _ = writeln!(out, "RTT {}", if on { "enabled" } else { "disabled" });
    Ok(())
}

/// Numbers in decimal, at most `N` of them.
fn parse_numbers<const N: usize>(
    words: Words<'_>,
    bad: &'static str,
    too_many: &'static str,
) -> Result<Vec<u32, N>, &'static str> {
    let mut numbers = Vec::new();
    for word in words {
        numbers
            .push(word.parse().map_err(|_| bad)?)
            .map_err(|_| too_many)?;
    }
    Ok(numbers)
}

fn channel(rtt: &mut Rtt, words: Words<'_>, out: &mut dyn Write) -> Result<(), &'static str> {
    let numbers: Vec<u32, { 2 * MAX_CHANNELS }> = parse_numbers(
        words,
        "rtt channel: numbers 0..15",
        "rtt channel: too many numbers",
    )?;
    let selection = (!numbers.is_empty()).then_some(&numbers[..]);
    rtt.select_channels(selection)
        .map_err(|_| "rtt channel: numbers 0..15 of listed channels (up first, then down)")?;
    channels(rtt, out);
    Ok(())
}

fn ident(rtt: &mut Rtt, mut words: Words<'_>, out: &mut dyn Write) -> Result<(), &'static str> {
    let mut ident = [0u8; 16];
    let text = words.next().unwrap_or("");
    if text.len() >= ident.len() {
        return Err("rtt ident: 1 to 15 characters");
    }
    for (slot, byte) in ident.iter_mut().zip(text.bytes()) {
        *slot = if byte == b'_' { b' ' } else { byte };
    }
    rtt.config
        .set_ident(&ident[..text.len()])
        .map_err(|_| "rtt ident: 1 to 15 characters")?;
    rtt.search_again();
    let _ = writeln!(out, "RTT ident: {}", Ident(rtt.config.ident()));
    Ok(())
}

fn ram_range(rtt: &mut Rtt, mut words: Words<'_>, out: &mut dyn Write) -> Result<(), &'static str> {
    let range = match (words.next(), words.next()) {
        (None, _) => None,
        (Some(start), Some(end)) => Some((
            parse_hex(start).ok_or("rtt ram: START END in hex")?,
            parse_hex(end).ok_or("rtt ram: START END in hex")?,
        )),
        (Some(_), None) => return Err("rtt ram: START END in hex, or nothing"),
    };
    rtt.config
        .set_scan_range(range)
        .map_err(|_| "rtt ram: END must be above START")?;
    rtt.search_again();
    ram(rtt, out);
    Ok(())
}

fn poll_limits(rtt: &mut Rtt, words: Words<'_>, out: &mut dyn Write) -> Result<(), &'static str> {
    let values: Vec<u32, 3> = parse_numbers(
        words,
        "rtt poll: MAX MIN ERRS (numbers)",
        "rtt poll: MAX MIN ERRS",
    )?;
    match values[..] {
        [] => {}
        [max, min, errors] => rtt
            .config
            .set_poll(max, min, errors)
            .map_err(|_| "rtt poll: MAX MIN ERRS with 1 <= MIN <= MAX")?,
        _ => return Err("rtt poll: MAX MIN ERRS"),
    }
    poll(rtt, out);
    Ok(())
}

fn help(out: &mut dyn Write) {
    let _ = write!(out, "rtt [");
    let listed = SUBCOMMANDS
        .iter()
        .filter(|subcommand| !subcommand.usage.is_empty());
    for (index, subcommand) in listed.enumerate() {
        let _ = write!(
            out,
            "{}{}",
            if index > 0 { "|" } else { "" },
            subcommand.usage
        );
    }
    let _ = writeln!(out, "]");
}

struct Ident<'a>(&'a [u8]);

impl core::fmt::Display for Ident<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for &byte in self.0 {
            f.write_char(byte as char)?;
        }
        Ok(())
    }
}

fn parse_hex(text: &str) -> Option<u32> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    u32::from_str_radix(digits, 16).ok()
}

fn status(rtt: &Rtt, out: &mut dyn Write) {
    let state = if rtt.config.enabled { "on" } else { "off" };
    let _ = write!(out, "rtt: {state}");
    if rtt.gave_up {
        let _ = write!(out, " (switched off after {} errors)", rtt.errors);
    }
    let _ = match rtt.found {
        Found::At(address) => write!(out, " found: yes, at 0x{address:08X}"),
        Found::Searching => write!(out, " found: no (searching)"),
        Found::NotFound => write!(out, " found: no"),
    };
    let _ = writeln!(out, " ident: \"{}\" halt: no", Ident(rtt.config.ident()));
    channels(rtt, out);
    ram(rtt, out);
    poll(rtt, out);
    let counters = &rtt.counters;
    let _ = writeln!(
        out,
        "up {} bytes, down {} bytes, dropped {} bytes, {} polls, {} searches",
        counters.up_bytes, counters.down_bytes, counters.dropped, counters.polls, counters.searches
    );
    if let Some(corruption) = rtt.corruption {
        let _ = writeln!(out, "corrupt control block: {corruption}");
    }
}

fn channels(rtt: &Rtt, out: &mut dyn Write) {
    let _ = write!(out, "channels: up");
    for channel in 0..MAX_CHANNELS {
        if rtt.config.up_channels & (1 << channel) != 0 {
            let _ = write!(out, " {channel}");
        }
    }
    match rtt.config.down_channel {
        Some(channel) => {
            let _ = writeln!(out, ", down {channel}");
        }
        None => {
            let _ = writeln!(out, ", no down channel");
        }
    }
}

fn ram(rtt: &Rtt, out: &mut dyn Write) {
    let _ = match rtt.config.scan_range {
        Some((start, end)) => writeln!(out, "ram: 0x{start:08X} 0x{end:08X}"),
        None => writeln!(out, "ram: all RAM of the memory map"),
    };
}

fn poll(rtt: &Rtt, out: &mut dyn Write) {
    let config = &rtt.config;
    let _ = writeln!(
        out,
        "max poll ms: {} min poll ms: {} max errs: {} (now every {} ms)",
        config.max_poll_ms, config.min_poll_ms, config.max_errors, rtt.interval_ms
    );
}

fn cblock(rtt: &Rtt, out: &mut dyn Write) {
    let Found::At(address) = rtt.found else {
        let _ = writeln!(out, "rtt: no control block found");
        return;
    };
    let _ = writeln!(
        out,
        "cbaddr: 0x{address:08X} up: {} down: {}",
        rtt.up_listed, rtt.down_listed
    );
    let _ = writeln!(out, "ch ena dir buffer     size  head  tail  flag");
    let up = rtt.up.iter().enumerate().map(|(index, d)| (index, true, d));
    let down = rtt
        .down
        .iter()
        .enumerate()
        .map(|(index, d)| (index, false, d));
    let up_count = (rtt.up_listed as usize).min(MAX_CHANNELS);
    let down_count = (rtt.down_listed as usize).min(MAX_CHANNELS);
    for (index, is_up, descriptor) in up.take(up_count).chain(down.take(down_count)) {
        let number = if is_up { index } else { up_count + index };
        let enabled = if is_up {
            rtt.config.up_channels & (1 << index) != 0
        } else {
            rtt.config.down_channel == Some(index as u8)
        };
        let direction = if is_up { "out" } else { "in " };
        let enabled = if enabled { "y" } else { "n" };
        match descriptor {
            Some(Descriptor {
                buffer,
                size,
                write,
                read,
                flags,
                ..
            }) => {
                let _ = writeln!(
                    out,
                    "{number:2}  {enabled}  {direction} 0x{buffer:08X} {size:5} {write:5} {read:5} {flags:5}"
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "{number:2}  {enabled}  {direction} (unused or corrupt)"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(rtt: &mut Rtt, arguments: &str) -> Result<String, &'static str> {
        let mut out = String::new();
        run(arguments, rtt, &mut out).map(|()| out)
    }

    #[test]
    fn enable_status_and_settings() {
        let mut rtt = Rtt::new();
        assert_eq!(command(&mut rtt, "").unwrap(), "RTT enabled\n");
        assert!(rtt.config.enabled);
        let status = command(&mut rtt, "stat").unwrap();
        assert!(status.starts_with("rtt: on found: no (searching) ident: \"SEGGER RTT\""));
        assert!(status.contains("channels: up 0, down 0\n"));
        assert!(status.contains("max poll ms: 256 min poll ms: 8 max errs: 10"));
        assert_eq!(
            command(&mut rtt, "ident my_rtt").unwrap(),
            "RTT ident: my rtt\n"
        );
        assert_eq!(rtt.config.ident(), b"my rtt");
        command(&mut rtt, "ident").unwrap();
        assert_eq!(rtt.config.ident(), b"SEGGER RTT");
        assert_eq!(
            command(&mut rtt, "ram 20000000 20001000").unwrap(),
            "ram: 0x20000000 0x20001000\n"
        );
        assert!(
            command(&mut rtt, "poll 100 2 5")
                .unwrap()
                .starts_with("max poll ms: 100 min poll ms: 2 max errs: 5")
        );
        assert_eq!(
            command(&mut rtt, "channel 0 1").unwrap(),
            "channels: up 0 1, no down channel\n"
        );
        assert_eq!(
            command(&mut rtt, "channel").unwrap(),
            "channels: up 0, down 0\n"
        );
        assert_eq!(
            command(&mut rtt, "cblock").unwrap(),
            "rtt: no control block found\n"
        );
        assert_eq!(command(&mut rtt, "disable").unwrap(), "RTT disabled\n");
        assert!(!rtt.config.enabled);
    }

    #[test]
    fn bad_arguments_are_refused_and_change_nothing() {
        let mut rtt = Rtt::new();
        for bad in [
            "frobnicate",
            "channel x",
            "channel 16",
            "ident this_is_far_too_long",
            "ram 2000",
            "ram 3000 2000",
            "ram zz 10",
            "poll 8 16 1",
            "poll 1 2",
        ] {
            assert!(command(&mut rtt, bad).is_err(), "{bad}");
        }
        assert!(!rtt.config.enabled);
        assert_eq!(rtt.config.ident(), b"SEGGER RTT");
        assert_eq!(rtt.config.scan_range, None);
        assert_eq!(rtt.config.max_poll_ms, 256);
    }

    /// Every row but help's is in the usage line; any prefix of one name runs it.
    #[test]
    fn help_lists_the_rows_and_prefixes_pick_one() {
        let mut rtt = Rtt::new();
        assert_eq!(
            command(&mut rtt, "help").unwrap(),
            "rtt [enable|disable|status|channel [N...]|ident [STR]|ram [START END]|\
             poll [MAX MIN ERRS]|cblock]\n"
        );
        assert_eq!(command(&mut rtt, "dis").unwrap(), "RTT disabled\n");
        assert!(command(&mut rtt, "c").is_err(), "channel or cblock");
        assert_eq!(
            command(&mut rtt, "cb").unwrap(),
            "rtt: no control block found\n"
        );
        assert!(command(&mut rtt, "poll 1 2 3 4").is_err());
    }
}
