//! The GDB server: one client, one target, all-stop mode. `receive()` takes what the
//! client sent and answers every complete packet; `poll()` watches a running target and
//! reports its stop, serving semihosting calls on the way. Neither blocks.
//!
//! Packets: GDB manual E.2 "Packets", E.3 "Stop Reply Packets", E.4 "General Query
//! Packets", E.10 "Host I/O" (not used), E.11 "Interrupts", E.12 "Packet Acknowledgment".

use crate::hex;
use crate::monitor::{self, Settings};
use crate::packet::{Decoder, Encoder, Event};
use crate::semihosting::{self, Outcome};
use crate::target::{BreakWatch, HaltReason, HaltStatus, Host, REGISTER_COUNT, Target, WatchKind};
use core::fmt::Write;

/// Largest packet body accepted (advertised as PacketSize).
pub const PACKET_SIZE: usize = 4096;
/// Largest memory read in one `m` (its hex reply fills a packet).
pub const MAX_MEMORY: usize = PACKET_SIZE / 2;
const REPLY_SIZE: usize = PACKET_SIZE + 32;
/// Monitor output kept per command (longer output is cut).
const CONSOLE_SIZE: usize = 2048;

// Signals in stop replies (GDB's own numbering, include/gdb/signals.def).
const SIGINT: u8 = 2;
const SIGTRAP: u8 = 5;
const SIGABRT: u8 = 6;
const SIGSEGV: u8 = 11;
const SIGLOST: u8 = 29;

/// Why the target last stopped, as the stop reply says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// No program: not attached, or it exited or was killed.
    NoProcess,
    Signal(u8),
    Watch(WatchKind, u32),
}

// repr(u8): Halted is tag 0 (not a niche value), so a server in a static is all zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Run {
    Halted,
    /// Resumed; `interrupted_at` is when the client asked it to stop.
    Running {
        interrupted_at: Option<u64>,
    },
}

/// Monitor output collected during one command.
struct Console {
    text: heapless::Vec<u8, CONSOLE_SIZE>,
}

impl Write for Console {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let taken = text.len().min(CONSOLE_SIZE - self.text.len());
        let _ = self.text.extend_from_slice(&text.as_bytes()[..taken]); // fits: cut to room
        Ok(())
    }
}

pub struct Server {
    decoder: Decoder<PACKET_SIZE>,
    session: Session,
}

/// Everything but the decoder, so a decoded packet can be handled while borrowed.
struct Session {
    reply: Encoder<REPLY_SIZE>,
    scratch: [u8; MAX_MEMORY],
    console: Console,
    no_ack: bool,
    run: Run,
    stop: Stop,
    settings: Settings,
    /// SYS_CLOCK and SYS_ELAPSED count from the first resume.
    started_micros: Option<u64>,
    files: semihosting::Files,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    pub const fn new() -> Self {
        Self {
            decoder: Decoder::new(),
            session: Session {
                reply: Encoder::new(),
                scratch: [0; MAX_MEMORY],
                console: Console {
                    text: heapless::Vec::new(),
                },
                no_ack: false,
                run: Run::Halted,
                stop: Stop::NoProcess,
                settings: Settings::new(),
                started_micros: None,
                files: semihosting::Files::new(),
            },
        }
    }

    /// A new client: back to acknowledged mode; the target and settings stay as they are.
    pub fn connected(&mut self) {
        self.decoder.reset();
        self.session.no_ack = false;
    }

    /// The target runs on behalf of the client (poll() has work to do).
    pub fn is_running(&self) -> bool {
        matches!(self.session.run, Run::Running { .. })
    }

    pub fn settings(&mut self) -> &mut Settings {
        &mut self.session.settings
    }

    /// Handle the bytes the client sent.
    pub fn receive<T: Target, H: Host>(&mut self, target: &mut T, host: &mut H, data: &[u8]) {
        let Self { decoder, session } = self;
        for &byte in data {
            match decoder.feed(byte) {
                None | Some(Event::Ack) => {}
                Some(Event::Nak) => {
                    if !session.no_ack {
                        host.send(session.reply.last());
                    }
                }
                Some(Event::Damaged) => {
                    if !session.no_ack {
                        host.send(b"-");
                    }
                }
                Some(Event::Interrupt) => session.interrupt(target, host),
                Some(Event::Oversized) => {
                    session.acknowledge(host);
                    session.error(0x16); // EINVAL: E.2 leaves the number to the stub
                    session.send(host);
                }
                Some(Event::Packet(packet)) => {
                    session.acknowledge(host);
                    if session.packet(packet, target, host) {
                        session.send(host);
                    }
                }
            }
        }
    }

