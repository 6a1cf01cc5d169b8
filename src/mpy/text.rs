//! Text formatted without allocation.

/// Text formatted into a fixed buffer, cut at its capacity.
pub struct FixedText<const N: usize> {
    bytes: [u8; N],
    length: usize,
}

impl<const N: usize> FixedText<N> {
    pub const fn new() -> Self {
        Self {
            bytes: [0; N],
            length: 0,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.length]
    }

    /// Append bytes, cut at the capacity.
    pub fn push_bytes(&mut self, data: &[u8]) {
        let taken = data.len().min(N - self.length);
        self.bytes[self.length..self.length + taken].copy_from_slice(&data[..taken]);
        self.length += taken;
    }
}

impl<const N: usize> core::fmt::Write for FixedText<N> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.push_bytes(text.as_bytes());
        Ok(())
    }
}
