//! SWJ-DP protocol selection (ADIv5.2 B5.2): after at least 50 cycles with SWDIO/TMS high,
//! the 16-bit sequence 0xE79E (LSB first) selects SWD and 0xE73C selects JTAG.
//!
//! A multi-drop SW-DP (DPv2, no JTAG: the RP2040's) has the dormant state instead
//! (ADIv5.2 B5.3): it leaves it on the 128-bit selection alert followed by four low
//! cycles and the SWD activation code 0x1A, and enters it again on the SWD-to-dormant
//! sequence 0xE3BC after at least 50 ones. It powers up dormant here (hosts for the
//! RP2040 always wake it: OpenOCD, pyOCD).

/// JTAG-to-SWD and SWD-to-JTAG select sequences (ADIv5.2 B5.2.2, B5.2.3).
pub const JTAG_TO_SWD: u16 = 0xE79E;
pub const SWD_TO_JTAG: u16 = 0xE73C;
/// SWD-to-dormant select sequence (ADIv5.2 B5.3.3).
pub const SWD_TO_DORMANT: u16 = 0xE3BC;
/// The selection alert (ADIv5.2 B5.3.4), as sent: least significant bit first.
pub const SELECTION_ALERT: u128 = 0x19BC_0EA2_E3DD_AFE9_8685_2D95_6209_F392;
/// Four low cycles, then the SWD activation code 0x1A, LSB first (ADIv5.2 B5.3.4).
pub const SWD_ACTIVATION: u32 = 0x1A << 4;
const ACTIVATION_BITS: u32 = 12;
const HIGH_CYCLES: u32 = 50;

/// Which protocol the DP speaks. An SWJ-DP speaks JTAG after power-on reset (ADIv5.2
/// B5.2.1); a multi-drop SW-DP is dormant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WireMode {
    #[default]
    Jtag,
    Swd,
    /// Listening only for the selection alert (ADIv5.2 B5.3).
    Dormant,
}

/// The kind of debug port at the pins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PortKind {
    /// SWJ-DP: JTAG and SWD, select sequences, no dormant state.
    #[default]
    SerialWireJtag,
    /// SW-DP version 2 with multi-drop and the dormant state, no JTAG.
    MultidropSerialWire,
}

impl PortKind {
    pub fn power_on_mode(self) -> WireMode {
        match self {
            PortKind::SerialWireJtag => WireMode::Jtag,
            PortKind::MultidropSerialWire => WireMode::Dormant,
        }
    }
}

/// Watches a dormant DP's line for the selection alert and the SWD activation code.
#[derive(Clone, Debug, Default)]
pub struct DormantWatcher {
    window: u128,
    /// Bits of the activation phase seen after the alert (None: no alert yet).
    activation: Option<(u32, u32)>,
}

impl DormantWatcher {
    /// One rising edge while dormant; true when the activation code completes.
    pub fn clock(&mut self, level: bool) -> bool {
        if let Some((bits, count)) = self.activation {
            let bits = bits | u32::from(level) << count;
            if count + 1 < ACTIVATION_BITS {
                self.activation = Some((bits, count + 1));
                return false;
            }
            self.activation = None;
            self.window = 0;
            return bits == SWD_ACTIVATION;
        }
        self.window = self.window >> 1 | u128::from(level) << 127;
        if self.window == SELECTION_ALERT {
            self.activation = Some((0, 0));
        }
        false
    }
}

/// Watches SWDIO/TMS for a select sequence. Probes put a few idle (low) cycles between
/// the ones and the sequence, so the last 16 bits are matched as a sliding window, for a
/// while after the run of ones.
#[derive(Clone, Debug, Default)]
pub struct SelectWatcher {
    high_cycles: u32,
    /// Cycles since a run of at least 50 ones ended (None: not armed).
    since_ones: Option<u32>,
    window: u16,
}

/// How many cycles after the ones the sequence may still end (16 idle bits allowed).
const WINDOW_CYCLES: u32 = 32;

impl SelectWatcher {
    /// One rising edge with SWDIO/TMS at `level` (a cycle the target drives counts as low),
    /// for a DP of `kind` now speaking `mode`.
    pub fn clock_for(&mut self, level: bool, kind: PortKind, mode: WireMode) -> Option<WireMode> {
        let selected = self.clock(level)?;
        match (kind, mode, selected) {
            (PortKind::SerialWireJtag, _, WireMode::Dormant) => None,
            (PortKind::SerialWireJtag, _, selected) => Some(selected),
            (PortKind::MultidropSerialWire, WireMode::Swd, WireMode::Dormant) => {
                Some(WireMode::Dormant)
            }
            (PortKind::MultidropSerialWire, _, _) => None,
        }
    }

