//! A streamed answer (`invocation_mode: streaming`) through the request flow's response
//! callbacks, in the pieces `split_pattern` gives: never a panic; what each callback lets
//! through is the buffer the host would hold after the filter's writes (drains at the front,
//! appends only at the end); after a reset nothing more goes on and nothing more is written.
//!
//! After the split pattern, a flags byte: bit 0 set, a function-URL answer (prelude) is
//! declared; bit 1 set, the rest is payloads (`length (u8) | bytes`) framed as a good stream
//! with the right lengths and CRCs and ended by InvokeComplete: then (without a prelude) the
//! caller gets exactly the payloads, in order, and the stream is never reset; clear, the rest
//! is the body as it is.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::request::flow::RequestFlow;
use mesh_lambda_core::request::Action;
use mesh_lambda_core::streaming::crc32::crc32;
use mesh_lambda_core::streaming::http_integration::HTTP_INTEGRATION_CONTENT_TYPE;
use mesh_lambda_fuzz::{plugin, serialize, split_pattern, Sent, Stream};

fuzz_target!(|data: &[u8]| {
    let (pattern, rest) = split_pattern(data);
    let Some((&flags, rest)) = rest.split_first() else {
        return;
    };
    let prelude = flags & 1 == 1;
    let framed = flags & 2 == 2;
    let (body, payloads) = if framed {
        seal(rest)
    } else {
        (rest.to_vec(), Vec::new())
    };
    // Choice 3: the streaming mode, passthrough.
    let plugin = plugin(3, "");
    let content_type: &[u8] = if prelude {
        HTTP_INTEGRATION_CONTENT_TYPE.as_bytes()
    } else {
        b"text/plain"
    };
    let headers = serialize(&[
        (":status".to_owned(), &b"200"[..]),
        ("content-type".to_owned(), content_type),
    ]);
    let mut flow = RequestFlow::new(1);
    let at_headers = Stream {
        response: headers.clone(),
        ..Stream::default()
    };
    let action = flow.on_response_headers(&plugin, &at_headers, false);
    assert_eq!(action == Action::Pause, prelude);

    let sizes = pattern.pieces(body.len());
    let mut passed = Vec::new();
    let mut reset = false;
    let mut offset = 0;
    for (i, &size) in sizes.iter().enumerate() {
        let part = &body[offset..offset + size];
        offset += size;
        let stream = Stream {
            response: headers.clone(),
            response_body: part.to_vec(),
            ..Stream::default()
        };
        let last = i + 1 == sizes.len();
        let action = flow.on_response_body(&plugin, &stream, size, last);
        let sent = stream.sent.into_inner();
        if reset {
            assert_eq!(action, Action::Pause);
            assert!(sent.is_empty(), "written after the reset: {sent:?}");
            continue;
        }
        let mut buffer = part.to_vec();
        for effect in sent {
            match effect {
                Sent::ResponseBody { size, bytes } => {
                    assert!(size <= buffer.len());
                    buffer.splice(..size, bytes);
                }
                Sent::ResponseBodyAppended { length, bytes } => {
                    assert_eq!(length, buffer.len(), "an append not at the end");
                    buffer.extend(bytes);
                }
                Sent::Reset => reset = true,
                Sent::ResponseHeaders(_) => assert!(prelude),
                other => panic!("unexpected {other:?}"),
            }
        }
        if action == Action::Continue {
            passed.extend(buffer);
        } else {
            assert!(reset || prelude, "paused without a reason");
        }
    }
    flow.on_done(&plugin);
    if framed && !prelude && !sizes.is_empty() {
        assert!(!reset, "a good stream was reset");
        assert_eq!(passed, payloads.concat());
    }
});

/// Records `length (u8) | bytes` as PayloadChunk messages, then InvokeComplete: the stream
/// and the payloads.
fn seal(mut records: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut stream = Vec::new();
    let mut payloads = Vec::new();
    while let Some((&len, rest)) = records.split_first() {
        let take = usize::from(len).min(rest.len());
        let (payload, rest) = rest.split_at(take);
        stream.extend(message("PayloadChunk", payload));
        payloads.push(payload.to_vec());
        records = rest;
    }
    stream.extend(message("InvokeComplete", b"{}"));
    (stream, payloads)
}

fn message(event_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut headers = Vec::new();
    for (name, value) in [(":message-type", "event"), (":event-type", event_type)] {
        headers.push(name.len() as u8);
        headers.extend(name.as_bytes());
        headers.push(7);
        headers.extend((value.len() as u16).to_be_bytes());
        headers.extend(value.as_bytes());
    }
    let total = (16 + headers.len() + payload.len()) as u32;
    let mut out = total.to_be_bytes().to_vec();
    out.extend((headers.len() as u32).to_be_bytes());
    out.extend(crc32(&out).to_be_bytes());
    out.extend(headers);
    out.extend(payload);
    out.extend(crc32(&out).to_be_bytes());
    out
}
