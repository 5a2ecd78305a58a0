//! The Invoke call the filter sends itself, for a request wrapped in an event: through the
//! cluster Envoy's route chose, signed, with the event as its body; the request is then
//! answered with the response `answer` makes of Lambda's answer (or with the filter's reply
//! when none came or it cannot be used).

use super::answer::{invoke_answer, CallerResponse};
use super::settings::FunctionSettings;
use super::{note_reply, send_local_reply, Plugin};
use crate::event::response::error_response;
use crate::host::{RequestStream, Streams};
use crate::local_reply::LocalReply;
use crate::redact::Echoed;
use crate::stream_log;
use std::rc::Rc;
use std::time::Duration;

/// Sends the signed call: `ours` are the filter's headers for it, `payload` the event; Envoy
/// gives up on it after `timeout_ms` (`invoke_timeout_ms`). The call's token.
pub fn invoke(
    stream: &impl RequestStream,
    ours: &[(&'static str, &str)],
    payload: &[u8],
    timeout_ms: u64,
) -> Result<u32, LocalReply> {
    let cluster = stream
        .property(&["xds", "cluster_name"])
        .and_then(|c| String::from_utf8(c).ok())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            LocalReply::internal("cannot tell which cluster reaches Lambda: the route names none")
        })?;
    let length = payload.len().to_string();
    let mut headers: Vec<(&str, &str)> = vec![(":method", "POST")];
    headers.extend(ours.iter().copied());
    headers.push(("content-type", "application/json"));
    headers.push(("content-length", &length));
    stream
        .call_out(
            &cluster,
            &headers,
            payload,
            Duration::from_millis(timeout_ms),
        )
        .map_err(|e| LocalReply::internal(&format!("cannot call cluster \"{cluster}\": {e}")))
}

/// The calls sent from the root context's timer for requests that waited for credentials:
/// their answers come to the root context, which passes each to its stream.
#[derive(Default)]
pub struct StreamCallouts {
    /// Token of the call, the stream it answers, its function, and the call's secrets.
    pending: Vec<(u32, u32, Rc<FunctionSettings>, Echoed)>,
}

impl StreamCallouts {
    pub fn record(
        &mut self,
        token: u32,
        context_id: u32,
        function: Rc<FunctionSettings>,
        echoed: Echoed,
    ) {
        self.pending.push((token, context_id, function, echoed));
    }

    /// The stream that call `token` answers, if it is one of these, its function, and the
    /// call's secrets.
    pub fn take(&mut self, token: u32) -> Option<(u32, Rc<FunctionSettings>, Echoed)> {
        let index = self.pending.iter().position(|(t, ..)| *t == token)?;
        let (_, context_id, function, echoed) = self.pending.swap_remove(index);
        Some((context_id, function, echoed))
    }

    pub fn forget(&mut self, context_id: u32) {
        self.pending.retain(|(_, c, ..)| *c != context_id);
    }
}

/// From the root context: if `token` is a call sent for a waiting request, answers that
/// request (`answer`: Lambda's headers and body, or none) and says so.
pub fn answer_from_root(
    plugin: &Plugin,
    streams: &impl Streams,
    token: u32,
    answer: Option<(&[u8], &[u8])>,
) -> bool {
    let Some((context_id, function, echoed)) = plugin.stream_callouts.borrow_mut().take(token)
    else {
        return false;
    };
    if let Some(stream) = streams.enter(context_id) {
        self::answer(plugin, &function, &stream, context_id, answer, &echoed);
    }
    true
}

