//! Signs Invoke calls (SigV4), hashing once per second what every request of that second has
//! in common.
//!
//! The signed headers are `host`, `x-amz-date`, `x-amz-invocation-type` and the session token,
//! and when a call carries them the caller's identity (`x-amz-client-context`) and tenant id
//! (`x-amz-tenant-id`): these are part of the per-second state, kept per target and identity
//! (the same for every request of a configured caller);
//! headers a later hop may rewrite (user-agent, accept, content-type) stay unsigned. For one
//! second and one set of credentials, every canonical request is the same text up to its last
//! line, the body's hash; and every string to sign is the same up to the canonical request's
//! hash. So both are hashed once per second (the HMAC's inner hash absorbs the string to
//! sign's prefix), and a request hashes only its body, 64 more bytes of canonical request and
//! 64 of string to sign. The session token (about 1 KB from STS) is in the per-second part.
//! That is also why the body hash is not sent as a signed `x-amz-content-sha256` header: it
//! would sort before `x-amz-date` and the token and make them per-request work. Lambda does
//! not use that header (the AWS SDKs do not send it to Lambda); the payload hash is still the
//! canonical request's last line, so the body is signed.

use super::client_context::HEADER as CLIENT_CONTEXT;
use super::{Identity, InvokeTarget, SERVICE, TENANT_ID_HEADER};
use crate::access_keys::Credentials;
use crate::local_reply::LocalReply;
use crate::recent::Recent;
use crate::sigv4::{self, canonical, ClockOutOfRange, SigningKeyCache};
use mesh_lambda_sha256::{digest, KeyedHmac, Sha256};
use std::borrow::Cow;
use std::rc::Rc;

/// The SHA-256 of an empty body.
const EMPTY_BODY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// What signing computes for one request; the other headers are fixed (`InvokeTarget::headers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub amz_date: String,
    pub authorization: String,
    /// `x-amz-content-sha256`, sent (and signed) only for an empty body: moto's signature check
    /// hashes an empty body wrongly (botocore's own signature of an empty Invoke fails there
    /// too) unless the hash is given as a signed header. Empty bodies are rare and their whole
    /// signature is cached per second, so this costs the hot path nothing.
    pub content_sha256: Option<&'static str>,
}

/// One VM's signing state: the signing keys (per UTC day, region and service) and, per
/// target, the current second's hash states. Several functions may share a VM: each target
/// keeps its own state, found by what it signs (`InvokeTarget::signing_id`), so that no
/// request is signed with another target's.
#[derive(Default)]
pub struct SigningCache {
    keys: SigningKeyCache,
    seconds: Recent<PerSecond>,
}

/// Everything about signing that is the same for one target, identity, second and set of
/// credentials.
struct PerSecond {
    /// The target it signs for (`InvokeTarget::signing_id`).
    target: u128,
    /// The identity it signs (`Identity`'s values).
    client_context: Option<String>,
    tenant_id: Option<String>,
    unix_seconds: u64,
    credentials: Rc<Credentials>,
    amz_date: String,
    /// The HMAC with the string to sign absorbed up to the canonical request's hash.
    string_to_sign: KeyedHmac,
    /// For a body: the canonical request up to the payload hash.
    with_body: CanonicalStart,
    /// For an empty body: the whole Authorization, made on first use.
    empty_body: Option<String>,
}

/// A canonical request hashed up to (not including) its last line, the payload hash, and the
/// Authorization value up to the signature.
struct CanonicalStart {
    canonical_request: Sha256,
    /// `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=`.
    authorization_prefix: String,
}

