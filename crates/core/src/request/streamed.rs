//! A streamed answer (`InvokeWithResponseStream`) passed on as it arrives: the host side of
//! `streaming::Translator`. Each body part is read (a window at a time) and replaced by the
//! payload it completed, so the caller gets it at once (chunked); a function-URL-style
//! answer's headers wait (paused) for its prelude. A failure resets the stream, so the
//! caller's read fails instead of ending cleanly, and is counted and logged.

use super::Action;
use crate::host::{HostError, RequestStream};
use crate::metrics::{Counter, Metrics};
use crate::stream_log;
use crate::streaming::{Failure, Opening, Translator};

/// The most of one body part the VM reads at a time.
const WINDOW: usize = 64 * 1024;

/// One stream's streamed answer, from Lambda's 200 on.
pub struct StreamedResponse {
    translator: Translator,
    /// The stream was reset: nothing more is done.
    ended: bool,
}

impl StreamedResponse {
    /// Lambda answered 200 with an event stream (`headers`, serialized): the caller's headers
    /// are set (or held back for the prelude).
    pub fn start(
        context_id: u32,
        stream: &impl RequestStream,
        headers: Vec<u8>,
        end_of_stream: bool,
        metrics: &Metrics,
    ) -> (Self, Action) {
        let (translator, opening) = Translator::open(headers, end_of_stream);
        let mut streamed = Self {
            translator,
            ended: false,
        };
        let written = match opening {
            Ok(Opening::AwaitPrelude) => return (streamed, Action::Pause),
            Err(failure) => {
                streamed.fail(context_id, stream, metrics, &failure);
                return (streamed, Action::Continue);
            }
            Ok(Opening::Headers(headers)) => stream
                .set_response_headers(&headers)
                .map_err(|e| e.to_string()),
            Ok(Opening::Unwritable(why)) => Err(why),
        };
        if let Err(e) = written {
            let why = format!("cannot set the streamed answer's headers: {e}");
            stream_log!(error, context_id, "{why}");
        }
        (streamed, Action::Continue)
    }

    /// A part of Lambda's body (`body_size` bytes) arrived: it is replaced by the payload it
    /// completed.
    pub fn on_body(
        &mut self,
        context_id: u32,
        stream: &impl RequestStream,
        body_size: usize,
        end_of_stream: bool,
        metrics: &Metrics,
    ) -> Action {
        if self.ended {
            return Action::Pause;
        }
        // On a failure the part is held (Pause) and the stream reset: none of it goes on.
        if let Err(failure) = self.pass_on(stream, body_size, end_of_stream) {
            return self.fail(context_id, stream, metrics, &failure);
        }
        if self.translator.awaits_prelude() {
            // Held back with the headers; the part is empty now (the translator keeps it).
            Action::Pause
        } else {
            Action::Continue
        }
    }

    /// Replaces the part's frames with their payload. A part larger than a window (Envoy hands
    /// over what its upstream connection buffered) is drained window by window from its front,
    /// each window's payload appended at the end: the VM's memory never grows past a window.
    fn pass_on(
        &mut self,
        stream: &impl RequestStream,
        body_size: usize,
        end_of_stream: bool,
    ) -> Result<(), Failure> {
        let (mut left, mut length) = (body_size, body_size);
        while left > 0 {
            let n = left.min(WINDOW);
            let window = stream
                .response_body(0, n)
                .map_err(broken("cannot read the answer"))?;
            let translated = self.translator.push(&window)?;
            if let Some(headers) = translated.headers {
                let set = stream.set_response_headers(&headers);
                set.map_err(broken("cannot set the prelude's headers"))?;
            }
            let payload = translated.payload;
            if n == body_size {
                let written = stream.replace_response_body(n, &payload);
                written.map_err(broken("cannot write the payload"))?;
                break;
            }
            let drained = stream.replace_response_body(n, &[]);
            drained.map_err(broken("cannot drain the answer"))?;
            (left, length) = (left - n, length - n);
            if !payload.is_empty() {
                let appended = stream.append_response_body(length, &payload);
                appended.map_err(broken("cannot write the payload"))?;
                length += payload.len();
            }
        }
        if end_of_stream {
            self.translator.finish()?;
        }
        Ok(())
    }

