//! AWS credentials and where they come from. A `CredentialSource` is the seam where providers
//! plug in: the environment now, the container and instance metadata endpoints later.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

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
            .finish()
    }
}

/// Why no credentials can be used, in words for the caller's error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialsUnavailable(pub String);

impl fmt::Display for CredentialsUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Something that can hand out the credentials to sign with right now.
pub trait CredentialSource {
    fn credentials(&self) -> Result<&Credentials, &CredentialsUnavailable>;
}

/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`,
/// read once (Envoy hands the VM its environment at start).
pub struct EnvironmentCredentials(Result<Credentials, CredentialsUnavailable>);

impl EnvironmentCredentials {
    /// Reads the variables through `lookup` (`std::env::var` in the filter).
    pub fn load(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let key = get("AWS_ACCESS_KEY_ID");
        let secret = get("AWS_SECRET_ACCESS_KEY");
        let token = get("AWS_SESSION_TOKEN");
        Self(match (key, secret) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
                access_key_id,
                secret_access_key,
                session_token: token,
            }),
            (key, secret) => {
                let missing: Vec<&str> = [
                    key.is_none().then_some("AWS_ACCESS_KEY_ID"),
                    secret.is_none().then_some("AWS_SECRET_ACCESS_KEY"),
                ]
                .into_iter()
                .flatten()
                .collect();
                Err(CredentialsUnavailable(format!(
                    "no AWS credentials: {} not set in the proxy's environment (pass them to the \
                     filter with vm_config.environment_variables.host_env_keys)",
                    missing.join(" and ")
                )))
            }
        })
    }
}

impl CredentialSource for EnvironmentCredentials {
    fn credentials(&self) -> Result<&Credentials, &CredentialsUnavailable> {
        self.0.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> EnvironmentCredentials {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvironmentCredentials::load(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn reads_keys_and_optional_token() {
        let e = env(&[("AWS_ACCESS_KEY_ID", "AK"), ("AWS_SECRET_ACCESS_KEY", "SK")]);
        let c = e.credentials().unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.session_token.as_deref()),
            ("AK", None)
        );
        let e = env(&[
            ("AWS_ACCESS_KEY_ID", "AK"),
            ("AWS_SECRET_ACCESS_KEY", "SK"),
            ("AWS_SESSION_TOKEN", "TOK"),
        ]);
        assert_eq!(
            e.credentials().unwrap().session_token.as_deref(),
            Some("TOK")
        );
    }

    #[test]
    fn names_what_is_missing() {
        let e = env(&[("AWS_ACCESS_KEY_ID", "AK"), ("AWS_SECRET_ACCESS_KEY", " ")]);
        let msg = e.credentials().unwrap_err().to_string();
        assert!(
            msg.contains("AWS_SECRET_ACCESS_KEY") && !msg.contains("AWS_ACCESS_KEY_ID"),
            "{msg}"
        );
        let msg = env(&[]).credentials().unwrap_err().to_string();
        assert!(
            msg.contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            "{msg}"
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials {
            access_key_id: "AK".into(),
            secret_access_key: "SECRET".into(),
            session_token: Some("TOKEN".into()),
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("TOKEN"),
            "{shown}"
        );
    }
}
