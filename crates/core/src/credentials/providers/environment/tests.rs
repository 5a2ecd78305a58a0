use super::*;
use crate::credentials::providers::tests::{done, failed, NOW};

fn keys(id: Option<&str>, secret: Option<&str>, token: Option<&str>) -> Environment {
    Environment::new(&ProxyEnvironment {
        access_key_id: id.map(str::to_owned),
        secret_access_key: secret.map(str::to_owned),
        session_token: token.map(str::to_owned),
        // Other sources set too: they are not this provider's business.
        container_relative_uri: Some("/v2/creds".into()),
        ..Default::default()
    })
}

#[test]
fn both_keys_give_long_term_credentials() {
    let c = done(keys(Some("AK"), Some("SK"), None).start(NOW));
    assert_eq!(
        (c.access_key_id.as_str(), c.secret_access_key.as_str()),
        ("AK", "SK")
    );
    assert_eq!((c.session_token, c.expires_at), (None, None));
}

#[test]
fn the_session_token_comes_along() {
    let c = done(keys(Some("ASIA"), Some("SK"), Some("TOKEN")).start(NOW));
    assert_eq!(c.session_token.as_deref(), Some("TOKEN"));
    assert_eq!(c.expires_at, None);
}

#[test]
fn a_missing_key_is_named() {
    assert_eq!(
        failed(keys(None, Some("SK"), Some("T")).start(NOW)),
        "AWS_ACCESS_KEY_ID not set"
    );
    assert_eq!(
        failed(keys(None, None, None).start(NOW)),
        "AWS_ACCESS_KEY_ID not set"
    );
    assert_eq!(
        failed(keys(Some("AK"), None, None).start(NOW)),
        "AWS_SECRET_ACCESS_KEY not set"
    );
}

#[test]
fn an_answer_without_a_callout_is_refused() {
    let mut env = keys(Some("AK"), Some("SK"), None);
    assert_eq!(failed(env.on_response(200, b"{}", NOW)), NO_FETCH_UNDER_WAY);
}
