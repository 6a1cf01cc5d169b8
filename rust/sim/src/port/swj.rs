//! SWJ-DP protocol selection (ADIv5.2 B5.2): after at least 50 cycles with SWDIO/TMS high,
//! the 16-bit sequence 0xE79E (LSB first) selects SWD and 0xE73C selects JTAG.

/// JTAG-to-SWD and SWD-to-JTAG select sequences (ADIv5.2 B5.2.2, B5.2.3).
pub const JTAG_TO_SWD: u16 = 0xE79E;
pub const SWD_TO_JTAG: u16 = 0xE73C;
const HIGH_CYCLES: u32 = 50;

/// Which protocol the SWJ-DP speaks. JTAG after power-on reset (ADIv5.2 B5.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WireMode {
    #[default]
    Jtag,
    Swd,
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
    fn needs_fifty_ones_first() {
        let mut watcher = SelectWatcher::default();
        feed(&mut watcher, u32::MAX, 30);
        assert_eq!(feed(&mut watcher, u32::from(JTAG_TO_SWD), 16), None);
    }
}
