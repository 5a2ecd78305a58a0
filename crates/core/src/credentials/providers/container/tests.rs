use super::*;
use crate::credentials::chain::DEFAULT_CONTAINER_CLUSTER;
use crate::credentials::providers::tests::{call, done, failed, header, served, DOC, NOW};

fn container(env: ProxyEnvironment) -> Container {
    Container::new(&ChainSettings::default(), &env)
}

fn relative(uri: &str) -> ProxyEnvironment {
    ProxyEnvironment {
        container_relative_uri: Some(uri.into()),
        ..Default::default()
    }
}

#[test]
fn container_relative_uri_goes_to_the_ecs_host() {
    let mut provider = container(relative("/v2/credentials/abc"));
    let c = call(provider.start(NOW));
    assert_eq!(
        (c.cluster.as_str(), c.method),
        (DEFAULT_CONTAINER_CLUSTER, "GET")
    );
    assert_eq!(
        (c.authority.as_str(), c.path.as_str()),
        ("169.254.170.2", "/v2/credentials/abc")
    );
    assert_eq!(header(&c, "accept"), Some("application/json"));
    assert_eq!(header(&c, "authorization"), None);
    assert_eq!(
        done(provider.on_response(200, DOC, NOW)).expires_at,
        Some(NOW + 3600)
    );
}

#[test]
fn container_full_uri_carries_the_authorization_token() {
    let env = ProxyEnvironment {
        container_full_uri: Some("http://169.254.170.23:80/v1/credentials".into()),
        container_authorization_token: Some("Bearer xyz".into()),
        ..Default::default()
    };
    let c = call(container(env).start(NOW));
    assert_eq!(
        (c.authority.as_str(), c.path.as_str()),
        ("169.254.170.23:80", "/v1/credentials")
    );
    assert_eq!(header(&c, "authorization"), Some("Bearer xyz"));
}

#[test]
fn the_relative_uri_wins_and_the_cluster_is_configurable() {
    let env = ProxyEnvironment {
        container_relative_uri: Some("/rel".into()),
        container_full_uri: Some("http://elsewhere/full".into()),
        ..Default::default()
    };
    let settings = ChainSettings {
        container_cluster: "ecs".into(),
        ..ChainSettings::default()
    };
    let c = call(Container::new(&settings, &env).start(NOW));
    assert_eq!(
        (c.cluster.as_str(), c.authority.as_str(), c.path.as_str()),
        ("ecs", "169.254.170.2", "/rel")
    );
}

#[test]
fn unusable_environments_are_named() {
    let full = |uri: &str| ProxyEnvironment {
        container_full_uri: Some(uri.into()),
        ..Default::default()
    };
    for (env, reason) in [
        (
            ProxyEnvironment::default(),
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set",
        ),
        (
            relative("v2/creds"),
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'",
        ),
        (
            full("https://169.254.170.23/v1"),
            "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http:// URI",
        ),
        (
            full("http://user@host/v1"),
            "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http:// URI",
        ),
        // Found by fuzzing (`credential_answers`): the token went into the header as it was.
        (
            ProxyEnvironment {
                container_authorization_token: Some("Bearer t\n".into()),
                ..relative("/v2/creds")
            },
            "AWS_CONTAINER_AUTHORIZATION_TOKEN holds a control character (a line break, say), \
             which a header cannot carry",
        ),
    ] {
        assert_eq!(failed(container(env).start(NOW)), reason);
    }
}

fn pod_identity(token_file: bool) -> ProxyEnvironment {
    ProxyEnvironment {
        container_full_uri: Some("http://169.254.170.23/v1/credentials".into()),
        container_authorization_token_file: token_file.then(|| {
            "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token".into()
        }),
        ..Default::default()
    }
}

#[test]
fn a_token_file_is_read_through_envoy_at_every_fetch() {
    let mut provider = container(pod_identity(true));
    for token in ["eyJ.first", "eyJ.second"] {
        let file = call(provider.start(NOW));
        assert_eq!(
            (file.cluster.as_str(), file.path.as_str()),
            ("mesh_lambda_files", "/pod-identity-token")
        );
        // Trimmed: 1.36 hands a trailing newline over.
        let get = call(provider.on_response(200, &served(&format!("{token}\n")), NOW));
        assert_eq!(
            (get.authority.as_str(), get.path.as_str()),
            ("169.254.170.23", "/v1/credentials")
        );
        assert_eq!(header(&get, "authorization"), Some(token));
        assert_eq!(
            done(provider.on_response(200, DOC, NOW)).expires_at,
            Some(NOW + 3600)
        );
    }
}

