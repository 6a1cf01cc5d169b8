//! The JTAG side of the SWJ-DP: the TAP controller (IEEE 1149.1) and the chain of two TAPs
//! of the STM32F1: TDI -> boundary-scan TAP (IR 5 bits) -> Cortex-M3 JTAG-DP (IR 4 bits)
//! -> TDO (RM0008 31.5 "JTAG TAP connection": the two TAPs are serially connected, and a
//! debugger shifts BYPASS into the boundary-scan TAP; OpenOCD's stm32f1x.cfg declares the
//! Cortex-M3 TAP first, i.e. nearest TDO).
//!
//! The target side keeps its own instruction, ACK and register definitions on purpose and
//! does not use the probe's (`wire`, `adi`): it is an independent oracle, written from the
//! specifications, that the probe's scanner and registers are tested against.

use super::Context;
use super::debug_port::{Refusal, Wire};
use super::faults::Injected;

/// JTAG-DP instructions, IR length 4 (ADIv5.2 B3.2.1); the others select BYPASS.
const DP_IR_LENGTH: u32 = 4;
const DP_ABORT: u64 = 0x8;
const DP_DPACC: u64 = 0xA;
const DP_APACC: u64 = 0xB;
const DP_IDCODE: u64 = 0xE;
/// IR capture value of the JTAG-DP: 0b0001 (ADIv5.2 B3.2).
const DP_IR_CAPTURE: u64 = 0b0001;

/// Boundary-scan TAP: IR length 5; IDCODE and BYPASS are modelled, every other
/// instruction acts as BYPASS (there is no boundary register here).
const BOUNDARY_IR_LENGTH: u32 = 5;
const BOUNDARY_IDCODE: u64 = 0b00001;
/// IR capture ends in 0b01 (IEEE 1149.1 7.1.1).
const BOUNDARY_IR_CAPTURE: u64 = 0b00001;

/// DPACC/APACC ACK (ADIv5.2 B3.3.2): OK/FAULT 0b010, WAIT 0b001.
const ACK_OK_FAULT: u64 = 0b010;
const ACK_WAIT: u64 = 0b001;
/// DPACC/APACC/ABORT data registers: 3 bits of RnW+A[3:2] or ACK, 32 of data (B3.3.1).
const ACCESS_LENGTH: u32 = 35;

/// TAP controller states (IEEE 1149.1 figure 6-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TapState {
    TestLogicReset,
    RunTestIdle,
    SelectDrScan,
    CaptureDr,
    ShiftDr,
    Exit1Dr,
    PauseDr,
    Exit2Dr,
    UpdateDr,
    SelectIrScan,
    CaptureIr,
    ShiftIr,
    Exit1Ir,
    PauseIr,
    Exit2Ir,
    UpdateIr,
}

impl TapState {
    /// The state after a rising TCK edge with `tms` (IEEE 1149.1 6.1).
    pub fn next(self, tms: bool) -> Self {
        use TapState::*;
        match (self, tms) {
            (TestLogicReset, true) | (SelectIrScan, true) => TestLogicReset,
            (TestLogicReset, false) | (RunTestIdle, false) => RunTestIdle,
            (UpdateDr, false) | (UpdateIr, false) => RunTestIdle,
            (RunTestIdle, true) | (UpdateDr, true) | (UpdateIr, true) => SelectDrScan,
            (SelectDrScan, true) => SelectIrScan,
            (SelectDrScan, false) => CaptureDr,
            (CaptureDr, false) | (ShiftDr, false) | (Exit2Dr, false) => ShiftDr,
            (CaptureDr, true) | (ShiftDr, true) => Exit1Dr,
            (Exit1Dr, false) | (PauseDr, false) => PauseDr,
            (Exit1Dr, true) | (Exit2Dr, true) => UpdateDr,
            (PauseDr, true) => Exit2Dr,
            (SelectIrScan, false) => CaptureIr,
            (CaptureIr, false) | (ShiftIr, false) | (Exit2Ir, false) => ShiftIr,
            (CaptureIr, true) | (ShiftIr, true) => Exit1Ir,
            (Exit1Ir, false) | (PauseIr, false) => PauseIr,
            (Exit1Ir, true) | (Exit2Ir, true) => UpdateIr,
            (PauseIr, true) => Exit2Ir,
        }
    }
}

/// A shift register, TDO at bit 0, TDI into bit `length - 1`.
#[derive(Clone, Copy, Debug, Default)]
struct ShiftRegister {
    bits: u64,
    length: u32,
}

impl ShiftRegister {
    fn load(&mut self, bits: u64, length: u32) {
        *self = Self { bits, length };
    }

