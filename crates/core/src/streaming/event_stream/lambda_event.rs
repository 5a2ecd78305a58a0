//! What Lambda's `InvokeWithResponseStream` messages mean: `:message-type` `event` with
//! `:event-type` `PayloadChunk` (the function's output bytes) or `InvokeComplete` (the end,
//! with the function's error if it failed after the stream began), or `exception` (an error
//! in the stream, `:exception-type` and a JSON payload with a message). The event-stream
//! format's generic `error` messages (`:error-code`, `:error-message`) are read as exceptions
//! too. Anything else is an error: a stream the filter does not understand must not be
//! passed on as if it were the function's output.

use super::error::EventStreamError;
use super::message::Message;
use serde_json::{Map, Value};

/// One thing the stream says, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// A PayloadChunk's bytes.
    Payload(Vec<u8>),
    /// InvokeComplete: the end. `error` is Some when the function failed after streaming began.
    Complete { error: Option<FunctionStreamError> },
    /// An `exception` message.
    Exception {
        exception_type: String,
        message: String,
    },
}

/// The function's error reported by `InvokeComplete` (`ErrorCode`, `ErrorDetails`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionStreamError {
    pub code: String,
    pub details: String,
}

/// The longest exception message kept, in bytes (cut at a character boundary): it may end up
/// in a log line or an error body.
pub const EXCEPTION_MESSAGE_LIMIT: usize = 1024;

/// The event a message stands for.
pub fn stream_event(message: &Message<'_>) -> Result<StreamEvent, EventStreamError> {
    let message_type = message
        .string_header(":message-type")
        .ok_or(EventStreamError::MissingHeader(":message-type"))?;
    match message_type {
        "event" => {
            let event_type = message
                .string_header(":event-type")
                .ok_or(EventStreamError::MissingHeader(":event-type"))?;
            match event_type {
                "PayloadChunk" => Ok(StreamEvent::Payload(message.payload.to_vec())),
                "InvokeComplete" => Ok(StreamEvent::Complete {
                    error: invoke_complete_error(message.payload)?,
                }),
                other => Err(EventStreamError::UnknownEventType(other.to_owned())),
            }
        }
        "exception" => {
            let exception_type = message
                .string_header(":exception-type")
                .ok_or(EventStreamError::MissingHeader(":exception-type"))?;
            Ok(StreamEvent::Exception {
                exception_type: exception_type.to_owned(),
                message: exception_message(message.payload),
            })
        }
        "error" => {
            let code = message
                .string_header(":error-code")
                .ok_or(EventStreamError::MissingHeader(":error-code"))?;
            Ok(StreamEvent::Exception {
                exception_type: code.to_owned(),
                message: cut(message.string_header(":error-message").unwrap_or_default()),
            })
        }
        other => Err(EventStreamError::UnknownMessageType(other.to_owned())),
    }
}

/// `InvokeComplete`'s payload: `{"ErrorCode", "ErrorDetails", "LogResult"}`, the error
/// fields present when the function failed. An empty payload reads as `{}`, as the AWS
/// SDKs read an empty event payload.
fn invoke_complete_error(payload: &[u8]) -> Result<Option<FunctionStreamError>, EventStreamError> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let bad = |what: String| EventStreamError::BadInvokeComplete(what);
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| bad(format!("a payload that is not JSON ({e})")))?;
    let Value::Object(fields) = value else {
        return Err(bad("a payload that is not a JSON object".to_owned()));
    };
    let field = |name: &str| -> Result<Option<String>, EventStreamError> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(format!("{name} that is not a string"))),
        }
    };
    let code = field("ErrorCode")?;
    let details = field("ErrorDetails")?;
    if code.is_none() && details.is_none() {
        return Ok(None);
    }
    Ok(Some(FunctionStreamError {
        code: code.unwrap_or_default(),
        details: details.unwrap_or_default(),
    }))
}

/// An exception's message: the JSON payload's `message` (or `Message`, `errorMessage`), else
/// the payload as text; cut to `EXCEPTION_MESSAGE_LIMIT`.
fn exception_message(payload: &[u8]) -> String {
    let from_json = serde_json::from_slice::<Map<String, Value>>(payload)
        .ok()
        .and_then(|fields| {
            ["message", "Message", "errorMessage"]
                .iter()
                .find_map(|name| fields.get(*name).and_then(Value::as_str).map(cut))
        });
    from_json.unwrap_or_else(|| cut(&String::from_utf8_lossy(payload)))
}

/// `text` cut to at most `EXCEPTION_MESSAGE_LIMIT` bytes, at a character boundary.
fn cut(text: &str) -> String {
    let mut end = text.len().min(EXCEPTION_MESSAGE_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default().to_owned()
}
