//! The core driver against a small model of a Cortex-M3's debug registers (ARMv7-M C1.6):
//! DHCSR halting and stepping, the DCRSR/DCRDR register transfer, AIRCR reset with the
//! reset vector catch, and FPB/DWT sizes. Every other address is plain memory.

use super::*;
use adi::Error as AdiError;
use std::collections::HashMap;

// The model's own register facts (ARMv7-M C1.6, C1.8.7, C1.11.3, B3.2), apart from the
// typed registers under test.
const CPUID: u32 = 0xE000_ED00;
const AIRCR: u32 = 0xE000_ED0C;
const DFSR: u32 = 0xE000_ED30;
const DHCSR: u32 = 0xE000_EDF0;
const DCRSR: u32 = 0xE000_EDF4;
const DEMCR: u32 = 0xE000_EDFC;
const FP_CTRL: u32 = 0xE000_2000;
const DWT_CTRL: u32 = 0xE000_1000;
/// DWT_MASK0..3 (C1.8.16); the Cortex-M3 implements MASK [3:0] (Cortex-M3 TRM 11-25).
const DWT_MASKS: [u32; 4] = [0xE000_1024, 0xE000_1034, 0xE000_1044, 0xE000_1054];
const DHCSR_KEY: u32 = 0xA05F << 16;
const DHCSR_C_DEBUGEN: u32 = 1 << 0;
const DHCSR_C_HALT: u32 = 1 << 1;
const DHCSR_C_STEP: u32 = 1 << 2;
const DHCSR_S_REGRDY: u32 = 1 << 16;
const DHCSR_S_HALT: u32 = 1 << 17;
const DHCSR_S_RESET_ST: u32 = 1 << 25;
const DCRSR_REGWNR: u32 = 1 << 16;
const DEMCR_VC_CORERESET: u32 = 1 << 0;
const DEMCR_TRCENA: u32 = 1 << 24;
const DFSR_HALTED: u32 = 1 << 0;
const AIRCR_SYSRESETREQ: u32 = (0x05FA << 16) | (1 << 2);

/// Cortex-M3 r1p1 (ARMv7-M B3.2.3).
const CORTEX_M3: u32 = 0x411F_C231;
/// FP_CTRL of a revision-0 FPB with 6 code and 2 literal comparators (C1.11.3).
const FP_CTRL_6_CODE: u32 = 0x0000_0260;
/// DWT_CTRL with 4 comparators (C1.8.7).
const DWT_CTRL_4_COMPARATORS: u32 = 0x4000_0000;

struct Model {
    memory: HashMap<u32, u32>,
    /// R0..R12, SP, LR, DebugReturnAddress, xPSR, MSP, PSP, and at 0x14 the packed
    /// CONTROL/FAULTMASK/BASEPRI/PRIMASK (C1.6.3); ARMv8-M's 0x18-0x1F, 0x22, 0x23.
    core: [u32; 0x24],
    dcrdr: u32,
    halted: bool,
    /// The core halts when asked (false: stuck, e.g. without a debug clock).
    halts: bool,
    stepping: bool,
    reset_seen: bool,
    /// Further DHCSR status bits (ARMv8-M's S_SDE).
    status: u32,
    /// How many DHCSR reads after a DCRSR write still show S_REGRDY 0; the transfer is
    /// made at the first read that shows it 1 (DCRDR stale until then).
    transfer_delay: u32,
    /// The transfer under way (REGSEL, REGWnR) and the reads it still takes.
    transfer: Option<(usize, bool)>,
    busy: u32,
    /// Microseconds, 10 a register access.
    now: u64,
    writes: Vec<(u32, u32)>,
}

impl Model {
    fn new() -> Self {
        let mut memory = HashMap::new();
        memory.insert(CPUID, CORTEX_M3);
        memory.insert(FP_CTRL, FP_CTRL_6_CODE);
        memory.insert(DWT_CTRL, DWT_CTRL_4_COMPARATORS);
        Self {
            memory,
            core: [0; 0x24],
            dcrdr: 0,
            halted: false,
            halts: true,
            stepping: false,
            reset_seen: false,
            status: 0,
            transfer_delay: 0,
            transfer: None,
            busy: 0,
            now: 0,
            writes: Vec::new(),
        }
    }

