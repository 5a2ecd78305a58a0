//! The credential provider chain, in the order the AWS SDKs use: environment, web identity
//! (IRSA), the shared credentials file, container endpoint (ECS, EKS Pod Identity), EC2
//! instance metadata (IMDSv2). A pure state machine:
//! each step either asks for one HTTP callout or ends with credentials or with the reasons
//! every provider failed. The glue performs the callouts through Envoy clusters.
//!
//! The providers' protocols are in `super::providers`, one file each; the chain only walks
//! the configured ones in order and collects why each failed. With `assume_role` configured
//! the chain walks one provider, `assume_role`, which holds the chain of the configured
//! providers as its source of base credentials.

use super::environment::ProxyEnvironment;
use super::providers::{self, CredentialProvider, ProviderStep, NO_FETCH_UNDER_WAY};
use crate::access_keys::{Credentials, UNFIT_FOR_HEADERS};

/// The providers by name: configuration names them, and so do messages and the shared
/// record. A new provider is a variant and its name here, and its line in `providers::build`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Environment,
    /// IRSA: `AssumeRoleWithWebIdentity` with the pod's projected token.
    WebIdentity,
    Container,
    InstanceMetadata,
    /// A profile of the shared credentials file, served by Envoy (`super::files`).
    CredentialsFile,
    /// Not a source of its own: configured by `assume_role`, not in `providers`.
    AssumeRole,
}

impl Provider {
    /// The sources of base credentials, the ones `providers` can list.
    /// The default chain, in the SDKs' order (botocore's `create_credential_resolver` and
    /// `ProfileProviderBuilder.providers`: environment, web identity, the shared credentials
    /// file, the container endpoint, instance metadata; the sources of the config file the
    /// filter lacks, SSO, login, process, left out).
    pub const ALL: [Provider; 5] = [
        Provider::Environment,
        Provider::WebIdentity,
        Provider::CredentialsFile,
        Provider::Container,
        Provider::InstanceMetadata,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Provider::Environment => "environment",
            Provider::WebIdentity => "web_identity",
            Provider::Container => "container",
            Provider::InstanceMetadata => "instance_metadata",
            Provider::CredentialsFile => "credentials_file",
            Provider::AssumeRole => "assume_role",
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
    /// Envoy cluster reaching the listener serving files (`envoy/files.yaml`): tokens and the
    /// shared credentials file, which the VM cannot read itself.
    pub files_cluster: String,
    /// The shared credentials file's profile (the native filter's `credentials_profile`);
    /// `AWS_PROFILE`, else `default`, when not set.
    pub profile: Option<String>,
    /// How long keys read from the shared credentials file are held, as if they expired
    /// then: the re-read interval plus `refresh_margin_seconds` (the config reader adds them),
    /// so the file is read again once an interval has passed.
    pub credentials_file_hold_seconds: u64,
    /// The configuration named the sources (`provider` or `providers`). The default chain
    /// asks for the credentials file only when a variable or `profile` points at it.
    pub providers_given: bool,
    /// Sign with a role assumed through STS, using the providers' credentials to ask.
    pub assume_role: Option<AssumeRoleSettings>,
}

/// The `credentials.assume_role` block: the role, and how STS is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleSettings {
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: String,
    pub duration_seconds: u64,
    /// Envoy cluster reaching STS.
    pub sts_cluster: String,
    /// The host the call is sent to and signed for: STS in the function's region by default.
    pub sts_host: String,
    /// The region the call is signed for: STS's (named by `sts_host`, or `sts_region`).
    pub region: String,
}

pub const DEFAULT_STS_CLUSTER: &str = "sts";
pub const DEFAULT_SESSION_NAME: &str = "mesh-lambda";
pub const DEFAULT_ROLE_DURATION_SECONDS: u64 = 3600;

pub const DEFAULT_CONTAINER_CLUSTER: &str = "aws_container_credentials";
pub const DEFAULT_INSTANCE_METADATA_CLUSTER: &str = "aws_instance_metadata";
pub const DEFAULT_IMDS_TOKEN_TTL_SECONDS: u64 = 21_600;
/// The shared credentials file is read again this often by default.
pub const DEFAULT_CREDENTIALS_FILE_REFRESH_SECONDS: u64 = 300;

impl ChainSettings {
    /// The names of the configured providers, for messages.
    pub fn provider_names(&self) -> String {
        let names: Vec<&str> = self.providers.iter().map(|p| p.name()).collect();
        match &self.assume_role {
            Some(role) => format!("assume_role of {} with {}", role.role_arn, names.join(", ")),
            None => names.join(", "),
        }
    }
}

