//! A buffered request becomes the signed Invoke call in one step: read the body, sign it,
//! write the whole outgoing header map once. On error nothing was written: the caller answers
//! locally, and the request never leaves unsigned.

use super::{Plugin, ReadyRequest};
use crate::credentials::Credentials;
use crate::host::RequestStream;
use crate::invoke::outgoing::outgoing_headers;
use std::rc::Rc;

pub fn sign_buffered_request(
    plugin: &Plugin,
    stream: &impl RequestStream,
    credentials: &Rc<Credentials>,
    request: &ReadyRequest,
    now_ms: u64,
) -> Result<(), String> {
    let body = if request.body_size == 0 {
        Vec::new()
    } else {
        stream
            .request_body(request.body_size)
            .map_err(|e| format!("cannot read the request body: {e}"))?
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
    stream
        .set_request_headers(&headers)
        .map_err(|e| format!("cannot set the request headers: {e}"))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{plugin_with_credentials, NOW_MS};
    use super::*;
    use crate::host::fake::{FakeClock, FakeStreams, StreamState};

    fn signed(body: &[u8], body_size: usize) -> (Result<(), String>, StreamState) {
        let p = plugin_with_credentials("");
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let state = StreamState::request(&[(":method", "PUT"), (":path", "/x")], body);
        let request = ReadyRequest {
            serialized_headers: state.headers.clone(),
            body_size,
        };
        let stream = streams.add(1, state);
        let credentials = p.credentials.borrow().credentials.clone().unwrap();
        let result = sign_buffered_request(&p, &stream, &credentials, &request, NOW_MS);
        let state = streams.states.borrow_mut().remove(&1).unwrap();
        (result, state)
    }

    #[test]
    fn writes_the_signed_invoke_call() {
        let (result, state) = signed(b"{}", 2);
        assert_eq!(result, Ok(()));
        assert_eq!(state.written(":method").as_deref(), Some("POST"));
        assert!(state
            .written(":path")
            .unwrap()
            .starts_with("/2015-03-31/functions/arn%3Aaws%3Alambda"));
        assert_eq!(
            state.written("x-amz-date").as_deref(),
            Some("20150830T123600Z")
        );
        assert!(state
            .written("authorization")
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/"));
    }

    #[test]
    fn a_short_body_writes_nothing() {
        let (result, state) = signed(b"{}", 5);
        assert_eq!(result, Err("read 2 of 5 body bytes".into()));
        assert_eq!(state.written_headers, None);
    }
}