    fn word(&self, address: u32) -> u32 {
        self.memory.get(&address).copied().unwrap_or(0)
    }

    fn read(&mut self, address: u32) -> u32 {
        self.now += 10;
        match address {
            DHCSR => {
                let mut value = self.word(DHCSR) & 0xF | self.status;
                if self.halted {
                    value |= DHCSR_S_HALT;
                    if self.busy > 0 {
                        self.busy -= 1;
                    } else {
                        self.finish_transfer();
                        value |= DHCSR_S_REGRDY;
                    }
                }
                if std::mem::take(&mut self.reset_seen) {
                    value |= DHCSR_S_RESET_ST;
                }
                value
            }
            DCRDR => self.dcrdr,
            _ => self.word(address),
        }
    }

    fn write(&mut self, address: u32, value: u32) {
        self.now += 10;
        self.writes.push((address, value));
        match address {
            DHCSR if value & 0xFFFF_0000 == DHCSR_KEY => {
                self.memory.insert(DHCSR, value & 0xF);
                if value & DHCSR_C_HALT != 0 {
                    self.halted |= self.halts;
                } else {
                    // Resume, or one step that halts again at once (C1.6.2).
                    self.stepping = value & DHCSR_C_STEP != 0;
                    self.halted = self.stepping;
                }
                if self.halted {
                    *self.memory.entry(DFSR).or_default() |= DFSR_HALTED;
                }
            }
            DHCSR => {} // without the key: ignored
            DCRSR => {
                self.transfer = Some(((value & 0x7F) as usize, value & DCRSR_REGWNR != 0));
                self.busy = self.transfer_delay;
                if self.busy == 0 {
                    self.finish_transfer();
                }
            }
            DCRDR => self.dcrdr = value,
            DFSR => *self.memory.entry(DFSR).or_default() &= !value, // write one to clear
            _ if DWT_MASKS.contains(&address) => {
                self.memory.insert(address, value & 0xF);
            }
            AIRCR if value == AIRCR_SYSRESETREQ => {
                self.reset_seen = true;
                self.halted = self.word(DEMCR) & DEMCR_VC_CORERESET != 0;
            }
            _ => {
                self.memory.insert(address, value);
            }
        }
    }
}

impl Model {
    fn finish_transfer(&mut self) {
        match self.transfer.take() {
            Some((register, true)) => self.core[register] = self.dcrdr,
            Some((register, false)) => self.dcrdr = self.core[register],
            None => {}
        }
    }
}

impl Memory for Model {
    fn read_words(&mut self, address: u32, words: &mut [u32]) -> Result<(), AdiError> {
        for (index, word) in words.iter_mut().enumerate() {
            *word = self.read(address + 4 * index as u32);
        }
        Ok(())
    }

    fn write_words(&mut self, address: u32, words: &[u32]) -> Result<(), AdiError> {
        for (index, &word) in words.iter().enumerate() {
            self.write(address + 4 * index as u32, word);
        }
        Ok(())
    }

    fn write_halves(&mut self, address: u32, _: &[u16]) -> Result<(), AdiError> {
        Err(AdiError::Bus { address })
    }

    fn read_bytes(&mut self, address: u32, _: &mut [u8]) -> Result<(), AdiError> {
        Err(AdiError::Bus { address })
    }

    fn write_bytes(&mut self, address: u32, _: &[u8]) -> Result<(), AdiError> {
        Err(AdiError::Bus { address })
    }

    fn now_micros(&mut self) -> u64 {
        self.now
    }
}

#[test]
fn attach_identifies_enables_tracing_and_halts() {
    let mut model = Model::new();
    let core = Core::attach(&mut model).unwrap();
    assert_eq!(core.kind(), CoreKind::from_cpuid(CORTEX_M3));
    assert_eq!(core.breakpoints.count(), 6);
    assert_eq!(core.watchpoints.count(), 4);
    assert!(model.halted);
    assert_ne!(model.word(DEMCR) & DEMCR_TRCENA, 0);
    assert!(
        model
            .writes
            .contains(&(DHCSR, DHCSR_KEY | DHCSR_C_DEBUGEN | DHCSR_C_HALT))
    );
}

