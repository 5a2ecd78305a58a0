//! The root context: validates the configuration, builds what every request shares, and
//! runs the credential agent from its timer.

use super::credential_agent::{CredentialAgent, FAST_TICK};
use super::http::LambdaHttp;
use super::plugin::Plugin;
use mesh_lambda_core::config::parse_config;
use mesh_lambda_core::credentials::chain::CredentialChain;
use mesh_lambda_core::credentials::environment::ProxyEnvironment;
use mesh_lambda_core::credentials::shared::SharedRecord;
use mesh_lambda_core::invoke::{InvokeTarget, SigningCache};
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

#[derive(Default)]
pub struct LambdaRoot {
    plugin: Option<Rc<Plugin>>,
    agent: Option<CredentialAgent>,
    tick: Duration,
}

impl Context for LambdaRoot {
    fn on_http_call_response(
        &mut self,
        token: u32,
        num_headers: usize,
        body_size: usize,
        _trailers: usize,
    ) {
        if let (Some(agent), Some(plugin)) = (self.agent.as_mut(), self.plugin.as_ref()) {
            agent.on_response(plugin, token, num_headers, body_size);
        }
    }
}

impl RootContext for LambdaRoot {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        log::info!("mesh-lambda {} starting", env!("CARGO_PKG_VERSION"));
        true
    }

    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        let config = match parse_config(&bytes) {
            Ok(config) => config,
            Err(e) => {
                log::error!("mesh-lambda: {e}");
                return false;
            }
        };
        let env = ProxyEnvironment::load(|name| std::env::var(name).ok());
        let chain = CredentialChain::new(config.credentials.chain.clone(), env);
        let plugin = Rc::new(Plugin {
            target: InvokeTarget::new(&config),
            mode: config.invocation_mode,
            max_request_bytes: config.max_request_bytes,
            max_wait_ms: config.credentials.max_wait_ms,
            provider_names: chain.provider_names(),
            credentials: RefCell::new(SharedRecord::default()),
            signer: RefCell::new(SigningCache::default()),
            waiting: RefCell::new(Vec::new()),
        });
        let mut agent = CredentialAgent::new(&config.credentials, chain);
        agent.resolve_locally(&plugin);
        log::info!(
            "mesh-lambda: invoking {} ({}) via {}; credentials: {}",
            config.arn.function_arn,
            config.invocation_mode.invocation_type(),
            config.host,
            plugin.provider_names
        );
        self.plugin = Some(plugin);
        self.agent = Some(agent);
        self.tick = FAST_TICK;
        self.set_tick_period(FAST_TICK);
        true
    }

    fn on_tick(&mut self) {
        if let (Some(agent), Some(plugin)) = (self.agent.as_mut(), self.plugin.as_ref()) {
            let wanted = agent.tick(plugin);
            if wanted != self.tick {
                self.tick = wanted;
                self.set_tick_period(wanted);
            }
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        let plugin = self.plugin.clone()?;
        Some(Box::new(LambdaHttp::new(context_id, plugin)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
