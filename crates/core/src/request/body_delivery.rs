//! Whether Envoy hands request bodies to the filter at all. It does only when the wasm
//! filter's config sets `allow_on_headers_stop_iteration: true` (Envoy 1.35 and later);
//! without it a request paused at its headers never gets its body and would hang until the
//! route's timeout. So until a VM has seen one body arrive, the requests paused at their
//! headers are watched, and one whose body Envoy has received but not handed to the filter is
//! answered with an error naming the setting. The caller's pace plays no part: a body that
//! has not been sent yet is not held back. Once a body has arrived, this costs one flag check
//! per request.
//!
//! What Envoy has received is its stream info's count of body bytes from the downstream,
//! which its connection manager adds to before the filter chain sees the data
//! (`ActiveStream::decodeData`); wasm reads it as the `request.total_size` attribute, that
//! count plus the size of the request's headers (`filters/common/expr/context.cc`,
//! `TotalSize`). (`request.size` is the `content-length` header when there is one, so it says
//! nothing about what arrived.) The growth of `request.total_size` since the headers is the
//! body received.

use super::waiting::SETTLED_PER_CALL;
use super::{send_local_reply, Plugin};
use crate::host::{RequestStream, Streams};
use crate::local_reply::LocalReply;
use crate::vm_log;
use std::cell::{Cell, RefCell};

/// How long a received body must stay held back before the filter concludes that Envoy holds
/// it: a filter before this one may hold the body for a moment (one that sends it to an
/// authorization service first, say) and hand it on once it is whole.
pub const HELD_FOR_MS: u64 = 1_000;

/// The attribute whose growth since the headers is the body Envoy received.
const TOTAL_SIZE: [&str; 2] = ["request", "total_size"];

/// A request paused at its headers, waiting for its body.
struct Watched {
    context_id: u32,
    /// The declared `content-length`.
    declared_length: Option<u64>,
    /// `request.total_size` at the headers.
    total_size_at_headers: u64,
    /// Since when its whole body (or, without a declared length, some) is held back.
    held_since: Option<u64>,
}

#[derive(Default)]
pub struct BodyDelivery {
    /// A body reached this VM: Envoy delivers them.
    confirmed: Cell<bool>,
    /// Until then: the requests paused at their headers.
    watched: RefCell<Vec<Watched>>,
    reported: Cell<bool>,
}

/// An integer attribute (Envoy serializes it as 8 bytes, little-endian).
fn integer(stream: &impl RequestStream, path: &[&str]) -> Option<u64> {
    let bytes: [u8; 8] = stream.property(path)?.try_into().ok()?;
    u64::try_from(i64::from_le_bytes(bytes)).ok()
}

impl BodyDelivery {
    /// A request paused at its headers, waiting for its body (of `declared_length`, when the
    /// caller declared it). The attribute is read only while watching (a host call per request
    /// otherwise).
    pub fn watch(
        &self,
        context_id: u32,
        declared_length: Option<u64>,
        stream: &impl RequestStream,
    ) {
        if self.confirmed.get() {
            return;
        }
        if let Some(total_size_at_headers) = integer(stream, &TOTAL_SIZE) {
            self.watched.borrow_mut().push(Watched {
                context_id,
                declared_length,
                total_size_at_headers,
                held_since: None,
            });
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
                watched.retain(|w| w.context_id != context_id);
            }
        }
    }
}

/// Whether Envoy holds back the body of a watched request: it has received the whole body
/// (or some of a body of unknown length), none of which reached the filter.
fn held_back(watched: &Watched, streams: &impl Streams) -> bool {
    let Some(stream) = streams.enter(watched.context_id) else {
        return false;
    };
    let Some(total_size) = integer(&stream, &TOTAL_SIZE) else {
        return false;
    };
    let received = total_size.saturating_sub(watched.total_size_at_headers);
    received > 0
        && watched
            .declared_length
            .is_none_or(|length| received >= length)
}

