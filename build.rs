//! Bindings to the MicroPython build this library is linked into.
//!
//! modules/bmp/micropython.mk runs cargo with:
//!   BMP_MPY_CFLAGS     a file with the port's -I/-D/-std flags, one per line
//!   BMP_MPY_PORT_DIR   the port directory (relative -I paths are relative to it)
//!   BMP_MPY_BUILD_DIR  the firmware build directory (genhdr/ lives there)
//! QSTR numbers and struct layouts differ between builds, so the bindings are made from
//! exactly those flags and that genhdr, every time they change.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

const ENV_CFLAGS: &str = "BMP_MPY_CFLAGS";
const ENV_PORT_DIR: &str = "BMP_MPY_PORT_DIR";
const ENV_BUILD_DIR: &str = "BMP_MPY_BUILD_DIR";

fn required_env(name: &str) -> String {
    println!("cargo:rerun-if-env-changed={name}");
    env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: the root package is built by modules/bmp/micropython.mk as part \
             of a MicroPython build (tools/mkfw unix|qemu); `cargo test` tests the crates in rust/"
        )
    })
}

/// The port's compiler flags, with relative include paths made absolute.
fn port_flags(flags_file: &Path, port_dir: &Path) -> Vec<String> {
    let text = fs::read_to_string(flags_file)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", flags_file.display()));
    text.lines()
        .filter(|line| !line.is_empty())
        .map(|flag| match flag.strip_prefix("-I") {
            Some(path) if !Path::new(path).is_absolute() => {
                format!("-I{}", port_dir.join(path).display())
            }
            _ => flag.to_string(),
        })
        .collect()
}

/// Flags that make clang see the headers as the target's C compiler does.
fn target_flags(target: &str) -> Vec<String> {
    if target.starts_with("thumb") {
        vec![
            format!("--target={target}"),
            "-ffreestanding".into(),
            "-isystem".into(),
            "/usr/lib/arm-none-eabi/include".into(),
        ]
    } else {
        Vec::new()
    }
}

fn main() {
    let flags_file = PathBuf::from(required_env(ENV_CFLAGS));
    let port_dir = PathBuf::from(required_env(ENV_PORT_DIR));
    let build_dir = PathBuf::from(required_env(ENV_BUILD_DIR));
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let genhdr = build_dir.join("genhdr");

    println!("cargo:rerun-if-changed={}", flags_file.display());
    for header in ["qstrdefs.generated.h", "root_pointers.h", "moduledefs.h"] {
        println!("cargo:rerun-if-changed={}", genhdr.join(header).display());
    }
    println!("cargo:rerun-if-changed=src/mpy/micropython.h");
    // ... and the glue's headers it includes (a new bmp_glue_* function needs new bindings).
    for header in ["bmp_glue.h", "bmp_stream.h", "bmp_call.h"] {
        println!("cargo:rerun-if-changed=modules/bmp/{header}");
    }

    let mut clang_args = port_flags(&flags_file, &port_dir);
    clang_args.push(format!("-I{}", build_dir.display()));
    clang_args.extend(target_flags(&target));

    let bindings = bindgen::Builder::default()
        .header("src/mpy/micropython.h")
        .clang_args(&clang_args)
        .use_core()
        .ctypes_prefix("core::ffi")
        .layout_tests(false)
        .generate_comments(false)
        .allowlist_function("mp_.*|m_malloc.*|m_free|gc_.*|nlr_.*|qstr_.*|bmp_glue_.*|bmp_stream_.*|bmp_call_.*|bmp_board_.*")
        .allowlist_var("mp_.*|MP_QSTR_.*|MICROPY_OBJ_REPR|MICROPY_OBJ_REPR_.*|MP_STREAM_.*|MP_BUFFER_.*|MP_E.*")
        .allowlist_type("mp_.*|bmp_root_t|bmp_semihosting_t|bmp_arg_t|bmp_arg_kind_t")
        .rustified_enum("bmp_root_t|bmp_semihosting_t|bmp_arg_kind_t")
        .generate()
        .unwrap_or_else(|error| panic!("bindgen on MicroPython's headers failed: {error}"));

    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings
        .write_to_file(out.join("micropython.rs"))
        .expect("cannot write the bindings");
}
