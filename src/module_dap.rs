//! The `dap` module: the CMSIS-DAP probe. `hid_info` is a constant in the C glue.
//! Functions whose issue has not landed raise NotImplementedError.

use crate::mpy::{Obj, object, print};
use crate::{placeholder_kw, placeholder_var};

const HELP: &str = "\
dap functions:
 init(tcp=)   -- start the dap server on a tcp port (4441 for OpenOCD), or on usb with init()
 deinit()     -- stop the dap server
 process(req, resp) -- process one dap request; True if resp holds a response
 hid_info     -- usb hid descriptor for pyb.usb_mode()
 calibrate()  -- calibrate swd clock frequency; calibrate(cal=(a, b)) sets it
";

#[unsafe(no_mangle)]
pub extern "C" fn dap_help(_: usize, _: *const Obj) -> Obj {
    print::console(HELP);
    object::NONE
}

placeholder_kw!(dap_init, c"dap.init");
placeholder_var!(dap_deinit, c"dap.deinit");
placeholder_var!(dap_process, c"dap.process");
placeholder_kw!(dap_calibrate, c"dap.calibrate");
