//! Just enough of the reset and clock control (RCC, RM0008 7.3) for a normal startup:
//! the oscillators and the PLL report ready as soon as they are switched on, and the clock
//! switch status follows the switch. Everything else is a plain register. The core runs
//! at 72 MHz of virtual time whatever the clock tree says.

pub const RCC_BASE: u32 = 0x4002_1000;
/// Size of the RCC block in the memory map (RM0008 table 3).
pub const RCC_SIZE: u32 = 0x400;

/// Register offsets (RM0008 7.3).
pub const CR: u32 = 0x00;
pub const CFGR: u32 = 0x04;
pub const AHBENR: u32 = 0x14;
pub const CSR: u32 = 0x24;

/// RCC_CR (RM0008 7.3.1): HSION 0, HSIRDY 1, HSITRIM [7:3] (reset 16), HSEON 16,
/// HSERDY 17, PLLON 24, PLLRDY 25.
const CR_HSION: u32 = 1 << 0;
const CR_HSIRDY: u32 = 1 << 1;
const CR_HSEON: u32 = 1 << 16;
const CR_HSERDY: u32 = 1 << 17;
const CR_PLLON: u32 = 1 << 24;
const CR_PLLRDY: u32 = 1 << 25;
const CR_RESET: u32 = CR_HSION | CR_HSIRDY | (16 << 3);
const CR_READY_FLAGS: u32 = CR_HSIRDY | CR_HSERDY | CR_PLLRDY;

/// RCC_CFGR (RM0008 7.3.2): SW [1:0] selects the clock, SWS [3:2] reports it.
const CFGR_SW: u32 = 0b11;
const CFGR_SWS_SHIFT: u32 = 2;

/// RCC_AHBENR reset value: SRAM and FLITF clocks on (RM0008 7.3.6).
const AHBENR_RESET: u32 = 0x14;
/// RCC_CSR reset value after power-on: PORRSTF and PINRSTF (RM0008 7.3.10).
const CSR_POWER_ON: u32 = 0x0C00_0000;

const REGISTERS: usize = (RCC_SIZE / 4) as usize;

#[derive(Clone, Debug)]
pub struct Rcc {
    registers: Vec<u32>,
}

impl Rcc {
    pub fn new() -> Self {
        let mut rcc = Rcc {
            registers: vec![0; REGISTERS],
        };
        rcc.reset();
        rcc.registers[(CSR / 4) as usize] = CSR_POWER_ON;
        rcc
    }

    /// A system reset: every register but CSR (its reset flags survive) to reset values.
    pub fn reset(&mut self) {
        let status = self.registers[(CSR / 4) as usize];
        self.registers.fill(0);
        self.registers[(CR / 4) as usize] = CR_RESET;
        self.registers[(AHBENR / 4) as usize] = AHBENR_RESET;
        self.registers[(CSR / 4) as usize] = status;
    }

    pub fn read(&self, offset: u32) -> u32 {
        self.registers[(offset / 4) as usize % REGISTERS]
    }

    pub fn write(&mut self, offset: u32, value: u32) {
        let index = (offset / 4) as usize % REGISTERS;
        self.registers[index] = match offset & !3 {
            CR => clock_control(value),
            CFGR => (value & !(CFGR_SW << CFGR_SWS_SHIFT)) | (value & CFGR_SW) << CFGR_SWS_SHIFT,
            _ => value,
        };
    }
}

impl Default for Rcc {
    fn default() -> Self {
        Rcc::new()
    }
}

/// A clock is ready as soon as it is on.
fn clock_control(value: u32) -> u32 {
    let mut result = value & !CR_READY_FLAGS;
    for (on, ready) in [
        (CR_HSION, CR_HSIRDY),
        (CR_HSEON, CR_HSERDY),
        (CR_PLLON, CR_PLLRDY),
    ] {
        if value & on != 0 {
            result |= ready;
        }
    }
    result
}
