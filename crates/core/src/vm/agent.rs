//! Keeps one identity's credentials current in one VM, from the root context's timer (a VM
//! runs one agent per identity, `agents`). The VMs of one proxy share one fetch per identity:
//! whoever wins the lease in shared data (compare-and-swap) runs the provider chain through
//! Envoy clusters and publishes the result; every VM reads it. After every change the requests
//! waiting for credentials are settled.

use crate::credentials::chain::{CredentialChain, Step};
use crate::credentials::environment::ProxyEnvironment;
use crate::credentials::shared::{
    lease_is_free, Availability, SharedRecord, LEASE_SLACK_MS, MAX_CALLS_PER_FETCH,
};
use crate::host::{AgentHost, Clock, SharedData, Streams};
use crate::metrics::Counter;
use crate::request::identity::Identity;
use crate::request::waiting::settle_waiting;
use crate::request::Plugin;
use crate::vm_log;
use std::rc::Rc;
use std::time::Duration;

/// Tick while something is pending (a fetch, waiting requests, no credentials yet).
pub const FAST_TICK: Duration = Duration::from_millis(50);
/// Tick otherwise: fine enough to refresh ahead of expiry.
pub const SLOW_TICK: Duration = Duration::from_millis(1000);

/// A callout's answer as the host gave it: status and body, or none (timeout, reset).
pub type CalloutAnswer<'a> = Option<(u32, &'a [u8])>;

/// What only this build of the filter puts into its shared-data names: its version and a
/// random constant. Shared data belongs to a `vm_id`, and any module configured with the same
/// one reads and writes it by name; hashed with this, a name cannot be made from the
/// credential settings alone (nor collide with another module's, or another version's, whose
/// record format may differ).
const NAME_CONSTANT: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "/c2f9986db59aaa437ee6a53aa6e45e30"
);

/// The shared-data name of the credential record of one set of settings (`settings_id`);
/// its lease's is derived from it.
fn record_name(settings_id: &str) -> String {
    let digest = mesh_lambda_sha256::digest([NAME_CONSTANT, "|", settings_id].concat().as_bytes());
    let hex = crate::sigv4::hex_digest(&digest);
    // Hex digits: always UTF-8.
    format!(
        "mesh-lambda/credentials/{}",
        std::str::from_utf8(&hex).unwrap_or_default()
    )
}

/// One agent per identity of `plugin`, in its order, each with its own chain.
pub fn agents(plugin: &Plugin, env: &ProxyEnvironment) -> Vec<CredentialAgent> {
    plugin
        .identities
        .iter()
        .map(|identity| CredentialAgent::new(Rc::clone(identity), env.clone()))
        .collect()
}

pub struct CredentialAgent {
    /// The identity whose credentials this agent keeps.
    identity: Rc<Identity>,
    chain: CredentialChain,
    refresh_margin_seconds: u64,
    fetch_timeout: Duration,
    /// How long a fetch lease lasts: longer than the longest fetch can take.
    lease_ms: u64,
    record_key: String,
    lease_key: String,
    /// The token of the record this VM last read or wrote.
    seen_cas: Option<u32>,
    /// The callout in flight, while this VM holds the lease.
    in_flight: Option<u32>,
}

impl CredentialAgent {
    pub fn new(identity: Rc<Identity>, env: ProxyEnvironment) -> Self {
        let settings = &identity.settings;
        let chain = CredentialChain::new(settings.chain.clone(), env);
        // One record per distinct chain: identities (or plugins) with other settings in the
        // same VM do not mix. (The provider names hold the role's ARN.)
        let c = chain.settings();
        let mut id = format!(
            "{}|{}|{}",
            chain.provider_names(),
            c.container_cluster,
            c.instance_metadata_cluster
        );
        if let Some(role) = &c.assume_role {
            // The settings (the external id among them) are only hashed into the names.
            id.push_str(&format!(
                "|{}|{}|{}|{}|{}|{:?}",
                role.sts_cluster,
                role.sts_host,
                role.region,
                role.session_name,
                role.duration_seconds,
                role.external_id
            ));
        }
        Self {
            chain,
            refresh_margin_seconds: settings.refresh_margin_seconds,
            fetch_timeout: Duration::from_millis(settings.fetch_timeout_ms),
            lease_ms: settings.fetch_timeout_ms * MAX_CALLS_PER_FETCH + LEASE_SLACK_MS,
            lease_key: format!("{}/lease", record_name(&id)),
            record_key: record_name(&id),
            seen_cas: None,
            in_flight: None,
            identity,
        }
    }

    /// At configure time: resolves credentials that need no callout (the environment), and
    /// creates the lease key so that every later take is a compare-and-swap (a write to a key
    /// that does not exist yet cannot be one).
    pub fn start(&mut self, host: &(impl Clock + SharedData), plugin: &Plugin) {
        if let Ok((None, _)) = host.get_shared(&self.lease_key) {
            let _ = host.set_shared(&self.lease_key, b"0", None);
        }
        let now = host.now_ms();
        let step = self.chain.start(now / 1000);
        if matches!(step, Step::Done(..)) {
            self.count_fetch(plugin, &step);
        }
        if let Step::Done(provider, credentials) = step {
            vm_log!(
                info,
                "signing with credentials from the {} ({})",
                provider.name(),
                credentials.access_key_id
            );
            *self.identity.credentials.borrow_mut() = SharedRecord::succeeded(
                provider.name(),
                credentials,
                now,
                self.refresh_margin_seconds,
            );
        }
    }

