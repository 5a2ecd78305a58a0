//! The serialized header map reader (`header_pairs`), as Envoy hands maps to the filter, and
//! the outgoing Invoke map built from a caller's. The input is read both as a serialized map
//! (bytes as they come) and as text (`Message`), whose map must read back as written.
//! A map read writes out again the same; `find` agrees with the full read; the outgoing map
//! carries the filter's method and signature, and no `authorization` or `x-amz-*` of the
//! caller's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::header_pairs::{find, parse, serialize};
use mesh_lambda_core::invoke::outgoing::outgoing_headers;
use mesh_lambda_fuzz::Message;

const OURS: [(&str, &str); 4] = [
    (":path", "/2015-03-31/functions/f/invocations"),
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
    let outgoing = outgoing_headers(map, &OURS, 7);
    let Some(pairs) = parse(map) else {
        assert!(outgoing.is_err());
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
        panic!("a map read gives no outgoing map");
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
        assert_eq!(values(name), [value.as_bytes()], "{name}");
    }
    for (name, _) in &sent {
        let ours = OURS.iter().any(|(n, _)| n == name);
        assert!(
            ours || !(*name == "authorization" || name.starts_with("x-amz-")),
            "the caller's {name} reaches AWS"
        );
    }
    assert!(!values("content-length").is_empty());
}
