//! SigV4 for one shape of request: a form POST to `/` (the Query API of STS), signing
//! `content-type`, `host`, `x-amz-date` and, with session credentials, `x-amz-security-token`.
//!
//! `general` signs any request, but its canonicalization (header sorting and folding, path
//! normalization, query parsing) made the .wasm 6,655 bytes larger than this fixed shape does:
//! the canonical request is one `format!`, in the order SigV4 sorts these names. Tests check
//! it against `general` and against botocore's signature of an `AssumeRole` call.

use super::date::amz_date;
use super::general::sha256_hex;
use super::key::{signing_key, ClockOutOfRange};
use super::{hex_digest, ALGORITHM};
use crate::access_keys::Credentials;
use mesh_lambda_sha256::KeyedHmac;

/// What to send besides the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPost {
    /// `x-amz-date`, then `x-amz-security-token` when the credentials have one.
    pub headers: Vec<(&'static str, String)>,
    pub authorization: String,
}

/// Signs `POST /` to `host` with `body` of `content_type`, at `unix_seconds` (refused past
/// the year 9999).
pub fn sign_form_post(
    credentials: &Credentials,
    region: &str,
    service: &str,
    host: &str,
    content_type: &str,
    body: &[u8],
    unix_seconds: u64,
) -> Result<SignedPost, ClockOutOfRange> {
    let key = signing_key(
        &credentials.secret_access_key,
        unix_seconds,
        region,
        service,
    )?;
    let date = amz_date(unix_seconds);
    let day = date.get(..8).unwrap_or(&date);
    let mut headers = vec![("x-amz-date", date.clone())];
    let mut signed_headers = "content-type;host;x-amz-date".to_owned();
    let mut canonical_headers =
        format!("content-type:{content_type}\nhost:{host}\nx-amz-date:{date}\n");
    if let Some(token) = &credentials.session_token {
        signed_headers.push_str(";x-amz-security-token");
        canonical_headers.push_str(&format!("x-amz-security-token:{token}\n"));
        headers.push(("x-amz-security-token", token.clone()));
    }
    let canonical_request = format!(
        "POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}",
        sha256_hex(body)
    );
    let scope = format!("{day}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let mac = KeyedHmac::new(key.as_ref()).mac(&[string_to_sign.as_bytes()]);
    let signature: String = hex_digest(&mac).iter().map(|&b| char::from(b)).collect();
    Ok(SignedPost {
        headers,
        authorization: format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, \
             Signature={signature}",
            credentials.access_key_id
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::general::{Payload, Request, Signer};

    fn credentials(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(str::to_owned),
            expires_at: None,
        }
    }

    #[test]
    fn signs_as_the_general_signer_does() {
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        for (token, region, host, body, unix) in [
            (
                None,
                "us-east-1",
                "sts.us-east-1.amazonaws.com",
                &b"Action=AssumeRole"[..],
                1_440_938_160,
            ),
            (
                Some("IQoJb3JpZ2luX2VjE/+=="),
                "eu-west-3",
                "sts.eu-west-3.amazonaws.com",
                b"",
                0,
            ),
            (
                Some("T"),
                "cn-north-1",
                "127.0.0.1:4566",
                b"a=%2F&b=c",
                4_102_444_799,
            ),
        ] {
            let c = credentials(token);
            let ours = sign_form_post(&c, region, "sts", host, content_type, body, unix).unwrap();
            let general = Signer {
                credentials: &c,
                region,
                service: "sts",
                unix_seconds: unix,
                normalize_path: true,
            }
            .sign(&Request {
                method: "POST",
                wire_path: "/",
                wire_query: "",
                headers: &[("content-type", content_type), ("host", host)],
                payload: Payload::Body(body),
            });
            assert_eq!(ours.authorization, general.authorization, "{host}");
            assert_eq!(ours.headers, general.headers, "{host}");
        }
    }

    /// A clock past the year 9999 is refused (aws-sigv4, which derives the key, cannot write
    /// such a date); the last second of 9999 signs as the general signer does.
    #[test]
    fn a_clock_past_the_year_9999_is_refused() {
        let c = credentials(Some("T"));
        let sign = |unix| sign_form_post(&c, "us-east-1", "sts", "h", "text/plain", b"", unix);
        let last = crate::sigv4::key::LAST_SIGNABLE_SECOND;
        let general = Signer {
            credentials: &c,
            region: "us-east-1",
            service: "sts",
            unix_seconds: last,
            normalize_path: true,
        }
        .sign(&Request {
            method: "POST",
            wire_path: "/",
            wire_query: "",
            headers: &[("content-type", "text/plain"), ("host", "h")],
            payload: Payload::Body(b""),
        });
        assert_eq!(sign(last).unwrap().authorization, general.authorization);
        for unix_seconds in [last + 1, u64::MAX] {
            assert_eq!(sign(unix_seconds), Err(ClockOutOfRange { unix_seconds }));
        }
    }
}
