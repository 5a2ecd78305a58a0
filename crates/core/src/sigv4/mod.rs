//! AWS Signature Version 4, the parts this filter needs. The HMAC is RustCrypto's `hmac`
//! (`mesh_lambda_sha256::KeyedHmac`), its chain written out in `general`; building the canonical
//! request here lets the filter sign a small, fixed header set and cache the signing key.
//! `general` signs any other request (the test vectors, the hot path's cross-check);
//! `form_post` the STS calls of assume-role, a fixed shape.

pub mod canonical;
pub mod date;
pub mod encode;
pub mod form_post;
pub mod general;

use crate::recent::Recent;
use mesh_lambda_sha256::KeyedHmac;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Lower-case hex of a SHA-256 digest, without allocating.
pub use mesh_lambda_sha256::hex as hex_digest;

/// The signing keys for one secret and day, one per region and service, each derived once and
/// reused: for one function the key changes only at midnight UTC or when the credentials
/// rotate; functions in several regions keep a key each.
#[derive(Default)]
pub struct SigningKeyCache {
    cached: Recent<CachedKey>,
}

struct CachedKey {
    day: u64,
    region: String,
    service: String,
    secret: String,
    key: Vec<u8>,
    hmac: KeyedHmac,
}

impl SigningKeyCache {
    /// The signing key for `secret` on the UTC day of `unix_seconds`.
    pub fn key(&mut self, secret: &str, unix_seconds: u64, region: &str, service: &str) -> &[u8] {
        &self.current(secret, unix_seconds, region, service).key
    }

    /// The same key, ready to MAC with (its padded blocks already hashed).
    pub fn hmac(
        &mut self,
        secret: &str,
        unix_seconds: u64,
        region: &str,
        service: &str,
    ) -> &KeyedHmac {
        &self.current(secret, unix_seconds, region, service).hmac
    }

    fn current(
        &mut self,
        secret: &str,
        unix_seconds: u64,
        region: &str,
        service: &str,
    ) -> &CachedKey {
        let day = unix_seconds / 86_400;
        let slot = self
            .cached
            .slot(|c| c.region == region && c.service == service);
        match slot.take() {
            Some(c) if c.day == day && c.secret == secret => slot.insert(c),
            _ => {
                let key = signing_key(secret, unix_seconds, region, service);
                slot.insert(CachedKey {
                    day,
                    region: region.to_owned(),
                    service: service.to_owned(),
                    secret: secret.to_owned(),
                    hmac: KeyedHmac::new(&key),
                    key: key.to_vec(),
                })
            }
        }
    }
}

/// The signing key for the UTC day of `unix_seconds`, by the SigV4 HMAC chain over the day the
/// string to sign names (`date::amz_date`'s first 8 characters). The chain is `general`'s,
/// checked against aws-sigv4's `generate_signing_key` in its tests; the request path does not
/// call aws-sigv4's own, whose date formatting (the `time` crate) panics past the year 9999.
fn signing_key(secret: &str, unix_seconds: u64, region: &str, service: &str) -> [u8; 32] {
    let date = date::amz_date(unix_seconds);
    let day = date.get(..8).unwrap_or_default();
    general::signing_key(secret, day, region, service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_clock_does_not_panic() {
        let mut cache = SigningKeyCache::default();
        assert_eq!(cache.key("s", u64::MAX, "us-east-1", "lambda").len(), 32);
    }

    /// 9999-12-31T23:59:59Z, the last second aws-sigv4's date formatting can write.
    const LAST_DATED_SECOND: u64 = 253_402_300_799;

    /// Found by fuzzing (`request_flow`): a clock past 9999-12-31 (but within what SystemTime
    /// holds) panicked in aws-sigv4's date formatting.
    #[test]
    fn a_clock_past_the_year_9999_does_not_panic() {
        let mut cache = SigningKeyCache::default();
        let last = cache
            .key("s", LAST_DATED_SECOND, "us-east-1", "lambda")
            .to_vec();
        let from_chain = general::signing_key("s", "99991231", "us-east-1", "lambda");
        assert_eq!(last, from_chain);
        for unix_seconds in [LAST_DATED_SECOND + 1, 1 << 40, 1 << 60] {
            assert_eq!(
                cache.key("s", unix_seconds, "us-east-1", "lambda").len(),
                32
            );
        }
    }

    #[test]
    fn signing_key_is_cached_per_day_and_secret() {
        let mut cache = SigningKeyCache::default();
        let a = cache
            .key("s1", 1_440_938_160, "us-east-1", "lambda")
            .to_vec();
        assert_eq!(
            cache.key("s1", 1_440_938_160 + 60, "us-east-1", "lambda"),
            a.as_slice()
        );
        assert_ne!(
            cache.key("s2", 1_440_938_160, "us-east-1", "lambda"),
            a.as_slice()
        );
        assert_ne!(
            cache.key("s1", 1_440_938_160 + 86_400, "us-east-1", "lambda"),
            a.as_slice()
        );
    }
}
