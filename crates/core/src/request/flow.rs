//! One stream's way through the filter. Headers: one read of the header map (the declared
//! length is checked against the limit), then pause. Body: buffered up to the limit; once
//! complete (end of stream, or trailers), signed in place and sent on, answered, or parked to
//! wait for credentials. Response: a function error becomes 502.

use super::decision::{decide, Decision};
use super::rewrite::sign_buffered_request;
use super::{send_local_reply, Action, Plugin, ReadyRequest};
use crate::header_pairs;
use crate::host::RequestStream;
use crate::invoke::InvocationMode;
use crate::local_reply::LocalReply;
use crate::response::rewritten_status;
use crate::stream_log;

pub struct RequestFlow {
    context_id: u32,
    request: ReadyRequest,
    /// Bytes buffered so far.
    body_size: usize,
    /// A local reply was sent, or the request was parked: the body callbacks have nothing
    /// more to do.
    done: bool,
    replied: bool,
}

impl RequestFlow {
    pub fn new(context_id: u32) -> Self {
        Self {
            context_id,
            request: ReadyRequest::default(),
            body_size: 0,
            done: false,
            replied: false,
        }
    }

    pub fn on_request_headers(
        &mut self,
        plugin: &Plugin,
        stream: &impl RequestStream,
        end_of_stream: bool,
    ) -> Action {
        // Every provider failed and nothing is cached: answer before buffering the body.
        // (Whether cached credentials are still valid is decided once the body is in.)
        let failed = plugin.credentials.borrow().failed_without_credentials();
        if let Some(reason) = failed {
            return self.reply(stream, &LocalReply::credentials_unavailable(&reason));
        }
        self.request.serialized_headers = stream.request_headers();
        let declared_length =
            header_pairs::find(&self.request.serialized_headers, "content-length")
                .and_then(|value| std::str::from_utf8(value).ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
        let limit = plugin.max_request_bytes;
        if let Some(size) = declared_length.filter(|&n| n > limit) {
            return self.reply(stream, &LocalReply::too_large(size, limit));
        }
        if end_of_stream {
            return self.body_complete(plugin, stream, 0);
        }
        plugin.body_delivery.watch(self.context_id, stream.now_ms());
        Action::Pause
    }

    pub fn on_request_body(
        &mut self,
        plugin: &Plugin,
        stream: &impl RequestStream,
        body_size: usize,
        end_of_stream: bool,
    ) -> Action {
        plugin.body_delivery.body_arrived();
        if self.done {
            return Action::Pause;
        }
        let limit = plugin.max_request_bytes;
        let size = u64::try_from(body_size).unwrap_or(u64::MAX);
        if size > limit {
            return self.reply(stream, &LocalReply::too_large(size, limit));
        }
        self.body_size = body_size;
        if !end_of_stream {
            return Action::Pause;
        }
        self.body_complete(plugin, stream, body_size)
    }

    /// Trailers end the body (their own end of stream never reaches the body callback): the
    /// request is signed here, or it would continue unsigned.
    pub fn on_request_trailers(&mut self, plugin: &Plugin, stream: &impl RequestStream) -> Action {
        if self.done {
            return Action::Pause;
        }
        self.body_complete(plugin, stream, self.body_size)
    }

    pub fn on_response_headers(&mut self, plugin: &Plugin, stream: &impl RequestStream) -> Action {
        if self.replied || plugin.mode != InvocationMode::Synchronous {
            return Action::Continue;
        }
        let function_error = stream.response_header("x-amz-function-error");
        if let Some(status) = rewritten_status(plugin.mode, function_error.as_deref()) {
            if let Err(e) = stream.set_response_status(status) {
                stream_log!(error, self.context_id, "cannot set the status: {e}");
            }
        }
        Action::Continue
    }

    /// The stream ended: a request still waiting is forgotten.
    pub fn on_done(&self, plugin: &Plugin) {
        if let Ok(mut waiting) = plugin.waiting.try_borrow_mut() {
            waiting.forget(self.context_id);
        }
        plugin.body_delivery.forget(self.context_id);
    }

    /// The whole body is buffered: sign and send, answer, or wait for credentials.
    fn body_complete(
        &mut self,
        plugin: &Plugin,
        stream: &impl RequestStream,
        body_size: usize,
    ) -> Action {
        self.request.body_size = body_size;
        self.done = true;
        let now = stream.now_ms();
        let deadline = now.saturating_add(plugin.max_wait_ms);
        match decide(plugin, now, deadline) {
            Decision::Sign(credentials) => {
                match sign_buffered_request(plugin, stream, &credentials, &self.request, now) {
                    Ok(()) => Action::Continue,
                    Err(e) => self.reply(stream, &LocalReply::internal(&e)),
                }
            }
            Decision::Reply(reply) => self.reply(stream, &reply),
            Decision::Wait => {
                stream_log!(debug, self.context_id, "waiting for credentials");
                let request = std::mem::take(&mut self.request);
                plugin
                    .waiting
                    .borrow_mut()
                    .park(self.context_id, deadline, request);
                Action::Pause
            }
        }
    }

    fn reply(&mut self, stream: &impl RequestStream, reply: &LocalReply) -> Action {
        self.done = true;
        self.replied = true;
        send_local_reply(self.context_id, stream, reply);
        Action::Pause
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{plugin, plugin_with_credentials, NOW_MS};
    use super::*;
    use crate::host::fake::{FakeClock, FakeStream, FakeStreams, StreamState};

    const ID: u32 = 7;

    fn stream(headers: &[(&str, &str)], body: &[u8]) -> (FakeStreams, FakeStream) {
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let stream = streams.add(ID, StreamState::request(headers, body));
        (streams, stream)
    }

    #[test]
    fn a_request_with_a_body_is_signed_when_the_body_is_complete() {
        let p = plugin_with_credentials("");
        let (streams, s) = stream(&[(":method", "POST"), (":path", "/")], b"{\"a\":1}");
        let mut flow = RequestFlow::new(ID);
        assert_eq!(flow.on_request_headers(&p, &s, false), Action::Pause);
        assert_eq!(flow.on_request_body(&p, &s, 3, false), Action::Pause);
        streams.with(ID, |st| assert_eq!(st.written_headers, None));
        assert_eq!(flow.on_request_body(&p, &s, 7, true), Action::Continue);
        streams.with(ID, |st| {
            assert_eq!(st.written(":method").as_deref(), Some("POST"));
            assert!(st.written("authorization").is_some());
        });
    }

    #[test]
    fn a_request_without_a_body_is_signed_at_its_headers() {
        let p = plugin_with_credentials("");
        let (streams, s) = stream(&[(":method", "GET"), (":path", "/health")], b"");
        let mut flow = RequestFlow::new(ID);
        assert_eq!(flow.on_request_headers(&p, &s, true), Action::Continue);
        streams.with(ID, |st| {
            assert_eq!(st.written(":method").as_deref(), Some("POST"));
            assert_eq!(st.written("content-length").as_deref(), Some("0"));
        });
    }

    #[test]
    fn trailers_end_the_body_and_sign_it() {
        let p = plugin_with_credentials("");
        let (streams, s) = stream(&[(":method", "POST")], b"abc");
        let mut flow = RequestFlow::new(ID);
        flow.on_request_headers(&p, &s, false);
        flow.on_request_body(&p, &s, 3, false);
        assert_eq!(flow.on_request_trailers(&p, &s), Action::Continue);
        streams.with(ID, |st| assert!(st.written("authorization").is_some()));
    }

    #[test]
    fn too_large_by_declaration_or_by_size_is_413_and_nothing_is_written() {
        let p = plugin_with_credentials(r#","max_request_bytes":4"#);
        let (streams, s) = stream(&[(":method", "POST")], b"12345");
        let mut flow = RequestFlow::new(ID);
        assert_eq!(flow.on_request_headers(&p, &s, false), Action::Pause);
        streams.with(ID, |st| {
            assert_eq!(st.replies[0].status, 413);
            assert_eq!(st.written_headers, None);
        });
        // Without a declared length: the buffered size is checked.
        let (streams, s) = stream(&[(":method", "POST")], b"");
        let mut flow = RequestFlow::new(ID);
        flow.on_request_headers(&p, &s, false);
        assert_eq!(flow.on_request_body(&p, &s, 5, false), Action::Pause);
        // Later callbacks do nothing more.
        assert_eq!(flow.on_request_body(&p, &s, 9, true), Action::Pause);
        assert_eq!(flow.on_request_trailers(&p, &s), Action::Pause);
        streams.with(ID, |st| {
            assert_eq!(st.replies.len(), 1);
            assert_eq!(st.replies[0].code, "RequestTooLarge");
            assert_eq!(st.written_headers, None);
        });
    }

    #[test]
    fn without_credentials_the_request_waits_and_is_forgotten_when_it_ends() {
        let p = plugin("");
        let (streams, s) = stream(&[(":method", "POST")], b"{}");
        let mut flow = RequestFlow::new(ID);
        flow.on_request_headers(&p, &s, false);
        assert_eq!(flow.on_request_body(&p, &s, 2, true), Action::Pause);
        assert_eq!(p.waiting.borrow().len(), 1);
        streams.with(ID, |st| {
            assert!(st.replies.is_empty());
            assert_eq!(st.written_headers, None);
        });
        flow.on_done(&p);
        assert!(p.waiting.borrow().is_empty());
    }

    #[test]
    fn a_failed_fetch_without_credentials_is_answered_at_the_headers() {
        let p = plugin("");
        let failed = p
            .credentials
            .borrow()
            .failed("no AWS credentials".into(), NOW_MS);
        *p.credentials.borrow_mut() = failed;
        let (streams, s) = stream(&[(":method", "POST")], b"{}");
        let mut flow = RequestFlow::new(ID);
        assert_eq!(flow.on_request_headers(&p, &s, false), Action::Pause);
        streams.with(ID, |st| assert_eq!(st.replies[0].status, 503));
        // A reply means the response is ours: its headers are left alone.
        assert_eq!(flow.on_response_headers(&p, &s), Action::Continue);
        streams.with(ID, |st| assert_eq!(st.response_status, None));
    }

    #[test]
    fn a_function_error_becomes_502_only_when_synchronous() {
        for (extra, expected) in [
            ("", Some(502)),
            (r#","invocation_mode":"asynchronous""#, None),
        ] {
            let p = plugin_with_credentials(extra);
            let (streams, s) = stream(&[(":method", "POST")], b"");
            streams
                .states
                .borrow_mut()
                .get_mut(&ID)
                .unwrap()
                .response_headers = vec![("x-amz-function-error".into(), b"Unhandled".to_vec())];
            let mut flow = RequestFlow::new(ID);
            flow.on_request_headers(&p, &s, true);
            assert_eq!(flow.on_response_headers(&p, &s), Action::Continue);
            streams.with(ID, |st| assert_eq!(st.response_status, expected, "{extra}"));
        }
    }
}