    fn shift(&mut self, input: bool) -> bool {
        let output = self.bits & 1 != 0;
        self.bits = self.bits >> 1 | u64::from(input) << (self.length - 1);
        output
    }

    fn output(&self) -> bool {
        self.bits & 1 != 0
    }
}

/// The boundary-scan TAP, nearest TDI.
#[derive(Clone, Debug)]
struct BoundaryScanTap {
    instruction: u64,
    instruction_register: ShiftRegister,
    data_register: ShiftRegister,
}

impl Default for BoundaryScanTap {
    fn default() -> Self {
        Self {
            instruction: BOUNDARY_IDCODE,
            instruction_register: ShiftRegister::default(),
            data_register: ShiftRegister::default(),
        }
    }
}

impl BoundaryScanTap {
    fn capture_data(&mut self, idcode: u32) {
        match self.instruction {
            BOUNDARY_IDCODE => self.data_register.load(u64::from(idcode), 32),
            _ => self.data_register.load(0, 1),
        }
    }
}

/// What the next DPACC/APACC capture returns (ADIv5.2 B3.3.1: the previous result).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Value(u32),
    /// RDBUFF, once the AP read in progress completes.
    Posted,
}

/// The ARM JTAG-DP TAP, nearest TDO.
#[derive(Clone, Debug)]
struct DebugTap {
    instruction: u64,
    instruction_register: ShiftRegister,
    data_register: ShiftRegister,
    result: Outcome,
    /// The last capture was WAIT: the request shifted in now is ignored (B3.3.2).
    waited: bool,
}

impl Default for DebugTap {
    fn default() -> Self {
        Self {
            instruction: DP_IDCODE,
            instruction_register: ShiftRegister::default(),
            data_register: ShiftRegister::default(),
            result: Outcome::Value(0),
            waited: false,
        }
    }
}

impl DebugTap {
    fn capture_data(&mut self, context: &mut Context) {
        match self.instruction {
            DP_IDCODE => {
                let idcode = context.bus.identity().jtag_idcode;
                self.data_register.load(u64::from(idcode), 32);
            }
            DP_DPACC | DP_APACC => self.capture_access(context),
            DP_ABORT => self.data_register.load(0, ACCESS_LENGTH),
            _ => self.data_register.load(0, 1),
        }
    }

    /// ACK and the previous transaction's result (B3.3.1).
    fn capture_access(&mut self, context: &mut Context) {
        let injected = context.faults.draw(false);
        if injected == Injected::PowerOff {
            context.power_off = true;
        }
        self.waited = injected == Injected::Wait || !context.debug.settle(context.bus);
        if self.waited {
            context.statistics.wait += 1;
            context.debug.note_refusal();
            self.data_register.load(ACK_WAIT, ACCESS_LENGTH);
            return;
        }
        let value = match self.result {
            Outcome::Value(value) => value,
            Outcome::Posted => context.debug.posted(),
        };
        self.data_register
            .load(u64::from(value) << 3 | ACK_OK_FAULT, ACCESS_LENGTH);
    }

    fn update_data(&mut self, context: &mut Context) {
        let bits = self.data_register.bits;
        let value = (bits >> 3) as u32;
        match self.instruction {
            DP_ABORT => context.debug.abort(value),
            DP_DPACC | DP_APACC if !self.waited => {
                let read = bits & 1 != 0;
                let address = ((bits >> 1 & 3) << 2) as u8;
                self.access(self.instruction == DP_APACC, read, address, value, context);
            }
            _ => {}
        }
    }

    fn access(
        &mut self,
        access_port: bool,
        read: bool,
        address: u8,
        value: u32,
        context: &mut Context,
    ) {
        context.statistics.transactions += 1;
        self.result = Outcome::Value(0);
        if !access_port {
            context.statistics.ok += 1;
            if read {
                let data = context
                    .debug
                    .read_register(Wire::Jtag, address, context.bus);
                self.result = Outcome::Value(data.unwrap_or(0));
            } else {
                context.debug.write_register(Wire::Jtag, address, value);
            }
            return;
        }
        match context.faults.draw(true) {
            Injected::Fault => context.debug.set_sticky_error(),
            Injected::PowerOff => context.power_off = true,
            _ => {}
        }
        // With a sticky flag set, AP transactions are discarded (ADIv5.2 B3.3.2).
        if context.debug.access_port_ready(context.bus) == Err(Refusal::Fault) {
            context.statistics.fault += 1;
            return;
        }
        context.statistics.ok += 1;
        context
            .debug
            .start_access(context.bus, read, address, value);
        if read {
            self.result = Outcome::Posted;
        }
    }
}

