//! One stream's way through the filter, as one phase at a time. Headers: one read of the
//! header map (the declared length is checked against the limit), then pause. Body: buffered
//! up to the limit; once complete (end of stream, or trailers), signed in place and sent on,
//! answered, or parked to wait for credentials; with an event format, sent by the filter
//! itself and answered from the result (`callout`). Response: what becomes of Lambda's answer
//! is `answer`'s rule.

use super::answer::{forwarded, Forwarded};
use super::callout;
use super::decision::{decide, Decision};
use super::error_body::ErrorBody;
use super::rewrite::{send_invoke, Sent};
use super::select::{Selected, METADATA_KEY};
use super::settings::FunctionSettings;
use super::signing_time::request_time;
use super::streamed::StreamedResponse;
use super::tenant;
use super::{send_local_reply, Action, Plugin, ReadyRequest};
use crate::header_pairs;
use crate::host::RequestStream;
use crate::invoke::outgoing::ROUTE_HEADER;
use crate::local_reply::LocalReply;
use crate::metrics::Counter;
use crate::redact::Echoed;
use crate::stream_log;
use std::rc::Rc;

/// Where a stream is on its way: each phase holds what only it needs, so no two can be
/// in force at once.
enum Phase {
    /// The body is arriving (or the headers have not come yet).
    Buffering,
    /// The route names no function (`functions` form): the request and its answer pass
    /// as they are, unbuffered.
    Untouched,
    /// Parked in the VM's queue (`waiting`) until credentials come: the timer settles it
    /// (signed and resumed, its Invoke call sent, or answered).
    WaitingForCredentials,
    /// Signed and sent on in place (passthrough): Lambda's answer comes through the
    /// response callbacks.
    Forwarded,
    /// Lambda answered a forwarded request with an error whose body is held to cut the
    /// call's secrets out (`error_body`).
    HoldingError(Box<ErrorBody>),
    /// Lambda's streamed answer, passed on as it arrives (`invocation_mode: streaming`).
    Streaming(Box<StreamedResponse>),
    /// The filter's own Invoke call is out (event formats), with the call's secrets to cut
    /// out of Lambda's errors: its answer answers the request (`on_callout_answer`).
    AwaitingInvoke(Echoed),
    /// The filter answered the request: its own reply, or the response from its Invoke call.
    Replied,
}

pub struct RequestFlow {
    context_id: u32,
    phase: Phase,
    /// The request's function, chosen at its headers.
    function: Option<Rc<FunctionSettings>>,
    request: ReadyRequest,
    /// Bytes buffered so far.
    body_size: usize,
    /// Counted in the requests in flight (from its headers until the stream ends).
    in_flight: bool,
}

impl RequestFlow {
    pub fn new(context_id: u32) -> Self {
        Self {
            context_id,
            phase: Phase::Buffering,
            function: None,
            request: ReadyRequest::default(),
            body_size: 0,
            in_flight: false,
        }
    }

