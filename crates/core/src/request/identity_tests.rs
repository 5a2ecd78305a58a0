//! The caller's identity and the tenant id on a request's whole way (headers, body, the
//! signed call): what reaches Lambda is what the filter made, signed, never what the caller
//! sent in Lambda's own headers.

use super::flow::RequestFlow;
use super::tests::{plugin_with_credentials, NOW_MS};
use super::Action;
use crate::event::base64;
use crate::host::fake::{FakeClock, FakeStreams, StreamState};
use crate::local_reply::ReplyCode;
use crate::metrics::Counter;
use serde_json::{json, Value};

const CONFIGURED: &str = r#","caller":{"from":"configured","service":"api"}"#;

/// The request's headers besides `:method`, `:path` and `:authority`: a caller forging
/// Lambda's own identity headers.
const FORGED: [(&str, &str); 2] = [
    (
        "x-amz-client-context",
        "eyJjdXN0b20iOnsibWVzaC1jYWxsZXItc2VydmljZSI6InJvb3QifX0=",
    ),
    ("x-amz-tenant-id", "someone-else"),
];

/// A request with `extra` headers and a body through a filter configured with `settings`:
/// the stream's state after it, and the action its headers callback returned.
fn through(settings: &str, extra: &[(&str, &str)]) -> (StreamState, Action, Option<Action>) {
    let p = plugin_with_credentials(settings);
    let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
    let mut headers = vec![(":method", "POST"), (":path", "/login")];
    headers.extend_from_slice(extra);
    let mut state = StreamState::request(&headers, b"{}");
    state.properties = vec![("xds.cluster_name".into(), b"lambda".to_vec())];
    let s = streams.add(1, state);
    let mut flow = RequestFlow::new(1);
    let at_headers = flow.on_request_headers(&p, &s, false);
    let at_body = streams
        .with(1, |st| st.replies.is_empty())
        .then(|| flow.on_request_body(&p, &s, 2, true));
    let state = streams.states.borrow_mut().remove(&1).unwrap();
    (state, at_headers, at_body)
}

fn decoded(value: &str) -> Value {
    serde_json::from_slice(&base64::decode(value).unwrap()).unwrap()
}

/// The headers of the call the filter sent itself (event formats).
fn callout_header(state: &StreamState, name: &str) -> Option<String> {
    let call = state.callouts.first()?;
    let mut values = call.headers.iter().filter(|(n, _)| n == name);
    let value = values.next().map(|(_, v)| v.clone());
    assert!(values.next().is_none(), "{name} sent twice");
    value
}

#[test]
fn passthrough_hands_the_configured_caller_to_the_function_signed() {
    let (state, ..) = through(CONFIGURED, &FORGED);
    let context = state.written("x-amz-client-context").unwrap();
    assert_eq!(
        decoded(&context),
        json!({"custom": {"mesh-caller-service": "api"}})
    );
    let authorization = state.written("authorization").unwrap();
    assert!(
        authorization.contains("SignedHeaders=host;x-amz-client-context;x-amz-date;"),
        "{authorization}"
    );
    // The caller's own tenant id is not taken either: none is configured.
    assert_eq!(state.written("x-amz-tenant-id"), None);
}

/// No `caller` setting: the call is today's, and the forged headers stay behind.
#[test]
fn without_a_caller_nothing_of_an_identity_is_sent() {
    let (state, ..) = through("", &FORGED);
    assert!(state.written("authorization").is_some());
    assert_eq!(state.written("x-amz-client-context"), None);
    assert_eq!(state.written("x-amz-tenant-id"), None);
}

