//! The agent's protocol on fakes of the host: VMs sharing one store and one clock, callouts
//! answered (or not) by the test.

use super::*;
use crate::config::parse_config;
use crate::credentials::environment::ProxyEnvironment;
use crate::host::fake::{FakeClock, FakeHost, FakeStore, FakeStreams, StreamState};
use crate::host::HostError;
use crate::request::flow::RequestFlow;
use crate::request::Action;
use crate::sigv4::date::amz_date;
use std::cell::RefCell;
use std::rc::Rc;

/// 2015-08-30T12:36:00Z.
const T0: u64 = 1_440_938_160_000;
const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:authentication";
/// Default fetch timeout (2 s) times the longest fetch's calls (5), plus 5 s.
const LEASE_MS: u64 = 15_000;

/// One VM: its host view, its streams, its plugin and agent.
struct Vm {
    host: FakeHost,
    streams: FakeStreams,
    plugin: Plugin,
    agent: CredentialAgent,
}

impl Vm {
    /// A VM whose only provider is the container endpoint.
    fn container(clock: &FakeClock, store: &Rc<RefCell<FakeStore>>, credentials: &str) -> Self {
        let env = ProxyEnvironment {
            container_relative_uri: Some("/v2/credentials/task".into()),
            ..ProxyEnvironment::default()
        };
        Self::new(clock, store, credentials, env)
    }

    fn new(
        clock: &FakeClock,
        store: &Rc<RefCell<FakeStore>>,
        credentials: &str,
        env: ProxyEnvironment,
    ) -> Self {
        let json = format!(
            r#"{{"arn":"{ARN}","payload_passthrough":true,"credentials":{{{credentials}}}}}"#
        );
        let config = parse_config(json.as_bytes()).unwrap();
        let plugin = Plugin::new(&config);
        let mut agent = CredentialAgent::new(Rc::clone(&plugin.identities[0]), env);
        let host = FakeHost::new(clock, store);
        agent.start(&host, &plugin);
        Self {
            host,
            streams: FakeStreams::new(clock),
            plugin,
            agent,
        }
    }

    fn tick(&mut self) -> Duration {
        self.agent.tick(&self.host, &self.streams, &self.plugin)
    }

    /// Answers the newest callout.
    fn answer(&mut self, answer: CalloutAnswer<'_>) {
        let (token, _) = self.host.last_callout().unwrap();
        self.agent
            .on_callout_answer(&self.host, &self.streams, &self.plugin, token, answer);
    }

    fn key_id(&self) -> Option<String> {
        let now = self.host.now_ms();
        match self.plugin.identities[0]
            .credentials
            .borrow()
            .availability(now)
        {
            Availability::Ready(c) => Some(c.access_key_id.clone()),
            _ => None,
        }
    }

    /// A request whose body is complete, handled by the request flow.
    fn request(&self, id: u32) -> Action {
        let stream = self
            .streams
            .add(id, StreamState::request(&[(":method", "POST")], b"{}"));
        let mut flow = RequestFlow::new(id);
        flow.on_request_headers(&self.plugin, &stream, false);
        flow.on_request_body(&self.plugin, &stream, 2, true)
    }
}

/// A container credentials document valid for `lifetime_s` from `now_ms`.
fn document(key_id: &str, now_ms: u64, lifetime_s: u64) -> Vec<u8> {
    // 20150830T133600Z as 2015-08-30T13:36:00Z.
    let d = amz_date(now_ms / 1000 + lifetime_s).into_bytes();
    let part = |range: std::ops::Range<usize>| String::from_utf8_lossy(&d[range]).into_owned();
    let expiration = format!(
        "{}-{}-{}T{}:{}:{}Z",
        part(0..4),
        part(4..6),
        part(6..8),
        part(9..11),
        part(11..13),
        part(13..15)
    );
    format!(
        r#"{{"AccessKeyId":"{key_id}","SecretAccessKey":"secret","Token":"token","Expiration":"{expiration}"}}"#
    )
    .into_bytes()
}

fn shared() -> (FakeClock, Rc<RefCell<FakeStore>>) {
    (FakeClock::at(T0), Rc::default())
}

