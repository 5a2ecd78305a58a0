//! Maps a caller's request onto a signed Lambda Invoke call. Everything fixed by the
//! configuration (path, host, canonical URI and query) is computed once; per request only the
//! date, the body hash and the signature are.

use crate::config::FilterConfig;
use crate::credentials::Credentials;
use crate::sigv4::{self, canonical, encode::uri_encode, SigningKeyCache};
use sha2::{Digest, Sha256};

const SERVICE: &str = "lambda";

/// The Invoke call for one configured function.
#[derive(Debug, Clone)]
pub struct InvokeTarget {
    /// `:path` on the wire: `/2015-03-31/functions/<encoded ARN>/invocations[?Qualifier=..]`.
    pub path: String,
    pub host: String,
    pub region: String,
    pub invocation_type: &'static str,
    /// `POST\n<canonical URI>\n<canonical query>\nhost:<host>\n`.
    canonical_prefix: String,
}

/// Headers to set on the outgoing request, in order.
pub type HeaderSet = Vec<(&'static str, String)>;

impl InvokeTarget {
    pub fn new(config: &FilterConfig) -> Self {
        let mut path = format!(
            "/2015-03-31/functions/{}/invocations",
            uri_encode(&config.arn.function_arn)
        );
        let query = config
            .qualifier
            .as_deref()
            .map(|q| format!("Qualifier={}", uri_encode(q)))
            .unwrap_or_default();
        let canonical_prefix = format!(
            "POST\n{}\n{}\nhost:{}\n",
            canonical::canonical_uri(&path, false),
            canonical::canonical_query(&query),
            config.host
        );
        if !query.is_empty() {
            path.push('?');
            path.push_str(&query);
        }
        Self {
            path,
            host: config.host.clone(),
            region: config.arn.region.clone(),
            invocation_type: config.invocation_mode.invocation_type(),
            canonical_prefix,
        }
    }

    /// The signed request headers for `body`, sent at `unix_seconds` (the method, POST, is
    /// the caller's to set: most requests already are).
    pub fn sign(
        &self,
        credentials: &Credentials,
        keys: &mut SigningKeyCache,
        unix_seconds: u64,
        body: &[u8],
    ) -> HeaderSet {
        let amz_date = sigv4::date::amz_date(unix_seconds);
        let payload_hash = sigv4::hex(&Sha256::digest(body));
        let (canonical_request, signed_headers) = self.canonical_request(
            &amz_date,
            credentials.session_token.as_deref(),
            &payload_hash,
        );
        let scope = sigv4::credential_scope(&amz_date, &self.region, SERVICE);
        let string_to_sign = sigv4::string_to_sign(&amz_date, &scope, canonical_request.as_bytes());
        let key = keys.key(
            &credentials.secret_access_key,
            unix_seconds,
            &self.region,
            SERVICE,
        );
        let signature = sigv4::signature(key, &string_to_sign);
        let authorization = sigv4::authorization(
            &credentials.access_key_id,
            &scope,
            signed_headers,
            &signature,
        );

        let mut headers: HeaderSet = vec![
            (":path", self.path.clone()),
            (":authority", self.host.clone()),
            ("x-amz-invocation-type", self.invocation_type.to_owned()),
            ("x-amz-date", amz_date),
            ("x-amz-content-sha256", payload_hash),
        ];
        if let Some(token) = &credentials.session_token {
            headers.push(("x-amz-security-token", token.clone()));
        }
        headers.push(("authorization", authorization));
        headers
    }

    /// The canonical request over the signed set: host, the body hash, x-amz-date, the invocation
    /// type and the session token. Headers a later hop may rewrite (user-agent, accept,
    /// content-type) stay unsigned. Sending the body hash as `x-amz-content-sha256` too lets a
    /// verifier check the body without recomputing it.
    fn canonical_request(
        &self,
        amz_date: &str,
        session_token: Option<&str>,
        payload_hash: &str,
    ) -> (String, &'static str) {
        let mut creq = String::with_capacity(self.canonical_prefix.len() + 256);
        creq.push_str(&self.canonical_prefix);
        creq.push_str("x-amz-content-sha256:");
        creq.push_str(payload_hash);
        creq.push_str("\nx-amz-date:");
        creq.push_str(amz_date);
        creq.push_str("\nx-amz-invocation-type:");
        creq.push_str(self.invocation_type);
        creq.push('\n');
        let signed_headers = match session_token {
            Some(token) => {
                creq.push_str("x-amz-security-token:");
                creq.push_str(&canonical::canonical_header_value(token));
                creq.push('\n');
                "host;x-amz-content-sha256;x-amz-date;x-amz-invocation-type;x-amz-security-token"
            }
            None => "host;x-amz-content-sha256;x-amz-date;x-amz-invocation-type",
        };
        creq.push('\n');
        creq.push_str(signed_headers);
        creq.push('\n');
        creq.push_str(payload_hash);
        (creq, signed_headers)
    }
}

/// Client headers that must not reach AWS: its own `authorization` and any `x-amz-*` (a
/// client-chosen date, token, invocation type or client context would change what is invoked
/// or break the signature).
pub fn must_strip(lower_case_name: &str) -> bool {
    lower_case_name == "authorization" || lower_case_name.starts_with("x-amz-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_config;

    fn target(extra: &str) -> InvokeTarget {
        let json = format!(
            r#"{{"arn":"arn:aws:lambda:us-east-1:123456789012:function:authentication"{extra}}}"#
        );
        InvokeTarget::new(&parse_config(json.as_bytes()).unwrap())
    }

    fn creds(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(str::to_owned),
            expires_at: None,
        }
    }

    fn header<'a>(headers: &'a HeaderSet, name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn path_encodes_the_arn_and_qualifier() {
        assert_eq!(
            target("").path,
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aauthentication/invocations"
        );
        assert!(target(r#","qualifier":"$LATEST""#)
            .path
            .ends_with("/invocations?Qualifier=%24LATEST"));
    }

    /// The hot-path canonical request equals the general one over the same headers.
    #[test]
    fn hot_path_matches_the_general_canonical_request() {
        for (extra, token) in [
            ("", None),
            (
                r#","qualifier":"live","invocation_mode":"dry_run""#,
                Some("  tok  en "),
            ),
        ] {
            let t = target(extra);
            let amz_date = "20150830T123600Z";
            let (fast, fast_signed) = t.canonical_request(amz_date, token, "abc");
            let (wire_path, wire_query) = t.path.split_once('?').unwrap_or((t.path.as_str(), ""));
            let mut headers = vec![
                ("host", t.host.as_str()),
                ("x-amz-content-sha256", "abc"),
                ("x-amz-date", amz_date),
                ("x-amz-invocation-type", t.invocation_type),
            ];
            if let Some(tok) = token {
                headers.push(("x-amz-security-token", tok));
            }
            let (general, general_signed) = canonical::canonical_request(
                "POST",
                &canonical::canonical_uri(wire_path, false),
                &canonical::canonical_query(wire_query),
                &headers,
                "abc",
            );
            assert_eq!(fast, general);
            assert_eq!(fast_signed, general_signed);
        }
    }

    #[test]
    fn signs_with_token_and_sets_every_header() {
        let t = target("");
        let mut keys = SigningKeyCache::default();
        let h = t.sign(&creds(Some("TOKEN")), &mut keys, 1_440_938_160, b"{}");
        assert_eq!(header(&h, ":path"), Some(t.path.as_str()));
        assert_eq!(
            header(&h, ":authority"),
            Some("lambda.us-east-1.amazonaws.com")
        );
        assert_eq!(header(&h, "x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(header(&h, "x-amz-invocation-type"), Some("RequestResponse"));
        assert_eq!(header(&h, "x-amz-security-token"), Some("TOKEN"));
        let auth = header(&h, "authorization").unwrap();
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-invocation-type;x-amz-security-token, Signature="
        ), "{auth}");
        let without = t.sign(&creds(None), &mut keys, 1_440_938_160, b"{}");
        assert_eq!(header(&without, "x-amz-security-token"), None);
        // A different body gives a different signature.
        let other = t.sign(&creds(None), &mut keys, 1_440_938_160, b"{ }");
        assert_ne!(
            header(&without, "authorization"),
            header(&other, "authorization")
        );
    }

    #[test]
    fn strips_client_auth_and_amz_headers() {
        for name in [
            "authorization",
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-target",
        ] {
            assert!(must_strip(name), "{name}");
        }
        for name in ["content-type", "x-amzn-trace-id", "user-agent", "host"] {
            assert!(!must_strip(name), "{name}");
        }
    }
}
