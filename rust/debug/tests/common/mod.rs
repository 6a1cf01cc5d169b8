pub mod probe_rs_yaml;
