//! The `bmp` module: the GDB server. Functions whose issue has not landed raise
//! NotImplementedError.

use crate::mpy::exception::{Kind, raise};
use crate::mpy::{Obj, object, print};
use crate::poll;

const HELP: &str = "\
bmp functions:
 init(stream=|tcp=) -- start bmp on a micropython stream or a tcp port.
 deinit()   -- stop bmp
 poll()     -- run one poll step by hand; returns the number of steps run so far
 traceswo() -- display swo logging
 tracebuf() -- display target buffer
 disp_fun() -- register callback function to display text
 repl_fun() -- register callback function to execute python
 debug()    -- toggle debugging of the probe itself
";

#[unsafe(no_mangle)]
pub extern "C" fn bmp_help(_: usize, _: *const Obj) -> Obj {
    print::console(HELP);
    object::NONE
}

#[unsafe(no_mangle)]
pub extern "C" fn bmp_poll(_: usize, _: *const Obj) -> Obj {
    if poll::step_by_hand().is_err() {
        raise(Kind::Runtime, c"bmp.poll() called from inside a poll step");
    }
    object::small_int(poll::bmp_steps() as isize)
}

crate::placeholder_kw!(bmp_init, c"bmp.init");
crate::placeholder_var!(bmp_deinit, c"bmp.deinit");
crate::placeholder_kw!(bmp_traceswo, c"bmp.traceswo");
crate::placeholder_kw!(bmp_tracebuf, c"bmp.tracebuf");
crate::placeholder_var!(bmp_disp_fun, c"bmp.disp_fun");
crate::placeholder_var!(bmp_repl_fun, c"bmp.repl_fun");
crate::placeholder_var!(bmp_debug, c"bmp.debug");
