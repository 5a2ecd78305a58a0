//! One event-stream message on the wire (the `application/vnd.amazon.eventstream` framing of
//! AWS's streaming APIs):
//!
//! ```text
//! total length (u32 BE) | headers length (u32 BE) | prelude CRC-32 (of the 8 bytes before)
//! headers               | payload                 | message CRC-32 (of everything before)
//! ```
//!
//! A header is `name length (u8) | name | value type (u8) | value`; every value type of the
//! format is read (a header Lambda does not send must still be stepped over correctly).
//! Borrowed from the message's bytes: nothing is copied here.

use super::error::{quote, EventStreamError};
use crate::streaming::crc32::{crc32, Crc32};

/// The prelude: the two lengths and the CRC-32 of the 8 bytes that hold them.
pub const PRELUDE_LEN: usize = 12;
/// The trailing CRC-32.
const MESSAGE_CRC_LEN: usize = 4;
/// Prelude and message CRC, no headers, no payload.
pub const MIN_MESSAGE_LEN: usize = PRELUDE_LEN + MESSAGE_CRC_LEN;
/// The format's limit on a whole message (aws-c-event-stream's
/// `AWS_EVENT_STREAM_MAX_MESSAGE_SIZE`, 16 MiB); the payload's limit, also 16 MiB, cannot be
/// passed under it.
pub const MAX_MESSAGE_LEN: usize = 16 * 1024 * 1024;
/// The format's limit on a message's headers (`AWS_EVENT_STREAM_MAX_HEADERS_SIZE`, 128 KiB).
pub const MAX_HEADERS_LEN: usize = 128 * 1024;

/// A prelude whose CRC checked out and whose lengths fit `max_message_len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prelude {
    pub total_len: usize,
    pub headers_len: usize,
}

impl Prelude {
    /// Checks the CRC first (a corrupted length is reported as the corruption it is), then
    /// the lengths.
    pub fn read(
        bytes: &[u8; PRELUDE_LEN],
        max_message_len: usize,
    ) -> Result<Self, EventStreamError> {
        let [t0, t1, t2, t3, h0, h1, h2, h3, c0, c1, c2, c3] = *bytes;
        let computed = crc32(&[t0, t1, t2, t3, h0, h1, h2, h3]);
        let received = u32::from_be_bytes([c0, c1, c2, c3]);
        if computed != received {
            return Err(EventStreamError::PreludeChecksum { computed, received });
        }
        let declared = u32::from_be_bytes([t0, t1, t2, t3]);
        let total_len = usize::try_from(declared).unwrap_or(usize::MAX);
        if total_len < MIN_MESSAGE_LEN {
            return Err(EventStreamError::MessageTooShort { declared });
        }
        let limit = max_message_len.min(MAX_MESSAGE_LEN);
        if total_len > limit {
            return Err(EventStreamError::MessageTooLong { declared, limit });
        }
        let declared = u32::from_be_bytes([h0, h1, h2, h3]);
        let headers_len = usize::try_from(declared).unwrap_or(usize::MAX);
        let limit = MAX_HEADERS_LEN.min(total_len - MIN_MESSAGE_LEN);
        if headers_len > limit {
            return Err(EventStreamError::HeadersTooLong { declared, limit });
        }
        Ok(Self {
            total_len,
            headers_len,
        })
    }
}

