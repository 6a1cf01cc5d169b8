//! A value behind a busy flag instead of a lock: a second caller (re-entry from a Python
//! callback, or another thread of the unix port) is refused, never blocked.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

pub struct Exclusive<T> {
    busy: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: access to `value` is guarded by `busy` (compare-exchange), so at most one `&mut T`
// exists at any time, possibly on another thread than the last one: hence `T: Send`.
unsafe impl<T: Send> Sync for Exclusive<T> {}

impl<T> Exclusive<T> {
    pub const fn new(value: T) -> Self {
        Self {
            busy: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Run `work` on the value, or return None if someone is already working on it.
    /// `work` must not raise (longjmp): the flag would stay set.
    pub fn with<R>(&self, work: impl FnOnce(&mut T) -> R) -> Option<R> {
        if self
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        // SAFETY: `busy` was false and is now ours: nobody else holds a reference.
        let result = work(unsafe { &mut *self.value.get() });
        self.busy.store(false, Ordering::Release);
        Some(result)
    }
}

/// A value made on first use. A static holding one is all zero bytes (a cleared flag and
/// uninitialised storage), so it lands in .bss; a static built by a `const fn` with any
/// non-zero field (a default setting, an `Option` niche) lands whole in .data, whose
/// initial image costs as much flash as the value has bytes (the probe's: 40 944 bytes on
/// the STLINK3MINI, docs/performance.md).
pub struct Deferred<T> {
    ready: bool,
    value: MaybeUninit<T>,
}

impl<T> Deferred<T> {
    pub const fn new() -> Self {
        Self {
            ready: false,
            value: MaybeUninit::uninit(),
        }
    }

    /// The value, made by `make` the first time. `make` should build it in place (an
    /// inlined constructor does: no copy of the value on the stack; checked for the
    /// probe in tests/test_builds.py).
    #[inline(always)]
    pub fn get_or_init(&mut self, make: impl FnOnce() -> T) -> &mut T {
        if !self.ready {
            self.value.write(make());
            self.ready = true;
        }
        // SAFETY: `ready` is set only after `value` was written, and never cleared.
        unsafe { self.value.assume_init_mut() }
    }
}
