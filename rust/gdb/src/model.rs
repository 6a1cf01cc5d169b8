//! A model target and probe for the server's tests and fuzzing (feature `model`): RAM at
//! 0x2000_0000, registers, halts scripted by the caller, files in memory. Every method
//! answers any argument (an unknown handle is -1, memory outside RAM an error), so a
//! fuzzer that drives the server finds the server's faults, not the model's.

extern crate std;

use crate::target::*;
use core::fmt::Write;
use std::collections::VecDeque;
use std::string::String;
use std::vec;
use std::vec::Vec;

pub const RAM: u32 = 0x2000_0000;
pub const RAM_SIZE: usize = 0x1000;
/// Where the model's flash regions start (`monitor algorithm`; it stores no flash data).
pub const MODEL_FLASH: u32 = 0x0800_0000;

#[derive(Debug)]
pub struct ModelError(pub &'static str);

impl core::fmt::Display for ModelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.0)
    }
}

/// A target with RAM at 0x2000_0000, registers, and halts scripted by the test.
pub struct Model {
    pub ram: Vec<u8>,
    pub registers: [u32; REGISTER_COUNT],
    /// An FPU's d0-d15 and fpscr (None: a core without FPU).
    pub fpu: Option<([u64; cortexm::DOUBLE_REGISTERS], u32)>,
    pub attached: Option<usize>,
    pub running: bool,
    pub halts: VecDeque<HaltReason>,
    pub breakpoints: Vec<(BreakWatch, u32, u32)>,
    pub flash: Vec<(u32, Vec<u8>)>,
    pub resets: usize,
    /// The kinds of `monitor reset KIND`, in order.
    pub reset_kinds: Vec<ResetKind>,
    pub crc_routine: (bool, Option<u64>),
    /// The flash algorithm's file and flash (start, length), if one is in use.
    pub algorithm: Option<(String, u32, u32)>,
    /// What `take_notice` tells once (a reconnect after a power loss).
    pub notice: Option<&'static str>,
    /// The next halt poll fails with this error.
    pub poll_error: Option<&'static str>,
    /// The next halt request fails with this error, the core halted all the same (as a
    /// reconnect after a power loss leaves it).
    pub halt_error: Option<&'static str>,
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Model {
    pub fn new() -> Self {
        Self {
            ram: vec![0; RAM_SIZE],
            registers: [0; REGISTER_COUNT],
            fpu: None,
            attached: Some(1),
            running: false,
            halts: VecDeque::new(),
            breakpoints: Vec::new(),
            flash: Vec::new(),
            resets: 0,
            reset_kinds: Vec::new(),
            crc_routine: (true, None),
            algorithm: None,
            notice: None,
            poll_error: None,
            halt_error: None,
        }
    }

    fn range(&self, address: u32, length: usize) -> Result<std::ops::Range<usize>, ModelError> {
        let start = address.checked_sub(RAM).ok_or(ModelError("no memory"))? as usize;
        let end = start + length;
        if end > RAM_SIZE {
            return Err(ModelError("no memory"));
        }
        Ok(start..end)
    }
}

impl Target for Model {
    type Error = ModelError;
    fn swdp_scan(&mut self, _: bool) -> Result<(), ModelError> {
        Ok(())
    }
    fn jtag_scan(&mut self, _: bool) -> Result<(), ModelError> {
        Err(ModelError("no JTAG here"))
    }
    fn for_each_target(&self, each: &mut dyn FnMut(Listed<'_>)) {
        each(Listed {
            number: 1,
            driver: "Model chip",
            core: "M3",
        });
    }
    fn attach(&mut self, number: usize) -> Result<(), ModelError> {
        if number != 1 {
            return Err(ModelError("no such target"));
        }
        self.attached = Some(1);
        Ok(())
    }
    fn detach(&mut self) -> Result<(), ModelError> {
        self.attached = None;
        Ok(())
    }
    fn attached(&self) -> Option<usize> {
        self.attached
    }
    fn frequency(&mut self) -> Option<u32> {
        Some(4_000_000)
    }
    fn set_frequency(&mut self, hz: u32) -> Result<u32, ModelError> {
        Ok(hz)
    }
    fn hard_reset(&mut self) -> Result<(), ModelError> {
        Ok(())
    }
    fn memory_map_xml(&self, out: &mut dyn Write) -> core::fmt::Result {
        out.write_str("<memory-map><memory type=\"ram\" start=\"0x20000000\" length=\"0x1000\"/></memory-map>")
    }
    fn read_memory(&mut self, address: u32, data: &mut [u8]) -> Result<(), ModelError> {
        let range = self.range(address, data.len())?;
        data.copy_from_slice(&self.ram[range]);
        Ok(())
    }
    fn write_memory(&mut self, address: u32, data: &[u8]) -> Result<(), ModelError> {
        let range = self.range(address, data.len())?;
        self.ram[range].copy_from_slice(data);
        Ok(())
    }
    fn read_registers(&mut self, values: &mut [u32; REGISTER_COUNT]) -> Result<(), ModelError> {
        *values = self.registers;
        Ok(())
    }
    fn write_registers(&mut self, values: &[u32; REGISTER_COUNT]) -> Result<(), ModelError> {
        self.registers = *values;
        Ok(())
    }
    fn read_register(&mut self, number: usize) -> Result<u32, ModelError> {
        self.registers
            .get(number)
            .copied()
            .ok_or(ModelError("no such register"))
    }
    fn target_description(&self) -> &'static str {
        match self.fpu {
            Some(_) => cortexm::TARGET_XML_FPU,
            None => cortexm::TARGET_XML,
        }
    }
    fn register_size(&self, number: usize) -> Option<usize> {
        match number {
            0..REGISTER_COUNT => Some(4),
            cortexm::D0..cortexm::FPSCR if self.fpu.is_some() => Some(8),
            cortexm::FPSCR if self.fpu.is_some() => Some(4),
            _ => None,
        }
    }
    fn read_register_wide(&mut self, number: usize) -> Result<u64, ModelError> {
        match (number, &self.fpu) {
            (cortexm::FPSCR, Some((_, fpscr))) => Ok((*fpscr).into()),
            (cortexm::D0.., Some((doubles, _))) => doubles
                .get(number - cortexm::D0)
                .copied()
                .ok_or(ModelError("no such register")),
            _ => self.read_register(number).map(u64::from),
        }
    }
    fn write_register_wide(&mut self, number: usize, value: u64) -> Result<(), ModelError> {
        match (number, &mut self.fpu) {
            (cortexm::FPSCR, Some((_, fpscr))) => *fpscr = value as u32,
            (cortexm::D0.., Some((doubles, _))) => {
                *doubles
                    .get_mut(number - cortexm::D0)
                    .ok_or(ModelError("no such register"))? = value
            }
            _ => {
                let value = u32::try_from(value).map_err(|_| ModelError("too wide"))?;
                self.write_register(number, value)?
            }
        }
        Ok(())
    }
    fn write_register(&mut self, number: usize, value: u32) -> Result<(), ModelError> {
        *self
            .registers
            .get_mut(number)
            .ok_or(ModelError("no such register"))? = value;
        Ok(())
    }
    fn halt_request(&mut self) -> Result<(), ModelError> {
        if let Some(error) = self.halt_error.take() {
            self.running = false;
            return Err(ModelError(error));
        }
        self.halts.push_back(HaltReason::Request);
        Ok(())
    }
    fn halt_poll(&mut self) -> Result<HaltStatus, ModelError> {
        if let Some(error) = self.poll_error.take() {
            self.running = false;
            return Err(ModelError(error));
        }
        if !self.running {
            return Ok(HaltStatus::Halted(HaltReason::Request));
        }
        match self.halts.pop_front() {
            Some(reason) => {
                self.running = false;
                Ok(HaltStatus::Halted(reason))
            }
            None => Ok(HaltStatus::Running),
        }
    }
    fn take_notice(&mut self, out: &mut dyn Write) -> bool {
        self.notice
            .take()
            .is_some_and(|notice| writeln!(out, "{notice}").is_ok())
    }
    fn resume(&mut self, step: bool) -> Result<(), ModelError> {
        self.running = true;
        if step {
            self.halts.push_front(HaltReason::Step);
        }
        Ok(())
    }
    fn reset(&mut self, _: bool) -> Result<(), ModelError> {
        self.resets += 1;
        Ok(())
    }
    fn reset_kind(&mut self, kind: ResetKind, halt: bool) -> Result<(), ModelError> {
        self.reset_kinds.push(kind);
        self.reset(halt)
    }
    fn set_breakwatch(
        &mut self,
        kind: BreakWatch,
        address: u32,
        length: u32,
    ) -> Result<(), ModelError> {
        self.breakpoints.push((kind, address, length));
        Ok(())
    }
    fn clear_breakwatch(
        &mut self,
        kind: BreakWatch,
        address: u32,
        length: u32,
    ) -> Result<(), ModelError> {
        let before = self.breakpoints.len();
        self.breakpoints
            .retain(|&entry| entry != (kind, address, length));
        if self.breakpoints.len() == before {
            return Err(ModelError("not set"));
        }
        Ok(())
    }
    fn flash_erase(&mut self, _: u32, _: u32) -> Result<(), ModelError> {
        Ok(())
    }
    /// Refused below MODEL_FLASH.
    fn flash_write(&mut self, address: u32, data: &[u8]) -> Result<(), ModelError> {
        if address < MODEL_FLASH {
            return Err(ModelError("no flash there"));
        }
        self.flash.push((address, data.to_vec()));
        Ok(())
    }
    fn flash_done(&mut self) -> Result<(), ModelError> {
        Ok(())
    }
    fn flash_mass_erase(&mut self) -> Result<(), ModelError> {
        Ok(())
    }
    fn recover(&mut self) -> Result<(), ModelError> {
        Ok(())
    }
    fn crc32(&mut self, address: u32, length: u32) -> Result<u32, ModelError> {
        let range = self.range(address, length as usize)?;
        Ok(crate::crc32(u32::MAX, &self.ram[range]))
    }
    fn flash_report(&mut self, out: &mut dyn Write) -> Result<(), ModelError> {
        let _ = writeln!(out, "Last CRC: computed by the model");
        Ok(())
    }
    fn crc_routine(&self) -> (bool, Option<u64>) {
        self.crc_routine
    }
    fn set_crc_routine(&mut self, on_target: bool, timeout_micros: Option<u64>) {
        self.crc_routine = (on_target, timeout_micros);
    }
    /// Flash at 0x0800_0000 (64 KB, 1 KB sectors) written by "Model driver", or by the
    /// algorithm over what it covers.
    fn flash_regions(&self, each: &mut dyn FnMut(FlashRegion<'_>)) -> Result<(), ModelError> {
        match &self.algorithm {
            Some((name, start, length)) => each(FlashRegion {
                start: *start,
                length: *length,
                sector: 0x400,
                writer: FlashWriter::Algorithm(name),
            }),
            None => each(FlashRegion {
                start: MODEL_FLASH,
                length: 0x1_0000,
                sector: 0x400,
                writer: FlashWriter::Driver("Model driver"),
            }),
        }
        Ok(())
    }
    /// A file named *.flm is an algorithm for 128 KB at 0x0800_0000; others are refused.
    fn load_flash_algorithm(&mut self, path: &str) -> Result<(u32, u32), ModelError> {
        self.algorithm = None;
        if !path.ends_with(".flm") {
            return Err(ModelError("not a usable flash algorithm"));
        }
        self.algorithm = Some((path.into(), MODEL_FLASH, 0x2_0000));
        Ok((MODEL_FLASH, 0x2_0000))
    }
    fn clear_flash_algorithm(&mut self) -> Result<(), ModelError> {
        self.algorithm = None;
        Ok(())
    }
    fn chip_commands(&self, each: &mut dyn FnMut(&str, &str)) {
        each("option", "Show the option bytes");
    }
    fn chip_command(
        &mut self,
        _: &str,
        arguments: &str,
        out: &mut dyn Write,
    ) -> Result<(), ModelError> {
        let _ = writeln!(out, "option bytes {arguments}");
        Ok(())
    }
    fn command_line(&self, out: &mut [u8]) -> usize {
        out[..7].copy_from_slice(b"prog -v");
        7
    }
    fn heap_info(&self) -> [u32; 4] {
        [1, 2, 3, 4]
    }
}

/// The probe side: what the server sent, a console, files in memory.
#[derive(Default)]
pub struct Probe {
    pub sent: Vec<u8>,
    pub console: Vec<u8>,
    pub input: Vec<u8>,
    pub files: Vec<Option<Vec<u8>>>,
    pub positions: Vec<usize>,
    pub now: u64,
}

impl Probe {
    /// The open file's slot for a handle of 3 or more that `open` gave.
    fn index(&self, handle: i32) -> Option<usize> {
        let index = usize::try_from(handle.checked_sub(3)?).ok()?;
        (index < self.files.len()).then_some(index)
    }

