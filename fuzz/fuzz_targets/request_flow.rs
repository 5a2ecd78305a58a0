//! The whole request path for any request, in every configuration the first byte picks
//! (`plugin`'s bits, and bit 6 a 64-byte `max_request_bytes`, bit 7 a session token): then
//! Envoy's view of it (`Envoy`), then the request as text (`Message`).
//!
//! The request gets exactly one outcome. Passthrough: it is rewritten into the Invoke call,
//! which carries the filter's method, path, host and signature and none of the caller's
//! `authorization` or `x-amz-*`. Event formats: the filter's own call carries the event
//! (JSON) with its length, and the same. The signature is the one the general SigV4 signer
//! computes for what is sent. Else a 413 (or a 500 for a request without `:authority`, which
//! Envoy never hands a filter, or for a clock past the year 9999).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::access_keys::Credentials;
use mesh_lambda_core::credentials::shared::SharedRecord;
use mesh_lambda_core::header_pairs;
use mesh_lambda_core::request::flow::RequestFlow;
use mesh_lambda_core::request::{Action, Plugin};
use mesh_lambda_core::sigv4::general::{Payload, Request, Signer};
use mesh_lambda_core::sigv4::key::LAST_SIGNABLE_SECOND;
use mesh_lambda_fuzz::{json_object, plugin, serialize, Envoy, Message, Sent, Stream};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let (envoy, text) = Envoy::read(rest);
    let request = Message::read(text);
    let limit = if choice & 0x40 != 0 {
        r#","max_request_bytes":64"#
    } else {
        ""
    };
    let plugin = plugin(choice, limit);
    let credentials = Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: (choice & 0x80 != 0).then(|| "IQoJb3JpZ2luX2VjEXAMPLE".into()),
        expires_at: None,
    };
    let now_ms = envoy.now_ms;
    *plugin.identities[0].credentials.borrow_mut() =
        SharedRecord::succeeded("environment", credentials.clone(), now_ms, 300);
    let stream = Stream {
        now_ms,
        request: serialize(&request.request_headers()),
        body: request.body.unwrap_or_default().to_vec(),
        envoy: Some(envoy),
        ..Stream::default()
    };
    let has_authority = request
        .request_headers()
        .iter()
        .any(|(name, _)| name == ":authority");
    let mut flow = RequestFlow::new(1);
    let body_len = stream.body.len();
    let action = flow.on_request_headers(&plugin, &stream, request.body.is_none());
    if action == Action::Pause && stream.sent.borrow().is_empty() {
        flow.on_request_body(&plugin, &stream, body_len, true);
    }
    let sent = stream.sent.borrow();
    let [outcome] = sent.as_slice() else {
        panic!("the request had {} outcomes: {sent:?}", sent.len());
    };
    match outcome {
        Sent::Rewritten(map) => {
            assert!(plugin.functions.the_one().unwrap().event_format.is_none());
            let Some(pairs) = header_pairs::parse(map) else {
                panic!("the rewritten request does not read");
            };
            let pairs: Vec<(&str, &[u8])> = pairs;
            // The signed call keeps the caller's `:authority` (its route is found by it); the
            // route sends the Lambda host the signature covers.
            let caller = request
                .request_headers()
                .into_iter()
                .find(|(name, _)| name == ":authority")
                .map(|(_, value)| value)
                .unwrap_or_default();
            check_call(&plugin, &credentials, now_ms, &pairs, &stream.body, caller);
        }
        Sent::CallOut {
            cluster,
            headers,
            body,
        } => {
            assert!(plugin.functions.the_one().unwrap().event_format.is_some());
            assert_eq!(cluster, "lambda");
            json_object(body, "the event");
            let pairs: Vec<(&str, &[u8])> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes()))
                .collect();
            let length = body.len().to_string();
            assert_eq!(values(&pairs, "content-length"), [length.as_bytes()]);
            check_call(
                &plugin,
                &credentials,
                now_ms,
                &pairs,
                body,
                plugin.functions.the_one().unwrap().target.host.as_bytes(),
            );
        }
        // Envoy always gives a request an `:authority` (its codecs refuse one without); the
        // filter refuses to sign one that has none, since its route is found by it.
        Sent::Reply(reply) if !has_authority && reply.status == 500 => {
            assert_eq!(reply.code, "InternalError", "{reply:?}");
        }
        // A clock past the year 9999 cannot be signed for (aws-sigv4 derives the key): the
        // filter's 500, saying why.
        Sent::Reply(reply) if now_ms / 1000 > LAST_SIGNABLE_SECOND && reply.status == 500 => {
            assert_eq!(reply.code, "InternalError", "{reply:?}");
            assert!(reply.message.contains("past the year 9999"), "{reply:?}");
        }
        Sent::Reply(reply) => assert_eq!(reply.status, 413, "{reply:?}"),
        other => panic!("a request answered with {other:?}"),
    }
});

fn values<'a>(pairs: &[(&str, &'a [u8])], name: &str) -> Vec<&'a [u8]> {
    pairs
        .iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .collect()
}

/// The Invoke call: the filter's method and path, `authority` (the caller's for the signed
/// request, the Lambda host for the filter's own call), only its own `authorization` and
/// `x-amz-*`, signed (for the Lambda host) as the general signer signs it.
fn check_call(
    plugin: &Plugin,
    credentials: &Credentials,
    now_ms: u64,
    pairs: &[(&str, &[u8])],
    payload: &[u8],
    authority: &[u8],
) {
    let one = |name: &str| -> String {
        let found = values(pairs, name);
        let [value] = found.as_slice() else {
            panic!("{} {name} headers in {pairs:?}", found.len());
        };
        String::from_utf8_lossy(value).into_owned()
    };
    assert_eq!(one(":method"), "POST");
    assert_eq!(
        one(":path"),
        plugin.functions.the_one().unwrap().target.path
    );
    assert_eq!(values(pairs, ":authority"), [authority]);
    let authorization = one("authorization");
    let Some(signed) = authorization
        .split(", ")
        .find_map(|p| p.strip_prefix("SignedHeaders="))
    else {
        panic!("no SignedHeaders in {authorization}");
    };
    for (name, _) in pairs {
        if name.starts_with("x-amz-") {
            assert!(
                signed.split(';').any(|s| s == *name),
                "the caller's {name} is sent"
            );
        }
    }
    let signed_values: Vec<(&str, String)> = signed
        .split(';')
        .filter(|n| !matches!(*n, "x-amz-date" | "x-amz-security-token"))
        .map(|n| match n {
            "host" => (n, plugin.functions.the_one().unwrap().target.host.clone()),
            _ => (n, one(n)),
        })
        .collect();
    let headers: Vec<(&str, &str)> = signed_values
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    let (path, query) = plugin
        .functions
        .the_one()
        .unwrap()
        .target
        .path
        .split_once('?')
        .unwrap_or((plugin.functions.the_one().unwrap().target.path.as_str(), ""));
    let expected = Signer {
        credentials,
        region: &plugin.functions.the_one().unwrap().target.region,
        service: "lambda",
        unix_seconds: now_ms / 1000,
        normalize_path: false,
    }
    .sign(&Request {
        method: "POST",
        wire_path: path,
        wire_query: query,
        headers: &headers,
        payload: Payload::Body(payload),
    });
    assert_eq!(authorization, expected.authorization);
    for (name, value) in &expected.headers {
        assert_eq!(one(name), *value);
    }
}
