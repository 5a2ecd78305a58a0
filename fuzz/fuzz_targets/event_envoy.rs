//! The `envoy` event (what Envoy's native `aws_lambda` filter sends) built from any request:
//! headers, path, query and body, written as text (`Message`). The event is a JSON object of
//! the native filter's fields; its body decodes to the request's; pseudo headers stay out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::event::envoy::request_event;
use mesh_lambda_fuzz::{check_event_body, json_object, serialize, text, Message};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let request = Message::read(data);
    let headers = serialize(&request.request_headers());
    let Ok(event) = request_event(&headers, request.body, None) else {
        panic!("no event for a well-formed header map");
    };
    let event = json_object(&event, "the event");
    let target = String::from_utf8_lossy(request.target());
    assert_eq!(text(&event, "raw_path"), target);
    assert_eq!(
        text(&event, "method"),
        String::from_utf8_lossy(request.method())
    );
    let Some(Value::Object(fields)) = event.get("headers") else {
        panic!("headers is not an object");
    };
    assert!(fields.keys().all(|n| !n.starts_with(':')));
    assert!(fields.values().all(Value::is_string));
    let Some(Value::Object(query)) = event.get("query_string_parameters") else {
        panic!("query_string_parameters is not an object");
    };
    assert!(query.values().all(Value::is_string));
    let Some(Value::Bool(base64)) = event.get("is_base64_encoded") else {
        panic!("is_base64_encoded is not a boolean");
    };
    check_event_body(
        text(&event, "body"),
        *base64,
        request.body.unwrap_or_default(),
    );
});
