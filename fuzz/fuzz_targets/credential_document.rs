//! The credential document of the container endpoint and of instance metadata, and its
//! `Expiration` timestamps. Accepted credentials are complete and unexpired; an error never
//! depends on (so never quotes) the secret or the token; a timestamp read is the instant its
//! digits say.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::credentials::document::parse_credential_document;
use mesh_lambda_core::credentials::iso8601::parse_utc;
use mesh_lambda_core::sigv4::date::amz_date;
use serde_json::Value;

/// 2015-08-30T12:36:00Z
const NOW: u64 = 1_440_938_160;
const SECRET_FIELDS: [&str; 2] = ["SecretAccessKey", "Token"];

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check_timestamp(text);
    }
    match parse_credential_document(data, NOW) {
        Ok(c) => {
            for field in [&c.access_key_id, &c.secret_access_key] {
                assert!(!field.trim().is_empty());
            }
            assert!(c.session_token.is_some_and(|t| !t.trim().is_empty()));
            assert!(c.expires_at.is_some_and(|at| at > NOW));
        }
        Err(_) => check_secrets_unquoted(data),
    }
});

/// The error for the document is the same whatever its secret and token are.
fn check_secrets_unquoted(data: &[u8]) {
    let Ok(Value::Object(mut doc)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Some(Value::String(expiration)) = doc.get("Expiration") {
        check_timestamp(expiration);
    }
    let with = |doc: &serde_json::Map<String, Value>| {
        let bytes = Value::Object(doc.clone()).to_string().into_bytes();
        parse_credential_document(&bytes, NOW).err()
    };
    let before = with(&doc);
    let mut replaced = false;
    for name in SECRET_FIELDS {
        if let Some(Value::String(value)) = doc.get_mut(name) {
            if !value.trim().is_empty() {
                *value = format!("other-{name}-value");
                replaced = true;
            }
        }
    }
    if replaced {
        assert_eq!(
            before,
            with(&doc),
            "an error depends on the secret or token"
        );
    }
}

/// An accepted timestamp is the instant its digits say.
fn check_timestamp(text: &str) {
    let Some(at) = parse_utc(text) else {
        return;
    };
    let t = text.trim().as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        let part = t.get(range).unwrap_or_default();
        assert!(part.iter().all(u8::is_ascii_digit), "{text:?}");
        String::from_utf8_lossy(part).into_owned()
    };
    if digits(17..19) == "60" {
        return; // a leap second is the next minute's first
    }
    let expected = format!(
        "{}{}{}T{}{}{}Z",
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19)
    );
    assert_eq!(amz_date(at), expected, "{text:?}");
}
