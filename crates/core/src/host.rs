//! Every host interaction the core needs, as small traits. The filter crate implements them
//! once over proxy-wasm (the only code with host calls and `unsafe`); the tests here use the
//! fakes of `host::fake`. The core is generic over them (static dispatch): on the request path
//! a call through a trait is the host call itself, inlined.

use crate::credentials::chain::Callout;
use crate::local_reply::LocalReply;
use std::fmt;
use std::time::Duration;

/// The host's wall clock.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// A host call's failure, as the host reports it (proxy-wasm's status codes). Carried up as
/// it is and shown once, by its name, where it is logged or put in a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostError {
    /// What the call names is not there (a stream that is gone, a key, a cluster).
    NotFound,
    BadArgument,
    SerializationFailure,
    ParseFailure,
    Empty,
    /// The value changed since it was read with the token given (compare-and-swap lost).
    CasMismatch,
    InternalFailure,
    /// A status this filter does not know.
    Unknown,
}

/// Its name (`BadArgument`), as proxy-wasm's `Status` is shown.
impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Data shared by the VMs of one proxy (proxy-wasm shared data): a key-value map where every
/// write gives the value a new compare-and-swap token.
pub trait SharedData {
    /// The value of `key` and its token; `(None, None)` when the key does not exist.
    fn get_shared(&self, key: &str) -> Result<(Option<Vec<u8>>, Option<u32>), HostError>;
    /// Writes `value`. With `cas`, only if the key's token is still `cas` (a key that does not
    /// exist yet is written whatever `cas` is, as Envoy does).
    fn set_shared(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), HostError>;
}

/// HTTP calls through Envoy clusters; the answer comes back to the root context by token.
pub trait Callouts {
    /// Starts `callout`; its token, or why it could not start (no such cluster, say).
    fn dispatch(&self, callout: &Callout, timeout: Duration) -> Result<u32, HostError>;
}

/// What the credential agent needs of the host.
pub trait AgentHost: Clock + SharedData + Callouts {}
impl<T: Clock + SharedData + Callouts> AgentHost for T {}

/// One HTTP stream (the request being handled) as the filter sees it.
pub trait RequestStream: Clock {
    /// The request header map, serialized as the host gives it (`header_pairs` reads it).
    fn request_headers(&self) -> Vec<u8>;
    /// One request header's value (one host call, without reading the whole map).
    fn request_header(&self, name: &str) -> Option<Vec<u8>>;
    /// `size` bytes of the buffered request body, from `offset`.
    fn request_body(&self, offset: usize, size: usize) -> Result<Vec<u8>, HostError>;
    /// Replaces the request header map with `serialized` (the `header_pairs` format).
    fn set_request_headers(&self, serialized: &[u8]) -> Result<(), HostError>;
    /// Answers the request locally instead of sending it on (`detailed`: with the full reason).
    fn send_reply(&self, reply: &LocalReply, detailed: bool) -> Result<(), HostError>;
    /// Lets a paused request go on (after it was rewritten from outside its own callbacks).
    fn resume_request(&self) -> Result<(), HostError>;
    /// The response header map, serialized as the host gives it (one host call for the
    /// status and the function error both).
    fn response_headers(&self) -> Vec<u8>;
    /// Replaces the response's `:status`.
    fn set_response_status(&self, status: u32) -> Result<(), HostError>;
    /// Replaces the response header map with `serialized` (the `header_pairs` format), while
    /// the response headers have not gone to the caller yet.
    fn set_response_headers(&self, serialized: &[u8]) -> Result<(), HostError>;
    /// `size` bytes of the response body part being handled, from `offset`.
    fn response_body(&self, offset: usize, size: usize) -> Result<Vec<u8>, HostError>;
    /// Replaces the first `size` bytes of the response body part being handled with `bytes`
    /// (a streamed answer's frames with the payload they carried; `bytes` empty: drains them).
    fn replace_response_body(&self, size: usize, bytes: &[u8]) -> Result<(), HostError>;
    /// Appends `bytes` to the response body part being handled, whose length is `length`
    /// (Envoy appends what is written at or past the end).
    fn append_response_body(&self, length: usize, bytes: &[u8]) -> Result<(), HostError>;
    /// Resets the stream: a caller whose answer already began sees it end abruptly (HTTP/1:
    /// the connection closed before the last chunk; HTTP/2: `RST_STREAM`), not a clean end.
    fn reset_stream(&self) -> Result<(), HostError>;
    /// An attribute of the stream that Envoy knows (`["xds", "cluster_name"]`), as bytes.
    fn property(&self, path: &[&str]) -> Option<Vec<u8>>;
    /// Sends a request of the stream's own through `cluster`; the answer comes back to the
    /// stream (`RequestFlow::on_callout_answer`).
    fn call_out(
        &self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
    ) -> Result<u32, HostError>;
    /// Answers the request with this response (headers without `:status`).
    fn send_response(
        &self,
        status: u32,
        headers: &[(&str, &[u8])],
        body: &[u8],
    ) -> Result<(), HostError>;
}

/// Reaching a stream from outside its callbacks (the root context's timer settles requests
/// that waited for credentials).
pub trait Streams {
    type Stream: RequestStream;
    /// The stream `context_id`, made the current one; `None` when it is gone.
    fn enter(&self, context_id: u32) -> Option<Self::Stream>;
}

#[cfg(any(test, feature = "fake"))]
pub mod fake;
