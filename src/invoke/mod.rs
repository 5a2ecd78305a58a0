//! Maps a caller's request onto a signed Lambda Invoke call. Everything fixed by the
//! configuration (path, host, canonical URI and query) is computed once; per request only the
//! date, the body hash and the signature are.

use crate::config::FilterConfig;
use crate::credentials::Credentials;
use crate::sigv4::{self, canonical, encode::uri_encode, SigningKeyCache};
use sha2::{Digest, Sha256};

const SERVICE: &str = "lambda";

/// The Invoke call for one configured function.
#[derive(Clone)]
pub struct InvokeTarget {
    /// `:path` on the wire: `/2015-03-31/functions/<encoded ARN>/invocations[?Qualifier=..]`.
    pub path: String,
    pub host: String,
    pub region: String,
    pub invocation_type: &'static str,
    /// The SHA-256 state after hashing the part of every canonical request fixed by the
    /// configuration (`POST\n<canonical URI>\n<canonical query>\nhost:<host>\n
    /// x-amz-content-sha256:`), cloned for each request.
    prefix_state: Sha256,
    /// That part as text, for the tests.
    #[cfg(test)]
    canonical_prefix: String,
    /// `/<region>/lambda/aws4_request\n`: the credential scope after its date.
    scope_suffix: String,
}

/// What signing computes for one request; the other headers are fixed (`headers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub amz_date: String,
    pub content_sha256: String,
    pub authorization: String,
}

const SIGNED_HEADERS: &str = "host;x-amz-content-sha256;x-amz-date;x-amz-invocation-type";
const SIGNED_HEADERS_WITH_TOKEN: &str =
    "host;x-amz-content-sha256;x-amz-date;x-amz-invocation-type;x-amz-security-token";

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
            "POST\n{}\n{}\nhost:{}\nx-amz-content-sha256:",
            canonical::canonical_uri(&path, false),
            canonical::canonical_query(&query),
            config.host
        );
        if !query.is_empty() {
            path.push('?');
            path.push_str(&query);
        }
        let mut prefix_state = Sha256::new();
        prefix_state.update(canonical_prefix.as_bytes());
        Self {
            path,
            host: config.host.clone(),
            region: config.arn.region.clone(),
            invocation_type: config.invocation_mode.invocation_type(),
            scope_suffix: format!("/{}/{SERVICE}/aws4_request\n", config.arn.region),
            prefix_state,
            #[cfg(test)]
            canonical_prefix,
        }
    }

    /// Signs `body`, sent at `unix_seconds`. The signed headers are host, the body hash, the
    /// date, the invocation type and the session token; headers a later hop may rewrite
    /// (user-agent, accept, content-type) stay unsigned. Sending the body hash as
    /// `x-amz-content-sha256` too lets a verifier check the body without recomputing it.
    pub fn sign(
        &self,
        credentials: &Credentials,
        keys: &mut SigningKeyCache,
        unix_seconds: u64,
        body: &[u8],
    ) -> Signature {
        let amz_date = sigv4::date::amz_date(unix_seconds);
        let content_sha256 = sigv4::hex(&Sha256::digest(body));
        let token = credentials.session_token.as_deref().map(canonical_token);
        let token = token.as_deref();
        let signed_headers = if token.is_some() {
            SIGNED_HEADERS_WITH_TOKEN
        } else {
            SIGNED_HEADERS
        };

        // The canonical request, hashed as it is produced (after the precomputed prefix).
        let mut creq = self.prefix_state.clone();
        for part in self.canonical_request_tail(&amz_date, token, &content_sha256, signed_headers) {
            creq.update(part.as_bytes());
        }
        let creq_hash = sigv4::hex(&creq.finalize());

        // The string to sign goes straight into the cached HMAC.
        let day = amz_date.get(..8).unwrap_or_default();
        let string_to_sign: [&[u8]; 7] = [
            sigv4::ALGORITHM.as_bytes(),
            b"\n",
            amz_date.as_bytes(),
            b"\n",
            day.as_bytes(),
            self.scope_suffix.as_bytes(),
            creq_hash.as_bytes(),
        ];
        let secret = &credentials.secret_access_key;
        let signature = keys
            .hmac(secret, unix_seconds, &self.region, SERVICE)
            .map(|hmac| sigv4::hex(&hmac.mac(&string_to_sign)))
            .unwrap_or_default();

        let scope_suffix = self.scope_suffix.trim_end_matches('\n');
        let mut authorization = String::with_capacity(256);
        for part in [
            sigv4::ALGORITHM,
            " Credential=",
            &credentials.access_key_id,
            "/",
            day,
            scope_suffix,
            ", SignedHeaders=",
            signed_headers,
            ", Signature=",
            &signature,
        ] {
            authorization.push_str(part);
        }
        Signature {
            amz_date,
            content_sha256,
            authorization,
        }
    }

    /// Everything the filter sets on the outgoing request besides the method.
    pub fn headers<'a>(
        &'a self,
        signature: &'a Signature,
        session_token: Option<&'a str>,
    ) -> Vec<(&'static str, &'a str)> {
        let mut headers = vec![
            (":path", self.path.as_str()),
            (":authority", self.host.as_str()),
            ("x-amz-invocation-type", self.invocation_type),
            ("x-amz-date", signature.amz_date.as_str()),
            ("x-amz-content-sha256", signature.content_sha256.as_str()),
        ];
        if let Some(token) = session_token {
            headers.push(("x-amz-security-token", token));
        }
        headers.push(("authorization", signature.authorization.as_str()));
        headers
    }

    /// The canonical request after `canonical_prefix`, in pieces.
    fn canonical_request_tail<'a>(
        &self,
        amz_date: &'a str,
        session_token: Option<&'a str>,
        payload_hash: &'a str,
        signed_headers: &'static str,
    ) -> impl Iterator<Item = &'a str> {
        let token_lines = session_token.map(|t| ["x-amz-security-token:", t, "\n"]);
        [
            payload_hash,
            "\nx-amz-date:",
            amz_date,
            "\nx-amz-invocation-type:",
            self.invocation_type,
            "\n",
        ]
        .into_iter()
        .chain(token_lines.into_iter().flatten())
        .chain(["\n", signed_headers, "\n", payload_hash])
    }
}