    fn file_mut(&mut self, handle: i32) -> Option<&mut Option<Vec<u8>>> {
        let index = self.index(handle)?;
        self.files.get_mut(index)
    }
}

impl Host for Probe {
    fn send(&mut self, data: &[u8]) {
        self.sent.extend_from_slice(data);
    }
    fn now_micros(&mut self) -> u64 {
        self.now += 1000;
        self.now
    }
    fn version(&self) -> &str {
        "bmp test"
    }
    fn python(&mut self, expression: &str, out: &mut dyn Write) -> Result<(), &'static str> {
        match expression {
            "6*7" => {
                let _ = out.write_str("42");
                Ok(())
            }
            _ => Err("repl_fun() not registered"),
        }
    }
    fn console_write(&mut self, data: &[u8]) {
        self.console.extend_from_slice(data);
    }
    fn console_read(&mut self, data: &mut [u8]) -> i32 {
        let count = data.len().min(self.input.len());
        data[..count].copy_from_slice(&self.input[..count]);
        self.input.drain(..count);
        count as i32
    }
    fn open(&mut self, _: &[u8], _: u32) -> i32 {
        self.files.push(Some(Vec::new()));
        self.positions.push(0);
        self.files.len() as i32 + 2
    }
    fn close(&mut self, handle: i32) -> i32 {
        match self.file_mut(handle) {
            Some(file @ Some(_)) => {
                *file = None;
                0
            }
            _ => -1,
        }
    }
    fn write(&mut self, handle: i32, data: &[u8]) -> i32 {
        let Some(Some(file)) = self.file_mut(handle) else {
            return -1;
        };
        file.extend_from_slice(data);
        0
    }
    fn read(&mut self, handle: i32, data: &mut [u8]) -> i32 {
        let Some(index) = self.index(handle) else {
            return -1;
        };
        let Some(file) = &self.files[index] else {
            return -1;
        };
        let position = self.positions[index].min(file.len());
        let count = data.len().min(file.len() - position);
        data[..count].copy_from_slice(&file[position..position + count]);
        self.positions[index] = position + count;
        count as i32
    }
    fn seek(&mut self, handle: i32, position: u32) -> i32 {
        let Some(index) = self.index(handle) else {
            return -1;
        };
        self.positions[index] = position as usize;
        0
    }
    fn flen(&mut self, handle: i32) -> i32 {
        match self.file_mut(handle) {
            Some(Some(file)) => file.len() as i32,
            _ => -1,
        }
    }
    fn remove(&mut self, _: &[u8]) -> i32 {
        0
    }
    fn rename(&mut self, _: &[u8], _: &[u8]) -> i32 {
        0
    }
    fn system(&mut self, _: &[u8]) -> i32 {
        -1
    }
    fn errno(&mut self) -> i32 {
        2
    }
    fn time(&mut self) -> u32 {
        1_700_000_000
    }
}
