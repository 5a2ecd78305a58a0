use super::*;

const NOW: u64 = 1_440_938_160; // 2015-08-30T12:36:00Z
const DOC: &[u8] = br#"{"AccessKeyId":"ASIA1","SecretAccessKey":"S","Token":"T","Expiration":"2015-08-30T13:36:00Z"}"#;

fn chain(providers: &[Provider], env: ProxyEnvironment) -> CredentialChain {
    CredentialChain::new(
        ChainSettings {
            providers: providers.to_vec(),
            ..ChainSettings::default()
        },
        env,
    )
}

fn call(step: Step) -> Callout {
    match step {
        Step::Call(c) => c,
        other => panic!("expected a callout, got {other:?}"),
    }
}

fn header<'a>(c: &'a Callout, name: &str) -> Option<&'a str> {
    c.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn environment_first_needs_no_callout() {
    let env = ProxyEnvironment {
        access_key_id: Some("AK".into()),
        secret_access_key: Some("SK".into()),
        container_relative_uri: Some("/v2/creds".into()),
        ..Default::default()
    };
    match chain(&Provider::ALL, env).start(NOW) {
        Step::Done(Provider::Environment, c) => {
            assert_eq!((c.access_key_id.as_str(), c.expires_at), ("AK", None))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn container_relative_uri_goes_to_the_ecs_host() {
    let env = ProxyEnvironment {
        container_relative_uri: Some("/v2/credentials/abc".into()),
        ..Default::default()
    };
    let mut chain = chain(&Provider::ALL, env);
    let c = call(chain.start(NOW));
    assert_eq!(
        (c.cluster.as_str(), c.method),
        (DEFAULT_CONTAINER_CLUSTER, "GET")
    );
    assert_eq!(
        (c.authority.as_str(), c.path.as_str()),
        ("169.254.170.2", "/v2/credentials/abc")
    );
    assert_eq!(header(&c, "authorization"), None);
    match chain.on_response(200, DOC, NOW) {
        Step::Done(Provider::Container, creds) => assert_eq!(creds.expires_at, Some(NOW + 3600)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn container_full_uri_carries_the_authorization_token() {
    let env = ProxyEnvironment {
        container_full_uri: Some("http://169.254.170.23:80/v1/credentials".into()),
        container_authorization_token: Some("Bearer xyz".into()),
        ..Default::default()
    };
    let c = call(chain(&[Provider::Container], env).start(NOW));
    assert_eq!(
        (c.authority.as_str(), c.path.as_str()),
        ("169.254.170.23:80", "/v1/credentials")
    );
    assert_eq!(header(&c, "authorization"), Some("Bearer xyz"));
}

#[test]
fn imds_v2_token_then_role_then_credentials_and_token_reuse() {
    let mut chain = chain(&[Provider::InstanceMetadata], ProxyEnvironment::default());
    let token = call(chain.start(NOW));
    assert_eq!(
        (token.method, token.path.as_str()),
        ("PUT", "/latest/api/token")
    );
    assert_eq!(
        header(&token, "x-aws-ec2-metadata-token-ttl-seconds"),
        Some("21600")
    );
    let list = call(chain.on_response(200, b"TOKEN1", NOW));
    assert_eq!(list.path, "/latest/meta-data/iam/security-credentials/");
    assert_eq!(header(&list, "x-aws-ec2-metadata-token"), Some("TOKEN1"));
    let role = call(chain.on_response(200, b"my-role\n", NOW));
    assert_eq!(
        role.path,
        "/latest/meta-data/iam/security-credentials/my-role"
    );
    assert!(matches!(
        chain.on_response(200, DOC, NOW),
        Step::Done(Provider::InstanceMetadata, _)
    ));
    // The next refresh reuses the token while it is fresh, and renews it near its expiry.
    assert_eq!(
        call(chain.start(NOW + 100)).path,
        "/latest/meta-data/iam/security-credentials/"
    );
    assert_eq!(
        call(chain.start(NOW + 21_600 - 30)).path,
        "/latest/api/token"
    );
}

#[test]
fn imds_401_renews_the_token_once() {
    let mut chain = chain(&[Provider::InstanceMetadata], ProxyEnvironment::default());
    call(chain.start(NOW));
    call(chain.on_response(200, b"T1", NOW));
    assert_eq!(
        call(chain.on_response(401, b"", NOW)).path,
        "/latest/api/token"
    );
    call(chain.on_response(200, b"T2", NOW));
    match chain.on_response(401, b"", NOW) {
        Step::Failed(msg) => assert!(msg.contains("instance_metadata: IMDSv2 refused"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn failures_fall_through_and_name_every_provider() {
    let env = ProxyEnvironment {
        container_relative_uri: Some("/creds".into()),
        ..Default::default()
    };
    let mut chain = chain(&Provider::ALL, env);
    call(chain.start(NOW));
    // The container endpoint answers garbage: on to IMDS.
    let token = call(chain.on_response(200, b"{not json", NOW));
    assert_eq!(token.path, "/latest/api/token");
    match chain.on_failure("no healthy upstream", NOW) {
        Step::Failed(msg) => {
            for needle in [
                "environment: AWS_ACCESS_KEY_ID not set",
                "container: credential document is not JSON",
                "instance_metadata: no healthy upstream",
            ] {
                assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
            }
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn disabled_and_unreadable_sources_are_skipped_with_a_reason() {
    let env = ProxyEnvironment {
        container_full_uri: Some("http://169.254.170.23/v1/credentials".into()),
        container_authorization_token_file: Some("/var/run/token".into()),
        ec2_metadata_disabled: true,
        ..Default::default()
    };
    match chain(&[Provider::Container, Provider::InstanceMetadata], env).start(NOW) {
        Step::Failed(msg) => {
            assert!(
                msg.contains("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
                "{msg}"
            );
            assert!(msg.contains("AWS_EC2_METADATA_DISABLED"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn expired_or_bad_documents_fail_the_provider() {
    let env = ProxyEnvironment {
        container_relative_uri: Some("/c".into()),
        ..Default::default()
    };
    let mut chain = chain(&[Provider::Container], env);
    call(chain.start(NOW + 7200));
    assert!(
        matches!(chain.on_response(200, DOC, NOW + 7200), Step::Failed(m) if m.contains("expired"))
    );
    call(chain.start(NOW));
    assert!(matches!(chain.on_response(500, b"", NOW), Step::Failed(m) if m.contains("HTTP 500")));
}

#[test]
fn splits_full_uris() {
    assert_eq!(
        split_http_uri("http://h:8080/a/b?c"),
        Some(("h:8080".into(), "/a/b?c".into()))
    );
    assert_eq!(split_http_uri("http://h"), Some(("h".into(), "/".into())));
    assert_eq!(split_http_uri("https://h/x"), None);
    assert_eq!(split_http_uri("http:///x"), None);
}

#[test]
fn envoys_own_error_replies_are_named() {
    let env = ProxyEnvironment {
        container_relative_uri: Some("/c".into()),
        ..Default::default()
    };
    let mut chain = chain(&[Provider::Container], env);
    call(chain.start(NOW));
    match chain.on_response(
        503,
        b"upstream connect error or disconnect/reset before headers",
        NOW,
    ) {
        Step::Failed(m) => assert!(
            m.contains("HTTP 503 from the credentials endpoint (upstream connect error"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
}