/// Answers the request from Lambda's answer (its headers serialized, and body), or with the
/// filter's error when none came; `echoed`, the call's secrets, cut out of Lambda's errors.
pub fn answer(
    plugin: &Plugin,
    function: &FunctionSettings,
    stream: &impl RequestStream,
    context_id: u32,
    answer: Option<(&[u8], &[u8])>,
    echoed: &Echoed,
) {
    let Some((headers, body)) = answer else {
        let reply = LocalReply::lambda_unreachable();
        return send_local_reply(plugin, context_id, stream, &reply);
    };
    let (headers, body, logged) =
        match invoke_answer(function, &plugin.metrics, headers, body, echoed) {
            Ok((headers, body)) => (headers, body, false),
            Err(reply) => {
                note_reply(&plugin.metrics, context_id, &reply);
                let (headers, body) = error_response(&reply, plugin.detailed_errors);
                (headers, body, true)
            }
        };
    let Some(response) = CallerResponse::of(&headers, &body) else {
        return send_local_reply(
            plugin,
            context_id,
            stream,
            &LocalReply::internal("Lambda's answer headers came back malformed"),
        );
    };
    if response.status >= 400 && !logged {
        let status = response.status;
        stream_log!(info, context_id, "answered {status} from Lambda's answer");
    }
    let sent = stream.send_response(response.status, &response.headers, response.body);
    if let Err(e) = sent {
        stream_log!(error, context_id, "cannot send the response: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::super::flow::RequestFlow;
    use super::super::tests::{credentials, function, plugin, NOW_MS};
    use super::super::waiting::settle_waiting;
    use super::super::Action;
    use super::*;
    use crate::credentials::shared::SharedRecord;
    use crate::header_pairs;
    use crate::host::fake::{FakeClock, FakeStreams, StreamState};
    use crate::metrics::Counter;

    /// A body-less request with an event format that waited for credentials: its Invoke call
    /// goes out from the timer, and the answer, which reaches the root context, answers it.
    #[test]
    fn a_waiting_request_is_answered_through_the_root_context() {
        let p = plugin(r#","payload_passthrough":false"#);
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let mut state = StreamState::request(&[(":method", "GET"), (":path", "/")], b"");
        state.properties = vec![("xds.cluster_name".into(), b"lambda".to_vec())];
        let s = streams.add(3, state);
        let mut flow = RequestFlow::new(3);
        assert_eq!(flow.on_request_headers(&p, &s, true), Action::Pause);
        assert_eq!(p.waiting.borrow().len(), 1);

        *p.identities[0].credentials.borrow_mut() =
            SharedRecord::succeeded("environment", credentials(None), NOW_MS, 300);
        settle_waiting(&p, &streams, NOW_MS + 10);
        streams.with(3, |st| {
            assert_eq!(st.callouts.len(), 1);
            assert_eq!(st.resumed, 0, "never resumed: it would leave unsigned");
        });

        let lambda = header_pairs::serialize(&[(":status", &b"200"[..])]).unwrap();
        assert!(!answer_from_root(&p, &streams, 99, Some((&lambda, b"{}"))));
        assert!(answer_from_root(
            &p,
            &streams,
            1,
            Some((&lambda, br#"{"statusCode":204}"#))
        ));
        streams.with(3, |st| {
            assert_eq!(st.sent_response.as_ref().unwrap().status, 204)
        });
        assert_eq!(flow.on_response_headers(&p, &s, false), Action::Continue);
        flow.on_done(&p);
    }

    /// The answer to a call answered `status`, `extra` headers and `body`, as the caller gets
    /// it (the filter's own replies with their full reason).
    fn answered(status: &[u8], extra: &[(&str, &[u8])], body: &[u8]) -> (u32, String) {
        answered_with(r#","detailed_errors":true"#, status, extra, body)
    }

    fn answered_with(
        settings: &str,
        status: &[u8],
        extra: &[(&str, &[u8])],
        body: &[u8],
    ) -> (u32, String) {
        let p = plugin(&format!(r#","payload_passthrough":false{settings}"#));
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let s = streams.add(1, StreamState::request(&[(":method", "POST")], b"{}"));
        let mut pairs = vec![(":status", status)];
        pairs.extend_from_slice(extra);
        let headers = header_pairs::serialize(&pairs).unwrap();
        answer(
            &p,
            &function(&p),
            &s,
            1,
            Some((&headers, body)),
            &Echoed::default(),
        );
        streams.with(1, |st| {
            let sent = st.sent_response.as_ref().unwrap();
            (
                sent.status,
                String::from_utf8_lossy(&sent.body).into_owned(),
            )
        })
    }

    /// RFC 9110 sections 15.3.5 and 15.4.5: 204 and 304 carry no content, whatever the
    /// result's body; a 1xx is refused (section 15.2) as a malformed result.
    #[test]
    fn no_body_for_204_and_304_and_no_1xx() {
        for status in [204, 304] {
            let result = format!(r#"{{"statusCode":{status},"body":"not sent"}}"#);
            assert_eq!(
                answered(b"200", &[], result.as_bytes()),
                (status, String::new())
            );
        }
        let p = plugin(r#","payload_passthrough":false,"detailed_errors":true"#);
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let s = streams.add(1, StreamState::request(&[(":method", "POST")], b"{}"));
        let lambda = header_pairs::serialize(&[(":status", &b"200"[..])]).unwrap();
        let result = br#"{"statusCode":100,"body":"HTTP/1.1"}"#;
        answer(
            &p,
            &function(&p),
            &s,
            1,
            Some((&lambda, result)),
            &Echoed::default(),
        );
        assert_eq!(p.metrics.pending(Counter::MalformedResults), 1);
        let (status, body) = streams.with(1, |st| {
            let sent = st.sent_response.as_ref().unwrap();
            (
                sent.status,
                String::from_utf8_lossy(&sent.body).into_owned(),
            )
        });
        assert_eq!(status, 502);
        assert!(
            body.contains(r#""error":"MalformedFunctionResult""#),
            "{body}"
        );
        assert!(
            body.contains("statusCode 100, not a final HTTP status"),
            "{body}"
        );
    }

    /// Lambda's 403 for a bad signature quotes the canonical request (session token
    /// included); what the caller gets has the call's secrets cut out.
    #[test]
    fn lambdas_errors_lose_the_calls_secrets() {
        let p = plugin(r#","payload_passthrough":false"#);
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let s = streams.add(1, StreamState::request(&[(":method", "POST")], b"{}"));
        let headers = header_pairs::serialize(&[
            (":status", &b"403"[..]),
            ("x-amzn-errortype", b"InvalidSignatureException"),
        ])
        .unwrap();
        let echoed = Echoed::of_call(
            Some(b"AWS4-HMAC-SHA256 Credential=ASIAKEY/x, Signature=abc123"),
            Some(b"TOKEN/1"),
        );
        let body = br#"{"message":"x-amz-security-token:TOKEN\/1 TOKEN/1 Credential=ASIAKEY/x, Signature=abc123"}"#;
        answer(&p, &function(&p), &s, 1, Some((&headers, body)), &echoed);
        streams.with(1, |st| {
            let sent = st.sent_response.as_ref().unwrap();
            assert_eq!(sent.status, 403);
            let body = String::from_utf8_lossy(&sent.body);
            for secret in ["TOKEN", "ASIAKEY", "abc123"] {
                assert!(!body.contains(secret), "{secret}: {body}");
            }
        });
    }

    /// Envoy's own 504 (the call ran out of `invoke_timeout_ms`) is a timeout; Lambda's 504
    /// passes.
    #[test]
    fn a_504_of_envoys_own_is_lambda_timeout() {
        let (status, body) = answered(b"504", &[], b"upstream request timeout");
        assert_eq!(status, 504);
        assert!(body.contains(r#""error":"LambdaTimeout""#), "{body}");
        assert!(
            body.contains("within invoke_timeout_ms (15000 ms)"),
            "{body}"
        );

        let lambdas = [("x-amzn-requestid", &b"r-1"[..])];
        let (status, body) = answered(b"504", &lambdas, b"{\"message\":\"x\"}");
        assert_eq!((status, body.as_str()), (504, r#"{"message":"x"}"#));
    }

    /// Envoy's own 503 (no connection) is no answer from Lambda; Lambda's 503 passes.
    #[test]
    fn a_5xx_of_envoys_own_is_lambda_unreachable() {
        let envoy = b"upstream connect error or disconnect/reset before headers";
        let (status, body) = answered(b"503", &[("content-type", b"text/plain")], envoy);
        assert_eq!(status, 503);
        assert!(body.contains(r#""error":"LambdaUnreachable""#), "{body}");
        assert!(
            body.contains("answered the call 503: upstream connect error"),
            "{body}"
        );

        let lambdas = [("x-amzn-errortype", &b"ServiceException"[..])];
        let (status, body) = answered(b"503", &lambdas, b"{\"message\":\"x\"}");
        assert_eq!((status, body.as_str()), (503, r#"{"message":"x"}"#));
    }

    /// By default the caller reads the code and a fixed summary: Envoy's text (which names
    /// the cluster) stays in the log.
    #[test]
    fn by_default_envoys_text_stays_behind() {
        let envoy = b"upstream connect error or disconnect/reset before headers; cluster lambda-eu";
        let (status, body) = answered_with("", b"503", &[], envoy);
        assert_eq!(status, 503);
        assert_eq!(
            body,
            r#"{"error":"LambdaUnreachable","message":"no answer from Lambda (timeout or connection failure)"}"#
        );
        let (status, body) = answered_with("", b"504", &[], b"upstream request timeout");
        assert_eq!(status, 504);
        assert_eq!(
            body,
            r#"{"error":"LambdaTimeout","message":"Lambda did not answer in time"}"#
        );
    }
}
