//! The credential providers, one file each, behind one interface: a fetch starts, and each
//! callout's answer (or its failure) gives the next step, until the provider has credentials
//! or a reason it has none. The chain (`super::chain`) walks them in the configured order.
//!
//! Trait objects rather than an enum: the chain runs a few times an hour, not per request, so
//! a virtual call costs nothing that matters (nor did it grow the .wasm more than an enum
//! did); in return a provider is one type in one file that no dispatch `match` lists, and one
//! wrapping others (`assume_role`, calling STS with its sources' credentials) just holds
//! them: the chain of the configured providers.

pub mod assume_role;
mod container;
mod credentials_file;
mod environment;
mod instance_metadata;
mod web_identity;

use super::chain::{Callout, ChainSettings, CredentialChain, Provider};
use super::document::parse_credential_document;
use super::environment::ProxyEnvironment;
use crate::access_keys::Credentials;

/// What a provider wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderStep {
    Call(Callout),
    Done(Credentials),
    /// This provider has no credentials; the chain names it in front of the reason.
    Failed(String),
}

/// One source of credentials, as a sans-IO state machine. The chain calls `on_response` and
/// `on_failure` only while a callout this provider asked for is out.
pub trait CredentialProvider {
    /// Begins a fetch; called each time the chain reaches this provider.
    fn start(&mut self, now: u64) -> ProviderStep;

    /// The answer to the callout of this provider's last step.
    fn on_response(&mut self, status: u32, body: &[u8], now: u64) -> ProviderStep;

    /// That callout got no answer (no such cluster, timeout, reset). The reason is the
    /// failure as it stands; a provider wrapping another may say whose call it was.
    fn on_failure(&mut self, reason: &str, _now: u64) -> ProviderStep {
        ProviderStep::Failed(reason.to_owned())
    }
}

/// The provider behind each name. A new provider is its file plus its line here.
pub fn build(
    provider: Provider,
    settings: &ChainSettings,
    env: &ProxyEnvironment,
) -> Box<dyn CredentialProvider> {
    match provider {
        Provider::Environment => Box::new(environment::Environment::new(env)),
        Provider::WebIdentity => Box::new(web_identity::WebIdentity::new(settings, env)),
        Provider::Container => Box::new(container::Container::new(settings, env)),
        Provider::CredentialsFile => {
            Box::new(credentials_file::CredentialsFile::new(settings, env))
        }
        Provider::InstanceMetadata => {
            Box::new(instance_metadata::InstanceMetadata::new(settings, env))
        }
        Provider::AssumeRole => match &settings.assume_role {
            Some(role) => {
                let base = ChainSettings {
                    assume_role: None,
                    ..settings.clone()
                };
                Box::new(assume_role::AssumeRole::new(
                    role.clone(),
                    CredentialChain::new(base, env.clone()),
                ))
            }
            None => Box::new(NotConfigured),
        },
    }
}

/// `assume_role` walked without its settings: the chain never does this.
struct NotConfigured;

impl CredentialProvider for NotConfigured {
    fn start(&mut self, _now: u64) -> ProviderStep {
        ProviderStep::Failed("credentials.assume_role is not configured".into())
    }

    fn on_response(&mut self, _status: u32, _body: &[u8], _now: u64) -> ProviderStep {
        ProviderStep::Failed(NO_FETCH_UNDER_WAY.into())
    }
}

/// Said when an answer arrives and no callout is out.
pub const NO_FETCH_UNDER_WAY: &str = "credential response with no fetch under way";

/// The credentials of a credential document, or why it was refused.
fn from_document(body: &[u8], now: u64) -> ProviderStep {
    match parse_credential_document(body, now) {
        Ok(credentials) => ProviderStep::Done(credentials),
        Err(reason) => ProviderStep::Failed(reason),
    }
}

/// The start of an error answer's body, for the message: Envoy's own replies ("upstream
/// connect error ...", "upstream request timeout") tell why a call failed. Only error answers
/// are quoted, and not one that holds a secret (a credential document served with an error
/// status, say).
pub(super) fn detail(body: &[u8]) -> String {
    const SECRET_MARKERS: [&[u8]; 3] = [b"SecretAccessKey", b"Token", b"secret"];
    let holds_secret = SECRET_MARKERS
        .iter()
        .any(|marker| body.windows(marker.len()).any(|w| w == *marker));
    if holds_secret {
        return " (body not quoted: it may hold a secret)".to_owned();
    }
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

#[cfg(test)]
mod tests;
