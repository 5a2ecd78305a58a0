//! The streaming codecs: what an `InvokeWithResponseStream` answer's bytes mean for the
//! caller, with no host in sight. Lambda's 200 carries an event stream (`event_stream`, its
//! checksums in `crc32`): `PayloadChunk` events with the function's bytes, then one
//! `InvokeComplete`. A function-URL-style answer starts its payload with a JSON prelude
//! (`http_integration`). `Translator` turns Lambda's headers and body parts into the
//! caller's headers, the payload bytes to pass on, or a typed failure.
//!
//! Sans-IO, as Envoy's own event-stream parser is (envoyproxy/envoy,
//! `source/extensions/common/aws/eventstream/eventstream_parser.h`: `parseMessage` takes the
//! bytes the caller holds and returns a message, "incomplete", or an error; the caller owns
//! the buffer and drops what was consumed): here the adapter (`request::streamed`) reads the
//! host's body window and writes back what the translator returns; the translator keeps only
//! the unfinished message and the unread prelude.

mod caller_headers;
pub mod crc32;
pub mod event_stream;
pub mod http_integration;
#[cfg(test)]
mod test_frames;
mod translator;

pub use translator::{Failure, Opening, Translated, Translator};
