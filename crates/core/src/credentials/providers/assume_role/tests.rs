//! The provider's protocol: base chain first, then one signed STS call; its answers and
//! failures. The signed call is checked against a vector botocore computed.

use super::super::tests::{call, done, failed, header, NOW};
use super::*;
use crate::credentials::chain::{ChainSettings, Provider};
use crate::credentials::environment::ProxyEnvironment;
use crate::sigv4::general::{Payload, Request, Signer};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const BASE_DOC: &[u8] = br#"{"AccessKeyId":"ASIABASE","SecretAccessKey":"BASESECRET","Token":"BASETOKEN","Expiration":"2015-08-30T13:36:00Z"}"#;

fn settings() -> AssumeRoleSettings {
    AssumeRoleSettings {
        role_arn: "arn:aws:iam::210987654321:role/teams/invoker".into(),
        external_id: Some("ext:id/1".into()),
        session_name: "mesh-lambda".into(),
        duration_seconds: 3600,
        sts_cluster: "sts".into(),
        sts_host: "sts.eu-west-3.amazonaws.com".into(),
        region: "eu-west-3".into(),
    }
}

fn answer(expiration: &str) -> Vec<u8> {
    format!(
        r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser><Arn>arn:aws:sts::210987654321:assumed-role/invoker/mesh-lambda</Arn>
      <AssumedRoleId>AROA:mesh-lambda</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAROLE</AccessKeyId>
      <SecretAccessKey>ROLE/SECRET+KEY</SecretAccessKey>
      <SessionToken>ROLE&amp;TOKEN</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#
    )
    .into_bytes()
}

fn error_answer(code: &str, message: &str) -> Vec<u8> {
    format!(
        r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>
  <RequestId>4e9c</RequestId>
</ErrorResponse>"#
    )
    .into_bytes()
}

fn provider(providers: &[Provider], env: ProxyEnvironment) -> AssumeRole {
    let base = ChainSettings {
        providers: providers.to_vec(),
        ..ChainSettings::default()
    };
    AssumeRole::new(settings(), CredentialChain::new(base, env))
}

fn environment_keys() -> ProxyEnvironment {
    ProxyEnvironment {
        access_key_id: Some("AKIDEXAMPLE".into()),
        secret_access_key: Some(SECRET.into()),
        session_token: Some("SESSIONTOKEN".into()),
        ..Default::default()
    }
}

/// botocore 1.x `SigV4Auth(Credentials("AKIDEXAMPLE", SECRET, "SESSIONTOKEN"), "sts",
/// "eu-west-3")` on this request at 20150830T123600Z (`canonical_request`, `string_to_sign`,
/// `signature`), the body as botocore's query serializer would encode these parameters.
const BOTOCORE_BODY: &str = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2Fteams%2Finvoker&RoleSessionName=mesh-lambda&DurationSeconds=3600&ExternalId=ext%3Aid%2F1";
const BOTOCORE_CANONICAL_REQUEST: &str = "POST\n/\n\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:sts.eu-west-3.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:SESSIONTOKEN\n\ncontent-type;host;x-amz-date;x-amz-security-token\n4f08b12db051230848678decc201f82504cf4ec2e8d7178d4dd5bd773c742d74";
const BOTOCORE_STRING_TO_SIGN: &str = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-3/sts/aws4_request\n4d7e6b545905bbd30d72e48dfda485452e06dedd098b5bf07bd3c9b6b453fba8";
const BOTOCORE_SIGNATURE: &str = "3fd0977047ad4d8e78094300ffbbc8fbce6e3c8c84cccda816c62fc5a80397e4";