impl Default for ChainSettings {
    fn default() -> Self {
        Self {
            providers: Provider::ALL.to_vec(),
            container_cluster: DEFAULT_CONTAINER_CLUSTER.into(),
            instance_metadata_cluster: DEFAULT_INSTANCE_METADATA_CLUSTER.into(),
            imds_token_ttl_seconds: DEFAULT_IMDS_TOKEN_TTL_SECONDS,
            files_cluster: super::files::DEFAULT_FILES_CLUSTER.into(),
            profile: None,
            // The refresh margin's default is 300 s as well (`CredentialSettings`).
            credentials_file_hold_seconds: DEFAULT_CREDENTIALS_FILE_REFRESH_SECONDS + 300,
            providers_given: false,
            assume_role: None,
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
    /// Empty for a GET.
    pub body: Vec<u8>,
}

/// What the chain wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Call(Callout),
    Done(Provider, Credentials),
    /// Every provider failed; the text names each with its reason.
    Failed(String),
}

/// The chain, kept for the VM's life (its providers keep state between refreshes, such as
/// the IMDSv2 token).
pub struct CredentialChain {
    settings: ChainSettings,
    /// The configured providers, in order.
    providers: Vec<(Provider, Box<dyn CredentialProvider>)>,
    /// The provider being asked.
    position: usize,
    /// That provider's callout is out.
    awaiting: bool,
    /// Why each provider that failed this fetch failed.
    failures: Vec<String>,
    /// The providers that failed this fetch.
    failed: Vec<Provider>,
}

impl CredentialChain {
    pub fn new(settings: ChainSettings, env: ProxyEnvironment) -> Self {
        let walked = match settings.assume_role {
            Some(_) => vec![Provider::AssumeRole],
            None => settings.providers.clone(),
        };
        let providers = walked
            .into_iter()
            .map(|p| (p, providers::build(p, &settings, &env)))
            .collect();
        Self {
            settings,
            providers,
            position: 0,
            awaiting: false,
            failures: Vec::new(),
            failed: Vec::new(),
        }
    }

    pub fn settings(&self) -> &ChainSettings {
        &self.settings
    }

    /// The names of the configured providers, for messages.
    pub fn provider_names(&self) -> String {
        self.settings.provider_names()
    }

    /// The providers that failed in the current (or last) fetch, in order.
    pub fn failed_providers(&self) -> &[Provider] {
        &self.failed
    }

    /// Starts a fetch from the first provider.
    pub fn start(&mut self, now: u64) -> Step {
        self.position = 0;
        self.awaiting = false;
        self.failures.clear();
        self.failed.clear();
        match self.providers.first_mut() {
            Some((_, provider)) => {
                let step = provider.start(now);
                self.advance(step, now)
            }
            None => self.all_failed(),
        }
    }

    /// A callout answered with `status` and `body`.
    pub fn on_response(&mut self, status: u32, body: &[u8], now: u64) -> Step {
        if !std::mem::take(&mut self.awaiting) {
            return Step::Failed(NO_FETCH_UNDER_WAY.into());
        }
        match self.providers.get_mut(self.position) {
            Some((_, provider)) => {
                let step = provider.on_response(status, body, now);
                self.advance(step, now)
            }
            None => Step::Failed(NO_FETCH_UNDER_WAY.into()),
        }
    }

    /// A callout could not be made or got no answer (no such cluster, timeout, reset).
    pub fn on_failure(&mut self, reason: &str, now: u64) -> Step {
        let awaiting = std::mem::take(&mut self.awaiting);
        let step = match self.providers.get_mut(self.position) {
            Some((_, provider)) if awaiting => provider.on_failure(reason, now),
            _ => ProviderStep::Failed(reason.to_owned()),
        };
        self.advance(step, now)
    }

    /// Follows the current provider's step: a callout or credentials end this turn, a failure
    /// is recorded and the next provider starts.
    fn advance(&mut self, mut step: ProviderStep, now: u64) -> Step {
        loop {
            let current = self.providers.get(self.position).map(|(p, _)| *p);
            match (step, current) {
                (ProviderStep::Call(callout), _) => {
                    self.awaiting = true;
                    return Step::Call(callout);
                }
                (ProviderStep::Done(credentials), Some(provider)) => {
                    if credentials.fit_in_headers() {
                        return Step::Done(provider, credentials);
                    }
                    step = ProviderStep::Failed(UNFIT_FOR_HEADERS.into());
                }
                (ProviderStep::Done(_), None) => {
                    return Step::Failed("credential response with no provider".into())
                }
                (ProviderStep::Failed(reason), _) => {
                    let name = current.map_or("?", Provider::name);
                    self.failures.push(match current {
                        // The only provider walked: its reason is the whole message.
                        Some(Provider::AssumeRole) => reason,
                        _ => format!("{name}: {reason}"),
                    });
                    self.failed.extend(current);
                    self.position += 1;
                    match self.providers.get_mut(self.position) {
                        Some((_, next)) => step = next.start(now),
                        None => return self.all_failed(),
                    }
                }
            }
        }
    }

    fn all_failed(&self) -> Step {
        Step::Failed(match &self.settings.assume_role {
            Some(role) => format!(
                "cannot assume role {}: {}",
                role.role_arn,
                self.failures.join("; ")
            ),
            None => format!(
                "no AWS credentials from any provider ({})",
                self.failures.join("; ")
            ),
        })
    }
}

#[cfg(test)]
mod tests;
