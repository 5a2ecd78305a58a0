//! The filter's metrics: one fixed set, named here and nowhere else (no name is ever built
//! from request data), defined in Envoy when a VM is configured.
//!
//! The request path never calls the host for a metric: it adds to this VM's tally (a memory
//! write), and the root context's timer flushes the tally to Envoy once per tick (every
//! second at the latest), one host call per metric that moved. Envoy sums the counters and
//! the in-flight gauge of all VMs (each VM flushes its own deltas).

use crate::credentials::chain::Provider;
use crate::host::HostError;
use crate::invocation_mode::InvocationMode;
use crate::local_reply::ReplyCode;
use std::cell::{Cell, RefCell};

/// Every name starts with this; Envoy shows the metrics as `wasmcustom.mesh_lambda.*`.
pub const PREFIX: &str = "mesh_lambda";

/// Payload sizes kept between two flushes at most; more are dropped (and counted) so that a
/// flush stays bounded under any load.
pub const MAX_PENDING_SIZES: usize = 4096;

/// What kind of metric Envoy keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

/// Defines metrics in the host and moves them.
pub trait MetricsHost {
    /// Defines the metric `name` (or finds it: every VM defines the same names); its id.
    fn define_metric(&self, kind: MetricKind, name: &str) -> Result<u32, HostError>;
    /// Adds `delta` to a counter or gauge.
    fn increment_metric(&self, id: u32, delta: i64) -> Result<(), HostError>;
    /// Sets a gauge, or records one value in a histogram.
    fn record_metric(&self, id: u32, value: u64) -> Result<(), HostError>;
}

/// Defines the counters and their names side by side: `Counter` and `COUNTER_NAMES`.
macro_rules! counters {
    ($($variant:ident => $name:literal,)*) => {
        /// The counters, in the order of `COUNTER_NAMES`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Counter {
            $($variant,)*
        }

        /// The counters' names, after the prefix.
        pub const COUNTER_NAMES: [&str; COUNTERS] = [$($name,)*];
    };
}

counters! {
    InvocationsSynchronous => "invocations.synchronous",
    InvocationsAsynchronous => "invocations.asynchronous",
    InvocationsDryRun => "invocations.dry_run",
    InvocationsStreaming => "invocations.streaming",
    FunctionErrors => "function_errors",
    StreamFunctionErrors => "stream_errors.function",
    StreamBroken => "stream_errors.broken",
    LambdaClientErrors => "lambda_errors.client",
    LambdaThrottled => "lambda_errors.throttled",
    LambdaServerErrors => "lambda_errors.server",
    LambdaNoAnswer => "lambda_errors.no_answer",
    PayloadTooLarge => "payload_too_large",
    MalformedResults => "malformed_results",
    InternalErrors => "internal_errors",
    BodyNotDelivered => "body_not_delivered",
    TenantIdMissing => "tenant_id_missing",
    CredentialsWaited => "credentials_wait.started",
    CredentialsWaitSigned => "credentials_wait.signed",
    CredentialsWaitTimedOut => "credentials_wait.timed_out",
    CredentialsWaitFailed => "credentials_wait.failed",
    CredentialsWaitAbandoned => "credentials_wait.abandoned",
    CredentialsUnavailable => "credentials_unavailable",
    FetchesEnvironment => "credential_fetches.environment",
    FetchesWebIdentity => "credential_fetches.web_identity",
    FetchesContainer => "credential_fetches.container",
    FetchesInstanceMetadata => "credential_fetches.instance_metadata",
    FetchesAssumeRole => "credential_fetches.assume_role",
    FetchesCredentialsFile => "credential_fetches.credentials_file",
    FetchFailuresEnvironment => "credential_fetch_failures.environment",
    FetchFailuresWebIdentity => "credential_fetch_failures.web_identity",
    FetchFailuresContainer => "credential_fetch_failures.container",
    FetchFailuresInstanceMetadata => "credential_fetch_failures.instance_metadata",
    FetchFailuresAssumeRole => "credential_fetch_failures.assume_role",
    FetchFailuresCredentialsFile => "credential_fetch_failures.credentials_file",
    CallerRefused => "caller_refused",
    PayloadSizesDropped => "payload_sizes_dropped",
}

const COUNTERS: usize = Counter::PayloadSizesDropped as usize + 1;

