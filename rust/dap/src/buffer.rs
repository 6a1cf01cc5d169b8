//! A request cursor and a response writer that never panic: running off either end is an
//! error the command handlers turn into an error reply.

/// Why a command could not be answered normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fail {
    /// The request is short or inconsistent.
    Malformed,
    /// The response would not fit in the response buffer.
    NoRoom,
    /// A command this probe does not implement (SWO, UART, vendor).
    Unsupported,
}

/// Reads little-endian fields from a request (CMSIS-DAP: SHORT and WORD are little-endian).
#[derive(Clone)]
pub(crate) struct Request<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Request<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    pub(crate) fn consumed(&self) -> usize {
        self.position
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.position..).unwrap_or(&[])
    }

    pub(crate) fn bytes(&mut self, count: usize) -> Result<&'a [u8], Fail> {
        let end = self.position.checked_add(count).ok_or(Fail::Malformed)?;
        let slice = self.bytes.get(self.position..end).ok_or(Fail::Malformed)?;
        self.position = end;
        Ok(slice)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Fail> {
        Ok(self.bytes(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Fail> {
        let bytes = self.bytes(2)?;
        Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Fail> {
        let bytes = self.bytes(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }
}

/// Appends to a response buffer up to a limit.
pub(crate) struct Response<'a> {
    buffer: &'a mut [u8],
    length: usize,
}

impl<'a> Response<'a> {
    pub(crate) fn new(buffer: &'a mut [u8]) -> Self {
        Self { buffer, length: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.length
    }

    /// Bytes that can still be written.
    pub(crate) fn room(&self) -> usize {
        self.buffer.len() - self.length
    }

    pub(crate) fn ensure(&self, count: usize) -> Result<(), Fail> {
        if count <= self.room() {
            Ok(())
        } else {
            Err(Fail::NoRoom)
        }
    }

    pub(crate) fn truncate(&mut self, length: usize) {
        self.length = self.length.min(length);
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> Result<(), Fail> {
        self.ensure(bytes.len())?;
        self.buffer[self.length..self.length + bytes.len()].copy_from_slice(bytes);
        self.length += bytes.len();
        Ok(())
    }

    pub(crate) fn u8(&mut self, value: u8) -> Result<(), Fail> {
        self.bytes(&[value])
    }

    pub(crate) fn u16(&mut self, value: u16) -> Result<(), Fail> {
        self.bytes(&value.to_le_bytes())
    }

    pub(crate) fn u32(&mut self, value: u32) -> Result<(), Fail> {
        self.bytes(&value.to_le_bytes())
    }

    /// Reserve `count` zeroed bytes and return their position, to be filled in later.
    pub(crate) fn reserve(&mut self, count: usize) -> Result<usize, Fail> {
        self.ensure(count)?;
        let position = self.length;
        self.buffer[position..position + count].fill(0);
        self.length += count;
        Ok(position)
    }

    /// The bytes at `position..position + count`, written earlier or reserved.
    pub(crate) fn slice_mut(&mut self, position: usize, count: usize) -> &mut [u8] {
        let end = (position + count).min(self.length);
        let start = position.min(end);
        &mut self.buffer[start..end]
    }

    /// Overwrite bytes written earlier (counts and status patched in after the fact).
    pub(crate) fn patch(&mut self, position: usize, bytes: &[u8]) {
        let target = self.slice_mut(position, bytes.len());
        let count = target.len();
        target.copy_from_slice(&bytes[..count]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_reads_little_endian_and_stops_at_the_end() {
        let mut request = Request::new(&[1, 2, 3, 4, 5, 6]);
        assert_eq!(request.u8(), Ok(1));
        assert_eq!(request.u16(), Ok(0x0302));
        assert_eq!(request.u32(), Err(Fail::Malformed));
        assert_eq!(request.consumed(), 3);
        assert_eq!(request.bytes(usize::MAX), Err(Fail::Malformed));
        assert_eq!(request.bytes(3), Ok(&[4, 5, 6][..]));
        assert_eq!(request.rest(), &[] as &[u8]);
    }

    #[test]
    fn response_never_writes_past_its_buffer() {
        let mut buffer = [0u8; 6];
        let mut response = Response::new(&mut buffer);
        assert_eq!(response.u32(0x0403_0201), Ok(()));
        assert_eq!(response.u32(0), Err(Fail::NoRoom));
        assert_eq!(response.reserve(2), Ok(4));
        assert_eq!(response.u8(0), Err(Fail::NoRoom));
        response.patch(4, &[9, 9, 9]);
        response.truncate(1);
        assert_eq!(response.len(), 1);
        assert_eq!(buffer, [1, 2, 3, 4, 9, 9]);
    }
}