/// The two TAPs on one TMS/TCK, so one controller state.
#[derive(Clone, Debug)]
pub struct JtagChain {
    state: TapState,
    boundary: BoundaryScanTap,
    debug: DebugTap,
    tdo: Option<bool>,
    /// nTRST held low: the TAPs stay in Test-Logic-Reset.
    test_reset: bool,
}

impl Default for JtagChain {
    fn default() -> Self {
        Self {
            state: TapState::TestLogicReset,
            boundary: BoundaryScanTap::default(),
            debug: DebugTap::default(),
            tdo: None,
            test_reset: false,
        }
    }
}

impl JtagChain {
    pub fn state(&self) -> TapState {
        self.state
    }

    /// TDO as driven now (None: not in a Shift state, the pin floats).
    pub fn tdo(&self) -> Option<bool> {
        self.tdo
    }

    /// nTRST (IEEE 1149.1 6.1.1: asynchronous reset to Test-Logic-Reset).
    pub fn set_test_reset(&mut self, asserted: bool) {
        self.test_reset = asserted;
        if asserted {
            self.enter_reset();
        }
    }

    fn enter_reset(&mut self) {
        self.state = TapState::TestLogicReset;
        self.boundary.instruction = BOUNDARY_IDCODE;
        self.debug.instruction = DP_IDCODE;
        self.tdo = None;
    }

    /// TMS and TDI are sampled on the rising edge (IEEE 1149.1 6.1).
    pub fn rising_edge(&mut self, tms: bool, tdi: bool, context: &mut Context) {
        if self.test_reset {
            return;
        }
        self.act(tdi, context);
        self.state = self.state.next(tms);
        match self.state {
            TapState::TestLogicReset => self.enter_reset(),
            TapState::UpdateIr => self.update_instructions(),
            TapState::UpdateDr => self.debug.update_data(context),
            _ => {}
        }
    }

    /// TDO changes on the falling edge (IEEE 1149.1 6.1).
    pub fn falling_edge(&mut self) {
        self.tdo = match self.state {
            TapState::ShiftDr => Some(self.debug.data_register.output()),
            TapState::ShiftIr => Some(self.debug.instruction_register.output()),
            _ => None,
        };
    }

    /// What the current state does on this edge, before the state changes.
    fn act(&mut self, tdi: bool, context: &mut Context) {
        match self.state {
            TapState::CaptureDr => {
                let idcode = context.bus.identity().boundary_scan_idcode;
                self.boundary.capture_data(idcode);
                self.debug.capture_data(context);
            }
            TapState::CaptureIr => {
                self.boundary
                    .instruction_register
                    .load(BOUNDARY_IR_CAPTURE, BOUNDARY_IR_LENGTH);
                self.debug
                    .instruction_register
                    .load(DP_IR_CAPTURE, DP_IR_LENGTH);
            }
            TapState::ShiftDr => {
                let middle = self.boundary.data_register.shift(tdi);
                self.debug.data_register.shift(middle);
            }
            TapState::ShiftIr => {
                let middle = self.boundary.instruction_register.shift(tdi);
                self.debug.instruction_register.shift(middle);
            }
            _ => {}
        }
    }

    fn update_instructions(&mut self) {
        self.boundary.instruction = self.boundary.instruction_register.bits;
        self.debug.instruction = self.debug.instruction_register.bits;
    }
}

#[cfg(test)]
mod tests {
    use super::TapState::*;

    #[test]
    fn five_tms_ones_reach_test_logic_reset_from_anywhere() {
        let states = [
            RunTestIdle,
            SelectDrScan,
            CaptureDr,
            ShiftDr,
            Exit1Dr,
            PauseDr,
            Exit2Dr,
            UpdateDr,
            SelectIrScan,
            CaptureIr,
            ShiftIr,
            Exit1Ir,
            PauseIr,
            Exit2Ir,
            UpdateIr,
        ];
        for start in states {
            let end = (0..5).fold(start, |state, _| state.next(true));
            assert_eq!(end, TestLogicReset, "from {start:?}");
        }
    }

    #[test]
    fn dr_scan_path() {
        let path = [true, false, false, true, true, false];
        let states: Vec<_> = path
            .iter()
            .scan(RunTestIdle, |state, &tms| {
                *state = state.next(tms);
                Some(*state)
            })
            .collect();
        assert_eq!(
            states,
            [
                SelectDrScan,
                CaptureDr,
                ShiftDr,
                Exit1Dr,
                UpdateDr,
                RunTestIdle
            ]
        );
    }
}