/// From the timer: answers the requests whose body Envoy received and holds back.
pub fn check_body_delivery(plugin: &Plugin, streams: &impl Streams, now_ms: u64) {
    let delivery = &plugin.body_delivery;
    if delivery.confirmed.get() {
        return;
    }
    // At most a batch per call, as when settling waiting requests (the rest stay overdue).
    let overdue: Vec<u32> = {
        let mut watched = delivery.watched.borrow_mut();
        for w in watched.iter_mut() {
            w.held_since = if held_back(w, streams) {
                w.held_since.or(Some(now_ms))
            } else {
                None
            };
        }
        let overdue: Vec<u32> = watched
            .iter()
            .filter(|w| {
                w.held_since
                    .is_some_and(|since| now_ms.saturating_sub(since) >= HELD_FOR_MS)
            })
            .map(|w| w.context_id)
            .take(SETTLED_PER_CALL)
            .collect();
        watched.retain(|w| !overdue.contains(&w.context_id));
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
    let reply = LocalReply::body_not_delivered();
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

    /// Envoy's `request.total_size` for a stream whose headers are 120 bytes and of whose body
    /// it has received `body_received` bytes.
    fn received(streams: &FakeStreams, id: u32, body_received: u64) {
        let total = i64::try_from(120 + body_received).unwrap().to_le_bytes();
        let mut states = streams.states.borrow_mut();
        let properties = &mut states.get_mut(&id).unwrap().properties;
        properties.retain(|(k, _)| k != "request.total_size");
        properties.push(("request.total_size".into(), total.to_vec()));
    }

    /// A VM that has seen no body yet, and a request paused at its headers (declaring
    /// `content-length: 2` or not) of which Envoy has received nothing yet.
    fn paused(declared: bool) -> (Plugin, FakeStreams, RequestFlow) {
        let p = plugin_with_credentials("");
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        // The fake declares the length of the body it is given.
        let body: &[u8] = if declared { b"{}" } else { b"" };
        let s = streams.add(1, StreamState::request(&[(":method", "POST")], body));
        received(&streams, 1, 0);
        let mut flow = RequestFlow::new(1);
        flow.on_request_headers(&p, &s, false);
        (p, streams, flow)
    }

    fn replies(streams: &FakeStreams) -> Vec<(u32, &'static str)> {
        streams.with(1, |st| {
            st.replies
                .iter()
                .map(|r| (r.status, r.code.as_str()))
                .collect()
        })
    }

    #[test]
    fn a_body_envoy_received_and_holds_back_is_answered_with_the_setting_to_fix() {
        let (p, streams, _flow) = paused(true);
        received(&streams, 1, 2);
        check_body_delivery(&p, &streams, NOW_MS);
        check_body_delivery(&p, &streams, NOW_MS + HELD_FOR_MS - 1);
        assert!(
            replies(&streams).is_empty(),
            "held for less than HELD_FOR_MS"
        );
        check_body_delivery(&p, &streams, NOW_MS + HELD_FOR_MS);
        assert_eq!(replies(&streams), [(500, "BodyNotDelivered")]);
        streams.with(1, |st| {
            assert!(st.replies[0]
                .message
                .contains("allow_on_headers_stop_iteration"));
            assert_eq!(st.written_headers, None);
        });
        // Answered once.
        check_body_delivery(&p, &streams, NOW_MS + 60_000);
        assert_eq!(replies(&streams).len(), 1);
    }

    /// The caller's pace is its business: a body not sent yet (or sent in part, with more
    /// declared) is not held back, however long it takes.
    #[test]
    fn a_slow_upload_is_never_answered() {
        let (p, streams, mut flow) = paused(true);
        check_body_delivery(&p, &streams, NOW_MS + 60_000);
        received(&streams, 1, 1);
        check_body_delivery(&p, &streams, NOW_MS + 120_000);
        check_body_delivery(&p, &streams, NOW_MS + 180_000);
        assert!(replies(&streams).is_empty());
        // The body reaches the filter at last, as Envoy delivers it when configured.
        let s = streams.add(1, StreamState::request(&[(":method", "POST")], b"{}"));
        assert_eq!(
            flow.on_request_body(&p, &s, 2, true),
            crate::request::Action::Continue
        );
    }

    /// A filter before this one that holds the body a moment (until an authorization answer,
    /// say) hands it on: not held back for long enough.
    #[test]
    fn a_body_held_a_moment_by_another_filter_is_not_answered() {
        let (p, streams, _flow) = paused(true);
        received(&streams, 1, 2);
        check_body_delivery(&p, &streams, NOW_MS);
        p.body_delivery.body_arrived();
        check_body_delivery(&p, &streams, NOW_MS + HELD_FOR_MS);
        assert!(replies(&streams).is_empty());
    }

    #[test]
    fn without_a_declared_length_any_body_received_is_held_back() {
        let (p, streams, _flow) = paused(false);
        check_body_delivery(&p, &streams, NOW_MS);
        received(&streams, 1, 1);
        check_body_delivery(&p, &streams, NOW_MS + 1);
        check_body_delivery(&p, &streams, NOW_MS + 1 + HELD_FOR_MS);
        assert_eq!(replies(&streams), [(500, "BodyNotDelivered")]);
    }

    #[test]
    fn once_a_body_arrived_nothing_is_watched() {
        let p = plugin_with_credentials("");
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let first = streams.add(1, StreamState::request(&[(":method", "POST")], b"{}"));
        let mut flow1 = RequestFlow::new(1);
        received(&streams, 1, 0);
        flow1.on_request_headers(&p, &first, false);
        flow1.on_request_body(&p, &first, 2, true);
        // Later requests are not watched at all (nor is the attribute read).
        let third = streams.add(3, StreamState::request(&[(":method", "POST")], b"{}"));
        RequestFlow::new(3).on_request_headers(&p, &third, false);
        assert!(p.body_delivery.watched.borrow().is_empty());
    }

    #[test]
    fn requests_without_a_body_or_that_ended_are_not_watched() {
        let p = plugin_with_credentials("");
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let s = streams.add(1, StreamState::request(&[(":method", "GET")], b""));
        received(&streams, 1, 0);
        RequestFlow::new(1).on_request_headers(&p, &s, true);
        let s = streams.add(2, StreamState::request(&[(":method", "POST")], b"{}"));
        received(&streams, 2, 0);
        let mut flow = RequestFlow::new(2);
        flow.on_request_headers(&p, &s, false);
        assert_eq!(p.body_delivery.watched.borrow().len(), 1);
        flow.on_done(&p);
        assert!(p.body_delivery.watched.borrow().is_empty());
    }
}
