//! The response the filter answers with once a function's result is read:
//! Lambda's own headers (request id, executed version) kept, `content-type` defaulting to
//! `application/json`, the function's headers replacing Lambda's of the same name, cookies
//! added, the status set, `content-length` the decoded body's. Or, for a result that cannot
//! be used, a 502 with the filter's JSON error.

use super::result::{FunctionResult, FRAMING_HEADERS};
use crate::header_pairs;
use crate::local_reply::LocalReply;

/// The new response header map (serialized) for `result`, from Lambda's (serialized).
pub fn mapped_headers(lambda: &[u8], result: &FunctionResult) -> Option<Vec<u8>> {
    let lambda = header_pairs::parse(lambda)?;
    let status = result.status.unwrap_or(200).to_string();
    let length = result.body.len().to_string();
    let replaced = |name: &str| {
        name == ":status"
            || name == "content-type"
            || FRAMING_HEADERS.contains(&name)
            || result
                .headers
                .iter()
                .any(|(n, _)| n == name && n != "set-cookie")
    };
    let mut headers: Vec<(&str, &[u8])> = vec![(":status", status.as_bytes())];
    headers.extend(
        lambda
            .iter()
            .filter(|(n, _)| !replaced(n))
            .map(|(n, v)| (*n, *v)),
    );
    if !result.headers.iter().any(|(n, _)| n == "content-type") {
        headers.push(("content-type", b"application/json"));
    }
    headers.extend(
        result
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes())),
    );
    headers.push(("content-length", length.as_bytes()));
    header_pairs::serialize(&headers)
}

/// The filter's error in place of a result it cannot use: headers and body (`detailed`: with
/// the full reason).
pub fn error_response(reply: &LocalReply, detailed: bool) -> (Vec<u8>, Vec<u8>) {
    let body = reply.body(detailed).into_bytes();
    let status = reply.status.to_string();
    let length = body.len().to_string();
    let headers = header_pairs::serialize(&[
        (":status", status.as_bytes()),
        ("content-type", b"application/json"),
        ("content-length", length.as_bytes()),
    ])
    .unwrap_or_default();
    (headers, body)
}
