//! The serialized header map reader (`header_pairs`), as Envoy hands maps to the filter, and
//! the outgoing Invoke map built from a caller's. The input is read both as a serialized map
//! (bytes as they come) and as text (`Message`), whose map must read back as written.
//! A map read writes out again the same; `find` agrees with the full read; the outgoing map
//! (built as the request path builds it: from scratch, with the caller's `FORWARDED` values
//! found in the map) carries the filter's method and signature, the caller's `:authority` in
//! place of the Lambda host (the signed call is routed by it), the route key, and of the
//! caller's other headers only the forwarded ones.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::header_pairs::{find, parse, serialize};
use mesh_lambda_core::invoke::outgoing::{outgoing_headers, Route, FORWARDED, ROUTE_HEADER};
use mesh_lambda_fuzz::Message;

const OURS: [(&str, &str); 5] = [
    (":path", "/2015-03-31/functions/f/invocations"),
    (":authority", "lambda.us-east-1.amazonaws.com"),
    ("x-amz-date", "20150830T123600Z"),
    ("x-amz-security-token", "token"),
    ("authorization", "AWS4-HMAC-SHA256 Credential=..."),
];

fuzz_target!(|data: &[u8]| {
    let text = Message::read(data);
    let written = mesh_lambda_fuzz::serialize(&text.request_headers());
    check_map(&written);
    check_map(data);
});

fn check_map(map: &[u8]) {
    for name in ["content-length", ":path", "x"] {
        let _ = find(map, name);
    }
    let forwarded: Vec<(&str, &[u8])> = FORWARDED
        .iter()
        .filter_map(|&name| find(map, name).map(|v| (name, v)))
        .collect();
    let route = Route {
        authority: find(map, ":authority").unwrap_or_default(),
        key: "mesh-lambda/f",
    };
    let outgoing = outgoing_headers(&OURS, &route, &forwarded, 7);
    let Some(pairs) = parse(map) else {
        return;
    };
    let Some(again) = serialize(&pairs) else {
        panic!("a map read does not write out");
    };
    assert!(again.len() <= map.len());
    assert_eq!(parse(&again).as_ref(), Some(&pairs));
    for (name, _) in pairs.iter().take(8) {
        let first = pairs.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
        assert_eq!(find(map, name), first, "find disagrees for {name:?}");
    }
    let Ok(outgoing) = outgoing else {
        panic!("no outgoing map for a map that reads");
    };
    let Some(sent) = parse(&outgoing) else {
        panic!("the outgoing map does not read");
    };
    let values = |name: &str| -> Vec<&[u8]> {
        sent.iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .collect()
    };
    assert_eq!(values(":method"), [b"POST"]);
    for (name, value) in OURS {
        let value = match name {
            ":authority" => route.authority,
            _ => value.as_bytes(),
        };
        assert_eq!(values(name), [value], "{name}");
    }
    assert_eq!(values(ROUTE_HEADER), [route.key.as_bytes()]);
    for (name, _) in &sent {
        let ours = OURS.iter().any(|(n, _)| n == name)
            || [":method", ":scheme", "content-length", ROUTE_HEADER].contains(name);
        assert!(
            ours || FORWARDED.contains(name),
            "the caller's {name} reaches AWS"
        );
    }
    assert_eq!(values("content-length"), [b"7"]);
    for (name, value) in &forwarded {
        assert_eq!(values(name), [*value], "{name}");
    }
}
