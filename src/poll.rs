//! The poll entry points. The port's event loop calls `bmp_event_hook` (C glue) while the
//! REPL waits for input and while sleeping; it runs one step of each server.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

static BMP_STEPS: AtomicU32 = AtomicU32::new(0);
static DAP_STEPS: AtomicU32 = AtomicU32::new(0);
static IN_STEP: AtomicBool = AtomicBool::new(false);

/// A poll step was asked for while one was running (from a callback it made).
#[derive(Debug)]
pub struct AlreadyPolling;

/// One step of the GDB server: read what has arrived, answer, return.
#[unsafe(no_mangle)]
pub extern "C" fn bmp_loop() {
    increment(&BMP_STEPS);
}

/// One step of the CMSIS-DAP server.
#[unsafe(no_mangle)]
pub extern "C" fn dap_loop() {
    increment(&DAP_STEPS);
}

/// Loads and stores only: the poll runs on one thread, and thumbv6m has no atomic add.
fn increment(counter: &AtomicU32) {
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// Run one step of each server, unless a step is already running.
pub fn step() -> Result<(), AlreadyPolling> {
    if IN_STEP.load(Ordering::Relaxed) {
        return Err(AlreadyPolling);
    }
    IN_STEP.store(true, Ordering::Relaxed);
    bmp_loop();
    dap_loop();
    IN_STEP.store(false, Ordering::Relaxed);
    Ok(())
}

/// How many GDB server steps have run since start-up.
pub fn bmp_steps() -> u32 {
    BMP_STEPS.load(Ordering::Relaxed)
}

/// Called by the event hook (C glue). A step already running is left alone.
#[unsafe(no_mangle)]
pub extern "C" fn bmp_poll_step() {
    let _ = step();
}