    /// Watch a running target: report its stop, serve semihosting calls.
    pub fn poll<T: Target, H: Host>(&mut self, target: &mut T, host: &mut H) {
        self.session.poll(target, host);
    }

    /// The client is gone. Only the protocol state is dropped: a target it left running
    /// keeps running, as after `detach`.
    pub fn disconnected(&mut self) {
        self.decoder.reset();
        self.session.no_ack = false;
        self.session.run = Run::Halted;
    }
}

impl Session {
    fn acknowledge<H: Host>(&mut self, host: &mut H) {
        if !self.no_ack {
            host.send(b"+");
        }
    }

    fn send<H: Host>(&mut self, host: &mut H) {
        match self.reply.finish() {
            Some(packet) => host.send(packet),
            // A reply that did not fit is a bug; answer something GDB understands.
            None => {
                self.error(0x0C); // ENOMEM
                if let Some(packet) = self.reply.finish() {
                    host.send(packet);
                }
            }
        }
    }

    fn ok(&mut self) -> bool {
        self.reply.start();
        self.reply.text("OK");
        true
    }

    fn empty(&mut self) -> bool {
        self.reply.start();
        true
    }

    fn error(&mut self, code: u8) -> bool {
        self.reply.start();
        self.reply.byte(b'E');
        self.reply.hex_byte(code);
        true
    }

    fn ok_or_error<E>(&mut self, result: Result<(), E>) -> bool {
        match result {
            Ok(()) => self.ok(),
            Err(_) => self.error(0x01),
        }
    }

    /// `E.errtext` (E.1 "Standard Replies"): an error with the target's message. gdb takes
    /// it as an error like `E NN` and shows the text with `set debug remote 1`.
    fn error_text(&mut self, message: impl core::fmt::Display) -> bool {
        self.reply.start();
        let _ = write!(self.reply, "E.{message}"); // an overflow is reported by finish()
        true
    }

    /// A vFlash packet's answer: on an error its text (E.errtext) and, kept for `monitor
    /// flash_report`, the reason gdb does not show.
    fn flash_reply<E: core::fmt::Display>(&mut self, result: Result<(), E>) -> bool {
        match result {
            Ok(()) => self.ok(),
            Err(error) => {
                self.settings.set_flash_error(Some(&error));
                self.error_text(error)
            }
        }
    }

    fn text(&mut self, text: &str) -> bool {
        self.reply.start();
        self.reply.text(text);
        true
    }

    /// Handle one packet; true if `reply` holds the answer to send.
    fn packet<T: Target, H: Host>(&mut self, packet: &[u8], target: &mut T, host: &mut H) -> bool {
        let Some((&command, rest)) = packet.split_first() else {
            return self.empty();
        };
        match command {
            b'?' => {
                if self.stop == Stop::NoProcess && target.attached().is_some() {
                    self.halt_for_client(target, host);
                }
                self.stop_reply()
            }
            b'g' => self.read_registers(target),
            b'G' => self.write_registers(target, rest),
            b'p' => self.read_register(target, rest),
            b'P' => self.write_register(target, rest),
            b'm' => self.read_memory(target, rest),
            b'M' => self.write_memory_hex(target, rest),
            b'X' => self.write_memory_binary(target, rest),
            b'c' | b's' => self.resume(target, host, command == b's', rest),
            b'C' | b'S' => {
                // The signal is not delivered (a bare-metal target has none); an address
                // may follow it.
                let address = hex::split(rest, b';').map_or(&b""[..], |(_, address)| address);
                self.resume(target, host, command == b'S', address)
            }
            b'v' => self.v_packet(target, host, rest),
            b'q' => self.query(target, host, rest),
            b'Q' => self.set(rest),
            b'H' | b'T' => self.ok(), // one thread, always alive
            b'D' => {
                let result = target.detach();
                self.forget_process();
                self.ok_or_error(result)
            }
            b'k' => {
                self.kill(target);
                false // k has no reply (E.2)
            }
            b'R' => {
                let _ = target.reset(true);
                self.stop = Stop::Signal(SIGTRAP);
                false // R has no reply (E.2)
            }
            b'!' => self.ok(),
            b'Z' | b'z' => self.breakwatch(target, command == b'Z', rest),
            _ => self.empty(),
        }
    }

