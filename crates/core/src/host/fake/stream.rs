//! Fake request streams: what a stream sent (its replies, its callouts, the headers it set),
//! read back by the tests.

use super::FakeClock;
use crate::header_pairs;
use crate::host::{Clock, HostError, RequestStream, Streams};
use crate::local_reply::LocalReply;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

/// A request a stream sent itself (`call_out`).
#[derive(Debug, Clone)]
pub struct SentRequest {
    pub cluster: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A response a stream answered with (`send_response`).
#[derive(Debug, Clone)]
pub struct SentResponse {
    pub status: u32,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

/// What a fake stream was given and what the filter did to it.
#[derive(Default)]
pub struct StreamState {
    pub headers: Vec<u8>,
    pub body: Vec<u8>,
    pub response_headers: Vec<(String, Vec<u8>)>,
    /// The header map the filter wrote, if it did.
    pub written_headers: Option<Vec<u8>>,
    pub replies: Vec<LocalReply>,
    /// The bodies the replies were sent with, as the caller reads them.
    pub reply_bodies: Vec<String>,
    pub resumed: u32,
    pub response_status: Option<u32>,
    /// Envoy's attributes of the stream, by path joined with `.`.
    pub properties: Vec<(String, Vec<u8>)>,
    /// Requests the filter sent itself.
    pub callouts: Vec<SentRequest>,
    /// The response the filter answered with itself.
    pub sent_response: Option<SentResponse>,
    /// Reads of the whole request header map.
    pub header_map_reads: u32,
    /// Reads of one request header (`request_header`).
    pub header_reads: u32,
    /// Reads of (part of) the request body.
    pub body_reads: u32,
    /// The response header map the filter wrote, if it did.
    pub written_response_headers: Option<Vec<u8>>,
    /// The response body part being handled (a test sets it before each body callback;
    /// the filter's replacement is left in it).
    pub response_body: Vec<u8>,
    /// The most bytes of the response body read at once.
    pub largest_response_read: usize,
    /// The stream was reset.
    pub reset: bool,
    /// Reads of the clock through the stream.
    pub clock_reads: u32,
    /// Reads of Envoy's attributes (`property`).
    pub property_reads: u32,
}

impl StreamState {
    /// A request with these headers (`content-length` is added for a body, `:authority` when
    /// missing: Envoy's connection manager always sets it) and body.
    pub fn request(headers: &[(&str, &str)], body: &[u8]) -> Self {
        let mut pairs: Vec<(&str, &[u8])> =
            headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
        if !headers.iter().any(|(n, _)| *n == ":authority") {
            pairs.push((":authority", b"caller.test"));
        }
        let length = body.len().to_string();
        if !body.is_empty() {
            pairs.push(("content-length", length.as_bytes()));
        }
        Self {
            headers: header_pairs::serialize(&pairs).unwrap_or_default(),
            body: body.to_vec(),
            ..Self::default()
        }
    }