#[test]
fn a_core_that_never_halts_times_out() {
    let mut model = Model::new();
    model.halts = false;
    assert_eq!(Core::attach(&mut model).err(), Some(Error::HaltTimeout));
    assert!(model.now > HALT_TIMEOUT_MICROS);
}

#[test]
fn core_registers_through_dcrsr_and_dcrdr() {
    let mut model = Model::new();
    let mut core = Core::attach(&mut model).unwrap();
    model.core[PC] = 0x0800_0123;
    model.core[0x14] = 0x0102_0304; // CONTROL, FAULTMASK, BASEPRI, PRIMASK
    assert_eq!(core.read_register(&mut model, PC), Ok(0x0800_0123));
    assert_eq!(core.read_register(&mut model, 19), Ok(0x04)); // PRIMASK
    assert_eq!(core.read_register(&mut model, 22), Ok(0x01)); // CONTROL
    core.write_register(&mut model, 20, 0xAA).unwrap(); // BASEPRI
    assert_eq!(model.core[0x14], 0x0102_AA04);
    assert_eq!(
        core.read_register(&mut model, REGISTER_COUNT),
        Err(Error::NoSuchRegister(REGISTER_COUNT))
    );
    let mut values = [0; REGISTER_COUNT];
    core.read_registers(&mut model, &mut values).unwrap();
    assert_eq!(
        (values[PC], values[19], values[20]),
        (0x0800_0123, 0x04, 0xAA)
    );
    values[0] = 0xDEAD_BEEF;
    values[21] = 0x01;
    core.write_registers(&mut model, &values).unwrap();
    assert_eq!(
        (model.core[0], model.core[0x14]),
        (0xDEAD_BEEF, 0x0101_AA04)
    );
}

/// A transfer that has not completed when the block access reads DHCSR (S_REGRDY 0,
/// ARMv7-M C1.6.3): the stale DCRDR value is not taken; DHCSR is polled, DCRDR read again.
#[test]
fn a_slow_register_transfer_is_waited_for() {
    let mut model = Model::new();
    let mut core = Core::attach(&mut model).unwrap();
    model.core[..4].copy_from_slice(&[10, 11, 12, 13]);
    model.transfer_delay = 2;
    for number in 0..4 {
        assert_eq!(
            core.read_register(&mut model, number),
            Ok(10 + number as u32)
        );
    }
    core.write_register(&mut model, 1, 0x1234).unwrap();
    core.write_register(&mut model, 2, 0x5678).unwrap();
    assert_eq!(model.busy, 0, "the last write was waited for");
    assert_eq!(model.core[..3], [10, 0x1234, 0x5678]);
}

#[test]
fn registers_need_a_halted_core() {
    let mut model = Model::new();
    let mut core = Core::attach(&mut model).unwrap();
    core.resume(&mut model, false).unwrap();
    assert!(!model.halted);
    assert_eq!(core.read_register(&mut model, 0), Err(Error::NotHalted));
}

#[test]
fn resume_sets_the_thumb_bit_and_a_step_halts_again() {
    let mut model = Model::new();
    let mut core = Core::attach(&mut model).unwrap();
    model.core[XPSR] = 0;
    core.resume(&mut model, true).unwrap();
    assert_eq!(model.core[XPSR], XPSR_THUMB);
    assert!(model.stepping);
    assert_eq!(core.poll(&mut model), Ok(Some(HaltReason::Step)));
    core.resume(&mut model, false).unwrap();
    assert_eq!(core.poll(&mut model), Ok(None));
}

#[test]
fn reset_and_halt_catches_the_reset_vector() {
    let mut model = Model::new();
    let mut core = Core::attach(&mut model).unwrap();
    core.resume(&mut model, false).unwrap();
    core.reset(&mut model, true).unwrap();
    assert!(model.halted);
    // The catch is set for the reset and taken away after it.
    assert!(
        model
            .writes
            .iter()
            .any(|&(address, value)| address == DEMCR && value & DEMCR_VC_CORERESET != 0)
    );
    assert_eq!(model.word(DEMCR) & DEMCR_VC_CORERESET, 0);
}

