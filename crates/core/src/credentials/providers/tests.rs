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

pub(super) fn header<'a>(c: &'a Callout, name: &str) -> Option<&'a str> {
    c.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}