    /// A written response header's value, as text.
    pub fn written_response(&self, name: &str) -> Option<String> {
        let written = self.written_response_headers.as_deref()?;
        header_pairs::find(written, name).map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// A written header's value, as text.
    pub fn written(&self, name: &str) -> Option<String> {
        let written = self.written_headers.as_deref()?;
        header_pairs::find(written, name).map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// The streams of one VM, by context id; a stream removed from the map is gone.
#[derive(Clone, Default)]
pub struct FakeStreams {
    pub clock: FakeClock,
    pub states: Rc<RefCell<HashMap<u32, StreamState>>>,
}

impl FakeStreams {
    pub fn new(clock: &FakeClock) -> Self {
        Self {
            clock: clock.clone(),
            states: Rc::default(),
        }
    }

    pub fn add(&self, context_id: u32, state: StreamState) -> FakeStream {
        self.states.borrow_mut().insert(context_id, state);
        FakeStream {
            context_id,
            streams: self.clone(),
        }
    }

    pub fn remove(&self, context_id: u32) {
        self.states.borrow_mut().remove(&context_id);
    }

    /// Reads a stream's state.
    pub fn with<T>(&self, context_id: u32, read: impl FnOnce(&StreamState) -> T) -> T {
        let states = self.states.borrow();
        let state = states.get(&context_id);
        read(state.unwrap_or(&StreamState::default()))
    }
}

impl Streams for FakeStreams {
    type Stream = FakeStream;
    fn enter(&self, context_id: u32) -> Option<FakeStream> {
        self.states
            .borrow()
            .contains_key(&context_id)
            .then(|| FakeStream {
                context_id,
                streams: self.clone(),
            })
    }
}

/// A handle on one fake stream.
pub struct FakeStream {
    context_id: u32,
    streams: FakeStreams,
}

impl FakeStream {
    fn update<T>(&self, change: impl FnOnce(&mut StreamState) -> T) -> Result<T, HostError> {
        let mut states = self.streams.states.borrow_mut();
        let state = states
            .get_mut(&self.context_id)
            .ok_or(HostError::NotFound)?;
        Ok(change(state))
    }
}

impl Clock for FakeStream {
    fn now_ms(&self) -> u64 {
        let _ = self.update(|s| s.clock_reads += 1);
        self.streams.clock.now_ms()
    }
}

impl RequestStream for FakeStream {
    fn request_headers(&self) -> Vec<u8> {
        self.update(|s| {
            s.header_map_reads += 1;
            s.headers.clone()
        })
        .unwrap_or_default()
    }
    fn request_header(&self, name: &str) -> Option<Vec<u8>> {
        self.update(|s| {
            s.header_reads += 1;
            header_pairs::find(&s.headers, name).map(<[u8]>::to_vec)
        })
        .ok()
        .flatten()
    }
    fn request_body(&self, offset: usize, size: usize) -> Result<Vec<u8>, HostError> {
        self.update(|s| {
            s.body_reads += 1;
            s.body.iter().copied().skip(offset).take(size).collect()
        })
    }
    fn set_request_headers(&self, serialized: &[u8]) -> Result<(), HostError> {
        self.update(|s| s.written_headers = Some(serialized.to_vec()))
    }
    fn send_reply(&self, reply: &LocalReply, detailed: bool) -> Result<(), HostError> {
        self.update(|s| {
            s.replies.push(reply.clone());
            s.reply_bodies.push(reply.body(detailed));
        })
    }
    fn resume_request(&self) -> Result<(), HostError> {
        self.update(|s| s.resumed += 1)
    }
    fn response_headers(&self) -> Vec<u8> {
        self.update(|s| {
            let pairs: Vec<(&str, &[u8])> = s
                .response_headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_slice()))
                .collect();
            header_pairs::serialize(&pairs).unwrap_or_default()
        })
        .unwrap_or_default()
    }
    fn set_response_status(&self, status: u32) -> Result<(), HostError> {
        self.update(|s| s.response_status = Some(status))
    }
    fn set_response_headers(&self, serialized: &[u8]) -> Result<(), HostError> {
        self.update(|s| s.written_response_headers = Some(serialized.to_vec()))
    }
    fn response_body(&self, offset: usize, size: usize) -> Result<Vec<u8>, HostError> {
        self.update(|s| {
            s.largest_response_read = s.largest_response_read.max(size);
            s.response_body
                .iter()
                .copied()
                .skip(offset)
                .take(size)
                .collect()
        })
    }
    fn replace_response_body(&self, size: usize, bytes: &[u8]) -> Result<(), HostError> {
        self.update(|s| {
            let end = size.min(s.response_body.len());
            s.response_body.splice(..end, bytes.iter().copied());
        })
    }
    fn append_response_body(&self, length: usize, bytes: &[u8]) -> Result<(), HostError> {
        self.update(|s| {
            // Envoy's `Buffer::copyFrom`: a write inside the buffer but not at 0 is refused.
            if length < s.response_body.len() {
                return Err(HostError::BadArgument);
            }
            s.response_body.extend_from_slice(bytes);
            Ok(())
        })?
    }
    fn reset_stream(&self) -> Result<(), HostError> {
        self.update(|s| s.reset = true)
    }
    fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        let key = path.join(".");
        self.update(|s| {
            s.property_reads += 1;
            s.properties
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        })
        .ok()
        .flatten()
    }
    fn call_out(
        &self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        _timeout: Duration,
    ) -> Result<u32, HostError> {
        self.update(|s| {
            let headers = headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect();
            s.callouts.push(SentRequest {
                cluster: cluster.to_owned(),
                headers,
                body: body.to_vec(),
            });
            u32::try_from(s.callouts.len()).unwrap_or(0)
        })
    }
    fn send_response(
        &self,
        status: u32,
        headers: &[(&str, &[u8])],
        body: &[u8],
    ) -> Result<(), HostError> {
        self.update(|s| {
            let headers = headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.to_vec()))
                .collect();
            s.sent_response = Some(SentResponse {
                status,
                headers,
                body: body.to_vec(),
            });
        })
    }
}
