//! The requests paused until credentials arrive, and the one place that settles them: signed
//! and resumed once their function's identity has credentials, answered 503 when its providers
//! all failed or their wait reached `max_wait_ms`. Each is settled against its own function's
//! identity only. Only this type touches the queue.

use super::decision::{decide, Decision};
use super::rewrite::{send_invoke, Sent};
use super::settings::FunctionSettings;
use super::{send_local_reply, Plugin, ReadyRequest};
use crate::host::{RequestStream, Streams};
use crate::metrics::Counter;
use crate::stream_log;
use std::rc::Rc;

/// The most requests one call settles. Envoy runs what a VM call asks of other streams
/// (resume, local reply) after the call returns, each one nested inside the VM call the one
/// before it caused (proxy-wasm-cpp-host drains its after-call actions at the end of every
/// nested call): settling 500 at once overflowed V8's stack and crashed the VM, 300 did not
/// (Envoy 1.40, `integration/operations/test_faults.py`). The rest wait for the next tick,
/// which is the fast one while requests wait.
pub const SETTLED_PER_CALL: usize = 100;

struct WaitingRequest {
    context_id: u32,
    deadline_ms: u64,
    /// The function it is for.
    function: Rc<FunctionSettings>,
    request: ReadyRequest,
}

#[derive(Default)]
pub struct WaitingRequests {
    queue: Vec<WaitingRequest>,
}

impl WaitingRequests {
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Parks a request until `deadline_ms`.
    pub fn park(
        &mut self,
        context_id: u32,
        deadline_ms: u64,
        function: Rc<FunctionSettings>,
        request: ReadyRequest,
    ) {
        self.queue.push(WaitingRequest {
            context_id,
            deadline_ms,
            function,
            request,
        });
    }

    /// Forgets a request whose stream ended; whether it was waiting.
    pub fn forget(&mut self, context_id: u32) -> bool {
        let before = self.queue.len();
        self.queue.retain(|w| w.context_id != context_id);
        self.queue.len() != before
    }
}

/// Settles what can be settled at `now_ms`; the rest keeps waiting.
pub fn settle_waiting(plugin: &Plugin, streams: &impl Streams, now_ms: u64) {
    if plugin.waiting.borrow().is_empty() {
        return;
    }
    // Taken out while settling: signing borrows the plugin again.
    let queue = std::mem::take(&mut plugin.waiting.borrow_mut().queue);
    let mut still_waiting = Vec::new();
    let mut settled = 0;
    for w in queue {
        if settled == SETTLED_PER_CALL {
            still_waiting.push(w);
            continue;
        }
        let reply = match decide(&w.function.identity, now_ms, w.deadline_ms) {
            Decision::Wait => {
                still_waiting.push(w);
                continue;
            }
            Decision::Sign(credentials) => {
                settled += 1;
                plugin.metrics.count(Counter::CredentialsWaitSigned);
                let Some(stream) = streams.enter(w.context_id) else {
                    continue; // the stream is gone
                };
                match send_invoke(
                    plugin,
                    &w.function,
                    &stream,
                    &credentials,
                    &w.request,
                    now_ms,
                ) {
                    Ok(Sent::InPlace) => {
                        if let Err(e) = stream.resume_request() {
                            stream_log!(error, w.context_id, "cannot resume: {e}");
                        }
                        continue;
                    }
                    Ok(Sent::ByCallout(token, echoed)) => {
                        // Sent from the root context: the answer comes back there.
                        plugin.stream_callouts.borrow_mut().record(
                            token,
                            w.context_id,
                            Rc::clone(&w.function),
                            echoed,
                        );
                        continue;
                    }
                    Err(reply) => reply,
                }
            }
            Decision::Reply(reply) => {
                settled += 1;
                plugin.metrics.count(if now_ms >= w.deadline_ms {
                    Counter::CredentialsWaitTimedOut
                } else {
                    Counter::CredentialsWaitFailed
                });
                reply
            }
        };
        if let Some(stream) = streams.enter(w.context_id) {
            send_local_reply(plugin, w.context_id, &stream, &reply);
        }
    }
    plugin.waiting.borrow_mut().queue.extend(still_waiting);
}

#[cfg(test)]
mod tests {
    use super::super::tests::{credentials, function, plugin, NOW_MS};
    use super::*;
    use crate::credentials::shared::SharedRecord;
    use crate::host::fake::{FakeClock, FakeStreams, StreamState};

