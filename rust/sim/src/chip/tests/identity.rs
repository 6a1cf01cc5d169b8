use super::*;
use crate::bus::Identity;

#[test]
fn variant_names_round_trip() {
    for variant in Variant::ALL {
        assert_eq!(Variant::from_name(variant.name()), Some(variant));
    }
    assert_eq!(
        Variant::from_name("STM32F103CB"),
        Some(Variant::Stm32f103cb)
    );
    assert_eq!(Variant::from_name("stm32f407"), None);
}

#[test]
fn genuine_identity() {
    let chip = Chip::new(Variant::Stm32f103c8);
    let expected = Identity {
        dpidr: 0x1BA0_1477,
        jtag_idcode: 0x3BA0_0477,
        boundary_scan_idcode: 0x1641_0041,
    };
    assert_eq!(chip.identity(), expected);
    assert_eq!(
        Chip::new(Variant::Stm32f103rc)
            .identity()
            .boundary_scan_idcode,
        0x0641_4041
    );
}

#[test]
fn clone_identifies_as_a_clone() {
    let mut chip = Chip::new(Variant::Cks32f103c8);
    assert_eq!(chip.identity().dpidr, 0x2BA0_1477);
    assert_eq!(chip.identity().jtag_idcode, 0x4BA0_0477);
    assert_eq!(read(&mut chip, 0xE000_ED00), 0x412F_C231, "CPUID r2p1");
    assert_eq!(
        read(&mut chip, 0xE004_2000),
        0x2003_6410,
        "genuine-looking DBGMCU_IDCODE"
    );
    assert_eq!(rom_table_designer_and_part(&mut chip), (0x555, 0x29B));
}

#[test]
fn genuine_cpuid_and_rom_table() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    assert_eq!(read(&mut chip, 0xE000_ED00), 0x411F_C231);
    assert_eq!(rom_table_designer_and_part(&mut chip), (0x020, 0x410));
    let mut high = Chip::new(Variant::Stm32f103rc);
    assert_eq!(rom_table_designer_and_part(&mut high), (0x020, 0x414));
}

/// JEP106 designer (continuation << 8 | identity) and part number from PIDR0..4.
fn rom_table_designer_and_part(chip: &mut Chip) -> (u32, u32) {
    let pidr = |chip: &mut Chip, index: u32| {
        let offset = if index == 4 { 0xFD0 } else { 0xFE0 + 4 * index };
        read(chip, 0xE00F_F000 + offset)
    };
    let (pidr0, pidr1, pidr2, pidr4) = (pidr(chip, 0), pidr(chip, 1), pidr(chip, 2), pidr(chip, 4));
    assert_ne!(pidr2 & 0x8, 0, "JEP106 code used");
    let part = pidr0 | (pidr1 & 0xF) << 8;
    let designer = (pidr4 & 0xF) << 8 | (pidr1 >> 4) | (pidr2 & 0x7) << 4;
    (designer, part)
}

#[test]
fn rom_table_lists_the_cortex_m3_components() {
    let mut chip = Chip::new(Variant::Stm32f103c8);
    assert_eq!(cidr(&mut chip, 0xE00F_F000), 0xB105_100D);
    assert_eq!(read(&mut chip, 0xE00F_FFCC) & 1, 1, "MEMTYPE.SYSMEM");
    let mut found = Vec::new();
    for index in 0.. {
        let entry = read(&mut chip, 0xE00F_F000 + 4 * index);
        if entry == 0 {
            break;
        }
        assert_eq!(entry & 3, 3, "present, 32-bit format");
        let base = 0xE00F_F000u32.wrapping_add(entry & 0xFFFF_F000);
        let part = read(&mut chip, base + 0xFE0) | (read(&mut chip, base + 0xFE4) & 0xF) << 8;
        let designer =
            (read(&mut chip, base + 0xFE4) >> 4) | (read(&mut chip, base + 0xFE8) & 7) << 4;
        assert_eq!(designer, 0x3B, "ARM");
        assert_eq!(read(&mut chip, base + 0xFD0), 0x04, "continuation 4");
        found.push((base, part, cidr(&mut chip, base) >> 12 & 0xF));
    }
    let expected = [
        (0xE000_E000, 0x000, 0xE),
        (0xE000_1000, 0x002, 0xE),
        (0xE000_2000, 0x003, 0xE),
        (0xE000_0000, 0x001, 0xE),
        (0xE004_0000, 0x923, 0x9),
        (0xE004_1000, 0x924, 0x9),
    ];
    assert_eq!(found, expected);
}

fn cidr(chip: &mut Chip, base: u32) -> u32 {
    (0..4).fold(0, |value, index| {
        value | read(chip, base + 0xFF0 + 4 * index) << (8 * index)
    })
}

/// unicorn-engine runs the part's own core model (with Mode::MCLASS it would run a
/// Cortex-M33 whatever the model asked for): the F103's Cortex-M3 has no FPU, so a VFP
/// instruction is undefined and the core locks up; the F407's M4F runs it.
#[test]
fn the_core_model_is_the_parts() {
    // vmov s0, r0; bkpt.
    let code = [0xEE00, 0x0A10, 0xBE00];
    for (variant, executes) in [(Variant::Stm32f103c8, false), (Variant::Stm32f407vg, true)] {
        let mut chip = chip_running_at(variant, CODE, CODE, &code);
        write(&mut chip, 0xE000_ED88, 0xF << 20); // CPACR: CP10/CP11 on, as software does
        write(&mut chip, DHCSR, DHCSR_KEY | C_DEBUGEN);
        chip.advance_to(chip.now_ns() + 100_000);
        let status = chip.core_status();
        assert_eq!(status.halted, executes, "{variant:?}: {status:?}");
        assert_eq!(status.locked_up, !executes, "{variant:?}: {status:?}");
    }
}
