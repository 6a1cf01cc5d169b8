//! GDB's target description for an M-profile core (GDB manual G.5.2 "ARM Features":
//! org.gnu.gdb.arm.m-profile), with the system registers as a second feature, and for a
//! core with an FPU the org.gnu.gdb.arm.vfp feature as GDB's own arm-vfpv2.xml has it:
//! d0-d15 (64 bits) and fpscr, numbered after the others (23-39). Register numbers follow
//! the order of REGISTER_COUNT, D0 and FPSCR in lib.rs. The `g` packet carries the first
//! 23 only; GDB reads and writes the others with `p` and `P` (GDB manual E.2, `g`: a
//! shorter reply leaves the remaining registers to `p`).
//!
//! An ARMv8-M mainline core adds its banked stack pointers and stack limits after those
//! (from 40 with an FPU, else 23; `Banked` in lib.rs):
//! - with the Security Extension and Secure debug allowed, org.gnu.gdb.arm.secext as GDB
//!   12+ reads it (msp_ns, psp_ns, msp_s, psp_s: GDB's arm-secext.xml, which it uses to
//!   tell which stack `sp` and `msp`/`psp` are) followed by msplim_s, psplim_s, msplim_ns,
//!   psplim_ns and primask_s, basepri_s, faultmask_s, control_s, primask_ns, basepri_ns,
//!   faultmask_ns, control_ns (the names OpenOCD gives them; GDB keeps extra registers of
//!   a known feature as plain registers);
//! - otherwise (no Security Extension, or only Non-secure debug) the Non-secure stack
//!   limits msplim_ns and psplim_ns in a feature of bmp's own, org.bmp.arm.m-stack-limits
//!   (GDB offers the registers of a feature it does not know as they are): no secext, whose
//!   Secure registers the debugger may not read.

macro_rules! head {
    () => {
        r#"<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>arm</architecture>
  <feature name="org.gnu.gdb.arm.m-profile">
    <reg name="r0" bitsize="32" regnum="0"/>
    <reg name="r1" bitsize="32"/>
    <reg name="r2" bitsize="32"/>
    <reg name="r3" bitsize="32"/>
    <reg name="r4" bitsize="32"/>
    <reg name="r5" bitsize="32"/>
    <reg name="r6" bitsize="32"/>
    <reg name="r7" bitsize="32"/>
    <reg name="r8" bitsize="32"/>
    <reg name="r9" bitsize="32"/>
    <reg name="r10" bitsize="32"/>
    <reg name="r11" bitsize="32"/>
    <reg name="r12" bitsize="32"/>
    <reg name="sp" bitsize="32" type="data_ptr"/>
    <reg name="lr" bitsize="32" type="code_ptr"/>
    <reg name="pc" bitsize="32" type="code_ptr"/>
    <reg name="xpsr" bitsize="32" regnum="16"/>
  </feature>
  <feature name="org.gnu.gdb.arm.m-system">
    <reg name="msp" bitsize="32" regnum="17" type="data_ptr" group="system"/>
    <reg name="psp" bitsize="32" regnum="18" type="data_ptr" group="system"/>
    <reg name="primask" bitsize="32" regnum="19" group="system"/>
    <reg name="basepri" bitsize="32" regnum="20" group="system"/>
    <reg name="faultmask" bitsize="32" regnum="21" group="system"/>
    <reg name="control" bitsize="32" regnum="22" group="system"/>
  </feature>
"#
    };
}

