//! The credential provider chain, in the order the AWS SDKs use: environment, container
//! endpoint (ECS, EKS Pod Identity), EC2 instance metadata (IMDSv2). A pure state machine:
//! each step either asks for one HTTP callout or ends with credentials or with the reasons
//! every provider failed. The glue performs the callouts through Envoy clusters.

use super::document::parse_credential_document;
use super::environment::ProxyEnvironment;
use super::Credentials;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Environment,
    Container,
    InstanceMetadata,
}

impl Provider {
    pub const ALL: [Provider; 3] = [
        Provider::Environment,
        Provider::Container,
        Provider::InstanceMetadata,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Provider::Environment => "environment",
            Provider::Container => "container",
            Provider::InstanceMetadata => "instance_metadata",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// How the chain is set up (from the `credentials` configuration block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSettings {
    pub providers: Vec<Provider>,
    /// Envoy cluster reaching the container credentials endpoint (169.254.170.2 on ECS).
    pub container_cluster: String,
    /// Envoy cluster reaching the instance metadata service (169.254.169.254).
    pub instance_metadata_cluster: String,
    /// TTL asked for IMDSv2 session tokens.
    pub imds_token_ttl_seconds: u64,
}

pub const DEFAULT_CONTAINER_CLUSTER: &str = "aws_container_credentials";
pub const DEFAULT_INSTANCE_METADATA_CLUSTER: &str = "aws_instance_metadata";
pub const DEFAULT_IMDS_TOKEN_TTL_SECONDS: u64 = 21_600;
/// An IMDSv2 token is replaced this long before it expires.
const IMDS_TOKEN_MARGIN_SECONDS: u64 = 60;

impl Default for ChainSettings {
    fn default() -> Self {
        Self {
            providers: Provider::ALL.to_vec(),
            container_cluster: DEFAULT_CONTAINER_CLUSTER.into(),
            instance_metadata_cluster: DEFAULT_INSTANCE_METADATA_CLUSTER.into(),
            imds_token_ttl_seconds: DEFAULT_IMDS_TOKEN_TTL_SECONDS,
        }
    }
}

/// One HTTP request to make through an Envoy cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callout {
    pub cluster: String,
    pub method: &'static str,
    pub path: String,
    pub authority: String,
    pub headers: Vec<(&'static str, String)>,
}

/// What the chain wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Call(Callout),
    Done(Provider, Credentials),
    /// Every provider failed; the text names each with its reason.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    Idle,
    Container,
    ImdsToken,
    ImdsRoleList,
    ImdsRole(String),
}

#[derive(Debug, Clone)]
struct ImdsToken {
    value: String,
    expires_at: u64,
}

/// The chain, kept for the VM's life (it remembers the IMDSv2 token between refreshes).
pub struct CredentialChain {
    settings: ChainSettings,
    env: ProxyEnvironment,
    position: usize,
    stage: Stage,
    failures: Vec<String>,
    imds_token: Option<ImdsToken>,
    imds_token_retried: bool,
}

const ECS_HOST: &str = "169.254.170.2";
const IMDS_HOST: &str = "169.254.169.254";
const IMDS_ROLES_PATH: &str = "/latest/meta-data/iam/security-credentials/";

impl CredentialChain {
    pub fn new(settings: ChainSettings, env: ProxyEnvironment) -> Self {
        Self {
            settings,
            env,
            position: 0,
            stage: Stage::Idle,
            failures: Vec::new(),
            imds_token: None,
            imds_token_retried: false,
        }
    }

    pub fn settings(&self) -> &ChainSettings {
        &self.settings
    }

    /// The names of the configured providers, for messages.
    pub fn provider_names(&self) -> String {
        let names: Vec<&str> = self.settings.providers.iter().map(|p| p.name()).collect();
        names.join(", ")
    }

    /// Starts a fetch from the first provider.
    pub fn start(&mut self, now: u64) -> Step {
        self.position = 0;
        self.failures.clear();
        self.try_provider(now)
    }

