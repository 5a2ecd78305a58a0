//! What the VMs of one plugin share about credentials (through proxy-wasm shared data), and
//! the policy deciding when to fetch. One VM fetches at a time, holding a lease; every VM
//! reads the result. Pure: the glue does the shared-data reads, writes and compare-and-swap.

use crate::access_keys::Credentials;
use serde_json::{json, Value};
use std::rc::Rc;

/// Credentials this close to expiry are no longer used to sign.
pub const EXPIRY_SKEW_SECONDS: u64 = 5;
/// The fetch lease outlasts the longest fetch (IMDSv2 makes up to four calls, one of them
/// repeated after a 401) by this much; a VM that died mid-fetch loses it then.
pub const LEASE_SLACK_MS: u64 = 5_000;
/// Calls in the longest fetch.
pub const MAX_CALLS_PER_FETCH: u64 = 5;
/// The soonest a successful fetch is repeated (when even fresh credentials are inside the
/// refresh margin, e.g. one-hour credentials with a two-hour margin).
const MIN_REFRESH_INTERVAL_MS: u64 = 1_000;
const MAX_BACKOFF_MS: u64 = 30_000;

/// The shared state: the current credentials (if any) and the last failure (if any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharedRecord {
    /// Shared (`Rc`) so a request takes them without copying, and so a signer can tell by
    /// identity that they did not change.
    pub credentials: Option<Rc<Credentials>>,
    /// Which provider gave them.
    pub provider: String,
    /// The last fetch's failure, cleared by a success.
    pub error: Option<String>,
    /// Consecutive failed fetches.
    pub failures: u32,
    /// No fetch before this time: the planned refresh after a success, the backoff after a
    /// failure.
    pub retry_at_ms: u64,
    /// When the current credentials were fetched (0: none).
    pub fetched_at_ms: u64,
}

