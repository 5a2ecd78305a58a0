//! The core's host traits over proxy-wasm: the one place that makes host calls (with
//! `raw_abi.rs`, the calls made through the raw ABI). `Envoy` has no state: each method is the host
//! call, and the core's generic code compiles down to it.

use crate::raw_abi;
use mesh_lambda_core::credentials::chain::Callout;
use mesh_lambda_core::header_pairs;
use mesh_lambda_core::host::{Callouts, Clock, HostError, RequestStream, SharedData, Streams};
use mesh_lambda_core::local_reply::LocalReply;
use mesh_lambda_core::metrics::{MetricKind, MetricsHost};
use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, MapType, Status};
use std::time::{Duration, UNIX_EPOCH};

/// A host call's failure as the core carries it: every status the glue gets goes through
/// here.
pub fn host_error(status: Status) -> HostError {
    match status {
        Status::NotFound => HostError::NotFound,
        Status::BadArgument => HostError::BadArgument,
        Status::SerializationFailure => HostError::SerializationFailure,
        Status::ParseFailure => HostError::ParseFailure,
        Status::Empty => HostError::Empty,
        Status::CasMismatch => HostError::CasMismatch,
        Status::InternalFailure => HostError::InternalFailure,
        _ => HostError::Unknown,
    }
}

/// The host, for the root context and for the stream being handled.
#[derive(Clone, Copy, Default)]
pub struct Envoy;

impl Clock for Envoy {
    fn now_ms(&self) -> u64 {
        hostcalls::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

impl SharedData for Envoy {
    fn get_shared(&self, key: &str) -> Result<(Option<Vec<u8>>, Option<u32>), HostError> {
        hostcalls::get_shared_data(key).map_err(host_error)
    }

    fn set_shared(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), HostError> {
        hostcalls::set_shared_data(key, Some(value), cas).map_err(host_error)
    }
}

impl MetricsHost for Envoy {
    fn define_metric(&self, kind: MetricKind, name: &str) -> Result<u32, HostError> {
        // The ABI's metric types: counter 0, gauge 1, histogram 2.
        let kind = match kind {
            MetricKind::Counter => 0,
            MetricKind::Gauge => 1,
            MetricKind::Histogram => 2,
        };
        raw_abi::define_metric(kind, name).map_err(host_error)
    }

    fn increment_metric(&self, id: u32, delta: i64) -> Result<(), HostError> {
        raw_abi::increment_metric(id, delta).map_err(host_error)
    }

    fn record_metric(&self, id: u32, value: u64) -> Result<(), HostError> {
        raw_abi::record_metric(id, value).map_err(host_error)
    }
}

impl Callouts for Envoy {
    fn dispatch(&self, c: &Callout, timeout: Duration) -> Result<u32, HostError> {
        let mut headers: Vec<(&str, &str)> = vec![
            (":method", c.method),
            (":path", &c.path),
            (":authority", &c.authority),
        ];
        headers.extend(c.headers.iter().map(|(n, v)| (*n, v.as_str())));
        let body = (!c.body.is_empty()).then_some(c.body.as_slice());
        hostcalls::dispatch_http_call(&c.cluster, headers, body, vec![], timeout)
            .map_err(host_error)
    }
}

impl RequestStream for Envoy {
    fn request_headers(&self) -> Vec<u8> {
        raw_abi::serialized_headers(MapType::HttpRequestHeaders)
    }

    fn request_header(&self, name: &str) -> Option<Vec<u8>> {
        hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, name)
            .ok()
            .flatten()
    }

    fn request_body(&self, offset: usize, size: usize) -> Result<Vec<u8>, HostError> {
        hostcalls::get_buffer(BufferType::HttpRequestBody, offset, size)
            .map(Option::unwrap_or_default)
            .map_err(host_error)
    }

    fn set_request_headers(&self, serialized: &[u8]) -> Result<(), HostError> {
        raw_abi::set_headers(MapType::HttpRequestHeaders, serialized).map_err(host_error)
    }

    fn send_reply(&self, reply: &LocalReply, detailed: bool) -> Result<(), HostError> {
        hostcalls::send_http_response(
            reply.status,
            vec![("content-type", "application/json")],
            Some(reply.body(detailed).as_bytes()),
        )
        .map_err(host_error)
    }

    fn resume_request(&self) -> Result<(), HostError> {
        hostcalls::resume_http_request().map_err(host_error)
    }

    fn response_headers(&self) -> Vec<u8> {
        raw_abi::serialized_headers(MapType::HttpResponseHeaders)
    }

    fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        hostcalls::get_property(path.to_vec()).ok().flatten()
    }

