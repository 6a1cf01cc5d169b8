//! Text formatted without allocation.

/// Text formatted into a fixed buffer, cut at its capacity.
pub struct FixedText<const N: usize> {
    bytes: heapless::Vec<u8, N>,
}

impl<const N: usize> FixedText<N> {
    pub const fn new() -> Self {
        Self {
            bytes: heapless::Vec::new(),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Append bytes, cut at the capacity.
    pub fn push_bytes(&mut self, data: &[u8]) {
        let taken = data.len().min(N - self.bytes.len());
        // Cannot fail: `taken` fits.
        let _ = self.bytes.extend_from_slice(&data[..taken]);
    }
}

impl<const N: usize> core::fmt::Write for FixedText<N> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.push_bytes(text.as_bytes());
        Ok(())
    }
}
