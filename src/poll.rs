//! The poll entry points. The port's event loop calls `bmp_event_hook` (C glue) while the
//! REPL waits for input and while sleeping; it runs `bmp_loop()` then `dap_loop()`, each one
//! short step: read what has arrived, answer, return.
//!
//! A step never raises: servers catch Python errors from streams and callbacks themselves
//! (through the C trampoline), so the running flag below is always cleared. The C names
//! are exported in src/mpy/exports.rs.
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// A poll step was asked for while one was running (from a callback it made).
#[derive(Debug)]
pub struct AlreadyPolling;

/// Step count and re-entry guard of one server.
struct Server {
    steps: AtomicU32,
    running: AtomicBool,
}

impl Server {
    const fn new() -> Self {
        Self {
            steps: AtomicU32::new(0),
            running: AtomicBool::new(false),
        }
    }

    // Loads and stores only: polling runs on one thread, and thumbv6m has no atomic add.
    fn step(&self, work: fn()) -> Result<(), AlreadyPolling> {
        if self.running.load(Ordering::Relaxed) {
            return Err(AlreadyPolling);
        }
        self.running.store(true, Ordering::Relaxed);
        work();
        self.steps.store(
            self.steps.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
        self.running.store(false, Ordering::Relaxed);
        Ok(())
    }

    fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }
}

static GDB_SERVER: Server = Server::new();
static DAP_SERVER: Server = Server::new();

/// One step of the GDB server (and of tracebuf/traceswo).
pub fn bmp_loop() {
    let _ = GDB_SERVER.step(crate::gdb_server::poll);
}

/// One step of the CMSIS-DAP server.
pub fn dap_loop() {
    let _ = DAP_SERVER.step(crate::module_dap::poll);
}

/// `bmp.poll()`: one step of each server, by hand; refused from inside a step.
pub fn step_by_hand() -> Result<(), AlreadyPolling> {
    if GDB_SERVER.is_running() || DAP_SERVER.is_running() {
        return Err(AlreadyPolling);
    }
    bmp_loop();
    dap_loop();
    Ok(())
}

/// How many GDB server steps have run since start-up.
pub fn bmp_steps() -> u32 {
    GDB_SERVER.steps.load(Ordering::Relaxed)
}