/// The gauges, in the order of `GAUGE_NAMES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gauge {
    /// Requests the filter holds: from their headers until the stream ends.
    RequestsInFlight,
    /// Seconds until the signing credentials expire (0: none, or they never expire).
    CredentialsExpirySeconds,
    /// Seconds since the signing credentials were fetched.
    CredentialsAgeSeconds,
    /// The size of a VM's linear memory, in bytes (each VM reports its own; the gauge shows
    /// the last report).
    VmMemoryBytes,
}

const GAUGES: usize = Gauge::VmMemoryBytes as usize + 1;

pub const GAUGE_NAMES: [&str; GAUGES] = [
    "requests_in_flight",
    "credentials.expiry_seconds",
    "credentials.age_seconds",
    "vm_memory_bytes",
];

/// The one histogram: sizes of request payloads sent to Lambda, in bytes.
pub const PAYLOAD_HISTOGRAM_NAME: &str = "request_payload_bytes";

impl Counter {
    pub fn invocations(mode: InvocationMode) -> Self {
        match mode {
            InvocationMode::Synchronous => Self::InvocationsSynchronous,
            InvocationMode::Asynchronous => Self::InvocationsAsynchronous,
            InvocationMode::DryRun => Self::InvocationsDryRun,
            InvocationMode::Streaming => Self::InvocationsStreaming,
        }
    }

    pub fn fetches(provider: Provider) -> Self {
        match provider {
            Provider::Environment => Self::FetchesEnvironment,
            Provider::WebIdentity => Self::FetchesWebIdentity,
            Provider::Container => Self::FetchesContainer,
            Provider::InstanceMetadata => Self::FetchesInstanceMetadata,
            Provider::AssumeRole => Self::FetchesAssumeRole,
            Provider::CredentialsFile => Self::FetchesCredentialsFile,
        }
    }

    pub fn fetch_failures(provider: Provider) -> Self {
        match provider {
            Provider::Environment => Self::FetchFailuresEnvironment,
            Provider::WebIdentity => Self::FetchFailuresWebIdentity,
            Provider::Container => Self::FetchFailuresContainer,
            Provider::InstanceMetadata => Self::FetchFailuresInstanceMetadata,
            Provider::AssumeRole => Self::FetchFailuresAssumeRole,
            Provider::CredentialsFile => Self::FetchFailuresCredentialsFile,
        }
    }

    /// The counter of the filter's replies with this code.
    pub fn reply(code: ReplyCode) -> Self {
        match code {
            ReplyCode::RequestTooLarge => Self::PayloadTooLarge,
            ReplyCode::CredentialsUnavailable => Self::CredentialsUnavailable,
            ReplyCode::MalformedFunctionResult => Self::MalformedResults,
            ReplyCode::LambdaUnreachable | ReplyCode::LambdaTimeout => Self::LambdaNoAnswer,
            ReplyCode::InternalError => Self::InternalErrors,
            ReplyCode::BodyNotDelivered => Self::BodyNotDelivered,
            ReplyCode::TenantIdMissing => Self::TenantIdMissing,
            ReplyCode::CallerNotAllowed => Self::CallerRefused,
        }
    }

    /// A Lambda API answer's status class, when it is an error of the API (not the function's).
    pub fn lambda_error(status: u32) -> Option<Self> {
        match status {
            429 => Some(Self::LambdaThrottled),
            400..=499 => Some(Self::LambdaClientErrors),
            500..=599 => Some(Self::LambdaServerErrors),
            _ => None,
        }
    }
}

/// The metrics' ids in the host, once defined.
struct Ids {
    counters: [u32; COUNTERS],
    gauges: [u32; GAUGES],
    payload: u32,
}

/// One VM's metrics: the ids Envoy gave them and what moved since the last flush.
pub struct Metrics {
    ids: Option<Ids>,
    counters: [Cell<u64>; COUNTERS],
    in_flight: Cell<i64>,
    payload_sizes: RefCell<Vec<u64>>,
}

// By hand: the standard library derives `Default` for arrays of at most 32.
impl Default for Metrics {
    fn default() -> Self {
        Self {
            ids: None,
            counters: std::array::from_fn(|_| Cell::new(0)),
            in_flight: Cell::new(0),
            payload_sizes: RefCell::default(),
        }
    }
}

