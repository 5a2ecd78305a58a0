//! The VM's orchestration, above the request path: a VM's set-up from its configuration
//! (`configure`), and the credential agent its root context's timer runs (`agent`), which
//! settles the requests waiting for credentials.

pub mod agent;

use crate::config::{parse_config, ConfigError};
use crate::credentials::chain::CredentialChain;
use crate::credentials::environment::ProxyEnvironment;
use crate::request::Plugin;
use agent::CredentialAgent;

/// A VM's set-up from its plugin configuration and the proxy's environment: what its streams
/// share, and the agent that keeps its credentials (to `start` with the host). Logs what it
/// will invoke, never the configuration itself.
pub fn configure(
    config_bytes: &[u8],
    env: ProxyEnvironment,
) -> Result<(Plugin, CredentialAgent), ConfigError> {
    let config = parse_config(config_bytes)?;
    let chain = CredentialChain::new(config.credentials.chain.clone(), env);
    let plugin = Plugin::new(&config, chain.provider_names());
    crate::vm_log!(
        info,
        "invoking {} ({}) via {}; credentials: {}",
        config.arn.function_arn,
        config.invocation_mode.invocation_type(),
        config.host,
        plugin.provider_names
    );
    let agent = CredentialAgent::new(&config.credentials, chain);
    Ok((plugin, agent))
}
