//! Event-stream messages as the AWS SDK's encoder (`aws-smithy-eventstream`) writes them, in
//! the shapes Lambda sends: what the streaming codecs' tests feed in.

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{
    Header as SdkHeader, HeaderValue as SdkValue, Message as SdkMessage,
};
use aws_smithy_types::str_bytes::StrBytes;

pub fn encode(message: &SdkMessage) -> Vec<u8> {
    let mut out = Vec::new();
    write_message_to(message, &mut out).unwrap();
    out
}

pub fn string(name: &'static str, value: &str) -> SdkHeader {
    SdkHeader::new(name, SdkValue::String(StrBytes::from(value.to_owned())))
}

/// A message as Lambda sends it: `:event-type` or `:exception-type`, then the content type
/// and the message type (the order Lambda uses; the decoder must not depend on it).
pub fn lambda_message(
    message_type: &str,
    kind_header: &'static str,
    kind: &str,
    payload: &[u8],
) -> Vec<u8> {
    encode(
        &SdkMessage::new(payload.to_vec())
            .add_header(string(kind_header, kind))
            .add_header(string(":content-type", "application/octet-stream"))
            .add_header(string(":message-type", message_type)),
    )
}

pub fn chunk(payload: &[u8]) -> Vec<u8> {
    lambda_message("event", ":event-type", "PayloadChunk", payload)
}

pub fn complete(json: &str) -> Vec<u8> {
    lambda_message("event", ":event-type", "InvokeComplete", json.as_bytes())
}

pub fn exception(kind: &str, json: &str) -> Vec<u8> {
    lambda_message("exception", ":exception-type", kind, json.as_bytes())
}