    /// A client arrives while a target is attached (through the `target` module, or
    /// left by the client before): stop it, so the client finds a halted program.
    fn halt_for_client<T: Target, H: Host>(&mut self, target: &mut T, host: &mut H) {
        // A request that fails may have halted the core all the same (the probe reconnected
        // after a power loss and halted it): the polls tell.
        let _ = target.halt_request();
        let start = host.now_micros();
        let timeout = u64::from(self.settings.halt_timeout_ms()) * 1000;
        while host.now_micros() - start <= timeout {
            match target.halt_poll() {
                Ok(HaltStatus::Halted(_)) => {
                    self.stop = Stop::Signal(SIGTRAP);
                    return;
                }
                Ok(HaltStatus::Running) => {}
                Err(_) => return,
            }
        }
    }

    fn forget_process(&mut self) {
        self.run = Run::Halted;
        self.stop = Stop::NoProcess;
    }

    fn kill<T: Target>(&mut self, target: &mut T) {
        // The program is gone for GDB: reset the target and let it go.
        let _ = target.reset(false);
        let _ = target.detach();
        self.forget_process();
    }

    fn stop_reply(&mut self) -> bool {
        self.reply.start();
        match self.stop {
            Stop::NoProcess => self.reply.text("W00"),
            Stop::Signal(signal) => {
                self.reply.byte(b'T');
                self.reply.hex_byte(signal);
                self.reply.text("thread:1;");
            }
            Stop::Watch(kind, address) => {
                self.reply.byte(b'T');
                self.reply.hex_byte(SIGTRAP);
                self.reply.text(match kind {
                    WatchKind::Write => "watch:",
                    WatchKind::Read => "rwatch:",
                    WatchKind::Access => "awatch:",
                });
                self.reply.hex_number(address);
                self.reply.text(";thread:1;");
            }
        }
        true
    }

    fn read_registers<T: Target>(&mut self, target: &mut T) -> bool {
        let mut values = [0u32; REGISTER_COUNT];
        if target.read_registers(&mut values).is_err() {
            return self.error(0x01);
        }
        self.reply.start();
        for value in values {
            self.reply.hex_bytes(&value.to_le_bytes());
        }
        true
    }

    /// G: registers in order; fewer than all leaves the rest as they are.
    fn write_registers<T: Target>(&mut self, target: &mut T, text: &[u8]) -> bool {
        let mut values = [0u32; REGISTER_COUNT];
        if !text.len().is_multiple_of(8) || text.len() > REGISTER_COUNT * 8 {
            return self.error(0x16);
        }
        if target.read_registers(&mut values).is_err() {
            return self.error(0x01);
        }
        for (value, digits) in values.iter_mut().zip(text.chunks_exact(8)) {
            let mut bytes = [0u8; 4];
            if hex::decode(digits, &mut bytes).is_none() {
                return self.error(0x16);
            }
            *value = u32::from_le_bytes(bytes);
        }
        let result = target.write_registers(&values);
        self.ok_or_error(result)
    }

    /// p: one register, as many bytes as the target description gives it.
    fn read_register<T: Target>(&mut self, target: &mut T, text: &[u8]) -> bool {
        let Some(number) = hex::number(text) else {
            return self.error(0x16);
        };
        let number = number as usize;
        let Some(size) = target.register_size(number) else {
            return self.error(0x01);
        };
        match target.read_register_wide(number) {
            Ok(value) => {
                self.reply.start();
                self.reply.hex_bytes(&value.to_le_bytes()[..size]);
                true
            }
            Err(_) => self.error(0x01),
        }
    }

    /// P: one register; the value must have the register's size.
    fn write_register<T: Target>(&mut self, target: &mut T, text: &[u8]) -> bool {
        let Some((number, value)) = hex::split(text, b'=') else {
            return self.error(0x16);
        };
        let Some(number) = hex::number(number) else {
            return self.error(0x16);
        };
        let number = number as usize;
        let Some(size) = target.register_size(number) else {
            return self.error(0x01);
        };
        let mut bytes = [0u8; 8];
        if hex::decode(value, &mut bytes[..size]).is_none() {
            return self.error(0x16);
        }
        let result = target.write_register_wide(number, u64::from_le_bytes(bytes));
        self.ok_or_error(result)
    }