    /// A callout answered with `status` and `body`.
    pub fn on_response(&mut self, status: u32, body: &[u8], now: u64) -> Step {
        match std::mem::replace(&mut self.stage, Stage::Idle) {
            Stage::Idle => Step::Failed("credential response with no fetch under way".into()),
            Stage::Container => match status {
                200 => self.finish_with_document(body, now),
                _ => self.fail_and_next(
                    format!(
                        "HTTP {status} from the credentials endpoint{}",
                        detail(body)
                    ),
                    now,
                ),
            },
            Stage::ImdsToken => {
                let token = String::from_utf8_lossy(body).trim().to_owned();
                let token_ok = !token.is_empty() && !token.contains(['\r', '\n']);
                if status == 200 && !token_ok {
                    return self.fail_and_next("empty or malformed IMDSv2 token".into(), now);
                }
                if status != 200 {
                    return self.fail_and_next(
                        format!("HTTP {status} for the IMDSv2 token{}", detail(body)),
                        now,
                    );
                }
                self.imds_token = Some(ImdsToken {
                    value: token,
                    expires_at: now + self.settings.imds_token_ttl_seconds,
                });
                self.imds_call(Stage::ImdsRoleList, "GET", IMDS_ROLES_PATH.into())
            }
            Stage::ImdsRoleList => match status {
                200 => {
                    let listing = String::from_utf8_lossy(body);
                    match listing.lines().map(str::trim).find(|l| !l.is_empty()) {
                        Some(role) if role.bytes().all(|b| b.is_ascii_graphic() && b != b'/') => {
                            let path = format!("{IMDS_ROLES_PATH}{role}");
                            self.imds_call(Stage::ImdsRole(role.to_owned()), "GET", path)
                        }
                        _ => self.fail_and_next("no IAM role attached to the instance".into(), now),
                    }
                }
                401 => self.renew_imds_token(now),
                404 => self.fail_and_next("no IAM role attached to the instance".into(), now),
                _ => self.fail_and_next(
                    format!("HTTP {status} listing the instance's roles{}", detail(body)),
                    now,
                ),
            },
            Stage::ImdsRole(role) => match status {
                200 => self.finish_with_document(body, now),
                401 => self.renew_imds_token(now),
                _ => self.fail_and_next(
                    format!("HTTP {status} for role {role}{}", detail(body)),
                    now,
                ),
            },
        }
    }

    /// A callout could not be made or got no answer (no such cluster, timeout, reset).
    pub fn on_failure(&mut self, reason: &str, now: u64) -> Step {
        self.stage = Stage::Idle;
        self.fail_and_next(reason.to_owned(), now)
    }

    fn try_provider(&mut self, now: u64) -> Step {
        let Some(&provider) = self.settings.providers.get(self.position) else {
            return Step::Failed(format!(
                "no AWS credentials from any provider ({})",
                self.failures.join("; ")
            ));
        };
        match provider {
            Provider::Environment => match (&self.env.access_key_id, &self.env.secret_access_key) {
                (Some(id), Some(secret)) => Step::Done(
                    provider,
                    Credentials {
                        access_key_id: id.clone(),
                        secret_access_key: secret.clone(),
                        session_token: self.env.session_token.clone(),
                        expires_at: None,
                    },
                ),
                (id, _) => {
                    let missing = if id.is_none() {
                        "AWS_ACCESS_KEY_ID"
                    } else {
                        "AWS_SECRET_ACCESS_KEY"
                    };
                    self.fail_and_next(format!("{missing} not set"), now)
                }
            },
            Provider::Container => match self.container_callout() {
                Ok(callout) => {
                    self.stage = Stage::Container;
                    Step::Call(callout)
                }
                Err(reason) => self.fail_and_next(reason, now),
            },
            Provider::InstanceMetadata => {
                if self.env.ec2_metadata_disabled {
                    return self.fail_and_next("disabled by AWS_EC2_METADATA_DISABLED".into(), now);
                }
                self.imds_token_retried = false;
                match &self.imds_token {
                    Some(t) if t.expires_at > now + IMDS_TOKEN_MARGIN_SECONDS => {
                        self.imds_call(Stage::ImdsRoleList, "GET", IMDS_ROLES_PATH.into())
                    }
                    _ => self.request_imds_token(),
                }
            }
        }
    }

