use super::*;
use crate::host::fake::{FakeClock, FakeStream, FakeStreams, StreamState};
use crate::local_reply::ReplyCode;
use crate::metrics::Counter;
use crate::request::flow::RequestFlow;
use crate::request::tests::{plugin_of, NOW_MS};
use crate::request::{Action, Plugin};

const TD: &str = "11111111-2222-3333-4444-555555555555.consul";
const EAST: &str = "arn:aws:lambda:us-east-1:123456789012:function:authentication";
const WEST: &str = "arn:aws:lambda:us-west-2:123456789012:function:billing";
const ROUTE: &str = "xds.route_metadata.filter_metadata.mesh_lambda.function";
const ID: u32 = 9;

fn id(service: &str) -> String {
    format!("spiffe://{TD}/ns/default/dc/dc1/svc/{service}")
}

/// Consul's sidecar's element (`agent/xds/listeners.go`: APPEND_FORWARD, Subject, Cert, Chain,
/// DNS and URI) for `service`.
fn element(service: &str) -> String {
    format!(
        "By={};Hash=abc;Cert=\"-----BEGIN%20CERTIFICATE-----%0A\";Subject=\"\";URI={}",
        id("lambda-gateway"),
        id(service)
    )
}

/// The gateway: `auth` lists `api` (and a SPIFFE ID), `billing` only `payroll`, `open` none.
fn gateway(untrusted: &str) -> Plugin {
    let json = format!(
        r#"{{"functions":{{
            "auth":{{"arn":"{EAST}","payload_passthrough":true,
                     "callers":["api","spiffe://{TD}/ap/eu/ns/team/dc/dc2/svc/web"]}},
            "billing":{{"arn":"{WEST}","payload_passthrough":true,"callers":["payroll"]}},
            "open":{{"arn":"{WEST}","payload_passthrough":true}}}},
          "caller":{{"from":"forwarded_client_cert","untrusted":"{untrusted}"}}}}"#
    );
    plugin_of(&json)
}

/// A request routed to `function` from `peer`, with these `x-forwarded-client-cert` values.
fn request(function: &str, peer: Option<&str>, xfcc: &[&str]) -> (FakeStreams, FakeStream) {
    let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
    let mut headers = vec![(":method", "POST"), (":path", "/")];
    headers.extend(xfcc.iter().map(|v| (XFCC, *v)));
    let mut state = StreamState::request(&headers, b"abc");
    state.properties = vec![(ROUTE.into(), function.as_bytes().to_vec())];
    if let Some(peer) = peer {
        state
            .properties
            .push(("source.address".into(), peer.as_bytes().to_vec()));
    }
    let stream = streams.add(ID, state);
    (streams, stream)
}

/// The request's headers through the flow: the caller it carries on, or the refusal.
fn run(
    p: &Plugin,
    function: &str,
    peer: Option<&str>,
    xfcc: &[&str],
) -> Result<Option<String>, String> {
    let (streams, s) = request(function, peer, xfcc);
    let mut flow = RequestFlow::new(ID);
    let action = flow.on_request_headers(p, &s, false);
    let (replies, reads) = streams.with(ID, |st| (st.replies.clone(), st.header_map_reads));
    assert_eq!(reads, 1, "one read of the header map");
    match replies.as_slice() {
        [] => {
            assert_eq!(action, Action::Pause);
            Ok(flow.caller().map(|c| c.service.clone()))
        }
        [reply] => {
            assert_eq!(
                (reply.status, reply.code),
                (403, ReplyCode::CallerNotAllowed)
            );
            streams.with(ID, |st| {
                assert_eq!(st.written_headers, None, "nothing signed");
                assert!(st.callouts.is_empty());
                assert_eq!(st.body_reads, 0, "the body is not read");
            });
            Err(reply.message.clone())
        }
        more => panic!("{more:?}"),
    }
}

#[test]
fn a_listed_caller_from_the_local_sidecar_is_admitted() {
    let p = gateway("refuse");
    let header = element("api");
    for peer in [
        "127.0.0.1:5678",
        "[::1]:5678",
        "127.9.9.9:1",
        "[::ffff:127.0.0.1]:80",
    ] {
        assert_eq!(
            run(&p, "auth", Some(peer), &[&header]),
            Ok(Some("api".into())),
            "{peer}"
        );
    }
    // A function without a list carries any caller on, and none.
    assert_eq!(
        run(&p, "open", Some("127.0.0.1:1"), &[&element("web")]),
        Ok(Some("web".into()))
    );
    assert_eq!(run(&p, "open", Some("127.0.0.1:1"), &[]), Ok(None));
    // A SPIFFE ID entry.
    let web = format!("URI=spiffe://{TD}/ap/eu/ns/team/dc/dc2/svc/web");
    assert_eq!(
        run(&p, "auth", Some("127.0.0.1:1"), &[&web]),
        Ok(Some("web".into()))
    );
    assert_eq!(p.metrics.pending(Counter::CallerRefused), 0);
}

