//! Polling with a time limit on the probe's microsecond clock: the one loop that waits for
//! a power-up, a halt, a core register transfer, a reset or a flash operation.

/// A time limit: `micros` after `start`, on a microsecond clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    start: u64,
    micros: u64,
}

impl Deadline {
    pub fn new(now: u64, micros: u64) -> Self {
        Self { start: now, micros }
    }

    /// More than the limit has passed at `now` (a clock that went back counts as no time).
    pub fn passed(&self, now: u64) -> bool {
        now.saturating_sub(self.start) > self.micros
    }
}

/// Call `check` on `state` until it answers `Some`; `Err(timeout)` once `micros` have passed
/// on the clock `now` reads. `check` runs at least once; an error from it ends the wait.
pub fn poll<S: ?Sized, R, E>(
    state: &mut S,
    mut now: impl FnMut(&mut S) -> u64,
    micros: u64,
    timeout: E,
    mut check: impl FnMut(&mut S) -> Result<Option<R>, E>,
) -> Result<R, E> {
    let deadline = Deadline::new(now(state), micros);
    loop {
        if let Some(value) = check(state)? {
            return Ok(value);
        }
        if deadline.passed(now(state)) {
            return Err(timeout);
        }
    }
}

/// [`poll`] on target memory, with the memory's clock.
pub fn poll_memory<M: crate::Memory + ?Sized, R, E>(
    memory: &mut M,
    micros: u64,
    timeout: E,
    check: impl FnMut(&mut M) -> Result<Option<R>, E>,
) -> Result<R, E> {
    poll(memory, |memory| memory.now_micros(), micros, timeout, check)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock that advances 10 µs a read.
    struct Ticking(u64);

    fn tick(clock: &mut Ticking) -> u64 {
        clock.0 += 10;
        clock.0
    }

    #[test]
    fn polls_until_the_answer_or_the_limit() {
        let mut clock = Ticking(0);
        let mut calls = 0;
        let answer = poll(&mut clock, tick, 100, "late", |_| {
            calls += 1;
            Ok(if calls == 3 { Some(calls) } else { None })
        });
        assert_eq!(answer, Ok(3));
        let mut clock = Ticking(0);
        let never: Result<(), _> = poll(&mut clock, tick, 100, "late", |_| Ok(None));
        assert_eq!(never, Err("late"));
        assert!(clock.0 > 100 && clock.0 <= 130);
        let failed: Result<(), _> = poll(&mut clock, tick, 100, "late", |_| Err("broken"));
        assert_eq!(failed, Err("broken"));
    }

    #[test]
    fn a_clock_going_back_is_no_time() {
        let deadline = Deadline::new(1000, 50);
        assert!(!deadline.passed(10));
        assert!(!deadline.passed(1050));
        assert!(deadline.passed(1051));
    }
}