#[test]
fn a_reset_that_never_comes_times_out() {
    let mut model = Model::new();
    let mut core = Core::attach(&mut model).unwrap();
    // A model whose AIRCR ignores the request: no S_RESET_ST ever.
    let before = model.now;
    let mut quiet = Quiet(&mut model);
    assert_eq!(core.reset(&mut quiet, false), Err(Error::ResetTimeout));
    assert!(model.now - before > RESET_TIMEOUT_MICROS);
}

/// The model with writes to AIRCR dropped.
struct Quiet<'a>(&'a mut Model);

impl Memory for Quiet<'_> {
    fn read_words(&mut self, address: u32, words: &mut [u32]) -> Result<(), AdiError> {
        self.0.read_words(address, words)
    }
    fn write_words(&mut self, address: u32, words: &[u32]) -> Result<(), AdiError> {
        if address == AIRCR {
            return Ok(());
        }
        self.0.write_words(address, words)
    }
    fn write_halves(&mut self, address: u32, halves: &[u16]) -> Result<(), AdiError> {
        self.0.write_halves(address, halves)
    }
    fn read_bytes(&mut self, address: u32, bytes: &mut [u8]) -> Result<(), AdiError> {
        self.0.read_bytes(address, bytes)
    }
    fn write_bytes(&mut self, address: u32, bytes: &[u8]) -> Result<(), AdiError> {
        self.0.write_bytes(address, bytes)
    }
    fn now_micros(&mut self) -> u64 {
        self.0.now_micros()
    }
}

#[test]
fn breakpoints_fill_the_fpb_comparators() {
    let mut model = Model::new();
    let mut core = Core::attach(&mut model).unwrap();
    for slot in 0..6 {
        core.breakpoints
            .set(&mut model, 0x0800_0100 + 4 * slot)
            .unwrap();
    }
    // Revision 0: REPLACE chooses the lower half-word, COMP holds bits [28:2], ENABLE.
    assert_eq!(model.word(FP_COMP0), (1 << 30) | 0x0800_0100 | 1);
    assert_eq!(
        core.breakpoints.set(&mut model, 0x0800_0200),
        Err(Error::NoFreeComparator)
    );
    assert_eq!(
        core.breakpoints.set(&mut model, 0x2000_0000),
        Err(Error::Unsupported)
    );
    core.breakpoints.clear(&mut model, 0x0800_0100).unwrap();
    assert_eq!(model.word(FP_COMP0), 0);
    assert_eq!(
        core.breakpoints.clear(&mut model, 0x0800_0100),
        Err(Error::NotSet)
    );
}

/// Cortex-M33 r0p4 (ARMv8-M mainline), and its DWT's DEVARCH (ARCHITECT ARM, PRESENT,
/// ARCHVER 1, ARCHID 0x1A02: ARMv8-M ARM D1.2).
const CORTEX_M33: u32 = 0x410F_D214;
const DWT_DEVARCH: u32 = 0xE000_1FBC;
const DWT_DEVARCH_ARMV8M: u32 = 0x4771_1A02;
const DWT_FUNCTION0: u32 = 0xE000_1028;
const DWT_MASK0: u32 = 0xE000_1024;

#[test]
fn armv8m_watchpoints_use_match_action_and_datavsize() {
    let mut model = Model::new();
    model.memory.insert(CPUID, CORTEX_M33);
    model.memory.insert(DWT_DEVARCH, DWT_DEVARCH_ARMV8M);
    let mut core = Core::attach(&mut model).unwrap();
    assert!(core.watchpoints.is_armv8m());
    let watches = [
        (WatchKind::Write, 4, 0b0101 | 1 << 4 | 2 << 10),
        (WatchKind::Read, 2, 0b0110 | 1 << 4 | 1 << 10),
        (WatchKind::Access, 1, 0b0100 | 1 << 4),
    ];
    for (slot, &(kind, length, function)) in watches.iter().enumerate() {
        core.watchpoints
            .set(&mut model, kind, 0x2000_0100, length)
            .unwrap();
        let offset = 0x10 * slot as u32;
        assert_eq!(model.word(DWT_FUNCTION0 + offset), function, "{kind:?}");
        assert!(
            !model
                .writes
                .iter()
                .any(|&(address, _)| address == DWT_MASK0 + offset),
            "no DWT_MASK on ARMv8-M"
        );
    }
    // One comparator watches at most 4 bytes (DATAVSIZE); no comparator here says (ID)
    // it can hold a limit, so a larger watch is refused.
    assert_eq!(
        core.watchpoints
            .set(&mut model, WatchKind::Write, 0x2000_0200, 8),
        Err(Error::WatchRange {
            address: 0x2000_0200,
            length: 8,
            largest: 4
        })
    );
}