    fn read_memory<T: Target>(&mut self, target: &mut T, text: &[u8]) -> bool {
        let Some((address, length)) = hex::address_length(text) else {
            return self.error(0x16);
        };
        // A shorter reply than asked is allowed (E.2 'm').
        let length = (length as usize).min(MAX_MEMORY);
        let data = &mut self.scratch[..length];
        if target.read_memory(address, data).is_err() {
            return self.error(0x01);
        }
        self.reply.start();
        self.reply.hex_bytes(&self.scratch[..length]);
        true
    }

    fn write_memory_hex<T: Target>(&mut self, target: &mut T, text: &[u8]) -> bool {
        let parsed = hex::split(text, b':').and_then(|(range, data)| {
            let (address, length) = hex::address_length(range)?;
            let buffer = self.scratch.get_mut(..length as usize)?;
            hex::decode(data, buffer)?;
            Some((address, length as usize))
        });
        let Some((address, length)) = parsed else {
            return self.error(0x16);
        };
        let result = target.write_memory(address, &self.scratch[..length]);
        self.ok_or_error(result)
    }

    fn write_memory_binary<T: Target>(&mut self, target: &mut T, text: &[u8]) -> bool {
        let parsed = hex::split(text, b':').and_then(|(range, data)| {
            let (address, length) = hex::address_length(range)?;
            (length as usize == data.len()).then_some((address, data))
        });
        let Some((address, data)) = parsed else {
            return self.error(0x16);
        };
        if data.is_empty() {
            return self.ok(); // GDB's probe for X support
        }
        let result = target.write_memory(address, data);
        self.ok_or_error(result)
    }

    /// c, s, C, S and vCont: resume, optionally at `address`. The stop reply comes from
    /// poll() when the target halts.
    fn resume<T: Target, H: Host>(
        &mut self,
        target: &mut T,
        host: &mut H,
        step: bool,
        address: &[u8],
    ) -> bool {
        if target.attached().is_none() {
            return self.error(0x01);
        }
        if !address.is_empty() {
            let Some(pc) = hex::number(address) else {
                return self.error(0x16);
            };
            if target.write_register(cortexm::PC, pc).is_err() {
                return self.error(0x01);
            }
        }
        if target.resume(step).is_err() {
            return self.error(0x01);
        }
        self.started_micros.get_or_insert_with(|| host.now_micros());
        self.run = Run::Running {
            interrupted_at: None,
        };
        // Running: console packets may go before the stop reply (E.3 `O`).
        self.console.text.clear();
        if target.take_notice(&mut self.console) {
            self.send_console(host);
        }
        false
    }

    fn interrupt<T: Target, H: Host>(&mut self, target: &mut T, host: &mut H) {
        if let Run::Running { interrupted_at } = &mut self.run {
            interrupted_at.get_or_insert_with(|| host.now_micros());
            let _ = target.halt_request();
        }
    }

    fn poll<T: Target, H: Host>(&mut self, target: &mut T, host: &mut H) {
        let Run::Running { interrupted_at } = self.run else {
            return;
        };
        let status = target.halt_poll();
        // A notice now is of a power loss during this run (a resume shows any earlier one):
        // the core was reset, and the probe reconnected and halted it. gdb keeps the
        // program and hears SIGLOST, after the notice or the poll's error on its console.
        self.console.text.clear();
        let power_lost = target.take_notice(&mut self.console);
        let reason = match status {
            Err(error) if power_lost => {
                self.console.text.clear();
                let _ = writeln!(self.console, "{error}");
                return self.stopped_by_power_loss(host);
            }
            Ok(HaltStatus::Halted(_)) if power_lost => return self.stopped_by_power_loss(host),
            Ok(HaltStatus::Halted(reason)) => reason,
            Ok(HaltStatus::Running) => {
                if power_lost {
                    self.send_console(host);
                }
                let timeout = u64::from(self.settings.halt_timeout_ms()) * 1000;
                if interrupted_at.is_some_and(|at| host.now_micros() - at > timeout) {
                    self.lost(
                        host,
                        format_args!("the target did not halt within halt_timeout"),
                    );
                }
                return;
            }
            Err(error) => {
                self.lost(host, format_args!("target lost: {error}"));
                return;
            }
        };
        self.run = Run::Halted;
        self.stop = match reason {
            HaltReason::Request => Stop::Signal(SIGINT),
            HaltReason::Fault => Stop::Signal(SIGSEGV),
            HaltReason::Watchpoint { kind, address } => Stop::Watch(kind, address),
            HaltReason::Semihosting => return self.semihosting(target, host),
            HaltReason::Step | HaltReason::Breakpoint { .. } | HaltReason::Reset => {
                Stop::Signal(SIGTRAP)
            }
        };
        // An interrupt that arrives as the target stops anyway still reads as SIGINT.
        if interrupted_at.is_some() && self.stop == Stop::Signal(SIGTRAP) {
            self.stop = Stop::Signal(SIGINT);
        }
        self.stop_reply();
        self.send(host);
    }

