//! Hex digits and numbers as RSP writes them (GDB manual E.1: lower-case hex, big-endian
//! numbers; memory and registers as target-order bytes).

pub fn digit(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

pub const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// A hex number of 1 to 8 digits (a u32).
pub fn number(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 8 {
        return None;
    }
    text.iter().try_fold(0u32, |value, &byte| {
        Some(value << 4 | u32::from(digit(byte)?))
    })
}

/// Hex pairs into `out`; the text must fill it exactly.
pub fn decode(text: &[u8], out: &mut [u8]) -> Option<()> {
    if text.len() != out.len() * 2 {
        return None;
    }
    for (pair, byte) in text.chunks_exact(2).zip(out.iter_mut()) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(())
}

/// Split `text` at the first `separator`.
pub fn split(text: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = text.iter().position(|&byte| byte == separator)?;
    Some((&text[..at], &text[at + 1..]))
}

/// "ADDR,LENGTH" as two hex numbers.
pub fn address_length(text: &[u8]) -> Option<(u32, u32)> {
    let (address, length) = split(text, b',')?;
    Some((number(address)?, number(length)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(b"8000000"), Some(0x0800_0000));
        assert_eq!(number(b"FFFFFFFF"), Some(u32::MAX));
        assert_eq!(number(b"123456789"), None);
        assert_eq!(number(b""), None);
        assert_eq!(number(b"12g"), None);
        assert_eq!(address_length(b"20000000,4"), Some((0x2000_0000, 4)));
    }

    #[test]
    fn decoding() {
        let mut out = [0u8; 2];
        assert_eq!(decode(b"a55A", &mut out), Some(()));
        assert_eq!(out, [0xA5, 0x5A]);
        assert_eq!(decode(b"a55", &mut out), None);
        assert_eq!(decode(b"zz00", &mut out), None);
    }
}