#[test]
fn an_armv7m_core_keeps_the_armv7m_dwt_encoding() {
    let mut model = Model::new();
    // DEVARCH is not even read on an ARMv7-M core.
    model.memory.insert(DWT_DEVARCH, DWT_DEVARCH_ARMV8M);
    let mut core = Core::attach(&mut model).unwrap();
    assert!(!core.watchpoints.is_armv8m());
    core.watchpoints
        .set(&mut model, WatchKind::Write, 0x2000_0100, 8)
        .unwrap();
    assert_eq!(model.word(DWT_MASK0), 3);
    assert_eq!(model.word(DWT_FUNCTION0), 6);
}

const ID_PFR1: u32 = 0xE000_ED44;
/// ID_PFR1 of a Cortex-M33 with the Security Extension (Security [7:4] 1).
const ID_PFR1_SECURITY: u32 = 0x210;
const DHCSR_S_SDE: u32 = 1 << 20;

fn cortex_m33(security: bool, secure_debug: bool) -> Model {
    let mut model = Model::new();
    model.memory.insert(CPUID, CORTEX_M33);
    if security {
        model.memory.insert(ID_PFR1, ID_PFR1_SECURITY);
    }
    if secure_debug {
        model.status = DHCSR_S_SDE;
    }
    model
}

#[test]
fn armv8m_banked_registers_follow_security_and_secure_debug() {
    let mut model = cortex_m33(true, true);
    let mut core = Core::attach(&mut model).unwrap();
    assert_eq!(core.banked(), Banked::Secure);
    assert_eq!(core.target_description(), TARGET_XML_SECURE);
    // No FPU (MVFR0 reads zero): the eight follow control, GDB's 23-30, DCRSR 0x18-0x1F.
    for number in 23..31 {
        model.core[number - 23 + 0x18] = 0x100 * number as u32;
        assert_eq!(core.register_size(number), Some(4));
        assert_eq!(
            core.read_register(&mut model, number),
            Ok(0x100 * number as u32)
        );
    }
    core.write_register(&mut model, 27, 0x2000_0400).unwrap(); // msplim_s
    assert_eq!(model.core[0x1C], 0x2000_0400);
    // Then primask_s, basepri_s, faultmask_s, control_s (31-34) from DCRSR 0x22 and the
    // Non-secure ones (35-38) from 0x23, one byte each: CONTROL [31:24], FAULTMASK
    // [23:16], BASEPRI [15:8], PRIMASK [7:0]; a write keeps the other three bytes.
    model.core[0x22] = 0x0201_A001;
    model.core[0x23] = 0x0300_4000;
    let read = |core: &mut Core, model: &mut Model, number| core.read_register(model, number);
    let values: Vec<_> = (31..39).map(|n| read(&mut core, &mut model, n)).collect();
    assert_eq!(
        values,
        [1, 0xA0, 1, 2, 0, 0x40, 0, 3].map(Ok),
        "primask/basepri/faultmask/control _s then _ns"
    );
    core.write_register(&mut model, 36, 0x80).unwrap(); // basepri_ns
    assert_eq!(model.core[0x23], 0x0300_8000);
    core.write_register(&mut model, 34, 0).unwrap(); // control_s
    assert_eq!(model.core[0x22], 0x0001_A001);
    assert_eq!(model.core[0x14], 0, "the current state's word untouched");
    assert_eq!(core.register_size(38), Some(4));
    assert_eq!(core.register_size(39), None);
    let description = core.target_description();
    let names: Vec<_> = description
        .split("<reg name=\"")
        .skip(1 + 23)
        .map(|reg| reg.split('"').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "msp_ns",
            "psp_ns",
            "msp_s",
            "psp_s",
            "msplim_s",
            "psplim_s",
            "msplim_ns",
            "psplim_ns",
            "primask_s",
            "basepri_s",
            "faultmask_s",
            "control_s",
            "primask_ns",
            "basepri_ns",
            "faultmask_ns",
            "control_ns"
        ],
        "GDB numbers the registers in the description's order"
    );

    // Only Non-secure debug: the Non-secure limits, nothing Secure is read.
    let mut model = cortex_m33(true, false);
    let mut core = Core::attach(&mut model).unwrap();
    assert_eq!(core.banked(), Banked::NonSecure);
    assert_eq!(core.target_description(), TARGET_XML_NONSECURE);
    model.core[0x1E] = 0x2000_0800;
    assert_eq!(core.read_register(&mut model, 23), Ok(0x2000_0800));
    assert_eq!(core.register_size(25), None);
    assert!(
        !model.writes.iter().any(|&(address, value)| address == DCRSR
            && matches!(value & 0x7F, 0x18..=0x1D | 0x22 | 0x23))
    );
    assert!(!TARGET_XML_NONSECURE.contains("control_"));

    // No Security Extension: the limits are the Non-secure ones.
    let mut model = cortex_m33(false, false);
    let core = Core::attach(&mut model).unwrap();
    assert_eq!(core.banked(), Banked::NonSecure);

    // An ARMv7-M core has none of them.
    let mut model = Model::new();
    let core = Core::attach(&mut model).unwrap();
    assert_eq!(core.banked(), Banked::None);
    assert_eq!(core.register_size(23), None);
}