    /// The target lost power while it ran and the probe reconnected: what `console` holds
    /// as `O` lines, then a stop with SIGLOST (`T1D`); the program stays for gdb.
    fn stopped_by_power_loss<H: Host>(&mut self, host: &mut H) {
        self.send_console(host);
        self.run = Run::Halted;
        self.stop = Stop::Signal(SIGLOST);
        self.stop_reply();
        self.send(host);
    }

    /// The target no longer answers: tell the client with an `O` line and `X1D`.
    fn lost<H: Host>(&mut self, host: &mut H, message: core::fmt::Arguments<'_>) {
        self.console.text.clear();
        let _ = writeln!(self.console, "{message}");
        self.send_console(host);
        self.run = Run::Halted;
        self.stop = Stop::NoProcess;
        self.reply.start();
        self.reply.byte(b'X');
        self.reply.hex_byte(SIGLOST);
        self.send(host);
    }

    /// What `console` holds, as console packets ('O', E.3), at most 512 bytes of text each.
    fn send_console<H: Host>(&mut self, host: &mut H) {
        let length = self.console.text.len();
        for start in (0..length).step_by(512) {
            let end = (start + 512).min(length);
            self.reply.start();
            self.reply.byte(b'O');
            self.reply.hex_bytes(&self.console.text[start..end]);
            self.send(host);
        }
    }

    /// The target stopped on BKPT 0xAB: do the call, then resume it after the BKPT, or
    /// report the program's exit.
    fn semihosting<T: Target, H: Host>(&mut self, target: &mut T, host: &mut H) {
        let started_micros = *self.started_micros.get_or_insert_with(|| host.now_micros());
        let registers = (
            target.read_register(0),
            target.read_register(1),
            target.read_register(cortexm::PC),
        );
        let (Ok(operation), Ok(parameter), Ok(pc)) = registers else {
            return self.lost(host, format_args!("semihosting: cannot read the registers"));
        };
        let mut call = semihosting::Call {
            target,
            host,
            files: &mut self.files,
            started_micros,
        };
        let outcome = call
            .serve(operation, parameter)
            .unwrap_or(Outcome::Return(u32::MAX));
        match outcome {
            Outcome::Return(value) => {
                let resumed = target
                    .write_register(0, value)
                    .and_then(|()| target.write_register(cortexm::PC, pc + 2))
                    .and_then(|()| target.resume(false));
                match resumed {
                    Ok(()) => {
                        self.run = Run::Running {
                            interrupted_at: None,
                        }
                    }
                    Err(_) => {
                        self.lost(host, format_args!("semihosting: cannot resume the target"))
                    }
                }
            }
            Outcome::Exit(status) => {
                self.stop = Stop::NoProcess;
                self.reply.start();
                self.reply.byte(b'W');
                self.reply.hex_byte(status);
                self.send(host);
            }
            Outcome::Abort => {
                self.stop = Stop::NoProcess;
                self.reply.start();
                self.reply.byte(b'X');
                self.reply.hex_byte(SIGABRT);
                self.send(host);
            }
        }
    }

    fn breakwatch<T: Target>(&mut self, target: &mut T, set: bool, text: &[u8]) -> bool {
        // "type,addr,kind" and maybe ";cond..." (ignored: conditions stay with GDB).
        let text = hex::split(text, b';').map_or(text, |(head, _)| head);
        let parsed = hex::split(text, b',').and_then(|(kind, range)| {
            let (address, length) = hex::address_length(range)?;
            Some((hex::number(kind)?, address, length))
        });
        let Some((kind, address, length)) = parsed else {
            return self.error(0x16);
        };
        let Some(kind) = BreakWatch::from_gdb(kind) else {
            return self.empty(); // not supported (E.2 'z')
        };
        let result = match set {
            true => target.set_breakwatch(kind, address, length),
            false => target.clear_breakwatch(kind, address, length),
        };
        match result {
            Ok(()) => self.ok(),
            Err(error) => self.error_text(error),
        }
    }

