use super::*;

const NOW: u64 = 1_440_938_160; // 20150830T123600Z
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn credentials(token: Option<&str>) -> Credentials {
    Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: SECRET.into(),
        session_token: token.map(str::to_owned),
        expires_at: None,
    }
}

fn signer<'a>(credentials: &'a Credentials, region: &'a str, service: &'a str) -> Signer<'a> {
    Signer {
        credentials,
        region,
        service,
        unix_seconds: NOW,
        normalize_path: true,
    }
}

fn get<'a>(headers: &'a [(&'a str, &'a str)]) -> Request<'a> {
    Request {
        method: "GET",
        wire_path: "/",
        wire_query: "",
        headers,
        payload: Payload::Body(b""),
    }
}

#[test]
fn hex_digest_is_hex() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn empty_payload_hash() {
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn signing_key_matches_aws_sigv4() {
    for (secret, unix, region, service) in [
        (SECRET, NOW, "us-east-1", "sts"),
        ("s", 951_782_400, "eu-west-3", "lambda"),
    ] {
        let time = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(unix);
        let theirs = aws_sigv4::sign::v4::generate_signing_key(secret, time, region, service);
        let day = amz_date(unix);
        assert_eq!(
            &signing_key(secret, &day[..8], region, service)[..],
            theirs.as_ref()
        );
    }
}

/// The worked example of the AWS SigV4 documentation: IAM `ListUsers`, a query API as STS is.
#[test]
fn signs_the_documented_iam_example() {
    let c = credentials(None);
    let request = Request {
        method: "GET",
        wire_path: "/",
        wire_query: "Action=ListUsers&Version=2010-05-08",
        headers: &[
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("Host", "iam.amazonaws.com"),
        ],
        payload: Payload::Body(b""),
    };
    let s = signer(&c, "us-east-1", "iam").sign(&request);
    assert_eq!(s.signed_headers, "content-type;host;x-amz-date");
    assert_eq!(
        sha256_hex(s.canonical_request.as_bytes()),
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
    );
    assert_eq!(
        s.string_to_sign,
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
         f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
    );
    assert_eq!(
        s.signature,
        "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    );
    assert_eq!(
        s.authorization,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date, \
         Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    );
    assert_eq!(
        s.headers,
        vec![("x-amz-date", "20150830T123600Z".to_owned())]
    );
}

#[test]
fn the_date_and_token_are_the_signers() {
    let c = credentials(Some("TOKEN"));
    let s = signer(&c, "us-east-1", "sts").sign(&get(&[
        ("host", "sts.amazonaws.com"),
        ("X-Amz-Date", "20000101T000000Z"),
        ("x-amz-security-token", "OLD"),
    ]));
    assert_eq!(
        s.headers,
        vec![
            ("x-amz-date", "20150830T123600Z".to_owned()),
            ("x-amz-security-token", "TOKEN".to_owned()),
        ]
    );
    assert_eq!(s.signed_headers, "host;x-amz-date;x-amz-security-token");
    assert!(s
        .canonical_request
        .contains("\nx-amz-date:20150830T123600Z\n"));
    assert!(s
        .canonical_request
        .contains("\nx-amz-security-token:TOKEN\n"));
    assert!(!s.canonical_request.contains("OLD"));
    assert!(!s.canonical_request.contains("20000101"));
}

#[test]
fn a_given_payload_hash_is_used_as_is() {
    let c = credentials(None);
    let mut request = get(&[("host", "h")]);
    request.payload = Payload::Hash("UNSIGNED-PAYLOAD");
    let s = signer(&c, "us-east-1", "s3").sign(&request);
    assert!(s.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
    request.payload =
        Payload::Hash("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    let hashed = signer(&c, "us-east-1", "s3").sign(&request);
    request.payload = Payload::Body(b"");
    assert_eq!(signer(&c, "us-east-1", "s3").sign(&request), hashed);
}

#[test]
fn any_time_signs_without_panicking() {
    let c = credentials(None);
    for unix_seconds in [0, u64::MAX] {
        let s = Signer {
            unix_seconds,
            ..signer(&c, "us-east-1", "sts")
        }
        .sign(&get(&[("host", "h")]));
        assert_eq!(s.signature.len(), 64);
    }
}
