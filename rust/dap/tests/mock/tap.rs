//! A JTAG chain at the TCK level: every TAP follows TMS through the IEEE 1149.1 state
//! machine; TDI -> boundary scan TAP (IR 5) -> ARM JTAG-DP TAP (IR 4) -> TDO, as on an
//! STM32F1 (RM0008 31.5: ARM JTAG-DP IDCODE 0x3BA00477, boundary scan 0x16410041).

use super::Target;

pub const ARM_IDCODE: u32 = 0x3BA0_0477;
pub const BOUNDARY_IDCODE: u32 = 0x1641_0041;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum State {
    #[default]
    Reset,
    Idle,
    SelectDr,
    CaptureDr,
    ShiftDr,
    Exit1Dr,
    PauseDr,
    Exit2Dr,
    UpdateDr,
    SelectIr,
    CaptureIr,
    ShiftIr,
    Exit1Ir,
    PauseIr,
    Exit2Ir,
    UpdateIr,
}

impl State {
    fn next(self, tms: bool) -> State {
        use State::*;
        match (self, tms) {
            (Reset, true) => Reset,
            (Reset, false) => Idle,
            (Idle, true) | (UpdateDr, true) | (UpdateIr, true) => SelectDr,
            (Idle, false) | (UpdateDr, false) | (UpdateIr, false) => Idle,
            (SelectDr, true) => SelectIr,
            (SelectDr, false) => CaptureDr,
            (CaptureDr, true) | (ShiftDr, true) => Exit1Dr,
            (CaptureDr, false) | (ShiftDr, false) | (Exit2Dr, false) => ShiftDr,
            (Exit1Dr, true) | (Exit2Dr, true) => UpdateDr,
            (Exit1Dr, false) | (PauseDr, false) => PauseDr,
            (PauseDr, true) => Exit2Dr,
            (SelectIr, true) => Reset,
            (SelectIr, false) => CaptureIr,
            (CaptureIr, true) | (ShiftIr, true) => Exit1Ir,
            (CaptureIr, false) | (ShiftIr, false) | (Exit2Ir, false) => ShiftIr,
            (Exit1Ir, true) | (Exit2Ir, true) => UpdateIr,
            (Exit1Ir, false) | (PauseIr, false) => PauseIr,
            (PauseIr, true) => Exit2Ir,
        }
    }
}

/// One TAP's registers.
#[derive(Clone, Copy, Debug)]
pub struct Tap {
    pub ir_length: u32,
    pub ir: u32,
    ir_shift: u64,
    dr_shift: u64,
    dr_length: u32,
    /// The ARM JTAG-DP (else the boundary scan TAP).
    arm: bool,
}

impl Tap {
    fn reset_instruction(arm: bool) -> u32 {
        if arm { 0b1110 } else { 0b00001 }
    }

    fn new(arm: bool) -> Self {
        Self {
            ir_length: if arm { 4 } else { 5 },
            ir: Self::reset_instruction(arm),
            ir_shift: 0,
            dr_shift: 0,
            dr_length: 1,
            arm,
        }
    }
}

/// JTAG-DP ACK values (ADIv5.2 B3.3.2).
const ACK_OK: u64 = 0b010;
const ACK_WAIT: u64 = 0b001;

#[derive(Debug)]
pub struct Chain {
    pub state: State,
    /// taps[0] is nearest TDO.
    pub taps: [Tap; 2],
    /// The JTAG-DP's read result, captured by the next DPACC/APACC scan.
    pub read_result: u32,
    /// DPACC/APACC scans left that answer WAIT (and whose request is ignored).
    pub wait_scans: u32,
    waited: bool,
    /// DP/AP accesses done, as (APnDP, RnW, address, value).
    pub accesses: Vec<(bool, bool, u8, u32)>,
}

impl Default for Chain {
    fn default() -> Self {
        Self {
            state: State::Reset,
            taps: [Tap::new(true), Tap::new(false)],
            read_result: 0,
            wait_scans: 0,
            waited: false,
            accesses: Vec::new(),
        }
    }
}

impl Chain {
    /// One TCK cycle: TDO before the rising edge, then the edge.
    pub fn clock(&mut self, target: &mut Target, tms: bool, tdi: bool) -> bool {
        let tdo = match self.state {
            State::ShiftIr => self.taps[0].ir_shift & 1 != 0,
            State::ShiftDr => self.taps[0].dr_shift & 1 != 0,
            _ => true,
        };
        match self.state {
            State::CaptureIr => self.taps.iter_mut().for_each(|tap| tap.ir_shift = 0b01),
            State::CaptureDr => self.capture(),
            State::ShiftIr => self.shift(tdi, true),
            State::ShiftDr => self.shift(tdi, false),
            _ => {}
        }
        self.state = self.state.next(tms);
        match self.state {
            State::Reset => {
                for tap in &mut self.taps {
                    tap.ir = Tap::reset_instruction(tap.arm);
                }
            }
            State::UpdateIr => {
                for tap in &mut self.taps {
                    tap.ir = (tap.ir_shift & ((1 << tap.ir_length) - 1)) as u32;
                }
            }
            State::UpdateDr => self.update(target),
            _ => {}
        }
        tdo
    }

    fn shift(&mut self, tdi: bool, instruction: bool) {
        let mut carry = tdi;
        for tap in self.taps.iter_mut().rev() {
            let (register, length) = if instruction {
                (&mut tap.ir_shift, tap.ir_length)
            } else {
                (&mut tap.dr_shift, tap.dr_length)
            };
            let out = *register & 1 != 0;
            *register = (*register >> 1) | (u64::from(carry) << (length - 1));
            carry = out;
        }
    }

    fn capture(&mut self) {
        let wait = self.wait_scans > 0;
        for index in 0..self.taps.len() {
            let tap = self.taps[index];
            let (value, length) = match (tap.arm, tap.ir) {
                (true, 0b1110) => (u64::from(ARM_IDCODE), 32),
                (true, 0b1000 | 0b1010 | 0b1011) => {
                    let ack = if wait { ACK_WAIT } else { ACK_OK };
                    (ack | u64::from(self.read_result) << 3, 35)
                }
                (false, 0b00001) => (u64::from(BOUNDARY_IDCODE), 32),
                _ => (0, 1),
            };
            self.taps[index].dr_shift = value;
            self.taps[index].dr_length = length;
        }
        let dp = self.taps[0];
        let access = matches!(dp.ir, 0b1010 | 0b1011);
        self.waited = access && wait;
        if self.waited {
            self.wait_scans -= 1;
        }
    }

    fn update(&mut self, target: &mut Target) {
        let dp = self.taps[0];
        if self.waited || !matches!(dp.ir, 0b1000 | 0b1010 | 0b1011) {
            return;
        }
        let read = dp.dr_shift & 1 != 0;
        let address = ((dp.dr_shift >> 1 & 0b11) << 2) as u8;
        let data = (dp.dr_shift >> 3) as u32;
        match dp.ir {
            0b1000 => target.dp_write(0x0, data),
            0b1010 if read => {
                self.read_result = if address == 0xC {
                    0
                } else {
                    target.dp_read(address)
                }
            }
            0b1010 => target.dp_write(address, data),
            _ if read => self.read_result = target.ap_read(address),
            _ => target.ap_write(address, data),
        }
        let value = if read { self.read_result } else { data };
        self.accesses.push((dp.ir == 0b1011, read, address, value));
    }
}
