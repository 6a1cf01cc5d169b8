//! GDB's target description for an M-profile core (GDB manual G.5.2 "ARM Features":
//! org.gnu.gdb.arm.m-profile), with the system registers as a second feature, and for a
//! core with an FPU the org.gnu.gdb.arm.vfp feature as GDB's own arm-vfpv2.xml has it:
//! d0-d15 (64 bits) and fpscr, numbered after the others (23-39). Register numbers follow
//! the order of REGISTER_COUNT, D0 and FPSCR in lib.rs. The `g` packet carries the first
//! 23 only; GDB reads and writes the FPU's with `p` and `P` (GDB manual E.2, `g`: a shorter
//! reply leaves the remaining registers to `p`).

macro_rules! description {
    ($($fpu:literal)?) => {
        concat!(r#"<?xml version="1.0"?>
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
"#, $($fpu,)? "</target>\n")
    };
}

/// Without an FPU (M0+, M3, M4 without FPU).
pub const TARGET_XML: &str = description!();

/// With a single- or double-precision FPU of 16 double-word registers (M4F, M7, M33).
pub const TARGET_XML_FPU: &str = description!(
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
);
