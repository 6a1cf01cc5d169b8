//! The STM32 GPIO pin code, compiled for the host against a model of the GPIO register
//! block wired to the simulated blue pill: scan, attach, flash, verify and break through
//! the code that runs on each probe board, and what the registers look like on the way.

use adi::Clock;
use debug::{BreakWatch, HaltReason, HaltStatus, Session};
use pins::boards::{self, Board};
use pins::gpio_model::GpioModel;
use pins::stm32_gpio::{GpioBus, Pin, PinError, PinMap, Stm32Pins, register};
use sim::Sim;
use sim::chip::{Chip, Variant};
use std::path::Path;
use wire::Pins;
use wire::clock::{Calibration, Clocked, DelayLoop};
use wire::swd::Swd;

type BoardPins = Stm32Pins<GpioModel<Sim<Chip>>>;

/// A clock that advances one microsecond each time it is read: the session's timeouts
/// count polls, so a loaded host cannot make them expire (the simulated target's own time
/// passes only with SWCLK, deterministically).
struct PollClock(u64);

impl Clock for PollClock {
    fn now_micros(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

fn board_pins(board: Board) -> BoardPins {
    Stm32Pins::new(
        GpioModel::new(Sim::new(Chip::new(Variant::Stm32f103c8)), board.pins),
        board.pins,
    )
    .expect("the board's pin map is valid")
}

fn firmware() -> Vec<u8> {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    BUILT.get_or_init(|| {
        let status = std::process::Command::new("make")
            .args(["-s", "-C"])
            .arg(top.join("tests/firmware"))
            .arg(format!("BUILD={}", top.join("build/firmware").display()))
            .status()
            .expect("make runs");
        assert!(status.success(), "building the test firmware failed");
    });
    std::fs::read(top.join("build/firmware/firmware.bin")).expect("firmware.bin")
}

fn symbol(name: &str) -> u32 {
    firmware();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../build/firmware/firmware.nm");
    std::fs::read_to_string(path)
        .expect("firmware.nm")
        .lines()
        .filter_map(|line| {
            let fields: Vec<_> = line.split_whitespace().collect();
            (fields.len() == 3 && fields[2] == name)
                .then(|| u32::from_str_radix(fields[0], 16).unwrap())
        })
        .next()
        .unwrap_or_else(|| panic!("no symbol {name}"))
}

fn wait_halt<W: adi::Transport>(session: &mut Session<W, PollClock>) -> HaltReason {
    for _ in 0..100_000 {
        if let HaltStatus::Halted(reason) = session.halt_poll().unwrap() {
            return reason;
        }
    }
    panic!("the core did not halt");
}

/// The whole flow for one board's pin map.
fn scan_attach_flash_verify_break(board: Board) {
    let image = firmware();
    let mut swd = Swd::new(board_pins(board));
    swd.switch_from_jtag();
    let mut session = Session::new();
    let found = session.scan(swd, PollClock(0)).unwrap().count();
    assert_eq!(found, 1, "{}: one target", board.name);
    session.attach(1).unwrap();

    session
        .flash_erase(0x0800_0000, image.len() as u32)
        .unwrap();
    session.flash_write(0x0800_0000, &image).unwrap();
    session.flash_done().unwrap();
    let mut back = vec![0; image.len()];
    session.read_memory(0x0800_0000, &mut back).unwrap();
    assert_eq!(back, image, "{}: flash verified", board.name);

    session.reset(true).unwrap();
    assert_eq!(wait_halt(&mut session), HaltReason::Reset);
    let blink_step = symbol("blink_step");
    session
        .set_breakwatch(BreakWatch::Software, blink_step, 2)
        .unwrap();
    session.resume(false).unwrap();
    assert_eq!(
        wait_halt(&mut session),
        HaltReason::Breakpoint {
            address: blink_step
        },
        "{}: stopped at the breakpoint",
        board.name
    );
    assert_eq!(session.read_register(15).unwrap(), blink_step);
    session.detach().unwrap();
}

#[test]
fn stlink3mini_pins_scan_attach_flash_verify_and_break() {
    scan_attach_flash_verify_break(boards::STLINK3MINI);
}

#[test]
fn pybd_sf2_pins_scan_attach_flash_verify_and_break() {
    scan_attach_flash_verify_break(boards::PYBD_SF2);
}

#[test]
fn devebox_pins_scan_attach_flash_verify_and_break() {
    scan_attach_flash_verify_break(boards::DEVEBOX_STM32H7);
}

fn read(pins: &mut BoardPins, pin: Pin, offset: u32) -> u32 {
    let bus = pins.bus();
    let register = bus.register(pin.port, offset).unwrap();
    bus.read(register)
}

fn field(pins: &mut BoardPins, pin: Pin, offset: u32) -> u32 {
    read(pins, pin, offset) >> (2 * pin.number) & 0b11
}

#[test]
fn opening_configures_the_pins_as_the_reference_manual_says() {
    let board = boards::STLINK3MINI;
    let map = board.pins;
    let mut pins = board_pins(board);
    // Outputs (MODER 01) at very high speed (OSPEEDR 11); inputs (00) pulled up (PUPDR 01).
    for pin in [
        map.swclk,
        map.swdio,
        map.swdio_direction.unwrap(),
        map.tdi.unwrap(),
        map.reset.unwrap(),
    ] {
        assert_eq!(field(&mut pins, pin, register::MODER), 0b01, "{pin}");
        assert_eq!(field(&mut pins, pin, register::OSPEEDR), 0b11, "{pin}");
    }
    for pin in [map.swdio_in.unwrap(), map.tdo.unwrap()] {
        assert_eq!(field(&mut pins, pin, register::MODER), 0b00, "{pin}");
        assert_eq!(field(&mut pins, pin, register::PUPDR), 0b01, "{pin}");
    }
    // nRST open drain (OTYPER 1), released (ODR 1); SWCLK low, SWDIO high.
    let reset = map.reset.unwrap();
    assert_ne!(
        read(&mut pins, reset, register::OTYPER) & 1 << reset.number,
        0
    );
    assert_ne!(read(&mut pins, reset, register::ODR) & 1 << reset.number, 0);
    assert_eq!(
        read(&mut pins, map.swclk, register::ODR) & 1 << map.swclk.number,
        0
    );
    assert_ne!(
        read(&mut pins, map.swdio, register::ODR) & 1 << map.swdio.number,
        0
    );
    assert!(!pins.read_reset());
}

#[test]
fn the_turnaround_never_lets_probe_and_target_drive_together() {
    let board = boards::STLINK3MINI;
    let map = board.pins;
    let mut pins = board_pins(board);
    let direction = map.swdio_direction.unwrap();
    let driving = |pins: &mut BoardPins| {
        (
            field(pins, map.swdio, register::MODER),
            read(pins, direction, register::ODR) >> direction.number & 1,
        )
    };
    pins.swdio_output(false);
    assert_eq!(
        driving(&mut pins),
        (0b00, 0),
        "released: input, buffer towards the probe"
    );
    pins.swdio_output(true);
    assert_eq!(
        driving(&mut pins),
        (0b01, 1),
        "driving: output, buffer towards the target"
    );
}

#[test]
fn nrst_is_driven_low_and_read_back() {
    let mut pins = board_pins(boards::DEVEBOX_STM32H7);
    pins.set_reset(true);
    assert!(pins.read_reset());
    assert!(pins.bus().far().read_reset(), "the target sees nRST low");
    pins.set_reset(false);
    assert!(!pins.read_reset());
    assert!(!pins.bus().far().read_reset());
}

#[test]
fn a_bad_pin_map_is_refused() {
    let model = |map| GpioModel::new(Sim::new(Chip::new(Variant::Stm32f103c8)), map);
    let mut map: PinMap = boards::PYBD_SF2.pins;
    map.tdi = Some(map.swclk);
    assert_eq!(
        Stm32Pins::new(model(map), map).err().map(|e| e.to_string()),
        Some("PA5 is named for two signals".to_string())
    );
    let mut map = boards::PYBD_SF2.pins;
    map.reset = Some(Pin::new('Z', 1));
    assert!(matches!(
        Stm32Pins::new(model(map), map).err(),
        Some(PinError::NoSuchPin(_))
    ));
    let mut map = boards::PYBD_SF2.pins;
    map.tdo = Some(Pin::new('A', 16));
    assert!(matches!(
        Stm32Pins::new(model(map), map).err(),
        Some(PinError::NoSuchPin(_))
    ));
}

/// Far ends that never answer: SWDIO floating at its pull-up (nothing connected, ACK
/// 0b111) or held low by a broken target (ACK 0b000).
struct Unanswering {
    swdio: bool,
}

impl Pins for Unanswering {
    fn set_swclk(&mut self, _: bool) {}
    fn set_swdio(&mut self, _: bool) {}
    fn swdio_output(&mut self, _: bool) {}
    fn read_swdio(&mut self) -> bool {
        self.swdio
    }
    fn set_tdi(&mut self, _: bool) {}
    fn read_tdo(&mut self) -> bool {
        true
    }
    fn set_reset(&mut self, _: bool) {}
    fn set_frequency(&mut self, hz: u32) -> u32 {
        hz
    }
}

fn scan_unanswering(swdio: bool) -> String {
    let map = boards::PYBD_SF2.pins;
    let pins = Stm32Pins::new(GpioModel::new(Unanswering { swdio }, map), map).unwrap();
    let mut swd = Swd::new(pins);
    swd.switch_from_jtag();
    let started = std::time::Instant::now();
    let mut session = Session::new();
    let error = match session.scan(swd, PollClock(0)) {
        Ok(_) => panic!("a target on unanswering pins"),
        Err(error) => error.to_string(),
    };
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "quickly"
    );
    error
}

#[test]
fn with_nothing_connected_a_scan_fails_quickly_and_says_why() {
    let error = scan_unanswering(true);
    assert!(error.contains("no response from the debug port"), "{error}");
}

#[test]
fn swdio_held_low_is_a_clear_error() {
    let error = scan_unanswering(false);
    assert!(error.contains("no response from the debug port"), "{error}");
}

/// The calibrated delay sits between the edges the board's pin code makes.
#[test]
fn the_calibrated_delay_spaces_the_gpio_edges() {
    struct Counting(u64);
    impl DelayLoop for Counting {
        fn delay(&mut self, loops: u32) {
            self.0 += u64::from(loops);
        }
    }
    let calibration = Calibration {
        loops_at_1khz: 36_000,
        max_hz: 18_000_000,
    };
    let mut pins = Clocked::new(board_pins(boards::PYBD_SF2), Counting(0), calibration);
    let actual = pins.set_frequency(1_000_000);
    assert!(actual <= 1_000_000 && actual > 950_000, "{actual}");
    let mut swd = Swd::new(pins);
    swd.line_reset();
    let (_, delay) = swd.into_pins().into_inner();
    // 58 periods (56 + the final low edge and the Swd::new edge): two delays each.
    let per_edge = u64::from(calibration.delay_loops(1_000_000));
    assert!(per_edge > 0);
    assert_eq!(delay.0 % per_edge, 0);
    assert!(delay.0 / per_edge >= 2 * 56, "{}", delay.0 / per_edge);
}
