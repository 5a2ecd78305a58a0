use super::*;
use crate::credentials::providers::tests::{call, done, failed, header, DOC, NOW};

const ROLE_PATH: &str = "/latest/meta-data/iam/security-credentials/my-role";

fn imds() -> InstanceMetadata {
    InstanceMetadata::new(&ChainSettings::default(), &ProxyEnvironment::default())
}

/// A provider that holds `token` and has just asked for the role list.
fn listing_with(token: &[u8]) -> InstanceMetadata {
    let mut p = imds();
    call(p.start(NOW));
    call(p.on_response(200, token, NOW));
    p
}

#[test]
fn imds_v2_token_then_role_then_credentials_and_token_reuse() {
    let mut p = imds();
    let token = call(p.start(NOW));
    assert_eq!(
        (token.method, token.path.as_str()),
        ("PUT", "/latest/api/token")
    );
    assert_eq!(
        (token.cluster.as_str(), token.authority.as_str()),
        ("aws_instance_metadata", "169.254.169.254")
    );
    assert_eq!(
        header(&token, "x-aws-ec2-metadata-token-ttl-seconds"),
        Some("21600")
    );
    let list = call(p.on_response(200, b"TOKEN1", NOW));
    assert_eq!(list.path, "/latest/meta-data/iam/security-credentials/");
    assert_eq!(header(&list, "x-aws-ec2-metadata-token"), Some("TOKEN1"));
    let role = call(p.on_response(200, b"my-role\n", NOW));
    assert_eq!(role.path, ROLE_PATH);
    assert_eq!(header(&role, "x-aws-ec2-metadata-token"), Some("TOKEN1"));
    assert_eq!(
        done(p.on_response(200, DOC, NOW)).expires_at,
        Some(NOW + 3600)
    );
    // The next refresh reuses the token while it is fresh, and renews it near its expiry.
    assert_eq!(
        call(p.start(NOW + 100)).path,
        "/latest/meta-data/iam/security-credentials/"
    );
    assert_eq!(call(p.start(NOW + 21_600 - 30)).path, "/latest/api/token");
}

#[test]
fn imds_401_renews_the_token_once() {
    let mut p = listing_with(b"T1");
    assert_eq!(call(p.on_response(401, b"", NOW)).path, "/latest/api/token");
    call(p.on_response(200, b"T2", NOW));
    assert_eq!(
        failed(p.on_response(401, b"", NOW)),
        "IMDSv2 refused a fresh token (HTTP 401)"
    );
    // The refused token is not kept: the next fetch starts with a new one.
    assert_eq!(call(p.start(NOW + 1)).path, "/latest/api/token");
}
