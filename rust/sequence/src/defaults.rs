//! The standard sequences' default bodies (Open-CMSIS-Pack spec, "Predefined Debug Access
//! Sequences"), in the same language, written here from the spec's description of each.
//! A `Sequence()` call reaches them when the description does not define the sequence;
//! the engine does not run them on its own (it has its built-in steps for that).
//! DebugPortSetup's switch sequences are atomic blocks, as in the spec's default.

/// The standard sequences with a default body, and the empty ones ("none" in the spec).
pub const STANDARD: &str = r#"
sequence DebugPortSetup {
  control if ((__protocol & 0xFFFF) == 2) {
    block atomic {
      DAP_SWJ_Sequence(51, 0x0007FFFFFFFFFFFF);
      DAP_SWJ_Sequence(16, 0xE79E);
      DAP_SWJ_Sequence(51, 0x0007FFFFFFFFFFFF);
      DAP_SWJ_Sequence(3, 0x00);
      ReadDP(0x0);
    }
  }
  control if ((__protocol & 0xFFFF) == 1) {
    block atomic {
      DAP_SWJ_Sequence(51, 0x0007FFFFFFFFFFFF);
      DAP_SWJ_Sequence(16, 0xE73C);
      DAP_SWJ_Sequence(6, 0x3F);
      DAP_JTAG_Sequence(6, 1, 0x3F);
      DAP_JTAG_Sequence(1, 0, 0x01);
    }
  }
}
sequence DebugPortStart {
  block {
    __var powered_down = 0;
    WriteDP(0x8, 0x00000000);
    powered_down = ((ReadDP(0x4) & 0xA0000000) != 0xA0000000);
  }
  control if (powered_down) {
    block {
      WriteDP(0x4, 0x50000000);
    }
    control while ((ReadDP(0x4) & 0xA0000000) != 0xA0000000) timeout (1000000) {
    }
    control if ((__protocol & 0xFFFF) == 1) {
      block {
        WriteDP(0x4, 0x50000F32);
      }
    }
    control if ((__protocol & 0xFFFF) == 2) {
      block {
        WriteDP(0x4, 0x50000F00);
        WriteDP(0x0, 0x1E);
      }
    }
  }
}
sequence DebugPortStop {
  block {
    WriteDP(0x8, 0x00000000);
    WriteDP(0x4, 0x00000000);
  }
}
sequence DebugCoreStart {
  block {
    Write32(0xE000EDF0, 0xA05F0001);
  }
}
sequence DebugCoreStop {
  block {
    Write32(0xE000EDF0, 0xA05F0000);
    Write32(0xE000EDFC, 0x00000000);
  }
}
sequence ResetSystem {
  block {
    Write32(0xE000ED0C, 0x05FA0004);
  }
  control while ((Read32(0xE000EDF0) & 0x02000000) != 0) timeout (500000) {
  }
}
sequence ResetProcessor {
  block {
    Write32(0xE000ED0C, 0x05FA0001);
  }
  control while ((Read32(0xE000EDF0) & 0x02000000) != 0) timeout (500000) {
  }
}
sequence ResetHardware {
  block {
    __var readable = (DAP_SWJ_Pins(0x00, 0x80, 0) != 0xFFFFFFFF);
    DAP_Delay(50000);
  }
  control if (readable) {
    control while ((DAP_SWJ_Pins(0x80, 0x80, 0) & 0x80) == 0) timeout (1000000) {
    }
  }
  control if (!readable) {
    block {
      DAP_SWJ_Pins(0x80, 0x80, 0);
      DAP_Delay(100000);
    }
  }
}
sequence ResetHardwareAssert {
  block {
    DAP_SWJ_Pins(0x00, 0x80, 0);
  }
}
sequence ResetHardwareDeassert {
  block {
    __var readable = (DAP_SWJ_Pins(0x80, 0x80, 0) != 0xFFFFFFFF);
  }
  control if (readable) while ((DAP_SWJ_Pins(0x80, 0x80, 0) & 0x80) == 0) timeout (1000000) {
  }
  control if (!readable) {
    block {
      DAP_Delay(100000);
    }
  }
}
sequence ResetCatchSet {
  block {
    Write32(0xE000EDFC, Read32(0xE000EDFC) | 0x00000001);
    Read32(0xE000EDF0);
  }
}
sequence ResetCatchClear {
  block {
    Write32(0xE000EDFC, Read32(0xE000EDFC) & ~0x00000001);
  }
}
sequence DebugDeviceUnlock {
}
sequence DebugCodeMemRemap {
}
sequence TraceStart {
}
sequence TraceStop {
}
sequence TraceCapture {
}
sequence TraceFlush {
}
sequence RecoverySupportStart {
}
sequence RecoverySupportStop {
}
sequence RecoveryAcknowledge {
}
"#;
