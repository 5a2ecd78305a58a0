//! The request path. Headers: one read of the header map (to find what to strip and the
//! length), then pause. Body: buffered up to the limit, hashed once in place, then the signed
//! headers are written and the request continues. Response: a function error becomes 502.

use super::root::Plugin;
use crate::config::InvocationMode;
use crate::credentials::CredentialSource;
use crate::invoke::must_strip;
use crate::local_reply::LocalReply;
use crate::response::rewritten_status;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;
use std::rc::Rc;
use std::time::UNIX_EPOCH;

pub struct LambdaHttp {
    context_id: u32,
    plugin: Rc<Plugin>,
    /// Client headers to remove before the request leaves (authorization, x-amz-*).
    strip: Vec<String>,
    /// The client sent a content-length (else one is set once the body is known).
    has_content_length: bool,
    /// A local reply was sent: nothing more to do for this stream.
    replied: bool,
}

impl LambdaHttp {
    pub fn new(context_id: u32, plugin: Rc<Plugin>) -> Self {
        Self {
            context_id,
            plugin,
            strip: Vec::new(),
            has_content_length: false,
            replied: false,
        }
    }

    fn reply(&mut self, reply: &LocalReply) -> Action {
        log::info!(
            "mesh-lambda[{}]: {} {}",
            self.context_id,
            reply.status,
            reply.code
        );
        self.replied = true;
        self.send_http_response(
            reply.status,
            vec![("content-type", "application/json")],
            Some(reply.body().as_bytes()),
        );
        Action::Pause
    }

    /// Signs for `body` and rewrites the request into the Invoke call.
    fn sign_and_send(&mut self, body: &[u8]) -> Action {
        let plugin = Rc::clone(&self.plugin);
        let credentials = match plugin.credentials.credentials() {
            Ok(c) => c,
            Err(e) => return self.reply(&LocalReply::credentials_unavailable(&e.0)),
        };
        let now = self
            .get_current_time()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let headers = {
            let mut keys = plugin.signing_keys.borrow_mut();
            plugin.target.sign(credentials, &mut keys, now, body)
        };
        for name in std::mem::take(&mut self.strip) {
            if !headers.iter().any(|(set, _)| *set == name) {
                self.set_http_request_header(&name, None);
            }
        }
        for (name, value) in &headers {
            self.set_http_request_header(name, Some(value));
        }
        if !self.has_content_length {
            self.set_http_request_header("content-length", Some(&body.len().to_string()));
        }
        Action::Continue
    }
}

impl Context for LambdaHttp {}

impl HttpContext for LambdaHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        // Fail before buffering anything when no request could be signed.
        if let Err(e) = self.plugin.credentials.credentials() {
            let reason = e.0.clone();
            return self.reply(&LocalReply::credentials_unavailable(&reason));
        }
        let limit = self.plugin.max_request_bytes;
        let mut declared_length = None;
        for (name, value) in self.get_http_request_headers() {
            if name == "content-length" {
                self.has_content_length = true;
                declared_length = value.trim().parse::<u64>().ok();
            } else if must_strip(&name) {
                self.strip.push(name);
            }
        }
        if let Some(size) = declared_length.filter(|&n| n > limit) {
            return self.reply(&LocalReply::too_large(size, limit));
        }
        if end_of_stream {
            return self.sign_and_send(&[]);
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
        if !end_of_stream {
            return Action::Pause;
        }
        let body = self.get_http_request_body(0, body_size).unwrap_or_default();
        self.sign_and_send(&body)
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if self.replied || self.plugin.mode != InvocationMode::Synchronous {
            return Action::Continue;
        }
        let function_error = self.get_http_response_header("x-amz-function-error");
        if let Some(status) = rewritten_status(self.plugin.mode, function_error.as_deref()) {
            self.set_http_response_header(":status", Some(&status.to_string()));
        }
        Action::Continue
    }
}
