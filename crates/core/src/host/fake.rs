//! Fakes of the host for the core's tests: a settable clock, shared data that behaves as
//! Envoy's (a token per write, compare-and-swap, one store that several VMs' agents share),
//! recorded callouts, and streams whose effects can be read back (`stream`).

use super::{Callouts, Clock, HostError, SharedData};
use crate::credentials::chain::Callout;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

mod stream;
pub use stream::{FakeStream, FakeStreams, SentRequest, SentResponse, StreamState};

/// A clock the test moves; clones share it.
#[derive(Clone, Default)]
pub struct FakeClock(Rc<Cell<u64>>);

impl FakeClock {
    pub fn at(ms: u64) -> Self {
        Self(Rc::new(Cell::new(ms)))
    }
    pub fn set(&self, ms: u64) {
        self.0.set(ms);
    }
    pub fn advance(&self, ms: u64) {
        self.0.set(self.0.get() + ms);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> u64 {
        self.0.get()
    }
}

/// Shared data as proxy-wasm-cpp-host keeps it: every write takes the next token; a write
/// with a token fails if the key exists with another one.
#[derive(Default)]
pub struct FakeStore {
    values: HashMap<String, (Vec<u8>, u32)>,
    next_cas: u32,
}

impl FakeStore {
    pub fn value(&self, key: &str) -> Option<&[u8]> {
        self.values.get(key).map(|(v, _)| v.as_slice())
    }
}

/// One VM's view of the host: its own callouts, a clock and a store shared with other VMs.
pub struct FakeHost {
    pub clock: FakeClock,
    pub store: Rc<RefCell<FakeStore>>,
    /// Callouts started, with their tokens, oldest first.
    pub callouts: RefCell<Vec<(u32, Callout)>>,
    /// Tokens are unique across fakes sharing the store (as Envoy's are per VM, which is
    /// enough: an agent only ever sees its own).
    next_token: Cell<u32>,
    /// When set, `dispatch` fails with this reason (a cluster that does not exist).
    pub refuse_dispatch: RefCell<Option<HostError>>,
}

impl FakeHost {
    pub fn new(clock: &FakeClock, store: &Rc<RefCell<FakeStore>>) -> Self {
        Self {
            clock: clock.clone(),
            store: Rc::clone(store),
            callouts: RefCell::new(Vec::new()),
            next_token: Cell::new(1),
            refuse_dispatch: RefCell::new(None),
        }
    }

    /// A host with its own clock (at `ms`) and store.
    pub fn alone(ms: u64) -> Self {
        Self::new(&FakeClock::at(ms), &Rc::default())
    }

    /// The newest callout and its token.
    pub fn last_callout(&self) -> Option<(u32, Callout)> {
        self.callouts.borrow().last().cloned()
    }

    pub fn callout_count(&self) -> usize {
        self.callouts.borrow().len()
    }
}

impl Clock for FakeHost {
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}

impl SharedData for FakeHost {
    fn get_shared(&self, key: &str) -> Result<(Option<Vec<u8>>, Option<u32>), HostError> {
        Ok(match self.store.borrow().values.get(key) {
            Some((value, cas)) => (Some(value.clone()), Some(*cas)),
            None => (None, None),
        })
    }

    fn set_shared(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), HostError> {
        let mut store = self.store.borrow_mut();
        if let (Some(cas), Some((_, current))) = (cas, store.values.get(key)) {
            if cas != *current {
                return Err(HostError::CasMismatch);
            }
        }
        store.next_cas += 1;
        let token = store.next_cas;
        store.values.insert(key.to_owned(), (value.to_vec(), token));
        Ok(())
    }
}

impl Callouts for FakeHost {
    fn dispatch(&self, callout: &Callout, _timeout: Duration) -> Result<u32, HostError> {
        if let Some(reason) = *self.refuse_dispatch.borrow() {
            return Err(reason);
        }
        let token = self.next_token.get();
        self.next_token.set(token + 1);
        self.callouts.borrow_mut().push((token, callout.clone()));
        Ok(token)
    }
}
