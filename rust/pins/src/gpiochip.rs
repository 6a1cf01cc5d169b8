//! SWD/JTAG on a Linux GPIO chip through the character device, uAPI v2
//! (include/uapi/linux/gpio.h, Linux 5.10+): a Raspberry Pi as a probe.
//!
//! All lines are taken in one line request (GPIO_V2_GET_LINE_IOCTL): SWCLK, SWDIO and TDI
//! as outputs, nRST as an open-drain output (the kernel emulates open drain where the chip
//! cannot), TDO as an input. Each edge is one GPIO_V2_LINE_SET_VALUES_IOCTL, each sample one
//! GPIO_V2_LINE_GET_VALUES_IOCTL, and the SWDIO turnaround a GPIO_V2_LINE_SET_CONFIG_IOCTL.
//! The ioctl calls are this module's only unsafe code.

use crate::gpiochip_spec::Spec;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use wire::Pins;

/// GPIO_MAX_NAME_SIZE, GPIO_V2_LINES_MAX, GPIO_V2_LINE_NUM_ATTRS_MAX.
const NAME_SIZE: usize = 32;
const LINES_MAX: usize = 64;
const ATTRIBUTES_MAX: usize = 10;

/// enum gpio_v2_line_flag.
const FLAG_INPUT: u64 = 1 << 2;
const FLAG_OUTPUT: u64 = 1 << 3;
const FLAG_OPEN_DRAIN: u64 = 1 << 6;
/// enum gpio_v2_line_attr_id.
const ATTRIBUTE_FLAGS: u32 = 1;
const ATTRIBUTE_OUTPUT_VALUES: u32 = 2;

/// _IOWR(0xB4, nr, size): direction 3 << 30, size << 16, type << 8, number.
const fn iowr(number: u32, size: usize) -> u32 {
    3 << 30 | (size as u32) << 16 | 0xB4 << 8 | number
}
pub const GPIO_V2_GET_LINE_IOCTL: u32 = iowr(0x07, size_of::<LineRequest>());
pub const GPIO_V2_LINE_SET_CONFIG_IOCTL: u32 = iowr(0x0D, size_of::<LineConfig>());
pub const GPIO_V2_LINE_GET_VALUES_IOCTL: u32 = iowr(0x0E, size_of::<LineValues>());
pub const GPIO_V2_LINE_SET_VALUES_IOCTL: u32 = iowr(0x0F, size_of::<LineValues>());

/// __aligned_u64: 8-byte aligned on every architecture (u64 is not, on 32-bit x86).
#[repr(C, align(8))]
#[derive(Clone, Copy, Default, Debug)]
pub struct AlignedU64(pub u64);

/// struct gpio_v2_line_values.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct LineValues {
    pub bits: AlignedU64,
    pub mask: AlignedU64,
}

/// struct gpio_v2_line_attribute (the union as its 64-bit members).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct LineAttribute {
    pub id: u32,
    pub padding: u32,
    pub value: AlignedU64,
}

/// struct gpio_v2_line_config_attribute.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct LineConfigAttribute {
    pub attribute: LineAttribute,
    pub mask: AlignedU64,
}

/// struct gpio_v2_line_config.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct LineConfig {
    pub flags: AlignedU64,
    pub attribute_count: u32,
    pub padding: [u32; 5],
    pub attributes: [LineConfigAttribute; ATTRIBUTES_MAX],
}

/// struct gpio_v2_line_request.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LineRequest {
    pub offsets: [u32; LINES_MAX],
    pub consumer: [u8; NAME_SIZE],
    pub config: LineConfig,
    pub line_count: u32,
    pub event_buffer_size: u32,
    pub padding: [u32; 5],
    pub fd: i32,
}

/// Why the chip could not be opened (texts for BMP_WIRE's error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    NoDevice,
    Permission,
    NotAChip,
    NoSuchLine,
    Busy,
    Refused,
}

