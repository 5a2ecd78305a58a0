use super::*;

const NOW: u64 = 1_440_938_160; // 2015-08-30T12:36:00Z

/// What moto 5 answers (its template), which the end-to-end tests meet.
const MOTO_ANSWER: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/
2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <SessionToken>FQoGZXIvYXdzEBYaD</SessionToken>
      <SecretAccessKey>s3cr3t/K+ey</SecretAccessKey>
      <Expiration>2015-08-30T12:51:00.000000Z</Expiration>
      <AccessKeyId>ASIAMOTO</AccessKeyId>
    </Credentials>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn>
      <AssumedRoleId>AROA:s</AssumedRoleId>
    </AssumedRoleUser>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>"#;

#[test]
fn reads_the_credentials_in_any_order() {
    let c = parse_assume_role_answer(200, MOTO_ANSWER.as_bytes(), NOW, &[]).unwrap();
    assert_eq!(c.access_key_id, "ASIAMOTO");
    assert_eq!(c.secret_access_key, "s3cr3t/K+ey");
    assert_eq!(c.session_token.as_deref(), Some("FQoGZXIvYXdzEBYaD"));
    assert_eq!(c.expires_at, Some(NOW + 900));
}

#[test]
fn reasons_never_quote_the_answers_credentials() {
    for (from, to) in [
        (
            "<SecretAccessKey>s3cr3t/K+ey</SecretAccessKey>",
            "<SecretAccessKey>s3cr3t K+ey</SecretAccessKey>",
        ),
        (
            "<SessionToken>FQoGZXIvYXdzEBYaD</SessionToken>",
            "<SessionToken></SessionToken>",
        ),
        ("<AccessKeyId>ASIAMOTO</AccessKeyId>", ""),
    ] {
        let body = MOTO_ANSWER.replace(from, to);
        let reason = parse_assume_role_answer(200, body.as_bytes(), NOW, &[]).unwrap_err();
        for secret in ["s3cr3t", "FQoGZXIvYXdzEBYaD"] {
            assert!(!reason.contains(secret), "{reason}");
        }
    }
    // An error status over a credentials document: not quoted either.
    let reason = parse_assume_role_answer(500, MOTO_ANSWER.as_bytes(), NOW, &[]).unwrap_err();
    assert!(!reason.contains("s3cr3t"), "{reason}");
}

#[test]
fn quoted_text_is_one_line_without_hidden_strings() {
    assert_eq!(quoted("  a\nb ", 10, &[]), "a");
    assert_eq!(quoted("xSECRETx", 20, &["SECRET", ""]), "x<redacted>x");
    assert_eq!(quoted("ééé", 2, &[]), "éé...");
    // A secret found inside the replacement is not replaced again (nor forever).
    assert_eq!(quoted("ad", 30, &["d"]), "a<redacted>");
    assert_eq!(quoted("éxé", 30, &["é"]), "<redacted>x<redacted>");
    assert_eq!(quoted("a\u{0}b\u{1b}c", 10, &[]), "abc");
    // Control characters inside a secret: dropped first, so the secret is found whole.
    assert_eq!(
        quoted("xSEC\u{12}\u{12}RETx", 30, &["SECRET"]),
        "x<redacted>x"
    );
}

#[test]
fn moto_s_error_document_with_errors_around_the_error_is_read_too() {
    let body = br#"<?xml version="1.0" encoding="utf-8"?>
<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><Type>Sender</Type></Error></Errors></ErrorResponse>"#;
    assert_eq!(
        parse_assume_role_answer(403, body, NOW, &[]).unwrap_err(),
        "STS refused (HTTP 403): SignatureDoesNotMatch: The request signature we calculated \
         does not match the signature you provided."
    );
}
