//! Tokens of the sequence language (Open-CMSIS-Pack spec, "Debug Access Sequences",
//! DebugSyntaxRules): names, integer literals, string literals and C's operators, with
//! `//` and `/* */` comments and any white space between them.

/// Operators and punctuation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbol {
    OpenParen,
    CloseParen,
    OpenBrace,
    CloseBrace,
    Comma,
    Semicolon,
    Question,
    Colon,
    Not,
    Tilde,
    Binary(Binary),
    AndAnd,
    OrOr,
    /// `=`, or a compound assignment such as `+=` (the operator it applies).
    Assign(Option<Binary>),
}

/// C's binary arithmetic, bitwise and comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    Multiply,
    Divide,
    Remainder,
    Add,
    Subtract,
    ShiftLeft,
    ShiftRight,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Equal,
    NotEqual,
    And,
    Xor,
    Or,
}

impl Binary {
    /// C's precedence, higher binds tighter (`* / %` highest, `|` lowest).
    pub fn precedence(self) -> u8 {
        match self {
            Binary::Multiply | Binary::Divide | Binary::Remainder => 10,
            Binary::Add | Binary::Subtract => 9,
            Binary::ShiftLeft | Binary::ShiftRight => 8,
            Binary::Less | Binary::LessEqual | Binary::Greater | Binary::GreaterEqual => 7,
            Binary::Equal | Binary::NotEqual => 6,
            Binary::And => 5,
            Binary::Xor => 4,
            Binary::Or => 3,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token<'t> {
    Number(u64),
    Name(&'t str),
    /// A string literal's text between the quotes, escapes as written.
    Text(&'t str),
    Symbol(Symbol),
    End,
}

/// A token that could not be read: what, and where it starts (byte offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexError {
    pub message: &'static str,
    pub offset: usize,
}

/// Where the next token starts, after white space and comments.
pub fn skip_space(text: &str, mut offset: usize) -> Result<usize, LexError> {
    let bytes = text.as_bytes();
    loop {
        match bytes.get(offset..).unwrap_or_default() {
            [byte, ..] if byte.is_ascii_whitespace() => offset += 1,
            [b'/', b'/', ..] => {
                offset += bytes[offset..]
                    .iter()
                    .position(|&byte| byte == b'\n')
                    .unwrap_or(bytes.len() - offset);
            }
            [b'/', b'*', rest @ ..] => {
                let close = rest
                    .windows(2)
                    .position(|pair| pair == b"*/")
                    .ok_or(LexError {
                        message: "comment not closed (*/ missing)",
                        offset,
                    })?;
                offset += 2 + close + 2;
            }
            _ => return Ok(offset),
        }
    }
}

/// The token at `offset` (white space already skipped) and the offset after it.
pub fn token(text: &str, offset: usize) -> Result<(Token<'_>, usize), LexError> {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.get(offset) else {
        return Ok((Token::End, offset));
    };
    let error = |message| LexError { message, offset };
    if first.is_ascii_alphabetic() || first == b'_' {
        let length = bytes[offset..]
            .iter()
            .position(|&byte| !(byte.is_ascii_alphanumeric() || byte == b'_'))
            .unwrap_or(bytes.len() - offset);
        return Ok((Token::Name(&text[offset..offset + length]), offset + length));
    }
    if first.is_ascii_digit() {
        return number(text, offset);
    }
    if first == b'"' {
        let mut end = offset + 1;
        loop {
            match bytes.get(end) {
                None | Some(b'\n') => return Err(error("string not closed (\" missing)")),
                Some(b'\\') => end += 2,
                Some(b'"') => break,
                Some(_) => end += 1,
            }
        }
        // A backslash before the end of the text may have pushed `end` past a boundary.
        let inside = text.get(offset + 1..end).ok_or(error("bad string"))?;
        return Ok((Token::Text(inside), end + 1));
    }
    let (symbol, length) = symbol(&bytes[offset..]).ok_or(error("unexpected character"))?;
    Ok((Token::Symbol(symbol), offset + length))
}

/// Decimal, `0x` hexadecimal or `0b` binary, with an optional `u`/`U` or `l`/`L` suffix
/// (the spec's literals are decimal and hexadecimal; pyOCD also takes binary and the
/// suffixes, and DFPs use them).
fn number(text: &str, offset: usize) -> Result<(Token<'_>, usize), LexError> {
    let bytes = text.as_bytes();
    let (radix, digits_start) = match bytes.get(offset..offset + 2) {
        Some(b"0x" | b"0X") => (16, offset + 2),
        Some(b"0b" | b"0B") => (2, offset + 2),
        _ => (10, offset),
    };
    let mut value: u64 = 0;
    let mut end = digits_start;
    while let Some(&byte) = bytes.get(end) {
        let Some(digit) = (byte as char).to_digit(radix) else {
            break;
        };
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|value| value.checked_add(u64::from(digit)))
            .ok_or(LexError {
                message: "number larger than 64 bits",
                offset,
            })?;
        end += 1;
    }
    if end == digits_start {
        return Err(LexError {
            message: "digits missing after 0x or 0b",
            offset,
        });
    }
    while matches!(bytes.get(end), Some(b'u' | b'U' | b'l' | b'L')) {
        end += 1;
    }
    if bytes
        .get(end)
        .is_some_and(|&byte| byte.is_ascii_alphanumeric() || byte == b'_')
    {
        return Err(LexError {
            message: "bad digit in number",
            offset: end,
        });
    }
    Ok((Token::Number(value), end))
}

/// The operator or punctuation at the start of `bytes`, longest first.
fn symbol(bytes: &[u8]) -> Option<(Symbol, usize)> {
    use Binary::*;
    let three = match bytes.get(..3) {
        Some(b"<<=") => Some(Symbol::Assign(Some(ShiftLeft))),
        Some(b">>=") => Some(Symbol::Assign(Some(ShiftRight))),
        _ => None,
    };
    if let Some(symbol) = three {
        return Some((symbol, 3));
    }
    let two = match bytes.get(..2) {
        Some(b"<<") => Some(Symbol::Binary(ShiftLeft)),
        Some(b">>") => Some(Symbol::Binary(ShiftRight)),
        Some(b"<=") => Some(Symbol::Binary(LessEqual)),
        Some(b">=") => Some(Symbol::Binary(GreaterEqual)),
        Some(b"==") => Some(Symbol::Binary(Equal)),
        Some(b"!=") => Some(Symbol::Binary(NotEqual)),
        Some(b"&&") => Some(Symbol::AndAnd),
        Some(b"||") => Some(Symbol::OrOr),
        Some(b"+=") => Some(Symbol::Assign(Some(Add))),
        Some(b"-=") => Some(Symbol::Assign(Some(Subtract))),
        Some(b"*=") => Some(Symbol::Assign(Some(Multiply))),
        Some(b"/=") => Some(Symbol::Assign(Some(Divide))),
        Some(b"%=") => Some(Symbol::Assign(Some(Remainder))),
        Some(b"&=") => Some(Symbol::Assign(Some(And))),
        Some(b"|=") => Some(Symbol::Assign(Some(Or))),
        Some(b"^=") => Some(Symbol::Assign(Some(Xor))),
        _ => None,
    };
    if let Some(symbol) = two {
        return Some((symbol, 2));
    }
    let one = match bytes.first()? {
        b'(' => Symbol::OpenParen,
        b')' => Symbol::CloseParen,
        b'{' => Symbol::OpenBrace,
        b'}' => Symbol::CloseBrace,
        b',' => Symbol::Comma,
        b';' => Symbol::Semicolon,
        b'?' => Symbol::Question,
        b':' => Symbol::Colon,
        b'!' => Symbol::Not,
        b'~' => Symbol::Tilde,
        b'=' => Symbol::Assign(None),
        b'*' => Symbol::Binary(Multiply),
        b'/' => Symbol::Binary(Divide),
        b'%' => Symbol::Binary(Remainder),
        b'+' => Symbol::Binary(Add),
        b'-' => Symbol::Binary(Subtract),
        b'<' => Symbol::Binary(Less),
        b'>' => Symbol::Binary(Greater),
        b'&' => Symbol::Binary(And),
        b'^' => Symbol::Binary(Xor),
        b'|' => Symbol::Binary(Or),
        _ => return None,
    };
    Some((one, 1))
}

/// 1-based line and column of byte `offset` (columns count bytes).
pub fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&byte| byte == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |at| at + 1);
    (line as u32, (before.len() - line_start + 1) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<Token<'_>> {
        let mut offset = 0;
        let mut tokens = Vec::new();
        loop {
            offset = skip_space(text, offset).unwrap();
            let (token, next) = token(text, offset).unwrap();
            if token == Token::End {
                return tokens;
            }
            tokens.push(token);
            offset = next;
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(
            all("__var x = 0x1Fu; // c\n y <<= 0b101 /* d */ != \"a\\\"b\""),
            [
                Token::Name("__var"),
                Token::Name("x"),
                Token::Symbol(Symbol::Assign(None)),
                Token::Number(0x1F),
                Token::Symbol(Symbol::Semicolon),
                Token::Name("y"),
                Token::Symbol(Symbol::Assign(Some(Binary::ShiftLeft))),
                Token::Number(5),
                Token::Symbol(Symbol::Binary(Binary::NotEqual)),
                Token::Text("a\\\"b"),
            ]
        );
    }

    #[test]
    fn bad_tokens() {
        assert!(token("0x", 0).is_err());
        assert!(token("12ab", 0).is_err());
        assert!(token("99999999999999999999", 0).is_err());
        assert!(token("\"open", 0).is_err());
        assert!(token("\"\\", 0).is_err());
        assert!(token("@", 0).is_err());
        assert!(skip_space("/* open", 0).is_err());
        assert_eq!(
            token("18446744073709551615", 0).unwrap().0,
            Token::Number(u64::MAX)
        );
    }

    #[test]
    fn positions() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }
}