impl Metrics {
    /// Defines every metric in the host; on failure the VM runs without metrics (the error
    /// says which one the host refused).
    pub fn define(&mut self, host: &impl MetricsHost) -> Result<(), String> {
        let define = |kind, name: &str| {
            let full = format!("{PREFIX}.{name}");
            host.define_metric(kind, &full)
                .map_err(|e| format!("cannot define metric {full}: {e}"))
        };
        let mut counters = [0; COUNTERS];
        for (id, name) in counters.iter_mut().zip(COUNTER_NAMES) {
            *id = define(MetricKind::Counter, name)?;
        }
        let mut gauges = [0; GAUGES];
        for (id, name) in gauges.iter_mut().zip(GAUGE_NAMES) {
            *id = define(MetricKind::Gauge, name)?;
        }
        let payload = define(MetricKind::Histogram, PAYLOAD_HISTOGRAM_NAME)?;
        self.ids = Some(Ids {
            counters,
            gauges,
            payload,
        });
        Ok(())
    }

    pub fn count(&self, counter: Counter) {
        if let Some(c) = self.counters.get(counter as usize) {
            c.set(c.get().saturating_add(1));
        }
    }

    /// A request entered (+1) or left (-1) the filter.
    pub fn in_flight(&self, delta: i64) {
        self.in_flight
            .set(self.in_flight.get().saturating_add(delta));
    }

    /// A payload of `bytes` went to Lambda.
    pub fn payload(&self, bytes: usize) {
        let mut sizes = self.payload_sizes.borrow_mut();
        if sizes.len() < MAX_PENDING_SIZES {
            sizes.push(u64::try_from(bytes).unwrap_or(u64::MAX));
        } else {
            drop(sizes);
            self.count(Counter::PayloadSizesDropped);
        }
    }

    /// What has not been flushed of `counter` yet (tests).
    pub fn pending(&self, counter: Counter) -> u64 {
        self.counters.get(counter as usize).map_or(0, Cell::get)
    }