    fn call_out(
        &self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
    ) -> Result<u32, HostError> {
        hostcalls::dispatch_http_call(cluster, headers.to_vec(), Some(body), vec![], timeout)
            .map_err(host_error)
    }

    fn send_response(
        &self,
        status: u32,
        headers: &[(&str, &[u8])],
        body: &[u8],
    ) -> Result<(), HostError> {
        // A map whose sizes do not fit the ABI's 32-bit fields is one the host would refuse.
        let serialized = header_pairs::serialize(headers).ok_or(HostError::BadArgument)?;
        raw_abi::send_local_response(status, &serialized, body).map_err(host_error)
    }

    fn set_response_headers(&self, serialized: &[u8]) -> Result<(), HostError> {
        raw_abi::set_headers(MapType::HttpResponseHeaders, serialized).map_err(host_error)
    }

    fn response_body(&self, offset: usize, size: usize) -> Result<Vec<u8>, HostError> {
        hostcalls::get_buffer(BufferType::HttpResponseBody, offset, size)
            .map(Option::unwrap_or_default)
            .map_err(host_error)
    }

    fn replace_response_body(&self, size: usize, bytes: &[u8]) -> Result<(), HostError> {
        hostcalls::set_buffer(BufferType::HttpResponseBody, 0, size, bytes).map_err(host_error)
    }

    fn append_response_body(&self, length: usize, bytes: &[u8]) -> Result<(), HostError> {
        hostcalls::set_buffer(BufferType::HttpResponseBody, length, 0, bytes).map_err(host_error)
    }

    fn reset_stream(&self) -> Result<(), HostError> {
        // `proxy_close_stream(HttpResponse)`: Envoy resets the stream through the encoder
        // callbacks once the VM call returns (`Context::closeStream`).
        hostcalls::reset_http_response().map_err(host_error)
    }

    fn set_response_status(&self, status: u32) -> Result<(), HostError> {
        hostcalls::set_map_value(
            MapType::HttpResponseHeaders,
            ":status",
            Some(&status.to_string()),
        )
        .map_err(host_error)
    }
}

impl Streams for Envoy {
    type Stream = Envoy;

    fn enter(&self, context_id: u32) -> Option<Envoy> {
        hostcalls::set_effective_context(context_id)
            .ok()
            .map(|()| Envoy)
    }
}

/// The answer to a stream's own callout: the headers (serialized, with `:status`) and body,
/// or `None` when none came.
pub fn stream_callout_answer(num_headers: usize, body_size: usize) -> Option<(Vec<u8>, Vec<u8>)> {
    if num_headers == 0 {
        return None;
    }
    let headers = raw_abi::serialized_headers(MapType::HttpCallResponseHeaders);
    let body = hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
        .ok()
        .flatten()
        .unwrap_or_default();
    Some((headers, body))
}

/// The answer to a callout, read from the host: status and body, or `None` when none came
/// (`num_headers == 0`: a timeout or a connection failure) or it had no readable status.
pub fn callout_answer(num_headers: usize, body_size: usize) -> Option<(u32, Vec<u8>)> {
    if num_headers == 0 {
        return None;
    }
    let status = hostcalls::get_map_value(MapType::HttpCallResponseHeaders, ":status")
        .ok()
        .flatten()?
        .parse::<u32>()
        .ok()?;
    let body = hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
        .ok()
        .flatten()
        .unwrap_or_default();
    Some((status, body))
}
