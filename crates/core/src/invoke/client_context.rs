//! The caller's identity handed to the function in the Invoke call's `X-Amz-Client-Context`:
//! base64 of `{"custom":{"mesh-caller-service":"api","mesh-caller-spiffe-id":"spiffe://..."}}`.
//!
//! What Lambda does with it: the Invoke API takes "up to 3,583 bytes of base64-encoded data
//! about the invoking client to pass to the function in the context object", passed "for
//! synchronous invocations only" (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html,
//! `ClientContext`, also in botocore's `data/lambda/2015-03-31/service-2.json`;
//! `InvokeWithResponseStream` takes the same header, without the restriction, as it is
//! synchronous). The runtime hands the decoded JSON to the handler: Python's
//! `context.client_context.custom` (awslambdaric `lambda_context.py`: `ClientContext` has the
//! slots `custom`, `env`, `client`, filled from the parsed `Lambda-Runtime-Client-Context`),
//! Node's `context.clientContext.custom`.
//!
//! The value is made once per caller (`Caller::encoded_once`): on the direct path once per
//! VM, as the caller is the sidecar's own service.

use super::super::event::base64;
use crate::caller::{is_service_name, Caller, SERVICE_KEY, SPIFFE_ID_KEY};

/// The header.
pub const HEADER: &str = "x-amz-client-context";

/// Lambda's limit on the header's value (the base64 text).
pub const MAX_CLIENT_CONTEXT: usize = 3583;

/// The longest SPIFFE ID: "SPIFFE implementations MUST support SPIFFE URIs up to 2048 bytes
/// in length and SHOULD NOT generate URIs of length greater than 2048 bytes"
/// (github.com/spiffe/spiffe, standards/SPIFFE-ID.md, "Maximum SPIFFE ID Length").
pub const MAX_SPIFFE_ID: usize = 2048;

/// The header's value for `caller` (made once per caller), or why there is none: an identity
/// the encoding does not take (never the case for the identities the `caller` setting
/// learns, which are checked when learned).
pub fn client_context(caller: &Caller) -> Result<&str, &str> {
    caller.encoded_once(encode)
}

/// Whether `id` is a SPIFFE ID the encoding takes: `spiffe://`, then the trust domain and
/// path in the characters SPIFFE-ID.md allows (letters, digits, `.`, `-`, `_`, `/`), at most
/// `MAX_SPIFFE_ID` bytes. None of these needs escaping in JSON.
fn is_spiffe_id(id: &str) -> bool {
    id.len() <= MAX_SPIFFE_ID
        && id.strip_prefix("spiffe://").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'))
        })
}

/// The base64 of the JSON. Both values are checked to need no JSON escaping, which bounds
/// the text: at most 128 + 2048 bytes of values and 62 of JSON, 2,988 bytes of base64.
fn encode(caller: &Caller) -> Result<String, String> {
    if !is_service_name(&caller.service) {
        return Err(format!(
            "the caller's service name ({} bytes) cannot be handed to the function",
            caller.service.len()
        ));
    }
    let mut json = format!(r#"{{"custom":{{"{SERVICE_KEY}":"{}""#, caller.service);
    if let Some(id) = &caller.spiffe_id {
        if !is_spiffe_id(id) {
            return Err(format!(
                "the caller's SPIFFE ID ({} bytes) cannot be handed to the function",
                id.len()
            ));
        }
        json.push_str(&format!(r#","{SPIFFE_ID_KEY}":"{id}""#));
    }
    json.push_str("}}");
    let encoded = base64::encode(json.as_bytes());
    if encoded.len() > MAX_CLIENT_CONTEXT {
        return Err(format!(
            "the caller's client context is {} bytes, over Lambda's {MAX_CLIENT_CONTEXT}",
            encoded.len()
        ));
    }
    Ok(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::MAX_SERVICE_NAME;
    use serde_json::{json, Value};

    fn decoded(value: &str) -> Value {
        let bytes = base64::decode(value).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn the_custom_map_names_the_caller() {
        let configured = Caller::new("api".into(), None);
        let value = client_context(&configured).unwrap();
        assert_eq!(
            value,
            "eyJjdXN0b20iOnsibWVzaC1jYWxsZXItc2VydmljZSI6ImFwaSJ9fQ=="
        );
        assert_eq!(
            decoded(value),
            json!({"custom": {"mesh-caller-service": "api"}})
        );
        let id = "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/api";
        let vouched = Caller::new("api".into(), Some(id.into()));
        assert_eq!(
            decoded(client_context(&vouched).unwrap()),
            json!({"custom": {"mesh-caller-service": "api", "mesh-caller-spiffe-id": id}})
        );
    }

    /// The longest identity taken (a 128-byte service name, a 2048-byte SPIFFE ID) still fits
    /// Lambda's 3,583 bytes; one byte more of SPIFFE ID is refused, never sent.
    #[test]
    fn the_longest_identity_fits_lambdas_limit() {
        let service = "s".repeat(MAX_SERVICE_NAME);
        let prefix = "spiffe://example.org/";
        let id = format!("{prefix}{}", "p".repeat(MAX_SPIFFE_ID - prefix.len()));
        assert_eq!(id.len(), MAX_SPIFFE_ID);
        let longest = Caller::new(service.clone(), Some(id.clone()));
        let value = client_context(&longest).unwrap();
        assert!(value.len() <= MAX_CLIENT_CONTEXT, "{}", value.len());
        assert_eq!(value.len(), 2988);
        assert_eq!(decoded(value)["custom"][SPIFFE_ID_KEY], json!(id));

        let over = Caller::new(service, Some(format!("{id}p")));
        let refused = client_context(&over).unwrap_err();
        assert_eq!(
            refused,
            "the caller's SPIFFE ID (2049 bytes) cannot be handed to the function"
        );
    }

    /// An identity whose text would need escaping (or is not a SPIFFE ID) is refused: the
    /// JSON is written without a serializer, so nothing but checked text may enter it.
    #[test]
    fn an_identity_that_needs_escaping_is_refused() {
        for id in [
            "spiffe://a/\"},\"x\":{\"",
            "spiffe://a/b\\c",
            "spiffe://",
            "https://a/b",
            "spiffe://a/\u{e9}",
            "spiffe://a/b%2f",
        ] {
            let caller = Caller::new("api".into(), Some(id.into()));
            assert!(client_context(&caller).is_err(), "{id}");
        }
        assert!(client_context(&Caller::new("a\"b".into(), None)).is_err());
        assert!(client_context(&Caller::new(String::new(), None)).is_err());
    }

    /// Made once per caller: a second request of the same caller reads the same text.
    #[test]
    fn made_once_per_caller() {
        let caller = Caller::new("api".into(), None);
        let first = client_context(&caller).unwrap().as_ptr();
        assert_eq!(client_context(&caller).unwrap().as_ptr(), first);
    }
}