#[test]
fn a_token_file_that_gives_no_token_fails_the_provider() {
    let mut provider = container(pod_identity(true));
    call(provider.start(NOW));
    let reason = failed(provider.on_response(401, b"Failed to inject credential.", NOW));
    assert!(
        reason.contains("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is missing or empty"),
        "{reason}"
    );
    call(provider.start(NOW));
    let reason = failed(provider.on_failure("no healthy upstream", NOW));
    assert!(
        reason.contains("files listener") && reason.contains("no healthy upstream"),
        "{reason}"
    );
    call(provider.start(NOW));
    let reason = failed(provider.on_response(200, &served("a\nb"), NOW));
    assert!(reason.contains("printable"), "{reason}");
    // The endpoint's own failure keeps its plain reason.
    call(provider.start(NOW));
    call(provider.on_response(200, &served("eyJ.t"), NOW));
    assert_eq!(
        failed(provider.on_failure("upstream reset", NOW)),
        "upstream reset"
    );
}

#[test]
fn a_token_wins_over_its_file_and_the_relative_uri_needs_none() {
    let mut env = pod_identity(true);
    env.container_authorization_token = Some("Bearer t".into());
    assert_eq!(
        header(&call(container(env).start(NOW)), "authorization"),
        Some("Bearer t")
    );
    // ECS's relative URI takes no token: the file is not read.
    let mut env = pod_identity(true);
    env.container_relative_uri = Some("/v2/credentials/abc".into());
    let get = call(container(env).start(NOW));
    assert_eq!(
        (get.authority.as_str(), header(&get, "authorization")),
        ("169.254.170.2", None)
    );
}

#[test]
fn expired_or_bad_documents_fail_the_provider() {
    let mut provider = container(relative("/c"));
    call(provider.start(NOW + 7200));
    assert!(failed(provider.on_response(200, DOC, NOW + 7200)).contains("expired"));
    call(provider.start(NOW));
    assert!(failed(provider.on_response(500, b"", NOW)).contains("HTTP 500"));
    call(provider.start(NOW));
    assert!(failed(provider.on_response(200, b"{not json", NOW))
        .starts_with("credential document is not JSON ("));
}

#[test]
fn error_answers_are_never_documents() {
    // Only a 200 carries a document.
    let mut provider = container(relative("/c"));
    call(provider.start(NOW));
    assert_eq!(
        failed(provider.on_response(204, b"", NOW)),
        "HTTP 204 from the credentials endpoint"
    );
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
    assert_eq!(split_http_uri("http://"), None);
    assert_eq!(split_http_uri("http://u:p@h/x"), None);
}

#[test]
fn envoys_own_error_replies_are_named() {
    let mut provider = container(relative("/c"));
    call(provider.start(NOW));
    let m = failed(provider.on_response(
        503,
        b"upstream connect error or disconnect/reset before headers",
        NOW,
    ));
    assert!(
        m.contains("HTTP 503 from the credentials endpoint (upstream connect error"),
        "{m}"
    );
}

/// On an IPv6 cluster EKS's webhook points the full URI at the agent's IPv6 address (EKS user
/// guide, "Set up the Amazon EKS Pod Identity Agent": 169.254.170.23 for IPv4,
/// [fd00:ec2::23] for IPv6).
#[test]
fn the_pod_identity_agent_by_its_ipv6_address() {
    let env = ProxyEnvironment {
        container_full_uri: Some("http://[fd00:ec2::23]/v1/credentials".into()),
        container_authorization_token: Some("eyJ.t".into()),
        ..Default::default()
    };
    let get = call(container(env).start(NOW));
    assert_eq!(
        (get.authority.as_str(), get.path.as_str()),
        ("[fd00:ec2::23]", "/v1/credentials")
    );
}
