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

#[test]
fn a_401_on_the_role_document_renews_and_goes_on() {
    let mut p = listing_with(b"T1");
    call(p.on_response(200, b"my-role", NOW));
    assert_eq!(call(p.on_response(401, b"", NOW)).path, "/latest/api/token");
    let list = call(p.on_response(200, b"T2", NOW));
    assert_eq!(header(&list, "x-aws-ec2-metadata-token"), Some("T2"));
    call(p.on_response(200, b"my-role", NOW));
    done(p.on_response(200, DOC, NOW));
}

#[test]
fn each_fetch_may_renew_once() {
    let mut p = listing_with(b"T1");
    call(p.on_response(401, b"", NOW));
    call(p.on_response(200, b"T2", NOW));
    call(p.on_response(200, b"my-role", NOW));
    done(p.on_response(200, DOC, NOW));
    // A later fetch reuses T2; when that is refused, it renews again.
    let list = call(p.start(NOW + 10));
    assert_eq!(header(&list, "x-aws-ec2-metadata-token"), Some("T2"));
    assert_eq!(
        call(p.on_response(401, b"", NOW + 10)).path,
        "/latest/api/token"
    );
}

#[test]
fn a_call_without_an_answer_keeps_the_token() {
    let mut p = listing_with(b"T1");
    assert_eq!(
        failed(p.on_failure("no healthy upstream", NOW)),
        "no healthy upstream"
    );
    assert_eq!(
        failed(p.on_response(200, b"my-role", NOW)),
        NO_FETCH_UNDER_WAY
    );
    let list = call(p.start(NOW + 1));
    assert_eq!(header(&list, "x-aws-ec2-metadata-token"), Some("T1"));
}

#[test]
fn token_refusals_are_named() {
    let mut p = imds();
    call(p.start(NOW));
    assert_eq!(
        failed(p.on_response(403, b"Forbidden", NOW)),
        "HTTP 403 for the IMDSv2 token (Forbidden)"
    );
    for bad in [&b""[..], b"  \n", b"T1\nT2"] {
        call(p.start(NOW));
        assert_eq!(
            failed(p.on_response(200, bad, NOW)),
            "empty or malformed IMDSv2 token",
            "{bad:?}"
        );
    }
    // Surrounding white space is not part of the token.
    let list = call(listing_with(b" T1\r\n").start(NOW + 1));
    assert_eq!(header(&list, "x-aws-ec2-metadata-token"), Some("T1"));
}

/// Found by fuzzing (`credential_answers`): a token with a NUL byte went into the
/// `x-aws-ec2-metadata-token` header of the next call.
#[test]
fn a_token_with_control_bytes_is_refused() {
    let mut p = imds();
    for bad in [&b"T1\0T2"[..], b"T1\x01", b"T1\tT2", b"T1\x7f"] {
        call(p.start(NOW));
        assert_eq!(
            failed(p.on_response(200, bad, NOW)),
            "empty or malformed IMDSv2 token",
            "{bad:?}"
        );
    }
}

#[test]
fn the_role_list_must_name_one_plain_role() {
    for listing in [&b""[..], b"\n  \n", b"a/b", b"bad role", b"../x"] {
        let mut p = listing_with(b"T1");
        assert_eq!(
            failed(p.on_response(200, listing, NOW)),
            "no IAM role attached to the instance",
            "{listing:?}"
        );
    }
    let mut p = listing_with(b"T1");
    assert_eq!(
        call(p.on_response(200, b"\n  my-role  \nother-role\n", NOW)).path,
        ROLE_PATH
    );
    let mut p = listing_with(b"T1");
    assert_eq!(
        failed(p.on_response(404, b"Not Found", NOW)),
        "no IAM role attached to the instance"
    );
    let mut p = listing_with(b"T1");
    assert_eq!(
        failed(p.on_response(500, b"Internal Server Error", NOW)),
        "HTTP 500 listing the instance's roles (Internal Server Error)"
    );
}

#[test]
fn role_document_errors_name_the_role() {
    let mut p = listing_with(b"T1");
    call(p.on_response(200, b"my-role", NOW));
    assert_eq!(
        failed(p.on_response(404, b"", NOW)),
        "HTTP 404 for role my-role"
    );
    let mut p = listing_with(b"T1");
    call(p.on_response(200, b"my-role", NOW));
    assert!(failed(p.on_response(200, b"[]", NOW)).contains("not a JSON object"));
}

#[test]
fn disabled_by_the_environment_without_a_call() {
    let env = ProxyEnvironment {
        ec2_metadata_disabled: true,
        ..Default::default()
    };
    let mut p = InstanceMetadata::new(&ChainSettings::default(), &env);
    assert_eq!(
        failed(p.start(NOW)),
        "disabled by AWS_EC2_METADATA_DISABLED"
    );
}

#[test]
fn cluster_and_token_ttl_come_from_the_settings() {
    let settings = ChainSettings {
        instance_metadata_cluster: "imds".into(),
        imds_token_ttl_seconds: 300,
        ..ChainSettings::default()
    };
    let mut p = InstanceMetadata::new(&settings, &ProxyEnvironment::default());
    let token = call(p.start(NOW));
    assert_eq!(token.cluster, "imds");
    assert_eq!(
        header(&token, "x-aws-ec2-metadata-token-ttl-seconds"),
        Some("300")
    );
    assert_eq!(call(p.on_response(200, b"T1", NOW)).cluster, "imds");
    // Kept while more than a minute is left of its 300 seconds.
    assert_eq!(call(p.start(NOW + 239)).method, "GET");
    assert_eq!(call(p.start(NOW + 240)).method, "PUT");
}

#[test]
fn huge_times_do_not_overflow() {
    let settings = ChainSettings {
        imds_token_ttl_seconds: u64::MAX,
        ..ChainSettings::default()
    };
    let mut p = InstanceMetadata::new(&settings, &ProxyEnvironment::default());
    call(p.start(u64::MAX));
    call(p.on_response(200, b"T1", u64::MAX));
    assert_eq!(call(p.start(u64::MAX)).method, "PUT");
}

#[test]
fn an_answer_without_a_callout_is_refused() {
    assert_eq!(
        failed(imds().on_response(200, b"T1", NOW)),
        NO_FETCH_UNDER_WAY
    );
}
