//! The identities a VM signs as: one per distinct `credentials` setting among its functions
//! (functions whose settings are equal share one, so credentials are fetched once per identity,
//! not per function). Each holds this VM's copy of its shared credential record, which its
//! credential agent (`vm::agent`) keeps current; a function's requests read only its own.

use crate::config::CredentialSettings;
use crate::credentials::shared::SharedRecord;
use std::cell::RefCell;
use std::rc::Rc;

/// One identity: its settings and its credentials.
pub struct Identity {
    /// The `credentials` settings every function of this identity has.
    pub settings: CredentialSettings,
    /// How long a request waits for credentials (`credentials.max_wait_ms`).
    pub max_wait_ms: u64,
    /// The names of the configured credential providers, for error messages.
    pub provider_names: String,
    /// This VM's copy of the identity's shared credential record.
    pub credentials: RefCell<SharedRecord>,
}

impl Identity {
    pub fn new(settings: &CredentialSettings) -> Self {
        Self {
            max_wait_ms: settings.max_wait_ms,
            provider_names: settings.chain.provider_names(),
            settings: settings.clone(),
            credentials: RefCell::new(SharedRecord::default()),
        }
    }
}

/// The distinct identities, in the order first met, as functions are set up.
#[derive(Default)]
pub struct Identities {
    all: Vec<Rc<Identity>>,
}

impl Identities {
    /// The identity of `settings`: the one already met with equal settings, else a new one.
    pub fn of(&mut self, settings: &CredentialSettings) -> Rc<Identity> {
        if let Some(known) = self.all.iter().find(|i| i.settings == *settings) {
            return Rc::clone(known);
        }
        let identity = Rc::new(Identity::new(settings));
        self.all.push(Rc::clone(&identity));
        identity
    }
}

/// The distinct identities of `functions`' identities (each once, by pointer), in order.
pub fn distinct<'a>(functions: impl Iterator<Item = &'a Rc<Identity>>) -> Vec<Rc<Identity>> {
    let mut all: Vec<Rc<Identity>> = Vec::new();
    for identity in functions {
        if !all.iter().any(|known| Rc::ptr_eq(known, identity)) {
            all.push(Rc::clone(identity));
        }
    }
    all
}