/// A header's value, one variant per type of the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    /// Types 0 (true) and 1 (false): no value bytes.
    Bool(bool),
    /// Type 2.
    Byte(i8),
    /// Type 3.
    Int16(i16),
    /// Type 4.
    Int32(i32),
    /// Type 5.
    Int64(i64),
    /// Type 6: u16 length, then the bytes.
    Bytes(&'a [u8]),
    /// Type 7: u16 length, then UTF-8.
    String(&'a str),
    /// Type 8: milliseconds since the epoch.
    Timestamp(i64),
    /// Type 9: 16 bytes.
    Uuid([u8; 16]),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    pub name: &'a str,
    pub value: HeaderValue<'a>,
}

/// A message whose CRCs checked out, its headers in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    pub headers: Vec<Header<'a>>,
    pub payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// Reads one whole message: `bytes` is exactly the length its prelude declares.
    pub fn read(bytes: &'a [u8], max_message_len: usize) -> Result<Self, EventStreamError> {
        let too_short = || EventStreamError::MessageTooShort {
            declared: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
        };
        let (prelude, _) = bytes
            .split_first_chunk::<PRELUDE_LEN>()
            .ok_or_else(too_short)?;
        let prelude = Prelude::read(prelude, max_message_len)?;
        if prelude.total_len != bytes.len() {
            return Err(too_short());
        }
        let (covered, received) = bytes
            .split_last_chunk::<MESSAGE_CRC_LEN>()
            .ok_or_else(too_short)?;
        let mut crc = Crc32::new();
        crc.update(covered);
        let computed = crc.finish();
        let received = u32::from_be_bytes(*received);
        if computed != received {
            return Err(EventStreamError::MessageChecksum { computed, received });
        }
        let after_prelude = covered.get(PRELUDE_LEN..).ok_or_else(too_short)?;
        let (headers, payload) = after_prelude
            .split_at_checked(prelude.headers_len)
            .ok_or_else(too_short)?;
        Ok(Self {
            headers: read_headers(headers)?,
            payload,
        })
    }

    /// The value of the first header named `name`.
    pub fn header(&self, name: &str) -> Option<&HeaderValue<'a>> {
        self.headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| &h.value)
    }

    /// The first header named `name` if it is a string.
    pub fn string_header(&self, name: &str) -> Option<&'a str> {
        match self.header(name) {
            Some(HeaderValue::String(s)) => Some(s),
            _ => None,
        }
    }
}

/// Reads the headers section to its end; a header cut off by the end is an error.
fn read_headers(bytes: &[u8]) -> Result<Vec<Header<'_>>, EventStreamError> {
    let mut reader = Reader { rest: bytes };
    let mut headers = Vec::new();
    while !reader.rest.is_empty() {
        let name_len = usize::from(reader.u8("a header name length")?);
        let name = reader.take(name_len, "a header name")?;
        let name = std::str::from_utf8(name).map_err(|_| {
            EventStreamError::BadHeader(format!(
                "a name that is not UTF-8: {}",
                quote(&String::from_utf8_lossy(name))
            ))
        })?;
        let value = read_value(&mut reader, name)?;
        headers.push(Header { name, value });
    }
    Ok(headers)
}

fn read_value<'a>(
    reader: &mut Reader<'a>,
    name: &str,
) -> Result<HeaderValue<'a>, EventStreamError> {
    let value_type = reader.u8("a header value type")?;
    let what = "a header value";
    Ok(match value_type {
        0 => HeaderValue::Bool(true),
        1 => HeaderValue::Bool(false),
        2 => HeaderValue::Byte(i8::from_be_bytes(reader.array(what)?)),
        3 => HeaderValue::Int16(i16::from_be_bytes(reader.array(what)?)),
        4 => HeaderValue::Int32(i32::from_be_bytes(reader.array(what)?)),
        5 => HeaderValue::Int64(i64::from_be_bytes(reader.array(what)?)),
        6 | 7 => {
            let len = usize::from(u16::from_be_bytes(reader.array(what)?));
            let bytes = reader.take(len, what)?;
            if value_type == 6 {
                HeaderValue::Bytes(bytes)
            } else {
                HeaderValue::String(std::str::from_utf8(bytes).map_err(|_| {
                    EventStreamError::BadHeader(format!(
                        "header {} has a string value that is not UTF-8",
                        quote(name)
                    ))
                })?)
            }
        }
        8 => HeaderValue::Timestamp(i64::from_be_bytes(reader.array(what)?)),
        9 => HeaderValue::Uuid(reader.array(what)?),
        other => {
            return Err(EventStreamError::BadHeader(format!(
                "header {} has value type {other}, not one of the format's 0 to 9",
                quote(name)
            )))
        }
    })
}

/// The unread part of the headers section; every read is bounds-checked.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8], EventStreamError> {
        let (taken, rest) = self.rest.split_at_checked(len).ok_or_else(|| {
            EventStreamError::BadHeader(format!(
                "{what} of {len} bytes runs past the headers' end ({} left)",
                self.rest.len()
            ))
        })?;
        self.rest = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], EventStreamError> {
        let bytes = self.take(N, what)?;
        // `take` returned exactly N bytes, so this cannot fail.
        <[u8; N]>::try_from(bytes)
            .map_err(|_| EventStreamError::BadHeader(format!("{what} cut off")))
    }

    fn u8(&mut self, what: &str) -> Result<u8, EventStreamError> {
        let [byte] = self.array(what)?;
        Ok(byte)
    }
}
