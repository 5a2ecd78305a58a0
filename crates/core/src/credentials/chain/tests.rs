//! The chain's own work: order, fall-through, the collected reasons, which provider answered.
//! Each provider's protocol is tested next to its file in `super::super::providers`.

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

fn failed(step: Step) -> String {
    match step {
        Step::Failed(msg) => msg,
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn container_env() -> ProxyEnvironment {
    ProxyEnvironment {
        container_relative_uri: Some("/creds".into()),
        ..Default::default()
    }
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

/// Keys a header cannot carry (a NUL, a line break, a space in the key id or the token) are
/// that provider's failure, whichever it is: the next one is asked.
#[test]
fn keys_a_header_cannot_carry_fall_through_to_the_next_provider() {
    for (key, token) in [("AK\u{0}", None), ("AK", Some("T\r\nx")), ("A K", None)] {
        let env = ProxyEnvironment {
            access_key_id: Some(key.into()),
            secret_access_key: Some("SK".into()),
            session_token: token.map(str::to_owned),
            ..container_env()
        };
        let mut chain = chain(&[Provider::Environment, Provider::Container], env);
        assert_eq!(call(chain.start(NOW)).path, "/creds");
        let bad = DOC
            .to_vec()
            .iter()
            .map(|&b| if b == b'T' { b'\n' } else { b })
            .collect::<Vec<u8>>();
        let reason = failed(chain.on_response(200, &bad, NOW));
        assert!(
            reason.contains(&format!("environment: {UNFIT_FOR_HEADERS}")),
            "{reason}"
        );
    }
}

#[test]
fn done_names_the_provider_that_answered() {
    let mut chain = chain(&Provider::ALL, container_env());
    assert_eq!(call(chain.start(NOW)).path, "/creds");
    match chain.on_response(200, DOC, NOW) {
        Step::Done(Provider::Container, creds) => assert_eq!(creds.expires_at, Some(NOW + 3600)),
        other => panic!("{other:?}"),
    }

    let mut chain = self::chain(&[Provider::InstanceMetadata], ProxyEnvironment::default());
    call(chain.start(NOW));
    call(chain.on_response(200, b"TOKEN1", NOW));
    call(chain.on_response(200, b"my-role\n", NOW));
    assert!(matches!(
        chain.on_response(200, DOC, NOW),
        Step::Done(Provider::InstanceMetadata, _)
    ));
}

#[test]
fn the_configured_order_is_kept() {
    let env = ProxyEnvironment {
        access_key_id: Some("AK".into()),
        secret_access_key: Some("SK".into()),
        ..container_env()
    };
    let mut chain = chain(&[Provider::Container, Provider::Environment], env);
    call(chain.start(NOW));
    assert!(matches!(
        chain.on_response(500, b"", NOW),
        Step::Done(Provider::Environment, _)
    ));
}

#[test]
fn failures_fall_through_and_name_every_provider() {
    let mut chain = chain(&Provider::ALL, container_env());
    call(chain.start(NOW));
    // The container endpoint answers garbage: on to IMDS.
    let token = call(chain.on_response(200, b"{not json", NOW));
    assert_eq!(token.path, "/latest/api/token");
    let msg = failed(chain.on_failure("no healthy upstream", NOW));
    for needle in [
        "environment: AWS_ACCESS_KEY_ID not set",
        "container: credential document is not JSON",
        "instance_metadata: no healthy upstream",
    ] {
        assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    }
    assert!(msg.starts_with("no AWS credentials from any provider (environment: "));
    assert!(
        msg.ends_with("; instance_metadata: no healthy upstream)"),
        "{msg}"
    );
}

#[test]
fn imds_refusing_a_fresh_token_is_named() {
    let mut chain = chain(&[Provider::InstanceMetadata], ProxyEnvironment::default());
    call(chain.start(NOW));
    call(chain.on_response(200, b"T1", NOW));
    call(chain.on_response(401, b"", NOW));
    call(chain.on_response(200, b"T2", NOW));
    assert_eq!(
        failed(chain.on_response(401, b"", NOW)),
        "no AWS credentials from any provider (instance_metadata: IMDSv2 refused a fresh token \
         (HTTP 401))"
    );
}

#[test]
fn disabled_and_unreadable_sources_are_skipped_with_a_reason() {
    let env = ProxyEnvironment {
        container_full_uri: Some("http://169.254.170.23/v1/credentials".into()),
        container_authorization_token_file: Some("/var/run/token".into()),
        ec2_metadata_disabled: true,
        ..Default::default()
    };
    let mut chain = chain(&[Provider::Container, Provider::InstanceMetadata], env);
    call(chain.start(NOW));
    let msg = failed(chain.on_response(401, b"Failed to inject credential.", NOW));
    assert!(
        msg.contains("container: the file of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is missing"),
        "{msg}"
    );
    assert!(msg.contains("AWS_EC2_METADATA_DISABLED"), "{msg}");
}

#[test]
fn a_new_fetch_starts_over() {
    let mut chain = chain(&Provider::ALL, container_env());
    call(chain.start(NOW));
    call(chain.on_response(500, b"", NOW));
    // Abandoned half-way (the lease ran out, say): the next fetch forgets those failures.
    call(chain.start(NOW + 1));
    call(chain.on_response(500, b"", NOW + 1));
    let msg = failed(chain.on_failure("reset", NOW + 1));
    assert_eq!(msg.matches("environment: ").count(), 1, "{msg}");
    assert_eq!(msg.matches("container: HTTP 500").count(), 1, "{msg}");
}

#[test]
fn answers_without_a_callout_are_refused() {
    let env = ProxyEnvironment {
        access_key_id: Some("AK".into()),
        secret_access_key: Some("SK".into()),
        ..Default::default()
    };
    let mut chain = chain(&Provider::ALL, env);
    assert_eq!(
        failed(chain.on_response(200, DOC, NOW)),
        "credential response with no fetch under way"
    );
    assert!(matches!(chain.start(NOW), Step::Done(..)));
    assert_eq!(
        failed(chain.on_response(200, DOC, NOW)),
        "credential response with no fetch under way"
    );
}

#[test]
fn no_providers_no_credentials() {
    let mut chain = chain(&[], ProxyEnvironment::default());
    assert_eq!(
        failed(chain.start(NOW)),
        "no AWS credentials from any provider ()"
    );
    assert_eq!(chain.provider_names(), "");
}

#[test]
fn names_and_settings_are_kept() {
    let chain = chain(&Provider::ALL, ProxyEnvironment::default());
    assert_eq!(
        chain.provider_names(),
        "environment, web_identity, credentials_file, container, instance_metadata"
    );
    assert_eq!(chain.settings().providers, Provider::ALL.to_vec());
    for p in Provider::ALL {
        assert_eq!(Provider::parse(p.name()), Some(p));
    }
    assert_eq!(Provider::parse("assume_role"), None);
}

#[test]
fn the_default_chain_reaches_web_identity_after_the_environment_and_before_the_container() {
    let env = ProxyEnvironment {
        web_identity_token_file: Some(
            "/var/run/secrets/eks.amazonaws.com/serviceaccount/token".into(),
        ),
        role_arn: Some("arn:aws:iam::210987654321:role/invoker".into()),
        container_relative_uri: Some("/creds".into()),
        ..Default::default()
    };
    let mut chain = chain(&Provider::ALL, env);
    // The environment has no keys: no call; web identity asks for its token first.
    let token = call(chain.start(NOW));
    assert_eq!(token.path, "/web-identity-token");
    let sts = call(chain.on_response(200, br#"{"contents":"eyJ.a.b"}"#, NOW));
    assert_eq!(sts.authority, "sts.amazonaws.com");
    // STS down: nothing points at a credentials file, so the container endpoint is asked
    // next, and answers.
    let container = call(chain.on_failure("upstream connect error", NOW));
    assert_eq!(container.authority, "169.254.170.2");
    match chain.on_response(200, DOC, NOW) {
        Step::Done(provider, _) => assert_eq!(provider, Provider::Container),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        chain.failed_providers(),
        &[
            Provider::Environment,
            Provider::WebIdentity,
            Provider::CredentialsFile
        ]
    );
}
