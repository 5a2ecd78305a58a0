//! Long-term (or session) keys from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
//! `AWS_SESSION_TOKEN`: no callout, and no expiry (the proxy's environment does not change).

use super::{CredentialProvider, ProviderStep, NO_FETCH_UNDER_WAY};
use crate::access_keys::Credentials;
use crate::credentials::environment::ProxyEnvironment;

pub struct Environment {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
}

impl Environment {
    pub fn new(env: &ProxyEnvironment) -> Self {
        Self {
            access_key_id: env.access_key_id.clone(),
            secret_access_key: env.secret_access_key.clone(),
            session_token: env.session_token.clone(),
        }
    }
}

impl CredentialProvider for Environment {
    fn start(&mut self, _now: u64) -> ProviderStep {
        match (&self.access_key_id, &self.secret_access_key) {
            (Some(id), Some(secret)) => ProviderStep::Done(Credentials {
                access_key_id: id.clone(),
                secret_access_key: secret.clone(),
                session_token: self.session_token.clone(),
                expires_at: None,
            }),
            (None, _) => ProviderStep::Failed("AWS_ACCESS_KEY_ID not set".into()),
            (Some(_), None) => ProviderStep::Failed("AWS_SECRET_ACCESS_KEY not set".into()),
        }
    }

    /// Never asks for a callout, so no answer belongs to it.
    fn on_response(&mut self, _status: u32, _body: &[u8], _now: u64) -> ProviderStep {
        ProviderStep::Failed(NO_FETCH_UNDER_WAY.into())
    }
}

#[cfg(test)]
mod tests;
