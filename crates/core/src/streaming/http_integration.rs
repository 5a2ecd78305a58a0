//! The HTTP integration of a streamed function (what function URLs do with
//! `awslambda.HttpResponseStream`): the function's output starts with a JSON prelude
//! `{"statusCode": .., "headers": {..}, "cookies": [..]}`, then eight NUL bytes, then the body.
//! `PreludeReader` finds the prelude as the output arrives and reads it into the response's
//! status and headers.
//!
//! The prelude is read with the same rules as a buffered function's result
//! (`event::result`): `statusCode` 200..=599 (a number or a string of one; absent, null or 0
//! is 200, as function URLs answer), header names lower-cased and required to be HTTP tokens,
//! values without control bytes (anything else refuses the prelude rather than being passed
//! on), `cookies` become `set-cookie` headers, and pseudo headers and the framing headers of
//! `event::result::FRAMING_HEADERS` (`content-length`, `transfer-encoding`, `connection`, ...)
//! are dropped: the proxy frames the streamed response, and a function that sets them
//! (a framework adding `content-length` out of habit) still gets its answer through. Other
//! fields of the prelude are ignored.
//!
//! JSON cannot hold a raw NUL byte, so the prelude ends at the first NUL: no JSON scanning is
//! needed to find it, each byte is looked at once, and the body that follows the eight NULs may
//! itself start with NUL bytes.

use crate::event::result::{read_cookies, read_headers, read_status, MalformedResult};
use serde_json::Value;
use std::fmt;

#[cfg(test)]
mod tests;

/// The content type a function's stream declares when it starts with the prelude (what the
/// Node.js runtime's `HttpResponseStream.from` sets). The AWS SDKs read
/// InvokeWithResponseStream's `Content-Type` response header as this stream content type
/// (`ResponseStreamContentType`); not yet checked against Lambda itself.
pub const HTTP_INTEGRATION_CONTENT_TYPE: &str =
    "application/vnd.awslambda.http-integration-response";

/// The longest prelude read, in bytes before its NUL separator: response headers beyond
/// this are not a function's honest answer.
pub const PRELUDE_LIMIT: usize = 64 * 1024;
/// The separator between the prelude and the body.
const SEPARATOR_LEN: usize = 8;

/// The response the prelude asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpPrelude {
    pub status: u16,
    /// The `headers` object: lower-cased names, in order.
    pub headers: Vec<(String, String)>,
    /// The `cookies` list, each checked as a `set-cookie` value (not in `headers`).
    pub cookies: Vec<String>,
}

impl HttpPrelude {
    /// Every response header the prelude sets: `headers`, then a `set-cookie` per cookie.
    pub fn response_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        let headers = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let cookies = self.cookies.iter().map(|c| ("set-cookie", c.as_str()));
        headers.chain(cookies)
    }
}

/// Why the function's output does not start with a usable prelude.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreludeError {
    /// No NUL byte within `PRELUDE_LIMIT` bytes.
    TooLong { limit: usize },
    /// The prelude's first NUL is not followed by seven more.
    NoSeparator,
    /// The prelude is not a JSON object.
    NotJson(String),
    /// The prelude breaks a rule of `event::result` (status, header, cookie).
    Malformed(MalformedResult),
    /// `push` after the prelude was returned: the rest of the output is the body.
    AlreadyRead,
}

impl fmt::Display for PreludeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("streamed HTTP integration: ")?;
        match self {
            PreludeError::TooLong { limit } => write!(
                f,
                "no end of the response prelude (a NUL byte) within {limit} bytes"
            ),
            PreludeError::NoSeparator => {
                f.write_str("the response prelude is not followed by eight NUL bytes")
            }
            PreludeError::NotJson(why) => {
                write!(f, "the response prelude is not a JSON object ({why})")
            }
            PreludeError::Malformed(MalformedResult(why)) => {
                write!(f, "the response prelude is refused: {why}")
            }
            PreludeError::AlreadyRead => f.write_str("the response prelude was already read"),
        }
    }
}