/// What a request can do right now.
#[derive(Debug, PartialEq, Eq)]
pub enum Availability<'a> {
    Ready(&'a Rc<Credentials>),
    /// No credentials yet and no failure either: a fetch is under way or about to be.
    Pending,
    /// Every provider failed and there are no valid credentials.
    Failed(&'a str),
}

impl SharedRecord {
    pub fn availability(&self, now_ms: u64) -> Availability<'_> {
        match (&self.credentials, &self.error) {
            (Some(c), _) if usable(c, now_ms) => Availability::Ready(c),
            (_, Some(error)) => Availability::Failed(error),
            _ => Availability::Pending,
        }
    }

    /// The last failure, when there are no credentials at all (expired or not).
    pub fn failed_without_credentials(&self) -> Option<String> {
        match (&self.credentials, &self.error) {
            (None, Some(error)) => Some(error.clone()),
            _ => None,
        }
    }

    /// Whether a fetch should start now: never for credentials without an expiry; else once
    /// the planned refresh time (or the backoff) has come.
    pub fn fetch_due(&self, now_ms: u64) -> bool {
        let expires = !matches!(&self.credentials, Some(c) if c.expires_at.is_none());
        expires && now_ms >= self.retry_at_ms
    }

    /// The record after a successful fetch at `now_ms`. The refresh is planned `margin_s`
    /// before `Expiration`, and in any case before the credentials go out of use
    /// (`EXPIRY_SKEW_SECONDS` before it). When that moment has passed already (credentials
    /// shorter-lived than the margin), halfway to going out of use, so a source that keeps
    /// handing out the same short-lived credentials is asked again soon but not in a loop.
    pub fn succeeded(provider: &str, credentials: Credentials, now_ms: u64, margin_s: u64) -> Self {
        let retry_at_ms = match credentials.expires_at {
            None => u64::MAX,
            Some(exp) => {
                let lead_s = margin_s.max(EXPIRY_SKEW_SECONDS + 2);
                let planned = exp.saturating_sub(lead_s).saturating_mul(1000);
                let out_of_use_ms = exp.saturating_sub(EXPIRY_SKEW_SECONDS).saturating_mul(1000);
                if planned > now_ms {
                    planned
                } else {
                    now_ms + (out_of_use_ms.saturating_sub(now_ms) / 2).max(MIN_REFRESH_INTERVAL_MS)
                }
            }
        };
        Self {
            credentials: Some(Rc::new(credentials)),
            provider: provider.to_owned(),
            retry_at_ms,
            fetched_at_ms: now_ms,
            ..Self::default()
        }
    }

    /// The record after a failed fetch: still-valid credentials stay in use; the next try
    /// waits 1 s, 2 s, 4 s, ... up to 30 s.
    pub fn failed(&self, error: String, now_ms: u64) -> Self {
        let failures = self.failures.saturating_add(1);
        let backoff = 1000u64
            .saturating_mul(1 << failures.saturating_sub(1).min(5))
            .min(MAX_BACKOFF_MS);
        Self {
            credentials: self.credentials.clone().filter(|c| usable(c, now_ms)),
            provider: self.provider.clone(),
            error: Some(error),
            failures,
            retry_at_ms: now_ms + backoff,
            fetched_at_ms: self.fetched_at_ms,
        }
    }

    /// Seconds until the credentials expire and seconds since they were fetched, at `now_ms`
    /// (0 and 0 without credentials; 0 to expiry for credentials that never expire).
    pub fn expiry_and_age_seconds(&self, now_ms: u64) -> (u64, u64) {
        let Some(c) = &self.credentials else {
            return (0, 0);
        };
        let expiry = c
            .expires_at
            .map_or(0, |exp| exp.saturating_sub(now_ms / 1000));
        (expiry, now_ms.saturating_sub(self.fetched_at_ms) / 1000)
    }

    pub fn encode(&self) -> Vec<u8> {
        let creds = self.credentials.as_ref().map(|c| {
            json!({"id": c.access_key_id, "secret": c.secret_access_key,
                   "token": c.session_token, "expires_at": c.expires_at})
        });
        json!({"credentials": creds, "provider": self.provider, "error": self.error,
               "failures": self.failures, "retry_at_ms": self.retry_at_ms,
               "fetched_at_ms": self.fetched_at_ms})
        .to_string()
        .into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(bytes).ok()?;
        let credentials = match v.get("credentials")? {
            Value::Null => None,
            c => Some(Rc::new(Credentials {
                access_key_id: c.get("id")?.as_str()?.to_owned(),
                secret_access_key: c.get("secret")?.as_str()?.to_owned(),
                session_token: c.get("token")?.as_str().map(str::to_owned),
                expires_at: c.get("expires_at")?.as_u64(),
            })),
        };
        Some(Self {
            credentials,
            provider: v.get("provider")?.as_str()?.to_owned(),
            error: v.get("error")?.as_str().map(str::to_owned),
            failures: u32::try_from(v.get("failures")?.as_u64()?).ok()?,
            retry_at_ms: v.get("retry_at_ms")?.as_u64()?,
            fetched_at_ms: v.get("fetched_at_ms").and_then(Value::as_u64).unwrap_or(0),
        })
    }
}

fn usable(c: &Credentials, now_ms: u64) -> bool {
    c.expires_at
        .is_none_or(|exp| now_ms / 1000 + EXPIRY_SKEW_SECONDS < exp)
}

