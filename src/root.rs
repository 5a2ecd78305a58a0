//! The root context: configures the VM (the core parses and validates), creates the HTTP
//! contexts, and runs the credential agents (one per identity) from its timer and the
//! callouts' answers.

use crate::host::{callout_answer, stream_callout_answer, Envoy};
use crate::http::LambdaHttp;
use mesh_lambda_core::credentials::environment::ProxyEnvironment;
use mesh_lambda_core::host::Clock;
use mesh_lambda_core::invoke::outgoing::route_key;
use mesh_lambda_core::metrics::Gauge;
use mesh_lambda_core::request::body_delivery::check_body_delivery;
use mesh_lambda_core::request::callout::answer_from_root;
use mesh_lambda_core::request::Plugin;
use mesh_lambda_core::vm::agent::{CredentialAgent, FAST_TICK, SLOW_TICK};
use mesh_lambda_core::vm::configure;
use mesh_lambda_core::vm_log;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use std::rc::Rc;
use std::time::Duration;

#[derive(Default)]
pub struct LambdaRoot {
    plugin: Option<Rc<Plugin>>,
    /// One per identity: each ticks, and takes the answers to its own callouts.
    agents: Vec<CredentialAgent>,
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
        let Some(plugin) = self.plugin.as_ref() else {
            return;
        };
        if let Some(agent) = self.agents.iter_mut().find(|a| a.owns(token)) {
            let answer = callout_answer(num_headers, body_size);
            let answer = answer
                .as_ref()
                .map(|(status, body)| (*status, body.as_slice()));
            agent.on_callout_answer(&Envoy, &Envoy, plugin, token, answer);
        } else {
            // An Invoke call sent from the timer for a request that waited (event formats).
            let answer = stream_callout_answer(num_headers, body_size);
            let answer = answer.as_ref().map(|(h, b)| (h.as_slice(), b.as_slice()));
            answer_from_root(plugin, &Envoy, token, answer);
        }
    }
}

impl RootContext for LambdaRoot {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        vm_log!(info, "{}", mesh_lambda_core::vm::START_LINE);
        true
    }

    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        let env = ProxyEnvironment::load(|name| std::env::var(name).ok());
        let (plugin, mut agents) = match configure(&bytes, env) {
            Ok(configured) => configured,
            Err(e) => {
                vm_log!(error, "{e}");
                return false;
            }
        };
        let mut plugin = plugin;
        // The Wasm config's `name`: signed calls carry it for their route to match.
        let name = self.get_property(vec!["plugin_name"]).unwrap_or_default();
        plugin.route_key = match route_key(&name) {
            Ok(key) => key,
            Err(e) => {
                vm_log!(error, "{e}");
                return false;
            }
        };
        for agent in &mut agents {
            agent.start(&Envoy, &plugin);
        }
        plugin.clock_reading.set(Envoy.now_ms());
        if let Err(e) = plugin.metrics.define(&Envoy) {
            vm_log!(error, "running without metrics: {e}");
        }
        self.plugin = Some(Rc::new(plugin));
        self.agents = agents;
        self.tick = FAST_TICK;
        self.set_tick_period(FAST_TICK);
        true
    }

    fn on_tick(&mut self) {
        if let Some(plugin) = self.plugin.as_ref() {
            let mut wanted = SLOW_TICK;
            for agent in &mut self.agents {
                wanted = wanted.min(agent.tick(&Envoy, &Envoy, plugin));
            }
            let now = Envoy.now_ms();
            plugin.clock_reading.set(now);
            check_body_delivery(plugin, &Envoy, now);
            let [expiry, age] = plugin.credential_gauges(now);
            let gauges = [expiry, age, (Gauge::VmMemoryBytes, vm_memory_bytes())];
            if let Err(e) = plugin.metrics.flush(&Envoy, &gauges) {
                vm_log!(warn, "cannot flush metrics: {e}");
            }
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

/// The size of this VM's linear memory (it only grows).
fn vm_memory_bytes() -> u64 {
    let pages = core::arch::wasm32::memory_size(0);
    u64::try_from(pages).unwrap_or(0).saturating_mul(65_536)
}
