//! The decoder against the event-stream test vectors of the AWS SDK (smithy-rs's
//! `aws-smithy-eventstream`, which took them from aws-c-event-stream), against messages that
//! the SDK's encoder writes (split at every byte boundary and at random ones), and against
//! every kind of bad input.

use super::message::{HeaderValue, Message, MAX_HEADERS_LEN, MAX_MESSAGE_LEN};
use super::*;
use crate::streaming::crc32::crc32;
use crate::streaming::test_frames::{chunk, complete, encode, exception, lambda_message, string};
use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::{
    Header as SdkHeader, HeaderValue as SdkValue, Message as SdkMessage,
};
use aws_smithy_types::str_bytes::StrBytes;
use aws_smithy_types::DateTime;

/// xorshift64*: a seeded PRNG for the random splits and messages (no crate for it).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// What the decoder makes of `bytes` pushed in pieces of the given lengths (the rest last).
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<StreamEvent>,
    error: Option<EventStreamError>,
    pending: usize,
}

fn decode_in_pieces(bytes: &[u8], pieces: impl IntoIterator<Item = usize>) -> Outcome {
    let mut decoder = EventStreamDecoder::new();
    let mut events = Vec::new();
    let mut error = None;
    let mut rest = bytes;
    let mut push = |piece: &[u8], events: &mut Vec<StreamEvent>| {
        if let Err(e) = decoder.push(piece, events) {
            error.get_or_insert(e);
        }
    };
    for len in pieces {
        let (piece, after) = rest.split_at(len.min(rest.len()));
        push(piece, &mut events);
        rest = after;
    }
    push(rest, &mut events);
    Outcome {
        events,
        error,
        pending: decoder.pending(),
    }
}

fn decode(bytes: &[u8]) -> Outcome {
    decode_in_pieces(bytes, [])
}

fn payload(bytes: &[u8]) -> StreamEvent {
    StreamEvent::Payload(bytes.to_vec())
}

fn done() -> StreamEvent {
    StreamEvent::Complete { error: None }
}

