//! The JSON event of Envoy's native `aws_lambda` filter (`payload_passthrough: false`),
//! exactly as that filter builds it (source/extensions/filters/http/aws_lambda), quirks
//! included, so functions written for it (Consul's Lambda users') keep working:
//!
//! - snake_case keys; `raw_path` is `:path` with its query; `method`;
//! - `headers`: every header but the pseudo ones, a repeated one joined with `,`;
//! - `query_string_parameters`: the query split on `&` and `=`, not percent-decoded, the
//!   first value of a repeated key, a key without `=` given `""`;
//! - `body` and `is_base64_encoded`, always present: the body as text when there is no
//!   `transfer-encoding` (or it is `identity`) and the content type, lower-cased, is exactly
//!   `application/json`, `application/javascript` or `application/xml`, or starts with
//!   `text/`; otherwise base64 (a missing content type, `application/json; charset=utf-8`).
//!   One deliberate difference: a "textual" body that is not UTF-8 is sent base64 (JSON
//!   cannot carry it as text; the native filter would send a broken event).
//!
//! The function's result: `status_code` (or `statusCode`), `headers`, `cookies`, `body`,
//! `is_base64_encoded` (or `isBase64Encoded`), as protobuf's JSON parser accepts them for the
//! native filter's response message; `multiValueHeaders` is taken too (the native filter
//! ignores it).

use super::base64;
use super::path::without_prefix;
use super::result::{FunctionResult, MalformedResult};
use crate::header_pairs;
use serde_json::{Map, Value};

/// The event for a request with these headers (serialized) and body (`None`: the request
/// ended at its headers).
pub fn request_event(
    serialized_headers: &[u8],
    body: Option<&[u8]>,
    path_prefix: Option<&str>,
) -> Result<Vec<u8>, String> {
    let pairs =
        header_pairs::parse(serialized_headers).ok_or("the request headers came back malformed")?;
    let mut raw_path = String::new();
    let mut method = String::new();
    let mut headers = Map::new();
    let mut content_type = None;
    let mut transfer_encoding = None;
    for (name, value) in &pairs {
        let value = String::from_utf8_lossy(value);
        match *name {
            ":path" => raw_path = without_prefix(&value, path_prefix).into_owned(),
            ":method" => method = value.into_owned(),
            n if n.starts_with(':') => {}
            n => {
                if n == "content-type" && content_type.is_none() {
                    content_type = Some(value.to_ascii_lowercase());
                }
                if n == "transfer-encoding" && transfer_encoding.is_none() {
                    transfer_encoding = Some(value.to_string());
                }
                match headers.get_mut(n) {
                    Some(Value::String(joined)) => {
                        joined.push(',');
                        joined.push_str(&value);
                    }
                    _ => {
                        headers.insert(n.to_owned(), Value::String(value.into_owned()));
                    }
                }
            }
        }
    }
    let textual = is_textual(content_type.as_deref(), transfer_encoding.as_deref());
    let (body, is_base64_encoded) = match body {
        None => (String::new(), false),
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) if textual => (text.to_owned(), false),
            _ => (base64::encode(bytes), true),
        },
    };
    let event = serde_json::json!({
        "raw_path": raw_path,
        "method": method,
        "headers": headers,
        "query_string_parameters": query_parameters(&raw_path),
        "body": body,
        "is_base64_encoded": is_base64_encoded,
    });
    Ok(event.to_string().into_bytes())
}

fn is_textual(content_type: Option<&str>, transfer_encoding: Option<&str>) -> bool {
    if transfer_encoding.is_some_and(|te| !te.eq_ignore_ascii_case("identity")) {
        return false;
    }
    match content_type {
        None => false,
        Some(ct) => {
            matches!(
                ct,
                "application/json" | "application/javascript" | "application/xml"
            ) || ct.starts_with("text/")
        }
    }
}

/// Envoy's `QueryParamsMulti::parseQueryString`, keeping each key's first value.
fn query_parameters(path: &str) -> Map<String, Value> {
    let mut parameters = Map::new();
    let Some((_, query)) = path.split_once('?') else {
        return parameters;
    };
    for parameter in query.split('&') {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        if !parameters.contains_key(name) {
            parameters.insert(name.to_owned(), Value::String(value.to_owned()));
        }
    }
    parameters
}

/// Reads the function's result as the native filter does.
pub fn function_result(body: &[u8]) -> Result<FunctionResult, MalformedResult> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| MalformedResult(format!("the function's result is not JSON ({e})")))?;
    let Value::Object(result) = value else {
        return Err(MalformedResult(
            "the function's result is not a JSON object".into(),
        ));
    };
    FunctionResult::read(
        &result,
        &["status_code", "statusCode"],
        &["is_base64_encoded", "isBase64Encoded"],
    )
}

#[cfg(test)]
mod tests;
