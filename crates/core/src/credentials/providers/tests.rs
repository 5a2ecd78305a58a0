//! Helpers the providers' tests share, and the tests of the helpers of `providers`.

use super::*;

pub(super) const NOW: u64 = 1_440_938_160; // 2015-08-30T12:36:00Z
pub(super) const DOC: &[u8] = br#"{"AccessKeyId":"ASIA1","SecretAccessKey":"S","Token":"T","Expiration":"2015-08-30T13:36:00Z"}"#;

pub(super) fn call(step: ProviderStep) -> Callout {
    match step {
        ProviderStep::Call(c) => c,
        other => panic!("expected a callout, got {other:?}"),
    }
}

pub(super) fn failed(step: ProviderStep) -> String {
    match step {
        ProviderStep::Failed(reason) => reason,
        other => panic!("expected a failure, got {other:?}"),
    }
}

pub(super) fn done(step: ProviderStep) -> Credentials {
    match step {
        ProviderStep::Done(c) => c,
        other => panic!("expected credentials, got {other:?}"),
    }
}

/// The files listener's answer for a file holding `text` (envoy/files.yaml's JSON body).
pub(super) fn served(text: &str) -> Vec<u8> {
    serde_json::json!({ "contents": text })
        .to_string()
        .into_bytes()
}

pub(super) fn header<'a>(c: &'a Callout, name: &str) -> Option<&'a str> {
    c.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn error_bodies_are_quoted_short_and_on_one_line() {
    assert_eq!(detail(b""), "");
    assert_eq!(detail(b" \r\n\t "), "");
    assert_eq!(detail(b"no healthy\r\n upstream"), " (no healthy upstream)");
    let long = detail(&[b'x'; 500]);
    assert_eq!(long.len(), " ()".len() + 120, "{long}");
    assert_eq!(detail(b"\xff ok"), " (\u{fffd} ok)");
}

#[test]
fn documents_become_credentials_or_the_parse_error() {
    assert_eq!(done(from_document(DOC, NOW)).expires_at, Some(NOW + 3600));
    assert!(failed(from_document(b"{not json", NOW)).contains("not JSON"));
}

#[test]
fn default_on_failure_passes_the_reason_on() {
    struct Silent;
    impl CredentialProvider for Silent {
        fn start(&mut self, _now: u64) -> ProviderStep {
            ProviderStep::Failed("never".into())
        }
        fn on_response(&mut self, _status: u32, _body: &[u8], _now: u64) -> ProviderStep {
            ProviderStep::Failed("never".into())
        }
    }
    assert_eq!(failed(Silent.on_failure("reset", NOW)), "reset");
}

#[test]
fn an_error_answer_holding_a_secret_is_not_quoted() {
    let quoted = detail(DOC);
    assert!(!quoted.contains("\"S\""), "{quoted}");
    assert_eq!(quoted, " (body not quoted: it may hold a secret)");
    assert_eq!(
        detail(b"upstream connect error"),
        " (upstream connect error)"
    );
}