impl SigningCache {
    /// Signs the Invoke call of `target` carrying `body`, sent at `unix_seconds` (refused
    /// past the year 9999).
    pub fn sign(
        &mut self,
        target: &InvokeTarget,
        identity: &Identity,
        credentials: &Rc<Credentials>,
        unix_seconds: u64,
        body: &[u8],
    ) -> Result<Signature, ClockOutOfRange> {
        if body.is_empty() {
            let second = self.second_for(target, identity, credentials, unix_seconds)?;
            let PerSecond {
                credentials,
                amz_date,
                string_to_sign,
                empty_body,
                ..
            } = second;
            let authorization = empty_body.get_or_insert_with(|| {
                let with = Signed {
                    identity,
                    amz_date,
                    content_sha256: Some(EMPTY_BODY_SHA256),
                };
                CanonicalStart::new(target, credentials, &with)
                    .authorization(string_to_sign, EMPTY_BODY_SHA256.as_bytes())
            });
            return Ok(Signature {
                amz_date: amz_date.clone(),
                authorization: authorization.clone(),
                content_sha256: Some(EMPTY_BODY_SHA256),
            });
        }
        let payload_hash = sigv4::hex_digest(&digest(body));
        self.sign_hashed(target, identity, credentials, unix_seconds, &payload_hash)
    }

    /// Signs the Invoke call of `target` carrying a non-empty body whose SHA-256 (hex) is
    /// `payload_hash` (computed as the body arrived, for passthrough).
    pub fn sign_hashed(
        &mut self,
        target: &InvokeTarget,
        identity: &Identity,
        credentials: &Rc<Credentials>,
        unix_seconds: u64,
        payload_hash: &[u8; 64],
    ) -> Result<Signature, ClockOutOfRange> {
        let second = self.second_for(target, identity, credentials, unix_seconds)?;
        Ok(Signature {
            amz_date: second.amz_date.clone(),
            authorization: second
                .with_body
                .authorization(&second.string_to_sign, payload_hash),
            content_sha256: None,
        })
    }

    /// The state for this target, identity, second and these credentials: the cached one, or
    /// a new one.
    fn second_for(
        &mut self,
        target: &InvokeTarget,
        identity: &Identity,
        credentials: &Rc<Credentials>,
        unix_seconds: u64,
    ) -> Result<&mut PerSecond, ClockOutOfRange> {
        let id = target.signing_id();
        let slot = self.seconds.slot(|s| {
            s.target == id
                && s.client_context.as_deref() == identity.client_context
                && s.tenant_id.as_deref() == identity.tenant_id
        });
        // Same allocation: no comparison. Equal but re-read from shared data: keep the new
        // allocation so the next request takes the quick way. (Checked in place: the state is
        // a few hundred bytes, not worth moving per request.)
        let current = slot.as_ref().is_some_and(|s| {
            s.unix_seconds == unix_seconds
                && (Rc::ptr_eq(&s.credentials, credentials) || s.credentials == *credentials)
        });
        if !current {
            *slot = None;
        }
        let second = match slot {
            Some(second) => second,
            None => slot.insert(PerSecond::new(
                target,
                identity,
                credentials,
                &mut self.keys,
                unix_seconds,
            )?),
        };
        if !Rc::ptr_eq(&second.credentials, credentials) {
            second.credentials = Rc::clone(credentials);
        }
        Ok(second)
    }
}

impl PerSecond {
    fn new(
        target: &InvokeTarget,
        identity: &Identity,
        credentials: &Rc<Credentials>,
        keys: &mut SigningKeyCache,
        unix_seconds: u64,
    ) -> Result<Self, ClockOutOfRange> {
        let key = keys.hmac(
            &credentials.secret_access_key,
            unix_seconds,
            &target.region,
            SERVICE,
        )?;
        let amz_date = sigv4::date::amz_date(unix_seconds);
        let day = amz_date.get(..8).unwrap_or_default();
        let string_to_sign = key.absorb(&[
            sigv4::ALGORITHM.as_bytes(),
            b"\n",
            amz_date.as_bytes(),
            b"\n",
            day.as_bytes(),
            target.scope_suffix.as_bytes(),
            b"\n",
        ]);
        let with_body = Signed {
            identity,
            amz_date: &amz_date,
            content_sha256: None,
        };
        Ok(Self {
            target: target.signing_id(),
            client_context: identity.client_context.map(str::to_owned),
            tenant_id: identity.tenant_id.map(str::to_owned),
            unix_seconds,
            with_body: CanonicalStart::new(target, credentials, &with_body),
            credentials: Rc::clone(credentials),
            amz_date,
            string_to_sign,
            empty_body: None,
        })
    }
}