    fn v_packet<T: Target, H: Host>(&mut self, target: &mut T, host: &mut H, text: &[u8]) -> bool {
        let (name, arguments) = match text
            .iter()
            .position(|&byte| matches!(byte, b';' | b':' | b'?'))
        {
            Some(at) => text.split_at(at),
            None => (text, &b""[..]),
        };
        match (name, arguments) {
            (b"Cont", b"?") => self.text("vCont;c;C;s;S"),
            (b"Cont", actions) => self.v_cont(target, host, actions),
            (b"Attach", arguments) => {
                let number = hex::number(arguments.get(1..).unwrap_or(b""));
                match number.map(|number| target.attach(number as usize)) {
                    Some(Ok(())) => {
                        self.stop = Stop::Signal(SIGTRAP);
                        self.started_micros = None;
                        self.stop_reply()
                    }
                    _ => self.error(0x01),
                }
            }
            (b"Run", _) => {
                // Start the program again: from the reset vector, halted there.
                let attached = match target.attached() {
                    Some(_) => Ok(()),
                    None => target.attach(1),
                };
                match attached.and_then(|()| target.reset(true)) {
                    Ok(()) => {
                        self.stop = Stop::Signal(SIGTRAP);
                        self.started_micros = None;
                        self.stop_reply()
                    }
                    Err(_) => self.error(0x01),
                }
            }
            (b"Kill", _) => {
                self.kill(target);
                self.ok()
            }
            (b"FlashErase", arguments) => {
                let Some((address, length)) =
                    hex::address_length(arguments.get(1..).unwrap_or(b""))
                else {
                    return self.error(0x16);
                };
                let result = target.flash_erase(address, length);
                self.flash_reply(result)
            }
            (b"FlashWrite", arguments) => {
                let Some((address, data)) = hex::split(arguments.get(1..).unwrap_or(b""), b':')
                    .and_then(|(address, data)| Some((hex::number(address)?, data)))
                else {
                    return self.error(0x16);
                };
                let result = target.flash_write(address, data);
                self.flash_reply(result)
            }
            (b"FlashDone", _) => {
                // A new image: reset and halt the target so it starts from that image's
                // vector table (SP, PC) as OpenOCD does after a GDB flash write; GDB sets
                // the PC to the entry point next.
                let result = target.flash_done().and_then(|()| target.reset(true));
                if result.is_ok() {
                    self.settings.set_flash_error(None);
                }
                self.flash_reply(result)
            }
            _ => self.empty(), // vMustReplyEmpty and anything unknown
        }
    }

    /// vCont;ACTION[:thread][;ACTION...]: one thread, so the first action applies.
    fn v_cont<T: Target, H: Host>(&mut self, target: &mut T, host: &mut H, actions: &[u8]) -> bool {
        let first = actions.get(1..).unwrap_or(b"");
        let first = hex::split(first, b';').map_or(first, |(action, _)| action);
        let action = hex::split(first, b':').map_or(first, |(action, _)| action);
        match action.first() {
            Some(b'c' | b'C') => self.resume(target, host, false, b""),
            Some(b's' | b'S') => self.resume(target, host, true, b""),
            Some(b't') => {
                self.interrupt(target, host);
                self.ok()
            }
            _ => self.error(0x16),
        }
    }

    fn set(&mut self, text: &[u8]) -> bool {
        match text {
            b"StartNoAckMode" => {
                // The OK is still acknowledged; from the next packet on, nothing is (E.12).
                self.no_ack = true;
                self.ok()
            }
            _ => self.empty(),
        }
    }

    fn query<T: Target, H: Host>(&mut self, target: &mut T, host: &mut H, text: &[u8]) -> bool {
        let (name, arguments) = match text.iter().position(|&byte| matches!(byte, b':' | b',')) {
            Some(at) => (&text[..at], &text[at + 1..]),
            None => (text, &b""[..]),
        };
        match name {
            b"Supported" => {
                self.reply.start();
                let _ = write!(
                    self.reply,
                    "PacketSize={PACKET_SIZE:x};qXfer:memory-map:read+;qXfer:features:read+;\
                     QStartNoAckMode+;vContSupported+"
                );
                true
            }
            b"Attached" => self.text("1"),
            b"C" => self.text("QC1"),
            // No thread once the program has exited or was killed.
            b"fThreadInfo" if self.stop == Stop::NoProcess => self.text("l"),
            b"fThreadInfo" => self.text("m1"),
            b"sThreadInfo" => self.text("l"),
            b"Symbol" => self.ok(), // no symbols wanted
            b"Rcmd" => self.monitor(target, host, arguments),
            b"CRC" => self.crc(target, arguments),
            b"Xfer" => self.transfer(target, arguments),
            _ => self.empty(),
        }
    }

