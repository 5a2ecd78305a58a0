//! Signing and sending the current request, or answering it locally. Free functions over
//! proxy-wasm host calls, so both the HTTP context (the usual path) and the root context (for
//! a request that waited for credentials, after `set_effective_context`) use them.

use super::header_maps::set_request_headers;
use super::plugin::{Plugin, ReadyRequest};
use mesh_lambda_core::credentials::Credentials;
use mesh_lambda_core::invoke::outgoing::outgoing_headers;
use mesh_lambda_core::local_reply::LocalReply;
use proxy_wasm::hostcalls;
use proxy_wasm::types::BufferType;
use std::rc::Rc;
use std::time::UNIX_EPOCH;

pub fn now_ms() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Rewrites the current request into the signed Invoke call. On error nothing is changed and
/// the caller must answer locally: the request never leaves unsigned.
pub fn sign_request(
    plugin: &Plugin,
    credentials: &Rc<Credentials>,
    request: &ReadyRequest,
    now_ms: u64,
) -> Result<(), String> {
    let body = if request.body_size == 0 {
        Vec::new()
    } else {
        hostcalls::get_buffer(BufferType::HttpRequestBody, 0, request.body_size)
            .map_err(|e| format!("cannot read the request body: {e:?}"))?
            .unwrap_or_default()
    };
    if body.len() != request.body_size {
        return Err(format!(
            "read {} of {} body bytes",
            body.len(),
            request.body_size
        ));
    }
    let signature =
        plugin
            .signer
            .borrow_mut()
            .sign(&plugin.target, credentials, now_ms / 1000, &body);
    let ours = plugin
        .target
        .headers(&signature, credentials.session_token.as_deref());
    let headers = outgoing_headers(&request.serialized_headers, &ours, body.len())?;
    set_request_headers(&headers).map_err(|e| format!("cannot set the request headers: {e:?}"))
}

/// Answers the current request with the filter's own JSON error.
pub fn send_local_reply(context_id: u32, reply: &LocalReply) {
    log::info!(
        "mesh-lambda[{context_id}]: {} {}: {}",
        reply.status,
        reply.code,
        reply.message
    );
    if let Err(e) = hostcalls::send_http_response(
        reply.status,
        vec![("content-type", "application/json")],
        Some(reply.body().as_bytes()),
    ) {
        log::error!("mesh-lambda[{context_id}]: cannot send the local reply: {e:?}");
    }
}