macro_rules! vfp {
    () => {
        r#"  <feature name="org.gnu.gdb.arm.vfp">
    <reg name="d0" bitsize="64" type="ieee_double" regnum="23"/>
    <reg name="d1" bitsize="64" type="ieee_double"/>
    <reg name="d2" bitsize="64" type="ieee_double"/>
    <reg name="d3" bitsize="64" type="ieee_double"/>
    <reg name="d4" bitsize="64" type="ieee_double"/>
    <reg name="d5" bitsize="64" type="ieee_double"/>
    <reg name="d6" bitsize="64" type="ieee_double"/>
    <reg name="d7" bitsize="64" type="ieee_double"/>
    <reg name="d8" bitsize="64" type="ieee_double"/>
    <reg name="d9" bitsize="64" type="ieee_double"/>
    <reg name="d10" bitsize="64" type="ieee_double"/>
    <reg name="d11" bitsize="64" type="ieee_double"/>
    <reg name="d12" bitsize="64" type="ieee_double"/>
    <reg name="d13" bitsize="64" type="ieee_double"/>
    <reg name="d14" bitsize="64" type="ieee_double"/>
    <reg name="d15" bitsize="64" type="ieee_double"/>
    <reg name="fpscr" bitsize="32" type="int" group="float" regnum="39"/>
  </feature>
"#
    };
}

/// Secure and Non-secure stack pointers and limits (DCRSR 0x18-0x1F in this order), then
/// each state's special registers (DCRSR 0x22 Secure, 0x23 Non-secure; the m-system order).
macro_rules! secext {
    ($first:literal) => {
        concat!(
            r#"  <feature name="org.gnu.gdb.arm.secext">
    <reg name="msp_ns" bitsize="32" type="data_ptr" group="system" regnum=""#,
            $first,
            r#""/>
    <reg name="psp_ns" bitsize="32" type="data_ptr" group="system"/>
    <reg name="msp_s" bitsize="32" type="data_ptr" group="system"/>
    <reg name="psp_s" bitsize="32" type="data_ptr" group="system"/>
    <reg name="msplim_s" bitsize="32" type="data_ptr" group="system"/>
    <reg name="psplim_s" bitsize="32" type="data_ptr" group="system"/>
    <reg name="msplim_ns" bitsize="32" type="data_ptr" group="system"/>
    <reg name="psplim_ns" bitsize="32" type="data_ptr" group="system"/>
    <reg name="primask_s" bitsize="32" group="system"/>
    <reg name="basepri_s" bitsize="32" group="system"/>
    <reg name="faultmask_s" bitsize="32" group="system"/>
    <reg name="control_s" bitsize="32" group="system"/>
    <reg name="primask_ns" bitsize="32" group="system"/>
    <reg name="basepri_ns" bitsize="32" group="system"/>
    <reg name="faultmask_ns" bitsize="32" group="system"/>
    <reg name="control_ns" bitsize="32" group="system"/>
  </feature>
"#
        )
    };
}

/// The Non-secure stack limits only (DCRSR 0x1E, 0x1F).
macro_rules! nonsecure_limits {
    ($first:literal) => {
        concat!(
            r#"  <feature name="org.bmp.arm.m-stack-limits">
    <reg name="msplim_ns" bitsize="32" type="data_ptr" group="system" regnum=""#,
            $first,
            r#""/>
    <reg name="psplim_ns" bitsize="32" type="data_ptr" group="system"/>
  </feature>
"#
        )
    };
}

macro_rules! end {
    () => {
        "</target>\n"
    };
}

/// Without an FPU (M0+, M3, M4 without FPU).
pub const TARGET_XML: &str = concat!(head!(), end!());

/// With a single- or double-precision FPU of 16 double-word registers (M4F, M7, M33).
pub const TARGET_XML_FPU: &str = concat!(head!(), vfp!(), end!());

/// ARMv8-M mainline with Secure debug: the secext feature, without and with an FPU.
pub const TARGET_XML_SECURE: &str = concat!(head!(), secext!("23"), end!());
pub const TARGET_XML_SECURE_FPU: &str = concat!(head!(), vfp!(), secext!("40"), end!());

/// ARMv8-M mainline, Non-secure only: the Non-secure stack limits.
pub const TARGET_XML_NONSECURE: &str = concat!(head!(), nonsecure_limits!("23"), end!());
pub const TARGET_XML_NONSECURE_FPU: &str =
    concat!(head!(), vfp!(), nonsecure_limits!("40"), end!());