/// The token as the canonical request holds it (tokens are base64: folding spaces is rare).
fn canonical_token(token: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = token.trim();
    if trimmed.contains(char::is_whitespace) {
        std::borrow::Cow::Owned(canonical::canonical_header_value(trimmed))
    } else {
        std::borrow::Cow::Borrowed(trimmed)
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

    const NOW: u64 = 1_440_938_160; // 20150830T123600Z

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

    fn header<'a>(headers: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
        headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The canonical request of the Invoke call, built the general way from what is sent.
    fn general_canonical_request(
        t: &InvokeTarget,
        sent: &[(&str, &str)],
        body: &[u8],
    ) -> (String, String) {
        let (wire_path, wire_query) = t.path.split_once('?').unwrap_or((t.path.as_str(), ""));
        let mut signed: Vec<(&str, &str)> = vec![("host", t.host.as_str())];
        for name in [
            "x-amz-content-sha256",
            "x-amz-date",
            "x-amz-invocation-type",
            "x-amz-security-token",
        ] {
            if let Some(v) = header(sent, name) {
                signed.push((name, v));
            }
        }
        canonical::canonical_request(
            "POST",
            &canonical::canonical_uri(wire_path, false),
            &canonical::canonical_query(wire_query),
            &signed,
            &sigv4::sha256_hex(body),
        )
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

    /// The hot path (precomputed hash state, cached HMAC) signs exactly what the general
    /// canonical request and aws-sigv4's own HMAC give.
    #[test]
    fn hot_path_matches_the_general_signer() {
        let cases = [
            ("", None, &b""[..]),
            ("", Some("TOKEN"), &b"{\"a\":1}"[..]),
            (
                r#","qualifier":"live","invocation_mode":"dry_run""#,
                Some("  tok  en "),
                &[0u8; 1000][..],
            ),
            (
                r#","host_rewrite":"lambda.example.test","invocation_mode":"asynchronous""#,
                None,
                b"x",
            ),
        ];
        for (extra, token, body) in cases {
            let t = target(extra);
            let c = creds(token);
            let sig = t.sign(&c, &mut SigningKeyCache::default(), NOW, body);
            let sent = t.headers(&sig, c.session_token.as_deref());
            let (creq, signed_headers) = general_canonical_request(&t, &sent, body);
            // The fast path hashes prefix + tail; as text they are the general form.
            let token = c.session_token.as_deref().map(canonical_token);
            let tail: String = t
                .canonical_request_tail(
                    &sig.amz_date,
                    token.as_deref(),
                    &sig.content_sha256,
                    if token.is_some() {
                        SIGNED_HEADERS_WITH_TOKEN
                    } else {
                        SIGNED_HEADERS
                    },
                )
                .collect();
            assert_eq!(format!("{}{tail}", t.canonical_prefix), creq);

            let scope = sigv4::credential_scope(&sig.amz_date, &t.region, SERVICE);
            let sts = sigv4::string_to_sign(&sig.amz_date, &scope, creq.as_bytes());
            let key = SigningKeyCache::default()
                .key(&c.secret_access_key, NOW, &t.region, SERVICE)
                .to_vec();
            let expected = sigv4::authorization(
                &c.access_key_id,
                &scope,
                &signed_headers,
                &sigv4::signature(&key, &sts),
            );
            assert_eq!(sig.authorization, expected, "{extra} {token:?}");
        }
    }

    #[test]
    fn signs_with_token_and_sets_every_header() {
        let t = target("");
        let mut keys = SigningKeyCache::default();
        let c = creds(Some("TOKEN"));
        let sig = t.sign(&c, &mut keys, NOW, b"{}");
        let h = t.headers(&sig, c.session_token.as_deref());
        assert_eq!(header(&h, ":path"), Some(t.path.as_str()));
        assert_eq!(
            header(&h, ":authority"),
            Some("lambda.us-east-1.amazonaws.com")
        );
        assert_eq!(header(&h, "x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(header(&h, "x-amz-invocation-type"), Some("RequestResponse"));
        assert_eq!(header(&h, "x-amz-security-token"), Some("TOKEN"));
        assert_eq!(
            header(&h, "x-amz-content-sha256"),
            Some(sigv4::sha256_hex(b"{}").as_str())
        );
        let auth = header(&h, "authorization").unwrap();
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-invocation-type;x-amz-security-token, Signature="
        ), "{auth}");
        let without = t.sign(&creds(None), &mut keys, NOW, b"{}");
        assert_eq!(
            header(&t.headers(&without, None), "x-amz-security-token"),
            None
        );
        // A different body gives a different signature.
        let other = t.sign(&creds(None), &mut keys, NOW, b"{ }");
        assert_ne!(without.authorization, other.authorization);
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