    fn monitor<T: Target, H: Host>(&mut self, target: &mut T, host: &mut H, text: &[u8]) -> bool {
        let mut line = [0u8; 256];
        let Some(line) = line.get_mut(..text.len() / 2) else {
            return self.error(0x16);
        };
        if hex::decode(text, line).is_none() {
            return self.error(0x16);
        }
        let Ok(line) = core::str::from_utf8(line) else {
            return self.error(0x16);
        };
        self.console.text.clear();
        let result = monitor::run(line, target, host, &mut self.settings, &mut self.console);
        // After the command's output (`monitor flash_report` tells it itself).
        target.take_notice(&mut self.console);
        self.send_console(host);
        match result {
            Ok(()) => self.ok(),
            Err(_) => self.error(0x01),
        }
    }

    /// qCRC:addr,length: GDB's CRC-32 ([`GDB_CRC`]) for compare-sections, computed by the
    /// target (`Target::crc32`: on the target's core, or by reading back).
    fn crc<T: Target>(&mut self, target: &mut T, text: &[u8]) -> bool {
        let Some((address, length)) = hex::address_length(text) else {
            return self.error(0x16);
        };
        let Ok(crc) = target.crc32(address, length) else {
            return self.error(0x01);
        };
        self.reply.start();
        self.reply.byte(b'C');
        self.reply.hex_number(crc);
        true
    }

    /// qXfer:features:read:target.xml:off,len and qXfer:memory-map:read::off,len.
    fn transfer<T: Target>(&mut self, target: &mut T, text: &[u8]) -> bool {
        let mut fields = text.splitn(4, |&byte| byte == b':');
        let (object, operation, annex, range) =
            (fields.next(), fields.next(), fields.next(), fields.next());
        let Some((offset, length)) = range.and_then(hex::address_length) else {
            return self.error(0x16);
        };
        if operation != Some(b"read") {
            return self.empty();
        }
        // Escapes may double the data: ask for at most half the reply's room.
        let length = (length as usize).min(REPLY_SIZE / 2 - 16);
        let mut window = Window {
            skip: offset as usize,
            out: &mut self.scratch[..length],
            taken: 0,
            more: false,
        };
        match (object, annex) {
            (Some(b"features"), Some(b"target.xml")) => {
                let _ = window.write_str(target.target_description());
            }
            (Some(b"memory-map"), Some(b"")) => {
                let _ = target.memory_map_xml(&mut window);
            }
            (Some(b"features" | b"memory-map"), _) => return self.error(0x00),
            _ => return self.empty(),
        }
        let (taken, more) = (window.taken, window.more);
        self.reply.start();
        self.reply.byte(if more { b'm' } else { b'l' });
        self.reply.bytes(&self.scratch[..taken]);
        true
    }
}

/// Keeps the part of a text from `skip` on that fits `out`.
struct Window<'a> {
    skip: usize,
    out: &'a mut [u8],
    taken: usize,
    more: bool,
}

impl Write for Window<'_> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let mut bytes = text.as_bytes();
        let skipped = self.skip.min(bytes.len());
        self.skip -= skipped;
        bytes = &bytes[skipped..];
        let room = self.out.len() - self.taken;
        if bytes.len() > room {
            self.more = true;
        }
        let taken = bytes.len().min(room);
        self.out[self.taken..self.taken + taken].copy_from_slice(&bytes[..taken]);
        self.taken += taken;
        Ok(())
    }
}

/// GDB's compare-sections CRC (libiberty's xcrc32: polynomial 0x04C11DB7, MSB first,
/// initial all ones, no final XOR), which is the catalogue's CRC-32/MPEG-2; the session's
/// CRC routine on the target computes the same.
pub use debug::crc::GDB_CRC;

/// Continue GDB's CRC-32 from `crc` over `data` (see `Session::crc`).
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    let mut digest = GDB_CRC.digest_with_initial(crc);
    digest.update(data);
    digest.finalize()
}