#[test]
fn the_sts_call_is_signed_as_botocore_signs_it() {
    let mut p = provider(&[Provider::Environment], environment_keys());
    let c = call(p.start(NOW));
    assert_eq!(
        (
            c.cluster.as_str(),
            c.method,
            c.path.as_str(),
            c.authority.as_str()
        ),
        ("sts", "POST", "/", "sts.eu-west-3.amazonaws.com")
    );
    assert_eq!(String::from_utf8(c.body.clone()).unwrap(), BOTOCORE_BODY);
    assert_eq!(header(&c, "content-type"), Some(CONTENT_TYPE));
    assert_eq!(
        header(&c, "content-length"),
        Some(BOTOCORE_BODY.len().to_string().as_str())
    );
    assert_eq!(header(&c, "x-amz-date"), Some("20150830T123600Z"));
    assert_eq!(header(&c, "x-amz-security-token"), Some("SESSIONTOKEN"));
    assert_eq!(
        header(&c, "authorization").unwrap(),
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-3/sts/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, \
             Signature={BOTOCORE_SIGNATURE}"
        )
    );
    // The steps, each on its own, as the general signer made them.
    let base = Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: SECRET.into(),
        session_token: Some("SESSIONTOKEN".into()),
        expires_at: None,
    };
    let signed = Signer {
        credentials: &base,
        region: "eu-west-3",
        service: "sts",
        unix_seconds: NOW,
        normalize_path: true,
    }
    .sign(&Request {
        method: "POST",
        wire_path: "/",
        wire_query: "",
        headers: &[
            ("content-type", CONTENT_TYPE),
            ("host", "sts.eu-west-3.amazonaws.com"),
        ],
        payload: Payload::Body(BOTOCORE_BODY.as_bytes()),
    });
    assert_eq!(signed.canonical_request, BOTOCORE_CANONICAL_REQUEST);
    assert_eq!(signed.string_to_sign, BOTOCORE_STRING_TO_SIGN);
    assert_eq!(signed.signature, BOTOCORE_SIGNATURE);
}

#[test]
fn long_term_base_keys_send_no_token_and_no_external_id_is_no_parameter() {
    let env = ProxyEnvironment {
        session_token: None,
        ..environment_keys()
    };
    let base = ChainSettings {
        providers: vec![Provider::Environment],
        ..ChainSettings::default()
    };
    let mut p = AssumeRole::new(
        AssumeRoleSettings {
            external_id: None,
            ..settings()
        },
        CredentialChain::new(base, env),
    );
    let c = call(p.start(NOW));
    assert_eq!(header(&c, "x-amz-security-token"), None);
    assert!(header(&c, "authorization")
        .unwrap()
        .contains("SignedHeaders=content-type;host;x-amz-date,"));
    let body = String::from_utf8(c.body).unwrap();
    assert!(!body.contains("ExternalId"), "{body}");
    assert!(body.ends_with("&DurationSeconds=3600"), "{body}");
}

#[test]
fn the_answer_gives_the_role_credentials() {
    let mut p = provider(&[Provider::Environment], environment_keys());
    call(p.start(NOW));
    let c = done(p.on_response(200, &answer("2015-08-30T13:36:00.123Z"), NOW));
    assert_eq!(c.access_key_id, "ASIAROLE");
    assert_eq!(c.secret_access_key, "ROLE/SECRET+KEY");
    assert_eq!(c.session_token.as_deref(), Some("ROLE&TOKEN"));
    assert_eq!(c.expires_at, Some(NOW + 3600));
    // The next fetch starts over with the base chain, and asks STS again.
    call(p.start(NOW + 10));
    assert_eq!(
        done(p.on_response(200, &answer("2015-08-30T13:36:10Z"), NOW + 10)).expires_at,
        Some(NOW + 3610)
    );
}

#[test]
fn base_credentials_from_a_callout_then_the_sts_call_signed_with_them() {
    let env = ProxyEnvironment {
        container_relative_uri: Some("/creds".into()),
        ..Default::default()
    };
    let mut p = provider(&[Provider::Environment, Provider::Container], env);
    let first = call(p.start(NOW));
    assert_eq!(
        (first.cluster.as_str(), first.path.as_str()),
        ("aws_container_credentials", "/creds")
    );
    let sts = call(p.on_response(200, BASE_DOC, NOW));
    assert_eq!(sts.cluster, "sts");
    assert_eq!(header(&sts, "x-amz-security-token"), Some("BASETOKEN"));
    assert!(header(&sts, "authorization")
        .unwrap()
        .starts_with("AWS4-HMAC-SHA256 Credential=ASIABASE/20150830/eu-west-3/sts/aws4_request"));
    assert_eq!(
        done(p.on_response(200, &answer("2015-08-30T13:00:00Z"), NOW)).access_key_id,
        "ASIAROLE"
    );
}

#[test]
fn no_base_credentials_is_the_base_chains_reason_and_no_sts_call() {
    let mut p = provider(&[Provider::Environment], ProxyEnvironment::default());
    let reason = failed(p.start(NOW));
    assert!(
        reason.starts_with("no AWS credentials from any provider (environment: "),
        "{reason}"
    );
    // The container endpoint down: its failure is the base chain's.
    let env = ProxyEnvironment {
        container_relative_uri: Some("/creds".into()),
        ..Default::default()
    };
    let mut p = provider(&[Provider::Container], env);
    call(p.start(NOW));
    let reason = failed(p.on_failure("no answer (timeout or connection failure)", NOW));
    assert!(reason.contains("container: no answer"), "{reason}");
}

