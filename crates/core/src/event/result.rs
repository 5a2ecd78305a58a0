//! A function's result in an event format, read into the HTTP response it stands for: the
//! fields both formats share (`statusCode`, `headers`, `multiValueHeaders`, `cookies`,
//! `body`, `isBase64Encoded`) and the checks that keep a malformed result from passing for a
//! success.

use super::base64;
use serde_json::{Map, Value};

/// Why a function's result cannot be turned into a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedResult(pub String);

/// The response a result stands for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FunctionResult {
    /// `None`: keep Lambda's (200).
    pub status: Option<u32>,
    /// In order; a name may repeat (`set-cookie`).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Headers a function cannot set: the response's framing is the proxy's to decide. (Public
/// for the fuzz targets, which check that none gets through.)
pub const FRAMING_HEADERS: [&str; 8] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
];

impl FunctionResult {
    /// Reads `result`, the status and base64 flag under any of the names given.
    pub fn read(
        result: &Map<String, Value>,
        status_names: &[&str],
        base64_names: &[&str],
    ) -> Result<Self, MalformedResult> {
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| result.get(*n))
                .filter(|v| !v.is_null())
        };
        let status = read_status(field(status_names))?.map(u32::from);
        let mut headers = Vec::new();
        if let Some(map) = field(&["headers"]) {
            read_headers(map, &mut headers)?;
        }
        if let Some(map) = field(&["multiValueHeaders"]) {
            let map = map
                .as_object()
                .ok_or_else(|| bad("multiValueHeaders that are not an object"))?;
            for (name, values) in map {
                let values = values.as_array().ok_or_else(|| {
                    bad(&format!("multiValueHeaders {name:?} that is not a list"))
                })?;
                for value in values {
                    let value = value.as_str().ok_or_else(|| {
                        bad(&format!(
                            "a multiValueHeaders {name:?} value that is not a string"
                        ))
                    })?;
                    push_header(&mut headers, name, value)?;
                }
            }
        }
        if let Some(cookies) = field(&["cookies"]) {
            read_cookies(cookies, &mut headers)?;
        }
        let is_base64 = match field(base64_names) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => return Err(bad(&format!("isBase64Encoded {other}, not true or false"))),
        };
        let body = match field(&["body"]) {
            None => Vec::new(),
            Some(Value::String(text)) if is_base64 => base64::decode(text)
                .ok_or_else(|| bad("a body marked base64 that is not base64"))?,
            Some(Value::String(text)) => text.clone().into_bytes(),
            Some(other) => {
                return Err(bad(&format!(
                    "a body that is not a string ({})",
                    type_name(other)
                )))
            }
        };
        Ok(Self {
            status,
            headers,
            body,
        })
    }
}

fn bad(what: &str) -> MalformedResult {
    MalformedResult(format!("the function's result has {what}"))
}

/// A result's `statusCode` (a number, or a string of one): `None` when absent, null or 0 (the
/// caller's default status); an error outside 200..=599. A 1xx is interim (RFC 9110 section
/// 15.2): the caller reads on for the final response, so a 1xx answer followed by the
/// function's body would make that body the caller's next response. Shared with the streamed
/// HTTP integration's prelude (`streaming::http_integration`).
pub(crate) fn read_status(value: Option<&Value>) -> Result<Option<u16>, MalformedResult> {
    let Some(v) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let code = v
        .as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| bad(&format!("a statusCode that is not a number: {v}")))?;
    match code {
        0 => Ok(None),
        200..=599 => Ok(u16::try_from(code).ok()),
        100..=199 => Err(bad(&format!(
            "statusCode {code}, not a final HTTP status (200 to 599)"
        ))),
        _ => Err(bad(&format!("statusCode {code}, not an HTTP status"))),
    }
}

/// A result's `headers` object (name to string value), added in order through `push_header`.
pub(crate) fn read_headers(
    map: &Value,
    headers: &mut Vec<(String, String)>,
) -> Result<(), MalformedResult> {
    let map = map
        .as_object()
        .ok_or_else(|| bad("headers that are not an object"))?;
    for (name, value) in map {
        let value = value
            .as_str()
            .ok_or_else(|| bad(&format!("header {name:?} whose value is not a string")))?;
        push_header(headers, name, value)?;
    }
    Ok(())
}

/// A result's `cookies` list, each a `set-cookie` header.
pub(crate) fn read_cookies(
    cookies: &Value,
    headers: &mut Vec<(String, String)>,
) -> Result<(), MalformedResult> {
    let cookies = cookies
        .as_array()
        .ok_or_else(|| bad("cookies that are not a list"))?;
    for cookie in cookies {
        let cookie = cookie
            .as_str()
            .ok_or_else(|| bad("a cookie that is not a string"))?;
        push_header(headers, "set-cookie", cookie)?;
    }
    Ok(())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Whether `b` may appear in a field value (RFC 9110 section 5.5: `field-vchar` is VCHAR or
/// obs-text, with SP and HTAB between): every byte but the control bytes 0x00..=0x1F other
/// than HTAB, and DEL (0x7F). Bytes from 0x80 are obs-text (here, UTF-8 beyond ASCII).
fn is_field_value_byte(b: u8) -> bool {
    b == b'\t' || !b.is_ascii_control()
}

/// Adds a header from the function: names lower-cased; pseudo and framing headers skipped;
/// a name that is not a token (RFC 9110 sections 5.1 and 5.6.2: `tchar`) or a value with a
/// control byte (section 5.5) refused.
fn push_header(
    headers: &mut Vec<(String, String)>,
    name: &str,
    value: &str,
) -> Result<(), MalformedResult> {
    let name = name.to_ascii_lowercase();
    if name.starts_with(':') || FRAMING_HEADERS.contains(&name.as_str()) {
        return Ok(());
    }
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !name_ok {
        return Err(MalformedResult(format!(
            "the function's result has a header name HTTP cannot carry: {name:?}"
        )));
    }
    if let Some(b) = value.bytes().find(|&b| !is_field_value_byte(b)) {
        let what = match b {
            b'\r' | b'\n' => "a line break".to_owned(),
            _ => format!("a control character (0x{b:02x})"),
        };
        return Err(MalformedResult(format!(
            "the function's result has {what} in header {name:?}"
        )));
    }
    headers.push((name, value.to_owned()));
    Ok(())
}