impl OpenError {
    pub const fn message(self) -> &'static str {
        match self {
            OpenError::NoDevice => "gpiochip: no such device (ls /dev/gpiochip*)",
            OpenError::Permission => "gpiochip: permission denied (add the user to the gpio group)",
            OpenError::NotAChip => "gpiochip: that file is not a GPIO chip",
            OpenError::NoSuchLine => "gpiochip: a line number is beyond this chip's lines",
            OpenError::Busy => "gpiochip: a line is in use by another program or driver",
            OpenError::Refused => "gpiochip: the kernel refused the line request",
        }
    }

    fn from_errno(errno: i32) -> Self {
        match errno {
            libc::ENOENT | libc::ENXIO | libc::ENODEV => OpenError::NoDevice,
            libc::EACCES | libc::EPERM => OpenError::Permission,
            libc::ENOTTY => OpenError::NotAChip,
            libc::EINVAL => OpenError::NoSuchLine,
            libc::EBUSY => OpenError::Busy,
            _ => OpenError::Refused,
        }
    }
}

/// The signals' positions in the line request (bit i of the values is line i).
#[derive(Clone, Copy, Debug)]
struct Positions {
    swclk: u64,
    swdio: u64,
    srst: Option<u64>,
    tdi: Option<u64>,
    tdo: Option<u64>,
}

/// The request (offsets and configuration) for a specification, SWDIO as an output or not.
pub fn line_request(spec: &Spec, consumer: &str) -> LineRequest {
    let mut request = LineRequest {
        offsets: [0; LINES_MAX],
        consumer: [0; NAME_SIZE],
        config: LineConfig::default(),
        line_count: 0,
        event_buffer_size: 0,
        padding: [0; 5],
        fd: 0,
    };
    for (slot, byte) in request.consumer[..NAME_SIZE - 1]
        .iter_mut()
        .zip(consumer.bytes())
    {
        *slot = byte;
    }
    for line in [
        Some(spec.swclk),
        Some(spec.swdio),
        spec.srst,
        spec.tdi,
        spec.tdo,
    ]
    .into_iter()
    .flatten()
    {
        request.offsets[request.line_count as usize] = line;
        request.line_count += 1;
    }
    let positions = positions(spec);
    request.config = line_config(&positions, true, positions.idle_levels());
    request
}

impl Positions {
    /// SWCLK low, SWDIO, TDI and nRST (released) high.
    fn idle_levels(&self) -> u64 {
        self.swdio | self.tdi.unwrap_or(0) | self.srst.unwrap_or(0)
    }
}

fn positions(spec: &Spec) -> Positions {
    let mut next = 2;
    let mut take = |present: bool| {
        present.then(|| {
            let bit = 1u64 << next;
            next += 1;
            bit
        })
    };
    Positions {
        swclk: 1 << 0,
        swdio: 1 << 1,
        srst: take(spec.srst.is_some()),
        tdi: take(spec.tdi.is_some()),
        tdo: take(spec.tdo.is_some()),
    }
}

/// Every line's configuration: outputs by default at `levels`, nRST open drain, TDO an
/// input, SWDIO an output or an input. (A new configuration replaces all of it, output
/// levels too: `levels` keeps SWCLK and nRST where they are across a turnaround.)
fn line_config(positions: &Positions, swdio_output: bool, levels: u64) -> LineConfig {
    let mut config = LineConfig {
        flags: AlignedU64(FLAG_OUTPUT),
        ..LineConfig::default()
    };
    let mut add = |id: u32, value: u64, mask: u64| {
        if mask != 0 {
            config.attributes[config.attribute_count as usize] = LineConfigAttribute {
                attribute: LineAttribute {
                    id,
                    padding: 0,
                    value: AlignedU64(value),
                },
                mask: AlignedU64(mask),
            };
            config.attribute_count += 1;
        }
    };
    let input = positions.tdo.unwrap_or(0) | if swdio_output { 0 } else { positions.swdio };
    add(ATTRIBUTE_FLAGS, FLAG_INPUT, input);
    add(
        ATTRIBUTE_FLAGS,
        FLAG_OUTPUT | FLAG_OPEN_DRAIN,
        positions.srst.unwrap_or(0),
    );
    let outputs = positions.swclk
        | if swdio_output { positions.swdio } else { 0 }
        | positions.tdi.unwrap_or(0)
        | positions.srst.unwrap_or(0);
    add(ATTRIBUTE_OUTPUT_VALUES, levels & outputs, outputs);
    config
}

