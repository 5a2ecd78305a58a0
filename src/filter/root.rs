//! The root context: reads and validates the configuration, builds what every request shares.

use super::http::LambdaHttp;
use crate::config::{parse_config, InvocationMode};
use crate::credentials::EnvironmentCredentials;
use crate::invoke::InvokeTarget;
use crate::sigv4::SigningKeyCache;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use std::cell::RefCell;
use std::rc::Rc;

/// What the HTTP contexts of one configured filter share (one per worker thread's VM).
pub struct Plugin {
    pub target: InvokeTarget,
    pub mode: InvocationMode,
    pub max_request_bytes: u64,
    pub credentials: EnvironmentCredentials,
    pub signing_keys: RefCell<SigningKeyCache>,
}

#[derive(Default)]
pub struct LambdaRoot {
    plugin: Option<Rc<Plugin>>,
}

impl Context for LambdaRoot {}

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
        let credentials = EnvironmentCredentials::load(|name| std::env::var(name).ok());
        if let Err(e) = crate::credentials::CredentialSource::credentials(&credentials) {
            // Not fatal: requests get a clear 503 until the proxy is given credentials.
            log::warn!("mesh-lambda: {e}");
        }
        log::info!(
            "mesh-lambda: invoking {} ({}) via {}",
            config.arn.function_arn,
            config.invocation_mode.invocation_type(),
            config.host
        );
        self.plugin = Some(Rc::new(Plugin {
            target: InvokeTarget::new(&config),
            mode: config.invocation_mode,
            max_request_bytes: config.max_request_bytes,
            credentials,
            signing_keys: RefCell::new(SigningKeyCache::default()),
        }));
        true
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        let plugin = self.plugin.clone()?;
        Some(Box::new(LambdaHttp::new(context_id, plugin)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
