//! Whether Envoy hands request bodies to the filter at all. It does only when the wasm
//! filter's config sets `allow_on_headers_stop_iteration: true` (Envoy 1.35 and later);
//! without it a request paused at its headers never gets its body and would hang until the
//! route's timeout. So until a VM has seen one body arrive, the requests paused at their
//! headers are watched, and one that gets no body within `BODY_EXPECTED_WITHIN_MS` is
//! answered with an error naming the setting. Once a body has arrived, this costs one flag
//! check per request.

use super::waiting::SETTLED_PER_CALL;
use super::{send_local_reply, Plugin};
use crate::host::Streams;
use crate::local_reply::LocalReply;
use crate::vm_log;
use std::cell::{Cell, RefCell};

/// How long a request paused at its headers may go without any of its body, before the
/// filter concludes that Envoy holds bodies back.
pub const BODY_EXPECTED_WITHIN_MS: u64 = 5_000;

#[derive(Default)]
pub struct BodyDelivery {
    /// A body reached this VM: Envoy delivers them.
    confirmed: Cell<bool>,
    /// Until then: the requests paused at their headers, and since when.
    watched: RefCell<Vec<(u32, u64)>>,
    reported: Cell<bool>,
}

impl BodyDelivery {
    /// A request paused at its headers, waiting for its body. The clock is read only while
    /// watching (a host call per request otherwise).
    pub fn watch(&self, context_id: u32, now_ms: impl FnOnce() -> u64) {
        if !self.confirmed.get() {
            self.watched.borrow_mut().push((context_id, now_ms()));
        }
    }

    /// Some body arrived: Envoy delivers bodies; nothing more to watch.
    pub fn body_arrived(&self) {
        if !self.confirmed.get() {
            self.confirmed.set(true);
            self.watched.borrow_mut().clear();
        }
    }

    /// A stream ended.
    pub fn forget(&self, context_id: u32) {
        if !self.confirmed.get() {
            if let Ok(mut watched) = self.watched.try_borrow_mut() {
                watched.retain(|(id, _)| *id != context_id);
            }
        }
    }
}

/// From the timer: answers the requests that waited too long for a body that Envoy does not
/// deliver.
pub fn check_body_delivery(plugin: &Plugin, streams: &impl Streams, now_ms: u64) {
    let delivery = &plugin.body_delivery;
    if delivery.confirmed.get() {
        return;
    }
    // At most a batch per call, as when settling waiting requests (the rest stay overdue).
    let overdue: Vec<u32> = {
        let mut watched = delivery.watched.borrow_mut();
        let overdue: Vec<u32> = watched
            .iter()
            .filter(|(_, since)| now_ms.saturating_sub(*since) >= BODY_EXPECTED_WITHIN_MS)
            .map(|(id, _)| *id)
            .take(SETTLED_PER_CALL)
            .collect();
        watched.retain(|(id, _)| !overdue.contains(id));
        overdue
    };
    if overdue.is_empty() {
        return;
    }
    if !delivery.reported.replace(true) {
        vm_log!(
            error,
            "request bodies do not reach the filter: Envoy delivers them only with \
             allow_on_headers_stop_iteration: true in the wasm filter's config (Envoy 1.35 or \
             later); requests with a body are answered 500 until then"
        );
    }
    let reply = LocalReply::body_not_delivered(BODY_EXPECTED_WITHIN_MS);
    for context_id in overdue {
        if let Some(stream) = streams.enter(context_id) {
            send_local_reply(plugin, context_id, &stream, &reply);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::flow::RequestFlow;
    use super::super::tests::{plugin_with_credentials, NOW_MS};
    use super::*;
    use crate::host::fake::{FakeClock, FakeStreams, StreamState};
    use crate::host::Clock;

    #[test]
    fn a_body_that_never_comes_is_answered_with_the_setting_to_fix() {
        let p = plugin_with_credentials("");
        let clock = FakeClock::at(NOW_MS);
        let streams = FakeStreams::new(&clock);
        let s = streams.add(1, StreamState::request(&[(":method", "POST")], b"{}"));
        let mut flow = RequestFlow::new(1);
        flow.on_request_headers(&p, &s, false);
        clock.advance(BODY_EXPECTED_WITHIN_MS - 1);
        check_body_delivery(&p, &streams, clock.now_ms());
        streams.with(1, |st| assert!(st.replies.is_empty()));
        clock.advance(1);
        check_body_delivery(&p, &streams, clock.now_ms());
        streams.with(1, |st| {
            assert_eq!(st.replies.len(), 1);
            assert_eq!(
                (st.replies[0].status, st.replies[0].code),
                (500, "BodyNotDelivered")
            );
            assert!(st.replies[0]
                .message
                .contains("allow_on_headers_stop_iteration"));
            assert_eq!(st.written_headers, None);
        });
        // Answered once.
        clock.advance(10_000);
        check_body_delivery(&p, &streams, clock.now_ms());
        streams.with(1, |st| assert_eq!(st.replies.len(), 1));
    }

    #[test]
    fn once_a_body_arrived_nothing_is_watched() {
        let p = plugin_with_credentials("");
        let clock = FakeClock::at(NOW_MS);
        let streams = FakeStreams::new(&clock);
        let first = streams.add(1, StreamState::request(&[(":method", "POST")], b"{}"));
        let slow = streams.add(2, StreamState::request(&[(":method", "POST")], b"{}"));
        let mut flow1 = RequestFlow::new(1);
        let mut flow2 = RequestFlow::new(2);
        flow1.on_request_headers(&p, &first, false);
        flow2.on_request_headers(&p, &slow, false);
        flow1.on_request_body(&p, &first, 2, true);
        // The second client is slow to send its body: that is its business.
        clock.advance(60_000);
        check_body_delivery(&p, &streams, clock.now_ms());
        streams.with(2, |st| assert!(st.replies.is_empty()));
        // Later requests are not watched at all.
        let third = streams.add(3, StreamState::request(&[(":method", "POST")], b"{}"));
        RequestFlow::new(3).on_request_headers(&p, &third, false);
        assert!(p.body_delivery.watched.borrow().is_empty());
    }

    #[test]
    fn requests_without_a_body_or_that_ended_are_not_watched() {
        let p = plugin_with_credentials("");
        let clock = FakeClock::at(NOW_MS);
        let streams = FakeStreams::new(&clock);
        let s = streams.add(1, StreamState::request(&[(":method", "GET")], b""));
        RequestFlow::new(1).on_request_headers(&p, &s, true);
        let s = streams.add(2, StreamState::request(&[(":method", "POST")], b"{}"));
        let mut flow = RequestFlow::new(2);
        flow.on_request_headers(&p, &s, false);
        flow.on_done(&p);
        assert!(p.body_delivery.watched.borrow().is_empty());
    }
}
