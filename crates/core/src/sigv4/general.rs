//! SigV4 for any request: the AWS test vectors, and the cross-checks of the Invoke hot path
//! and of the STS calls of assume-role (`form_post`) (`invoke::signer`, which signs its fixed header set its
//! own way, with per-second hash states). This one runs a few times an hour at most, so it
//! builds every part as text and derives the signing key each time.

use super::canonical::{canonical_query, canonical_request, canonical_uri};
use super::date::amz_date;
use super::{hex_digest, ALGORITHM};
use crate::access_keys::Credentials;
use mesh_lambda_sha256::KeyedHmac;

/// The request to sign.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as on the wire (already percent-encoded); SigV4 encodes it once more.
    pub wire_path: &'a str,
    /// The query as on the wire, without `?`.
    pub wire_query: &'a str,
    /// The headers to sign, `host` among them, in any order and case. `x-amz-date` and
    /// `x-amz-security-token` are the signer's: any given here are left out (see `Signed`).
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: Payload<'a>,
}

/// The last line of the canonical request.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// Hashed here.
    Body(&'a [u8]),
    /// Given: a hex SHA-256 already computed, or `UNSIGNED-PAYLOAD`.
    Hash(&'a str),
}

/// Who signs, where, for which service, and when.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    pub credentials: &'a Credentials,
    pub region: &'a str,
    pub service: &'a str,
    pub unix_seconds: u64,
    /// Resolve `.`, `..` and empty path segments first: every service but S3.
    pub normalize_path: bool,
}

/// Every part of a signature, so a test can say which step differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub canonical_request: String,
    /// `host;x-amz-date;...`
    pub signed_headers: String,
    pub string_to_sign: String,
    /// Hex.
    pub signature: String,
    /// The `Authorization` header value.
    pub authorization: String,
    /// To send besides `authorization`, in place of any headers of the same names:
    /// `x-amz-date`, and `x-amz-security-token` when the credentials have a session token.
    pub headers: Vec<(&'static str, String)>,
}

impl Signer<'_> {
    pub fn sign(&self, request: &Request<'_>) -> Signed {
        let amz_date = amz_date(self.unix_seconds);
        let mut added = vec![("x-amz-date", amz_date.clone())];
        if let Some(token) = &self.credentials.session_token {
            added.push(("x-amz-security-token", token.clone()));
        }
        // The request's own date or token would be signed twice (joined with `,`) or stale.
        let mut headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .filter(|(name, _)| !added.iter().any(|(a, _)| name.eq_ignore_ascii_case(a)))
            .copied()
            .collect();
        headers.extend(added.iter().map(|(n, v)| (*n, v.as_str())));

        let payload_hash = match request.payload {
            Payload::Body(body) => sha256_hex(body),
            Payload::Hash(hash) => hash.to_owned(),
        };
        let (canonical_request, signed_headers) = canonical_request(
            request.method,
            &canonical_uri(request.wire_path, self.normalize_path),
            &canonical_query(request.wire_query),
            &headers,
            &payload_hash,
        );

        let day = amz_date.get(..8).unwrap_or(&amz_date);
        let scope = format!("{day}/{}/{}/aws4_request", self.region, self.service);
        let string_to_sign = format!(
            "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
            sha256_hex(canonical_request.as_bytes())
        );
        let key = signing_key(
            &self.credentials.secret_access_key,
            day,
            self.region,
            self.service,
        );
        // aws-sigv4's HMAC, not `KeyedHmac`: the hot path makes this step with its cached
        // `KeyedHmac`, so its cross-check compares two implementations.
        let signature = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
        let authorization = format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, \
             Signature={signature}",
            self.credentials.access_key_id
        );
        Signed {
            canonical_request,
            signed_headers,
            string_to_sign,
            signature,
            authorization,
            headers: added,
        }
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_digest(&mesh_lambda_sha256::digest(bytes))
        .iter()
        .map(|&b| char::from(b))
        .collect()
}

/// The signing key for `day` (`YYYYMMDD`), derived from the same text as the scope, so the
/// two cannot disagree, by the HMAC chain written out: the reference the filter's own
/// signers (whose key is aws-sigv4's, `key::signing_key`) are checked against, for any date
/// (this one never refuses a clock).
pub(crate) fn signing_key(secret: &str, day: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = KeyedHmac::new(format!("AWS4{secret}").as_bytes()).mac(&[day.as_bytes()]);
    let k_region = KeyedHmac::new(&k_date).mac(&[region.as_bytes()]);
    let k_service = KeyedHmac::new(&k_region).mac(&[service.as_bytes()]);
    KeyedHmac::new(&k_service).mac(&[b"aws4_request"])
}

#[cfg(test)]
mod tests;
