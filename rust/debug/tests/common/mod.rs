pub mod probe_rs_yaml;
pub mod virtual_wire;
