//! Several functions in one VM: one agent per identity (distinct `credentials` settings),
//! each fetching once for all the functions that share it, and a request signed with, waiting
//! for, or failed by its own function's identity only.

use super::{base_keys, shared, sts_answer, T0};
use crate::credentials::environment::ProxyEnvironment;
use crate::credentials::shared::Availability;
use crate::host::fake::{FakeClock, FakeHost, FakeStore, FakeStreams, StreamState};
use crate::host::Clock;
use crate::request::flow::RequestFlow;
use crate::request::Action;
use crate::request::Plugin;
use crate::vm::agent::{CalloutAnswer, CredentialAgent};
use crate::vm::configure;
use std::cell::RefCell;
use std::rc::Rc;

const EAST: &str = "arn:aws:lambda:us-east-1:123456789012:function:authentication";
const WEST: &str = "arn:aws:lambda:us-west-2:123456789012:function:billing";
const METADATA: &str = "xds.route_metadata.filter_metadata.mesh_lambda.function";

/// `auth` with the top-level credentials, `billing` with its own block `billing`.
fn config(top: &str, billing: &str) -> String {
    format!(
        r#"{{"functions":{{
            "auth":{{"arn":"{EAST}","payload_passthrough":true}},
            "billing":{{"arn":"{WEST}","payload_passthrough":true{billing}}}}},
          "credentials":{{{top}}}}}"#
    )
}

fn role(name: &str) -> String {
    format!(
        r#""provider":"environment","assume_role":{{"role_arn":"arn:aws:iam::210987654321:role/{name}"}}"#
    )
}

/// One VM of a configuration with several functions, set up as the glue does.
struct Vm {
    host: FakeHost,
    streams: FakeStreams,
    plugin: Plugin,
    agents: Vec<CredentialAgent>,
}

impl Vm {
    fn new(
        clock: &FakeClock,
        store: &Rc<RefCell<FakeStore>>,
        json: &str,
        env: ProxyEnvironment,
    ) -> Self {
        let (mut plugin, mut agents) = configure(json.as_bytes(), env).unwrap();
        plugin.route_key = "mesh_lambda".into();
        let host = FakeHost::new(clock, store);
        for agent in &mut agents {
            agent.start(&host, &plugin);
        }
        Self {
            host,
            streams: FakeStreams::new(clock),
            plugin,
            agents,
        }
    }

    fn tick(&mut self) {
        for agent in &mut self.agents {
            agent.tick(&self.host, &self.streams, &self.plugin);
        }
    }

    /// Answers callout `token` (routed to the agent that owns it, as the glue does).
    fn answer(&mut self, token: u32, answer: CalloutAnswer<'_>) {
        let agent = self.agents.iter_mut().find(|a| a.owns(token)).unwrap();
        agent.on_callout_answer(&self.host, &self.streams, &self.plugin, token, answer);
    }

    /// The STS callouts made so far: token and the role they ask for.
    fn sts_calls(&self) -> Vec<(u32, String)> {
        self.host
            .callouts
            .borrow()
            .iter()
            .map(|(token, c)| {
                let body = String::from_utf8_lossy(&c.body).into_owned();
                let role = body
                    .split('&')
                    .find_map(|p| p.strip_prefix("RoleArn="))
                    .unwrap_or_default()
                    .rsplit("%2F")
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                (*token, role)
            })
            .collect()
    }

    /// A request for `function`, its body complete, handled by the request flow.
    fn request(&self, id: u32, function: &str) -> Action {
        let mut state = StreamState::request(&[(":method", "POST")], b"{}");
        state.properties = vec![(METADATA.into(), function.as_bytes().to_vec())];
        let stream = self.streams.add(id, state);
        let mut flow = RequestFlow::new(id);
        let at_headers = flow.on_request_headers(&self.plugin, &stream, false);
        if !self.streams.with(id, |s| s.replies.is_empty()) {
            return at_headers; // answered at its headers
        }
        flow.on_request_body(&self.plugin, &stream, 2, true)
    }

    /// The access key request `id` was signed with, or the status it was answered with.
    fn outcome(&self, id: u32) -> Result<String, u32> {
        self.streams.with(id, |s| match s.written("authorization") {
            Some(a) => {
                let key = a.split("Credential=").nth(1).unwrap_or_default();
                Ok(key.split('/').next().unwrap_or_default().to_owned())
            }
            None => Err(s.replies.first().map_or(0, |r| r.status)),
        })
    }

