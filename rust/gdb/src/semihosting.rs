//! Semihosting served on the probe (ARM "Semihosting for AArch32 and AArch64" v2.0): the
//! target stops on BKPT 0xAB with the operation in r0 and its parameter in r1; the probe
//! does the call and puts the result in r0. Console calls go to the probe's console, file
//! calls to the probe's filesystem (`Host`).

use crate::target::{Host, Target};

pub const SYS_OPEN: u32 = 0x01;
pub const SYS_CLOSE: u32 = 0x02;
pub const SYS_WRITEC: u32 = 0x03;
pub const SYS_WRITE0: u32 = 0x04;
pub const SYS_WRITE: u32 = 0x05;
pub const SYS_READ: u32 = 0x06;
pub const SYS_READC: u32 = 0x07;
pub const SYS_ISERROR: u32 = 0x08;
pub const SYS_ISTTY: u32 = 0x09;
pub const SYS_SEEK: u32 = 0x0A;
pub const SYS_FLEN: u32 = 0x0C;
pub const SYS_TMPNAM: u32 = 0x0D;
pub const SYS_REMOVE: u32 = 0x0E;
pub const SYS_RENAME: u32 = 0x0F;
pub const SYS_CLOCK: u32 = 0x10;
pub const SYS_TIME: u32 = 0x11;
pub const SYS_SYSTEM: u32 = 0x12;
pub const SYS_ERRNO: u32 = 0x13;
pub const SYS_GET_CMDLINE: u32 = 0x15;
pub const SYS_HEAPINFO: u32 = 0x16;
pub const SYS_EXIT: u32 = 0x18;
pub const SYS_EXIT_EXTENDED: u32 = 0x20;
pub const SYS_ELAPSED: u32 = 0x30;
pub const SYS_TICKFREQ: u32 = 0x31;

/// SYS_EXIT reason for a normal end of the program (spec, SYS_EXIT: ADP_Stopped_*).
pub const ADP_STOPPED_APPLICATION_EXIT: u32 = 0x2_0026;

/// The console's handles: what SYS_OPEN of ":tt" gives (stdin, stdout, stderr).
const CONSOLE_HANDLES: core::ops::Range<i32> = 0..3;
/// Longest file name or command read from the target.
const MAX_NAME: usize = 256;
/// Data moves through the probe in pieces of this size.
const CHUNK: usize = 512;
/// SYS_WRITE0 stops after this many bytes without a NUL.
const MAX_WRITE0: u32 = 64 * 1024;

/// The special file ":semihosting-features" (spec, "Semihosting extensions"): the magic
/// "SHFB" and one byte of extension bits: SH_EXT_EXIT_EXTENDED (bit 0) and
/// SH_EXT_STDOUT_STDERR (bit 1), both served here. newlib reads it to choose
/// SYS_EXIT_EXTENDED, which carries the exit status.
const FEATURES_NAME: &[u8] = b":semihosting-features";
const FEATURES: &[u8] = b"SHFB\x03";
/// Its handle: far above the handles semihosting.py counts up from 3.
const FEATURES_HANDLE: i32 = 0x7FFF_0000;

/// What semihosting keeps between calls: the features file's position while it is open.
#[derive(Clone, Copy, Debug, Default)]
pub struct Files {
    features: Option<u32>,
}

impl Files {
    pub const fn new() -> Self {
        Self { features: None }
    }
}

/// What the server does after the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Put the value in r0 and resume after the BKPT.
    Return(u32),
    /// The program ended with this status: report a GDB exit (`W`).
    Exit(u8),
    /// The program ended abnormally (a SYS_EXIT reason other than application exit).
    Abort,
}

const FAILED: Outcome = Outcome::Return(u32::MAX); // -1

/// A semihosting call in progress: the parameter block and the probe's clock at the
/// start of the session (SYS_CLOCK counts from there).
pub struct Call<'a, T: Target, H: Host> {
    pub target: &'a mut T,
    pub host: &'a mut H,
    pub files: &'a mut Files,
    pub started_micros: u64,
}

