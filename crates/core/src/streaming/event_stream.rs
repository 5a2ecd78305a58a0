//! The body of an `InvokeWithResponseStream` answer (`application/vnd.amazon.eventstream`),
//! read as it arrives: `EventStreamDecoder` takes the bytes in whatever pieces Envoy hands
//! them over and returns Lambda's events in order (`lambda_event`), each from one message of
//! the event-stream framing (`message`).
//!
//! Memory is bounded by one message: a message that arrives whole inside one piece is read in
//! place; otherwise only its bytes are kept until it is complete (grown as they arrive, never
//! reserved from a declared length), and each byte is copied and checked once. A declared
//! length under 16 bytes or over the limit (16 MiB, the format's; `with_max_message_len`
//! lowers it) is refused when its prelude arrives.

mod error;
mod lambda_event;
pub mod message;

#[cfg(test)]
mod tests;

pub use error::EventStreamError;
pub use lambda_event::{FunctionStreamError, StreamEvent, EXCEPTION_MESSAGE_LIMIT};
pub use message::{MAX_HEADERS_LEN, MAX_MESSAGE_LEN, MIN_MESSAGE_LEN};

use lambda_event::stream_event;
use message::{Message, Prelude, PRELUDE_LEN};

/// Past a message this large, the buffer that held it is freed rather than kept for the next.
const KEPT_BUFFER_CAPACITY: usize = 64 * 1024;

/// Reads an event stream incrementally; see the module's documentation.
#[derive(Debug)]
pub struct EventStreamDecoder {
    /// The unfinished message's bytes, prelude first (empty between messages).
    buffer: Vec<u8>,
    /// The unfinished message's total length, once its prelude has arrived and checked out.
    total_len: Option<usize>,
    max_message_len: usize,
    /// The first error; every later push returns it.
    failed: Option<EventStreamError>,
}

impl Default for EventStreamDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl EventStreamDecoder {
    pub fn new() -> Self {
        Self::with_max_message_len(MAX_MESSAGE_LEN)
    }

    /// A decoder that refuses messages over `max_message_len` bytes (at most `MAX_MESSAGE_LEN`).
    pub fn with_max_message_len(max_message_len: usize) -> Self {
        Self {
            buffer: Vec::new(),
            total_len: None,
            max_message_len: max_message_len.min(MAX_MESSAGE_LEN),
            failed: None,
        }
    }

    /// Feeds bytes as they arrive (any split, down to 1 byte); appends every event completed by
    /// them, in order. After an error the decoder stays failed (returns the same error); the
    /// events of the messages before the bad one are appended all the same.
    pub fn push(
        &mut self,
        bytes: &[u8],
        events: &mut Vec<StreamEvent>,
    ) -> Result<(), EventStreamError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.read(bytes, events);
        if let Err(error) = &result {
            self.failed = Some(error.clone());
            self.buffer = Vec::new();
            self.total_len = None;
        }
        result
    }

    /// Bytes of an unfinished message held (0 between messages).
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    fn read(
        &mut self,
        mut bytes: &[u8],
        events: &mut Vec<StreamEvent>,
    ) -> Result<(), EventStreamError> {
        while !bytes.is_empty() {
            if self.buffer.is_empty() {
                bytes = self.read_in_place(bytes, events)?;
                continue;
            }
            let wanted = self.total_len.unwrap_or(PRELUDE_LEN);
            let take = wanted.saturating_sub(self.buffer.len()).min(bytes.len());
            let (taken, rest) = bytes.split_at_checked(take).unwrap_or((bytes, &[]));
            self.buffer.extend_from_slice(taken);
            bytes = rest;
            if self.buffer.len() < wanted {
                continue;
            }
            match self.total_len {
                None => {
                    let prelude = self
                        .buffer
                        .first_chunk::<PRELUDE_LEN>()
                        .ok_or(EventStreamError::MessageTooShort { declared: 0 })?;
                    self.total_len = Some(Prelude::read(prelude, self.max_message_len)?.total_len);
                }
                Some(_) => {
                    events.push(stream_event(&Message::read(
                        &self.buffer,
                        self.max_message_len,
                    )?)?);
                    self.total_len = None;
                    if self.buffer.capacity() > KEPT_BUFFER_CAPACITY {
                        self.buffer = Vec::new();
                    } else {
                        self.buffer.clear();
                    }
                }
            }
        }
        Ok(())
    }

    /// Between messages: reads the whole messages at the start of `bytes` without copying
    /// them, and keeps the start of an unfinished one. Returns what is left to read.
    fn read_in_place<'a>(
        &mut self,
        bytes: &'a [u8],
        events: &mut Vec<StreamEvent>,
    ) -> Result<&'a [u8], EventStreamError> {
        let Some((prelude, _)) = bytes.split_first_chunk::<PRELUDE_LEN>() else {
            self.buffer.extend_from_slice(bytes);
            return Ok(&[]);
        };
        let total_len = Prelude::read(prelude, self.max_message_len)?.total_len;
        match bytes.split_at_checked(total_len) {
            Some((message, rest)) => {
                events.push(stream_event(&Message::read(
                    message,
                    self.max_message_len,
                )?)?);
                Ok(rest)
            }
            None => {
                self.total_len = Some(total_len);
                self.buffer.extend_from_slice(bytes);
                Ok(&[])
            }
        }
    }
}
