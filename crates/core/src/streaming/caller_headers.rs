//! The caller's response headers for a streamed answer: Lambda's own, without its framing of
//! the answer, with the content type the function declared (never the event stream's), or
//! the status and headers of a function-URL-style prelude.

use super::http_integration::{HttpPrelude, HTTP_INTEGRATION_CONTENT_TYPE};
use crate::event::result::FRAMING_HEADERS;
use crate::header_pairs;

/// The event stream's own type: never the caller's.
const EVENT_STREAM: &[u8] = b"application/vnd.amazon.eventstream";
/// The caller's content type when the function declared none.
const DEFAULT_CONTENT_TYPE: &[u8] = b"application/octet-stream";

/// The content type Lambda declared, trimmed.
pub fn declared_type(lambda: &[u8]) -> Option<&[u8]> {
    header_pairs::find(lambda, "content-type").map(<[u8]>::trim_ascii)
}

/// Whether a content type is the function-URL answer's, parameters and case aside.
pub fn is_http_integration(content_type: &[u8]) -> bool {
    let media_type = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default();
    media_type
        .trim_ascii()
        .eq_ignore_ascii_case(HTTP_INTEGRATION_CONTENT_TYPE.as_bytes())
}

/// The caller's headers for an answer without a prelude: Lambda's, with the declared content
/// type unless it is empty or the event stream's.
pub fn plain(lambda: &[u8]) -> Result<Vec<u8>, String> {
    let content_type = declared_type(lambda)
        .filter(|t| !t.is_empty() && *t != EVENT_STREAM)
        .unwrap_or(DEFAULT_CONTENT_TYPE);
    rewrite(lambda, None, &[("content-type", content_type)])
}

/// The caller's headers after a prelude: its status, Lambda's headers but the framing, the
/// prelude's headers (replacing Lambda's of the same name; `PreludeReader` checked them:
/// lower-case tokens, values without control bytes, framing and pseudo-headers dropped) and a
/// `set-cookie` per cookie.
pub fn after_prelude(lambda: &[u8], prelude: &HttpPrelude) -> Result<Vec<u8>, String> {
    let mut added: Vec<(&str, &[u8])> = prelude
        .response_headers()
        .map(|(name, value)| (name, value.as_bytes()))
        .collect();
    if !added.iter().any(|(name, _)| *name == "content-type") {
        added.push(("content-type", DEFAULT_CONTENT_TYPE));
    }
    let status = prelude.status.to_string();
    rewrite(lambda, Some(status.as_bytes()), &added)
}

/// Lambda's headers without its framing of the answer (`FRAMING_HEADERS`; its content type is
/// the event stream's, and `added` always sets the caller's) and without the names `added`
/// sets, then `added`, serialized. `status` replaces `:status` when given.
fn rewrite(
    lambda: &[u8],
    status: Option<&[u8]>,
    added: &[(&str, &[u8])],
) -> Result<Vec<u8>, String> {
    let pairs = header_pairs::parse(lambda).ok_or("Lambda's header map is malformed")?;
    let mut out: Vec<(&str, &[u8])> = Vec::with_capacity(pairs.len() + added.len());
    for (name, value) in pairs {
        let replaced = added.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
        if FRAMING_HEADERS.contains(&name) || replaced {
            continue;
        }
        match (name, status) {
            (":status", Some(status)) => out.push((name, status)),
            _ => out.push((name, value)),
        }
    }
    out.extend_from_slice(added);
    header_pairs::serialize(&out).ok_or_else(|| "the headers are too large".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_integration_type_is_known_by_its_media_type() {
        assert!(is_http_integration(
            HTTP_INTEGRATION_CONTENT_TYPE.as_bytes()
        ));
        assert!(is_http_integration(
            b"Application/Vnd.AwsLambda.Http-Integration-Response ; charset=utf-8"
        ));
        for other in [
            &b"application/octet-stream"[..],
            b"application/vnd.awslambda.http-integration-responses",
            b"",
        ] {
            assert!(!is_http_integration(other));
        }
    }
}