/// What a canonical request signs beside the target and the credentials.
struct Signed<'a> {
    identity: &'a Identity<'a>,
    amz_date: &'a str,
    /// Sent and signed as `x-amz-content-sha256` (empty bodies only).
    content_sha256: Option<&'a str>,
}

impl CanonicalStart {
    fn new(target: &InvokeTarget, credentials: &Credentials, signed: &Signed) -> Self {
        let Signed {
            identity,
            amz_date,
            content_sha256,
        } = *signed;
        let token = credentials.session_token.as_deref().map(canonical_token);
        // In SigV4's order (names sorted); `host` is in the target's prefix. Every value is
        // signed as it is sent: base64, a checked tenant id (no spaces at its ends, none
        // doubled), hex, the date, the invocation type; only the token is folded.
        let headers = [
            (CLIENT_CONTEXT, identity.client_context),
            ("x-amz-content-sha256", content_sha256),
            ("x-amz-date", Some(amz_date)),
            ("x-amz-invocation-type", Some(target.invocation_type)),
            ("x-amz-security-token", token.as_deref()),
            (TENANT_ID_HEADER, identity.tenant_id),
        ];
        let mut signed_headers = String::from("host");
        let mut canonical_request = target.canonical_prefix.clone();
        for (name, value) in headers {
            if let Some(value) = value {
                signed_headers.push(';');
                signed_headers.push_str(name);
                for part in [name, ":", value, "\n"] {
                    canonical_request.update(part.as_bytes());
                }
            }
        }
        for part in ["\n", &signed_headers, "\n"] {
            canonical_request.update(part.as_bytes());
        }

        let day = amz_date.get(..8).unwrap_or_default();
        let authorization_prefix = [
            sigv4::ALGORITHM,
            " Credential=",
            &credentials.access_key_id,
            "/",
            day,
            &target.scope_suffix,
            ", SignedHeaders=",
            &signed_headers,
            ", Signature=",
        ]
        .concat();
        Self {
            canonical_request,
            authorization_prefix,
        }
    }

    /// The Authorization of the request whose body hashes to `payload_hash` (hex).
    fn authorization(&self, string_to_sign: &KeyedHmac, payload_hash: &[u8]) -> String {
        let canonical_request = self.canonical_request.digest_with(payload_hash);
        let canonical_request_hash = sigv4::hex_digest(&canonical_request);
        let signature = sigv4::hex_digest(&string_to_sign.mac(&[&canonical_request_hash]));
        let mut authorization =
            String::with_capacity(self.authorization_prefix.len() + signature.len());
        authorization.push_str(&self.authorization_prefix);
        // Hex digits: always UTF-8.
        authorization.push_str(std::str::from_utf8(&signature).unwrap_or_default());
        authorization
    }
}

/// A clock past the year 9999: the filter's 500, nothing sent.
impl From<ClockOutOfRange> for LocalReply {
    fn from(refused: ClockOutOfRange) -> Self {
        LocalReply::internal(&format!("cannot sign the Invoke call: {refused}"))
    }
}