/// The lines of one GPIO chip as the debug connector.
pub struct GpioChip {
    lines: OwnedFd,
    positions: Positions,
    swdio_output: bool,
    /// The output levels last written, one bit per line of the request.
    levels: u64,
    /// The last ioctl that failed (errno), if any: the wire then reads as not connected.
    pub failed: Option<i32>,
}

impl GpioChip {
    pub fn open(spec: &Spec) -> Result<Self, OpenError> {
        let chip = File::open(spec.device)
            .map_err(|error| OpenError::from_errno(error.raw_os_error().unwrap_or(0)))?;
        let mut request = line_request(spec, "bmp");
        ioctl(chip.as_raw_fd(), GPIO_V2_GET_LINE_IOCTL, &mut request)
            .map_err(OpenError::from_errno)?;
        // SAFETY: on success the kernel returned a new file descriptor that nothing else owns.
        #[allow(unsafe_code)]
        let lines = unsafe { OwnedFd::from_raw_fd(request.fd) };
        let positions = positions(spec);
        Ok(Self {
            lines,
            levels: positions.idle_levels(),
            positions,
            swdio_output: true,
            failed: None,
        })
    }

    fn write(&mut self, mask: u64, high: bool) {
        self.levels = if high {
            self.levels | mask
        } else {
            self.levels & !mask
        };
        let mut values = LineValues {
            bits: AlignedU64(if high { mask } else { 0 }),
            mask: AlignedU64(mask),
        };
        if let Err(errno) = ioctl(
            self.lines.as_raw_fd(),
            GPIO_V2_LINE_SET_VALUES_IOCTL,
            &mut values,
        ) {
            self.failed = Some(errno);
        }
    }

    /// A line's level; a failed read reads high (an undriven, pulled-up line).
    fn read(&mut self, mask: u64) -> bool {
        let mut values = LineValues {
            bits: AlignedU64(0),
            mask: AlignedU64(mask),
        };
        match ioctl(
            self.lines.as_raw_fd(),
            GPIO_V2_LINE_GET_VALUES_IOCTL,
            &mut values,
        ) {
            Ok(()) => values.bits.0 & mask != 0,
            Err(errno) => {
                self.failed = Some(errno);
                true
            }
        }
    }
}

/// One ioctl on `fd` with `argument` in and out; Err(errno).
fn ioctl<T>(fd: i32, request: u32, argument: &mut T) -> Result<(), i32> {
    // SAFETY: `argument` is the #[repr(C)] struct the request number encodes (its size is
    // in the number), valid for reads and writes during the call.
    #[allow(unsafe_code)]
    let result = unsafe { libc::ioctl(fd, request as _, argument as *mut T) };
    if result < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(())
    }
}

impl Pins for GpioChip {
    fn set_swclk(&mut self, high: bool) {
        self.write(self.positions.swclk, high);
    }

    fn set_swdio(&mut self, high: bool) {
        if self.swdio_output {
            self.write(self.positions.swdio, high);
        }
    }

    fn swdio_output(&mut self, enable: bool) {
        if enable == self.swdio_output {
            return;
        }
        let mut config = line_config(&self.positions, enable, self.levels);
        match ioctl(
            self.lines.as_raw_fd(),
            GPIO_V2_LINE_SET_CONFIG_IOCTL,
            &mut config,
        ) {
            Ok(()) => self.swdio_output = enable,
            Err(errno) => self.failed = Some(errno),
        }
    }

    fn read_swdio(&mut self) -> bool {
        self.read(self.positions.swdio)
    }

    fn set_tdi(&mut self, high: bool) {
        if let Some(tdi) = self.positions.tdi {
            self.write(tdi, high);
        }
    }

    fn read_tdo(&mut self) -> bool {
        match self.positions.tdo {
            Some(tdo) => self.read(tdo),
            None => true,
        }
    }

    fn set_reset(&mut self, asserted: bool) {
        if let Some(srst) = self.positions.srst {
            self.write(srst, !asserted);
        }
    }

    /// Open drain: the line reads low while anyone pulls it.
    fn read_reset(&mut self) -> bool {
        match self.positions.srst {
            Some(srst) => !self.read(srst),
            None => false,
        }
    }

