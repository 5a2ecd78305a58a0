//! An AWS access key (id, secret, session token, expiry): what a request is signed with,
//! whichever source (`credentials`) it came from.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// Seconds since the Unix epoch; `None` for long-term keys.
    pub expires_at: Option<u64>,
}

impl Credentials {
    /// Whether the parts that go into headers (the key id in `authorization`, the token as
    /// `x-amz-security-token`) can: every source's keys are checked, since the environment's
    /// are taken as they are and a NUL or line break there would otherwise reach a header
    /// (found by the `credential_answers` fuzz target).
    pub fn fit_in_headers(&self) -> bool {
        let printable = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic());
        printable(&self.access_key_id) && self.session_token.as_deref().is_none_or(printable)
    }
}

/// Why credentials that do not `fit_in_headers` are refused.
pub const UNFIT_FOR_HEADERS: &str = "the access key id or session token holds characters other \
     than printable ASCII, which a header cannot carry";

/// Never prints the secret or the token.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials {
            access_key_id: "AK".into(),
            secret_access_key: "SECRET".into(),
            session_token: Some("TOKEN".into()),
            expires_at: None,
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("TOKEN"),
            "{shown}"
        );
    }
}