/// The token as the canonical request holds it (tokens are base64: folding spaces is rare).
fn canonical_token(token: &str) -> Cow<'_, str> {
    let trimmed = token.trim();
    if trimmed.contains(char::is_whitespace) {
        Cow::Owned(canonical::canonical_header_value(trimmed))
    } else {
        Cow::Borrowed(trimmed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::target;
    use super::*;
    use crate::sigv4::general;

    const NOW: u64 = 1_440_938_160; // 20150830T123600Z

    fn creds(key_id: &str, token: Option<&str>) -> Rc<Credentials> {
        Rc::new(Credentials {
            access_key_id: key_id.into(),
            secret_access_key: format!("secret-of-{key_id}"),
            session_token: token.map(str::to_owned),
            expires_at: None,
        })
    }

    fn header<'a>(headers: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
        headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The Authorization the general signer (`sigv4::general`, checked against the AWS test
    /// vectors) gives for what the filter sends; the date and token it would send must be
    /// the ones the filter sends.
    fn expected_authorization(
        t: &InvokeTarget,
        c: &Credentials,
        sent: &[(&str, &str)],
        unix_seconds: u64,
        body: &[u8],
    ) -> String {
        let (wire_path, wire_query) = t.path.split_once('?').unwrap_or((t.path.as_str(), ""));
        let mut signed: Vec<(&str, &str)> = vec![("host", t.host.as_str())];
        for name in [
            CLIENT_CONTEXT,
            "x-amz-content-sha256",
            "x-amz-invocation-type",
            TENANT_ID_HEADER,
        ] {
            if let Some(v) = header(sent, name) {
                signed.push((name, v));
            }
        }
        let general = general::Signer {
            credentials: c,
            region: &t.region,
            service: SERVICE,
            unix_seconds,
            normalize_path: false,
        }
        .sign(&general::Request {
            method: "POST",
            wire_path,
            wire_query,
            headers: &signed,
            payload: general::Payload::Body(body),
        });
        for (name, value) in &general.headers {
            assert_eq!(header(sent, name), Some(value.as_str()), "{name}");
        }
        assert_eq!(
            header(sent, "x-amz-security-token"),
            c.session_token.as_deref()
        );
        general.authorization
    }

    fn check(
        cache: &mut SigningCache,
        t: &InvokeTarget,
        c: &Rc<Credentials>,
        unix_seconds: u64,
        body: &[u8],
    ) -> Signature {
        check_with(cache, t, &Identity::NONE, c, unix_seconds, body)
    }

    /// `check` for a call carrying `identity`: the headers sent carry it, and the general
    /// signer, given them, signs the same.
    fn check_with(
        cache: &mut SigningCache,
        t: &InvokeTarget,
        identity: &Identity,
        c: &Rc<Credentials>,
        unix_seconds: u64,
        body: &[u8],
    ) -> Signature {
        let sig = cache.sign(t, identity, c, unix_seconds, body).unwrap();
        let sent = t.headers(&sig, c.session_token.as_deref(), identity);
        assert_eq!(header(&sent, CLIENT_CONTEXT), identity.client_context);
        assert_eq!(header(&sent, TENANT_ID_HEADER), identity.tenant_id);
        assert_eq!(
            sig.authorization,
            expected_authorization(t, c, &sent, unix_seconds, body)
        );
        sig
    }

    /// The hot path (per-second hash states, cached HMAC) signs exactly what the general
    /// signer gives.
    #[test]
    fn matches_the_general_signer() {
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
            check(
                &mut SigningCache::default(),
                &t,
                &creds("AKIDEXAMPLE", token),
                NOW,
                body,
            );
        }
    }

    /// Found by fuzzing (`request_flow`): a clock past the year 9999 panicked in the hot
    /// path. The last second of 9999 signs as the general signer does; any later one is
    /// refused (aws-sigv4 derives the key and cannot write such a date), with and without a
    /// body, and the caller gets the filter's 500 saying why.
    #[test]
    fn a_clock_past_the_year_9999_is_refused() {
        let t = target("");
        let c = creds("AKIDEXAMPLE", Some("TOKEN"));
        let mut cache = SigningCache::default();
        check(&mut cache, &t, &c, 253_402_300_799, b"{}");
        for unix_seconds in [253_402_300_800, 1 << 40, u64::MAX] {
            let refused = ClockOutOfRange { unix_seconds };
            assert_eq!(
                cache.sign(&t, &Identity::NONE, &c, unix_seconds, b"{}"),
                Err(refused)
            );
            assert_eq!(
                cache.sign(&t, &Identity::NONE, &c, unix_seconds, b""),
                Err(refused)
            );
            let reply = LocalReply::from(refused);
            assert_eq!((reply.status, reply.code.as_str()), (500, "InternalError"));
            assert!(
                reply
                    .message
                    .starts_with("cannot sign the Invoke call: the clock reads"),
                "{}",
                reply.message
            );
        }
        check(&mut cache, &t, &c, NOW, b"{}");
    }

    /// One cache across bodies, seconds, days and credentials: each signature is still the
    /// general signer's, so nothing stale is reused.
    #[test]
    fn the_cache_never_signs_with_stale_state() {
        let t = target("");
        let mut cache = SigningCache::default();
        let first = creds("AKID1", None);
        let with_token = creds("AKID2", Some("TOKEN-A"));
        let a = check(&mut cache, &t, &first, NOW, b"{}");
        let b = check(&mut cache, &t, &first, NOW, b"{ }");
        assert_ne!(a.authorization, b.authorization, "the body is signed");
        check(&mut cache, &t, &first, NOW + 1, b"{}");
        check(&mut cache, &t, &with_token, NOW + 1, b"{}");
        // Re-read from shared data: equal credentials in a new allocation.
        check(
            &mut cache,
            &t,
            &creds("AKID2", Some("TOKEN-A")),
            NOW + 1,
            b"{}",
        );
        // Same key id, a new token in the same second.
        check(
            &mut cache,
            &t,
            &creds("AKID2", Some("TOKEN-B")),
            NOW + 1,
            b"{}",
        );
        check(&mut cache, &t, &first, NOW + 86_400, b"{}");
        check(&mut cache, &t, &first, NOW, b"{}");
        // Empty bodies in between: their cached signature belongs to the second too.
        check(&mut cache, &t, &first, NOW, b"");
        check(&mut cache, &t, &first, NOW, b"{}");
        check(&mut cache, &t, &first, NOW, b"");
        check(&mut cache, &t, &with_token, NOW, b"");
        check(&mut cache, &t, &with_token, NOW + 2, b"");
    }

    /// Several functions sharing a VM (and its cache): two targets signed in turn, in the
    /// same second with the same credentials, each get the general signer's signature for
    /// their own path, qualifier, host, region and invocation type.
    #[test]
    fn targets_signed_in_turn_each_get_their_own_signature() {
        let targets = [
            target(""),
            target(
                r#","arn":"arn:aws:lambda:eu-west-1:123456789012:function:other","qualifier":"live""#,
            ),
            target(r#","host_rewrite":"lambda.example.test""#),
            target(r#","invocation_mode":"asynchronous""#),
            target(r#","invocation_mode":"streaming""#),
        ];
        let mut cache = SigningCache::default();
        let c = creds("AKIDEXAMPLE", Some("TOKEN"));
        for round in 0..3 {
            for t in &targets {
                for body in [&b"{}"[..], b""] {
                    check(&mut cache, t, &c, NOW + round / 2, body);
                }
            }
        }
    }

    /// Two functions in different regions sharing one cache, signed alternately over
    /// seconds, a UTC midnight and a change of credentials: each signature is the general
    /// signer's (whose key chain is checked against aws-sigv4's), so no signing key or
    /// per-second state of one target is used for the other.
    #[test]
    fn two_targets_in_two_regions_alternating_each_sign_with_their_own_key() {
        let east = target("");
        let west = target(
            r#","arn":"arn:aws:lambda:eu-west-1:123456789012:function:other","qualifier":"live""#,
        );
        let before_midnight = 1_440_979_199; // 20150830T235959Z
        let mut cache = SigningCache::default();
        let first = creds("AKID1", None);
        let second = creds("AKID2", Some("TOKEN"));
        for c in [&first, &second, &first] {
            for unix_seconds in [NOW, NOW, NOW + 1, before_midnight, before_midnight + 1] {
                for t in [&east, &west] {
                    let sig = check(&mut cache, t, c, unix_seconds, b"{}");
                    assert!(sig
                        .authorization
                        .contains(&format!("/{}/lambda/", t.region)));
                    check(&mut cache, t, c, unix_seconds, b"");
                }
            }
        }
    }

    #[test]
    fn signs_with_token_and_sets_every_header() {
        let t = target("");
        let c = creds("AKIDEXAMPLE", Some("TOKEN"));
        let sig = SigningCache::default()
            .sign(&t, &Identity::NONE, &c, NOW, b"{}")
            .unwrap();
        let h = t.headers(&sig, c.session_token.as_deref(), &Identity::NONE);
        assert_eq!(header(&h, ":path"), Some(t.path.as_str()));
        assert_eq!(
            header(&h, ":authority"),
            Some("lambda.us-east-1.amazonaws.com")
        );
        assert_eq!(header(&h, "x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(header(&h, "x-amz-invocation-type"), Some("RequestResponse"));
        assert_eq!(header(&h, "x-amz-security-token"), Some("TOKEN"));
        assert_eq!(header(&h, "x-amz-content-sha256"), None);
        let empty = SigningCache::default()
            .sign(&t, &Identity::NONE, &c, NOW, b"")
            .unwrap();
        assert_eq!(
            header(
                &t.headers(&empty, c.session_token.as_deref(), &Identity::NONE),
                "x-amz-content-sha256"
            ),
            Some(EMPTY_BODY_SHA256)
        );
        let auth = header(&h, "authorization").unwrap();
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request, \
                 SignedHeaders=host;x-amz-date;x-amz-invocation-type;x-amz-security-token, Signature="
            ),
            "{auth}"
        );
        let without = SigningCache::default()
            .sign(&t, &Identity::NONE, &creds("AKIDEXAMPLE", None), NOW, b"{}")
            .unwrap();
        assert_eq!(
            header(
                &t.headers(&without, None, &Identity::NONE),
                "x-amz-security-token"
            ),
            None
        );
    }

    /// A call carrying the caller's identity and a tenant id signs both (they are in
    /// SignedHeaders, in SigV4's order: `x-amz-client-context` first, `x-amz-tenant-id`
    /// last), as the general signer does; each identity keeps its own per-second state, so
    /// calls of two callers (and none) in turn never borrow each other's.
    #[test]
    fn the_callers_identity_and_tenant_id_are_signed() {
        let sync = target("");
        let event = target(r#","invocation_mode":"asynchronous""#);
        let api = Identity {
            client_context: Some("eyJjdXN0b20iOnsibWVzaC1jYWxsZXItc2VydmljZSI6ImFwaSJ9fQ=="),
            tenant_id: Some("api"),
        };
        let web = Identity {
            client_context: Some("eyJjdXN0b20iOnsibWVzaC1jYWxsZXItc2VydmljZSI6IndlYiJ9fQ=="),
            tenant_id: Some("tenant with spaces"),
        };
        let tenant_only = Identity {
            client_context: None,
            tenant_id: Some("blue"),
        };
        let mut cache = SigningCache::default();
        for c in [creds("AKIDEXAMPLE", None), creds("AKID2", Some("TOKEN"))] {
            for identity in [&api, &web, &Identity::NONE, &tenant_only, &api] {
                for body in [&b"{}"[..], b""] {
                    check_with(&mut cache, &sync, identity, &c, NOW, body);
                    check_with(&mut cache, &event, identity, &c, NOW + 1, body);
                }
            }
        }
        let sig = SigningCache::default()
            .sign(&sync, &api, &creds("AKIDEXAMPLE", Some("T")), NOW, b"{}")
            .unwrap();
        assert!(
            sig.authorization.contains(
                "SignedHeaders=host;x-amz-client-context;x-amz-date;x-amz-invocation-type;\
                 x-amz-security-token;x-amz-tenant-id,"
            ),
            "{}",
            sig.authorization
        );
    }
}