    /// Each edge is a system call: the clock is as fast as those go, slowed by
    /// `wire::clock::Clocked` when a lower one is asked for.
    fn set_frequency(&mut self, hz: u32) -> u32 {
        hz
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sizeof, offsetof and the ioctl numbers, from /usr/include/linux/gpio.h (Linux 6.1
    /// headers, x86_64) compiled with gcc: the layout the kernel expects.
    #[test]
    fn structures_match_the_kernel_headers() {
        assert_eq!(size_of::<LineValues>(), 16);
        assert_eq!(size_of::<LineAttribute>(), 16);
        assert_eq!(size_of::<LineConfigAttribute>(), 24);
        assert_eq!(size_of::<LineConfig>(), 272);
        assert_eq!(size_of::<LineRequest>(), 592);
        assert_eq!(core::mem::offset_of!(LineRequest, consumer), 256);
        assert_eq!(core::mem::offset_of!(LineRequest, config), 288);
        assert_eq!(core::mem::offset_of!(LineRequest, line_count), 560);
        assert_eq!(core::mem::offset_of!(LineRequest, event_buffer_size), 564);
        assert_eq!(core::mem::offset_of!(LineRequest, fd), 588);
        assert_eq!(core::mem::offset_of!(LineConfig, attribute_count), 8);
        assert_eq!(core::mem::offset_of!(LineConfig, attributes), 32);
        assert_eq!(GPIO_V2_GET_LINE_IOCTL, 0xc250_b407);
        assert_eq!(GPIO_V2_LINE_SET_CONFIG_IOCTL, 0xc110_b40d);
        assert_eq!(GPIO_V2_LINE_GET_VALUES_IOCTL, 0xc010_b40e);
        assert_eq!(GPIO_V2_LINE_SET_VALUES_IOCTL, 0xc010_b40f);
    }

    #[test]
    fn the_request_names_the_lines_and_their_directions() {
        let spec = Spec::parse("gpiochip:/dev/gpiochip0:swclk=25,swdio=24,srst=18,tdo=9").unwrap();
        let request = line_request(&spec, "bmp");
        assert_eq!(request.line_count, 4);
        assert_eq!(&request.offsets[..4], &[25, 24, 18, 9]);
        assert_eq!(&request.consumer[..4], b"bmp\0");
        let config = request.config;
        assert_eq!(config.flags.0, FLAG_OUTPUT);
        let attributes = &config.attributes[..config.attribute_count as usize];
        // TDO (bit 3) an input; nRST (bit 2) open drain; SWCLK low, SWDIO and nRST high.
        assert_eq!(attributes.len(), 3);
        assert_eq!(
            (
                attributes[0].attribute.id,
                attributes[0].attribute.value.0,
                attributes[0].mask.0
            ),
            (ATTRIBUTE_FLAGS, FLAG_INPUT, 0b1000)
        );
        assert_eq!(
            (attributes[1].attribute.value.0, attributes[1].mask.0),
            (FLAG_OUTPUT | FLAG_OPEN_DRAIN, 0b0100)
        );
        assert_eq!(
            (
                attributes[2].attribute.id,
                attributes[2].attribute.value.0,
                attributes[2].mask.0
            ),
            (ATTRIBUTE_OUTPUT_VALUES, 0b0110, 0b0111)
        );
        // The turnaround: SWDIO (bit 1) joins TDO as an input and leaves the outputs.
        // nRST asserted (low) and SWCLK high stay so across it.
        let turned = line_config(&positions(&spec), false, 0b0001);
        assert_eq!(turned.attributes[0].mask.0, 0b1010);
        assert_eq!(
            (
                turned.attributes[2].attribute.value.0,
                turned.attributes[2].mask.0
            ),
            (0b0001, 0b0101)
        );
    }

    #[test]
    fn a_missing_chip_and_a_file_that_is_no_chip_are_clear_errors() {
        let missing = Spec::parse("gpiochip:/dev/gpiochip-none:swclk=1,swdio=2").unwrap();
        assert_eq!(GpioChip::open(&missing).err(), Some(OpenError::NoDevice));
        // /dev/null takes no GPIO ioctl: the kernel answers ENOTTY.
        let null = Spec::parse("gpiochip:/dev/null:swclk=1,swdio=2").unwrap();
        assert_eq!(GpioChip::open(&null).err(), Some(OpenError::NotAChip));
    }
}
