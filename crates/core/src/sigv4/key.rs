//! The signing key, derived by aws-sigv4 (`generate_signing_key`) with the clock checked
//! first, and the keys cached per region and service.
//!
//! aws-sigv4 writes the key's date with the `time` crate, which panics past the year 9999: a
//! clock past 9999-12-31T23:59:59Z is refused here (`ClockOutOfRange`), before the call.

use crate::recent::Recent;
use mesh_lambda_sha256::KeyedHmac;
use std::time::{Duration, SystemTime};

/// 9999-12-31T23:59:59Z, the last second a SigV4 date can name (`YYYYMMDD`) and aws-sigv4's
/// date formatting can write.
pub const LAST_SIGNABLE_SECOND: u64 = 253_402_300_799;

/// The clock read past `LAST_SIGNABLE_SECOND`: nothing can be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockOutOfRange {
    pub unix_seconds: u64,
}

impl std::fmt::Display for ClockOutOfRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the clock reads {} s since 1970, past the year 9999, which SigV4 dates cannot name",
            self.unix_seconds
        )
    }
}

/// The signing key of `secret` for the UTC day of `unix_seconds`, `region` and `service`.
pub fn signing_key(
    secret: &str,
    unix_seconds: u64,
    region: &str,
    service: &str,
) -> Result<impl AsRef<[u8]>, ClockOutOfRange> {
    let refused = ClockOutOfRange { unix_seconds };
    if unix_seconds > LAST_SIGNABLE_SECOND {
        return Err(refused);
    }
    let time = SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_secs(unix_seconds))
        .ok_or(refused)?;
    Ok(aws_sigv4::sign::v4::generate_signing_key(
        secret, time, region, service,
    ))
}

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
    pub fn key(
        &mut self,
        secret: &str,
        unix_seconds: u64,
        region: &str,
        service: &str,
    ) -> Result<&[u8], ClockOutOfRange> {
        Ok(&self.current(secret, unix_seconds, region, service)?.key)
    }

    /// The same key, ready to MAC with (its padded blocks already hashed).
    pub fn hmac(
        &mut self,
        secret: &str,
        unix_seconds: u64,
        region: &str,
        service: &str,
    ) -> Result<&KeyedHmac, ClockOutOfRange> {
        Ok(&self.current(secret, unix_seconds, region, service)?.hmac)
    }

    /// The cached key of this region and service, or a new one when the day or the secret
    /// changed.
    fn current(
        &mut self,
        secret: &str,
        unix_seconds: u64,
        region: &str,
        service: &str,
    ) -> Result<&CachedKey, ClockOutOfRange> {
        let day = unix_seconds / 86_400;
        let slot = self
            .cached
            .slot(|c| c.region == region && c.service == service);
        let cached = match slot.take() {
            Some(c) if c.day == day && c.secret == secret => c,
            _ => {
                let key = signing_key(secret, unix_seconds, region, service)?;
                CachedKey {
                    day,
                    region: region.to_owned(),
                    service: service.to_owned(),
                    secret: secret.to_owned(),
                    hmac: KeyedHmac::new(key.as_ref()),
                    key: key.as_ref().to_vec(),
                }
            }
        };
        Ok(slot.insert(cached))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::general;

    /// Found by fuzzing (`request_flow`): a clock past 9999-12-31 (but within what SystemTime
    /// holds) panicked in aws-sigv4's date formatting. Such a clock is refused; the last
    /// second before it still signs.
    #[test]
    fn a_clock_past_the_year_9999_is_refused() {
        let mut cache = SigningKeyCache::default();
        let last = cache
            .key("s", LAST_SIGNABLE_SECOND, "us-east-1", "lambda")
            .unwrap()
            .to_vec();
        let from_chain = general::signing_key("s", "99991231", "us-east-1", "lambda");
        assert_eq!(last, from_chain);
        for unix_seconds in [LAST_SIGNABLE_SECOND + 1, 1 << 40, 1 << 60, u64::MAX] {
            assert_eq!(
                cache.key("s", unix_seconds, "us-east-1", "lambda"),
                Err(ClockOutOfRange { unix_seconds })
            );
        }
        let refused = ClockOutOfRange {
            unix_seconds: 1 << 40,
        }
        .to_string();
        assert!(refused.contains("past the year 9999"), "{refused}");
    }

    #[test]
    fn signing_key_is_cached_per_day_and_secret() {
        let mut cache = SigningKeyCache::default();
        let mut key = |secret: &str, unix_seconds: u64| {
            cache
                .key(secret, unix_seconds, "us-east-1", "lambda")
                .unwrap()
                .to_vec()
        };
        let a = key("s1", 1_440_938_160);
        assert_eq!(key("s1", 1_440_938_160 + 60), a);
        assert_ne!(key("s2", 1_440_938_160), a);
        assert_ne!(key("s1", 1_440_938_160 + 86_400), a);
    }

    /// Keys of several regions and services used in turn, across a day and a secret change:
    /// each is the one aws-sigv4 derives and the general signer's chain gives.
    #[test]
    fn keys_of_several_regions_in_turn_are_each_their_own() {
        let mut cache = SigningKeyCache::default();
        for unix_seconds in [1_440_938_160, 1_440_938_160 + 86_400] {
            for secret in ["s1", "s2"] {
                for _ in 0..2 {
                    for (region, service) in [
                        ("us-east-1", "lambda"),
                        ("eu-west-1", "lambda"),
                        ("eu-west-1", "sts"),
                    ] {
                        let day = crate::sigv4::date::amz_date(unix_seconds);
                        let expected = general::signing_key(secret, &day[..8], region, service);
                        let ours = cache.key(secret, unix_seconds, region, service).unwrap();
                        assert_eq!(ours, expected, "{region} {service} {secret}");
                        let mac = cache
                            .hmac(secret, unix_seconds, region, service)
                            .unwrap()
                            .mac(&[b"m"]);
                        assert_eq!(mac, KeyedHmac::new(&expected).mac(&[b"m"]));
                    }
                }
            }
        }
    }
}
