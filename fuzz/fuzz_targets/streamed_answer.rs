//! A streamed answer (`invocation_mode: streaming`) through the request flow's response
//! callbacks and the core's host fake (`host::fake`, which keeps the body part as Envoy
//! does: drains at the front, appends only at its end), in the pieces `split_pattern`
//! gives: never a panic; what each callback lets through is the part as the filter left it;
//! after a reset nothing more goes on and nothing more is written; the caller's headers are
//! written at Lambda's 200, or (a function-URL answer) only once its prelude is read.
//!
//! The input is a `StreamedInput`: when it frames its payloads as a good stream and declares
//! no prelude, the caller gets exactly the payloads, in order, and the stream is never reset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::host::fake::{FakeClock, FakeStreams, StreamState};
use mesh_lambda_core::request::flow::RequestFlow;
use mesh_lambda_core::request::Action;
use mesh_lambda_fuzz::{plugin, StreamedInput};

const ID: u32 = 1;

fuzz_target!(|data: &[u8]| {
    let Some(input) = StreamedInput::read(data) else {
        return;
    };
    let (prelude, body) = (input.prelude, &input.body);
    let content_type = input.content_type();
    // Choice 3: the streaming mode, passthrough.
    let plugin = plugin(3, "");
    let streams = FakeStreams::new(&FakeClock::at(0));
    let stream = streams.add(ID, StreamState::default());
    let change = |change: &dyn Fn(&mut StreamState)| {
        if let Some(state) = streams.states.borrow_mut().get_mut(&ID) {
            change(state);
        }
    };
    change(&|s| {
        s.response_headers = vec![
            (":status".to_owned(), b"200".to_vec()),
            ("content-type".to_owned(), content_type.to_vec()),
        ];
    });
    // The flow answers only a request it took (its function chosen at the request's headers):
    // this one waits for credentials.
    let mut flow = RequestFlow::new(ID);
    assert_eq!(
        flow.on_request_headers(&plugin, &stream, true),
        Action::Pause
    );
    let action = flow.on_response_headers(&plugin, &stream, false);
    assert_eq!(action == Action::Pause, prelude);
    let written = |s: &StreamState| s.written_response_headers.clone();
    assert_eq!(streams.with(ID, written).is_some(), !prelude);

    let sizes = input.pattern.pieces(body.len());
    let mut passed = Vec::new();
    let mut offset = 0;
    for (i, &size) in sizes.iter().enumerate() {
        let part = &body[offset..offset + size];
        offset += size;
        change(&|s| s.response_body = part.to_vec());
        let (was_reset, headers_before) = streams.with(ID, |s| (s.reset, written(s)));
        let last = i + 1 == sizes.len();
        let action = flow.on_response_body(&plugin, &stream, size, last);
        let (reset, headers, left) =
            streams.with(ID, |s| (s.reset, written(s), s.response_body.clone()));
        if was_reset {
            assert_eq!(action, Action::Pause);
            assert_eq!(left, part, "written after the reset");
            assert_eq!(headers, headers_before, "headers written after the reset");
            continue;
        }
        if !prelude {
            assert_eq!(headers, headers_before, "headers written twice");
        }
        if action == Action::Continue {
            passed.extend(left);
        } else {
            assert!(reset || prelude, "paused without a reason");
        }
    }
    flow.on_done(&plugin);
    if let Some(payloads) = input.payloads.filter(|_| !prelude && !sizes.is_empty()) {
        assert!(!streams.with(ID, |s| s.reset), "a good stream was reset");
        assert_eq!(passed, payloads.concat());
    }
});