    pub fn on_request_headers(
        &mut self,
        plugin: &Plugin,
        stream: &impl RequestStream,
        end_of_stream: bool,
    ) -> Action {
        let function = match plugin.functions.select(stream, &plugin.route_key) {
            Selected::Function(function) => function,
            Selected::NoFunction => {
                if forges_a_signed_call(stream, &plugin.route_key) {
                    let reason = format!(
                        "the request carries {ROUTE_HEADER}: {}, which only this filter's signed \
                         calls carry, on a route that names no function: each route of the \
                         signed call must name its function in filter_metadata.{}.{METADATA_KEY} \
                         (else such a request would reach Lambda unsigned)",
                        plugin.route_key, plugin.route_key
                    );
                    return self.reply(plugin, stream, &LocalReply::internal(&reason));
                }
                self.phase = Phase::Untouched;
                return Action::Continue;
            }
            Selected::Unknown(name) => {
                let reason = format!(
                    "the route names function \"{name}\", which this filter does not configure"
                );
                return self.reply(plugin, stream, &LocalReply::internal(&reason));
            }
        };
        let limit = function.max_request_bytes;
        // One read of the whole map (a host call per header costs more than one for all):
        // the caller's certificate now, the declared length next, the event's headers or
        // `outgoing::FORWARDED` later.
        self.request.serialized_headers = stream.request_headers();
        let headers = &self.request.serialized_headers;
        match plugin.callers.admit(&function, stream, headers) {
            Ok(caller) => self.request.caller = caller,
            Err(refused) => return self.reply(plugin, stream, &refused),
        }
        let failed = function
            .identity
            .credentials
            .borrow()
            .failed_without_credentials();
        self.function = Some(function);
        if !self.in_flight {
            self.in_flight = true;
            plugin.metrics.in_flight(1);
        }
        // Every provider of its identity failed and nothing is cached: answer before buffering
        // the body. (Whether cached credentials are still valid is decided once the body is in.)
        if let Some(reason) = failed {
            return self.reply(
                plugin,
                stream,
                &LocalReply::credentials_unavailable(&reason),
            );
        }
        // A tenant-isolated function's tenant id, or the 400 before the body is buffered.
        let tenant = self
            .function
            .as_ref()
            .and_then(|f| f.tenant_id.as_ref())
            .map(|source| {
                tenant::tenant_id(
                    source,
                    self.request.caller.as_deref(),
                    &self.request.serialized_headers,
                )
            });
        match tenant {
            None => {}
            Some(Ok(id)) => self.request.tenant_id = Some(id),
            Some(Err(reply)) => return self.reply(plugin, stream, &reply),
        }
        let declared_length =
            header_pairs::find(&self.request.serialized_headers, "content-length")
                .and_then(|value| std::str::from_utf8(value).ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(size) = declared_length.filter(|&n| n > limit) {
            return self.reply(plugin, stream, &LocalReply::too_large(size, limit));
        }
        if end_of_stream {
            return self.body_complete(plugin, stream, 0);
        }
        plugin
            .body_delivery
            .watch(self.context_id, declared_length, stream);
        Action::Pause
    }

    pub fn on_request_body(
        &mut self,
        plugin: &Plugin,
        stream: &impl RequestStream,
        body_size: usize,
        end_of_stream: bool,
    ) -> Action {
        if matches!(self.phase, Phase::Untouched) {
            return Action::Continue;
        }
        plugin.body_delivery.body_arrived();
        self.request.had_body = true;
        let Some(function) = self.function.clone() else {
            return Action::Pause;
        };
        if !matches!(self.phase, Phase::Buffering) {
            return Action::Pause;
        }
        let limit = function.max_request_bytes;
        let size = u64::try_from(body_size).unwrap_or(u64::MAX);
        if size > limit {
            return self.reply(plugin, stream, &LocalReply::too_large(size, limit));
        }
        self.body_size = body_size;
        if !end_of_stream {
            // Passthrough hashes what arrived now, so that little is left for the end.
            if function.event_format.is_none() {
                if let Err(e) = self.request.body_hash.catch_up(stream, body_size) {
                    return self.reply(plugin, stream, &LocalReply::internal(&e));
                }
            }
            return Action::Pause;
        }
        self.body_complete(plugin, stream, body_size)
    }

    /// Trailers end the body (their own end of stream never reaches the body callback): the
    /// request is signed here, or it would continue unsigned.
    pub fn on_request_trailers(&mut self, plugin: &Plugin, stream: &impl RequestStream) -> Action {
        if matches!(self.phase, Phase::Untouched) {
            return Action::Continue;
        }
        if !matches!(self.phase, Phase::Buffering) {
            return Action::Pause;
        }
        self.body_complete(plugin, stream, self.body_size)
    }

    pub fn on_response_headers(
        &mut self,
        plugin: &Plugin,
        stream: &impl RequestStream,
        end_of_stream: bool,
    ) -> Action {
        // With an event format the request never goes upstream: any response is the filter's.
        let Some(function) = self.function.clone() else {
            return Action::Continue;
        };
        if matches!(self.phase, Phase::Replied) || function.event_format.is_some() {
            return Action::Continue;
        }
        let headers = stream.response_headers();
        let [status, function_error, error_type] = header_pairs::find_each(
            &headers,
            [":status", "x-amz-function-error", "x-amzn-errortype"],
        );
        let status = status.and_then(|s| std::str::from_utf8(s).ok()?.parse::<u32>().ok());
        match forwarded(&function, status, function_error) {
            Forwarded::LambdaError(error) => {
                plugin.metrics.count(error);
                if error_type.is_some_and(|t| t.starts_with(b"InvalidSignatureException")) {
                    stream_log!(
                        warn,
                        self.context_id,
                        "Lambda refused the signature, signed for host {}: the route to Lambda \
                         must set that Host (host_rewrite_literal), the filter keeps the \
                         caller's :authority",
                        function.target.host
                    );
                }
                let status = status.unwrap_or(0);
                stream_log!(info, self.context_id, "Lambda answered {status}");
                let held = ErrorBody::start(self.context_id, stream, &headers, end_of_stream);
                if let Some(error_body) = held {
                    self.phase = Phase::HoldingError(Box::new(error_body));
                }
                Action::Continue
            }
            Forwarded::Streamed => {
                let (streamed, action) = StreamedResponse::start(
                    self.context_id,
                    stream,
                    headers,
                    end_of_stream,
                    &plugin.metrics,
                );
                self.phase = Phase::Streaming(Box::new(streamed));
                action
            }
            Forwarded::Synchronous {
                function_failed,
                status,
            } => {
                if function_failed {
                    plugin.metrics.count(Counter::FunctionErrors);
                    stream_log!(info, self.context_id, "the function failed");
                }
                if let Some(status) = status {
                    if let Err(e) = stream.set_response_status(status) {
                        stream_log!(error, self.context_id, "cannot set the status: {e}");
                    }
                }
                Action::Continue
            }
            Forwarded::AsIs => Action::Continue,
        }
    }

    /// A part of the answer's body. Only a streamed answer and Lambda's errors are touched;
    /// for every other one this is one branch on the phase, with no host call.
    pub fn on_response_body(
        &mut self,
        plugin: &Plugin,
        stream: &impl RequestStream,
        body_size: usize,
        end_of_stream: bool,
    ) -> Action {
        let id = self.context_id;
        match &mut self.phase {
            Phase::Streaming(streamed) => {
                streamed.on_body(id, stream, body_size, end_of_stream, &plugin.metrics)
            }
            Phase::HoldingError(error) => error.on_body(id, stream, body_size, end_of_stream),
            _ => Action::Continue,
        }
    }

    /// The answer to the Invoke call the filter sent itself (`callout`): Lambda's status,
    /// headers and body, or `None` when none came.
    pub fn on_callout_answer(
        &mut self,
        plugin: &Plugin,
        stream: &impl RequestStream,
        answer: Option<(&[u8], &[u8])>,
    ) {
        let echoed = match std::mem::replace(&mut self.phase, Phase::Replied) {
            Phase::AwaitingInvoke(echoed) => echoed,
            _ => Echoed::default(),
        };
        let Some(function) = self.function.clone() else {
            return;
        };
        callout::answer(plugin, &function, stream, self.context_id, answer, &echoed);
    }

    /// The stream ended: a request still waiting is forgotten.
    pub fn on_done(&self, plugin: &Plugin) {
        if self.in_flight {
            plugin.metrics.in_flight(-1);
        }
        if let Ok(mut waiting) = plugin.waiting.try_borrow_mut() {
            if waiting.forget(self.context_id) {
                plugin.metrics.count(Counter::CredentialsWaitAbandoned);
            }
        }
        plugin.body_delivery.forget(self.context_id);
        if let Phase::Streaming(streamed) = &self.phase {
            streamed.on_done(self.context_id, &plugin.metrics);
        }
        if self
            .function
            .as_ref()
            .is_some_and(|f| f.event_format.is_some())
        {
            if let Ok(mut callouts) = plugin.stream_callouts.try_borrow_mut() {
                callouts.forget(self.context_id);
            }
        }
    }

    /// The whole body is buffered: sign and send, answer, or wait for credentials.
    fn body_complete(
        &mut self,
        plugin: &Plugin,
        stream: &impl RequestStream,
        body_size: usize,
    ) -> Action {
        self.request.body_size = body_size;
        let Some(function) = self.function.clone() else {
            return self.reply(plugin, stream, &LocalReply::internal("no function chosen"));
        };
        if function.event_format.is_none() {
            if let Err(e) = self.request.body_hash.catch_up(stream, body_size) {
                return self.reply(plugin, stream, &LocalReply::internal(&e));
            }
        }
        let now = request_time(plugin, &function, stream);
        let deadline = now.saturating_add(function.identity.max_wait_ms);
        match decide(&function.identity, now, deadline) {
            Decision::Sign(credentials) => {
                match send_invoke(plugin, &function, stream, &credentials, &self.request, now) {
                    Ok(Sent::InPlace) => {
                        self.phase = Phase::Forwarded;
                        Action::Continue
                    }
                    Ok(Sent::ByCallout(_, echoed)) => {
                        self.phase = Phase::AwaitingInvoke(echoed);
                        Action::Pause
                    }
                    Err(reply) => self.reply(plugin, stream, &reply),
                }
            }
            Decision::Reply(reply) => self.reply(plugin, stream, &reply),
            Decision::Wait => {
                stream_log!(debug, self.context_id, "waiting for credentials");
                plugin.metrics.count(Counter::CredentialsWaited);
                let request = std::mem::take(&mut self.request);
                plugin
                    .waiting
                    .borrow_mut()
                    .park(self.context_id, deadline, function, request);
                self.phase = Phase::WaitingForCredentials;
                Action::Pause
            }
        }
    }

    /// The request's caller, as its headers made it known.
    #[cfg(test)]
    pub fn caller(&self) -> Option<&Rc<crate::caller::Caller>> {
        self.request.caller.as_ref()
    }

    fn reply(
        &mut self,
        plugin: &Plugin,
        stream: &impl RequestStream,
        reply: &LocalReply,
    ) -> Action {
        self.phase = Phase::Replied;
        send_local_reply(plugin, self.context_id, stream, reply);
        Action::Pause
    }
}

/// Whether a request the filter would let pass untouched carries the header only this
/// filter's signed calls carry (the route key, `ROUTE_HEADER`): Envoy never hands the signed
/// call back to the filter, so such a request was sent that way by the caller, and a route
/// that takes it without naming a function (a misconfigured signed-call route) would send it
/// to Lambda unsigned. (Another filter's route key, in a chain of two, is not this one's.)
fn forges_a_signed_call(stream: &impl RequestStream, route_key: &str) -> bool {
    !route_key.is_empty()
        && stream
            .request_header(ROUTE_HEADER)
            .is_some_and(|value| value == route_key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{plugin, plugin_with_credentials, NOW_MS};
    use super::*;
    use crate::credentials::shared::SharedRecord;
    use crate::header_pairs;
    use crate::host::fake::{FakeClock, FakeStream, FakeStreams, StreamState};
    use crate::request::signing_time::{READING_TRUSTED_MS, READING_USES};

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
        assert_eq!(p.metrics.pending(Counter::InvocationsSynchronous), 1);
    }

    #[test]
    fn passthrough_sends_on_only_the_headers_it_chose() {
        let p = plugin_with_credentials("");
        let (streams, s) = stream(
            &[
                (":method", "PUT"),
                (":path", "/x?Action=AssumeRole"),
                ("content-type", "text/plain"),
                (
                    "x-amz-target",
                    "AWSSecurityTokenServiceV20110615.AssumeRole",
                ),
                (
                    "x-amzn-trace-id",
                    "Root=1-5759e988-bd862e3fe1be46a994272793",
                ),
                ("x-request-id", "r-1"),
                ("x-forwarded-proto", "http"),
            ],
            b"abc",
        );
        let mut flow = RequestFlow::new(ID);
        flow.on_request_headers(&p, &s, false);
        assert_eq!(flow.on_request_body(&p, &s, 3, true), Action::Continue);
        streams.with(ID, |st| {
            assert_eq!(st.header_map_reads, 1, "read once");
            let written = header_pairs::parse(st.written_headers.as_ref().unwrap()).unwrap();
            let names: Vec<&str> = written.iter().map(|(n, _)| *n).collect();
            assert_eq!(
                names,
                [
                    ":method",
                    ":scheme",
                    ":path",
                    ":authority",
                    "x-amz-invocation-type",
                    "x-amz-date",
                    "authorization",
                    "content-length",
                    "x-forwarded-proto",
                    "x-request-id",
                    "x-amzn-trace-id"
                ]
            );
            assert_eq!(st.written("content-length").as_deref(), Some("3"));
            assert_eq!(st.written("x-request-id").as_deref(), Some("r-1"));
        });
    }

    /// A failed fetch's reason (here STS's refusal, naming a role and an account) reaches the
    /// caller only with `detailed_errors: true`; by default the body is the code and the
    /// summary, and the reply keeps the reason for the log.
    #[test]
    fn the_caller_reads_the_reason_only_with_detailed_errors() {
        let reason = "cannot assume role arn:aws:iam::444455556666:role/invoker: STS refused \
                      (HTTP 403): AccessDenied";
        for (extra, shown) in [
            (
                "",
                r#"{"error":"CredentialsUnavailable","message":"no AWS credentials to sign the request with; nothing was sent to Lambda"}"#.to_owned(),
            ),
            (
                r#","detailed_errors":true"#,
                format!(
                    r#"{{"error":"CredentialsUnavailable","message":"{reason}; nothing was sent to Lambda"}}"#
                ),
            ),
        ] {
            let p = plugin(extra);
            let failed = p.identities[0].credentials.borrow().failed(reason.into(), NOW_MS);
            *p.identities[0].credentials.borrow_mut() = failed;
            let (streams, s) = stream(&[(":method", "POST")], b"{}");
            let mut flow = RequestFlow::new(ID);
            assert_eq!(flow.on_request_headers(&p, &s, false), Action::Pause);
            streams.with(ID, |st| {
                assert_eq!(st.reply_bodies, std::slice::from_ref(&shown), "{extra}");
                assert!(st.replies[0].message.starts_with(reason));
            });
        }
    }

    /// `forward_trace_id: false` (a listener facing callers who must not choose X-Ray's
    /// sampling): the caller's trace header stays behind, the other forwarded ones go on.
    #[test]
    fn the_trace_header_stays_behind_when_not_forwarded() {
        for (extra, expected) in [
            (
                "",
                Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
            ),
            (r#","forward_trace_id":false"#, None),
        ] {
            let p = plugin_with_credentials(extra);
            let (streams, s) = stream(
                &[
                    (":method", "POST"),
                    (
                        "x-amzn-trace-id",
                        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
                    ),
                    ("x-request-id", "r-1"),
                ],
                b"abc",
            );
            let mut flow = RequestFlow::new(ID);
            flow.on_request_headers(&p, &s, false);
            assert_eq!(flow.on_request_body(&p, &s, 3, true), Action::Continue);
            streams.with(ID, |st| {
                assert_eq!(
                    st.written("x-amzn-trace-id").as_deref(),
                    expected,
                    "{extra}"
                );
                assert_eq!(st.written("x-request-id").as_deref(), Some("r-1"));
                assert!(st.written("authorization").is_some());
            });
        }
    }

    /// Signs a request with the clock at `clock_ms`, in a VM that has seen bodies arrive (the
    /// headers are not watched for their body): which `x-amz-date` was written, and how often
    /// the clock was read.
    fn signed_at(p: &Plugin, clock_ms: u64) -> (Option<String>, u32) {
        p.body_delivery.body_arrived();
        let streams = FakeStreams::new(&FakeClock::at(clock_ms));
        let s = streams.add(ID, StreamState::request(&[(":method", "POST")], b"{}"));
        let mut flow = RequestFlow::new(ID);
        flow.on_request_headers(p, &s, false);
        flow.on_request_body(p, &s, 2, true);
        streams.with(ID, |st| (st.written("x-amz-date"), st.clock_reads))
    }

    /// `signed_at` with the timer's last reading at NOW_MS and the clock 5 s later.
    fn signed_date_and_clock_reads(p: &Plugin) -> (Option<String>, u32) {
        p.clock_reading.set(NOW_MS);
        signed_at(p, NOW_MS + 5_000)
    }

    #[test]
    fn passthrough_signs_at_the_timers_reading_without_reading_the_clock() {
        let p = plugin_with_credentials("");
        let (date, reads) = signed_date_and_clock_reads(&p);
        assert_eq!(date.as_deref(), Some("20150830T123600Z"));
        assert_eq!(reads, 0);
        assert_eq!(p.metrics.pending(Counter::InvocationsSynchronous), 1);
    }

    /// After the process was paused for ten minutes (past SigV4's five of skew) the timer's
    /// reading is that old when the first requests come (Envoy runs the sockets' callbacks
    /// before the overdue timer's): it serves `READING_USES` requests at most, then the clock
    /// is read and its reading serves the next ones.
    #[test]
    fn a_reading_serves_a_bounded_number_of_requests_then_the_clock_is_read() {
        let p = plugin_with_credentials("");
        p.clock_reading.set(NOW_MS);
        let after_pause = NOW_MS + 600_000;
        for _ in 0..READING_USES {
            assert_eq!(
                signed_at(&p, after_pause),
                (Some("20150830T123600Z".into()), 0)
            );
        }
        assert_eq!(
            signed_at(&p, after_pause),
            (Some("20150830T124600Z".into()), 1),
            "the old reading is not used again"
        );
        assert_eq!(
            signed_at(&p, after_pause + 1_000),
            (Some("20150830T124600Z".into()), 0),
            "the request's reading is lent on"
        );
    }

    #[test]
    fn credentials_near_their_expiry_are_checked_against_the_clock() {
        let p = plugin_with_credentials("");
        let expiring = |seconds_after_now: u64| {
            let c = super::super::tests::credentials(Some(NOW_MS / 1000 + seconds_after_now));
            SharedRecord::succeeded("container", c, NOW_MS, 0)
        };
        // Valid past the trusted window: the timer's reading is enough.
        *p.identities[0].credentials.borrow_mut() = expiring(READING_TRUSTED_MS / 1000 + 6);
        assert_eq!(signed_date_and_clock_reads(&p).1, 0);
        // Expiring inside it: the clock decides, and is the signing time.
        *p.identities[0].credentials.borrow_mut() = expiring(30);
        let (date, reads) = signed_date_and_clock_reads(&p);
        assert_eq!((date.as_deref(), reads), (Some("20150830T123605Z"), 1));
        // Past their cut-off by the clock (5 s before expiry) though not by the timer's
        // reading: not used.
        *p.identities[0].credentials.borrow_mut() = expiring(9);
        let (date, reads) = signed_date_and_clock_reads(&p);
        assert_eq!((date, reads), (None, 1), "waits for fresh credentials");
    }

    #[test]
    fn before_the_first_tick_the_clock_is_read() {
        let p = plugin_with_credentials("");
        p.body_delivery.body_arrived();
        let (streams, s) = stream(&[(":method", "POST")], b"{}");
        let mut flow = RequestFlow::new(ID);
        flow.on_request_headers(&p, &s, false);
        flow.on_request_body(&p, &s, 2, true);
        assert_eq!(p.metrics.pending(Counter::InvocationsSynchronous), 1);
        streams.with(ID, |st| assert_eq!(st.clock_reads, 1));
    }

    #[test]
    fn an_event_is_stamped_with_the_clock() {
        let p = plugin_with_credentials(r#","payload_passthrough":false"#);
        let (_, reads) = signed_date_and_clock_reads(&p);
        assert_eq!(reads, 1);
    }

    #[test]
    fn a_body_arriving_in_parts_is_hashed_as_it_comes_and_signs_as_if_whole() {
        let body = b"hello, streaming world";
        let signed_after = |parts: &[usize]| {
            let p = plugin_with_credentials("");
            let (streams, s) = stream(&[(":method", "POST")], body);
            let mut flow = RequestFlow::new(ID);
            flow.on_request_headers(&p, &s, false);
            for (i, &size) in parts.iter().enumerate() {
                let last = i + 1 == parts.len();
                let expected = if last {
                    Action::Continue
                } else {
                    Action::Pause
                };
                assert_eq!(flow.on_request_body(&p, &s, size, last), expected);
            }
            streams.with(ID, |st| (st.body_reads, st.written("authorization")))
        };
        let (reads_whole, whole) = signed_after(&[body.len()]);
        let (reads_parts, parts) = signed_after(&[5, 12, body.len()]);
        assert_eq!((reads_whole, reads_parts), (1, 3), "each byte read once");
        assert!(whole.is_some());
        assert_eq!(whole, parts);
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
        assert_eq!(p.metrics.pending(Counter::PayloadTooLarge), 2);
        assert_eq!(p.metrics.pending(Counter::InvocationsSynchronous), 0);
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
        assert_eq!(p.metrics.pending(Counter::CredentialsWaited), 1);
        assert_eq!(p.metrics.pending(Counter::CredentialsWaitAbandoned), 1);
        assert_eq!(p.metrics.pending(Counter::InvocationsSynchronous), 0);
    }

    #[test]
    fn a_failed_fetch_without_credentials_is_answered_at_the_headers() {
        let p = plugin("");
        let failed = p.identities[0]
            .credentials
            .borrow()
            .failed("no AWS credentials".into(), NOW_MS);
        *p.identities[0].credentials.borrow_mut() = failed;
        let (streams, s) = stream(&[(":method", "POST")], b"{}");
        let mut flow = RequestFlow::new(ID);
        assert_eq!(flow.on_request_headers(&p, &s, false), Action::Pause);
        streams.with(ID, |st| assert_eq!(st.replies[0].status, 503));
        // A reply means the response is ours: its headers are left alone.
        assert_eq!(flow.on_response_headers(&p, &s, false), Action::Continue);
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
            assert_eq!(flow.on_response_headers(&p, &s, false), Action::Continue);
            streams.with(ID, |st| assert_eq!(st.response_status, expected, "{extra}"));
        }
    }

    /// Lambda's error in passthrough: the body is held to its end, the signed call's token,
    /// signature and key id (read from the request's headers as signed) cut out, and the
    /// headers lose their `content-length`. A 200 reads nothing more.
    #[test]
    fn lambdas_error_body_loses_the_calls_secrets_and_a_200_is_untouched() {
        let signed = header_pairs::serialize(&[
            (
                "authorization",
                &b"AWS4-HMAC-SHA256 Credential=ASIAKEY/x, Signature=f00d"[..],
            ),
            ("x-amz-security-token", b"TOKEN"),
        ])
        .unwrap();
        let answered = |status: &str, parts: &[&[u8]]| {
            let p = plugin_with_credentials("");
            let (streams, s) = stream(&[(":method", "POST")], b"");
            {
                let mut states = streams.states.borrow_mut();
                let st = states.get_mut(&ID).unwrap();
                st.properties = vec![("request.headers".into(), signed.clone())];
                st.response_headers = vec![
                    (":status".into(), status.as_bytes().to_vec()),
                    ("content-length".into(), b"99".to_vec()),
                ];
            }
            let mut flow = RequestFlow::new(ID);
            flow.on_request_headers(&p, &s, true);
            flow.on_response_headers(&p, &s, false);
            let mut actions = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                let size = {
                    let mut states = streams.states.borrow_mut();
                    let st = states.get_mut(&ID).unwrap();
                    st.response_body.extend_from_slice(part);
                    st.response_body.len()
                };
                actions.push(flow.on_response_body(&p, &s, size, i + 1 == parts.len()));
            }
            let (body, headers) = streams.with(ID, |st| {
                (
                    st.response_body.clone(),
                    st.written_response_headers.clone(),
                )
            });
            (actions, String::from_utf8(body).unwrap(), headers)
        };
        let (actions, body, headers) = answered(
            "403",
            &[b"{\"m\":\"x-amz-security-", b"token:TOKEN ASIAKEY f00d\"}"],
        );
        assert_eq!(actions, [Action::Pause, Action::Continue]);
        assert_eq!(
            body,
            r#"{"m":"x-amz-security-token:<redacted> <redacted> <redacted>"}"#
        );
        let headers = headers.expect("the content-length is dropped");
        assert_eq!(header_pairs::find(&headers, "content-length"), None);
        assert_eq!(header_pairs::find(&headers, ":status"), Some(&b"403"[..]));

        let (actions, body, headers) = answered("200", &[b"TOKEN", b" f00d"]);
        assert_eq!(actions, [Action::Continue, Action::Continue]);
        assert_eq!((body.as_str(), headers), ("TOKEN f00d", None));
    }

    /// An error body over the limit is withheld rather than held whole.
    #[test]
    fn an_error_body_over_the_limit_is_withheld() {
        use super::super::error_body::ERROR_BODY_LIMIT;
        let p = plugin_with_credentials("");
        let (streams, s) = stream(&[(":method", "POST")], b"");
        let signed = header_pairs::serialize(&[("x-amz-security-token", &b"TOKEN"[..])]).unwrap();
        {
            let mut states = streams.states.borrow_mut();
            let st = states.get_mut(&ID).unwrap();
            st.properties = vec![("request.headers".into(), signed)];
            st.response_headers = vec![(":status".into(), b"500".to_vec())];
            st.response_body = vec![b'x'; ERROR_BODY_LIMIT + 1];
        }
        let mut flow = RequestFlow::new(ID);
        flow.on_request_headers(&p, &s, true);
        flow.on_response_headers(&p, &s, false);
        let action = flow.on_response_body(&p, &s, ERROR_BODY_LIMIT + 1, false);
        assert_eq!(action, Action::Continue);
        streams.with(ID, |st| assert!(st.response_body.is_empty()));
    }

    fn event_stream(streams: &FakeStreams, id: u32, method: &str, body: &[u8]) -> FakeStream {
        let mut state = StreamState::request(&[(":method", method), (":path", "/x?a=1")], body);
        state.properties = vec![("xds.cluster_name".into(), b"lambda".to_vec())];
        streams.add(id, state)
    }

    #[test]
    fn an_event_request_without_a_body_is_sent_by_the_filter_and_answered_from_the_result() {
        let p = plugin_with_credentials(r#","payload_passthrough":false"#);
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let s = event_stream(&streams, ID, "GET", b"");
        let mut flow = RequestFlow::new(ID);
        assert_eq!(flow.on_request_headers(&p, &s, true), Action::Pause);
        let sent = streams.with(ID, |st| {
            assert_eq!(st.written_headers, None, "the request itself is not sent");
            st.callouts[0].clone()
        });
        assert_eq!(sent.cluster, "lambda");
        let event: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
        assert_eq!(event["raw_path"], "/x?a=1");
        assert!(sent
            .headers
            .iter()
            .any(|(n, v)| n == "authorization" && v.starts_with("AWS4-HMAC-SHA256 ")));

        let lambda =
            header_pairs::serialize(&[(":status", &b"200"[..]), ("x-amzn-requestid", b"req-1")])
                .unwrap();
        let result = br#"{"statusCode":418,"cookies":["c=1"],"body":"short and stout"}"#;
        flow.on_callout_answer(&p, &s, Some((&lambda, result)));
        streams.with(ID, |st| {
            let sent = st.sent_response.as_ref().unwrap();
            assert_eq!(sent.status, 418);
            assert_eq!(sent.body, b"short and stout");
            let header = |name: &str| {
                sent.headers
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
            };
            assert_eq!(header("set-cookie"), Some(b"c=1".to_vec()));
            assert_eq!(header("x-amzn-requestid"), Some(b"req-1".to_vec()));
            assert_eq!(header(":status"), None);
        });
        // After the answer the response is the filter's: its headers are left alone.
        assert_eq!(flow.on_response_headers(&p, &s, false), Action::Continue);
    }

    #[test]
    fn without_a_route_cluster_the_event_request_gets_a_500_and_nothing_is_sent() {
        let p = plugin_with_credentials(r#","payload_passthrough":false"#);
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let s = streams.add(ID, StreamState::request(&[(":method", "GET")], b""));
        let mut flow = RequestFlow::new(ID);
        flow.on_request_headers(&p, &s, true);
        streams.with(ID, |st| {
            assert!(st.callouts.is_empty());
            assert_eq!(st.replies[0].status, 500);
            assert!(st.replies[0].message.contains("cannot tell which cluster"));
        });
    }

    #[test]
    fn an_event_request_with_a_body_is_sent_by_the_filter_too() {
        let p = plugin_with_credentials(r#","payload_passthrough":false"#);
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let s = event_stream(&streams, ID, "POST", b"{}");
        let mut flow = RequestFlow::new(ID);
        assert_eq!(flow.on_request_headers(&p, &s, false), Action::Pause);
        assert_eq!(flow.on_request_body(&p, &s, 2, true), Action::Pause);
        streams.with(ID, |st| {
            assert_eq!(st.written_headers, None, "the request itself is not sent");
            let event: serde_json::Value = serde_json::from_slice(&st.callouts[0].body).unwrap();
            assert_eq!(event["body"], "e30=", "no content-type: base64, as native");
        });
        let lambda = header_pairs::serialize(&[(":status", &b"200"[..])]).unwrap();
        flow.on_callout_answer(
            &p,
            &s,
            Some((&lambda, br#"{"statusCode":201,"body":"ok"}"#)),
        );
        streams.with(ID, |st| {
            let sent = st.sent_response.as_ref().unwrap();
            assert_eq!((sent.status, sent.body.as_slice()), (201, &b"ok"[..]));
        });
    }

    /// The `functions` form: each route's function, signed for its own region; a route that
    /// names none passes untouched, unbuffered and uncounted; an unknown name is refused.
    mod functions {
        use super::*;

        const EAST: &str = "arn:aws:lambda:us-east-1:123456789012:function:authentication";
        const WEST: &str = "arn:aws:lambda:us-west-2:123456789012:function:billing";
        const PATH: &str = "xds.route_metadata.filter_metadata.mesh_lambda.function";

        fn named() -> Plugin {
            let json = format!(
                r#"{{"functions":{{"auth":{{"arn":"{EAST}","payload_passthrough":true}},
                    "billing":{{"arn":"{WEST}","payload_passthrough":true,"max_request_bytes":5}}}}}}"#
            );
            crate::request::tests::plugin_of(&json)
        }

        fn routed(function: Option<&str>, body: &[u8]) -> (FakeStreams, FakeStream) {
            let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
            let mut state = StreamState::request(&[(":method", "POST"), (":path", "/")], body);
            if let Some(name) = function {
                state.properties = vec![(PATH.into(), name.as_bytes().to_vec())];
            }
            let stream = streams.add(ID, state);
            (streams, stream)
        }

        #[test]
        fn each_route_reaches_its_function_signed_for_its_region() {
            let p = named();
            for (name, scope) in [
                ("auth", "/us-east-1/lambda/"),
                ("billing", "/us-west-2/lambda/"),
            ] {
                let (streams, s) = routed(Some(name), b"abc");
                let mut flow = RequestFlow::new(ID);
                assert_eq!(flow.on_request_headers(&p, &s, false), Action::Pause);
                assert_eq!(flow.on_request_body(&p, &s, 3, true), Action::Continue);
                streams.with(ID, |st| {
                    let authorization = st.written("authorization").unwrap();
                    assert!(authorization.contains(scope), "{authorization}");
                    assert_eq!(
                        st.written("x-mesh-lambda-route").as_deref(),
                        Some("mesh_lambda")
                    );
                });
                flow.on_done(&p);
            }
            // Its own limit.
            let (streams, s) = routed(Some("billing"), b"abcdef");
            let mut flow = RequestFlow::new(ID);
            assert_eq!(flow.on_request_headers(&p, &s, false), Action::Pause);
            streams.with(ID, |st| assert_eq!(st.replies[0].status, 413));
        }

        #[test]
        fn a_route_naming_no_function_passes_untouched() {
            let p = named();
            let (streams, s) = routed(None, b"abc");
            let mut flow = RequestFlow::new(ID);
            assert_eq!(flow.on_request_headers(&p, &s, false), Action::Continue);
            assert_eq!(flow.on_request_body(&p, &s, 3, false), Action::Continue);
            assert_eq!(flow.on_request_trailers(&p, &s), Action::Continue);
            assert_eq!(flow.on_response_headers(&p, &s, false), Action::Continue);
            assert_eq!(flow.on_response_body(&p, &s, 3, true), Action::Continue);
            flow.on_done(&p);
            streams.with(ID, |st| {
                assert_eq!(st.written_headers, None);
                assert_eq!((st.header_map_reads, st.body_reads), (0, 0));
                assert_eq!(st.property_reads, 1);
                assert!(st.replies.is_empty());
            });
            assert_eq!(p.metrics.pending(Counter::InvocationsSynchronous), 0);
        }

        #[test]
        fn a_request_forging_the_signed_calls_route_key_on_a_route_naming_none_is_refused() {
            let p = named();
            for (key, refused) in [("mesh_lambda", true), ("another_filter", false)] {
                let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
                let state = StreamState::request(
                    &[(":method", "POST"), (":path", "/"), (ROUTE_HEADER, key)],
                    b"abc",
                );
                let s = streams.add(ID, state);
                let mut flow = RequestFlow::new(ID);
                let expected = if refused {
                    Action::Pause
                } else {
                    Action::Continue
                };
                assert_eq!(flow.on_request_headers(&p, &s, false), expected, "{key}");
                streams.with(ID, |st| {
                    assert_eq!(st.written_headers, None);
                    assert_eq!(st.header_reads, 1, "one header read, not the whole map");
                    let statuses: Vec<u32> = st.replies.iter().map(|r| r.status).collect();
                    assert_eq!(statuses, if refused { vec![500] } else { vec![] }, "{key}");
                    if refused {
                        assert!(st.replies[0].message.contains("reach Lambda unsigned"));
                    }
                });
            }
        }

        #[test]
        fn a_route_naming_an_unknown_function_is_refused() {
            let p = named();
            let (streams, s) = routed(Some("payroll"), b"abc");
            let mut flow = RequestFlow::new(ID);
            assert_eq!(flow.on_request_headers(&p, &s, false), Action::Pause);
            streams.with(ID, |st| {
                assert_eq!(st.replies[0].status, 500);
                assert!(st.replies[0].message.contains("\"payroll\""));
                assert_eq!(st.written_headers, None);
            });
        }
    }
}