impl std::error::Error for PreludeError {}

/// Finds and reads the prelude; see the module's documentation.
#[derive(Debug, Default)]
pub struct PreludeReader {
    /// The output so far, up to the end of the separator.
    buffer: Vec<u8>,
    /// Where the prelude's first NUL is, once it has arrived.
    prelude_len: Option<usize>,
    state: State,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum State {
    #[default]
    Reading,
    Done,
    Failed(PreludeError),
}

impl PreludeReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the function's output bytes; returns Ok(None) until the prelude and its eight NUL bytes
    /// are complete, then Ok(Some((prelude, rest))) once, with `rest` the body bytes that followed.
    /// Later calls return `AlreadyRead`; after an error, the same error.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Option<(HttpPrelude, Vec<u8>)>, PreludeError> {
        match &self.state {
            State::Reading => {}
            State::Done => return Err(PreludeError::AlreadyRead),
            State::Failed(error) => return Err(error.clone()),
        }
        let result = self.read(bytes);
        match &result {
            Ok(None) => {}
            Ok(Some(_)) => {
                self.state = State::Done;
                self.buffer = Vec::new();
            }
            Err(error) => {
                self.state = State::Failed(error.clone());
                self.buffer = Vec::new();
            }
        }
        result
    }

    fn read(&mut self, bytes: &[u8]) -> Result<Option<(HttpPrelude, Vec<u8>)>, PreludeError> {
        let prelude_len = match self.prelude_len {
            Some(len) => len,
            None => match bytes.iter().position(|&b| b == 0) {
                Some(at) => {
                    let len = self.buffer.len() + at;
                    if len > PRELUDE_LIMIT {
                        return Err(PreludeError::TooLong {
                            limit: PRELUDE_LIMIT,
                        });
                    }
                    self.prelude_len = Some(len);
                    len
                }
                None => {
                    if self.buffer.len() + bytes.len() > PRELUDE_LIMIT {
                        return Err(PreludeError::TooLong {
                            limit: PRELUDE_LIMIT,
                        });
                    }
                    self.buffer.extend_from_slice(bytes);
                    return Ok(None);
                }
            },
        };
        // Keep up to the separator's end; what follows is the body.
        let end = prelude_len + SEPARATOR_LEN;
        let take = end.saturating_sub(self.buffer.len()).min(bytes.len());
        let (taken, body) = bytes.split_at_checked(take).unwrap_or((bytes, &[]));
        self.buffer.extend_from_slice(taken);
        let separator = self.buffer.get(prelude_len..).unwrap_or_default();
        if separator.iter().any(|&b| b != 0) {
            return Err(PreludeError::NoSeparator);
        }
        if self.buffer.len() < end {
            return Ok(None);
        }
        let prelude = self.buffer.get(..prelude_len).unwrap_or_default();
        Ok(Some((read_prelude(prelude)?, body.to_vec())))
    }
}

/// The prelude's JSON, read with the rules of `event::result`.
fn read_prelude(json: &[u8]) -> Result<HttpPrelude, PreludeError> {
    let value: Value =
        serde_json::from_slice(json).map_err(|e| PreludeError::NotJson(e.to_string()))?;
    let Value::Object(fields) = value else {
        return Err(PreludeError::NotJson("not an object".to_owned()));
    };
    let field = |name: &str| fields.get(name).filter(|v| !v.is_null());
    let status = read_status(field("statusCode"))
        .map_err(PreludeError::Malformed)?
        .unwrap_or(200);
    let mut headers = Vec::new();
    if let Some(map) = field("headers") {
        read_headers(map, &mut headers).map_err(PreludeError::Malformed)?;
    }
    let mut cookies = Vec::new();
    if let Some(list) = field("cookies") {
        let mut set_cookies = Vec::new();
        read_cookies(list, &mut set_cookies).map_err(PreludeError::Malformed)?;
        cookies = set_cookies.into_iter().map(|(_, value)| value).collect();
    }
    Ok(HttpPrelude {
        status,
        headers,
        cookies,
    })
}
