//! `gpiochip:DEVICE:swclk=N,swdio=N[,srst=N][,tdi=N][,tdo=N]`: which lines of a Linux GPIO
//! chip carry the debug signals (BMP_WIRE on a Raspberry Pi). Parsed without allocating.

/// The parsed specification: the chip's device path and each signal's line offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec<'a> {
    pub device: &'a str,
    pub swclk: u32,
    pub swdio: u32,
    pub srst: Option<u32>,
    pub tdi: Option<u32>,
    pub tdo: Option<u32>,
}

/// What is wrong with a specification, in words a user can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecError {
    NotGpiochip,
    NoDevice,
    NoLines,
    /// `name=value` expected.
    Malformed,
    UnknownSignal,
    BadLineNumber,
    Repeated,
    MissingSwclk,
    MissingSwdio,
    /// One line given to two signals.
    SharedLine,
}

impl SpecError {
    pub const fn message(self) -> &'static str {
        match self {
            SpecError::NotGpiochip => {
                "BMP_WIRE=gpiochip:DEVICE:swclk=N,swdio=N[,srst=N][,tdi=N][,tdo=N]"
            }
            SpecError::NoDevice => "gpiochip: the device is missing (e.g. /dev/gpiochip0)",
            SpecError::NoLines => "gpiochip: the lines are missing (e.g. :swclk=25,swdio=24)",
            SpecError::Malformed => "gpiochip: each line is given as name=number",
            SpecError::UnknownSignal => "gpiochip: signals are swclk, swdio, srst, tdi and tdo",
            SpecError::BadLineNumber => "gpiochip: a line number is a decimal number below 64",
            SpecError::Repeated => "gpiochip: a signal is given twice",
            SpecError::MissingSwclk => "gpiochip: swclk=N is required",
            SpecError::MissingSwdio => "gpiochip: swdio=N is required",
            SpecError::SharedLine => "gpiochip: one line is given to two signals",
        }
    }
}

impl core::fmt::Display for SpecError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

/// Line offsets are below the kernel's 64 lines a request (GPIO_V2_LINES_MAX is a count,
/// but a Raspberry Pi's chips have 54 or 58 lines; larger offsets are typos).
const MAX_LINE: u32 = 63;

impl<'a> Spec<'a> {
    pub fn parse(text: &'a str) -> Result<Self, SpecError> {
        let rest = text
            .strip_prefix("gpiochip:")
            .ok_or(SpecError::NotGpiochip)?;
        // The device path may itself contain ':'? Paths under /dev do not: split at the last.
        let (device, lines) = rest.rsplit_once(':').ok_or(if rest.is_empty() {
            SpecError::NoDevice
        } else {
            SpecError::NoLines
        })?;
        if device.is_empty() {
            return Err(SpecError::NoDevice);
        }
        if lines.is_empty() {
            return Err(SpecError::NoLines);
        }
        let mut slots: [Option<u32>; 5] = [None; 5];
        for item in lines.split(',') {
            let (name, number) = item.split_once('=').ok_or(SpecError::Malformed)?;
            let index = ["swclk", "swdio", "srst", "tdi", "tdo"]
                .iter()
                .position(|known| *known == name.trim())
                .ok_or(SpecError::UnknownSignal)?;
            let number = number.trim();
            if number.is_empty() || !number.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(SpecError::BadLineNumber);
            }
            let line = number
                .parse::<u32>()
                .ok()
                .filter(|line| *line <= MAX_LINE)
                .ok_or(SpecError::BadLineNumber)?;
            if slots[index].replace(line).is_some() {
                return Err(SpecError::Repeated);
            }
        }
        let given = slots.iter().flatten();
        for (index, line) in given.clone().enumerate() {
            if given.clone().skip(index + 1).any(|other| other == line) {
                return Err(SpecError::SharedLine);
            }
        }
        Ok(Spec {
            device,
            swclk: slots[0].ok_or(SpecError::MissingSwclk)?,
            swdio: slots[1].ok_or(SpecError::MissingSwdio)?,
            srst: slots[2],
            tdi: slots[3],
            tdo: slots[4],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        assert_eq!(
            Spec::parse("gpiochip:/dev/gpiochip0:swclk=25,swdio=24,srst=18"),
            Ok(Spec {
                device: "/dev/gpiochip0",
                swclk: 25,
                swdio: 24,
                srst: Some(18),
                tdi: None,
                tdo: None,
            })
        );
    }

    #[test]
    fn takes_any_order_and_the_jtag_lines() {
        let spec = Spec::parse("gpiochip:/dev/gpiochip4:tdo=9,swdio=24,tdi=10,swclk=25").unwrap();
        assert_eq!(spec.device, "/dev/gpiochip4");
        assert_eq!((spec.swclk, spec.swdio), (25, 24));
        assert_eq!((spec.tdi, spec.tdo, spec.srst), (Some(10), Some(9), None));
    }

    #[test]
    fn refuses_bad_specifications_with_the_reason() {
        use SpecError::*;
        for (text, error) in [
            ("gpio:/dev/gpiochip0:swclk=1,swdio=2", NotGpiochip),
            ("gpiochip:", NoDevice),
            ("gpiochip::swclk=1,swdio=2", NoDevice),
            ("gpiochip:/dev/gpiochip0", NoLines),
            ("gpiochip:/dev/gpiochip0:", NoLines),
            ("gpiochip:/dev/gpiochip0:swclk", Malformed),
            ("gpiochip:/dev/gpiochip0:swclk=1,,swdio=2", Malformed),
            (
                "gpiochip:/dev/gpiochip0:swclk=1,swdio=2,nrst=3",
                UnknownSignal,
            ),
            ("gpiochip:/dev/gpiochip0:swclk=x,swdio=2", BadLineNumber),
            ("gpiochip:/dev/gpiochip0:swclk=-1,swdio=2", BadLineNumber),
            ("gpiochip:/dev/gpiochip0:swclk=64,swdio=2", BadLineNumber),
            (
                "gpiochip:/dev/gpiochip0:swclk=99999999999,swdio=2",
                BadLineNumber,
            ),
            ("gpiochip:/dev/gpiochip0:swclk=,swdio=2", BadLineNumber),
            ("gpiochip:/dev/gpiochip0:swclk=1,swclk=2,swdio=3", Repeated),
            ("gpiochip:/dev/gpiochip0:swdio=2", MissingSwclk),
            ("gpiochip:/dev/gpiochip0:swclk=2", MissingSwdio),
            ("gpiochip:/dev/gpiochip0:swclk=2,swdio=3,srst=2", SharedLine),
        ] {
            assert_eq!(Spec::parse(text), Err(error), "{text}");
            assert!(error.message().starts_with("gpiochip") || error == NotGpiochip);
        }
    }
}