#[test]
fn sts_refusals_name_the_code_and_message() {
    let cases = [
        (403, "AccessDenied", "User: arn:aws:iam::123456789012:user/mesh is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/teams/invoker"),
        (400, "Throttling", "Rate exceeded"),
        (403, "ExpiredToken", "The security token included in the request is expired"),
        (400, "ValidationError", "1 validation error detected: Value at 'externalId' failed to satisfy constraint"),
    ];
    for (status, code, message) in cases {
        let mut p = provider(&[Provider::Environment], environment_keys());
        call(p.start(NOW));
        let reason = failed(p.on_response(status, &error_answer(code, message), NOW));
        assert_eq!(
            reason,
            format!("STS refused (HTTP {status}): {code}: {message}")
        );
    }
}

#[test]
fn sts_messages_never_repeat_the_base_secret_or_token_and_stay_short() {
    let mut p = provider(&[Provider::Environment], environment_keys());
    call(p.start(NOW));
    let message = format!(
        "The request signature we calculated does not match. x-amz-security-token:SESSIONTOKEN key {SECRET}\u{7}{}",
        "x".repeat(500)
    );
    let reason = failed(p.on_response(403, &error_answer("SignatureDoesNotMatch", &message), NOW));
    assert!(
        !reason.contains("SESSIONTOKEN") && !reason.contains(SECRET),
        "{reason}"
    );
    assert!(reason.contains("<redacted>"), "{reason}");
    assert!(!reason.contains('\u{7}'));
    assert!(reason.len() < 300, "{}", reason.len());
    assert!(reason.ends_with("..."), "{reason}");
}

