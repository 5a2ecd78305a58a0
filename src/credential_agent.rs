//! Keeps this VM's credentials current, from the root context's timer. The VMs of one proxy
//! share one fetch: whoever wins the lease in shared data runs the provider chain through
//! Envoy clusters and publishes the result; every VM reads it. Requests that were waiting
//! for credentials are signed and resumed (or answered 503) from here.

use super::forward::{now_ms, send_local_reply, sign_request};
use super::plugin::Plugin;
use mesh_lambda_core::config::CredentialSettings;
use mesh_lambda_core::credentials::chain::{Callout, CredentialChain, Step};
use mesh_lambda_core::credentials::shared::{
    lease_is_free, Availability, SharedRecord, LEASE_SLACK_MS, MAX_CALLS_PER_FETCH,
};
use mesh_lambda_core::local_reply::LocalReply;
use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, MapType};
use std::time::Duration;

/// Tick while something is pending (a fetch, waiting requests, no credentials yet).
pub const FAST_TICK: Duration = Duration::from_millis(50);
/// Tick otherwise: fine enough to refresh ahead of expiry.
pub const SLOW_TICK: Duration = Duration::from_millis(1000);

pub struct CredentialAgent {
    chain: CredentialChain,
    refresh_margin_seconds: u64,
    fetch_timeout: Duration,
    /// How long a fetch lease lasts: longer than the longest fetch can take.
    lease_ms: u64,
    record_key: String,
    lease_key: String,
    seen_cas: Option<u32>,
    /// The callout in flight, while this VM holds the lease.
    in_flight: Option<u32>,
}

impl CredentialAgent {
    pub fn new(settings: &CredentialSettings, chain: CredentialChain) -> Self {
        // One record per distinct chain: plugins with other settings in the same VM do not mix.
        let c = chain.settings();
        let id = format!(
            "{}|{}|{}",
            chain.provider_names(),
            c.container_cluster,
            c.instance_metadata_cluster
        );
        Self {
            chain,
            refresh_margin_seconds: settings.refresh_margin_seconds,
            fetch_timeout: Duration::from_millis(settings.fetch_timeout_ms),
            lease_ms: settings.fetch_timeout_ms * MAX_CALLS_PER_FETCH + LEASE_SLACK_MS,
            record_key: format!("mesh-lambda/credentials/{id}"),
            lease_key: format!("mesh-lambda/credentials-lease/{id}"),
            seen_cas: None,
            in_flight: None,
        }
    }

    /// Resolves credentials that need no callout (the environment) at configure time, and
    /// creates the lease key so that every later take is a compare-and-swap (a write to a key
    /// that does not exist yet cannot be one).
    pub fn resolve_locally(&mut self, plugin: &Plugin) {
        if let Ok((None, _)) = hostcalls::get_shared_data(&self.lease_key) {
            let _ = hostcalls::set_shared_data(&self.lease_key, Some(b"0"), None);
        }
        let now = now_ms();
        if let Step::Done(provider, credentials) = self.chain.start(now / 1000) {
            log::info!(
                "mesh-lambda: signing with credentials from the {} ({})",
                provider.name(),
                credentials.access_key_id
            );
            *plugin.credentials.borrow_mut() = SharedRecord::succeeded(
                provider.name(),
                credentials,
                now,
                self.refresh_margin_seconds,
            );
        }
    }

    /// One timer tick: pick up what other VMs published, fetch if due, settle waiting requests.
    /// Returns the tick period wanted next.
    pub fn tick(&mut self, plugin: &Plugin) -> Duration {
        self.sync(plugin);
        let now = now_ms();
        if self.in_flight.is_none()
            && plugin.credentials.borrow().fetch_due(now)
            && self.take_lease(now)
        {
            let step = self.chain.start(now / 1000);
            self.run(plugin, step);
        }
        settle_waiting(plugin);
        let pending = self.in_flight.is_some()
            || !plugin.waiting.borrow().is_empty()
            || matches!(
                plugin.credentials.borrow().availability(now),
                Availability::Pending
            );
        if pending {
            FAST_TICK
        } else {
            SLOW_TICK
        }
    }

    /// An answer to a callout arrived (`num_headers == 0`: none came, e.g. a timeout).
    pub fn on_response(
        &mut self,
        plugin: &Plugin,
        token: u32,
        num_headers: usize,
        body_size: usize,
    ) {
        if self.in_flight != Some(token) {
            return;
        }
        self.in_flight = None;
        let now = now_ms() / 1000;
        let status = (num_headers > 0)
            .then(|| {
                hostcalls::get_map_value(MapType::HttpCallResponseHeaders, ":status")
                    .ok()
                    .flatten()
            })
            .flatten()
            .and_then(|s| s.parse::<u32>().ok());
        let step = match status {
            Some(status) => {
                let body = hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                self.chain.on_response(status, &body, now)
            }
            None => self
                .chain
                .on_failure("no answer (timeout or connection failure)", now),
        };
        self.run(plugin, step);
        settle_waiting(plugin);
    }

