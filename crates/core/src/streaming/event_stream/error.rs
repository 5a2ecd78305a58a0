//! Why an event stream cannot be read further. Every message names the rule broken and
//! quotes at most a short, escaped piece of what arrived: the stream is the function's
//! output, and an error line must stay readable and small.

use std::fmt;

/// What went wrong in the stream; the decoder stops at the first one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventStreamError {
    /// The prelude's CRC-32 (over its first 8 bytes) is not the one it carries.
    PreludeChecksum { computed: u32, received: u32 },
    /// The message's CRC-32 (over everything before it) is not the one it carries.
    MessageChecksum { computed: u32, received: u32 },
    /// A declared total length below the 16 bytes of prelude and message CRC.
    MessageTooShort { declared: u32 },
    /// A declared total length over the decoder's limit.
    MessageTooLong { declared: u32, limit: usize },
    /// A declared headers length over 128 KiB or over what the message's length leaves.
    HeadersTooLong { declared: u32, limit: usize },
    /// A header that does not parse (cut off, unknown value type, name not UTF-8, ...).
    BadHeader(String),
    /// A header Lambda always sends is missing (or is not a string).
    MissingHeader(&'static str),
    /// `:message-type` other than `event`, `exception` or `error`.
    UnknownMessageType(String),
    /// `:event-type` other than `PayloadChunk` or `InvokeComplete`.
    UnknownEventType(String),
    /// An `InvokeComplete` whose payload is not the JSON object Lambda documents.
    BadInvokeComplete(String),
}

impl fmt::Display for EventStreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EventStreamError::*;
        f.write_str("event stream: ")?;
        match self {
            PreludeChecksum { computed, received } => write!(
                f,
                "prelude CRC-32 is {received:#010x}, the prelude's bytes give {computed:#010x}"
            ),
            MessageChecksum { computed, received } => write!(
                f,
                "message CRC-32 is {received:#010x}, the message's bytes give {computed:#010x}"
            ),
            MessageTooShort { declared } => write!(
                f,
                "a message declares {declared} bytes, less than the 16 of its prelude and CRC"
            ),
            MessageTooLong { declared, limit } => write!(
                f,
                "a message declares {declared} bytes, over the limit of {limit}"
            ),
            HeadersTooLong { declared, limit } => write!(
                f,
                "a message declares {declared} bytes of headers, over the limit of {limit}"
            ),
            BadHeader(what) => write!(f, "a malformed header: {what}"),
            MissingHeader(name) => write!(f, "a message without a string header {name}"),
            UnknownMessageType(kind) => write!(f, "unknown :message-type {}", quote(kind)),
            UnknownEventType(kind) => write!(f, "unknown :event-type {}", quote(kind)),
            BadInvokeComplete(what) => write!(f, "an InvokeComplete event with {what}"),
        }
    }
}

impl std::error::Error for EventStreamError {}

/// The longest piece of outside text an error quotes, in characters of its escaped form.
const QUOTE_LIMIT: usize = 64;

/// `text` escaped (control and invisible characters as `\u{..}`) and quoted, cut to
/// `QUOTE_LIMIT` escaped characters (marked with `...`).
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    let mut used = 0;
    for c in text.chars() {
        let escaped = c.escape_debug();
        used += escaped.len();
        if used > QUOTE_LIMIT {
            out.push_str("\"...");
            return out;
        }
        out.extend(escaped);
    }
    out.push('"');
    out
}
