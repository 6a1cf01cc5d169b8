//! DAP_QueueCommands for a transport: hold 0x7E packets until a packet without 0x7E
//! arrives, then answer them all in order (CMSIS-DAP DAP_QueueCommands). Fixed buffers.

use crate::dap::{Dap, Error};
use crate::wire::Wire;
use crate::{is_queued, is_transfer_abort};

/// A request the queue could not take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueError {
    /// Longer than a held packet can be.
    TooLong,
    /// The processor refused it (empty request, response buffer too small).
    Process(Error),
}

/// Up to `COUNT` held requests of up to `SIZE` bytes: `SIZE` is the packet size and
/// `COUNT` the packet count reported by DAP_Info.
pub struct Queue<const SIZE: usize, const COUNT: usize> {
    packets: [[u8; SIZE]; COUNT],
    lengths: [usize; COUNT],
    held: usize,
}

impl<const SIZE: usize, const COUNT: usize> Default for Queue<SIZE, COUNT> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SIZE: usize, const COUNT: usize> Queue<SIZE, COUNT> {
    pub const fn new() -> Self {
        Self {
            packets: [[0; SIZE]; COUNT],
            lengths: [0; COUNT],
            held: 0,
        }
    }

    /// Requests held now.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Take one request. A DAP_QueueCommands packet is held; any other request first runs
    /// the held ones, then itself, each response going to `send` in order. A
    /// DAP_TransferAbort neither runs nor releases anything (it has no response). A host
    /// that queues more than `COUNT` packets gets the held ones run early, to keep order.
    pub fn submit<W: Wire>(
        &mut self,
        dap: &mut Dap<'_, W>,
        request: &[u8],
        response: &mut [u8],
        mut send: impl FnMut(&[u8]),
    ) -> Result<(), QueueError> {
        if is_transfer_abort(request) {
            return Ok(());
        }
        if request.len() > SIZE {
            return Err(QueueError::TooLong);
        }
        if is_queued(request) {
            if self.held == COUNT {
                self.flush(dap, response, &mut send)?;
            }
            self.packets[self.held][..request.len()].copy_from_slice(request);
            self.lengths[self.held] = request.len();
            self.held += 1;
            return Ok(());
        }
        self.flush(dap, response, &mut send)?;
        run(dap, request, response, &mut send)
    }

    /// Run every held request now.
    pub fn flush<W: Wire>(
        &mut self,
        dap: &mut Dap<'_, W>,
        response: &mut [u8],
        send: &mut impl FnMut(&[u8]),
    ) -> Result<(), QueueError> {
        let held = core::mem::take(&mut self.held);
        for index in 0..held {
            let request = &self.packets[index][..self.lengths[index]];
            run(dap, request, response, send)?;
        }
        Ok(())
    }
}

fn run<W: Wire>(
    dap: &mut Dap<'_, W>,
    request: &[u8],
    response: &mut [u8],
    send: &mut impl FnMut(&[u8]),
) -> Result<(), QueueError> {
    let length = dap
        .process(request, response)
        .map_err(QueueError::Process)?;
    if length > 0 {
        send(&response[..length]);
    }
    Ok(())
}