    /// The stream ended (`proxy_on_delete`). An answer neither completed nor already reset was
    /// cut by Envoy itself (the upstream connection reset or closed mid-answer: Envoy resets
    /// the caller's stream then, and no body callback says so): counted as broken.
    pub fn on_done(&self, context_id: u32, metrics: &Metrics) {
        if !self.translator.is_complete() && !self.ended {
            metrics.count(Counter::StreamBroken);
            stream_log!(
                info,
                context_id,
                "streamed answer cut: the stream ended before InvokeComplete"
            );
        }
    }

    fn fail(
        &mut self,
        context_id: u32,
        stream: &impl RequestStream,
        metrics: &Metrics,
        failure: &Failure,
    ) -> Action {
        self.ended = true;
        metrics.count(match failure {
            Failure::Function(_) => Counter::StreamFunctionErrors,
            Failure::Broken(_) => Counter::StreamBroken,
        });
        stream_log!(info, context_id, "streamed answer reset: {failure}");
        if let Err(e) = stream.reset_stream() {
            stream_log!(error, context_id, "cannot reset the stream: {e}");
        }
        Action::Pause
    }
}

/// A host call's failure as a broken answer, saying what failed.
fn broken(what: &'static str) -> impl Fn(HostError) -> Failure {
    move |e| Failure::Broken(format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::super::flow::RequestFlow;
    use super::super::tests::{plugin_with_credentials, NOW_MS};
    use super::*;
    use crate::header_pairs;
    use crate::host::fake::{FakeClock, FakeStream, FakeStreams, StreamState};
    use crate::streaming::crc32::crc32;

    const ID: u32 = 9;

    /// One event-stream message with string headers.
    fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
        let mut encoded = Vec::new();
        for (name, value) in headers {
            encoded.push(u8::try_from(name.len()).unwrap());
            encoded.extend_from_slice(name.as_bytes());
            encoded.push(7);
            encoded.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
            encoded.extend_from_slice(value.as_bytes());
        }
        let total = u32::try_from(16 + encoded.len() + payload.len()).unwrap();
        let mut message = total.to_be_bytes().to_vec();
        message.extend_from_slice(&u32::try_from(encoded.len()).unwrap().to_be_bytes());
        let prelude_crc = crc32(&message);
        message.extend_from_slice(&prelude_crc.to_be_bytes());
        message.extend_from_slice(&encoded);
        message.extend_from_slice(payload);
        let crc = crc32(&message);
        message.extend_from_slice(&crc.to_be_bytes());
        message
    }

    fn chunk(payload: &[u8]) -> Vec<u8> {
        frame(
            &[(":message-type", "event"), (":event-type", "PayloadChunk")],
            payload,
        )
    }

    fn complete(error: Option<&str>) -> Vec<u8> {
        let document = match error {
            Some(code) => format!(r#"{{"ErrorCode":"{code}","ErrorDetails":"secret details"}}"#),
            None => "{}".into(),
        };
        frame(
            &[
                (":message-type", "event"),
                (":event-type", "InvokeComplete"),
            ],
            document.as_bytes(),
        )
    }

    /// A streaming plugin's flow whose request went to Lambda, and its stream.
    fn sent(
        lambda_headers: &[(&str, &str)],
    ) -> (crate::request::Plugin, FakeStreams, FakeStream, RequestFlow) {
        let p = plugin_with_credentials(r#","invocation_mode":"streaming""#);
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let s = streams.add(ID, StreamState::request(&[(":method", "POST")], b""));
        let mut flow = RequestFlow::new(ID);
        assert_eq!(flow.on_request_headers(&p, &s, true), Action::Continue);
        streams
            .states
            .borrow_mut()
            .get_mut(&ID)
            .unwrap()
            .response_headers = lambda_headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect();
        (p, streams, s, flow)
    }

    const OK: [(&str, &str); 4] = [
        (":status", "200"),
        ("content-type", "text/event-stream"),
        ("content-length", "999"),
        ("x-amz-executed-version", "$LATEST"),
    ];

    /// Feeds `parts` as body callbacks (the last one ends the stream): what each let through,
    /// and each callback's action.
    fn feed(
        p: &crate::request::Plugin,
        streams: &FakeStreams,
        s: &FakeStream,
        flow: &mut RequestFlow,
        parts: &[&[u8]],
    ) -> (Vec<Vec<u8>>, Vec<Action>) {
        let mut out = Vec::new();
        let mut actions = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            streams
                .states
                .borrow_mut()
                .get_mut(&ID)
                .unwrap()
                .response_body = part.to_vec();
            let action = flow.on_response_body(p, s, part.len(), i + 1 == parts.len());
            actions.push(action);
            // A paused part is held by Envoy: nothing of it goes on now.
            let passed = streams.with(ID, |st| st.response_body.clone());
            out.push(if action == Action::Continue {
                passed
            } else {
                Vec::new()
            });
        }
        (out, actions)
    }

    #[test]
    fn payload_chunks_split_anywhere_reach_the_caller_as_they_complete() {
        let mut answer = chunk(b"hello, ");
        answer.extend(chunk(b""));
        answer.extend(chunk(b"streaming world"));
        answer.extend(complete(None));
        for cut in [1, 7, 12, 13, 40, answer.len() - 1] {
            for step in [1, 3, 50] {
                let (p, streams, s, mut flow) = sent(&OK);
                assert_eq!(flow.on_response_headers(&p, &s, false), Action::Continue);
                let mut parts: Vec<&[u8]> = vec![&answer[..cut]];
                parts.extend(answer[cut..].chunks(step));
                let (out, actions) = feed(&p, &streams, &s, &mut flow, &parts);
                assert!(
                    actions.iter().all(|a| *a == Action::Continue),
                    "{cut} {step}"
                );
                assert_eq!(out.concat(), b"hello, streaming world", "{cut} {step}");
                streams.with(ID, |st| {
                    assert!(!st.reset);
                    assert_eq!(
                        st.written_response("content-type").as_deref(),
                        Some("text/event-stream")
                    );
                    assert_eq!(st.written_response("content-length"), None);
                    assert_eq!(
                        st.written_response("x-amz-executed-version").as_deref(),
                        Some("$LATEST")
                    );
                    assert_eq!(st.written_response(":status").as_deref(), Some("200"));
                });
                assert_eq!(p.metrics.pending(Counter::StreamBroken), 0);
            }
        }
    }

    #[test]
    fn a_large_part_is_passed_on_a_window_at_a_time() {
        // 3 MB in one part (Envoy hands over what its upstream connection buffered), frames
        // of 100,003 bytes straddling the windows, the last part with the end.
        let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut answer: Vec<u8> = payload.chunks(100_003).flat_map(chunk).collect();
        answer.extend(complete(None));
        let (p, streams, s, mut flow) = sent(&OK);
        flow.on_response_headers(&p, &s, false);
        let (first, second) = answer.split_at(2_500_000);
        let (out, actions) = feed(&p, &streams, &s, &mut flow, &[first, second]);
        assert_eq!(actions, [Action::Continue, Action::Continue]);
        assert!(out.concat() == payload, "the payload, in order");
        streams.with(ID, |st| {
            assert!(!st.reset);
            assert_eq!(st.largest_response_read, WINDOW);
        });
    }

    #[test]
    fn the_event_stream_type_never_reaches_the_caller() {
        for declared in [Some("application/vnd.amazon.eventstream"), Some(""), None] {
            let mut headers = vec![(":status", "200")];
            headers.extend(declared.map(|t| ("content-type", t)));
            let (p, streams, s, mut flow) = sent(&headers);
            flow.on_response_headers(&p, &s, false);
            streams.with(ID, |st| {
                assert_eq!(
                    st.written_response("content-type").as_deref(),
                    Some("application/octet-stream"),
                    "{declared:?}"
                );
            });
        }
    }

    #[test]
    fn failures_reset_the_stream_and_are_counted() {
        let mut corrupt = chunk(b"abc");
        let last = corrupt.len() - 5;
        corrupt[last] ^= 1;
        let exception = frame(
            &[
                (":message-type", "exception"),
                (":exception-type", "ServiceException"),
            ],
            br#"{"message":"no"}"#,
        );
        let mut after = complete(None);
        after.extend(chunk(b"late"));
        // What reached the caller, the answer, the counter. A part that fails passes nothing
        // on; the last (empty) part ends the stream.
        let cases: [(&str, &[u8], Vec<u8>, Counter); 5] = [
            (
                "function error",
                b"",
                [chunk(b"part"), complete(Some("Unhandled"))].concat(),
                Counter::StreamFunctionErrors,
            ),
            (
                "exception",
                b"",
                [chunk(b"part"), exception].concat(),
                Counter::StreamFunctionErrors,
            ),
            ("corrupt", b"", corrupt, Counter::StreamBroken),
            ("cut", b"no end", chunk(b"no end"), Counter::StreamBroken),
            ("after the end", b"", after, Counter::StreamBroken),
        ];
        for (what, passed, answer, counter) in cases {
            let (p, streams, s, mut flow) = sent(&OK);
            flow.on_response_headers(&p, &s, false);
            let (out, actions) = feed(&p, &streams, &s, &mut flow, &[&answer, b""]);
            assert_eq!(actions[1], Action::Pause, "{what}");
            assert_eq!(out.concat(), passed, "{what}");
            streams.with(ID, |st| assert!(st.reset, "{what}"));
            assert_eq!(p.metrics.pending(counter), 1, "{what}");
        }
    }

    #[test]
    fn a_stream_ending_later_without_invoke_complete_is_reset_at_its_end() {
        let (p, streams, s, mut flow) = sent(&OK);
        flow.on_response_headers(&p, &s, false);
        let first = chunk(b"first");
        let (out, actions) = feed(&p, &streams, &s, &mut flow, &[&first, &first[..3]]);
        assert_eq!(out[0], b"first");
        assert_eq!(actions, [Action::Continue, Action::Pause]);
        streams.with(ID, |st| assert!(st.reset));
        assert_eq!(p.metrics.pending(Counter::StreamBroken), 1);
    }

    #[test]
    fn an_http_integration_answer_waits_for_its_prelude_then_sets_status_and_headers() {
        let prelude = br#"{"statusCode":201,"headers":{"Content-Type":"text/html","X-Custom":"yes","Content-Length":"5"},"cookies":["a=1","b=2; Secure"]}"#;
        let mut output = prelude.to_vec();
        output.extend_from_slice(&[0; 8]);
        output.extend_from_slice(b"<p>hi</p>");
        let mut answer = chunk(&output[..20]);
        answer.extend(chunk(&output[20..]));
        answer.extend(complete(None));
        let (p, streams, s, mut flow) = sent(&[
            (":status", "200"),
            (
                "content-type",
                "application/vnd.awslambda.http-integration-response",
            ),
            ("x-amzn-requestid", "r-1"),
        ]);
        assert_eq!(flow.on_response_headers(&p, &s, false), Action::Pause);
        let parts: Vec<&[u8]> = answer.chunks(10).collect();
        let (out, actions) = feed(&p, &streams, &s, &mut flow, &parts);
        let first_out = actions.iter().position(|a| *a == Action::Continue).unwrap();
        assert!(actions[..first_out].iter().all(|a| *a == Action::Pause));
        assert!(out[..first_out].iter().all(Vec::is_empty));
        assert_eq!(out.concat(), b"<p>hi</p>");
        streams.with(ID, |st| {
            assert!(!st.reset);
            let written =
                header_pairs::parse(st.written_response_headers.as_ref().unwrap()).unwrap();
            let text: Vec<(&str, &str)> = written
                .iter()
                .map(|(n, v)| (*n, std::str::from_utf8(v).unwrap()))
                .collect();
            assert_eq!(
                text,
                [
                    (":status", "201"),
                    ("x-amzn-requestid", "r-1"),
                    ("content-type", "text/html"),
                    ("x-custom", "yes"),
                    ("set-cookie", "a=1"),
                    ("set-cookie", "b=2; Secure"),
                ]
            );
        });
    }

    #[test]
    fn a_part_the_host_cannot_give_is_a_broken_answer() {
        let (p, streams, s, mut flow) = sent(&OK);
        flow.on_response_headers(&p, &s, false);
        streams.remove(ID);
        assert_eq!(flow.on_response_body(&p, &s, 10, false), Action::Pause);
        assert_eq!(p.metrics.pending(Counter::StreamBroken), 1);
        // Nothing more is done, and the end is not counted again.
        assert_eq!(flow.on_response_body(&p, &s, 10, true), Action::Pause);
        flow.on_done(&p);
        assert_eq!(p.metrics.pending(Counter::StreamBroken), 1);
    }

    #[test]
    fn a_stream_that_ends_unfinished_without_a_body_callback_is_counted() {
        let (p, streams, s, mut flow) = sent(&OK);
        flow.on_response_headers(&p, &s, false);
        feed(&p, &streams, &s, &mut flow, &[&chunk(b"x")[..5]]);
        flow.on_done(&p);
        assert_eq!(p.metrics.pending(Counter::StreamBroken), 1, "once");
        // A complete one is not.
        let (p, streams, s, mut flow) = sent(&OK);
        flow.on_response_headers(&p, &s, false);
        feed(
            &p,
            &streams,
            &s,
            &mut flow,
            &[&[chunk(b"x"), complete(None)].concat()],
        );
        flow.on_done(&p);
        assert_eq!(p.metrics.pending(Counter::StreamBroken), 0);
    }

    #[test]
    fn a_prelude_that_never_ends_or_is_not_json_resets_the_stream() {
        for output in [
            &b"{\"statusCode\":200}"[..],
            b"not json\0\0\0\0\0\0\0\0body",
        ] {
            let (p, streams, s, mut flow) = sent(&[
                (":status", "200"),
                (
                    "content-type",
                    "application/vnd.awslambda.http-integration-response",
                ),
            ]);
            flow.on_response_headers(&p, &s, false);
            let answer = [chunk(output), complete(None)].concat();
            feed(&p, &streams, &s, &mut flow, &[&answer]);
            streams.with(ID, |st| {
                assert!(st.reset, "{}", String::from_utf8_lossy(output));
                assert_eq!(st.written_response_headers, None);
            });
            assert_eq!(p.metrics.pending(Counter::StreamBroken), 1);
        }
    }

    #[test]
    fn an_error_before_the_stream_passes_as_for_a_synchronous_call() {
        let (p, streams, s, mut flow) = sent(&[(":status", "429"), ("retry-after", "7")]);
        assert_eq!(flow.on_response_headers(&p, &s, false), Action::Continue);
        let (out, actions) = feed(
            &p,
            &streams,
            &s,
            &mut flow,
            &[br#"{"message":"Rate Exceeded."}"#],
        );
        assert_eq!(actions, [Action::Continue]);
        assert_eq!(out[0], br#"{"message":"Rate Exceeded."}"#);
        streams.with(ID, |st| {
            assert_eq!(st.written_response_headers, None);
            assert!(!st.reset);
        });
        assert_eq!(p.metrics.pending(Counter::LambdaThrottled), 1);
        assert_eq!(p.metrics.pending(Counter::InvocationsStreaming), 1);
    }

    #[test]
    fn other_modes_pass_response_bodies_without_reading_them() {
        let p = plugin_with_credentials("");
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let s = streams.add(ID, StreamState::request(&[(":method", "POST")], b""));
        let mut flow = RequestFlow::new(ID);
        flow.on_request_headers(&p, &s, true);
        streams
            .states
            .borrow_mut()
            .get_mut(&ID)
            .unwrap()
            .response_headers = vec![(":status".into(), b"200".to_vec())];
        flow.on_response_headers(&p, &s, false);
        let (out, actions) = feed(&p, &streams, &s, &mut flow, &[&chunk(b"as is")]);
        assert_eq!(actions, [Action::Continue]);
        assert_eq!(out[0], chunk(b"as is"));
        streams.with(ID, |st| assert_eq!(st.written_response_headers, None));
    }
}