    /// One timer tick: pick up what other VMs published, fetch if due, settle waiting
    /// requests. Returns the tick period wanted next.
    pub fn tick(
        &mut self,
        host: &impl AgentHost,
        streams: &impl Streams,
        plugin: &Plugin,
    ) -> Duration {
        self.sync(host);
        let now = host.now_ms();
        if self.in_flight.is_none()
            && self.identity.credentials.borrow().fetch_due(now)
            && self.take_lease(host, now)
        {
            let step = self.chain.start(now / 1000);
            self.run(host, plugin, step);
        }
        settle_waiting(plugin, streams, host.now_ms());
        let now = host.now_ms();
        let pending = self.in_flight.is_some()
            || !plugin.waiting.borrow().is_empty()
            || matches!(
                self.identity.credentials.borrow().availability(now),
                Availability::Pending
            );
        if pending {
            FAST_TICK
        } else {
            SLOW_TICK
        }
    }

    /// The answer to callout `token` arrived; answers to anything else are ignored.
    pub fn on_callout_answer(
        &mut self,
        host: &impl AgentHost,
        streams: &impl Streams,
        plugin: &Plugin,
        token: u32,
        answer: CalloutAnswer<'_>,
    ) {
        if self.in_flight != Some(token) {
            return;
        }
        self.in_flight = None;
        let now_s = host.now_ms() / 1000;
        let step = match answer {
            Some((status, body)) => self.chain.on_response(status, body, now_s),
            None => self
                .chain
                .on_failure("no answer (timeout or connection failure)", now_s),
        };
        self.run(host, plugin, step);
        settle_waiting(plugin, streams, host.now_ms());
    }

    /// Whether this VM holds the lease and waits for a callout.
    pub fn fetching(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Whether callout `token` is the agent's.
    pub fn owns(&self, token: u32) -> bool {
        self.in_flight == Some(token)
    }

    /// Follows the chain until it needs a callout (then waits for it) or ends.
    fn run(&mut self, host: &impl AgentHost, plugin: &Plugin, mut step: Step) {
        loop {
            if !matches!(step, Step::Call(_)) {
                self.count_fetch(plugin, &step);
            }
            step = match step {
                Step::Call(callout) => match host.dispatch(&callout, self.fetch_timeout) {
                    Ok(token) => {
                        self.in_flight = Some(token);
                        return;
                    }
                    Err(e) => {
                        let reason = format!(
                            "cannot call Envoy cluster \"{}\" ({e}); is it defined?",
                            callout.cluster
                        );
                        self.chain.on_failure(&reason, host.now_ms() / 1000)
                    }
                },
                Step::Done(provider, credentials) => {
                    vm_log!(
                        info,
                        "credentials from the {} ({}), expiring at {}",
                        provider.name(),
                        credentials.access_key_id,
                        credentials
                            .expires_at
                            .map_or("never".into(), |e| e.to_string())
                    );
                    let record = SharedRecord::succeeded(
                        provider.name(),
                        credentials,
                        host.now_ms(),
                        self.refresh_margin_seconds,
                    );
                    return self.publish(host, record);
                }
                Step::Failed(reason) => {
                    vm_log!(warn, "credential fetch failed: {reason}");
                    let record = self
                        .identity
                        .credentials
                        .borrow()
                        .failed(reason, host.now_ms());
                    return self.publish(host, record);
                }
            }
        }
    }

    /// A fetch ended: it counts for the provider that gave credentials and for each that
    /// failed on the way.
    fn count_fetch(&self, plugin: &Plugin, step: &Step) {
        for &provider in self.chain.failed_providers() {
            plugin.metrics.count(Counter::fetch_failures(provider));
        }
        if let Step::Done(provider, _) = step {
            plugin.metrics.count(Counter::fetches(*provider));
        }
    }

    /// Shares the record, releases the lease, and takes the record for this VM.
    fn publish(&mut self, host: &impl SharedData, record: SharedRecord) {
        if let Err(e) = host.set_shared(&self.record_key, &record.encode(), None) {
            vm_log!(error, "cannot share credentials: {e}");
        }
        if let Err(e) = host.set_shared(&self.lease_key, b"0", None) {
            vm_log!(error, "cannot release the credential lease: {e}");
        }
        *self.identity.credentials.borrow_mut() = record;
        self.seen_cas = host
            .get_shared(&self.record_key)
            .ok()
            .and_then(|(_, cas)| cas);
    }

    /// Takes the record another VM published, if it changed since this VM last saw it.
    fn sync(&mut self, host: &impl SharedData) {
        let Ok((Some(bytes), cas)) = host.get_shared(&self.record_key) else {
            return;
        };
        if cas.is_some() && cas == self.seen_cas {
            return;
        }
        self.seen_cas = cas;
        match SharedRecord::decode(&bytes) {
            Some(record) => *self.identity.credentials.borrow_mut() = record,
            None => vm_log!(error, "shared credential record unreadable"),
        }
    }

    /// Compare-and-swap the lease: only one VM of the proxy fetches at a time. A lease whose
    /// time is up is free, so a VM that died mid-fetch holds it up for `lease_ms` at most.
    fn take_lease(&self, host: &impl SharedData, now: u64) -> bool {
        let Ok((value, cas)) = host.get_shared(&self.lease_key) else {
            return false;
        };
        if !lease_is_free(value.as_deref(), now) {
            return false;
        }
        let Some(cas) = cas else {
            return false; // no key yet: `start` creates it
        };
        let until = (now + self.lease_ms).to_string();
        host.set_shared(&self.lease_key, until.as_bytes(), Some(cas))
            .is_ok()
    }
}

#[cfg(test)]
mod tests;