/// A stream as Lambda answers it, and the events it stands for (written out, not decoded).
fn lambda_stream(big: usize) -> (Vec<u8>, Vec<StreamEvent>) {
    let prelude = b"{\"statusCode\":201,\"headers\":{\"x\":\"y\"}}\0\0\0\0\0\0\0\0";
    let all_bytes: Vec<u8> = (0..=255).collect();
    let large = Rng(7).bytes(big);
    let parts: Vec<(Vec<u8>, StreamEvent)> = vec![
        (chunk(prelude), payload(prelude)),
        (chunk(b""), payload(b"")),
        (chunk(&all_bytes), payload(&all_bytes)),
        (chunk(&large), payload(&large)),
        (
            exception("ResourceNotReadyException", r#"{"message":"not yet"}"#),
            StreamEvent::Exception {
                exception_type: "ResourceNotReadyException".into(),
                message: "not yet".into(),
            },
        ),
        (complete(r#"{"LogResult":"U1RBUlQ="}"#), done()),
        (
            complete(r#"{"ErrorCode":"Unhandled","ErrorDetails":"boom","LogResult":""}"#),
            StreamEvent::Complete {
                error: Some(FunctionStreamError {
                    code: "Unhandled".into(),
                    details: "boom".into(),
                }),
            },
        ),
    ];
    let bytes = parts.iter().flat_map(|(b, _)| b.clone()).collect();
    (bytes, parts.into_iter().map(|(_, e)| e).collect())
}

fn clean(events: Vec<StreamEvent>) -> Outcome {
    Outcome {
        events,
        error: None,
        pending: 0,
    }
}

// ---- messages the SDK writes, decoded in pieces ----

#[test]
fn decodes_what_the_sdk_writes_pushed_whole() {
    let (bytes, expected) = lambda_stream(70_000);
    assert_eq!(decode(&bytes), clean(expected));
}

#[test]
fn decodes_the_same_split_at_every_byte_boundary() {
    let (bytes, expected) = lambda_stream(300);
    let expected = clean(expected);
    for cut in 0..=bytes.len() {
        assert_eq!(decode_in_pieces(&bytes, [cut]), expected, "cut at {cut}");
    }
    assert_eq!(decode_in_pieces(&bytes, vec![1; bytes.len()]), expected);
}

#[test]
fn decodes_the_same_split_at_random_boundaries() {
    let (bytes, expected) = lambda_stream(70_000);
    let expected = clean(expected);
    let mut rng = Rng(0x5eed);
    for round in 0..200 {
        // Small pieces and large ones: inside a prelude, across several messages.
        let max = [3, 17, 200, 5000, 100_000][round % 5];
        let pieces: Vec<usize> = (0..bytes.len()).map(|_| rng.below(max) + 1).collect();
        assert_eq!(decode_in_pieces(&bytes, pieces), expected, "round {round}");
    }
    assert_eq!(decode_in_pieces(&bytes, vec![1; bytes.len()]), expected);
}

#[test]
fn pending_is_the_unfinished_message() {
    let message = chunk(b"hello");
    let mut decoder = EventStreamDecoder::new();
    let mut events = Vec::new();
    decoder.push(&message[..5], &mut events).unwrap();
    assert_eq!(decoder.pending(), 5);
    decoder.push(&message[5..20], &mut events).unwrap();
    assert_eq!(decoder.pending(), 20);
    assert!(events.is_empty());
    let mut next = message[20..].to_vec();
    next.extend_from_slice(&message[..3]);
    decoder.push(&next, &mut events).unwrap();
    assert_eq!(events, [payload(b"hello")]);
    assert_eq!(decoder.pending(), 3);
}

#[test]
fn a_truncated_message_is_held_not_an_error() {
    let (bytes, expected) = lambda_stream(1000);
    let last = complete("{}");
    let mut stream = bytes.clone();
    stream.extend_from_slice(&last[..last.len() - 1]);
    let outcome = decode(&stream);
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.events, expected);
    assert_eq!(outcome.pending, last.len() - 1);
}

// ---- the frame format against the SDK and its vectors ----

fn sdk_value(value: &HeaderValue<'_>) -> SdkValue {
    match *value {
        HeaderValue::Bool(b) => SdkValue::Bool(b),
        HeaderValue::Byte(v) => SdkValue::Byte(v),
        HeaderValue::Int16(v) => SdkValue::Int16(v),
        HeaderValue::Int32(v) => SdkValue::Int32(v),
        HeaderValue::Int64(v) => SdkValue::Int64(v),
        HeaderValue::Bytes(v) => SdkValue::ByteArray(v.to_vec().into()),
        HeaderValue::String(v) => SdkValue::String(StrBytes::from(v.to_owned())),
        HeaderValue::Timestamp(v) => SdkValue::Timestamp(DateTime::from_millis(v)),
        HeaderValue::Uuid(v) => SdkValue::Uuid(u128::from_be_bytes(v)),
    }
}

/// The message read here, in the SDK's types, to compare with what the SDK reads.
fn read_as_sdk(bytes: &[u8]) -> SdkMessage {
    let message = Message::read(bytes, MAX_MESSAGE_LEN).unwrap();
    let headers = message
        .headers
        .iter()
        .map(|h| SdkHeader::new(StrBytes::from(h.name.to_owned()), sdk_value(&h.value)))
        .collect();
    SdkMessage::new_from_parts(headers, message.payload.to_vec())
}

fn vector(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/aws-event-stream-test-data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn reads_the_valid_vectors_as_the_sdk_does() {
    for name in [
        "valid_with_all_headers_and_payload",
        "valid_empty_payload",
        "valid_no_headers",
    ] {
        let bytes = vector(name);
        let sdk = read_message_from(&mut &bytes[..]).unwrap();
        assert_eq!(read_as_sdk(&bytes), sdk, "{name}");
    }
    // Every value type, as the SDK's own test spells them out.
    let bytes = vector("valid_with_all_headers_and_payload");
    let message = Message::read(&bytes, MAX_MESSAGE_LEN).unwrap();
    let values: Vec<(&str, HeaderValue<'_>)> = message
        .headers
        .iter()
        .map(|h| (h.name, h.value.clone()))
        .collect();
    assert_eq!(
        values,
        [
            ("true", HeaderValue::Bool(true)),
            ("false", HeaderValue::Bool(false)),
            ("byte", HeaderValue::Byte(50)),
            ("short", HeaderValue::Int16(20_000)),
            ("int", HeaderValue::Int32(500_000)),
            ("long", HeaderValue::Int64(50_000_000_000)),
            ("bytes", HeaderValue::Bytes(b"some bytes")),
            ("str", HeaderValue::String("some str")),
            ("time", HeaderValue::Timestamp(5_000_000_000)),
            (
                "uuid",
                HeaderValue::Uuid(0xb79bc914de214e13b8b2bc47e85b7f0b_u128.to_be_bytes())
            ),
        ]
    );
    assert_eq!(message.payload, b"some payload");
}

#[test]
fn reads_the_aws_c_event_stream_vectors() {
    // From aws-c-event-stream's tests/message_deserializer_test.c (as quoted by the SDK's).
    let no_headers = [
        0x00, 0x00, 0x00, 0x1D, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x52, 0x8c, 0x5a, 0x7b, 0x27, 0x66,
        0x6f, 0x6f, 0x27, 0x3a, 0x27, 0x62, 0x61, 0x72, 0x27, 0x7d, 0xc3, 0x65, 0x39, 0x36,
    ];
    let message = Message::read(&no_headers, MAX_MESSAGE_LEN).unwrap();
    assert!(message.headers.is_empty());
    assert_eq!(message.payload, b"{'foo':'bar'}");
    let mut one_header = vec![0x00, 0x00, 0x00, 0x3D, 0x00, 0x00, 0x00, 0x20, 0x07, 0xFD];
    one_header.extend_from_slice(&[0x83, 0x96, 0x0C]);
    one_header.extend_from_slice(b"content-type");
    one_header.extend_from_slice(&[0x07, 0x00, 0x10]);
    one_header.extend_from_slice(b"application/json{'foo':'bar'}");
    one_header.extend_from_slice(&[0x8D, 0x9C, 0x08, 0xB1]);
    let message = Message::read(&one_header, MAX_MESSAGE_LEN).unwrap();
    assert_eq!(
        message.string_header("content-type"),
        Some("application/json")
    );
    assert_eq!(message.payload, b"{'foo':'bar'}");
}

/// `bytes` with its message CRC recomputed: the corruption a vector carries, reached past the
/// CRC (checked first here, where the SDK reads the headers first).
fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
    let total = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    bytes.truncate(total);
    let crc = crc32(&bytes[..total - 4]);
    bytes[total - 4..].copy_from_slice(&crc.to_be_bytes());
    bytes
}

fn read_error(bytes: &[u8]) -> EventStreamError {
    Message::read(bytes, MAX_MESSAGE_LEN).unwrap_err()
}

#[test]
fn refuses_the_invalid_vectors() {
    assert_eq!(
        read_error(&vector("invalid_prelude_checksum")),
        EventStreamError::PreludeChecksum {
            computed: 0x8BB4_95FB,
            received: 0xDEAD_BEEF
        }
    );
    assert_eq!(
        read_error(&vector("invalid_message_checksum")),
        EventStreamError::MessageChecksum {
            computed: 0x01a0_5860,
            received: 0xDEAD_BEEF
        }
    );
    assert_eq!(
        read_error(&vector("invalid_headers_length")),
        EventStreamError::HeadersTooLong {
            declared: 77,
            limit: 89 - 16
        }
    );
    // The header vectors: their CRC no longer matches, and resealed, the header is refused.
    for name in [
        "invalid_header_name_length",
        "invalid_header_name_length_too_long",
        "invalid_header_string_length_cut_off",
        "invalid_header_string_value_length",
        "invalid_header_value_type",
    ] {
        let bytes = vector(name);
        let total = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
        assert!(
            matches!(
                read_error(&bytes[..total]),
                EventStreamError::MessageChecksum { .. }
            ),
            "{name}"
        );
        let error = read_error(&resealed(bytes));
        assert!(
            matches!(error, EventStreamError::BadHeader(_)),
            "{name}: {error:?}"
        );
    }
    assert_eq!(
        read_error(&resealed(vector("invalid_header_value_type"))).to_string(),
        "event stream: a malformed header: header \"byte\" has value type 96, not one of the format's 0 to 9"
    );
}

#[test]
fn reads_random_messages_as_the_sdk_wrote_them() {
    let mut rng = Rng(0xe7e7);
    for round in 0..500 {
        let len = rng.below(300);
        let mut message = SdkMessage::new(rng.bytes(len));
        for _ in 0..rng.below(12) {
            let name: String = (0..rng.below(20) + 1)
                .map(|_| char::from(b'a' + rng.below(26) as u8))
                .collect();
            let text: String = (0..rng.below(40))
                .map(|_| ['a', 'é', '€', '𝄞', ':', ' '][rng.below(6)])
                .collect();
            let value = match rng.below(10) {
                0 => SdkValue::Bool(true),
                1 => SdkValue::Bool(false),
                2 => SdkValue::Byte(rng.next() as i8),
                3 => SdkValue::Int16(rng.next() as i16),
                4 => SdkValue::Int32(rng.next() as i32),
                5 => SdkValue::Int64(rng.next() as i64),
                6 => {
                    let len = rng.below(100);
                    SdkValue::ByteArray(rng.bytes(len).into())
                }
                7 => SdkValue::String(StrBytes::from(text)),
                8 => SdkValue::Timestamp(DateTime::from_millis(rng.next() as i64 >> 20)),
                _ => SdkValue::Uuid(u128::from(rng.next()) << 64 | u128::from(rng.next())),
            };
            message = message.add_header(SdkHeader::new(StrBytes::from(name), value));
        }
        let bytes = encode(&message);
        assert_eq!(read_as_sdk(&bytes), message, "round {round}");
    }
}

// ---- bad input: each a clear error, never a panic ----

fn prelude(total: u32, headers: u32) -> Vec<u8> {
    let mut bytes = total.to_be_bytes().to_vec();
    bytes.extend_from_slice(&headers.to_be_bytes());
    let crc = crc32(&bytes);
    bytes.extend_from_slice(&crc.to_be_bytes());
    bytes
}

#[test]
fn a_corrupt_prelude_crc_is_refused_and_the_decoder_stays_failed() {
    let mut bytes = chunk(b"x");
    bytes[9] ^= 0x01;
    let mut decoder = EventStreamDecoder::new();
    let mut events = Vec::new();
    let error = decoder.push(&bytes, &mut events).unwrap_err();
    assert!(matches!(error, EventStreamError::PreludeChecksum { .. }));
    assert_eq!(decoder.push(&chunk(b"y"), &mut events), Err(error));
    assert!(events.is_empty());
    assert_eq!(decoder.pending(), 0);
}

#[test]
fn a_corrupt_message_crc_or_payload_is_refused_after_the_good_messages() {
    let good = chunk(b"first");
    for at in [good.len() + 20, 2 * good.len() - 1] {
        let mut bytes = [good.clone(), chunk(b"first")].concat();
        bytes[at] ^= 0x80;
        let outcome = decode(&bytes);
        assert_eq!(outcome.events, [payload(b"first")]);
        assert!(
            matches!(
                outcome.error,
                Some(EventStreamError::MessageChecksum { .. })
            ),
            "{outcome:?}"
        );
        assert_eq!(decode_in_pieces(&bytes, vec![1; bytes.len()]), outcome);
    }
}

#[test]
fn lying_lengths_are_refused() {
    // Shorter than the message: the CRC read is a payload byte's.
    let good = chunk(b"payload");
    let mut short = good.clone();
    let total = good.len() as u32 - 3;
    short[..12].copy_from_slice(&prelude(total, 69));
    assert!(matches!(
        decode(&short).error,
        Some(EventStreamError::MessageChecksum { .. } | EventStreamError::HeadersTooLong { .. })
    ));
    // Under the minimum, or headers past the message's end.
    assert_eq!(
        decode(&prelude(15, 0)).error,
        Some(EventStreamError::MessageTooShort { declared: 15 })
    );
    assert_eq!(
        decode(&prelude(0, 0)).error,
        Some(EventStreamError::MessageTooShort { declared: 0 })
    );
    assert_eq!(
        decode(&prelude(40, 25)).error,
        Some(EventStreamError::HeadersTooLong {
            declared: 25,
            limit: 24
        })
    );
    // Longer than what follows: held, waiting for the rest.
    let mut long = good.clone();
    long[..12].copy_from_slice(&prelude(good.len() as u32 + 100, 69));
    let outcome = decode(&long);
    assert_eq!((outcome.error, outcome.pending), (None, good.len()));
}

#[test]
fn huge_declared_lengths_are_refused_at_the_prelude() {
    for total in [u32::MAX, MAX_MESSAGE_LEN as u32 + 1] {
        let outcome = decode(&prelude(total, 0));
        assert_eq!(
            outcome.error,
            Some(EventStreamError::MessageTooLong {
                declared: total,
                limit: MAX_MESSAGE_LEN
            })
        );
        assert_eq!(outcome.pending, 0);
    }
    let headers = MAX_HEADERS_LEN as u32 + 1;
    assert_eq!(
        decode(&prelude(1 << 20, headers)).error,
        Some(EventStreamError::HeadersTooLong {
            declared: headers,
            limit: MAX_HEADERS_LEN
        })
    );
    // A lower limit for the decoder, and the largest message the format allows is accepted.
    let mut decoder = EventStreamDecoder::with_max_message_len(1024);
    let error = decoder
        .push(&prelude(1025, 0), &mut Vec::new())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "event stream: a message declares 1025 bytes, over the limit of 1024"
    );
    let largest = MAX_MESSAGE_LEN - chunk(b"").len();
    let bytes = chunk(&vec![b'x'; largest]);
    assert_eq!(bytes.len(), MAX_MESSAGE_LEN);
    let outcome = decode_in_pieces(&bytes, [5, 100_000]);
    assert_eq!((outcome.events.len(), outcome.error), (1, None));
}

#[test]
fn unknown_or_missing_types_are_refused() {
    let cases: Vec<(Vec<u8>, EventStreamError)> = vec![
        (
            lambda_message("event", ":event-type", "PayloadChunkV2", b"x"),
            EventStreamError::UnknownEventType("PayloadChunkV2".into()),
        ),
        (
            lambda_message("notice", ":event-type", "PayloadChunk", b"x"),
            EventStreamError::UnknownMessageType("notice".into()),
        ),
        (
            encode(
                &SdkMessage::new(b"x".to_vec()).add_header(string(":event-type", "PayloadChunk")),
            ),
            EventStreamError::MissingHeader(":message-type"),
        ),
        (
            encode(&SdkMessage::new(b"x".to_vec()).add_header(string(":message-type", "event"))),
            EventStreamError::MissingHeader(":event-type"),
        ),
        (
            encode(
                &SdkMessage::new(b"x".to_vec())
                    .add_header(SdkHeader::new(":message-type", SdkValue::Int32(1))),
            ),
            EventStreamError::MissingHeader(":message-type"),
        ),
        (
            lambda_message("exception", ":event-type", "PayloadChunk", b"x"),
            EventStreamError::MissingHeader(":exception-type"),
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(decode(&bytes).error, Some(expected));
    }
}

#[test]
fn bad_invoke_complete_payloads_are_refused() {
    for (json, why) in [
        ("not json", "a payload that is not JSON"),
        ("[1]", "a payload that is not a JSON object"),
        (r#"{"ErrorCode":5}"#, "ErrorCode that is not a string"),
    ] {
        let error = decode(&complete(json)).error.unwrap();
        assert!(matches!(error, EventStreamError::BadInvokeComplete(_)));
        assert!(error.to_string().contains(why), "{error}");
    }
    // Empty, or empty error fields: a success.
    for json in ["", " ", "{}", r#"{"ErrorCode":"","ErrorDetails":null}"#] {
        assert_eq!(decode(&complete(json)).events, [done()], "{json:?}");
    }
    assert_eq!(
        decode(&complete(r#"{"ErrorDetails":"only details"}"#)).events,
        [StreamEvent::Complete {
            error: Some(FunctionStreamError {
                code: String::new(),
                details: "only details".into()
            })
        }]
    );
}

#[test]
fn exceptions_and_errors_carry_a_short_message() {
    let long = "é".repeat(2000);
    let cases = [
        (
            exception("ServiceException", r#"{"Message":"m1"}"#),
            "ServiceException",
            "m1".to_owned(),
        ),
        (exception("X", "plain text"), "X", "plain text".to_owned()),
        (
            exception("X", &format!(r#"{{"message":"{long}"}}"#)),
            "X",
            "é".repeat(EXCEPTION_MESSAGE_LIMIT / 2),
        ),
        (
            encode(
                &SdkMessage::new(Vec::new())
                    .add_header(string(":message-type", "error"))
                    .add_header(string(":error-code", "InternalError"))
                    .add_header(string(":error-message", "try again")),
            ),
            "InternalError",
            "try again".to_owned(),
        ),
    ];
    for (bytes, kind, message) in cases {
        assert_eq!(
            decode(&bytes).events,
            [StreamEvent::Exception {
                exception_type: kind.into(),
                message
            }]
        );
    }
}

#[test]
fn error_messages_quote_little() {
    let kind = "x\r\n".repeat(10_000);
    let error = decode(&lambda_message("event", ":event-type", &kind, b""))
        .error
        .unwrap();
    let text = error.to_string();
    assert!(text.len() < 200, "{text}");
    assert!(
        text.starts_with("event stream: unknown :event-type \"x\\r\\nx"),
        "{text}"
    );
    assert!(!text.contains('\n'));
}

#[test]
fn quotes_are_short_even_when_escaped() {
    use super::error::quote;
    assert_eq!(quote("PayloadChunk"), "\"PayloadChunk\"");
    assert_eq!(quote("a\"b\n"), "\"a\\\"b\\n\"");
    let controls = quote(&"\u{7f}".repeat(1000));
    assert!(controls.len() <= 64 + 5, "{controls}");
    assert!(controls.ends_with("\"..."), "{controls}");
    let exact = "x".repeat(64);
    assert_eq!(quote(&exact), format!("\"{exact}\""));
    assert_eq!(quote(&format!("{exact}y")), format!("\"{exact}\"..."));
}
