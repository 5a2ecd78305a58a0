//! EC2 instance metadata, IMDSv2: a session token (PUT), the instance's role (GET the role
//! list), then that role's credential document. The token is kept across fetches until near
//! its expiry, so a refresh is usually two GETs; a 401 means the token died early (the
//! instance restarted, say) and it is renewed once per fetch.

use super::{detail, from_document, CredentialProvider, ProviderStep, NO_FETCH_UNDER_WAY};
use crate::credentials::chain::{Callout, ChainSettings};
use crate::credentials::environment::ProxyEnvironment;

const IMDS_HOST: &str = "169.254.169.254";
const TOKEN_PATH: &str = "/latest/api/token";
const ROLES_PATH: &str = "/latest/meta-data/iam/security-credentials/";
/// A token is replaced this long before it expires.
const TOKEN_MARGIN_SECONDS: u64 = 60;

pub struct InstanceMetadata {
    cluster: String,
    token_ttl_seconds: u64,
    /// `AWS_EC2_METADATA_DISABLED=true`: the SDKs skip IMDS, and so does this.
    disabled: bool,
    /// Which answer the callout out will bring.
    stage: Stage,
    token: Option<Token>,
    /// This fetch renewed the token already.
    token_renewed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    Idle,
    Token,
    RoleList,
    Role(String),
}

struct Token {
    value: String,
    expires_at: u64,
}

impl InstanceMetadata {
    pub fn new(settings: &ChainSettings, env: &ProxyEnvironment) -> Self {
        Self {
            cluster: settings.instance_metadata_cluster.clone(),
            token_ttl_seconds: settings.imds_token_ttl_seconds,
            disabled: env.ec2_metadata_disabled,
            stage: Stage::Idle,
            token: None,
            token_renewed: false,
        }
    }

    fn request_token(&mut self) -> ProviderStep {
        self.stage = Stage::Token;
        ProviderStep::Call(Callout {
            cluster: self.cluster.clone(),
            method: "PUT",
            path: TOKEN_PATH.into(),
            authority: IMDS_HOST.into(),
            headers: vec![(
                "x-aws-ec2-metadata-token-ttl-seconds",
                self.token_ttl_seconds.to_string(),
            )],
            body: Vec::new(),
        })
    }

    /// A GET with the current token.
    fn get(&mut self, stage: Stage, path: String) -> ProviderStep {
        self.stage = stage;
        let token = self
            .token
            .as_ref()
            .map(|t| t.value.clone())
            .unwrap_or_default();
        ProviderStep::Call(Callout {
            cluster: self.cluster.clone(),
            method: "GET",
            path,
            authority: IMDS_HOST.into(),
            headers: vec![("x-aws-ec2-metadata-token", token)],
            body: Vec::new(),
        })
    }

    fn list_roles(&mut self) -> ProviderStep {
        self.get(Stage::RoleList, ROLES_PATH.into())
    }

    /// A 401 with a token: drop it and ask for a new one, once per fetch.
    fn renew_token(&mut self) -> ProviderStep {
        self.token = None;
        if self.token_renewed {
            return ProviderStep::Failed("IMDSv2 refused a fresh token (HTTP 401)".into());
        }
        self.token_renewed = true;
        self.request_token()
    }

    fn on_token(&mut self, status: u32, body: &[u8], now: u64) -> ProviderStep {
        let token = String::from_utf8_lossy(body).trim().to_owned();
        if status != 200 {
            return ProviderStep::Failed(format!(
                "HTTP {status} for the IMDSv2 token{}",
                detail(body)
            ));
        }
        // The token goes into a header value: no line break, NUL or other control byte.
        if token.is_empty() || token.contains(|c: char| c.is_ascii_control()) {
            return ProviderStep::Failed("empty or malformed IMDSv2 token".into());
        }
        self.token = Some(Token {
            value: token,
            expires_at: now.saturating_add(self.token_ttl_seconds),
        });
        self.list_roles()
    }

    fn on_role_list(&mut self, status: u32, body: &[u8]) -> ProviderStep {
        match status {
            200 => {
                let listing = String::from_utf8_lossy(body);
                match listing.lines().map(str::trim).find(|l| !l.is_empty()) {
                    // The name goes into the next path: one plain segment only.
                    Some(role) if role.bytes().all(|b| b.is_ascii_graphic() && b != b'/') => {
                        let path = format!("{ROLES_PATH}{role}");
                        self.get(Stage::Role(role.to_owned()), path)
                    }
                    _ => no_role(),
                }
            }
            401 => self.renew_token(),
            404 => no_role(),
            _ => ProviderStep::Failed(format!(
                "HTTP {status} listing the instance's roles{}",
                detail(body)
            )),
        }
    }

    fn on_role(&mut self, role: &str, status: u32, body: &[u8], now: u64) -> ProviderStep {
        match status {
            200 => from_document(body, now),
            401 => self.renew_token(),
            _ => ProviderStep::Failed(format!("HTTP {status} for role {role}{}", detail(body))),
        }
    }
}

fn no_role() -> ProviderStep {
    ProviderStep::Failed("no IAM role attached to the instance".into())
}

impl CredentialProvider for InstanceMetadata {
    fn start(&mut self, now: u64) -> ProviderStep {
        self.stage = Stage::Idle;
        if self.disabled {
            return ProviderStep::Failed("disabled by AWS_EC2_METADATA_DISABLED".into());
        }
        self.token_renewed = false;
        match &self.token {
            Some(t) if t.expires_at > now.saturating_add(TOKEN_MARGIN_SECONDS) => self.list_roles(),
            _ => self.request_token(),
        }
    }

    fn on_response(&mut self, status: u32, body: &[u8], now: u64) -> ProviderStep {
        match std::mem::replace(&mut self.stage, Stage::Idle) {
            Stage::Idle => ProviderStep::Failed(NO_FETCH_UNDER_WAY.into()),
            Stage::Token => self.on_token(status, body, now),
            Stage::RoleList => self.on_role_list(status, body),
            Stage::Role(role) => self.on_role(&role, status, body, now),
        }
    }

    /// The token stays: a call that got no answer says nothing about it.
    fn on_failure(&mut self, reason: &str, _now: u64) -> ProviderStep {
        self.stage = Stage::Idle;
        ProviderStep::Failed(reason.to_owned())
    }
}

#[cfg(test)]
mod tests;