    fn park(p: &Plugin, streams: &FakeStreams, id: u32, deadline_ms: u64) {
        let state = StreamState::request(&[(":method", "POST")], b"{}");
        let mut request = ReadyRequest {
            serialized_headers: state.headers.clone(),
            body_size: 2,
            had_body: true,
            ..ReadyRequest::default()
        };
        let stream = streams.add(id, state);
        request.body_hash.catch_up(&stream, 2).unwrap();
        p.waiting
            .borrow_mut()
            .park(id, deadline_ms, function(p), request);
    }

    #[test]
    fn credentials_arriving_sign_and_resume_every_waiting_request() {
        let p = plugin("");
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        park(&p, &streams, 1, NOW_MS + 5000);
        park(&p, &streams, 2, NOW_MS + 5000);
        settle_waiting(&p, &streams, NOW_MS + 10);
        assert_eq!(p.waiting.borrow().len(), 2, "nothing to settle yet");

        *p.identities[0].credentials.borrow_mut() =
            SharedRecord::succeeded("environment", credentials(None), NOW_MS, 300);
        settle_waiting(&p, &streams, NOW_MS + 20);
        assert!(p.waiting.borrow().is_empty());
        for id in [1, 2] {
            streams.with(id, |s| {
                assert_eq!(s.resumed, 1);
                assert!(s.written("authorization").is_some());
                assert!(s.replies.is_empty());
            });
        }
    }

    #[test]
    fn the_deadline_answers_each_request_at_its_own_time() {
        let p = plugin("");
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        park(&p, &streams, 1, NOW_MS + 1000);
        park(&p, &streams, 2, NOW_MS + 3000);
        settle_waiting(&p, &streams, NOW_MS + 999);
        assert_eq!(p.waiting.borrow().len(), 2);
        settle_waiting(&p, &streams, NOW_MS + 1000);
        assert_eq!(p.waiting.borrow().len(), 1);
        streams.with(1, |s| {
            assert_eq!(s.replies.len(), 1);
            assert_eq!(s.replies[0].status, 503);
            assert_eq!(s.resumed, 0);
            assert_eq!(s.written_headers, None, "nothing unsigned leaves");
        });
        streams.with(2, |s| assert!(s.replies.is_empty()));
    }

    #[test]
    fn a_failure_answers_all_and_gone_streams_are_skipped() {
        let p = plugin("");
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        park(&p, &streams, 1, NOW_MS + 5000);
        park(&p, &streams, 2, NOW_MS + 5000);
        streams.remove(2);
        let failed = p.identities[0]
            .credentials
            .borrow()
            .failed("all down".into(), NOW_MS);
        *p.identities[0].credentials.borrow_mut() = failed;
        settle_waiting(&p, &streams, NOW_MS + 1);
        assert!(p.waiting.borrow().is_empty());
        streams.with(1, |s| assert!(s.replies[0].message.starts_with("all down")));
    }

    #[test]
    fn a_crowd_is_settled_a_batch_per_call_in_arrival_order() {
        let p = plugin("");
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let crowd = 2 * SETTLED_PER_CALL as u32 + 1;
        for id in 1..=crowd {
            park(&p, &streams, id, NOW_MS + 5000);
        }
        *p.identities[0].credentials.borrow_mut() =
            SharedRecord::succeeded("environment", credentials(None), NOW_MS, 300);
        for left in [SETTLED_PER_CALL + 1, 1, 0] {
            settle_waiting(&p, &streams, NOW_MS + 1);
            assert_eq!(p.waiting.borrow().len(), left);
        }
        streams.with(1, |s| assert_eq!(s.resumed, 1));
        streams.with(crowd, |s| assert_eq!(s.resumed, 1));
    }

    #[test]
    fn forget_removes_only_that_request() {
        let p = plugin("");
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        park(&p, &streams, 1, NOW_MS + 5000);
        park(&p, &streams, 2, NOW_MS + 5000);
        p.waiting.borrow_mut().forget(1);
        assert_eq!(p.waiting.borrow().len(), 1);
        *p.identities[0].credentials.borrow_mut() =
            SharedRecord::succeeded("environment", credentials(None), NOW_MS, 300);
        settle_waiting(&p, &streams, NOW_MS + 1);
        streams.with(1, |s| assert_eq!(s.resumed, 0));
        streams.with(2, |s| assert_eq!(s.resumed, 1));
    }
}