    fn fail_and_next(&mut self, reason: String, now: u64) -> Step {
        let name = self
            .settings
            .providers
            .get(self.position)
            .map_or("?", |p| p.name());
        self.failures.push(format!("{name}: {reason}"));
        self.position += 1;
        self.try_provider(now)
    }

    fn finish_with_document(&mut self, body: &[u8], now: u64) -> Step {
        let provider = self.settings.providers.get(self.position).copied();
        match (parse_credential_document(body, now), provider) {
            (Ok(credentials), Some(provider)) => Step::Done(provider, credentials),
            (Err(reason), _) => self.fail_and_next(reason, now),
            (Ok(_), None) => Step::Failed("credential response with no provider".into()),
        }
    }

    fn container_callout(&self) -> Result<Callout, String> {
        let (authority, path) = match (
            &self.env.container_relative_uri,
            &self.env.container_full_uri,
        ) {
            (Some(relative), _) => {
                if !relative.starts_with('/') {
                    return Err("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'".into());
                }
                (ECS_HOST.to_owned(), relative.clone())
            }
            (None, Some(full)) => split_http_uri(full).ok_or_else(|| {
                "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http:// URI".to_owned()
            })?,
            (None, None) => {
                return Err("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set".into())
            }
        };
        let mut headers = vec![("accept", "application/json".to_owned())];
        match (
            &self.env.container_authorization_token,
            &self.env.container_authorization_token_file,
        ) {
            (Some(token), _) => headers.push(("authorization", token.clone())),
            (None, Some(_)) => {
                return Err(
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE cannot be read from inside \
                            the VM; pass the token in AWS_CONTAINER_AUTHORIZATION_TOKEN"
                        .into(),
                )
            }
            (None, None) => {}
        }
        Ok(Callout {
            cluster: self.settings.container_cluster.clone(),
            method: "GET",
            path,
            authority,
            headers,
        })
    }

    fn request_imds_token(&mut self) -> Step {
        self.stage = Stage::ImdsToken;
        Step::Call(Callout {
            cluster: self.settings.instance_metadata_cluster.clone(),
            method: "PUT",
            path: "/latest/api/token".into(),
            authority: IMDS_HOST.into(),
            headers: vec![(
                "x-aws-ec2-metadata-token-ttl-seconds",
                self.settings.imds_token_ttl_seconds.to_string(),
            )],
        })
    }

    /// A 401 means the token expired early (the instance restarted, say): renew it once.
    fn renew_imds_token(&mut self, now: u64) -> Step {
        self.imds_token = None;
        if self.imds_token_retried {
            return self.fail_and_next("IMDSv2 refused a fresh token (HTTP 401)".into(), now);
        }
        self.imds_token_retried = true;
        self.request_imds_token()
    }

    fn imds_call(&mut self, stage: Stage, method: &'static str, path: String) -> Step {
        self.stage = stage;
        let token = self
            .imds_token
            .as_ref()
            .map(|t| t.value.clone())
            .unwrap_or_default();
        Step::Call(Callout {
            cluster: self.settings.instance_metadata_cluster.clone(),
            method,
            path,
            authority: IMDS_HOST.into(),
            headers: vec![("x-aws-ec2-metadata-token", token)],
        })
    }
}

/// The start of an error answer's body, for the message: Envoy's own replies ("upstream
/// connect error ...", "upstream request timeout") tell why a call failed. Only error answers
/// are quoted, never a credential document.
fn detail(body: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(body)
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect();
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(" ({text})")
    }
}

/// `http://host[:port]/path` into (`host[:port]`, `/path`).
fn split_http_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i)?, rest.get(i..)?),
        None => (rest, "/"),
    };
    (!authority.is_empty() && !authority.contains('@'))
        .then(|| (authority.to_owned(), path.to_owned()))
}

#[cfg(test)]
mod tests;
