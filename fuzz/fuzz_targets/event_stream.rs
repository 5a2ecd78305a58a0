//! The event-stream decoder of InvokeWithResponseStream answers (`streaming::event_stream`):
//! bytes pushed in any pieces (`split_pattern`) give the same events, error and pending count
//! as pushed whole; after an error every push returns it and adds no event; nothing pending
//! exceeds the message limit; an error's text is one short line.
//!
//! After the split pattern, a flags byte: bit 0 clear, the rest is the stream as is (CRCs and
//! lengths as the input has them); set, the rest is records `headers length (u8) | payload
//! length (u8) | headers | payload`, each framed with the right lengths and CRCs, so the
//! fuzzer reaches the header reader and Lambda's message types behind the checksums.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::streaming::crc32::crc32;
use mesh_lambda_core::streaming::event_stream::{
    EventStreamDecoder, EventStreamError, StreamEvent, MAX_MESSAGE_LEN,
};
use mesh_lambda_fuzz::split_pattern;

fuzz_target!(|data: &[u8]| {
    let (pieces, rest) = split_pattern(data);
    let Some((&flags, body)) = rest.split_first() else {
        return;
    };
    let stream = if flags & 1 == 1 {
        seal(body)
    } else {
        body.to_vec()
    };
    let whole = decode(&stream, &[stream.len()]);
    assert_eq!(decode(&stream, &pieces.pieces(stream.len())), whole);
    assert_eq!(decode(&stream, &vec![1; stream.len()]), whole);
});

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<StreamEvent>,
    error: Option<EventStreamError>,
    pending: usize,
}

fn decode(stream: &[u8], pieces: &[usize]) -> Outcome {
    let mut decoder = EventStreamDecoder::new();
    let mut events = Vec::new();
    let mut error: Option<EventStreamError> = None;
    let mut rest = stream;
    for &len in pieces {
        let (piece, after) = rest.split_at(len.min(rest.len()));
        rest = after;
        let before = events.len();
        match decoder.push(piece, &mut events) {
            Ok(()) => assert!(error.is_none(), "a push after {error:?} succeeded"),
            Err(e) => {
                if let Some(first) = &error {
                    assert_eq!(&e, first);
                    assert_eq!(events.len(), before, "events after the error");
                } else {
                    let text = e.to_string();
                    assert!(
                        text.len() <= 300 && !text.contains(['\n', '\r']),
                        "{text:?}"
                    );
                    error = Some(e);
                }
            }
        }
        assert!(decoder.pending() < MAX_MESSAGE_LEN);
    }
    Outcome {
        events,
        error,
        pending: decoder.pending(),
    }
}

/// Frames each record as a message with correct lengths and CRCs.
fn seal(mut records: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let [headers_len, payload_len, rest @ ..] = records {
        let headers_len = usize::from(*headers_len).min(rest.len());
        let (headers, rest) = rest.split_at(headers_len);
        let payload_len = usize::from(*payload_len).min(rest.len());
        let (payload, rest) = rest.split_at(payload_len);
        records = rest;
        let total = (16 + headers.len() + payload.len()) as u32;
        let start = out.len();
        out.extend_from_slice(&total.to_be_bytes());
        out.extend_from_slice(&(headers.len() as u32).to_be_bytes());
        let prelude_crc = crc32(&out[start..]);
        out.extend_from_slice(&prelude_crc.to_be_bytes());
        out.extend_from_slice(headers);
        out.extend_from_slice(payload);
        let message_crc = crc32(&out[start..]);
        out.extend_from_slice(&message_crc.to_be_bytes());
    }
    out
}