    fn key_ids(&self) -> Vec<Option<String>> {
        let now = self.host.now_ms();
        self.plugin
            .identities
            .iter()
            .map(|i| match i.credentials.borrow().availability(now) {
                Availability::Ready(c) => Some(c.access_key_id.clone()),
                _ => None,
            })
            .collect()
    }
}

/// `auth` assumes role `auth` (the top-level block), `billing` role `billing` (its own).
fn two_roles(clock: &FakeClock, store: &Rc<RefCell<FakeStore>>) -> Vm {
    let json = config(
        &role("auth"),
        &format!(r#","credentials":{{{}}}"#, role("billing")),
    );
    Vm::new(clock, store, &json, base_keys())
}

#[test]
fn two_roles_are_two_identities_fetched_once_each_and_each_request_signed_with_its_own() {
    let (clock, store) = shared();
    let mut vm = two_roles(&clock, &store);
    assert_eq!(vm.plugin.identities.len(), 2);
    assert_eq!(vm.agents.len(), 2);
    // Before either role is there, each function's request waits.
    assert_eq!(vm.request(1, "auth"), Action::Pause);
    assert_eq!(vm.request(2, "billing"), Action::Pause);
    vm.tick();
    let calls = vm.sts_calls();
    let roles: Vec<&str> = calls.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(roles, ["auth", "billing"], "one STS call per identity");
    let (auth_call, billing_call) = (calls[0].0, calls[1].0);
    // STS in each identity's function's region.
    let authorities: Vec<String> = vm
        .host
        .callouts
        .borrow()
        .iter()
        .map(|(_, c)| c.authority.clone())
        .collect();
    assert_eq!(
        authorities,
        ["sts.us-east-1.amazonaws.com", "sts.us-west-2.amazonaws.com"]
    );

    // The billing role arriving releases billing's request only.
    vm.answer(
        billing_call,
        Some((200, &sts_answer("ASIABILLING", T0, 3600))),
    );
    assert_eq!(vm.outcome(2), Ok("ASIABILLING".into()));
    assert_eq!(vm.outcome(1), Err(0), "auth's request still waits");
    vm.answer(auth_call, Some((200, &sts_answer("ASIAAUTH", T0, 3600))));
    assert_eq!(vm.outcome(1), Ok("ASIAAUTH".into()));

    // Later requests: each its own keys, and no further fetch however many.
    for id in 3..9 {
        let (function, key) = if id % 2 == 0 {
            ("billing", "ASIABILLING")
        } else {
            ("auth", "ASIAAUTH")
        };
        assert_eq!(vm.request(id, function), Action::Continue);
        assert_eq!(vm.outcome(id), Ok(key.into()), "{function}");
    }
    clock.advance(60_000);
    vm.tick();
    assert_eq!(vm.host.callout_count(), 2);
}

#[test]
fn functions_with_equal_settings_share_one_identity_and_one_fetch_across_vms() {
    let (clock, store) = shared();
    // billing's own block equals the top-level one (read for auth, the same region's STS
    // named explicitly): one identity.
    let same = format!(
        r#"{},"sts_region":"us-east-1"}}"#,
        role("shared").trim_end_matches('}')
    );
    let json = config(&same, &format!(r#","credentials":{{{same}}}"#));
    let mut a = Vm::new(&clock, &store, &json, base_keys());
    let mut b = Vm::new(&clock, &store, &json, base_keys());
    assert_eq!(a.plugin.identities.len(), 1);
    assert_eq!(a.agents.len(), 1);
    a.tick();
    b.tick();
    assert_eq!((a.host.callout_count(), b.host.callout_count()), (1, 0));
    let token = a.sts_calls()[0].0;
    a.answer(token, Some((200, &sts_answer("ASIASHARED", T0, 3600))));
    b.tick();
    assert_eq!(b.key_ids(), [Some("ASIASHARED".to_owned())]);
    assert_eq!(a.request(1, "auth"), Action::Continue);
    assert_eq!(b.request(2, "billing"), Action::Continue);
    assert_eq!(a.outcome(1), Ok("ASIASHARED".into()));
    assert_eq!(b.outcome(2), Ok("ASIASHARED".into()));

    // Without any block, every function has the default chain: one identity too.
    let json =
        format!(r#"{{"functions":{{"auth":{{"arn":"{EAST}"}},"billing":{{"arn":"{WEST}"}}}}}}"#);
    let vm = Vm::new(&clock, &Rc::default(), &json, base_keys());
    assert_eq!(vm.plugin.identities.len(), 1);
}

#[test]
fn the_same_settings_in_two_configurations_share_the_record_and_other_roles_do_not() {
    // An identity differing only in its role has a record (and a fetch) of its own, also in
    // the same proxy: the record's name is derived from the settings, the role among them.
    let (clock, store) = shared();
    let mut a = Vm::new(&clock, &store, &config(&role("auth"), ""), base_keys());
    let mut b = Vm::new(&clock, &store, &config(&role("other"), ""), base_keys());
    a.tick();
    b.tick();
    assert_eq!((a.host.callout_count(), b.host.callout_count()), (1, 1));
}

#[test]
fn a_failing_identity_fails_only_its_own_functions_requests() {
    let (clock, store) = shared();
    let mut vm = two_roles(&clock, &store);
    assert_eq!(vm.request(1, "auth"), Action::Pause);
    assert_eq!(vm.request(2, "billing"), Action::Pause);
    vm.tick();
    let calls = vm.sts_calls();
    let refusal = b"<ErrorResponse><Error><Code>AccessDenied</Code>\
        <Message>not authorized</Message></Error></ErrorResponse>";
    vm.answer(calls[1].0, Some((403, refusal)));
    assert_eq!(vm.outcome(2), Err(503), "billing's request answered");
    assert_eq!(
        vm.outcome(1),
        Err(0),
        "auth's request not failed by billing"
    );
    // A new billing request fails at its headers; a new auth request waits.
    vm.request(3, "billing");
    assert_eq!(vm.outcome(3), Err(503));
    assert_eq!(vm.request(4, "auth"), Action::Pause);
    clock.advance(10);
    vm.tick();
    assert_eq!(vm.outcome(1), Err(0), "still waiting after a tick");
    vm.answer(calls[0].0, Some((200, &sts_answer("ASIAAUTH", T0, 3600))));
    assert_eq!(vm.outcome(1), Ok("ASIAAUTH".into()));
    assert_eq!(vm.outcome(4), Ok("ASIAAUTH".into()));
    assert_eq!(vm.key_ids(), [Some("ASIAAUTH".to_owned()), None]);
    // Nothing unsigned left for billing: no headers were written for it.
    vm.streams.with(2, |s| assert_eq!(s.written_headers, None));
}

#[test]
fn the_gauges_give_the_soonest_expiry_of_those_that_expire_and_the_oldest_fetch() {
    use crate::access_keys::Credentials;
    use crate::credentials::shared::SharedRecord;
    use crate::metrics::Gauge;
    let (clock, store) = shared();
    let vm = two_roles(&clock, &store);
    let keys = |expires_at: Option<u64>| Credentials {
        access_key_id: "ASIAX".into(),
        secret_access_key: "s".into(),
        session_token: None,
        expires_at,
    };
    let gauges = |records: [SharedRecord; 2]| {
        for (identity, record) in vm.plugin.identities.iter().zip(records) {
            *identity.credentials.borrow_mut() = record;
        }
        vm.plugin.credential_gauges(T0 + 60_000)
    };
    let expiring = |s: u64, fetched: u64| {
        SharedRecord::succeeded("assume_role", keys(Some(T0 / 1000 + s)), fetched, 300)
    };
    assert_eq!(
        gauges([expiring(3600, T0), expiring(960, T0 + 30_000)]),
        [
            (Gauge::CredentialsExpirySeconds, 900),
            (Gauge::CredentialsAgeSeconds, 60)
        ]
    );
    // Keys that never expire (0) do not hide the other's expiry.
    let never = SharedRecord::succeeded("environment", keys(None), T0 + 30_000, 300);
    assert_eq!(
        gauges([never, expiring(3600, T0 + 50_000)]),
        [
            (Gauge::CredentialsExpirySeconds, 3540),
            (Gauge::CredentialsAgeSeconds, 30)
        ]
    );
}
