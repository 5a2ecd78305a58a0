use super::*;
use crate::credentials::providers::tests::{call, done, failed, header, served, NOW};

const ROLE: &str = "arn:aws:iam::210987654321:role/teams/invoker";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2ln";

fn irsa() -> ProxyEnvironment {
    ProxyEnvironment {
        web_identity_token_file: Some(
            "/var/run/secrets/eks.amazonaws.com/serviceaccount/token".into(),
        ),
        role_arn: Some(ROLE.into()),
        region: Some("eu-west-3".into()),
        ..Default::default()
    }
}

fn provider(env: ProxyEnvironment) -> WebIdentity {
    WebIdentity::new(&ChainSettings::default(), &env)
}

/// An answer as STS documents it (AssumeRoleWithWebIdentity API reference, "Examples").
fn sts_answer(expiration: &str) -> Vec<u8> {
    format!(
        r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:default:api</SubjectFromWebIdentityToken>
    <Credentials>
      <SessionToken>ROLETOKEN</SessionToken>
      <SecretAccessKey>ROLESECRET</SecretAccessKey>
      <Expiration>{expiration}</Expiration>
      <AccessKeyId>ASIAROLE</AccessKeyId>
    </Credentials>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::210987654321:assumed-role/invoker/mesh-lambda</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:mesh-lambda</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"#
    )
    .into_bytes()
}

fn form(c: &Callout) -> Vec<(String, String)> {
    url_pairs(std::str::from_utf8(&c.body).unwrap())
}

fn url_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn reads_the_token_through_envoy_then_calls_sts_unsigned_in_the_region() {
    let mut p = provider(irsa());
    let token_call = call(p.start(NOW));
    assert_eq!(token_call.cluster, "mesh_lambda_files");
    assert_eq!(token_call.path, "/web-identity-token");

    // A token file written by `echo` (1.36 hands the newline over): trimmed.
    let sts = call(p.on_response(200, &served(&format!("{TOKEN}\n")), NOW));
    assert_eq!(
        (sts.cluster.as_str(), sts.method, sts.path.as_str()),
        ("sts", "POST", "/")
    );
    assert_eq!(sts.authority, "sts.eu-west-3.amazonaws.com");
    assert_eq!(header(&sts, "authorization"), None);
    assert_eq!(header(&sts, "x-amz-date"), None);
    assert_eq!(
        header(&sts, "content-length"),
        Some(sts.body.len().to_string().as_str())
    );
    let pairs = form(&sts);
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("Action"), Some("AssumeRoleWithWebIdentity"));
    assert_eq!(get("Version"), Some("2011-06-15"));
    assert_eq!(get("RoleArn"), Some(ROLE));
    assert_eq!(get("WebIdentityToken"), Some(TOKEN));
    assert_eq!(
        get("RoleSessionName"),
        Some(format!("mesh-lambda-{NOW}").as_str())
    );

    let credentials = done(p.on_response(200, &sts_answer("2015-08-30T13:36:00Z"), NOW));
    assert_eq!(credentials.access_key_id, "ASIAROLE");
    assert_eq!(credentials.secret_access_key, "ROLESECRET");
    assert_eq!(credentials.session_token.as_deref(), Some("ROLETOKEN"));
    assert_eq!(credentials.expires_at, Some(NOW + 3600));
}

#[test]
fn each_fetch_reads_the_token_again() {
    let mut p = provider(irsa());
    for token in ["first.a.b", "second.c.d"] {
        call(p.start(NOW));
        let sts = call(p.on_response(200, &served(token), NOW));
        assert!(form(&sts).contains(&("WebIdentityToken".into(), token.into())));
        done(p.on_response(200, &sts_answer("2015-08-30T13:36:00Z"), NOW));
    }
}