#[test]
fn watchpoints_check_range_and_comparators() {
    let mut model = Model::new();
    let mut core = Core::attach(&mut model).unwrap();
    assert_eq!(core.watchpoints.largest(), 1 << 15, "MASK read back as 0xF");
    assert_eq!(model.word(DWT_MASKS[0]), 0, "the probe leaves MASK0 clear");
    let range = |address, length| Error::WatchRange {
        address,
        length,
        largest: 1 << 15,
    };
    for (address, length) in [(0x2000_0001, 4), (0x2000_0000, 3), (0x2000_0000, 1 << 16)] {
        assert_eq!(
            core.watchpoints
                .set(&mut model, WatchKind::Write, address, length),
            Err(range(address, length))
        );
    }
    core.watchpoints
        .set(&mut model, WatchKind::Read, 0x2000_0000, 1 << 15)
        .unwrap();
    assert_eq!(model.word(DWT_MASKS[0]), 15);
    assert_eq!(model.word(DWT_FUNCTION0), 5);
    for slot in 1..4 {
        core.watchpoints
            .set(&mut model, WatchKind::Access, 0x2000_0000 + 4 * slot, 4)
            .unwrap();
    }
    let refused = core
        .watchpoints
        .set(&mut model, WatchKind::Write, 0x2000_0100, 4);
    assert_eq!(refused, Err(Error::NoFreeWatchpoint { count: 4 }));
    assert_eq!(
        refused.unwrap_err().to_string(),
        "no free watchpoint: all 4 DWT comparators of this core are in use"
    );
    assert_eq!(
        range(0x2000_0001, 4).to_string(),
        "cannot watch 4 bytes at 0x20000001: a DWT comparator watches a power-of-two length \
         up to 32768 bytes at an address aligned to it"
    );
}

/// DWT_FUNCTIONn.ID of the Cortex-M33's four comparators (ARMv8-M ARM D1.2): 1 and 3 can
/// hold a data address limit (0b11xxx).
const CORTEX_M33_DWT_IDS: [u32; 4] = [0b01011, 0b11010, 0b01010, 0b11110];

fn cortex_m33_with_dwt_ids() -> Model {
    let mut model = Model::new();
    model.memory.insert(CPUID, CORTEX_M33);
    model.memory.insert(DWT_DEVARCH, DWT_DEVARCH_ARMV8M);
    for (slot, id) in CORTEX_M33_DWT_IDS.iter().enumerate() {
        model
            .memory
            .insert(DWT_FUNCTION0 + 0x10 * slot as u32, id << 27);
    }
    model
}

