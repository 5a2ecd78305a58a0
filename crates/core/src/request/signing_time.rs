//! The time a complete request is signed at (and its credentials checked against). A clock
//! read is a host call (about 1.4 k instructions, measured), so passthrough borrows a recent
//! reading instead: the root timer's, or the last request's that read the clock.
//!
//! Whether a borrowed reading is recent cannot be known without reading the clock: the VM's
//! memory is the same whether the process was paused for a minute or not at all between the
//! reading and the request, and after a pause Envoy runs the sockets' callbacks before the
//! overdue timer's. So a reading is lent to `READING_USES` requests at most; the next request
//! reads the clock, and its reading is lent on. After a pause, at most that many requests per
//! VM are signed at the old time (AWS refuses them as skewed or expired: nothing is sent that
//! it would take as current), and the requests after them at the current time, without
//! waiting for the timer. In steady traffic this is one clock read per `READING_USES`
//! requests (or per tick, whichever comes first).

use super::settings::FunctionSettings;
use super::Plugin;
use crate::credentials::shared::Availability;
use crate::host::RequestStream;
use std::cell::Cell;

/// How many requests one reading may serve. Small, so that few requests follow a pause with
/// the old time; the clock read's cost spread over them is a few dozen instructions each.
pub const READING_USES: u32 = 16;

/// How long after a reading its credentials must stay valid for requests to use it: the
/// requests' signing time is at most this old, well within SigV4's five minutes of skew, as
/// long as the process was not paused (see above).
pub const READING_TRUSTED_MS: u64 = 60_000;

/// A clock reading (ms; 0: none yet) and how many more requests may take it.
#[derive(Debug, Default)]
pub struct ClockReading {
    ms: Cell<u64>,
    uses_left: Cell<u32>,
}

impl ClockReading {
    /// A fresh reading (the timer's, or a request's), lent to `READING_USES` requests.
    pub fn set(&self, now_ms: u64) {
        self.ms.set(now_ms);
        self.uses_left.set(READING_USES);
    }

    /// The reading, counted as one use; `None` when there is none or its uses are spent.
    fn lend(&self) -> Option<u64> {
        let left = self.uses_left.get().checked_sub(1)?;
        self.uses_left.set(left);
        Some(self.ms.get()).filter(|&ms| ms > 0)
    }
}

/// The time a complete request is signed at. Passthrough takes a lent reading when the
/// function's credentials stay valid for `READING_TRUSTED_MS` after it (else the cut-off before
/// their expiry could be missed); the clock is read otherwise: the reading's uses are spent,
/// no usable credentials (the wait's deadline needs the time), near their expiry, before the
/// first tick, and for events, whose timestamps are the request's.
pub fn request_time(
    plugin: &Plugin,
    function: &FunctionSettings,
    stream: &impl RequestStream,
) -> u64 {
    if function.event_format.is_some() {
        return stream.now_ms();
    }
    if let Some(reading) = plugin.clock_reading.lend() {
        let trusted_until = reading.saturating_add(READING_TRUSTED_MS);
        let credentials = function.identity.credentials.borrow();
        if matches!(
            credentials.availability(trusted_until),
            Availability::Ready(_)
        ) {
            return reading;
        }
    }
    let now = stream.now_ms();
    plugin.clock_reading.set(now);
    now
}