#[test]
fn the_document_helper_writes_what_the_parser_reads() {
    let doc = document("ASIA1", T0, 3600);
    assert!(String::from_utf8(doc)
        .unwrap()
        .contains(r#""Expiration":"2015-08-30T13:36:00Z""#));
}

#[test]
fn two_vms_contend_for_the_lease_and_only_one_fetches() {
    let (clock, store) = shared();
    let mut a = Vm::container(&clock, &store, r#""provider":"container""#);
    let mut b = Vm::container(&clock, &store, r#""provider":"container""#);

    assert_eq!(a.tick(), FAST_TICK);
    assert_eq!(b.tick(), FAST_TICK);
    assert_eq!(a.host.callout_count(), 1, "the lease winner fetches");
    assert_eq!(b.host.callout_count(), 0, "the other waits for its result");
    let (_, callout) = a.host.last_callout().unwrap();
    assert_eq!(
        (callout.cluster.as_str(), callout.path.as_str()),
        ("aws_container_credentials", "/v2/credentials/task")
    );

    clock.advance(30);
    a.answer(Some((200, &document("ASIA1", T0, 3600))));
    assert_eq!(a.key_id().as_deref(), Some("ASIA1"));
    assert_eq!(b.key_id(), None, "not read until its next tick");
    assert_eq!(b.tick(), SLOW_TICK);
    assert_eq!(b.key_id().as_deref(), Some("ASIA1"));
    assert_eq!(a.tick(), SLOW_TICK);
    assert_eq!((a.host.callout_count(), b.host.callout_count()), (1, 0));
}

#[test]
fn a_vm_dying_mid_fetch_holds_the_lease_until_it_runs_out() {
    let (clock, store) = shared();
    let mut dying = Vm::container(&clock, &store, r#""provider":"container""#);
    let mut b = Vm::container(&clock, &store, r#""provider":"container""#);
    dying.tick();
    assert_eq!(dying.host.callout_count(), 1);
    drop(dying); // never answers, never releases

    for at in [50, 1_000, LEASE_MS - 1] {
        clock.set(T0 + at);
        assert_eq!(b.tick(), FAST_TICK);
        assert_eq!(b.host.callout_count(), 0, "lease still held at +{at} ms");
    }
    clock.set(T0 + LEASE_MS);
    b.tick();
    assert_eq!(b.host.callout_count(), 1, "the lease ran out: b fetches");
    b.answer(Some((200, &document("ASIA2", T0 + LEASE_MS, 3600))));
    assert_eq!(b.key_id().as_deref(), Some("ASIA2"));
}

#[test]
fn failed_fetches_back_off_1_2_4_seconds() {
    let (clock, store) = shared();
    let mut vm = Vm::container(&clock, &store, r#""provider":"container""#);
    let mut fetched_at = Vec::new();
    // Tick every 50 ms for 10 s; the endpoint fails every time, at once.
    for step in 0..200 {
        clock.set(T0 + step * 50);
        let before = vm.host.callout_count();
        vm.tick();
        if vm.host.callout_count() > before {
            fetched_at.push(step * 50);
            vm.answer(Some((500, b"down")));
        }
    }
    assert_eq!(fetched_at, vec![0, 1000, 3000, 7000]);
    let record = vm.plugin.identities[0].credentials.borrow().clone();
    assert_eq!(record.failures, 4);
    assert_eq!(
        record.error.as_deref(),
        Some("no AWS credentials from any provider (container: HTTP 500 from the credentials endpoint (down))")
    );
}

#[test]
fn a_waiting_request_is_signed_when_the_fetch_ends() {
    let (clock, store) = shared();
    let mut vm = Vm::container(&clock, &store, r#""provider":"container""#);
    vm.tick();
    assert_eq!(vm.request(1), Action::Pause);
    assert_eq!(vm.plugin.waiting.borrow().len(), 1);
    clock.advance(200);
    vm.answer(Some((200, &document("ASIA1", T0, 3600))));
    assert!(vm.plugin.waiting.borrow().is_empty());
    vm.streams.with(1, |s| {
        assert_eq!(s.resumed, 1);
        assert!(s
            .written("authorization")
            .unwrap()
            .contains("Credential=ASIA1/"));
        assert_eq!(s.written("x-amz-security-token").as_deref(), Some("token"));
    });
}

#[test]
fn a_waiting_request_gets_503_at_its_deadline_and_the_tick_slows_after() {
    let (clock, store) = shared();
    let mut vm = Vm::container(
        &clock,
        &store,
        r#""provider":"container","max_wait_ms":400"#,
    );
    vm.tick(); // the fetch starts and hangs
    vm.request(1);
    clock.advance(399);
    assert_eq!(vm.tick(), FAST_TICK);
    vm.streams.with(1, |s| assert!(s.replies.is_empty()));
    clock.advance(1);
    assert_eq!(vm.tick(), FAST_TICK, "still fetching");
    vm.streams.with(1, |s| {
        assert_eq!(s.replies.len(), 1);
        assert_eq!(s.replies[0].status, 503);
        assert!(s.replies[0].message.contains("after waiting 400 ms"));
        assert_eq!(s.written_headers, None);
    });
    assert!(vm.plugin.waiting.borrow().is_empty());
    // The hung callout times out in Envoy: no answer. The failure is recorded; nothing is
    // pending any more.
    vm.answer(None);
    assert_eq!(vm.tick(), SLOW_TICK);
    assert!(vm.plugin.identities[0]
        .credentials
        .borrow()
        .error
        .as_deref()
        .unwrap()
        .contains("no answer (timeout or connection failure)"));
}

#[test]
fn refresh_starts_the_margin_before_expiration_and_other_vms_follow() {
    let (clock, store) = shared();
    let margin = r#""provider":"container","refresh_margin_seconds":300"#;
    let mut a = Vm::container(&clock, &store, margin);
    let mut b = Vm::container(&clock, &store, margin);
    a.tick();
    a.answer(Some((200, &document("ASIA1", T0, 3600))));
    b.tick();

    clock.set(T0 + 3_299_950);
    assert_eq!((a.tick(), b.tick()), (SLOW_TICK, SLOW_TICK));
    assert_eq!((a.host.callout_count(), b.host.callout_count()), (1, 0));
    clock.set(T0 + 3_300_000);
    b.tick(); // b wins this time
    a.tick();
    assert_eq!((a.host.callout_count(), b.host.callout_count()), (1, 1));
    // The old credentials keep signing while the refresh runs.
    assert_eq!(a.key_id().as_deref(), Some("ASIA1"));
    assert_eq!(a.request(1), Action::Continue);
    b.answer(Some((200, &document("ASIA2", T0 + 3_300_000, 3600))));
    a.tick();
    assert_eq!(a.key_id().as_deref(), Some("ASIA2"));
}

#[test]
fn environment_credentials_need_no_callout_and_no_refresh() {
    let (clock, store) = shared();
    let env = ProxyEnvironment {
        access_key_id: Some("AKIDENV".into()),
        secret_access_key: Some("secret".into()),
        ..ProxyEnvironment::default()
    };
    let mut vm = Vm::new(&clock, &store, "", env);
    assert_eq!(vm.key_id().as_deref(), Some("AKIDENV"));
    assert_eq!(vm.request(1), Action::Continue);
    for _ in 0..3 {
        clock.advance(86_400_000);
        assert_eq!(vm.tick(), SLOW_TICK);
    }
    assert_eq!(vm.host.callout_count(), 0);
}

#[test]
fn a_missing_cluster_fails_the_provider_with_a_hint() {
    let (clock, store) = shared();
    let mut vm = Vm::container(&clock, &store, r#""provider":"container""#);
    *vm.host.refuse_dispatch.borrow_mut() = Some(HostError::BadArgument);
    vm.tick();
    assert_eq!(vm.request(1), Action::Pause);
    vm.streams.with(1, |s| {
        let message = &s.replies[0].message;
        assert!(
            message.contains("cannot call Envoy cluster \"aws_container_credentials\" (BadArgument); is it defined?"),
            "{message}"
        );
    });
}

#[test]
fn answers_to_other_callouts_are_ignored() {
    let (clock, store) = shared();
    let mut vm = Vm::container(&clock, &store, r#""provider":"container""#);
    vm.tick();
    let doc = document("ASIA9", T0, 3600);
    vm.agent
        .on_callout_answer(&vm.host, &vm.streams, &vm.plugin, 999, Some((200, &doc)));
    assert_eq!(vm.key_id(), None);
    assert!(vm.agent.fetching());
}

#[test]
fn an_unreadable_shared_record_is_not_taken() {
    let (clock, store) = shared();
    let mut a = Vm::container(&clock, &store, r#""provider":"container""#);
    a.tick();
    a.answer(Some((200, &document("ASIA1", T0, 3600))));
    let key = a.agent.record_key.clone();
    assert!(store.borrow().value(&key).is_some());
    a.host.set_shared(&key, b"garbage", None).unwrap();
    a.tick();
    assert_eq!(a.key_id().as_deref(), Some("ASIA1"), "kept its own copy");
}

/// Runs a VM's timer for `duration_ms` as the host would (each tick scheduled by the period
/// the last one asked for); callouts are answered at once by `endpoint`. Returns, per tick,
/// the time and whether a request would have been signed then.
fn run_timer(vm: &mut Vm, duration_ms: u64, endpoint: impl Fn(u64) -> Vec<u8>) -> Vec<(u64, bool)> {
    let end = vm.host.now_ms() + duration_ms;
    let mut seen = Vec::new();
    while vm.host.now_ms() < end {
        let before = vm.host.callout_count();
        let period = vm.tick();
        if vm.host.callout_count() > before {
            let doc = endpoint(vm.host.now_ms());
            vm.answer(Some((200, &doc)));
        }
        seen.push((vm.host.now_ms(), vm.key_id().is_some()));
        vm.host
            .clock
            .advance(u64::try_from(period.as_millis()).unwrap());
    }
    seen
}

#[test]
fn a_margin_inside_the_expiry_skew_still_refreshes_in_time() {
    // Credentials stop being used 5 s before Expiration; with a 2 s margin the refresh must
    // not wait for the margin: 7 s credentials are refreshed while still in use.
    let (clock, store) = shared();
    let mut vm = Vm::container(
        &clock,
        &store,
        r#""provider":"container","refresh_margin_seconds":2"#,
    );
    let ticks = run_timer(&mut vm, 20_000, |now| document("ASIA", now, 7));
    assert!(vm.host.callout_count() >= 5, "{}", vm.host.callout_count());
    let unsigned: Vec<_> = ticks.iter().filter(|(_, usable)| !usable).collect();
    assert_eq!(
        unsigned,
        Vec::<&(u64, bool)>::new(),
        "a gap without usable credentials"
    );
}

#[test]
fn credentials_inside_the_margin_are_not_fetched_in_a_tight_loop() {
    // 60 s credentials with the default 300 s margin are due as soon as they arrive: the next
    // fetch is halfway to their going out of use (27.5 s), not on every tick.
    let (clock, store) = shared();
    let mut vm = Vm::container(&clock, &store, r#""provider":"container""#);
    run_timer(&mut vm, 27_000, |now| document("ASIA", now, 60));
    assert_eq!(vm.host.callout_count(), 1);
    run_timer(&mut vm, 1_500, |now| document("ASIA", now, 60)); // ticks at 27 s and 28 s
    assert_eq!(vm.host.callout_count(), 2);
}

#[test]
fn fetches_and_failures_are_counted_by_provider_and_the_gauges_follow() {
    use crate::metrics::{Counter, Gauge};
    let (clock, store) = shared();
    let env = ProxyEnvironment {
        container_relative_uri: Some("/v2/credentials/task".into()),
        ..ProxyEnvironment::default()
    };
    // The environment has no keys: it fails, then the container endpoint is asked.
    let mut vm = Vm::new(
        &clock,
        &store,
        r#""providers":["environment","container"]"#,
        env,
    );
    vm.tick();
    vm.answer(Some((500, b"down")));
    let pending = |vm: &Vm, c| vm.plugin.metrics.pending(c);
    assert_eq!(pending(&vm, Counter::FetchFailuresEnvironment), 1);
    assert_eq!(pending(&vm, Counter::FetchFailuresContainer), 1);
    assert_eq!(pending(&vm, Counter::FetchesContainer), 0);

    clock.set(T0 + 1000);
    vm.tick();
    vm.answer(Some((200, &document("ASIA1", T0 + 1000, 3600))));
    assert_eq!(pending(&vm, Counter::FetchFailuresEnvironment), 2);
    assert_eq!(pending(&vm, Counter::FetchFailuresContainer), 1);
    assert_eq!(pending(&vm, Counter::FetchesContainer), 1);
    assert_eq!(
        vm.plugin.credential_gauges(T0 + 61_000),
        [
            (Gauge::CredentialsExpirySeconds, 3540),
            (Gauge::CredentialsAgeSeconds, 60)
        ]
    );
}

/// STS's answer to `AssumeRole`: credentials `key_id` valid for `lifetime_s` from `now_ms`.
fn sts_answer(key_id: &str, now_ms: u64, lifetime_s: u64) -> Vec<u8> {
    let d = amz_date(now_ms / 1000 + lifetime_s);
    let expiration = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &d[0..4],
        &d[4..6],
        &d[6..8],
        &d[9..11],
        &d[11..13],
        &d[13..15]
    );
    format!(
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>{key_id}</AccessKeyId>\
         <SecretAccessKey>role-secret</SecretAccessKey><SessionToken>role-token</SessionToken>\
         <Expiration>{expiration}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"
    )
    .into_bytes()
}

const ASSUME_ROLE: &str = r#""provider":"environment","refresh_margin_seconds":300,
    "assume_role":{"role_arn":"arn:aws:iam::210987654321:role/invoker","external_id":"ext-1"}"#;

fn base_keys() -> ProxyEnvironment {
    ProxyEnvironment {
        access_key_id: Some("AKIDBASE".into()),
        secret_access_key: Some("base-secret".into()),
        ..ProxyEnvironment::default()
    }
}

#[test]
fn an_assumed_role_is_fetched_once_shared_used_to_sign_and_refreshed_ahead_of_expiry() {
    use crate::metrics::Counter;
    let (clock, store) = shared();
    let mut a = Vm::new(&clock, &store, ASSUME_ROLE, base_keys());
    let mut b = Vm::new(&clock, &store, ASSUME_ROLE, base_keys());
    assert_eq!(
        a.key_id(),
        None,
        "base keys from the environment are not signing keys"
    );
    a.tick();
    b.tick();
    assert_eq!((a.host.callout_count(), b.host.callout_count()), (1, 0));
    let (_, sts) = a.host.last_callout().unwrap();
    assert_eq!(
        (sts.cluster.as_str(), sts.authority.as_str()),
        ("sts", "sts.us-east-1.amazonaws.com")
    );
    assert!(String::from_utf8(sts.body)
        .unwrap()
        .ends_with("&ExternalId=ext-1"));
    assert_eq!(
        a.request(1),
        Action::Pause,
        "a request waits for the assumed role"
    );

    a.answer(Some((200, &sts_answer("ASIAROLE1", T0, 3600))));
    b.tick();
    assert_eq!(a.key_id().as_deref(), Some("ASIAROLE1"));
    assert_eq!(b.key_id().as_deref(), Some("ASIAROLE1"));
    a.streams.with(1, |s| {
        assert!(s
            .written("authorization")
            .unwrap()
            .contains("Credential=ASIAROLE1/"));
        assert_eq!(
            s.written("x-amz-security-token").as_deref(),
            Some("role-token")
        );
    });
    assert_eq!(a.plugin.metrics.pending(Counter::FetchesAssumeRole), 1);
    assert_eq!(a.plugin.metrics.pending(Counter::FetchesEnvironment), 0);

    // 300 s before Expiration the next fetch asks STS again, signed with the base keys.
    clock.set(T0 + 3_299_999);
    a.tick();
    b.tick();
    assert_eq!(a.host.callout_count() + b.host.callout_count(), 1);
    clock.set(T0 + 3_300_000);
    a.tick();
    b.tick();
    assert_eq!(a.host.callout_count() + b.host.callout_count(), 2);
    let fetcher = if a.agent.fetching() { &mut a } else { &mut b };
    let (_, sts) = fetcher.host.last_callout().unwrap();
    assert!(sts
        .headers
        .iter()
        .any(|(n, v)| *n == "authorization"
            && v.contains("Credential=AKIDBASE/20150830/us-east-1/sts/")));
    fetcher.answer(Some((200, &sts_answer("ASIAROLE2", T0 + 3_300_000, 3600))));
    a.tick();
    b.tick();
    assert_eq!(a.key_id().as_deref(), Some("ASIAROLE2"));
    assert_eq!(b.key_id().as_deref(), Some("ASIAROLE2"));
}

#[test]
fn an_sts_refusal_answers_503_naming_the_role_and_stss_reason() {
    use crate::metrics::Counter;
    let (clock, store) = shared();
    let mut vm = Vm::new(&clock, &store, ASSUME_ROLE, base_keys());
    vm.tick();
    assert_eq!(vm.request(1), Action::Pause);
    vm.answer(Some((
        403,
        b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
          <Message>not authorized to perform: sts:AssumeRole</Message></Error></ErrorResponse>",
    )));
    let expected = "cannot assume role arn:aws:iam::210987654321:role/invoker: STS refused \
                    (HTTP 403): AccessDenied: not authorized to perform: sts:AssumeRole; \
                    nothing was sent to Lambda";
    vm.streams.with(1, |s| {
        assert_eq!(s.replies.len(), 1);
        assert_eq!(s.replies[0].status, 503);
        assert_eq!(s.replies[0].message, expected);
        assert_eq!(s.written_headers, None);
    });
    assert_eq!(
        vm.plugin.metrics.pending(Counter::FetchFailuresAssumeRole),
        1
    );
    // The next request is answered at its headers, with the same reason.
    let stream = vm
        .streams
        .add(2, StreamState::request(&[(":method", "POST")], b"{}"));
    let mut flow = RequestFlow::new(2);
    flow.on_request_headers(&vm.plugin, &stream, false);
    vm.streams
        .with(2, |s| assert_eq!(s.replies[0].message, expected));
}

#[test]
fn a_missing_sts_cluster_is_named_with_a_hint() {
    let (clock, store) = shared();
    let mut vm = Vm::new(&clock, &store, ASSUME_ROLE, base_keys());
    *vm.host.refuse_dispatch.borrow_mut() = Some(HostError::BadArgument);
    vm.tick();
    assert_eq!(vm.request(1), Action::Pause);
    vm.streams.with(1, |s| {
        assert_eq!(
            s.replies[0].message,
            "cannot assume role arn:aws:iam::210987654321:role/invoker: no answer from STS \
             (sts.us-east-1.amazonaws.com, cluster \"sts\"): cannot call Envoy cluster \"sts\" \
             (BadArgument); is it defined?; nothing was sent to Lambda"
        );
    });
}

/// Shared data is a map per `vm_id`, read and written by name (proxy-wasm-cpp-host,
/// `src/shared_data.cc`: `SharedData::get` / `set` take the vm_id and the key; the ABI lists
/// no names). The record's name is a hash of this build's constant and the settings: it shows
/// neither, and a module that knows the settings (the defaults, say) cannot make it from them.
/// VMs with the same settings still share the record; other settings get another.
#[test]
fn the_shared_record_is_named_by_a_hash_of_this_build_and_the_settings() {
    let (clock, store) = shared();
    let a = Vm::container(&clock, &store, r#""provider":"container""#);
    let b = Vm::container(&clock, &store, r#""provider":"container""#);
    let key = &a.agent.record_key;
    assert_eq!(*key, b.agent.record_key);
    let settings = "container|aws_container_credentials|aws_instance_metadata";
    assert_ne!(*key, format!("mesh-lambda/credentials/{settings}"));
    assert!(!key.contains("aws_container_credentials"), "{key}");
    assert_ne!(*key, record_name("other settings"));
    assert_eq!(*key, record_name(settings));
    assert_eq!(a.agent.lease_key, format!("{key}/lease"));
}

mod identities;