#[test]
fn answers_that_are_not_sts_documents() {
    let mut p = provider(&[Provider::Environment], environment_keys());
    for (status, body, expected) in [
        (503, &b"upstream connect error or disconnect/reset before headers"[..],
         "STS answered HTTP 503 with no error document: upstream connect error or disconnect/reset before headers"),
        (500, b"", "STS answered HTTP 500 with no error document"),
        (500, br#"{"SecretAccessKey":"x"}"#, "STS answered HTTP 500 with no error document: (not quoted: it may hold credentials)"),
        (200, b"<html>", "STS's answer is not XML that can be read (an element is not closed)"),
        (200, b"<AssumeRoleResponse/>", "STS's answer has no AssumeRoleResponse/AssumeRoleResult/Credentials/AccessKeyId"),
    ] {
        call(p.start(NOW));
        assert_eq!(failed(p.on_response(status, body, NOW)), expected);
    }
    // An error document under 200 is still a refusal.
    call(p.start(NOW));
    assert_eq!(
        failed(p.on_response(200, &error_answer("AccessDenied", "no"), NOW)),
        "STS refused (HTTP 200): AccessDenied: no"
    );
}

#[test]
fn expired_or_incomplete_credentials_are_refused() {
    let mut p = provider(&[Provider::Environment], environment_keys());
    call(p.start(NOW));
    let reason = failed(p.on_response(200, &answer("2015-08-30T12:36:00Z"), NOW));
    assert_eq!(
        reason,
        "STS's answer expired already (Expiration 2015-08-30T12:36:00Z)"
    );
    call(p.start(NOW));
    let two = String::from_utf8(answer("2015-08-30T13:36:00Z"))
        .unwrap()
        .replace(
            "<AccessKeyId>ASIAROLE</AccessKeyId>",
            "<AccessKeyId>A</AccessKeyId><AccessKeyId>B</AccessKeyId>",
        );
    let reason = failed(p.on_response(200, two.as_bytes(), NOW));
    assert!(reason.contains("appears more than once"), "{reason}");
    call(p.start(NOW));
    let spaced = String::from_utf8(answer("2015-08-30T13:36:00Z"))
        .unwrap()
        .replace("ROLE/SECRET+KEY", "ROLE SECRET");
    let reason = failed(p.on_response(200, spaced.as_bytes(), NOW));
    assert_eq!(
        reason,
        "STS's answer has a SecretAccessKey with characters other than printable ASCII"
    );
    assert!(!reason.contains("ROLE SECRET"));
}

#[test]
fn no_answer_from_sts_names_the_endpoint_and_cluster() {
    let mut p = provider(&[Provider::Environment], environment_keys());
    call(p.start(NOW));
    assert_eq!(
        failed(p.on_failure("no answer (timeout or connection failure)", NOW)),
        "no answer from STS (sts.eu-west-3.amazonaws.com, cluster \"sts\"): no answer (timeout or connection failure)"
    );
    // An answer with nothing out is refused, not taken.
    assert_eq!(
        failed(p.on_response(200, &answer("2015-08-30T13:36:00Z"), NOW)),
        NO_FETCH_UNDER_WAY
    );
}

#[test]
fn the_chain_walks_assume_role_alone_and_says_which_role_failed() {
    let chain_settings = ChainSettings {
        providers: vec![Provider::Environment],
        assume_role: Some(settings()),
        ..ChainSettings::default()
    };
    let mut chain = CredentialChain::new(chain_settings, environment_keys());
    assert_eq!(
        chain.provider_names(),
        "assume_role of arn:aws:iam::210987654321:role/teams/invoker with environment"
    );
    match chain.start(NOW) {
        Step::Call(c) => assert_eq!(c.cluster, "sts"),
        other => panic!("{other:?}"),
    }
    match chain.on_response(403, &error_answer("AccessDenied", "not allowed"), NOW) {
        Step::Failed(reason) => assert_eq!(
            reason,
            "cannot assume role arn:aws:iam::210987654321:role/teams/invoker: \
             STS refused (HTTP 403): AccessDenied: not allowed"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(chain.failed_providers(), &[Provider::AssumeRole]);
    chain.start(NOW);
    match chain.on_response(200, &answer("2015-08-30T13:36:00Z"), NOW) {
        Step::Done(Provider::AssumeRole, c) => assert_eq!(c.access_key_id, "ASIAROLE"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn base_keys_a_header_cannot_carry_make_no_sts_call() {
    for (key, token) in [
        ("AK\u{0}ID", None),
        ("AKID", Some("to\r\nken")),
        ("AK ID", None),
    ] {
        let env = ProxyEnvironment {
            access_key_id: Some(key.into()),
            session_token: token.map(str::to_owned),
            ..environment_keys()
        };
        let mut p = provider(&[Provider::Environment], env);
        let reason = failed(p.start(NOW));
        let unfit = format!("(environment: {})", crate::access_keys::UNFIT_FOR_HEADERS);
        assert!(reason.ends_with(&unfit), "{reason}");
    }
}

/// botocore 1.44.5 `SigV4Auth(Credentials("AKIDEXAMPLE", SECRET, "SESSIONTOKEN"), "sts",
/// "us-east-1")` on the call above sent to the global `sts.amazonaws.com` at
/// 20150830T123600Z: the global endpoint signs for us-east-1 (botocore's
/// `data/endpoints.json`, `aws-global`'s `credentialScope`), not for the function's region.
const BOTOCORE_GLOBAL_SIGNATURE: &str =
    "de2a712fb2c26eb9c112c157a0c69fc728d097048162c8b84c12544bf662f804";

#[test]
fn the_sts_call_is_signed_for_the_region_of_its_host() {
    let config = crate::config::parse_config(
        br#"{"arn":"arn:aws:lambda:eu-west-3:123456789012:function:f",
             "credentials":{"provider":"environment","assume_role":{
               "role_arn":"arn:aws:iam::210987654321:role/teams/invoker",
               "external_id":"ext:id/1","sts_host":"sts.amazonaws.com"}}}"#,
    )
    .unwrap();
    let mut chain = config.credentials.chain;
    let role = chain.assume_role.take().unwrap();
    let base = CredentialChain::new(chain, environment_keys());
    let c = call(AssumeRole::new(role, base).start(NOW));
    assert_eq!(c.authority, "sts.amazonaws.com");
    assert_eq!(String::from_utf8(c.body.clone()).unwrap(), BOTOCORE_BODY);
    assert_eq!(
        header(&c, "authorization").unwrap(),
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, \
             Signature={BOTOCORE_GLOBAL_SIGNATURE}"
        )
    );
}

/// A clock past the year 9999 (aws-sigv4, which derives the signing key, cannot write such a
/// date): the fetch fails with the reason, no STS call goes out and nothing panics.
#[test]
fn a_clock_past_the_year_9999_makes_no_sts_call() {
    let past = crate::sigv4::key::LAST_SIGNABLE_SECOND + 1;
    let mut p = provider(&[Provider::Environment], environment_keys());
    let reason = failed(p.start(past));
    assert!(
        reason.starts_with("cannot sign the STS call: the clock reads"),
        "{reason}"
    );
    assert!(reason.contains("past the year 9999"), "{reason}");
    // The provider is idle again: a later fetch with a sane clock makes the call.
    let c = call(p.start(NOW));
    assert_eq!(header(&c, "x-amz-date"), Some("20150830T123600Z"));
}
