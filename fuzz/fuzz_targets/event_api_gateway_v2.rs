//! The API Gateway v2 (HTTP API / function URL) event built from any request (text, as
//! `Message`) and Envoy's view of it (peer, protocol, clock: `Envoy`). The event is a JSON
//! object; path and query are the request's split at its first `?`; cookies are split out of
//! the headers; the peer and time are Envoy's, never a header's; the body decodes to the
//! request's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::event::api_gateway_v2::request_event;
use mesh_lambda_fuzz::{check_event_body, json_object, serialize, text, Envoy, Message};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let (envoy, data) = Envoy::read(data);
    let request = Message::read(data);
    let headers = serialize(&request.request_headers());
    let context = envoy.context("123456789012");
    let Ok(event) = request_event(&headers, request.body, &context, None) else {
        panic!("no event for a well-formed header map");
    };
    let event = json_object(&event, "the event");
    assert_eq!(text(&event, "version"), "2.0");
    let target = String::from_utf8_lossy(request.target());
    let (path, query) = (text(&event, "rawPath"), text(&event, "rawQueryString"));
    match target.split_once('?') {
        Some(_) => assert_eq!(format!("{path}?{query}"), target),
        None => assert_eq!((path, query), (&*target, "")),
    }
    let Some(Value::Object(fields)) = event.get("headers") else {
        panic!("headers is not an object");
    };
    assert!(fields.keys().all(|n| !n.starts_with(':') && n != "cookie"));
    assert!(fields.values().all(Value::is_string));
    if let Some(cookies) = event.get("cookies") {
        let Value::Array(cookies) = cookies else {
            panic!("cookies is not a list");
        };
        assert!(cookies.iter().all(|c| c
            .as_str()
            .is_some_and(|c| !c.is_empty() && !c.contains(';'))));
    }
    if let Some(query) = event.get("queryStringParameters") {
        assert!(query
            .as_object()
            .is_some_and(|q| q.values().all(Value::is_string)));
    }
    let Some(Value::Object(request_context)) = event.get("requestContext") else {
        panic!("requestContext is not an object");
    };
    assert_eq!(
        request_context.get("timeEpoch"),
        Some(&Value::from(envoy.now_ms))
    );
    let Some(Value::Object(http)) = request_context.get("http") else {
        panic!("requestContext.http is not an object");
    };
    assert_eq!(text(http, "sourceIp"), context.source_ip);
    assert_eq!(text(http, "protocol"), envoy.protocol());
    assert_eq!(text(http, "path"), path);
    let Some(Value::Bool(base64)) = event.get("isBase64Encoded") else {
        panic!("isBase64Encoded is not a boolean");
    };
    match request.body.filter(|b| !b.is_empty()) {
        Some(body) => check_event_body(text(&event, "body"), *base64, body),
        None => assert!(!event.contains_key("body") && !base64),
    }
});