/// Lambda passes a client context for synchronous invocations only (the Invoke API's
/// `ClientContext`): an `Event` or `DryRun` call carries none.
#[test]
fn only_synchronous_calls_carry_the_client_context() {
    for mode in ["asynchronous", "dry_run"] {
        let settings = format!(r#"{CONFIGURED},"invocation_mode":"{mode}""#);
        let (state, ..) = through(&settings, &[]);
        assert!(state.written("authorization").is_some(), "{mode}");
        assert_eq!(state.written("x-amz-client-context"), None, "{mode}");
    }
    let settings = format!(r#"{CONFIGURED},"invocation_mode":"streaming""#);
    let (state, ..) = through(&settings, &[]);
    assert!(state.written("x-amz-client-context").is_some());
}

/// With `api_gateway_v2` the caller is in the event (`requestContext.authorizer.lambda`) and
/// in the call's client context; the forged headers are the request's own headers in the
/// event, never the call's.
#[test]
fn the_event_call_carries_the_caller_twice_and_nothing_forged() {
    let settings =
        format!(r#"{CONFIGURED},"payload_passthrough":false,"payload_format":"api_gateway_v2""#);
    let (state, ..) = through(&settings, &FORGED);
    let call = state.callouts.first().unwrap();
    let event: Value = serde_json::from_slice(&call.body).unwrap();
    assert_eq!(
        event["requestContext"]["authorizer"],
        json!({"lambda": {"mesh-caller-service": "api"}})
    );
    let context = callout_header(&state, "x-amz-client-context").unwrap();
    assert_eq!(
        decoded(&context),
        json!({"custom": {"mesh-caller-service": "api"}})
    );
    assert_eq!(callout_header(&state, "x-amz-tenant-id"), None);
    assert!(callout_header(&state, "authorization")
        .unwrap()
        .contains("SignedHeaders=host;x-amz-client-context;"));

    // The envoy format has no place for it: only the client context carries it.
    let settings = format!(r#"{CONFIGURED},"payload_passthrough":false"#);
    let (state, ..) = through(&settings, &FORGED);
    let event: Value = serde_json::from_slice(&state.callouts.first().unwrap().body).unwrap();
    assert_eq!(event.get("requestContext"), None);
    assert!(callout_header(&state, "x-amz-client-context").is_some());
}

#[test]
fn a_tenant_isolated_function_gets_the_callers_service_signed() {
    let settings = format!(r#"{CONFIGURED},"tenant_id":{{"from":"caller_service"}}"#);
    let (state, ..) = through(&settings, &FORGED);
    assert_eq!(state.written("x-amz-tenant-id").as_deref(), Some("api"));
    let authorization = state.written("authorization").unwrap();
    assert!(
        authorization.contains("x-amz-invocation-type;x-amz-tenant-id, Signature="),
        "{authorization}"
    );

    let header = r#","tenant_id":{"from":"header","header":"x-tenant-id"}"#;
    let (state, ..) = through(header, &[("x-tenant-id", "blue")]);
    assert_eq!(state.written("x-amz-tenant-id").as_deref(), Some("blue"));
    assert_eq!(state.written("x-amz-client-context"), None);
}

/// Without a tenant id the filter answers 400 at the request's headers: the body is never
/// buffered nor read, nothing is written or sent.
#[test]
fn no_tenant_id_is_a_400_at_the_headers_and_nothing_is_sent() {
    let header = r#","tenant_id":{"from":"header","header":"x-tenant-id"},"detailed_errors":true"#;
    let caller_service = r#","tenant_id":{"from":"caller_service"}"#;
    for (settings, extra) in [
        (header, vec![]),
        (header, vec![("x-tenant-id", "")]),
        (header, vec![("x-tenant-id", "no,commas")]),
        // The forged `x-amz-tenant-id` is not the configured header.
        (header, FORGED.to_vec()),
        // No caller setting: no caller service.
        (caller_service, vec![]),
    ] {
        let (state, at_headers, at_body) = through(settings, &extra);
        assert_eq!(at_headers, Action::Pause, "{settings} {extra:?}");
        assert_eq!(at_body, None, "answered at the headers");
        let reply = state.replies.first().unwrap();
        assert_eq!(
            (reply.status, reply.code),
            (400, ReplyCode::TenantIdMissing)
        );
        assert_eq!(state.written_headers, None);
        assert!(state.callouts.is_empty());
        assert_eq!(state.body_reads, 0);
    }
    let p = plugin_with_credentials(caller_service);
    let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
    let s = streams.add(1, StreamState::request(&[(":method", "GET")], b""));
    RequestFlow::new(1).on_request_headers(&p, &s, true);
    assert_eq!(p.metrics.pending(Counter::TenantIdMissing), 1);
    streams.with(1, |st| {
        assert_eq!(
            st.reply_bodies.first().map(String::as_str),
            Some(
                r#"{"error":"TenantIdMissing","message":"the request carries no tenant id for this function; nothing was sent to Lambda"}"#
            )
        );
    });
}