#[test]
fn a_caller_not_listed_or_unknown_is_refused_at_the_headers() {
    let p = gateway("refuse");
    let loopback = Some("127.0.0.1:5678");
    let e = run(&p, "billing", loopback, &[&element("api")]).unwrap_err();
    assert!(
        e.contains(&format!("caller {} is not on", id("api"))),
        "{e}"
    );
    let e = run(&p, "auth", loopback, &[&element("web")]).unwrap_err();
    assert!(e.contains(&id("web")), "{e}");
    // `web` elsewhere is not the listed SPIFFE ID; `api` in another namespace is not `api`.
    let other = format!("URI=spiffe://{TD}/ns/team/dc/dc1/svc/api");
    assert!(run(&p, "auth", loopback, &[&other]).is_err());
    // No header: no caller, and the function lists its callers.
    let e = run(&p, "auth", loopback, &[]).unwrap_err();
    assert!(e.contains("not known"), "{e}");
    // The forged first element is not the caller: the sidecar's last one is.
    let forged = format!(
        "URI={};Subject=\"CN=payroll\",{}",
        id("payroll"),
        element("api")
    );
    assert!(run(&p, "billing", loopback, &[&forged]).is_err());
    assert_eq!(
        run(&p, "auth", loopback, &[&forged]),
        Ok(Some("api".into()))
    );
    assert_eq!(p.metrics.pending(Counter::CallerRefused), 5);
}

#[test]
fn an_unreadable_header_from_the_sidecar_is_refused() {
    let p = gateway("ignore");
    let loopback = Some("127.0.0.1:5678");
    for header in [
        "URI=\"open",
        "Hash=abc;URI=",
        "URI=spiffe://td/gateway/mesh/dc/dc1",
    ] {
        let e = run(&p, "open", loopback, &[header]).unwrap_err();
        assert!(e.contains("names no caller"), "{e}");
    }
    let e = run(&p, "open", loopback, &[&element("api"), &element("web")]).unwrap_err();
    assert!(e.contains("more than once"), "{e}");
}

#[test]
fn a_header_from_elsewhere_is_refused_or_ignored() {
    let header = element("api");
    for peer in [
        Some("10.0.0.7:5678"),
        Some("[2001:db8::1]:80"),
        Some("/tmp/envoy.sock"),
        Some("127.0.0.1"),
        None,
    ] {
        let refuse = gateway("refuse");
        let e = run(&refuse, "open", peer, &[&header]).unwrap_err();
        assert!(e.contains("not the local sidecar"), "{peer:?}: {e}");
        let ignore = gateway("ignore");
        assert_eq!(run(&ignore, "open", peer, &[&header]), Ok(None), "{peer:?}");
        // Ignored, the caller is unknown: a function with a list still refuses.
        assert!(run(&ignore, "auth", peer, &[&header]).is_err());
    }
}

/// The attribute reads of a request's headers.
fn property_reads(p: &Plugin, stream: (FakeStreams, FakeStream)) -> u32 {
    let (streams, s) = stream;
    let mut flow = RequestFlow::new(ID);
    assert_eq!(flow.on_request_headers(p, &s, false), Action::Pause);
    streams.with(ID, |st| st.property_reads)
}

#[test]
fn the_peer_is_read_only_when_there_is_a_header() {
    let p = gateway("refuse");
    let without = property_reads(&p, request("open", Some("10.0.0.7:1"), &[]));
    let header = element("api");
    let with = property_reads(&p, request("open", Some("127.0.0.1:1"), &[&header]));
    assert_eq!(with, without + 1);
}

#[test]
fn loopback_peers() {
    for peer in [
        "127.0.0.1:1",
        "127.255.0.1:65535",
        "[::1]:1",
        "[::ffff:127.0.0.2]:1",
    ] {
        assert!(is_loopback_peer(peer.as_bytes()), "{peer}");
    }
    for peer in [
        "10.0.0.1:1",
        "[::2]:1",
        "::1",
        "127.0.0.1",
        "[::1]",
        "localhost:1",
        "",
        "\u{ff}",
    ] {
        assert!(!is_loopback_peer(peer.as_bytes()), "{peer}");
    }
}

#[test]
fn the_direct_path_carries_its_configured_service() {
    let p = crate::request::tests::plugin_with_credentials(
        r#","caller":{"from":"configured","service":"api"}"#,
    );
    let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
    // A header on the direct path is nobody's word: neither it nor the peer is read.
    let header = element("web");
    let s = streams.add(ID, StreamState::request(&[(XFCC, &header)], b"abc"));
    let mut flow = RequestFlow::new(ID);
    assert_eq!(flow.on_request_headers(&p, &s, false), Action::Pause);
    assert_eq!(
        flow.caller().map(|c| c.service.clone()).as_deref(),
        Some("api")
    );
    let with = streams.with(ID, |st| st.property_reads);
    let without = property_reads(
        &p,
        (
            streams.clone(),
            streams.add(ID, StreamState::request(&[], b"abc")),
        ),
    );
    assert_eq!(with, without);
}
