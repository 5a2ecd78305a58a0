//! Lambda's answer as the filter handles it, in every configuration the first byte picks
//! (invocation mode, `function_error`, payload passthrough or an event format). The rest is
//! the answer as text (`Message`: status, headers, body) or, when the first byte says so, a
//! serialized header map as it comes (malformed ones too).
//!
//! Passthrough: a function error turns into 502 only for a synchronous call under
//! `bad_gateway`. Event formats: the request gets exactly one answer, without pseudo or
//! framing headers; Lambda's errors pass as they are but for the call's secrets (cut out),
//! non-synchronous answers as they are, a function error per `function_error`; a 204 or 304
//! carries no body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::event::result::FRAMING_HEADERS;
use mesh_lambda_core::header_pairs;
use mesh_lambda_core::invocation_mode::InvocationMode;
use mesh_lambda_core::redact::Echoed;
use mesh_lambda_core::request::answer::is_function_error;
use mesh_lambda_core::request::callout::answer;
use mesh_lambda_core::request::flow::RequestFlow;
use mesh_lambda_core::response::FunctionErrors;
use mesh_lambda_fuzz::{plugin, serialize, Message, Sent, Stream};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let plugin = plugin(choice, "");
    let (headers, body) = if choice & 0x20 != 0 {
        (rest.to_vec(), &b""[..])
    } else {
        let message = Message::read(rest);
        let headers = serialize(&message.answer_headers());
        (headers, message.body.unwrap_or_default())
    };
    let stream = Stream {
        now_ms: 1_440_938_160_000,
        response: headers,
        ..Stream::default()
    };
    let function_error =
        is_function_error(header_pairs::find(&stream.response, "x-amz-function-error"));
    let synchronous = plugin.functions.the_one().unwrap().mode == InvocationMode::Synchronous;
    let bad_gateway =
        plugin.functions.the_one().unwrap().function_error == FunctionErrors::BadGateway;
    if plugin.functions.the_one().unwrap().event_format.is_none() {
        // The flow answers only a request it took (its function chosen at the request's
        // headers): this one waits for credentials, nothing sent yet.
        let mut flow = RequestFlow::new(1);
        flow.on_request_headers(&plugin, &stream, true);
        assert!(
            stream.sent.borrow().is_empty(),
            "{:?}",
            stream.sent.borrow()
        );
        flow.on_response_headers(&plugin, &stream, false);
        if plugin.functions.the_one().unwrap().mode == InvocationMode::Streaming {
            // A streamed 200 rewrites the headers (its framing out); nothing else is sent.
            let sent = stream.sent.borrow();
            assert!(sent.len() <= 1, "{sent:?}");
            assert!(sent.iter().all(|s| matches!(s, Sent::ResponseHeaders(_))));
            return;
        }
        // Lambda's own errors (400 and up) pass as they are, function error header or not.
        let lambda_error = header_pairs::find(&stream.response, ":status")
            .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u32>().ok())
            .is_some_and(|s| (400..=599).contains(&s));
        let rewritten = synchronous && bad_gateway && function_error && !lambda_error;
        let expected = rewritten.then_some(Sent::Status(502));
        assert_eq!(stream.sent.borrow().as_slice(), expected.as_slice());
        return;
    }
    let echoed = Echoed::of_call(
        Some(b"AWS4-HMAC-SHA256 Signature=SIGNATURE"),
        Some(b"TOKEN"),
    );
    let function = plugin.functions.the_one().unwrap();
    answer(
        &plugin,
        function,
        &stream,
        1,
        Some((&stream.response, body)),
        &echoed,
    );
    let sent = stream.sent.borrow();
    let [answered] = sent.as_slice() else {
        panic!("the request got {} answers", sent.len());
    };
    let Sent::Response {
        status,
        headers,
        body: sent_body,
    } = answered
    else {
        return; // the filter's own error
    };
    for (name, _) in headers {
        assert!(
            !name.starts_with(':') && !FRAMING_HEADERS.contains(&name.as_str()),
            "the answer carries {name}"
        );
    }
    let lambda_status = header_pairs::find(&stream.response, ":status")
        .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u32>().ok());
    let well_formed = header_pairs::parse(&stream.response).is_some();
    // Envoy's own 5xx (no x-amzn-RequestId, no x-amzn-ErrorType) is the filter's 503, its
    // 504 (the call ran out of `invoke_timeout_ms`) the filter's 504.
    let by_the_proxy = lambda_status.is_some_and(|s| (500..=599).contains(&s))
        && header_pairs::find(&stream.response, "x-amzn-requestid").is_none()
        && header_pairs::find(&stream.response, "x-amzn-errortype").is_none();
    if by_the_proxy {
        let expected = if lambda_status == Some(504) { 504 } else { 503 };
        assert_eq!(
            *status, expected,
            "Envoy's own 5xx was passed on as Lambda's"
        );
        return;
    }
    let (Some(lambda_status), true) = (lambda_status, well_formed) else {
        // The filter's error: the map's (500), or the result's (502) when read first.
        assert!(
            matches!(*status, 500 | 502),
            "a malformed answer was passed on"
        );
        return;
    };
    if matches!(*status, 204 | 304) {
        assert!(sent_body.is_empty(), "a {status} with a body");
    } else if lambda_status >= 400 {
        assert_eq!((*status, sent_body), (lambda_status, &echoed.redact(body)));
        for secret in [&b"TOKEN"[..], b"SIGNATURE"] {
            assert!(!sent_body.windows(secret.len()).any(|w| w == secret));
        }
    } else if lambda_status >= 300 || !synchronous || (function_error && !bad_gateway) {
        assert_eq!((*status, sent_body.as_slice()), (lambda_status, body));
    } else if function_error {
        assert_eq!((*status, sent_body.as_slice()), (502, body));
    }
});
