// Each test file is its own crate and uses only some of these (for all of them: here).
#![allow(dead_code)]

pub mod probe_rs_yaml;
pub mod simulated;
pub mod virtual_wire;