#[test]
fn armv8m_ranges_take_a_comparator_and_its_limit() {
    let mut model = cortex_m33_with_dwt_ids();
    let mut core = Core::attach(&mut model).unwrap();
    assert!(core.watchpoints.has_ranges());
    let comp = |slot: u32| 0xE000_1020 + 0x10 * slot;
    let function = |slot: u32| DWT_FUNCTION0 + 0x10 * slot;
    // 8 bytes: comparator 0 the first address (DATAVSIZE 0, a debug event), 1 the limit.
    core.watchpoints
        .set(&mut model, WatchKind::Write, 0x2000_0100, 8)
        .unwrap();
    assert_eq!(model.word(comp(0)), 0x2000_0100);
    assert_eq!(model.word(function(0)), 0b0101 | 1 << 4);
    assert_eq!(model.word(comp(1)), 0x2000_0107, "the last byte, inclusive");
    assert_eq!(model.word(function(1)), 0b0111);
    // An unaligned 2 bytes is a range too: comparators 2 and 3.
    core.watchpoints
        .set(&mut model, WatchKind::Read, 0x2000_0201, 2)
        .unwrap();
    assert_eq!(
        (model.word(comp(2)), model.word(comp(3))),
        (0x2000_0201, 0x2000_0202)
    );
    assert_eq!(model.word(function(2)), 0b0110 | 1 << 4);
    // No pair left: refused clearly.
    let refused = core
        .watchpoints
        .set(&mut model, WatchKind::Access, 0x2000_0300, 16);
    assert_eq!(refused, Err(Error::NoFreeWatchpointPair { length: 16 }));
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .starts_with("no free pair of DWT comparators for a 16-byte watch"),
    );
    // Cleared, both comparators are off and free again.
    core.watchpoints
        .clear(&mut model, WatchKind::Write, 0x2000_0100, 8)
        .unwrap();
    assert_eq!((model.word(function(0)), model.word(function(1))), (0, 0));
    // A single watch takes comparator 0, which leaves no pair (the only limit-capable
    // comparators are 1 and 3, and 3 is in use).
    core.watchpoints
        .set(&mut model, WatchKind::Write, 0x2000_0400, 4)
        .unwrap();
    assert_eq!(model.word(comp(0)), 0x2000_0400);
    assert_eq!(
        core.watchpoints
            .set(&mut model, WatchKind::Write, 0x2000_0500, 8),
        Err(Error::NoFreeWatchpointPair { length: 8 })
    );
    // A match on either comparator of a range reports the range.
    model.memory.insert(function(3), 0b0111 | 1 << 24);
    assert_eq!(
        core.watchpoints.matched(&mut model),
        Ok(Some((WatchKind::Read, 0x2000_0201)))
    );
    // Zero bytes, or a range past the top of memory, are refused as ranges.
    for (address, length) in [(0x2000_0000, 0), (0xFFFF_FFFC, 8)] {
        assert!(matches!(
            core.watchpoints
                .set(&mut model, WatchKind::Write, address, length),
            Err(Error::WatchRange { .. })
        ));
    }
    core.detach(&mut model).unwrap();
    for slot in 0..4 {
        assert_eq!(
            model.word(function(slot)) & 0xF,
            0,
            "{slot} off after detach"
        );
    }
}

/// DHCSR.S_SDE is read again on request (the session does after each reset): Secure debug
/// opened later gives the secext registers, closed again only the Non-secure limits.
#[test]
fn armv8m_secure_debug_is_read_again() {
    let mut model = cortex_m33(true, false);
    let mut core = Core::attach(&mut model).unwrap();
    assert_eq!(core.banked(), Banked::NonSecure);
    assert_eq!(core.refresh_secure_debug(&mut model), Ok(false));
    model.status = DHCSR_S_SDE;
    assert_eq!(core.refresh_secure_debug(&mut model), Ok(true));
    assert_eq!(core.banked(), Banked::Secure);
    assert_eq!(core.target_description(), TARGET_XML_SECURE);
    model.core[0x1A] = 0x2000_0F00;
    assert_eq!(core.read_register(&mut model, 25), Ok(0x2000_0F00), "msp_s");
    model.status = 0;
    assert_eq!(core.refresh_secure_debug(&mut model), Ok(true));
    assert_eq!(core.register_size(25), None);
    // Without the Security Extension S_SDE means nothing: always the Non-secure limits.
    let mut model = cortex_m33(false, true);
    let mut core = Core::attach(&mut model).unwrap();
    assert_eq!(core.refresh_secure_debug(&mut model), Ok(false));
    assert_eq!(core.banked(), Banked::NonSecure);
}