/// Whether the fetch lease (its value: the time it ends, in ms) is free at `now_ms`.
pub fn lease_is_free(value: Option<&[u8]>, now_ms: u64) -> bool {
    value
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_none_or(|until| until <= now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: u64 = 1_440_938_160_000;

    fn creds(expires_at: Option<u64>) -> Credentials {
        Credentials {
            access_key_id: "AK".into(),
            secret_access_key: "SK".into(),
            session_token: Some("T".into()),
            expires_at,
        }
    }

    #[test]
    fn round_trips() {
        let r = SharedRecord::succeeded("container", creds(Some(123)), 0, 300);
        assert_eq!(SharedRecord::decode(&r.encode()), Some(r.clone()));
        let f = r.failed("down".into(), 0);
        assert_eq!(SharedRecord::decode(&f.encode()), Some(f));
        assert_eq!(SharedRecord::decode(b"{}"), None);
        assert_eq!(SharedRecord::decode(b"garbage"), None);
    }

    #[test]
    fn refresh_is_planned_margin_before_expiration() {
        let now_s = NOW_MS / 1000;
        assert!(SharedRecord::default().fetch_due(NOW_MS));
        let fresh = SharedRecord::succeeded("c", creds(Some(now_s + 3600)), NOW_MS, 300);
        assert!(!fresh.fetch_due(NOW_MS));
        assert!(!fresh.fetch_due(NOW_MS + 3_299_999));
        assert!(fresh.fetch_due(NOW_MS + 3_300_000)); // 300 s (the margin) before Expiration
        let keys = SharedRecord::succeeded("e", creds(None), NOW_MS, 300);
        assert!(!keys.fetch_due(u64::MAX - 1));
        let failed = fresh.failed("down".into(), NOW_MS + 3_300_000);
        assert!(!failed.fetch_due(NOW_MS + 3_300_500));
        assert!(failed.fetch_due(NOW_MS + 3_301_000));
    }

    #[test]
    fn a_small_margin_still_refreshes_before_the_credentials_go_out_of_use() {
        let now_s = NOW_MS / 1000;
        let r = SharedRecord::succeeded("c", creds(Some(now_s + 7)), NOW_MS, 1);
        // Out of use at +2 s (5 s skew): the refresh comes at +1 s, while they still work.
        assert!(r.fetch_due(NOW_MS + 1000));
        assert!(matches!(
            r.availability(NOW_MS + 1000),
            Availability::Ready(_)
        ));
    }

    #[test]
    fn credentials_shorter_than_the_margin_are_not_fetched_in_a_loop() {
        let now_s = NOW_MS / 1000;
        // 60 s credentials, 300 s margin: next fetch halfway to going out of use, not at once.
        let r = SharedRecord::succeeded("c", creds(Some(now_s + 60)), NOW_MS, 300);
        assert!(!r.fetch_due(NOW_MS + 50));
        assert_eq!(r.retry_at_ms, NOW_MS + 27_500);
        // Near the end, still no tighter than once a second.
        let r = SharedRecord::succeeded("c", creds(Some(now_s + 6)), NOW_MS, 300);
        assert_eq!(r.retry_at_ms, NOW_MS + 1000);
    }

    #[test]
    fn failures_keep_valid_credentials_and_back_off() {
        let now_s = NOW_MS / 1000;
        let r = SharedRecord::succeeded("c", creds(Some(now_s + 60)), NOW_MS, 300);
        let f1 = r.failed("down".into(), NOW_MS);
        assert_eq!(
            f1.availability(NOW_MS),
            Availability::Ready(&Rc::new(creds(Some(now_s + 60))))
        );
        assert_eq!(f1.retry_at_ms, NOW_MS + 1000);
        let f2 = f1.failed("down".into(), NOW_MS);
        assert_eq!(f2.retry_at_ms, NOW_MS + 2000);
        let mut f = f2;
        for _ in 0..10 {
            f = f.failed("down".into(), NOW_MS);
        }
        assert_eq!(f.retry_at_ms, NOW_MS + 30_000);
        // Once they expire, requests fail with the error instead of waiting.
        assert_eq!(
            f.availability(NOW_MS + 60_000),
            Availability::Failed("down")
        );
        assert_eq!(
            SharedRecord::default().availability(NOW_MS),
            Availability::Pending
        );
    }

    #[test]
    fn lease() {
        assert!(lease_is_free(None, 10));
        assert!(lease_is_free(Some(b"10"), 10));
        assert!(!lease_is_free(Some(b"11"), 10));
        assert!(lease_is_free(Some(b"junk"), 10));
    }
}
