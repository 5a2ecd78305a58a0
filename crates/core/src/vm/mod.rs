//! The VM's orchestration, above the request path: a VM's set-up from its configuration
//! (`configure`), and the credential agents its root context's timer runs (`agent`, one per
//! identity), which settle the requests waiting for credentials.

pub mod agent;

use crate::config::{parse_plugin_config, ConfigError, FilterConfig, PluginConfig};
use crate::credentials::environment::ProxyEnvironment;
use crate::request::select::Functions;
use crate::request::Plugin;
use agent::CredentialAgent;

/// The line a VM logs when it starts: the filter and its version, the workspace's, which
/// `mesh-lambda --version` and the OCI image's `org.opencontainers.image.version` give too
/// (checked against Cargo.toml by crates/cli/tests/cli.rs, and in Envoy's log by
/// integration/configuration/test_remote_code.py). Envoy starts a VM's lines with
/// `wasm log <vm_id>: `, which names the VM, so the line names the filter itself.
pub const START_LINE: &str = concat!("mesh-lambda ", env!("CARGO_PKG_VERSION"), " starting");

/// A VM's set-up from its plugin configuration and the proxy's environment: what its streams
/// share, and the agents that keep its identities' credentials (one each, in the order of
/// `Plugin::identities`, to `start` with the host). Logs what it will invoke, never the
/// configuration itself.
pub fn configure(
    config_bytes: &[u8],
    env: ProxyEnvironment,
) -> Result<(Plugin, Vec<CredentialAgent>), ConfigError> {
    let config = parse_plugin_config(config_bytes)?;
    let Some(shared) = config.shared() else {
        return Err(ConfigError::new("functions", "names no function"));
    };
    let plugin = Plugin::of(Functions::new(&config), shared);
    let named: Vec<(&str, &FilterConfig)> = match &config {
        PluginConfig::Single(c) => vec![("", c)],
        PluginConfig::Named(named) => named.iter().map(|(n, c)| (n.as_str(), c)).collect(),
    };
    for ((name, c), function) in named.into_iter().zip(plugin.functions.all()) {
        let name = if name.is_empty() {
            String::new()
        } else {
            format!("function {name}: ")
        };
        crate::vm_log!(
            info,
            "{name}invoking {} ({}) via {}; credentials: {}",
            c.arn.function_arn,
            c.invocation_mode.invocation_type(),
            c.host,
            function.identity.provider_names
        );
    }
    let agents = agent::agents(&plugin, &env);
    Ok((plugin, agents))
}
