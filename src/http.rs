//! The request path. Headers: one read of the header map (what to strip, the length), then
//! pause. Body: buffered up to the limit, then signed in place with the current credentials
//! and sent on; without credentials yet, the request waits (the credential agent resumes it).
//! Response: a function error becomes 502.

use super::forward::{now_ms, send_local_reply, sign_request};
use super::header_maps::{response_header, serialized_request_headers};
use super::plugin::{Plugin, ReadyRequest, WaitingRequest};
use mesh_lambda_core::credentials::shared::Availability;
use mesh_lambda_core::header_pairs;
use mesh_lambda_core::invoke::InvocationMode;
use mesh_lambda_core::local_reply::LocalReply;
use mesh_lambda_core::response::rewritten_status;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;
use std::rc::Rc;

pub struct LambdaHttp {
    context_id: u32,
    plugin: Rc<Plugin>,
    request: ReadyRequest,
    /// Bytes buffered so far.
    body_size: usize,
    /// A local reply was sent: nothing more to do for this stream.
    replied: bool,
}

impl LambdaHttp {
    pub fn new(context_id: u32, plugin: Rc<Plugin>) -> Self {
        Self {
            context_id,
            plugin,
            request: ReadyRequest::default(),
            body_size: 0,
            replied: false,
        }
    }

    fn reply(&mut self, reply: &LocalReply) -> Action {
        self.replied = true;
        send_local_reply(self.context_id, reply);
        Action::Pause
    }

    /// The whole body is buffered: sign and send, wait for credentials, or fail.
    fn body_complete(&mut self, body_size: usize) -> Action {
        self.request.body_size = body_size;
        let now = now_ms();
        let credentials = match self.plugin.credentials.borrow().availability(now) {
            Availability::Ready(c) => Ok(c.clone()),
            Availability::Failed(reason) => Err(Some(LocalReply::credentials_unavailable(reason))),
            Availability::Pending => Err(None),
        };
        match credentials {
            Ok(c) => match sign_request(&self.plugin, &c, &self.request, now) {
                Ok(()) => Action::Continue,
                Err(e) => self.reply(&LocalReply::internal(&e)),
            },
            Err(Some(reply)) => self.reply(&reply),
            Err(None) => {
                log::debug!("mesh-lambda[{}]: waiting for credentials", self.context_id);
                self.plugin.waiting.borrow_mut().push(WaitingRequest {
                    context_id: self.context_id,
                    deadline_ms: now + self.plugin.max_wait_ms,
                    request: std::mem::take(&mut self.request),
                });
                Action::Pause
            }
        }
    }
}

impl Drop for LambdaHttp {
    fn drop(&mut self) {
        if let Ok(mut waiting) = self.plugin.waiting.try_borrow_mut() {
            waiting.retain(|w| w.context_id != self.context_id);
        }
    }
}

impl Context for LambdaHttp {}

impl HttpContext for LambdaHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        // Every provider failed and nothing is cached: answer before buffering the body.
        // (Whether cached credentials are still valid is decided once the body is in.)
        let failed = self
            .plugin
            .credentials
            .borrow()
            .failed_without_credentials();
        if let Some(reason) = failed {
            return self.reply(&LocalReply::credentials_unavailable(&reason));
        }
        let limit = self.plugin.max_request_bytes;
        let mut declared_length = None;
        self.request.serialized_headers = serialized_request_headers();
        if let Some(value) = header_pairs::find(&self.request.serialized_headers, "content-length")
        {
            declared_length = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok());
        }
        if let Some(size) = declared_length.filter(|&n| n > limit) {
            return self.reply(&LocalReply::too_large(size, limit));
        }
        if end_of_stream {
            return self.body_complete(0);
        }
        Action::Pause
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.replied {
            return Action::Pause;
        }
        let limit = self.plugin.max_request_bytes;
        let size = u64::try_from(body_size).unwrap_or(u64::MAX);
        if size > limit {
            return self.reply(&LocalReply::too_large(size, limit));
        }
        self.body_size = body_size;
        if !end_of_stream {
            return Action::Pause;
        }
        self.body_complete(body_size)
    }

    /// Trailers end the body (their own end of stream never reaches the body callback): the
    /// request is signed here, or it would continue unsigned.
    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        if self.replied {
            return Action::Pause;
        }
        self.body_complete(self.body_size)
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if self.replied || self.plugin.mode != InvocationMode::Synchronous {
            return Action::Continue;
        }
        let function_error = response_header("x-amz-function-error");
        if let Some(status) = rewritten_status(self.plugin.mode, function_error.as_deref()) {
            self.set_http_response_header(":status", Some(&status.to_string()));
        }
        Action::Continue
    }
}