#[test]
fn the_session_name_and_the_endpoint_follow_the_environment() {
    let env = ProxyEnvironment {
        role_session_name: Some("api@mesh".into()),
        ..irsa()
    };
    let mut p = provider(env);
    call(p.start(NOW));
    let sts = call(p.on_response(200, &served(TOKEN), NOW));
    assert!(form(&sts).contains(&("RoleSessionName".into(), "api@mesh".into())));

    let host = |env: ProxyEnvironment| sts_host(&env);
    let with = |region: Option<&str>, mode: Option<&str>| ProxyEnvironment {
        region: region.map(Into::into),
        sts_regional_endpoints: mode.map(Into::into),
        ..irsa()
    };
    assert_eq!(host(with(None, None)).unwrap(), "sts.amazonaws.com");
    assert_eq!(
        host(with(Some("us-east-1"), Some("legacy"))).unwrap(),
        "sts.amazonaws.com"
    );
    assert_eq!(
        host(with(Some("us-east-1"), Some("Regional"))).unwrap(),
        "sts.us-east-1.amazonaws.com"
    );
    assert_eq!(
        host(with(Some("cn-north-1"), Some("legacy"))).unwrap(),
        "sts.cn-north-1.amazonaws.com.cn"
    );
    assert!(host(with(Some("mars-1"), None))
        .unwrap_err()
        .contains("AWS_REGION"));
    assert!(host(with(Some("us-east-1"), Some("global")))
        .unwrap_err()
        .contains("AWS_STS_REGIONAL_ENDPOINTS"));
}

#[test]
fn an_environment_it_cannot_use_fails_without_a_callout() {
    let cases: [(ProxyEnvironment, &str); 6] = [
        (
            ProxyEnvironment::default(),
            "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not set",
        ),
        (
            ProxyEnvironment {
                role_arn: None,
                ..irsa()
            },
            "AWS_ROLE_ARN is not",
        ),
        (
            ProxyEnvironment {
                web_identity_token_file: None,
                ..irsa()
            },
            "AWS_WEB_IDENTITY_TOKEN_FILE is not",
        ),
        (
            ProxyEnvironment {
                role_arn: Some("arn:aws:iam::21098765432:role/x".into()),
                ..irsa()
            },
            "not an IAM role ARN",
        ),
        (
            ProxyEnvironment {
                role_arn: Some("arn:aws:iam::210987654321:user/x".into()),
                ..irsa()
            },
            "not an IAM role ARN",
        ),
        (
            ProxyEnvironment {
                role_session_name: Some("a b".into()),
                ..irsa()
            },
            "AWS_ROLE_SESSION_NAME",
        ),
    ];
    for (env, needle) in cases {
        let reason = failed(provider(env).start(NOW));
        assert!(reason.contains(needle), "{reason}");
    }
}

#[test]
fn says_why_without_quoting_the_token() {
    // The file missing or empty: the listener's 401.
    let mut p = provider(irsa());
    call(p.start(NOW));
    let reason = failed(p.on_response(401, b"Failed to inject credential.", NOW));
    assert!(
        reason.contains("AWS_WEB_IDENTITY_TOKEN_FILE is missing or empty"),
        "{reason}"
    );

    // The listener unreachable.
    call(p.start(NOW));
    let reason = failed(p.on_failure("no such cluster", NOW));
    assert!(
        reason.contains("files listener") && reason.contains("no such cluster"),
        "{reason}"
    );

    // STS refusing the token, its message quoting it: cut out.
    call(p.start(NOW));
    call(p.on_response(200, &served(TOKEN), NOW));
    let refusal = format!(
        r#"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Token {TOKEN} has expired</Message></Error></ErrorResponse>"#
    );
    let reason = failed(p.on_response(400, refusal.as_bytes(), NOW));
    assert!(
        reason.contains("STS refused (HTTP 400): InvalidIdentityToken"),
        "{reason}"
    );
    assert!(reason.contains(ROLE), "{reason}");
    assert!(!reason.contains(TOKEN), "{reason}");

    // STS unreachable.
    call(p.start(NOW));
    call(p.on_response(200, &served(TOKEN), NOW));
    let reason = failed(p.on_failure("upstream connect error", NOW));
    assert!(
        reason.contains("no answer from STS (sts.eu-west-3.amazonaws.com"),
        "{reason}"
    );

    // An answer for another action, or expired.
    call(p.start(NOW));
    call(p.on_response(200, &served(TOKEN), NOW));
    let reason = failed(p.on_response(200, &sts_answer("2015-08-30T12:00:00Z"), NOW));
    assert!(reason.contains("expired"), "{reason}");

    // No fetch under way.
    assert_eq!(failed(p.on_response(200, b"", NOW)), NO_FETCH_UNDER_WAY);
}

#[test]
fn a_token_unfit_for_a_form_field_is_refused_before_sts() {
    let mut p = provider(irsa());
    call(p.start(NOW));
    let reason = failed(p.on_response(200, &served("a\u{1}b"), NOW));
    assert!(reason.contains("printable ASCII"), "{reason}");
}