    /// Follows the chain until it needs a callout (then waits for it) or ends.
    fn run(&mut self, plugin: &Plugin, mut step: Step) {
        loop {
            step = match step {
                Step::Call(callout) => match self.dispatch(&callout) {
                    Ok(token) => {
                        self.in_flight = Some(token);
                        return;
                    }
                    Err(reason) => self.chain.on_failure(&reason, now_ms() / 1000),
                },
                Step::Done(provider, credentials) => {
                    log::info!(
                        "mesh-lambda: credentials from the {} ({}), expiring at {}",
                        provider.name(),
                        credentials.access_key_id,
                        credentials
                            .expires_at
                            .map_or("never".into(), |e| e.to_string())
                    );
                    let record = SharedRecord::succeeded(
                        provider.name(),
                        credentials,
                        now_ms(),
                        self.refresh_margin_seconds,
                    );
                    return self.publish(plugin, record);
                }
                Step::Failed(reason) => {
                    log::warn!("mesh-lambda: credential fetch failed: {reason}");
                    let record = plugin.credentials.borrow().failed(reason, now_ms());
                    return self.publish(plugin, record);
                }
            }
        }
    }

    fn dispatch(&self, c: &Callout) -> Result<u32, String> {
        let mut headers: Vec<(&str, &str)> = vec![
            (":method", c.method),
            (":path", &c.path),
            (":authority", &c.authority),
        ];
        headers.extend(c.headers.iter().map(|(n, v)| (*n, v.as_str())));
        hostcalls::dispatch_http_call(&c.cluster, headers, None, vec![], self.fetch_timeout)
            .map_err(|e| {
                format!(
                    "cannot call Envoy cluster \"{}\" ({e:?}); is it defined?",
                    c.cluster
                )
            })
    }

    fn publish(&mut self, plugin: &Plugin, record: SharedRecord) {
        if let Err(e) = hostcalls::set_shared_data(&self.record_key, Some(&record.encode()), None) {
            log::error!("mesh-lambda: cannot share credentials: {e:?}");
        }
        if let Err(e) = hostcalls::set_shared_data(&self.lease_key, Some(b"0"), None) {
            log::error!("mesh-lambda: cannot release the credential lease: {e:?}");
        }
        *plugin.credentials.borrow_mut() = record;
        self.seen_cas = hostcalls::get_shared_data(&self.record_key)
            .ok()
            .and_then(|(_, cas)| cas);
    }

    fn sync(&mut self, plugin: &Plugin) {
        let Ok((Some(bytes), cas)) = hostcalls::get_shared_data(&self.record_key) else {
            return;
        };
        if cas.is_some() && cas == self.seen_cas {
            return;
        }
        self.seen_cas = cas;
        match SharedRecord::decode(&bytes) {
            Some(record) => *plugin.credentials.borrow_mut() = record,
            None => log::error!("mesh-lambda: shared credential record unreadable"),
        }
    }

    /// Compare-and-swap the lease: only one VM of the proxy fetches at a time.
    fn take_lease(&self, now: u64) -> bool {
        let Ok((value, cas)) = hostcalls::get_shared_data(&self.lease_key) else {
            return false;
        };
        if !lease_is_free(value.as_deref(), now) {
            return false;
        }
        let Some(cas) = cas else {
            return false; // no key yet: resolve_locally creates it
        };
        let until = (now + self.lease_ms).to_string();
        hostcalls::set_shared_data(&self.lease_key, Some(until.as_bytes()), Some(cas)).is_ok()
    }
}

/// Signs and resumes the requests that waited, once credentials are there; answers 503 when
/// every provider failed or a request waited longer than `max_wait_ms`.
fn settle_waiting(plugin: &Plugin) {
    if plugin.waiting.borrow().is_empty() {
        return;
    }
    let now = now_ms();
    let waiting = std::mem::take(&mut *plugin.waiting.borrow_mut());
    let mut still_waiting = Vec::new();
    for w in waiting {
        let outcome = match plugin.credentials.borrow().availability(now) {
            Availability::Ready(c) => Some(Ok(c.clone())),
            Availability::Failed(reason) => Some(Err(LocalReply::credentials_unavailable(reason))),
            Availability::Pending if now >= w.deadline_ms => Some(Err(
                LocalReply::credentials_timeout(plugin.max_wait_ms, &plugin.provider_names),
            )),
            Availability::Pending => None,
        };
        let Some(outcome) = outcome else {
            still_waiting.push(w);
            continue;
        };
        if hostcalls::set_effective_context(w.context_id).is_err() {
            continue; // the stream is gone
        }
        let result = outcome.and_then(|credentials| {
            sign_request(plugin, &credentials, &w.request, now)
                .map_err(|e| LocalReply::internal(&e))
        });
        match result {
            Ok(()) => {
                if let Err(e) = hostcalls::resume_http_request() {
                    log::error!("mesh-lambda[{}]: cannot resume: {e:?}", w.context_id);
                }
            }
            Err(reply) => send_local_reply(w.context_id, &reply),
        }
    }
    plugin.waiting.borrow_mut().extend(still_waiting);
}