impl<T: Target, H: Host> Call<'_, T, H> {
    fn word(&mut self, address: u32) -> Result<u32, T::Error> {
        let mut bytes = [0u8; 4];
        self.target.read_memory(address, &mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    /// Word `index` of the parameter block at `block`.
    fn field(&mut self, block: u32, index: u32) -> Result<u32, T::Error> {
        self.word(block.wrapping_add(index * 4))
    }

    /// A name of `length` bytes (no NUL) at `address`; None if too long.
    fn name<'b>(
        &mut self,
        address: u32,
        length: u32,
        buffer: &'b mut [u8; MAX_NAME],
    ) -> Result<Option<&'b [u8]>, T::Error> {
        let Some(name) = buffer.get_mut(..length as usize) else {
            return Ok(None);
        };
        self.target.read_memory(address, name)?;
        Ok(Some(name))
    }

    fn is_features(&self, handle: i32) -> bool {
        handle == FEATURES_HANDLE && self.files.features.is_some()
    }

    /// Do operation `operation` with parameter `parameter` (r0, r1).
    pub fn serve(&mut self, operation: u32, parameter: u32) -> Result<Outcome, T::Error> {
        let block = parameter;
        if let Some(outcome) = self.features_call(operation, block)? {
            return Ok(outcome);
        }
        let result = match operation {
            SYS_OPEN => return self.open(block),
            SYS_CLOSE => {
                let handle = self.field(block, 0)? as i32;
                match CONSOLE_HANDLES.contains(&handle) {
                    true => 0,
                    false => self.host.close(handle),
                }
            }
            SYS_WRITEC => {
                let mut byte = [0u8];
                self.target.read_memory(parameter, &mut byte)?;
                self.host.console_write(&byte);
                0
            }
            SYS_WRITE0 => {
                self.write0(parameter)?;
                0
            }
            SYS_WRITE => return self.write(block),
            SYS_READ => return self.read(block),
            SYS_READC => {
                let mut byte = [0u8];
                match self.host.console_read(&mut byte) {
                    1 => i32::from(byte[0]),
                    _ => -1,
                }
            }
            SYS_ISERROR => i32::from((self.field(block, 0)? as i32) < 0),
            SYS_ISTTY => i32::from(CONSOLE_HANDLES.contains(&(self.field(block, 0)? as i32))),
            SYS_SEEK => {
                let handle = self.field(block, 0)? as i32;
                let position = self.field(block, 1)?;
                match CONSOLE_HANDLES.contains(&handle) {
                    true => -1,
                    false => self.host.seek(handle, position),
                }
            }
            SYS_FLEN => {
                let handle = self.field(block, 0)? as i32;
                match CONSOLE_HANDLES.contains(&handle) {
                    true => -1,
                    false => self.host.flen(handle),
                }
            }
            SYS_TMPNAM => return self.temporary_name(block),
            SYS_REMOVE => {
                let (address, length) = (self.field(block, 0)?, self.field(block, 1)?);
                let mut buffer = [0u8; MAX_NAME];
                match self.name(address, length, &mut buffer)? {
                    Some(name) => self.host.remove(name),
                    None => -1,
                }
            }
            SYS_RENAME => return self.rename(block),
            SYS_CLOCK => {
                let elapsed = self.host.now_micros().saturating_sub(self.started_micros);
                (elapsed / 10_000) as i32 // centiseconds (spec, SYS_CLOCK)
            }
            SYS_TIME => self.host.time() as i32,
            SYS_SYSTEM => {
                let (address, length) = (self.field(block, 0)?, self.field(block, 1)?);
                let mut buffer = [0u8; MAX_NAME];
                match self.name(address, length, &mut buffer)? {
                    Some(command) => self.host.system(command),
                    None => -1,
                }
            }
            SYS_ERRNO => self.host.errno(),
            SYS_GET_CMDLINE => return self.command_line(block),
            SYS_HEAPINFO => {
                // r1 holds the address of a pointer to four words (spec, SYS_HEAPINFO).
                let area = self.word(parameter)?;
                let mut bytes = [0u8; 16];
                for (chunk, value) in bytes.chunks_exact_mut(4).zip(self.target.heap_info()) {
                    chunk.copy_from_slice(&value.to_le_bytes());
                }
                self.target.write_memory(area, &bytes)?;
                0
            }
            // AArch32 SYS_EXIT: r1 is the reason itself, no status (spec, SYS_EXIT).
            SYS_EXIT => return Ok(exit(parameter, 0)),
            SYS_EXIT_EXTENDED => {
                let (reason, status) = (self.field(block, 0)?, self.field(block, 1)?);
                return Ok(exit(reason, status));
            }
            SYS_ELAPSED => {
                let ticks = self.host.now_micros().saturating_sub(self.started_micros);
                self.target.write_memory(parameter, &ticks.to_le_bytes())?;
                0
            }
            SYS_TICKFREQ => 1_000_000,
            _ => -1,
        };
        Ok(Outcome::Return(result as u32))
    }

    /// Calls on the features file's handle; None for every other call.
    fn features_call(&mut self, operation: u32, block: u32) -> Result<Option<Outcome>, T::Error> {
        if !matches!(
            operation,
            SYS_CLOSE | SYS_READ | SYS_WRITE | SYS_SEEK | SYS_FLEN | SYS_ISTTY
        ) {
            return Ok(None);
        }
        let handle = self.field(block, 0)? as i32;
        if !self.is_features(handle) {
            return Ok(None);
        }
        let position = self.files.features.unwrap_or(0);
        let result = match operation {
            SYS_CLOSE => {
                self.files.features = None;
                0
            }
            SYS_READ => {
                let (address, length) = (self.field(block, 1)?, self.field(block, 2)?);
                let rest = &FEATURES[(position as usize).min(FEATURES.len())..];
                let count = rest.len().min(length as usize);
                self.target.write_memory(address, &rest[..count])?;
                self.files.features = Some(position + count as u32);
                length - count as u32 // bytes NOT read
            }
            SYS_WRITE => self.field(block, 2)?, // read-only: nothing written
            SYS_SEEK => match self.field(block, 1)? {
                at if at as usize <= FEATURES.len() => {
                    self.files.features = Some(at);
                    0
                }
                _ => u32::MAX,
            },
            SYS_FLEN => FEATURES.len() as u32,
            _ => 0, // SYS_ISTTY: a file
        };
        Ok(Some(Outcome::Return(result)))
    }

    fn open(&mut self, block: u32) -> Result<Outcome, T::Error> {
        let (address, mode, length) = (
            self.field(block, 0)?,
            self.field(block, 1)?,
            self.field(block, 2)?,
        );
        let mut buffer = [0u8; MAX_NAME];
        let Some(name) = self.name(address, length, &mut buffer)? else {
            return Ok(FAILED);
        };
        // ":tt" is the console: modes r* are stdin, w* stdout, a* stderr (spec, SYS_OPEN).
        let handle = match (name, mode) {
            (FEATURES_NAME, 0..=1) => {
                self.files.features = Some(0);
                FEATURES_HANDLE
            }
            (FEATURES_NAME, _) => -1,
            (b":tt", 0..=3) => 0,
            (b":tt", 4..=7) => 1,
            (b":tt", 8..=11) => 2,
            (_, 0..=11) => self.host.open(name, mode),
            _ => -1,
        };
        Ok(Outcome::Return(handle as u32))
    }

    fn write0(&mut self, mut address: u32) -> Result<(), T::Error> {
        let mut chunk = [0u8; 64];
        let end = address.wrapping_add(MAX_WRITE0);
        while address != end {
            // Up to the next 64-byte boundary: never read past the page the NUL is in.
            let length = 64 - (address as usize & 63);
            self.target.read_memory(address, &mut chunk[..length])?;
            let text = &chunk[..length];
            let printable = text.iter().position(|&byte| byte == 0);
            self.host
                .console_write(&text[..printable.unwrap_or(length)]);
            if printable.is_some() {
                break;
            }
            address = address.wrapping_add(length as u32);
        }
        Ok(())
    }

    /// SYS_READ's and SYS_WRITE's block: handle, buffer address, length.
    fn transfer_block(&mut self, block: u32) -> Result<(i32, u32, u32), T::Error> {
        Ok((
            self.field(block, 0)? as i32,
            self.field(block, 1)?,
            self.field(block, 2)?,
        ))
    }

    fn write(&mut self, block: u32) -> Result<Outcome, T::Error> {
        let (handle, mut address, mut left) = self.transfer_block(block)?;
        let mut chunk = [0u8; CHUNK];
        while left > 0 {
            let piece = &mut chunk[..(left as usize).min(CHUNK)];
            self.target.read_memory(address, piece)?;
            let not_written = match handle {
                0 => return Ok(Outcome::Return(left)),
                1 | 2 => {
                    self.host.console_write(piece);
                    0
                }
                _ => self.host.write(handle, piece),
            };
            if not_written < 0 {
                return Ok(FAILED);
            }
            let written = (piece.len() as u32).saturating_sub(not_written as u32);
            left -= written;
            address = address.wrapping_add(written);
            if not_written != 0 {
                break;
            }
        }
        Ok(Outcome::Return(left))
    }

    fn read(&mut self, block: u32) -> Result<Outcome, T::Error> {
        let (handle, mut address, mut left) = self.transfer_block(block)?;
        let mut chunk = [0u8; CHUNK];
        while left > 0 {
            let piece = &mut chunk[..(left as usize).min(CHUNK)];
            let count = match handle {
                0 => self.host.console_read(piece),
                1 | 2 => -1,
                _ => self.host.read(handle, piece),
            };
            if count < 0 {
                return Ok(FAILED);
            }
            let count = (count as usize).min(piece.len());
            self.target.write_memory(address, &piece[..count])?;
            left -= count as u32;
            address = address.wrapping_add(count as u32);
            // The console gives a line at a time; a file less than asked at its end.
            if count < piece.len() || handle == 0 {
                break;
            }
        }
        Ok(Outcome::Return(left)) // bytes NOT read (spec, SYS_READ)
    }

    fn temporary_name(&mut self, block: u32) -> Result<Outcome, T::Error> {
        let (address, identifier, length) = (
            self.field(block, 0)?,
            self.field(block, 1)?,
            self.field(block, 2)?,
        );
        // "tmpNNN.tmp" and its NUL; the identifier is 0..255 (spec, SYS_TMPNAM).
        let mut name = *b"tmp000.tmp\0";
        let identifier = identifier & 0xFF;
        name[3] = b'0' + (identifier / 100) as u8;
        name[4] = b'0' + (identifier / 10 % 10) as u8;
        name[5] = b'0' + (identifier % 10) as u8;
        if (length as usize) < name.len() {
            return Ok(FAILED);
        }
        self.target.write_memory(address, &name)?;
        Ok(Outcome::Return(0))
    }

    fn rename(&mut self, block: u32) -> Result<Outcome, T::Error> {
        let (from, from_length, to, to_length) = (
            self.field(block, 0)?,
            self.field(block, 1)?,
            self.field(block, 2)?,
            self.field(block, 3)?,
        );
        let mut from_buffer = [0u8; MAX_NAME];
        let mut to_buffer = [0u8; MAX_NAME];
        let from = self.name(from, from_length, &mut from_buffer)?;
        let to = self.name(to, to_length, &mut to_buffer)?;
        let result = match (from, to) {
            (Some(from), Some(to)) => self.host.rename(from, to),
            _ => -1,
        };
        Ok(Outcome::Return(result as u32))
    }

    fn command_line(&mut self, block: u32) -> Result<Outcome, T::Error> {
        let (address, size) = (self.field(block, 0)?, self.field(block, 1)?);
        let mut line = [0u8; MAX_NAME + 1];
        let length = self.target.command_line(&mut line[..MAX_NAME]);
        // The line and its NUL must fit; the block's second word gets the length.
        if length + 1 > size as usize {
            return Ok(FAILED);
        }
        self.target.write_memory(address, &line[..length + 1])?;
        self.target
            .write_memory(block.wrapping_add(4), &(length as u32).to_le_bytes())?;
        Ok(Outcome::Return(0))
    }
}

fn exit(reason: u32, status: u32) -> Outcome {
    match reason {
        ADP_STOPPED_APPLICATION_EXIT => Outcome::Exit(status as u8),
        _ => Outcome::Abort,
    }
}