    /// Hands what moved to the host, and sets the gauges given. Errors are returned (the
    /// caller logs them); what failed to flush is not retried.
    pub fn flush(&self, host: &impl MetricsHost, gauges: &[(Gauge, u64)]) -> Result<(), HostError> {
        let Some(ids) = &self.ids else {
            return Ok(());
        };
        let mut first_error = None;
        let mut note = |r: Result<(), HostError>| {
            if let Err(e) = r {
                first_error.get_or_insert(e);
            }
        };
        for (cell, &id) in self.counters.iter().zip(&ids.counters) {
            let n = cell.take();
            if n > 0 {
                note(host.increment_metric(id, i64::try_from(n).unwrap_or(i64::MAX)));
            }
        }
        let in_flight = self.in_flight.take();
        if in_flight != 0 {
            if let Some(&id) = ids.gauges.get(Gauge::RequestsInFlight as usize) {
                note(host.increment_metric(id, in_flight));
            }
        }
        for &(gauge, value) in gauges {
            if let Some(&id) = ids.gauges.get(gauge as usize) {
                note(host.record_metric(id, value));
            }
        }
        let sizes = std::mem::take(&mut *self.payload_sizes.borrow_mut());
        for size in sizes {
            note(host.record_metric(ids.payload, size));
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Envoy's side: metrics by name, each with its kind and value (histograms: the values).
    #[derive(Default)]
    struct FakeMetrics {
        defined: RefCell<Vec<(MetricKind, String)>>,
        values: RefCell<BTreeMap<String, i64>>,
        recorded: RefCell<Vec<(String, u64)>>,
        calls: Cell<usize>,
    }

    impl FakeMetrics {
        fn name(&self, id: u32) -> String {
            self.defined.borrow()[id as usize].1.clone()
        }
        fn value(&self, name: &str) -> i64 {
            *self.values.borrow().get(name).unwrap_or(&0)
        }
    }

    impl MetricsHost for FakeMetrics {
        fn define_metric(&self, kind: MetricKind, name: &str) -> Result<u32, HostError> {
            let mut defined = self.defined.borrow_mut();
            defined.push((kind, name.to_owned()));
            Ok(u32::try_from(defined.len() - 1).unwrap())
        }
        fn increment_metric(&self, id: u32, delta: i64) -> Result<(), HostError> {
            self.calls.set(self.calls.get() + 1);
            *self.values.borrow_mut().entry(self.name(id)).or_default() += delta;
            Ok(())
        }
        fn record_metric(&self, id: u32, value: u64) -> Result<(), HostError> {
            self.calls.set(self.calls.get() + 1);
            let name = self.name(id);
            let kind = self.defined.borrow()[id as usize].0;
            if kind == MetricKind::Gauge {
                self.values.borrow_mut().insert(name, value as i64);
            } else {
                self.recorded.borrow_mut().push((name, value));
            }
            Ok(())
        }
    }

    fn defined(host: &FakeMetrics) -> Metrics {
        let mut m = Metrics::default();
        m.define(host).unwrap();
        m
    }

    #[test]
    fn every_name_is_defined_once_under_the_prefix_with_its_kind() {
        let host = FakeMetrics::default();
        defined(&host);
        let defined = host.defined.borrow();
        assert_eq!(defined.len(), COUNTERS + GAUGES + 1);
        let mut names: Vec<&str> = defined.iter().map(|(_, n)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), defined.len(), "no name twice");
        assert!(names.iter().all(|n| n.starts_with("mesh_lambda.")));
        assert!(defined.iter().all(|(_, n)| n
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_')));
        assert_eq!(
            defined[COUNTERS],
            (MetricKind::Gauge, "mesh_lambda.requests_in_flight".into())
        );
        assert_eq!(
            defined[COUNTERS + GAUGES],
            (
                MetricKind::Histogram,
                "mesh_lambda.request_payload_bytes".into()
            )
        );
        assert_eq!(
            defined[Counter::PayloadSizesDropped as usize].1,
            "mesh_lambda.payload_sizes_dropped"
        );
    }

    #[test]
    fn a_flush_hands_over_what_moved_once() {
        let host = FakeMetrics::default();
        let m = defined(&host);
        m.count(Counter::InvocationsSynchronous);
        m.count(Counter::InvocationsSynchronous);
        m.count(Counter::LambdaThrottled);
        m.in_flight(1);
        m.in_flight(1);
        m.in_flight(-1);
        m.payload(10);
        m.payload(2048);
        m.flush(&host, &[(Gauge::CredentialsExpirySeconds, 900)])
            .unwrap();

        assert_eq!(host.value("mesh_lambda.invocations.synchronous"), 2);
        assert_eq!(host.value("mesh_lambda.lambda_errors.throttled"), 1);
        assert_eq!(host.value("mesh_lambda.requests_in_flight"), 1);
        assert_eq!(host.value("mesh_lambda.credentials.expiry_seconds"), 900);
        let recorded = host.recorded.borrow().clone();
        let name = "mesh_lambda.request_payload_bytes".to_string();
        assert_eq!(recorded, vec![(name.clone(), 10), (name, 2048)]);
        // 2 counters, the in-flight delta, 1 gauge, 2 sizes.
        assert_eq!(host.calls.get(), 6);

        m.in_flight(-1);
        m.flush(&host, &[]).unwrap();
        assert_eq!(
            host.value("mesh_lambda.invocations.synchronous"),
            2,
            "not again"
        );
        assert_eq!(host.value("mesh_lambda.requests_in_flight"), 0);
        assert_eq!(host.calls.get(), 7, "only the gauge moved");
        m.flush(&host, &[]).unwrap();
        assert_eq!(host.calls.get(), 7, "nothing moved: no host call");
    }

    #[test]
    fn pending_payload_sizes_are_bounded_and_the_rest_counted() {
        let host = FakeMetrics::default();
        let m = defined(&host);
        for _ in 0..MAX_PENDING_SIZES + 3 {
            m.payload(1);
        }
        m.flush(&host, &[]).unwrap();
        assert_eq!(host.recorded.borrow().len(), MAX_PENDING_SIZES);
        assert_eq!(host.value("mesh_lambda.payload_sizes_dropped"), 3);
    }

    #[test]
    fn without_definitions_nothing_reaches_the_host() {
        let host = FakeMetrics::default();
        let m = Metrics::default();
        m.count(Counter::FunctionErrors);
        m.flush(&host, &[]).unwrap();
        assert_eq!(host.calls.get(), 0);
    }

    #[test]
    fn lambda_statuses_are_classed() {
        assert_eq!(Counter::lambda_error(200), None);
        assert_eq!(Counter::lambda_error(202), None);
        assert_eq!(Counter::lambda_error(429), Some(Counter::LambdaThrottled));
        assert_eq!(
            Counter::lambda_error(404),
            Some(Counter::LambdaClientErrors)
        );
        assert_eq!(
            Counter::lambda_error(413),
            Some(Counter::LambdaClientErrors)
        );
        assert_eq!(
            Counter::lambda_error(502),
            Some(Counter::LambdaServerErrors)
        );
    }
}