    /// One rising edge with SWDIO/TMS at `level` (a cycle the target drives counts as low).
    pub fn clock(&mut self, level: bool) -> Option<WireMode> {
        if level {
            self.high_cycles += 1;
        } else {
            if self.high_cycles >= HIGH_CYCLES {
                self.since_ones = Some(0);
                self.window = 0;
            }
            self.high_cycles = 0;
        }
        let since = self.since_ones?;
        self.window = self.window >> 1 | u16::from(level) << 15;
        self.since_ones = (since < WINDOW_CYCLES).then_some(since + 1);
        if since + 1 < 16 {
            return None;
        }
        let mode = match self.window {
            JTAG_TO_SWD => WireMode::Swd,
            SWD_TO_JTAG => WireMode::Jtag,
            SWD_TO_DORMANT => WireMode::Dormant,
            _ => return None,
        };
        self.since_ones = None;
        Some(mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(watcher: &mut SelectWatcher, bits: u32, count: u32) -> Option<WireMode> {
        let mut result = None;
        for index in 0..count {
            result = result.or(watcher.clock(bits >> index & 1 != 0));
        }
        result
    }

    #[test]
    fn recognises_both_sequences_after_ones() {
        let mut watcher = SelectWatcher::default();
        feed(&mut watcher, u32::MAX, 30);
        feed(&mut watcher, u32::MAX, 30);
        assert_eq!(
            feed(&mut watcher, u32::from(JTAG_TO_SWD), 16),
            Some(WireMode::Swd)
        );
        feed(&mut watcher, u32::MAX, 30);
        feed(&mut watcher, u32::MAX, 30);
        assert_eq!(
            feed(&mut watcher, u32::from(SWD_TO_JTAG), 16),
            Some(WireMode::Jtag)
        );
    }

    #[test]
    fn allows_idle_cycles_before_the_sequence() {
        let mut watcher = SelectWatcher::default();
        feed(&mut watcher, u32::MAX, 30);
        feed(&mut watcher, u32::MAX, 30);
        feed(&mut watcher, 0, 2);
        assert_eq!(
            feed(&mut watcher, u32::from(JTAG_TO_SWD), 16),
            Some(WireMode::Swd)
        );
    }

    #[test]
    fn wakes_from_dormant_on_the_alert_and_activation_code() {
        let mut watcher = DormantWatcher::default();
        let mut woke = false;
        for _ in 0..8 {
            watcher.clock(true);
        }
        for index in 0..128 {
            woke |= watcher.clock(SELECTION_ALERT >> index & 1 != 0);
        }
        assert!(!woke);
        for index in 0..ACTIVATION_BITS {
            woke = watcher.clock(SWD_ACTIVATION >> index & 1 != 0);
        }
        assert!(woke);
        // A wrong activation code does not wake it.
        for index in 0..128 {
            watcher.clock(SELECTION_ALERT >> index & 1 != 0);
        }
        for index in 0..ACTIVATION_BITS {
            woke = watcher.clock(0x0A0 >> index & 1 != 0);
        }
        assert!(!woke);
    }

    #[test]
    fn a_multidrop_port_ignores_jtag_and_sleeps_on_swd_to_dormant() {
        let mut watcher = SelectWatcher::default();
        let kind = PortKind::MultidropSerialWire;
        let mut feed_for = |bits: u32, count: u32| {
            let mut result = None;
            for index in 0..count {
                result = result.or(watcher.clock_for(bits >> index & 1 != 0, kind, WireMode::Swd));
            }
            result
        };
        feed_for(u32::MAX, 30);
        feed_for(u32::MAX, 30);
        assert_eq!(feed_for(u32::from(SWD_TO_JTAG), 16), None);
        feed_for(u32::MAX, 30);
        feed_for(u32::MAX, 30);
        assert_eq!(
            feed_for(u32::from(SWD_TO_DORMANT), 16),
            Some(WireMode::Dormant)
        );
    }

    #[test]
    fn needs_fifty_ones_first() {
        let mut watcher = SelectWatcher::default();
        feed(&mut watcher, u32::MAX, 30);
        assert_eq!(feed(&mut watcher, u32::from(JTAG_TO_SWD), 16), None);
    }
}
